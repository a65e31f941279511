//! The store's public records. They are the store's own: the lifecycle
//! library and the HTTP views convert at their edges (the model crate has
//! no serde, and an entry before designation lacks fields `Entry` needs).

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use credgate_model::{
    CategoryId, Entry, ListKind, RelatedParty, Severity, SubjectKind,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::StoreError;

macro_rules! codes {
    ($(#[$m:meta])* $name:ident, $what:literal {
        $($(#[$vm:meta])* $v:ident = $code:literal, $zh:literal;)+
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            /// The stable code stored in the database and used by APIs.
            pub fn code(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }

            pub fn name_zh(self) -> &'static str {
                match self { $($name::$v => $zh,)+ }
            }

            pub fn parse(s: &str) -> Result<Self, StoreError> {
                match s {
                    $($code => Ok($name::$v),)+
                    _ => Err(not_one_of($what, s, [$($code),+].into_iter())),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

/// The lifecycle's own enums: one source of their codes and names. The
/// store reads them back exactly, as it reads its own codes.
pub use credgate_lifecycle::{InterviewKind, Stage};

/// `Stage` from its stored code.
pub fn parse_stage(s: &str) -> Result<Stage, StoreError> {
    Stage::from_code(s).ok_or_else(|| {
        not_one_of("stage", s, Stage::ALL.iter().map(|v| v.code()))
    })
}

/// `InterviewKind` from its stored code.
pub fn parse_interview_kind(s: &str) -> Result<InterviewKind, StoreError> {
    InterviewKind::from_code(s).ok_or_else(|| {
        not_one_of("kind", s, InterviewKind::ALL.iter().map(|v| v.code()))
    })
}

fn not_one_of<'a>(
    field: &'static str,
    found: &str,
    codes: impl Iterator<Item = &'a str>,
) -> StoreError {
    StoreError::Invalid {
        field,
        message: format!(
            "'{found}' is not one of {}",
            codes.collect::<Vec<_>>().join(", ")
        ),
    }
}

codes! {
    /// A role a stored key carries (issue 10 item 2).
    Role, "roles" {
        Screen = "screen", "核查";
        ScreenPii = "screen_pii", "核查（含个人证件号）";
        Admin = "admin", "管理";
        Publisher = "publisher", "发布";
        Reviewer = "reviewer", "复核";
        Auditor = "auditor", "审计";
        Operator = "operator", "运营";
    }
}

codes! {
    /// How a reviewer decided an objection.
    ObjectionOutcome, "outcome" {
        Upheld = "upheld", "维持";
        Corrected = "corrected", "更正";
        Revoked = "revoked", "撤销";
    }
}

codes! {
    PublicationState, "state" {
        Pending = "pending", "进行中";
        Done = "done", "完成";
        Failed = "failed", "失败";
    }
}

/// Who changes the store, when, and why: every mutation takes one and
/// appends it to the audit chain in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// From the injectable clock; stored to the microsecond.
    pub at: DateTime<Utc>,
    /// A stored key's id, or the name of a configuration key.
    pub key_id: String,
    pub department: String,
    /// A stable action code (`propose`, `designate`, `import`,
    /// `key_create`, …).
    pub action: String,
    /// Free JSON kept with the record (hashed as stored).
    pub details: Option<serde_json::Value>,
}

impl Audit {
    pub fn new(
        at: DateTime<Utc>,
        key_id: impl Into<String>,
        department: impl Into<String>,
        action: impl Into<String>,
    ) -> Audit {
        Audit {
            at,
            key_id: key_id.into(),
            department: department.into(),
            action: action.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Audit {
        self.details = Some(details);
        self
    }

    /// The time as stored: microseconds, so what a digest saw is what
    /// reads back.
    pub(crate) fn at_stored(&self) -> DateTime<Utc> {
        self.at.trunc_subsecs(6)
    }
}

/// 告知: what the subject was told before designation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub noticed_on: NaiveDate,
    pub reasons: String,
    pub basis: String,
    pub rights: String,
    pub statement_deadline: NaiveDate,
}

/// 陈述申辩.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub received_on: NaiveDate,
    pub text: String,
}

/// 市场和行业禁入.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ban {
    pub scope: String,
    /// `None`: permanent.
    pub until: Option<NaiveDate>,
}

/// The lifecycle facts of an entry. The dates here that sweeps and
/// reports filter on are columns; the rest is one JSON column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub notice: Option<Notice>,
    pub statement: Option<Statement>,
    /// Scenario codes of the measures (from the designation).
    pub scenarios: Vec<String>,
    pub min_period_end: Option<NaiveDate>,
    pub max_period_end: Option<NaiveDate>,
    /// 双公示: the decision must be published by then.
    pub publicity_deadline: Option<NaiveDate>,
    pub published_on: Option<NaiveDate>,
    pub rectification_deadline: Option<NaiveDate>,
    pub ban: Option<Ban>,
    /// The open objection's review deadline.
    pub review_deadline: Option<NaiveDate>,
    /// Anything else the lifecycle records (e.g. a deadline computed
    /// without the calendar); sorted, so its JSON is canonical.
    pub extra: BTreeMap<String, String>,
}

/// The content of an entry: every field of `credgate_model::Entry` but its
/// id and status (the store keeps `Stage`), with the decision's fields
/// optional until designation, and the lifecycle facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryData {
    pub list: ListKind,
    pub subject_kind: SubjectKind,
    pub name: String,
    pub code: String,
    pub secondary_ids: Vec<String>,
    pub category: CategoryId,
    pub reason: String,
    pub basis: String,
    pub authority: String,
    pub document_number: Option<String>,
    /// The decision date (列入日期).
    pub listed_on: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub severity: Option<Severity>,
    pub removal_reason: Option<String>,
    pub removed_on: Option<NaiveDate>,
    pub removal_authority: Option<String>,
    pub related: Vec<RelatedParty>,
    pub facts: Facts,
}

impl EntryData {
    /// An entry as a file has it (import); facts start empty.
    pub fn from_model(e: &Entry) -> EntryData {
        EntryData {
            list: e.list,
            subject_kind: e.subject_kind,
            name: e.name.clone(),
            code: e.code.clone(),
            secondary_ids: e.secondary_ids.clone(),
            category: e.category,
            reason: e.reason.clone(),
            basis: e.basis.clone(),
            authority: e.authority.clone(),
            document_number: Some(e.document_number.clone()),
            listed_on: Some(e.listed_on),
            valid_until: e.valid_until,
            severity: e.severity,
            removal_reason: e.removal_reason.clone(),
            removed_on: e.removed_on,
            removal_authority: e.removal_authority.clone(),
            related: e.related.clone(),
            facts: Facts::default(),
        }
    }
}

/// A new entry (version 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    /// 记录编号: chosen by the caller, unique.
    pub entry_id: String,
    /// The designating department (an existing department code).
    pub department: String,
    pub stage: Stage,
    pub data: EntryData,
}

/// A record a transition adds next to the entry's new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Interview(Interview),
    /// Opens an objection (the entry becomes disputed).
    ObjectionOpened(Objection),
    /// Decides the entry's open objection.
    ObjectionDecided {
        decided_on: NaiveDate,
        outcome: ObjectionOutcome,
        decision: String,
    },
    Repair(Repair),
}

/// A transition: the entry's whole new state, and what it adds. The
/// entry's id and department never change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub stage: Stage,
    pub data: EntryData,
    pub event: Option<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interview {
    pub held_on: NaiveDate,
    #[serde(with = "code_serde::interview_kind")]
    pub kind: InterviewKind,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objection {
    pub received_on: NaiveDate,
    pub applicant: String,
    pub grounds: String,
    pub review_deadline: NaiveDate,
    pub decided_on: Option<NaiveDate>,
    #[serde(with = "code_serde::outcome")]
    pub outcome: Option<ObjectionOutcome>,
    pub decision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    pub repaired_on: NaiveDate,
    pub commitment: String,
    pub note: String,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    /// Internal id: the keyset order of listings; not shown to the public.
    pub id: i64,
    pub entry_id: String,
    pub department: String,
    pub stage: Stage,
    pub version: i64,
    pub data: EntryData,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StoredEntry {
    /// The entry as screening sees it: `Some` for published (active) and
    /// disputed entries that carry a decision, `None` otherwise.
    pub fn to_model(&self) -> Option<Entry> {
        let status = self.stage.screening_status()?;
        let d = &self.data;
        Some(Entry {
            entry_id: self.entry_id.clone(),
            list: d.list,
            subject_kind: d.subject_kind,
            name: d.name.clone(),
            code: d.code.clone(),
            secondary_ids: d.secondary_ids.clone(),
            category: d.category,
            reason: d.reason.clone(),
            basis: d.basis.clone(),
            authority: d.authority.clone(),
            document_number: d.document_number.clone()?,
            listed_on: d.listed_on?,
            valid_until: d.valid_until,
            severity: d.severity,
            status,
            removal_reason: d.removal_reason.clone(),
            removed_on: d.removed_on,
            removal_authority: d.removal_authority.clone(),
            related: d.related.clone(),
        })
    }
}

/// One transition in an entry's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryItem {
    pub version: i64,
    pub action: String,
    pub at: DateTime<Utc>,
    pub key_id: String,
    pub department: String,
    pub audit_seq: i64,
    /// Canonical JSON of the entry before and after (the bytes the audit
    /// digests hash); `before` is absent on creation.
    pub before: Option<String>,
    pub after: String,
}

/// An entry with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDetail {
    pub entry: StoredEntry,
    /// Oldest first.
    pub history: Vec<HistoryItem>,
    pub interviews: Vec<Interview>,
    pub objections: Vec<Objection>,
    pub repairs: Vec<Repair>,
}

/// Filters of [`crate::Store::list_entries`]; all given ones must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    pub list: Option<ListKind>,
    pub category: Option<CategoryId>,
    /// Any of these stages (none: every stage).
    pub stages: Vec<Stage>,
    pub department: Option<String>,
    pub listed_from: Option<NaiveDate>,
    pub listed_to: Option<NaiveDate>,
    /// `max_period_end <= this` (the expiry sweep).
    pub max_period_end_by: Option<NaiveDate>,
    /// `publicity_deadline <= this` (the 双公示 report).
    pub publicity_deadline_by: Option<NaiveDate>,
    /// Names starting with this (code-point order; uses the index).
    pub name_prefix: Option<String>,
    /// Names containing this (a scan).
    pub name_contains: Option<String>,
    /// The subject's identifier, exactly.
    pub code: Option<String>,
    /// Page size: default 100, at most 1,000.
    pub limit: Option<u32>,
}

/// One page and the opaque cursor of the next (none: the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub code: String,
    pub name_zh: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
}

/// A stored key; the secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
    /// SHA-256 (hex) of the secret's UTF-8 bytes.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A key just made: its secret is shown once and never again.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// The first answer to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key_id: String,
    pub idem_key: String,
    /// SHA-256 of the request, to refuse the same key with another body.
    pub request_digest: String,
    pub status: u16,
    pub response: String,
    /// Internal id of the entry the request made, if any.
    pub entry: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// How a publication ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicationOutcome {
    Done { counts: PublicationCounts, checksum: String, file_name: String },
    Failed { error: String },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicationCounts {
    pub entries: i64,
    pub active: i64,
    pub disputed: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Increasing: the publication's sequence number.
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub state: PublicationState,
    pub key_id: String,
    pub counts: Option<PublicationCounts>,
    pub checksum: Option<String>,
    pub file_name: Option<String>,
    pub error: Option<String>,
}

/// Filters of [`crate::Store::audit_page`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub key_id: Option<String>,
    pub department: Option<String>,
    pub action: Option<String>,
    /// The public entry id.
    pub entry_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub to: Option<DateTime<Utc>>,
    /// Page size: default 100, at most 1,000.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub key_id: String,
    pub department: String,
    pub action: String,
    /// The public id of the entry changed, if any.
    pub entry_id: Option<String>,
    pub digest_before: Option<String>,
    pub digest_after: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

/// What is wrong with an audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakKind {
    /// Its hash is not the hash of its fields.
    Hash { stored: String, computed: String },
    /// Its prev_hash is not the previous record's hash.
    PrevLink { stored: String, expected: String },
    /// Records are missing before it (`expected` is the seq that should
    /// have come).
    Gap { expected: i64 },
    /// The chain's head (last seq and hash) does not match the last
    /// record: records were removed from the end.
    Head { head_seq: i64, head_hash: String },
    /// The entry's current state is not what its last record says.
    EntryDigest { entry_id: String, stored: String, computed: String },
    /// An entry that no audit record created.
    Unaudited { entry_id: String },
    /// An audit record whose entry no longer exists.
    MissingEntry { entry: i64 },
    /// A history row that is not what its audit record digested.
    History { entry_id: String, version: i64 },
    /// An interview, objection or repair row not as its record wrote it.
    EventRow { table: &'static str, id: i64 },
    /// A key not as its last record wrote it, or made without a record
    /// (`seq` 0).
    KeyRow { id: String },
    /// A department not as its last record wrote it, or without a record.
    DepartmentRow { code: String },
}

/// The first broken record (lowest seq) and what broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// 0 for an entry no record covers.
    pub seq: i64,
    pub kind: BreakKind,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "audit record {}: ", self.seq)?;
        match &self.kind {
            BreakKind::Hash { stored, computed } => write!(
                f,
                "hash {stored} is not the hash of its fields ({computed})"
            ),
            BreakKind::PrevLink { stored, expected } => write!(
                f,
                "prev_hash {stored} is not the previous record's hash \
                 {expected}"
            ),
            BreakKind::Gap { expected } => {
                write!(f, "records missing: expected seq {expected} before it")
            }
            BreakKind::Head { head_seq, head_hash } => write!(
                f,
                "is the last record, but the chain head says seq \
                 {head_seq} ({head_hash}): records removed from the end"
            ),
            BreakKind::EntryDigest { entry_id, stored, computed } => write!(
                f,
                "entry {entry_id} was changed outside the store: its \
                 digest is {computed}, the record says {stored}"
            ),
            BreakKind::Unaudited { entry_id } => write!(
                f,
                "entry {entry_id} has no audit record (inserted outside \
                 the store)"
            ),
            BreakKind::MissingEntry { entry } => write!(
                f,
                "its entry (internal id {entry}) was deleted outside the \
                 store"
            ),
            BreakKind::History { entry_id, version } => write!(
                f,
                "the history of entry {entry_id} version {version} is not \
                 what the record digested"
            ),
            BreakKind::EventRow { table, id } => {
                write!(f, "{table} row {id} is not what the record wrote")
            }
            BreakKind::KeyRow { id } => write!(
                f,
                "key {id} is not what its last record wrote (changed or \
                 made outside the store)"
            ),
            BreakKind::DepartmentRow { code } => write!(
                f,
                "department {code} is not what its last record wrote \
                 (changed or made outside the store)"
            ),
        }
    }
}

/// What `verify_audit` checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyCounts {
    pub records: i64,
    pub entries: i64,
}

pub type VerifyReport = Result<VerifyCounts, Break>;

/// Serde for the code enums inside stored JSON.
mod code_serde {
    pub mod interview_kind {
        use crate::{InterviewKind, parse_interview_kind};
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(
            v: &InterviewKind,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.serialize_str(v.code())
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<InterviewKind, D::Error> {
            let s = String::deserialize(d)?;
            parse_interview_kind(&s).map_err(D::Error::custom)
        }
    }

    pub mod outcome {
        use crate::ObjectionOutcome;
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(
            v: &Option<ObjectionOutcome>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_some(v.code()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<ObjectionOutcome>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| ObjectionOutcome::parse(&s).map_err(D::Error::custom))
                .transpose()
        }
    }
}
