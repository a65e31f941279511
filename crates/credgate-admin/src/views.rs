//! What the service answers: entries as the admin API shows them. These
//! are API shapes (serde, OpenAPI) kept apart from the store's records,
//! which they are converted from.

use chrono::{DateTime, NaiveDate, Utc};
use credgate_model::{Category, IdType, SubjectKind};
use credgate_store::{
    AuditRecord, EntryDetail, HistoryItem, Interview, Objection, Repair,
    StoredEntry,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Keys of `Facts::extra` the service writes.
pub(crate) mod extra {
    pub const STATEMENT_ESTIMATED: &str = "statement_deadline_estimated";
    pub const PUBLICITY_ESTIMATED: &str = "publicity_deadline_estimated";
    pub const REVIEW_ESTIMATED: &str = "review_deadline_estimated";
    /// "true"/"false" once published: the 双公示 deadline met.
    pub const PUBLICITY_MET: &str = "publicity_met";
}

/// An entry in the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    pub entry_id: String,
    /// The designating department's code.
    pub department: String,
    /// `noticed`, `designated`, `published`, `disputed`, `exited`,
    /// `revoked`, `withdrawn`.
    pub stage: String,
    pub stage_zh: String,
    /// The entry's version: send it back as `If-Match: "<version>"`.
    pub version: i64,
    pub list: String,
    pub category: String,
    pub category_zh: String,
    pub subject_kind: String,
    pub name: String,
    pub code: String,
    pub secondary_ids: Vec<String>,
    pub reason: String,
    pub basis: String,
    pub authority: String,
    pub document_number: Option<String>,
    /// 决定日期.
    pub decided_on: Option<NaiveDate>,
    pub severity: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub scenarios: Vec<String>,
    pub notice: Option<NoticeView>,
    pub statement: Option<StatementView>,
    /// Credit repair possible from this day.
    pub min_period_end: Option<NaiveDate>,
    /// The entry exits on this day (the sweep).
    pub max_period_end: Option<NaiveDate>,
    /// 双公示: the decision online by this day.
    pub publicity_deadline: Option<NaiveDate>,
    /// The deadline crossed a year without its holiday notice.
    pub publicity_deadline_estimated: bool,
    pub published_on: Option<NaiveDate>,
    /// Whether publication met the 双公示 deadline (once published).
    pub publicity_met: Option<bool>,
    pub rectification_deadline: Option<NaiveDate>,
    pub ban: Option<BanView>,
    /// The open objection's review deadline.
    pub review_deadline: Option<NaiveDate>,
    pub removal_reason: Option<String>,
    pub removed_on: Option<NaiveDate>,
    pub related: Vec<PartyView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeView {
    pub noticed_on: NaiveDate,
    pub reasons: String,
    pub basis: String,
    pub rights: String,
    pub statement_deadline: NaiveDate,
    pub statement_deadline_estimated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StatementView {
    pub received_on: NaiveDate,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BanView {
    pub scope: String,
    /// `None`: permanent.
    pub until: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartyView {
    pub role: String,
    pub name: String,
    pub id_type: String,
    pub id_number: Option<String>,
}

/// One transition in an entry's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HistoryView {
    pub version: i64,
    pub action: String,
    pub at: DateTime<Utc>,
    pub key_id: String,
    pub department: String,
    /// The audit record of the change.
    pub audit_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InterviewView {
    pub held_on: NaiveDate,
    pub kind: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ObjectionView {
    pub received_on: NaiveDate,
    pub applicant: String,
    pub grounds: String,
    pub review_deadline: NaiveDate,
    pub decided_on: Option<NaiveDate>,
    /// `upheld`, `corrected`, `revoked`; none while open.
    pub outcome: Option<String>,
    pub decision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RepairView {
    pub repaired_on: NaiveDate,
    pub commitment: String,
    pub note: String,
}

/// An entry with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryDetailView {
    pub entry: EntryView,
    /// Oldest first.
    pub history: Vec<HistoryView>,
    pub interviews: Vec<InterviewView>,
    pub objections: Vec<ObjectionView>,
    pub repairs: Vec<RepairView>,
}

/// One page of entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntryPage {
    pub items: Vec<EntryView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next: Option<String>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub key_id: String,
    pub department: String,
    pub action: String,
    pub entry_id: Option<String>,
    pub digest_before: Option<String>,
    pub digest_after: Option<String>,
    /// The record's details (JSON text, as hashed).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub next: Option<String>,
}

/// 双公示 report: decisions not published within the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicityReport {
    /// The China date the report was made on.
    pub today: NaiveDate,
    /// Working days allowed (7).
    pub working_days: u32,
    pub departments: Vec<DepartmentPublicity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepartmentPublicity {
    pub department: String,
    /// Designated, deadline passed, still unpublished.
    pub overdue: Vec<PublicityItem>,
    /// Published after the deadline.
    pub published_late: Vec<PublicityItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicityItem {
    pub entry_id: String,
    pub name: String,
    pub document_number: Option<String>,
    pub decided_on: Option<NaiveDate>,
    pub deadline: NaiveDate,
    pub deadline_estimated: bool,
    pub published_on: Option<NaiveDate>,
}

fn flag(e: &StoredEntry, key: &str) -> bool {
    e.data.facts.extra.get(key).is_some_and(|v| v == "true")
}

impl EntryView {
    /// Applies `f` to every personal ID number the view shows: the
    /// subject's code when the subject is a person, and the related
    /// parties' resident ID numbers. The server masks them with it, or
    /// collects them for the PII audit log.
    pub fn map_person_ids(&mut self, f: &mut dyn FnMut(&str, &str) -> String) {
        let entry = self.entry_id.clone();
        if self.subject_kind == SubjectKind::Person.code() {
            self.code = f(&entry, &self.code);
        }
        for p in &mut self.related {
            if p.id_type == IdType::ResidentId.code() {
                if let Some(id) = p.id_number.as_mut() {
                    *id = f(&entry, id);
                }
            }
        }
    }

    pub fn from_stored(e: &StoredEntry) -> EntryView {
        let d = &e.data;
        let f = &d.facts;
        let category = Category::by_id(d.category);
        EntryView {
            entry_id: e.entry_id.clone(),
            department: e.department.clone(),
            stage: e.stage.code().into(),
            stage_zh: e.stage.name_zh().into(),
            version: e.version,
            list: d.list.code().into(),
            category: category.map_or_else(
                || d.category.0.to_string(),
                |c| c.code.to_string(),
            ),
            category_zh: category.map_or("", |c| c.name_zh).into(),
            subject_kind: d.subject_kind.code().into(),
            name: d.name.clone(),
            code: d.code.clone(),
            secondary_ids: d.secondary_ids.clone(),
            reason: d.reason.clone(),
            basis: d.basis.clone(),
            authority: d.authority.clone(),
            document_number: d.document_number.clone(),
            decided_on: d.listed_on,
            severity: d.severity.map(|s| s.code().to_string()),
            valid_until: d.valid_until,
            scenarios: f.scenarios.clone(),
            notice: f.notice.as_ref().map(|n| NoticeView {
                noticed_on: n.noticed_on,
                reasons: n.reasons.clone(),
                basis: n.basis.clone(),
                rights: n.rights.clone(),
                statement_deadline: n.statement_deadline,
                statement_deadline_estimated: flag(
                    e,
                    extra::STATEMENT_ESTIMATED,
                ),
            }),
            statement: f.statement.as_ref().map(|s| StatementView {
                received_on: s.received_on,
                text: s.text.clone(),
            }),
            min_period_end: f.min_period_end,
            max_period_end: f.max_period_end,
            publicity_deadline: f.publicity_deadline,
            publicity_deadline_estimated: flag(e, extra::PUBLICITY_ESTIMATED),
            published_on: f.published_on,
            publicity_met: f
                .extra
                .get(extra::PUBLICITY_MET)
                .map(|v| v == "true"),
            rectification_deadline: f.rectification_deadline,
            ban: f
                .ban
                .as_ref()
                .map(|b| BanView { scope: b.scope.clone(), until: b.until }),
            review_deadline: f.review_deadline,
            removal_reason: d.removal_reason.clone(),
            removed_on: d.removed_on,
            related: d
                .related
                .iter()
                .map(|p| PartyView {
                    role: p.role.code().into(),
                    name: p.name.clone(),
                    id_type: p.id_type.code().into(),
                    id_number: p.id_number.clone(),
                })
                .collect(),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

impl From<&HistoryItem> for HistoryView {
    fn from(h: &HistoryItem) -> HistoryView {
        HistoryView {
            version: h.version,
            action: h.action.clone(),
            at: h.at,
            key_id: h.key_id.clone(),
            department: h.department.clone(),
            audit_seq: h.audit_seq,
        }
    }
}

impl From<&Interview> for InterviewView {
    fn from(i: &Interview) -> InterviewView {
        InterviewView {
            held_on: i.held_on,
            kind: i.kind.code().into(),
            note: i.note.clone(),
        }
    }
}

impl From<&Objection> for ObjectionView {
    fn from(o: &Objection) -> ObjectionView {
        ObjectionView {
            received_on: o.received_on,
            applicant: o.applicant.clone(),
            grounds: o.grounds.clone(),
            review_deadline: o.review_deadline,
            decided_on: o.decided_on,
            outcome: o.outcome.map(|x| x.code().to_string()),
            decision: o.decision.clone(),
        }
    }
}

impl From<&Repair> for RepairView {
    fn from(r: &Repair) -> RepairView {
        RepairView {
            repaired_on: r.repaired_on,
            commitment: r.commitment.clone(),
            note: r.note.clone(),
        }
    }
}

impl From<&EntryDetail> for EntryDetailView {
    fn from(d: &EntryDetail) -> EntryDetailView {
        EntryDetailView {
            entry: EntryView::from_stored(&d.entry),
            history: d.history.iter().map(HistoryView::from).collect(),
            interviews: d.interviews.iter().map(InterviewView::from).collect(),
            objections: d.objections.iter().map(ObjectionView::from).collect(),
            repairs: d.repairs.iter().map(RepairView::from).collect(),
        }
    }
}

impl From<&AuditRecord> for AuditView {
    fn from(r: &AuditRecord) -> AuditView {
        AuditView {
            seq: r.seq,
            at: r.at,
            key_id: r.key_id.clone(),
            department: r.department.clone(),
            action: r.action.clone(),
            entry_id: r.entry_id.clone(),
            digest_before: r.digest_before.clone(),
            digest_after: r.digest_after.clone(),
            details: r.details.clone(),
            prev_hash: r.prev_hash.clone(),
            hash: r.hash.clone(),
        }
    }
}
