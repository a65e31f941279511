//! Working-day deadlines through the shipped calendar, dates moved by
//! hand.

use chrono::{Datelike, Days, NaiveDate};
use credgate_lifecycle::{Calendar, Deadline};
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// `n` working days after `start` is `want`, `estimated` as given.
fn check(start: NaiveDate, n: u32, want: NaiveDate, estimated: bool) {
    let got = Calendar::builtin().add_working_days(start, n);
    assert_eq!(got, Deadline { date: want, estimated }, "{start} + {n}");
}

#[test]
fn spring_festival_2026_with_its_adjusted_weekends() {
    // A decision on Thursday 12 February, just before the holiday: Fri 13
    // (1), Sat 14 worked (2), 15–23 off, Tue 24 – Fri 27 (3–6), Sat 28
    // worked (7).
    check(d(2026, 2, 12), 7, d(2026, 2, 28), false);
    // Counted on weekends alone it would have been Monday 23 February.
    let plain = Calendar::empty().add_working_days(d(2026, 2, 12), 7);
    assert_eq!(plain, Deadline { date: d(2026, 2, 23), estimated: true });
    // A decision on the worked Saturday counts from there.
    check(d(2026, 2, 14), 1, d(2026, 2, 24), false);
}

#[test]
fn national_day() {
    // 2025: 1–8 October off, Saturday 11 worked.
    check(d(2025, 9, 30), 7, d(2025, 10, 16), false);
    check(d(2025, 9, 26), 1, d(2025, 9, 28), false); // Sunday worked
    // 2026: 1–7 October off, Saturday 10 worked.
    check(d(2026, 9, 30), 7, d(2026, 10, 15), false);
    check(d(2026, 9, 30), 3, d(2026, 10, 10), false);
}

#[test]
fn a_year_without_its_notice_is_counted_on_weekends_and_flagged() {
    // Within 2026: certain.
    check(d(2026, 12, 21), 7, d(2026, 12, 30), false);
    // Crossing into 2027 (no notice shipped): Friday 1 January counts as
    // a working day, and the answer says it is an estimate.
    check(d(2026, 12, 28), 7, d(2027, 1, 6), true);
    check(d(2026, 12, 31), 1, d(2027, 1, 1), true);
    // 2024 is not shipped either.
    check(d(2024, 12, 27), 1, d(2024, 12, 30), true);
}

#[test]
fn zero_days_is_the_start_itself() {
    check(d(2026, 2, 15), 0, d(2026, 2, 15), false);
}

#[test]
fn new_years_day_2026_and_its_sunday() {
    // 1–3 January off, Sunday 4 January worked.
    check(d(2025, 12, 31), 1, d(2026, 1, 4), false);
}

fn date_in_shipped_range() -> impl Strategy<Value = NaiveDate> {
    // 2025-01-01 to 2027-12-31.
    (0u64..1095).prop_map(|off| d(2025, 1, 1) + Days::new(off))
}

proptest! {
    #[test]
    fn a_certain_deadline_is_a_working_day(
        start in date_in_shipped_range(),
        n in 1u32..300,
    ) {
        let cal = Calendar::builtin();
        let dl = cal.add_working_days(start, n);
        if !dl.estimated {
            prop_assert!(cal.is_working_day(dl.date), "{start}+{n}: {dl:?}");
        }
        // Estimated exactly when it runs into a year without a notice.
        prop_assert_eq!(dl.estimated, dl.date.year() >= 2027);
        // Exactly n working days in (start, deadline].
        let counted = start
            .iter_days()
            .skip(1)
            .take_while(|day| *day <= dl.date)
            .filter(|day| cal.is_working_day(*day))
            .count();
        prop_assert_eq!(counted, n as usize);
    }

    #[test]
    fn deadlines_grow_with_n_and_with_the_start(
        start in date_in_shipped_range(),
        later in 0u64..60,
        n in 1u32..300,
    ) {
        let cal = Calendar::builtin();
        let a = cal.add_working_days(start, n);
        prop_assert!(cal.add_working_days(start, n + 1).date > a.date);
        let b = cal.add_working_days(start + Days::new(later), n);
        prop_assert!(b.date >= a.date, "{start} +{later}: {a:?} {b:?}");
    }
}
