//! Working days in mainland China (domain brief §5.2): Monday to Friday,
//! minus the public holidays, plus the weekend days worked instead (调休).
//! The State Council fixes both every year in a notice, so the calendar
//! is data: `data/calendar/YYYY.toml`, one file per notice, validated
//! here and compiled in as the default.
//!
//! A year without a file is not guessed: it is counted on weekends alone
//! and every deadline that counts a day of it says so
//! ([`Deadline::estimated`]), so an answer never looks more certain than
//! the data behind it.

use crate::{Source, file};
use chrono::{Datelike, NaiveDate, Weekday};
use std::collections::{BTreeMap, BTreeSet};

/// The years shipped with credgate, as (file name, contents). 2027 is
/// missing: its notice was not found (data/calendar/README.md).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "data/calendar/2025.toml",
        include_str!("../../../data/calendar/2025.toml"),
    ),
    (
        "data/calendar/2026.toml",
        include_str!("../../../data/calendar/2026.toml"),
    ),
];

/// A date N working days after another; `estimated` when a day of a year
/// the calendar lacks was counted (weekends alone decided it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Deadline {
    pub date: NaiveDate,
    pub estimated: bool,
}

/// One year's notice, validated.
#[derive(Debug, Clone)]
struct Year {
    source: Source,
    /// Days off, with the holiday's name.
    holidays: BTreeMap<NaiveDate, String>,
    /// Weekend days worked (调休上班).
    working: BTreeSet<NaiveDate>,
}

/// Public holidays and adjusted working days per year.
#[derive(Debug, Clone)]
pub struct Calendar {
    years: BTreeMap<i32, Year>,
}

/// A calendar file that does not load: the file and what is wrong in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar {file}: {problem}")]
pub struct CalendarError {
    pub file: String,
    pub problem: CalendarProblem,
}

/// What is wrong in a calendar file; dates name the offending day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarProblem {
    #[error("not valid TOML for a calendar: {0}")]
    Syntax(String),
    #[error("format_version {found} is not supported (expected 1)")]
    FormatVersion { found: u32 },
    #[error("{0}")]
    Field(String),
    #[error("{date} ({holiday}) is not in the file's year {year}")]
    WrongYear { date: NaiveDate, holiday: String, year: i32 },
    #[error("{holiday}: from {from} is after to {to}")]
    Reversed { holiday: String, from: NaiveDate, to: NaiveDate },
    #[error("{date} is both a holiday ({holiday}) and a working day")]
    HolidayAndWorkingDay { date: NaiveDate, holiday: String },
    #[error("{date} is listed twice (in {first} and in {second})")]
    Duplicate { date: NaiveDate, first: String, second: String },
    #[error(
        "{date} ({holiday}) is a {weekday}: an adjusted working day is a \
         Saturday or Sunday"
    )]
    WorkingDayNotWeekend { date: NaiveDate, holiday: String, weekday: Weekday },
    #[error("year {year} is already loaded from {first}")]
    DuplicateYear { year: i32, first: String },
}

mod shape {
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub format_version: u32,
        pub year: i32,
        pub source: crate::file::Source,
        #[serde(default)]
        pub holiday: Vec<Holiday>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Holiday {
        pub name: String,
        pub from: toml::value::Datetime,
        pub to: toml::value::Datetime,
        #[serde(default)]
        pub working_days: Vec<toml::value::Datetime>,
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

impl Year {
    fn parse(text: &str) -> Result<(i32, Year), CalendarProblem> {
        let f: shape::File = toml::from_str(text)
            .map_err(|e| CalendarProblem::Syntax(e.to_string()))?;
        if f.format_version != 1 {
            return Err(CalendarProblem::FormatVersion {
                found: f.format_version,
            });
        }
        let source = f.source.check().map_err(CalendarProblem::Field)?;
        let year = f.year;
        // Who claimed each date first (holiday name, whether off), to name
        // both claims when a date comes twice.
        let mut seen: BTreeMap<NaiveDate, (String, bool)> = BTreeMap::new();
        let mut claim = |date: NaiveDate, holiday: &str, off: bool| {
            if date.year() != year {
                return Err(CalendarProblem::WrongYear {
                    date,
                    holiday: holiday.into(),
                    year,
                });
            }
            if let Some((first, first_off)) = seen.get(&date) {
                return Err(if *first_off != off {
                    let name = if off { holiday } else { first };
                    CalendarProblem::HolidayAndWorkingDay {
                        date,
                        holiday: name.into(),
                    }
                } else {
                    CalendarProblem::Duplicate {
                        date,
                        first: first.clone(),
                        second: holiday.into(),
                    }
                });
            }
            seen.insert(date, (holiday.into(), off));
            Ok(())
        };
        let mut holidays = BTreeMap::new();
        let mut working = BTreeSet::new();
        for h in &f.holiday {
            let field = |name: &str, v: &toml::value::Datetime| {
                file::date(v).map_err(|e| {
                    CalendarProblem::Field(format!("{}: {name}: {e}", h.name))
                })
            };
            let from = field("from", &h.from)?;
            let to = field("to", &h.to)?;
            if from > to {
                return Err(CalendarProblem::Reversed {
                    holiday: h.name.clone(),
                    from,
                    to,
                });
            }
            for date in from.iter_days().take_while(|d| *d <= to) {
                claim(date, &h.name, true)?;
                holidays.insert(date, h.name.clone());
            }
            for v in &h.working_days {
                let date = field("working_days", v)?;
                if !is_weekend(date) {
                    return Err(CalendarProblem::WorkingDayNotWeekend {
                        date,
                        holiday: h.name.clone(),
                        weekday: date.weekday(),
                    });
                }
                claim(date, &h.name, false)?;
                working.insert(date);
            }
        }
        Ok((year, Year { source, holidays, working }))
    }
}

impl Calendar {
    /// The calendar shipped with credgate (2025 and 2026).
    pub fn builtin() -> Calendar {
        Calendar::from_files(BUILTIN.iter().copied())
            .expect("the built-in calendar is valid (tested)")
    }

    /// A calendar without any year: every day is judged on weekends
    /// alone, every deadline estimated.
    pub fn empty() -> Calendar {
        Calendar { years: BTreeMap::new() }
    }

    /// Parses and validates calendar files given as (name, contents); the
    /// name only labels errors. Each file is one year; a year twice is an
    /// error.
    pub fn from_files<N, T>(
        files: impl IntoIterator<Item = (N, T)>,
    ) -> Result<Calendar, CalendarError>
    where
        N: AsRef<str>,
        T: AsRef<str>,
    {
        let mut cal = Calendar::empty();
        let mut names: BTreeMap<i32, String> = BTreeMap::new();
        for (name, text) in files {
            let name = name.as_ref();
            let err = |problem| CalendarError { file: name.into(), problem };
            let (year, data) = Year::parse(text.as_ref()).map_err(err)?;
            if let Some(first) = names.get(&year) {
                return Err(err(CalendarProblem::DuplicateYear {
                    year,
                    first: first.clone(),
                }));
            }
            names.insert(year, name.into());
            cal.years.insert(year, data);
        }
        Ok(cal)
    }

    /// Parses one file and returns a calendar of that year alone.
    pub fn parse(name: &str, text: &str) -> Result<Calendar, CalendarError> {
        Calendar::from_files([(name, text)])
    }

    /// The years the calendar has a notice for, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// Whether the calendar has the notice for `year`.
    pub fn covers(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The notice a year was transcribed from.
    pub fn source(&self, year: i32) -> Option<&Source> {
        self.years.get(&year).map(|y| &y.source)
    }

    /// The holiday a date belongs to, if it is a day off by the notice.
    pub fn holiday(&self, date: NaiveDate) -> Option<&str> {
        self.years.get(&date.year())?.holidays.get(&date).map(String::as_str)
    }

    /// Whether offices work on `date`. In a year without a notice,
    /// Monday to Friday (see [`Deadline::estimated`]).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.years.get(&date.year()) {
            Some(y) if y.working.contains(&date) => true,
            Some(y) if y.holidays.contains_key(&date) => false,
            _ => !is_weekend(date),
        }
    }

    /// The `n`th working day after `start` (`start` itself is not
    /// counted: a period of 7 working days from a decision on day D ends
    /// on the 7th working day after D). `n = 0` gives `start` unchanged.
    /// `estimated` is true when a day of a year without a notice was
    /// examined. Past the last representable date the answer stops there,
    /// estimated.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> Deadline {
        let mut date = start;
        let mut left = n;
        let mut estimated = false;
        while left > 0 {
            let Some(next) = date.succ_opt() else {
                return Deadline { date, estimated: true };
            };
            date = next;
            estimated |= !self.covers(date.year());
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        Deadline { date, estimated }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn builtin_loads_and_cites_its_notices() {
        let cal = Calendar::builtin();
        assert_eq!(cal.years().collect::<Vec<_>>(), [2025, 2026]);
        assert_eq!(
            cal.source(2026).unwrap().document_number,
            "国办发明电〔2025〕7号"
        );
        assert_eq!(
            cal.source(2025).unwrap().document_number,
            "国办发明电〔2024〕12号"
        );
        assert!(!cal.covers(2027));
    }

    #[test]
    fn holidays_and_adjusted_weekends() {
        let cal = Calendar::builtin();
        let cases = [
            (d(2026, 2, 13), true), // Friday before the Spring Festival
            (d(2026, 2, 14), true), // Saturday worked (调休)
            (d(2026, 2, 16), false), // Monday off (春节)
            (d(2026, 2, 23), false), // last day off, a Monday
            (d(2026, 2, 24), true),
            (d(2026, 2, 28), true), // Saturday worked
            (d(2026, 3, 1), false), // plain Sunday
            (d(2025, 10, 8), false),
            (d(2025, 10, 11), true),
            (d(2027, 2, 8), true), // no notice: a Monday works
            (d(2027, 2, 6), false),
        ];
        for (date, want) in cases {
            assert_eq!(cal.is_working_day(date), want, "{date}");
        }
        assert_eq!(cal.holiday(d(2026, 2, 17)), Some("春节"));
        assert_eq!(cal.holiday(d(2026, 2, 14)), None);
    }

    fn problem(text: &str) -> CalendarProblem {
        Calendar::parse("t.toml", text).unwrap_err().problem
    }

    const HEAD: &str = "format_version = 1\nyear = 2026\n[source]\n\
        title = \"t\"\ndocument_number = \"n\"\nissued_on = 2025-11-04\n";

    #[test]
    fn rejects_a_date_outside_the_files_year() {
        let p = problem(&format!(
            "{HEAD}[[holiday]]\nname = \"元旦\"\nfrom = 2027-01-01\n\
             to = 2027-01-01\n"
        ));
        assert!(
            matches!(p, CalendarProblem::WrongYear { year: 2026, .. }),
            "{p}"
        );
        assert_eq!(
            p.to_string(),
            "2027-01-01 (元旦) is not in the file's year 2026"
        );
    }

    #[test]
    fn rejects_a_holiday_that_is_also_a_working_day() {
        let p = problem(&format!(
            "{HEAD}[[holiday]]\nname = \"春节\"\nfrom = 2026-02-14\n\
             to = 2026-02-16\nworking_days = [2026-02-14]\n"
        ));
        assert_eq!(
            p,
            CalendarProblem::HolidayAndWorkingDay {
                date: d(2026, 2, 14),
                holiday: "春节".into()
            }
        );
        let e = Calendar::parse(
            "2026.toml",
            &format!(
                "{HEAD}[[holiday]]\nname = \"春节\"\nfrom = 2026-02-14\n\
             to = 2026-02-16\nworking_days = [2026-02-14]\n"
            ),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "calendar 2026.toml: 2026-02-14 is both a holiday (春节) and a \
             working day"
        );
    }

    #[test]
    fn rejects_duplicates() {
        let p = problem(&format!(
            "{HEAD}[[holiday]]\nname = \"a\"\nfrom = 2026-10-01\n\
             to = 2026-10-03\n[[holiday]]\nname = \"b\"\n\
             from = 2026-10-03\nto = 2026-10-03\n"
        ));
        assert_eq!(
            p,
            CalendarProblem::Duplicate {
                date: d(2026, 10, 3),
                first: "a".into(),
                second: "b".into()
            }
        );
        let p = problem(&format!(
            "{HEAD}[[holiday]]\nname = \"a\"\nfrom = 2026-10-01\n\
             to = 2026-10-01\nworking_days = [2026-10-10, 2026-10-10]\n"
        ));
        assert!(matches!(p, CalendarProblem::Duplicate { .. }), "{p}");
    }

    #[test]
    fn rejects_other_mistakes() {
        let cases = [
            // A weekday cannot be "worked instead".
            "[[holiday]]\nname = \"a\"\nfrom = 2026-10-01\nto = \
             2026-10-01\nworking_days = [2026-10-09]\n",
            "[[holiday]]\nname = \"a\"\nfrom = 2026-10-03\nto = 2026-10-01\n",
            "[[holiday]]\nname = \"a\"\nfrom = 2026-10-01T08:00:00\nto = \
             2026-10-01\n",
            "[[holiday]]\nname = \"a\"\nfrom = 2026-10-01\n",
            "[[holiday]]\nname = \"a\"\nfrom = 2026-10-01\nto = \
             2026-10-01\nextra = 1\n",
        ];
        let want = [
            "2026-10-09 (a) is a Fri: an adjusted working day is a \
             Saturday or Sunday",
            "a: from 2026-10-03 is after to 2026-10-01",
            "a: from: 2026-10-01T08:00:00 is not a plain date (write \
             YYYY-MM-DD, no time)",
            "missing field `to`",
            "unknown field `extra`",
        ];
        for (case, want) in cases.iter().zip(want) {
            let p = problem(&format!("{HEAD}{case}")).to_string();
            assert!(p.contains(want), "{case}: {p}");
        }
        let p =
            problem(&HEAD.replace("format_version = 1", "format_version = 2"));
        assert_eq!(p, CalendarProblem::FormatVersion { found: 2 });
    }

    #[test]
    fn rejects_a_year_loaded_twice() {
        let e = Calendar::from_files([("a.toml", HEAD), ("b.toml", HEAD)])
            .unwrap_err();
        assert_eq!(e.file, "b.toml");
        assert_eq!(
            e.problem,
            CalendarProblem::DuplicateYear {
                year: 2026,
                first: "a.toml".into()
            }
        );
    }
}
