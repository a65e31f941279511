//! The domain model of credgate: list entries and the vocabulary around
//! them (domain brief §2, §3, §5, §7).
//!
//! **Invariant: no I/O and no serialisation here.** File formats
//! (`credgate-entries`) and the HTTP API have their own types and convert
//! at their edge, so the model can change without freezing a format.

mod category;
mod entry;
mod vocab;

pub use category::{CATEGORIES, Category, CategoryId};
pub use entry::{Entry, EntryId, RelatedParty, RuleViolation};
pub use vocab::{
    EntryStatus, IdType, ListKind, ParseError, PartyRole, PublicationPeriods,
    Severity, SubjectKind,
};

/// Dates are calendar dates without time zone, as on the documents.
pub type Date = chrono::NaiveDate;
