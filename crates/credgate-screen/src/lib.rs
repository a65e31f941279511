//! Screening: what a subject's list status means for one transaction.
//!
//! [`Screener::screen`] takes a [`Query`] (identifier, name, related
//! party) and a scenario, finds the explained hits in a snapshot
//! ([`matcher`]) and turns them into a [`Decision`] with the measures of
//! the catalogue that apply ([`decision`]). When the query carries a
//! valid identifier, name hits on entries with another identifier are
//! other subjects: reported apart, out of the decision ([`identity`]).

pub mod catalogue;
pub mod clock;
pub mod decision;
pub mod identity;
pub mod matcher;
pub mod score;

pub use catalogue::{Catalogue, CatalogueError, Effect, Measure};
pub use clock::{Clock, SystemClock, TestClock, china_date};
pub use credgate_names::typo::{Edit, EditKind};
pub use decision::{AppliedMeasure, Decision, Verdict};
pub use identity::IdentityCheck;
pub use matcher::{
    EntryField, Hit, Link, MatchKind, MatchOptions, Query, QueryError,
    QueryField, Relation,
};

use credgate_index::Snapshot;
use std::sync::Arc;

/// Why a screening request cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScreenError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("scenario: '{given}' is not known; known scenarios: {}", .known.join(", "))]
    UnknownScenario { given: String, known: Vec<String> },
}

/// The answer to one query.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub scenario: Option<String>,
    /// The hits the decision rests on, best first.
    pub hits: Vec<Hit>,
    /// Name hits on entries whose identifier says they are another
    /// subject (each with its [`IdentityCheck`]): shown to the clerk,
    /// left out of the decision.
    pub similar: Vec<Hit>,
}

/// A snapshot and a catalogue, ready to screen.
#[derive(Debug, Clone)]
pub struct Screener {
    pub snapshot: Arc<Snapshot>,
    pub catalogue: Arc<Catalogue>,
    pub options: MatchOptions,
}

impl Screener {
    pub fn new(
        snapshot: Arc<Snapshot>,
        catalogue: Arc<Catalogue>,
    ) -> Screener {
        // Built now rather than by the first screening (1.25 MB at 10M):
        // the service makes its screeners off the request path, before a
        // snapshot goes live.
        snapshot.warm();
        Screener { snapshot, catalogue, options: MatchOptions::default() }
    }

    /// The catalogue id of a scenario given by id or Chinese name;
    /// refuses one the catalogue does not know, listing the known ones.
    /// `None` (every scenario) is always fine.
    pub fn resolve_scenario(
        &self,
        scenario: Option<&str>,
    ) -> Result<Option<&str>, ScreenError> {
        let Some(given) = scenario else { return Ok(None) };
        match self.catalogue.find_scenario(given) {
            Some(s) => Ok(Some(s.id.as_str())),
            None => Err(ScreenError::UnknownScenario {
                given: given.chars().take(100).collect(),
                known: self
                    .catalogue
                    .scenarios()
                    .iter()
                    .map(|s| format!("{} ({})", s.id, s.name_zh))
                    .collect(),
            }),
        }
    }

    /// [`Screener::resolve_scenario`] without the answer.
    pub fn check_scenario(
        &self,
        scenario: Option<&str>,
    ) -> Result<(), ScreenError> {
        self.resolve_scenario(scenario).map(|_| ())
    }

    /// [`Screener::screen`], except that an identifier that fails its
    /// check is not the end while something else is left to screen: a
    /// bad `code` next to a name is dropped and the name screened alone (so
    /// that one wrong character in a listed company's code cannot hide the
    /// company); a bad `legal_rep_code` is dropped and the subject screened
    /// without it. Each dropped identifier comes back as a warning. A code
    /// alone stays an error.
    pub fn screen_or_name(
        &self,
        q: &Query,
        scenario: Option<&str>,
        today: chrono::NaiveDate,
    ) -> Result<(Outcome, Vec<String>), ScreenError> {
        let mut q = q.clone();
        let mut warnings = Vec::new();
        loop {
            match self.screen(&q, scenario, today) {
                Err(ScreenError::Query(QueryError::InvalidCode {
                    field: "code",
                    error,
                })) if q
                    .name
                    .as_deref()
                    .is_some_and(|n| !n.trim().is_empty()) =>
                {
                    warnings.push(format!(
                        "code: {error}; the name was screened alone"
                    ));
                    q.code = None;
                }
                Err(ScreenError::Query(QueryError::InvalidCode {
                    field: "legal_rep_code",
                    error,
                })) => {
                    warnings.push(format!(
                        "legal_rep_code: {error}; the legal representative \
                         was not screened"
                    ));
                    q.legal_rep_code = None;
                }
                other => return other.map(|o| (o, warnings)),
            }
        }
    }

    /// Screens one query; `scenario` selects the measures (all scenarios
    /// when `None`); entries are judged in force on `today`, China's date
    /// of the request ([`Clock::today`]).
    pub fn screen(
        &self,
        q: &Query,
        scenario: Option<&str>,
        today: chrono::NaiveDate,
    ) -> Result<Outcome, ScreenError> {
        let scenario = self.resolve_scenario(scenario)?;
        let (hits, similar): (Vec<Hit>, Vec<Hit>) =
            matcher::find(&self.snapshot, q, &self.options, today)?
                .into_iter()
                .partition(|h| {
                    !h.identity.is_some_and(IdentityCheck::other_subject)
                });
        let verdict =
            decision::decide(&self.snapshot, &hits, &self.catalogue, scenario);
        Ok(Outcome {
            verdict,
            scenario: scenario.map(str::to_string),
            hits,
            similar,
        })
    }
}
