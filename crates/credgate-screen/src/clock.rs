//! The date screening is judged on.
//!
//! List dates (`listed_on`, `valid_until`) are calendar dates on Chinese
//! documents, so "today" is the date in China, whatever the server's own
//! time zone: at 16:00 UTC it is already the next day in Shanghai. The
//! date is taken per request from a [`Clock`], which the service holds
//! and tests replace with a [`TestClock`]; nothing reads the system clock
//! when a snapshot is loaded, so an entry whose publication period ends
//! stops hitting that midnight, not at the next swap.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// China Standard Time (Asia/Shanghai): UTC+8 all year. China has not
/// observed daylight saving time since 1991, so a fixed offset is exact
/// for every date a list can carry, without a time-zone database.
pub const CHINA: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

/// The calendar date in China at instant `t`.
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&CHINA).date_naive()
}

/// Seconds since the epoch as RFC 3339 in China time (`…+08:00`), as
/// reports show a snapshot's build time; empty when out of range.
pub fn china_rfc3339(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|t| {
            t.with_timezone(&CHINA)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        })
        .unwrap_or_default()
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    /// Today's date in China: the day screening judges "in force" on.
    fn today(&self) -> NaiveDate {
        china_date(self.now())
    }
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set: tests use it to screen on a
/// chosen day and to cross midnight without waiting.
#[derive(Debug)]
pub struct TestClock {
    /// Milliseconds since the epoch; atomic so that a test can move the
    /// clock while a server holds it.
    millis: AtomicI64,
}

impl TestClock {
    pub fn at(t: DateTime<Utc>) -> TestClock {
        TestClock { millis: AtomicI64::new(t.timestamp_millis()) }
    }

    /// A clock at `time` (`HH:MM:SS`) on `date`, China time.
    pub fn at_china(date: NaiveDate, time: chrono::NaiveTime) -> TestClock {
        TestClock::at(china_instant(date, time))
    }

    pub fn set(&self, t: DateTime<Utc>) {
        self.millis.store(t.timestamp_millis(), Ordering::Relaxed);
    }

    /// Sets the clock to `time` on `date`, China time.
    pub fn set_china(&self, date: NaiveDate, time: chrono::NaiveTime) {
        self.set(china_instant(date, time));
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.millis.load(Ordering::Relaxed))
            .unwrap_or_default()
    }
}

/// The instant it is `time` on `date` in China.
pub fn china_instant(
    date: NaiveDate,
    time: chrono::NaiveTime,
) -> DateTime<Utc> {
    (date.and_time(time) - chrono::Duration::hours(8)).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn today_is_the_date_in_china_whatever_the_utc_date() {
        for (instant, china) in [
            ("2026-03-01T15:59:59Z", "2026-03-01"),
            // 16:00 UTC is midnight in Shanghai: already the next day.
            ("2026-03-01T16:00:00Z", "2026-03-02"),
            ("2026-03-01T23:59:59Z", "2026-03-02"),
            ("2026-03-01T00:00:00-08:00", "2026-03-01"),
            ("2026-12-31T16:00:00Z", "2027-01-01"),
            // No daylight saving time: the offset is +8 in summer too.
            ("2026-07-01T15:59:59Z", "2026-07-01"),
            ("2026-07-01T16:00:00Z", "2026-07-02"),
        ] {
            assert_eq!(china_date(utc(instant)), date(china), "{instant}");
        }
    }

    #[test]
    fn the_test_clock_moves_only_when_set() {
        let d = date("2026-11-01");
        let clock = TestClock::at_china(
            d,
            NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        );
        assert_eq!(clock.today(), d);
        assert_eq!(clock.now(), utc("2026-11-01T15:59:00Z"));
        clock.set_china(d.succ_opt().unwrap(), NaiveTime::MIN);
        assert_eq!(clock.today(), date("2026-11-02"));
        assert_eq!(clock.now(), utc("2026-11-01T16:00:00Z"));
    }
}
