//! Publication periods per severity (信用修复管理办法, NDRC Order No. 36;
//! domain brief §5.7): `data/periods.toml`, compiled in as the default.
//! The month table itself is `credgate_model::PublicationPeriods`; this
//! module loads it from the data file and turns it into dates.
//!
//! **Month arithmetic.** A period of N months from a decision on day D
//! ends on the same day number N months later, clamped to the last day of
//! a shorter month: 2026-01-31 + 1 month = 2026-02-28, 2024-02-29 + 12
//! months = 2025-02-28, 2026-03-31 + 3 months = 2026-06-30. The minimum
//! period is over *on* that date (repair is possible from it); at the
//! maximum, the entry leaves publication *on* that date.

use crate::{Source, file};
use chrono::{Months, NaiveDate};
use credgate_model::{PublicationPeriods, Severity};

/// The periods shipped with credgate.
pub const BUILTIN: &str = include_str!("../../../data/periods.toml");

/// The longest maximum a file may set, so that a typo (360 for 36) does
/// not keep an entry published for decades unnoticed.
const MAX_MONTHS: u32 = 120;

/// The periods table with the document it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Periods {
    pub months: PublicationPeriods,
    pub source: Source,
    /// The day the cited order takes effect.
    pub in_force_from: Option<NaiveDate>,
}

/// The ends of an entry's publication period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeriodEnds {
    /// Credit repair is possible from this date (the decision date itself
    /// for minor entries). `None`: no minimum applies (red list).
    pub min_end: Option<NaiveDate>,
    /// The entry leaves publication on this date. `None`: open-ended (a
    /// red-list entry without `valid_until`).
    pub max_end: Option<NaiveDate>,
}

/// A periods file that does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("periods {file}: {problem}")]
pub struct PeriodsError {
    pub file: String,
    pub problem: String,
}

mod shape {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub format_version: u32,
        pub source: crate::file::Source,
        pub minor: Tier,
        pub general: Tier,
        pub serious: Tier,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Tier {
        pub min_months: u32,
        pub max_months: u32,
    }
}

/// `date` plus `months`, clamped to the end of a shorter month (see the
/// module comment); saturates at the last representable date.
pub fn add_months_clamped(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

impl Periods {
    pub fn builtin() -> Periods {
        Periods::parse("data/periods.toml", BUILTIN)
            .expect("the built-in periods are valid (tested)")
    }

    /// Parses and validates a periods file; `name` labels errors.
    pub fn parse(name: &str, text: &str) -> Result<Periods, PeriodsError> {
        let err =
            |problem: String| PeriodsError { file: name.into(), problem };
        let f: shape::File =
            toml::from_str(text).map_err(|e| err(e.to_string()))?;
        if f.format_version != 1 {
            return Err(err(format!(
                "format_version {} is not supported (expected 1)",
                f.format_version
            )));
        }
        let source = f.source.check().map_err(err)?;
        let in_force_from = f
            .source
            .in_force_from
            .as_ref()
            .map(file::date)
            .transpose()
            .map_err(|e| err(format!("source.in_force_from: {e}")))?;
        for (severity, t) in [
            (Severity::Minor, &f.minor),
            (Severity::General, &f.general),
            (Severity::Serious, &f.serious),
        ] {
            if t.max_months == 0 || t.max_months > MAX_MONTHS {
                return Err(err(format!(
                    "{severity}.max_months {} is outside 1..={MAX_MONTHS}",
                    t.max_months
                )));
            }
            if t.min_months > t.max_months {
                return Err(err(format!(
                    "{severity}.min_months {} is above max_months {}",
                    t.min_months, t.max_months
                )));
            }
        }
        let tier = |t: &shape::Tier| (t.min_months, t.max_months);
        Ok(Periods {
            months: PublicationPeriods {
                minor: tier(&f.minor),
                general: tier(&f.general),
                serious: tier(&f.serious),
            },
            source,
            in_force_from,
        })
    }

    /// The period ends of an entry of `severity` decided on `decided_on`.
    pub fn ends(
        &self,
        severity: Severity,
        decided_on: NaiveDate,
    ) -> PeriodEnds {
        let (min, max) = self.months.months(severity);
        PeriodEnds {
            min_end: Some(add_months_clamped(decided_on, min)),
            max_end: Some(add_months_clamped(decided_on, max)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn builtin_has_the_order_36_tiers() {
        let p = Periods::builtin();
        assert_eq!(p.months.minor, (0, 3));
        assert_eq!(p.months.general, (3, 12));
        assert_eq!(p.months.serious, (12, 36));
        assert_eq!(p.source.document_number, "国家发展和改革委员会令第36号");
        assert_eq!(p.in_force_from, Some(d(2026, 4, 1)));
    }

    #[test]
    fn months_clamp_to_the_end_of_a_shorter_month() {
        let cases = [
            (d(2026, 1, 31), 1, d(2026, 2, 28)),
            (d(2024, 1, 31), 1, d(2024, 2, 29)),
            (d(2024, 2, 29), 12, d(2025, 2, 28)),
            (d(2026, 3, 31), 3, d(2026, 6, 30)),
            (d(2026, 3, 15), 36, d(2029, 3, 15)),
            (d(2026, 3, 15), 0, d(2026, 3, 15)),
        ];
        for (from, months, want) in cases {
            assert_eq!(
                add_months_clamped(from, months),
                want,
                "{from}+{months}"
            );
        }
    }

    #[test]
    fn ends_per_severity() {
        let p = Periods::builtin();
        let decided = d(2026, 1, 31);
        let ends = |s| p.ends(s, decided);
        assert_eq!(
            ends(Severity::Minor),
            PeriodEnds {
                min_end: Some(decided),
                max_end: Some(d(2026, 4, 30))
            }
        );
        assert_eq!(
            ends(Severity::General),
            PeriodEnds {
                min_end: Some(d(2026, 4, 30)),
                max_end: Some(d(2027, 1, 31))
            }
        );
        assert_eq!(
            ends(Severity::Serious),
            PeriodEnds {
                min_end: Some(d(2027, 1, 31)),
                max_end: Some(d(2029, 1, 31))
            }
        );
    }

    #[test]
    fn rejects_inconsistent_tiers() {
        let bad = [
            (
                "min_months = 3\nmax_months = 12",
                "min_months = 13\nmax_months = 12",
                "general.min_months 13 is above max_months 12",
            ),
            (
                "min_months = 12\nmax_months = 36",
                "min_months = 12\nmax_months = 360",
                "serious.max_months 360 is outside 1..=120",
            ),
            (
                "min_months = 0\nmax_months = 3",
                "min_months = 0\nmax_months = 0",
                "minor.max_months 0 is outside",
            ),
            (
                "format_version = 1",
                "format_version = 3",
                "format_version 3 is not supported",
            ),
            ("[minor]", "[minor]\nextra = 1", "unknown field `extra`"),
        ];
        for (from, to, want) in bad {
            let text = BUILTIN.replacen(from, to, 1);
            assert_ne!(text, BUILTIN, "{from}");
            let e = Periods::parse("p.toml", &text).unwrap_err();
            assert!(e.to_string().starts_with("periods p.toml: "), "{e}");
            assert!(e.problem.contains(want), "{want}: {e}");
        }
    }
}
