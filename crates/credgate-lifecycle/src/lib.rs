//! The lifecycle of a list entry (domain brief §5, issue 10): the
//! working-day calendar, the publication periods and the state machine
//! with its guards.
//!
//! **Invariant: no I/O.** Nothing here reads a file, a clock or a
//! database: dates come in (`today` is the caller's China date, from
//! `credgate_screen::clock`), decisions go out. The data files
//! (`data/calendar/*.toml`, `data/periods.toml`) are compiled in as
//! defaults; replacements are parsed from text the caller has read. The
//! store compares versions; the lifecycle only bumps them.

pub mod calendar;
pub mod machine;
pub mod periods;

pub use calendar::{Calendar, CalendarError, CalendarProblem, Deadline};
pub use machine::{
    Action, Actor, Ban, Command, ComputedDeadline, DeadlineKind, Decision,
    Designation, Facts, FieldChange, InterviewKind, Lifecycle, Proposal,
    PublicityCheck, Refusal, RefusalKind, Rules, Stage,
    basis_names_legal_source, rule,
};
pub use periods::{PeriodEnds, Periods, PeriodsError, add_months_clamped};

use chrono::NaiveDate;

/// The document a data file transcribes: every calendar year and the
/// period table cite one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// 标题, e.g. 国务院办公厅关于2026年部分节假日安排的通知.
    pub title: String,
    /// 文号, e.g. 国办发明电〔2025〕7号.
    pub document_number: String,
    /// 成文日期 or publication date.
    pub issued_on: NaiveDate,
    pub url: Option<String>,
}

/// The TOML shapes shared by the data files.
mod file {
    use chrono::NaiveDate;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Source {
        pub title: String,
        pub document_number: String,
        pub issued_on: toml::value::Datetime,
        #[serde(default)]
        pub url: Option<String>,
        /// Only the periods file has it; the calendar's notices take
        /// effect on their dates.
        #[serde(default)]
        pub in_force_from: Option<toml::value::Datetime>,
    }

    /// A TOML local date (`2026-02-15`, unquoted) as a `NaiveDate`; a
    /// time or offset is refused, since the files hold calendar days.
    pub fn date(v: &toml::value::Datetime) -> Result<NaiveDate, String> {
        match (v.date, v.time, v.offset) {
            (Some(d), None, None) => NaiveDate::from_ymd_opt(
                i32::from(d.year),
                u32::from(d.month),
                u32::from(d.day),
            )
            .ok_or_else(|| format!("{v} is not a calendar date")),
            _ => Err(format!(
                "{v} is not a plain date (write YYYY-MM-DD, no time)"
            )),
        }
    }

    impl Source {
        pub fn check(&self) -> Result<super::Source, String> {
            if self.title.trim().is_empty() {
                return Err("source.title is empty".into());
            }
            if self.document_number.trim().is_empty() {
                return Err("source.document_number is empty".into());
            }
            Ok(super::Source {
                title: self.title.clone(),
                document_number: self.document_number.clone(),
                issued_on: date(&self.issued_on)
                    .map_err(|e| format!("source.issued_on: {e}"))?,
                url: self.url.clone(),
            })
        }
    }
}
