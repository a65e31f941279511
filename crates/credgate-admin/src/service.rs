//! The admin service: every lifecycle transition as one method over the
//! store, with the caller's department and roles and today's China date.
//!
//! Each transition loads the entry, asks [`Lifecycle::decide`] whether
//! the caller may make it today, maps the decision to the store's
//! [`Change`] (`mapping.rs`) and persists it with its audit record in one
//! store transaction, on the caller's expected version. Reading is scoped
//! by department: a department reads its own entries, an operator all.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use credgate_lifecycle::{
    self as lc, Actor, Command, Decision, Lifecycle, Refusal, RefusalKind,
};
use credgate_model::{
    Category, Entry, IdType, ListKind, PartyRole, RelatedParty, Severity,
    SubjectKind,
};
use credgate_screen::{Catalogue, Clock};
use credgate_store::{
    Audit, AuditFilter, Change, EntryData, EntryFilter, Event, Facts,
    IdempotencyRecord, Interview, NewEntry, Notice, Objection,
    ObjectionOutcome, Repair, Role, Stage, Statement, Store, StoreError,
    StoredEntry, parse_interview_kind, parse_stage,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::mapping::{apply_decision, to_facts};
use crate::requests::*;
use crate::views::{
    AuditPage, AuditView, DepartmentPublicity, EntryDetailView, EntryPage,
    EntryView, PublicityItem, PublicityReport,
};

/// Stable rule codes of the service's own refusals (the lifecycle's are
/// in `credgate_lifecycle::rule`).
pub mod rule {
    /// A key reads only its department's entries (operators read all).
    pub const NOT_OWN_DEPARTMENT: &str = "not_own_department";
    /// Reading entries needs publisher, reviewer or operator.
    pub const READ_ROLE_REQUIRED: &str = "read_role_required";
    pub const AUDITOR_ROLE_REQUIRED: &str = "auditor_role_required";
    pub const ADMIN_ROLE_REQUIRED: &str = "admin_role_required";
    pub const OPERATOR_ROLE_REQUIRED: &str = "operator_role_required";
    pub const UNKNOWN_SCENARIO: &str = "unknown_scenario";
    pub const UNKNOWN_CODE: &str = "unknown_code";
    pub const INVALID_IDENTIFIER: &str = "invalid_identifier";
    pub const TOO_LONG: &str = "too_long";
    pub const TOO_MANY: &str = "too_many";
    pub const REQUIRED: &str = "required";
    pub const INVALID_ENTRY_ID: &str = "invalid_entry_id";
    pub const INVALID_IDEMPOTENCY_KEY: &str = "invalid_idempotency_key";
    pub const BAN_END_OR_PERMANENT: &str = "ban_end_or_permanent";
    /// The entry could not travel as an entries file (the interchange
    /// format lists move in and out by), so the store does not take it.
    pub const NOT_PUBLISHABLE: &str = "not_publishable";
    /// A name the service uses itself (the sweep's department `system`):
    /// a department of that code could pass for the service in the
    /// audit chain.
    pub const RESERVED_CODE: &str = "reserved_code";
}

/// The key id and department of the expiry sweep in the audit chain.
pub const SYSTEM_KEY: &str = "system";
pub const SYSTEM_DEPARTMENT: &str = "system";

/// Who calls the service: a key (stored or configured) or the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// A stored key's id, a configuration key's name, or `cli`.
    pub key_id: String,
    /// The department it acts for; `None` for a configuration key
    /// without one (it may only do what needs no department).
    pub department: Option<String>,
    pub roles: Vec<Role>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The lifecycle's view of the caller.
    pub fn actor(&self) -> Actor {
        Actor {
            department: self.department.clone().unwrap_or_default(),
            publisher: self.has(Role::Publisher),
            reviewer: self.has(Role::Reviewer),
            operator: self.has(Role::Operator),
        }
    }

    /// The audit context of an action by this caller at `at`.
    pub fn audit(&self, at: DateTime<Utc>, action: &str) -> Audit {
        Audit::new(
            at,
            self.key_id.clone(),
            self.department.clone().unwrap_or_default(),
            action,
        )
    }

    fn require(
        &self,
        role: Role,
        rule: &'static str,
        what: &str,
    ) -> Result<(), AdminError> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AdminError::Forbidden {
                rule,
                message: format!("{what} needs the {} role", role.code()),
            })
        }
    }
}

/// Why the service refused or failed. The HTTP layer maps each variant
/// to one status and a stable code.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The lifecycle refused the command (403, 409 or 422 by its kind).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A department or role rule outside the lifecycle (403).
    #[error("{rule}: {message}")]
    Forbidden { rule: &'static str, message: String },
    /// An input the service checks itself (422), naming the field.
    #[error("{field}: {message}")]
    Invalid { rule: &'static str, field: String, message: String },
    /// The same Idempotency-Key with another request (422).
    #[error(
        "Idempotency-Key {key} was first used with another request; use a \
         new key for a new request"
    )]
    IdempotencyKeyReused { key: String },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// Stale versions, duplicates and the store's own failures.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(
    rule: &'static str,
    field: impl Into<String>,
    message: impl Into<String>,
) -> AdminError {
    AdminError::Invalid { rule, field: field.into(), message: message.into() }
}

/// A created entry, or the first answer to a retried request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposed {
    pub entry: EntryView,
    /// True when an `Idempotency-Key` retry found the first answer.
    pub replayed: bool,
}

/// What a sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Entries that exited, in internal-id order.
    pub expired: Vec<String>,
    /// Entries changed by someone else meanwhile (next sweep retries).
    pub skipped: Vec<String>,
}

/// The admin service. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Admin {
    pub store: Store,
    pub lifecycle: Lifecycle,
    pub clock: Arc<dyn Clock>,
    /// Scenario codes of designations are checked against it.
    pub catalogue: Arc<Catalogue>,
    /// Taken around every write to the store. SQLite has one writer at a
    /// time; without this, concurrent writers of this process meet as
    /// SQLITE_BUSY and wait in SQLite's busy handler, which sleeps in
    /// steps up to 100 ms: p99 81 ms and a max of 830 ms at 4 clients
    /// (BENCHMARKS.md). Queued here they wait only for each other.
    writes: Arc<tokio::sync::Mutex<()>>,
}

// ---- input checks ----------------------------------------------------

fn check_len(
    field: &str,
    v: &str,
    max: usize,
    required: bool,
) -> Result<(), AdminError> {
    if required && v.trim().is_empty() {
        return Err(invalid(
            rule::REQUIRED,
            field,
            format!("{field} is empty"),
        ));
    }
    let n = v.chars().count();
    if n > max {
        return Err(invalid(
            rule::TOO_LONG,
            field,
            format!("{field} has {n} characters; at most {max}"),
        ));
    }
    Ok(())
}

fn check_items(field: &str, n: usize) -> Result<(), AdminError> {
    if n > MAX_ITEMS {
        return Err(invalid(
            rule::TOO_MANY,
            field,
            format!("{field} has {n} items; at most {MAX_ITEMS}"),
        ));
    }
    Ok(())
}

fn parse_code<T>(
    field: &str,
    v: &str,
    parse: impl Fn(&str) -> Result<T, credgate_model::ParseError>,
) -> Result<T, AdminError> {
    parse(v).map_err(|e| invalid(rule::UNKNOWN_CODE, field, e.to_string()))
}

fn parse_category(
    field: &str,
    v: &str,
) -> Result<&'static Category, AdminError> {
    Category::parse(v)
        .map_err(|e| invalid(rule::UNKNOWN_CODE, field, e.to_string()))
}

/// An entry id: 1–64 characters of letters, digits, `-`, `_`, `.`, so it
/// fits a URL path segment unchanged.
fn check_entry_id(id: &str) -> Result<(), AdminError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            rule::INVALID_ENTRY_ID,
            "entry_id",
            "entry_id must be 1 to 64 ASCII letters, digits, '-', '_' or '.'",
        ))
    }
}

/// An `Idempotency-Key`: 1–200 visible ASCII characters.
pub fn check_idempotency_key(k: &str) -> Result<(), AdminError> {
    if !k.is_empty()
        && k.len() <= 200
        && k.bytes().all(|b| b.is_ascii_graphic())
    {
        Ok(())
    } else {
        Err(invalid(
            rule::INVALID_IDEMPOTENCY_KEY,
            "Idempotency-Key",
            "Idempotency-Key must be 1 to 200 visible ASCII characters",
        ))
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A fresh entry id: department, China date and 32 random bits.
fn new_entry_id(department: &str, today: NaiveDate) -> String {
    use rand::TryRngCore;
    let mut b = [0u8; 4];
    rand::rngs::OsRng
        .try_fill_bytes(&mut b)
        .expect("the operating system's random source");
    let hex: String = b.iter().map(|b| format!("{b:02x}")).collect();
    let dept: String = department
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(24)
        .collect();
    format!("{dept}-{}-{hex}", today.format("%Y%m%d"))
}

/// The request field an entries-file column comes from.
fn request_field(column: &str) -> String {
    match column {
        "name" | "code" | "secondary_ids" => format!("subject.{column}"),
        "subject_type" => "subject.kind".into(),
        "reason" => "reasons".into(),
        c if c == "related"
            || c.starts_with("legal_rep")
            || c.starts_with("principal")
            || c.starts_with("controller") =>
        {
            "subject.related".into()
        }
        c => c.to_string(),
    }
}

/// Refuses data an entries file cannot carry (a control character, a
/// text over 2,000 characters, two legal representatives, a person with
/// related parties …). When publishing went through an entries file, one
/// such entry stopped every department's publications; publishing now
/// streams to the builder, and the check stays so that the store holds
/// only what the interchange format carries. Checked whenever
/// an entry is made or changed in a stage from which it can reach
/// screening; what a proposal does not have yet (decision, severity) is
/// filled in with placeholders that pass.
fn check_publishable(
    entry_id: &str,
    data: &EntryData,
    today: NaiveDate,
) -> Result<(), AdminError> {
    let mut d = data.clone();
    if d.document_number.as_deref().is_none_or(|n| n.trim().is_empty()) {
        d.document_number = Some("0".into());
    }
    d.listed_on.get_or_insert(today);
    if d.list != ListKind::Red {
        d.severity.get_or_insert(Severity::General);
    }
    (d.removal_reason, d.removed_on, d.removal_authority) = (None, None, None);
    let probe = StoredEntry {
        id: 0,
        entry_id: entry_id.to_string(),
        department: String::new(),
        stage: Stage::Published,
        version: 1,
        data: d,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    };
    let Some(entry) = probe.to_model() else { return Ok(()) };
    credgate_entries::check_publishable(&entry).map_err(|errors| {
        let first = &errors[0];
        let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        invalid(
            rule::NOT_PUBLISHABLE,
            request_field(&first.column),
            format!(
                "an entries file (the format lists are imported and \
                 published by) cannot carry this entry ({})",
                credgate_bulk::clip(&all.join("; "))
            ),
        )
    })
}

impl Admin {
    pub fn new(
        store: Store,
        lifecycle: Lifecycle,
        clock: Arc<dyn Clock>,
        catalogue: Arc<Catalogue>,
    ) -> Admin {
        Admin {
            store,
            lifecycle,
            clock,
            catalogue,
            writes: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Holds the service's write turn: other writers to the same store in
    /// this process (imports, publications) take it too, so that they
    /// queue instead of meeting in SQLite's busy handler.
    pub async fn write_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Shares `turn` with other writers of the same store in this process
    /// (the server's publisher takes it for its records).
    pub fn with_write_turn(
        mut self,
        turn: Arc<tokio::sync::Mutex<()>>,
    ) -> Admin {
        self.writes = turn;
        self
    }

    /// Today in China, by the service's clock.
    pub fn today(&self) -> NaiveDate {
        credgate_screen::china_date(self.clock.now())
    }

    fn designation(
        &self,
        r: &DesignateRequest,
        field: &str,
    ) -> Result<lc::Designation, AdminError> {
        let f = |n: &str| {
            if field.is_empty() {
                n.to_string()
            } else {
                format!("{field}.{n}")
            }
        };
        check_len(
            &f("document_number"),
            &r.document_number,
            MAX_SHORT_CHARS,
            false,
        )?;
        check_items(&f("scenarios"), r.scenarios.len())?;
        let list = parse_code(&f("list"), &r.list, ListKind::parse)?;
        let category = parse_category(&f("category"), &r.category)?;
        let severity = r
            .severity
            .as_deref()
            .map(|s| parse_code(&f("severity"), s, Severity::parse))
            .transpose()?;
        let mut scenarios = Vec::with_capacity(r.scenarios.len());
        for (i, s) in r.scenarios.iter().enumerate() {
            let Some(found) = self.catalogue.find_scenario(s) else {
                return Err(invalid(
                    rule::UNKNOWN_SCENARIO,
                    format!("{}[{i}]", f("scenarios")),
                    format!(
                        "'{}' is not a scenario of the measures catalogue \
                         (one of {})",
                        credgate_bulk::clip(s),
                        self.catalogue
                            .scenarios()
                            .iter()
                            .map(|s| s.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            if !scenarios.contains(&found.id) {
                scenarios.push(found.id.clone());
            }
        }
        Ok(lc::Designation {
            decided_on: r.decided_on,
            document_number: r.document_number.trim().to_string(),
            list,
            category: category.id(),
            severity,
            scenarios,
            valid_until: r.valid_until,
        })
    }

    fn subject(
        &self,
        r: &ProposeRequest,
    ) -> Result<(SubjectKind, String, Vec<RelatedParty>), AdminError> {
        let s = &r.subject;
        check_len("subject.name", &s.name, MAX_SHORT_CHARS, true)?;
        check_len("subject.code", &s.code, MAX_SHORT_CHARS, true)?;
        check_items("subject.secondary_ids", s.secondary_ids.len())?;
        check_items("subject.related", s.related.len())?;
        for (i, id) in s.secondary_ids.iter().enumerate() {
            check_len(
                &format!("subject.secondary_ids[{i}]"),
                id,
                MAX_SHORT_CHARS,
                true,
            )?;
        }
        let kind = parse_code("subject.kind", &s.kind, SubjectKind::parse)?;
        let code = credgate_ident::validate_as(
            &s.code,
            Entry::expected_id_kind(kind),
        )
        .map_err(|e| {
            invalid(
                rule::INVALID_IDENTIFIER,
                "subject.code",
                format!("{e} (rule: {})", e.rule()),
            )
        })?
        .normalized;
        let mut related = Vec::with_capacity(s.related.len());
        for (i, p) in s.related.iter().enumerate() {
            let at = |n: &str| format!("subject.related[{i}].{n}");
            check_len(&at("name"), &p.name, MAX_SHORT_CHARS, true)?;
            let role = parse_code(&at("role"), &p.role, PartyRole::parse)?;
            let id_type = match &p.id_type {
                Some(t) => parse_code(&at("id_type"), t, IdType::parse)?,
                None => IdType::ResidentId,
            };
            let id_number = match &p.id_number {
                None => None,
                Some(n) if id_type == IdType::ResidentId => Some(
                    credgate_ident::validate_as(
                        n,
                        credgate_ident::IdKind::ResidentId,
                    )
                    .map_err(|e| {
                        invalid(
                            rule::INVALID_IDENTIFIER,
                            at("id_number"),
                            format!("{e} (rule: {})", e.rule()),
                        )
                    })?
                    .normalized,
                ),
                Some(n) => {
                    check_len(&at("id_number"), n, MAX_SHORT_CHARS, true)?;
                    Some(n.trim().to_string())
                }
            };
            related.push(RelatedParty {
                role,
                name: p.name.trim().to_string(),
                id_type,
                id_number,
            });
        }
        Ok((kind, code, related))
    }

    // ---- transitions -------------------------------------------------

    /// 告知: creates an entry of the caller's department (→ `noticed`).
    /// With `idempotency_key`, a retry of the same request returns the
    /// first answer and never makes a second entry; the same key with
    /// another request is [`AdminError::IdempotencyKeyReused`].
    pub async fn propose(
        &self,
        caller: &Caller,
        req: &ProposeRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Proposed, AdminError> {
        let digest = match idempotency_key {
            Some(k) => {
                check_idempotency_key(k)?;
                let bytes = serde_json::to_vec(req).map_err(|e| {
                    invalid(rule::REQUIRED, "body", e.to_string())
                })?;
                let digest = sha256_hex(&bytes);
                if let Some(first) = self.replay(caller, k, &digest).await? {
                    return Ok(first);
                }
                Some(digest)
            }
            None => None,
        };
        let now = self.clock.now().trunc_subsecs(6);
        let today = credgate_screen::china_date(now);
        check_len("reasons", &req.reasons, MAX_TEXT_CHARS, false)?;
        check_len("basis", &req.basis, MAX_TEXT_CHARS, false)?;
        check_len("rights", &req.rights, MAX_TEXT_CHARS, false)?;
        check_len("authority", &req.authority, MAX_SHORT_CHARS, true)?;
        if let Some(id) = &req.entry_id {
            check_entry_id(id)?;
        }
        let (subject_kind, code, related) = self.subject(req)?;
        let list = parse_code("list", &req.list, ListKind::parse)?;
        let category = parse_category("category", &req.category)?;
        if category.list != list {
            return Err(invalid(
                lc::rule::CATEGORY_LIST_MISMATCH,
                "category",
                format!(
                    "category {} belongs to the {} list, not {list}",
                    category.code, category.list
                ),
            ));
        }
        let command = Command::Propose(lc::Proposal {
            reasons: req.reasons.clone(),
            basis: req.basis.clone(),
            rights: req.rights.clone(),
            statement_days: req.statement_days,
        });
        let decision =
            self.lifecycle.decide(None, &command, &caller.actor(), today)?;
        let department = decision.facts.department.clone();
        let entry_id = req
            .entry_id
            .clone()
            .unwrap_or_else(|| new_entry_id(&department, today));
        let statement_deadline =
            decision.facts.statement_deadline.map(|d| d.date).unwrap_or(today);
        let mut data = EntryData {
            list,
            subject_kind,
            name: req.subject.name.trim().to_string(),
            code,
            secondary_ids: req.subject.secondary_ids.clone(),
            category: category.id(),
            reason: req.reasons.clone(),
            basis: req.basis.clone(),
            authority: req.authority.trim().to_string(),
            document_number: None,
            listed_on: None,
            valid_until: None,
            severity: None,
            removal_reason: None,
            removed_on: None,
            removal_authority: None,
            related,
            facts: Facts {
                notice: Some(Notice {
                    noticed_on: today,
                    reasons: req.reasons.clone(),
                    basis: req.basis.clone(),
                    rights: req.rights.clone(),
                    statement_deadline,
                }),
                ..Facts::default()
            },
        };
        apply_decision(&decision, &mut data);
        check_publishable(&entry_id, &data, today)?;
        let new = NewEntry {
            entry_id: entry_id.clone(),
            department: department.clone(),
            stage: Stage::Noticed,
            data: data.clone(),
        };
        // The answer is known before the insert (version 1, created now):
        // it is stored with the idempotency record in the same
        // transaction, so a retry gets exactly this.
        let view = EntryView::from_stored(&StoredEntry {
            id: 0,
            entry_id,
            department,
            stage: Stage::Noticed,
            version: 1,
            data,
            created_at: now,
            updated_at: now,
        });
        let record = match (idempotency_key, digest) {
            (Some(k), Some(digest)) => Some(IdempotencyRecord {
                key_id: caller.key_id.clone(),
                idem_key: k.to_string(),
                request_digest: digest,
                status: 201,
                response: serde_json::to_string(&view)
                    .expect("a view serialises"),
                entry: None,
                created_at: now,
            }),
            _ => None,
        };
        let audit = caller
            .audit(now, lc::Action::Propose.code())
            .with_details(json!({"deadlines": deadlines_json(&decision)}));
        let inserted = {
            let _turn = self.write_turn().await;
            self.store.insert_entry(&audit, &new, record.as_ref()).await
        };
        match inserted {
            Ok(_) => Ok(Proposed { entry: view, replayed: false }),
            // Two retries at once: the other one's record won.
            Err(StoreError::Duplicate { what: "idempotency key", .. }) => {
                let (Some(k), Some(r)) = (idempotency_key, record) else {
                    unreachable!("a duplicate key needs a record")
                };
                self.replay(caller, k, &r.request_digest).await?.ok_or_else(
                    || {
                        AdminError::Store(StoreError::Duplicate {
                            what: "idempotency key",
                            detail: k.to_string(),
                        })
                    },
                )
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn replay(
        &self,
        caller: &Caller,
        key: &str,
        digest: &str,
    ) -> Result<Option<Proposed>, AdminError> {
        let Some(rec) =
            self.store.idempotency_get(&caller.key_id, key).await?
        else {
            return Ok(None);
        };
        if rec.request_digest != digest {
            return Err(AdminError::IdempotencyKeyReused { key: key.into() });
        }
        let entry: EntryView =
            serde_json::from_str(&rec.response).map_err(|e| {
                StoreError::Corrupt {
                    table: "idempotency",
                    row: key.to_string(),
                    column: "response",
                    message: e.to_string(),
                }
            })?;
        Ok(Some(Proposed { entry, replayed: true }))
    }

    /// Loads an entry for a change.
    async fn load(&self, entry_id: &str) -> Result<StoredEntry, AdminError> {
        Ok(self
            .store
            .entry(entry_id)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                what: "entry",
                id: entry_id.to_string(),
            })?
            .entry)
    }

    /// The one path of every change to an existing entry: decide on the
    /// current facts, refuse a stale version, write the decision and what
    /// `finish` adds (texts, the event) with the audit record.
    async fn transition(
        &self,
        caller: &Caller,
        actor: &Actor,
        entry_id: &str,
        expected: i64,
        command: Command,
        finish: impl FnOnce(&mut EntryData, &Decision, NaiveDate) -> Option<Event>,
    ) -> Result<EntryView, AdminError> {
        let now = self.clock.now();
        let today = credgate_screen::china_date(now);
        let current = self.load(entry_id).await?;
        let decided = self.lifecycle.decide(
            Some(&to_facts(&current)),
            &command,
            actor,
            today,
        );
        // A department or role refusal stands whatever the version; any
        // other answer was given on a version the caller may not have
        // seen, so a stale one is said first.
        if let Err(r) = &decided {
            if r.kind == RefusalKind::Forbidden {
                return Err(r.clone().into());
            }
        }
        if current.version != expected {
            return Err(StoreError::Stale {
                entry_id: entry_id.to_string(),
                expected,
                actual: current.version,
            }
            .into());
        }
        let decision = decided?;
        let mut data = current.data.clone();
        apply_decision(&decision, &mut data);
        let event = finish(&mut data, &decision, today);
        let stage = decision.facts.stage;
        if matches!(
            stage,
            Stage::Noticed
                | Stage::Designated
                | Stage::Published
                | Stage::Disputed
        ) {
            check_publishable(entry_id, &data, today)?;
        }
        let mut details = json!({ "from": current.stage.code() });
        if !decision.deadlines.is_empty() {
            details["deadlines"] = deadlines_json(&decision);
        }
        if !decision.changes.is_empty() {
            details["changes"] = decision
                .changes
                .iter()
                .map(|c| json!({"field": c.field, "before": c.before, "after": c.after}))
                .collect();
        }
        if let Some(p) = decision.publicity {
            details["publicity"] = json!({
                "deadline": p.deadline.date,
                "estimated": p.deadline.estimated,
                "met": p.met,
            });
        }
        let audit = caller.audit(now, decision.action.code());
        let change = Change { stage, data, event };
        let _turn = self.write_turn().await;
        let stored = self
            .store
            .update_entry(
                &audit.with_details(details),
                entry_id,
                expected,
                &change,
            )
            .await?;
        Ok(EntryView::from_stored(&stored))
    }

    async fn change(
        &self,
        caller: &Caller,
        entry_id: &str,
        expected: i64,
        command: Command,
        finish: impl FnOnce(&mut EntryData, &Decision, NaiveDate) -> Option<Event>,
    ) -> Result<EntryView, AdminError> {
        // A key with no lifecycle role learns nothing about entries (not
        // even whether one exists) from a change it may not make.
        if !(caller.has(Role::Publisher) || caller.has(Role::Reviewer)) {
            return Err(AdminError::Forbidden {
                rule: lc::rule::PUBLISHER_ROLE_REQUIRED,
                message: format!(
                    "{} needs the publisher or reviewer role",
                    command.action()
                ),
            });
        }
        self.transition(
            caller,
            &caller.actor(),
            entry_id,
            expected,
            command,
            finish,
        )
        .await
    }

    /// 陈述申辩.
    pub async fn record_statement(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &StatementRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("text", &r.text, MAX_TEXT_CHARS, false)?;
        let command = Command::RecordStatement {
            text: r.text.clone(),
            received_on: r.received_on,
        };
        self.change(caller, entry_id, version, command, |d, _, _| {
            d.facts.statement = Some(Statement {
                received_on: r.received_on,
                text: r.text.clone(),
            });
            None
        })
        .await
    }

    /// 认定 (→ `designated`).
    pub async fn designate(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &DesignateRequest,
    ) -> Result<EntryView, AdminError> {
        let des = self.designation(r, "")?;
        self.change(
            caller,
            entry_id,
            version,
            Command::Designate(des),
            |_, _, _| None,
        )
        .await
    }

    /// 公示 (→ `published`; in screening from the next snapshot).
    pub async fn publish(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
    ) -> Result<EntryView, AdminError> {
        self.change(caller, entry_id, version, Command::Publish, |_, _, _| {
            None
        })
        .await
    }

    /// 限期整改.
    pub async fn set_rectification(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &RectificationRequest,
    ) -> Result<EntryView, AdminError> {
        let command = Command::SetRectification { deadline: r.deadline };
        self.change(caller, entry_id, version, command, |_, _, _| None).await
    }

    /// 提示约谈 / 警示约谈.
    pub async fn record_interview(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &InterviewRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("note", &r.note, MAX_TEXT_CHARS, false)?;
        let kind = parse_interview_kind(&r.kind)
            .map_err(|e| invalid(rule::UNKNOWN_CODE, "kind", e.to_string()))?;
        let command = Command::RecordInterview {
            kind,
            on: r.held_on,
            notes: r.note.clone(),
        };
        self.change(caller, entry_id, version, command, |_, _, _| {
            Some(Event::Interview(Interview {
                held_on: r.held_on,
                kind,
                note: r.note.clone(),
            }))
        })
        .await
    }

    /// 市场和行业禁入.
    pub async fn set_ban(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &BanRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("scope", &r.scope, MAX_TEXT_CHARS, true)?;
        let ban = match (r.until, r.permanent) {
            (Some(d), false) => lc::Ban::Until(d),
            (None, true) => lc::Ban::Permanent,
            _ => {
                return Err(invalid(
                    rule::BAN_END_OR_PERMANENT,
                    "until",
                    "give either `until` (the ban's last day) or \
                     `permanent: true`, not both or neither",
                ));
            }
        };
        self.change(
            caller,
            entry_id,
            version,
            Command::SetBan(ban),
            |d, _, _| {
                if let Some(b) = d.facts.ban.as_mut() {
                    b.scope = r.scope.clone();
                }
                None
            },
        )
        .await
    }

    /// 异议 (→ `disputed`; measures wait in screening).
    pub async fn object(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &ObjectionRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("applicant", &r.applicant, MAX_SHORT_CHARS, true)?;
        check_len("grounds", &r.grounds, MAX_TEXT_CHARS, false)?;
        let command = Command::Object {
            grounds: r.grounds.clone(),
            received_on: r.received_on,
        };
        self.change(caller, entry_id, version, command, |_, dec, _| {
            let deadline = dec
                .facts
                .review_deadline
                .map(|d| d.date)
                .unwrap_or(r.received_on);
            Some(Event::ObjectionOpened(Objection {
                received_on: r.received_on,
                applicant: r.applicant.clone(),
                grounds: r.grounds.clone(),
                review_deadline: deadline,
                decided_on: None,
                outcome: None,
                decision: None,
            }))
        })
        .await
    }

    /// The objection is unfounded (→ `published`).
    pub async fn uphold(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &UpholdRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("decision", &r.decision, MAX_TEXT_CHARS, true)?;
        self.change(
            caller,
            entry_id,
            version,
            Command::Uphold,
            |_, _, today| {
                Some(Event::ObjectionDecided {
                    decided_on: today,
                    outcome: ObjectionOutcome::Upheld,
                    decision: r.decision.clone(),
                })
            },
        )
        .await
    }

    /// The objection leads to a correction (→ `published`, fields
    /// changed, history kept).
    pub async fn correct(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &CorrectRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("decision", &r.decision, MAX_TEXT_CHARS, true)?;
        let des = self.designation(&r.designation, "designation")?;
        self.change(
            caller,
            entry_id,
            version,
            Command::Correct(des),
            |_, _, today| {
                Some(Event::ObjectionDecided {
                    decided_on: today,
                    outcome: ObjectionOutcome::Corrected,
                    decision: r.decision.clone(),
                })
            },
        )
        .await
    }

    /// 撤销 (→ `revoked`: gone from screening and reports).
    pub async fn revoke(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &RevokeRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("reason", &r.reason, MAX_TEXT_CHARS, false)?;
        let command = Command::Revoke { reason: r.reason.clone() };
        self.change(caller, entry_id, version, command, |d, dec, today| {
            d.removal_reason = Some(r.reason.clone());
            d.removal_authority = Some(d.authority.clone());
            (dec.from == Some(lc::Stage::Disputed)).then(|| {
                Event::ObjectionDecided {
                    decided_on: today,
                    outcome: ObjectionOutcome::Revoked,
                    decision: r.reason.clone(),
                }
            })
        })
        .await
    }

    /// 信用修复 (→ `exited`), after the minimum period, by the designating
    /// department.
    pub async fn repair(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &RepairRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("commitment", &r.commitment, MAX_TEXT_CHARS, false)?;
        check_len("note", &r.note, MAX_TEXT_CHARS, false)?;
        let command = Command::Repair {
            commitment: r.commitment.clone(),
            obligations_met: r.obligations_met,
        };
        self.change(caller, entry_id, version, command, |d, _, today| {
            d.removal_reason = Some("信用修复".into());
            d.removal_authority = Some(d.authority.clone());
            Some(Event::Repair(Repair {
                repaired_on: today,
                commitment: r.commitment.clone(),
                note: r.note.clone(),
            }))
        })
        .await
    }

    /// 撤回 a proposal (→ `withdrawn`).
    pub async fn withdraw(
        &self,
        caller: &Caller,
        entry_id: &str,
        version: i64,
        r: &WithdrawRequest,
    ) -> Result<EntryView, AdminError> {
        check_len("reason", &r.reason, MAX_TEXT_CHARS, false)?;
        let command = Command::Withdraw { reason: r.reason.clone() };
        self.change(caller, entry_id, version, command, |d, _, _| {
            d.removal_reason = Some(r.reason.clone());
            None
        })
        .await
    }

    /// The expiry sweep: every published or disputed entry at or past its
    /// maximum period on `today` exits, audited as the system operator.
    /// An entry changed meanwhile is skipped (the next sweep sees it).
    pub async fn sweep(
        &self,
        today: NaiveDate,
    ) -> Result<SweepReport, AdminError> {
        let system = Caller {
            key_id: SYSTEM_KEY.into(),
            department: Some(SYSTEM_DEPARTMENT.into()),
            roles: vec![Role::Operator],
        };
        let actor = Actor::operator(SYSTEM_DEPARTMENT);
        let filter = EntryFilter {
            stages: vec![Stage::Published, Stage::Disputed],
            max_period_end_by: Some(today),
            limit: Some(500),
            ..EntryFilter::default()
        };
        let mut report = SweepReport::default();
        let mut cursor: Option<String> = None;
        loop {
            let page =
                self.store.list_entries(&filter, cursor.as_deref()).await?;
            for e in &page.items {
                if !Lifecycle::due_for_expiry(&to_facts(e), today) {
                    continue;
                }
                let done = self
                    .transition(
                        &system,
                        &actor,
                        &e.entry_id,
                        e.version,
                        Command::Expire,
                        |d, _, _| {
                            d.removal_reason = Some("公示期满".into());
                            None
                        },
                    )
                    .await;
                match done {
                    Ok(_) => report.expired.push(e.entry_id.clone()),
                    Err(AdminError::Store(StoreError::Stale { .. })) => {
                        report.skipped.push(e.entry_id.clone())
                    }
                    Err(err) => return Err(err),
                }
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        Ok(report)
    }

    // ---- reading -----------------------------------------------------

    /// The department whose entries the caller may read (`None`: all).
    fn read_scope(
        &self,
        caller: &Caller,
    ) -> Result<Option<String>, AdminError> {
        if caller.has(Role::Operator) {
            return Ok(None);
        }
        if !(caller.has(Role::Publisher) || caller.has(Role::Reviewer)) {
            return Err(AdminError::Forbidden {
                rule: rule::READ_ROLE_REQUIRED,
                message: "reading entries needs the publisher, reviewer or \
                          operator role"
                    .into(),
            });
        }
        match &caller.department {
            Some(d) if !d.is_empty() => Ok(Some(d.clone())),
            _ => Err(AdminError::Forbidden {
                rule: lc::rule::DEPARTMENT_REQUIRED,
                message: "the key belongs to no department; it reads no \
                          entries"
                    .into(),
            }),
        }
    }

    fn own(
        &self,
        scope: &Option<String>,
        department: &str,
        entry_id: &str,
    ) -> Result<(), AdminError> {
        match scope {
            Some(mine) if mine != department => Err(AdminError::Forbidden {
                rule: rule::NOT_OWN_DEPARTMENT,
                message: format!(
                    "entry {entry_id} belongs to {department}; a key of \
                     {mine} reads only its own department's entries \
                     (operators read all)"
                ),
            }),
            _ => Ok(()),
        }
    }

    /// One entry with its full history.
    pub async fn entry(
        &self,
        caller: &Caller,
        entry_id: &str,
    ) -> Result<EntryDetailView, AdminError> {
        let scope = self.read_scope(caller)?;
        let detail = self.store.entry(entry_id).await?.ok_or_else(|| {
            AdminError::NotFound { what: "entry", id: entry_id.to_string() }
        })?;
        self.own(&scope, &detail.entry.department, entry_id)?;
        Ok(EntryDetailView::from(&detail))
    }

    /// The store filter of a query, within the caller's scope.
    pub fn filter(
        &self,
        caller: &Caller,
        q: &ListQuery,
    ) -> Result<EntryFilter, AdminError> {
        let scope = self.read_scope(caller)?;
        let department = match (&scope, &q.department) {
            (Some(mine), Some(asked)) if mine != asked => {
                return Err(AdminError::Forbidden {
                    rule: rule::NOT_OWN_DEPARTMENT,
                    message: format!(
                        "a key of {mine} reads only its own department's \
                         entries, not {asked} (operators read all)"
                    ),
                });
            }
            (Some(mine), _) => Some(mine.clone()),
            (None, asked) => asked.clone(),
        };
        let mut stages = Vec::new();
        if let Some(s) = &q.stage {
            for code in s.split(',').filter(|c| !c.trim().is_empty()) {
                stages.push(parse_stage(code.trim()).map_err(|e| {
                    invalid(rule::UNKNOWN_CODE, "stage", e.to_string())
                })?);
            }
        }
        for (field, v) in [("name", &q.name), ("code", &q.code)] {
            if let Some(v) = v {
                check_len(field, v, MAX_SHORT_CHARS, false)?;
            }
        }
        Ok(EntryFilter {
            list: q
                .list
                .as_deref()
                .map(|l| parse_code("list", l, ListKind::parse))
                .transpose()?,
            category: q
                .category
                .as_deref()
                .map(|c| parse_category("category", c).map(|c| c.id()))
                .transpose()?,
            stages,
            department,
            listed_from: q.listed_from,
            listed_to: q.listed_to,
            name_contains: q.name.clone().filter(|n| !n.is_empty()),
            code: q.code.as_ref().map(|c| c.trim().to_ascii_uppercase()),
            limit: q.limit,
            ..EntryFilter::default()
        })
    }

    /// One page of entries (cursor pagination in insertion order).
    pub async fn list(
        &self,
        caller: &Caller,
        q: &ListQuery,
    ) -> Result<EntryPage, AdminError> {
        let filter = self.filter(caller, q)?;
        let page = self
            .store
            .list_entries(&filter, q.cursor.as_deref())
            .await
            .map_err(|e| match e {
                StoreError::Invalid { message, .. } => {
                    invalid(rule::UNKNOWN_CODE, "cursor", message)
                }
                e => e.into(),
            })?;
        Ok(EntryPage {
            items: page.items.iter().map(EntryView::from_stored).collect(),
            next: page.next,
        })
    }

    /// Every entry of a query (for exports), at most `max` (an error
    /// naming the bound past it).
    pub async fn list_all(
        &self,
        caller: &Caller,
        q: &ListQuery,
        max: usize,
    ) -> Result<Vec<StoredEntry>, AdminError> {
        let mut filter = self.filter(caller, q)?;
        filter.limit = Some(1_000);
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page =
                self.store.list_entries(&filter, cursor.as_deref()).await?;
            out.extend(page.items);
            if out.len() > max {
                return Err(invalid(
                    rule::TOO_MANY,
                    "limit",
                    format!(
                        "the export has more than {max} entries; narrow the \
                         filters (list, category, stage, dates)"
                    ),
                ));
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// 双公示: per department, designated decisions past their deadline
    /// and not published, and those published late.
    pub async fn publicity_report(
        &self,
        caller: &Caller,
    ) -> Result<PublicityReport, AdminError> {
        let scope = self.read_scope(caller)?;
        let today = self.today();
        let filter = EntryFilter {
            department: scope,
            publicity_deadline_by: today.pred_opt(),
            limit: Some(1_000),
            ..EntryFilter::default()
        };
        let mut by_dept: std::collections::BTreeMap<
            String,
            DepartmentPublicity,
        > = Default::default();
        let mut cursor = None;
        loop {
            let page =
                self.store.list_entries(&filter, cursor.as_deref()).await?;
            for e in &page.items {
                let f = &e.data.facts;
                let Some(deadline) = f.publicity_deadline else { continue };
                // Revoked decisions leave every report.
                if matches!(e.stage, Stage::Revoked | Stage::Withdrawn) {
                    continue;
                }
                let item = PublicityItem {
                    entry_id: e.entry_id.clone(),
                    name: e.data.name.clone(),
                    document_number: e.data.document_number.clone(),
                    decided_on: e.data.listed_on,
                    deadline,
                    deadline_estimated: EntryView::from_stored(e)
                        .publicity_deadline_estimated,
                    published_on: f.published_on,
                };
                let d =
                    by_dept.entry(e.department.clone()).or_insert_with(|| {
                        DepartmentPublicity {
                            department: e.department.clone(),
                            overdue: Vec::new(),
                            published_late: Vec::new(),
                        }
                    });
                match f.published_on {
                    None if e.stage == Stage::Designated
                        && today > deadline =>
                    {
                        d.overdue.push(item)
                    }
                    Some(p) if p > deadline => d.published_late.push(item),
                    _ => {}
                }
            }
            match page.next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        Ok(PublicityReport {
            today,
            working_days: self.lifecycle.rules.publicity_days,
            departments: by_dept
                .into_values()
                .filter(|d| {
                    !d.overdue.is_empty() || !d.published_late.is_empty()
                })
                .collect(),
        })
    }

    /// A page of the audit chain (auditors).
    pub async fn audit_page(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        cursor: Option<&str>,
    ) -> Result<AuditPage, AdminError> {
        caller.require(
            Role::Auditor,
            rule::AUDITOR_ROLE_REQUIRED,
            "reading the audit chain",
        )?;
        let page = self.store.audit_page(filter, cursor).await.map_err(
            |e| match e {
                StoreError::Invalid { message, .. } => {
                    invalid(rule::UNKNOWN_CODE, "cursor", message)
                }
                e => e.into(),
            },
        )?;
        Ok(AuditPage {
            items: page.items.iter().map(AuditView::from).collect(),
            next: page.next,
        })
    }

    // ---- keys and departments (admin role) ---------------------------

    pub async fn create_key(
        &self,
        caller: &Caller,
        key: &credgate_store::NewKey,
    ) -> Result<credgate_store::CreatedKey, AdminError> {
        caller.require(
            Role::Admin,
            rule::ADMIN_ROLE_REQUIRED,
            "creating keys",
        )?;
        check_len("name", &key.name, MAX_SHORT_CHARS, true)?;
        check_len("department", &key.department, MAX_SHORT_CHARS, true)?;
        if key.roles.is_empty() {
            return Err(invalid(
                rule::REQUIRED,
                "roles",
                "give at least one role",
            ));
        }
        let audit = caller.audit(self.clock.now(), "key_create");
        let _turn = self.write_turn().await;
        Ok(self.store.create_key(&audit, key).await?)
    }

    pub async fn keys(
        &self,
        caller: &Caller,
    ) -> Result<Vec<credgate_store::ApiKey>, AdminError> {
        caller.require(
            Role::Admin,
            rule::ADMIN_ROLE_REQUIRED,
            "listing keys",
        )?;
        Ok(self.store.keys().await?)
    }

    pub async fn revoke_key(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<credgate_store::ApiKey, AdminError> {
        caller.require(
            Role::Admin,
            rule::ADMIN_ROLE_REQUIRED,
            "revoking keys",
        )?;
        let audit = caller.audit(self.clock.now(), "key_revoke");
        let _turn = self.write_turn().await;
        Ok(self.store.revoke_key(&audit, id).await?)
    }

    pub async fn departments(
        &self,
        caller: &Caller,
    ) -> Result<Vec<credgate_store::Department>, AdminError> {
        if !caller.roles.iter().any(|r| {
            matches!(
                r,
                Role::Admin
                    | Role::Operator
                    | Role::Auditor
                    | Role::Publisher
                    | Role::Reviewer
            )
        }) {
            return Err(AdminError::Forbidden {
                rule: rule::READ_ROLE_REQUIRED,
                message: "listing departments needs an admin-module role"
                    .into(),
            });
        }
        Ok(self.store.departments().await?)
    }

    pub async fn upsert_department(
        &self,
        caller: &Caller,
        department: &credgate_store::Department,
    ) -> Result<(), AdminError> {
        caller.require(
            Role::Admin,
            rule::ADMIN_ROLE_REQUIRED,
            "changing departments",
        )?;
        check_len("code", &department.code, 64, true)?;
        if !department
            .code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                rule::UNKNOWN_CODE,
                "code",
                "a department code is lower-case ASCII letters, digits and \
                 '-' (e.g. js-scjg)",
            ));
        }
        if department.code == SYSTEM_DEPARTMENT {
            return Err(invalid(
                rule::RESERVED_CODE,
                "code",
                format!(
                    "'{SYSTEM_DEPARTMENT}' is the service's own department \
                     in the audit chain (the expiry sweep, recovery); \
                     choose another code"
                ),
            ));
        }
        check_len("name_zh", &department.name_zh, MAX_SHORT_CHARS, true)?;
        let audit = caller.audit(self.clock.now(), "department_upsert");
        let _turn = self.write_turn().await;
        Ok(self.store.upsert_department(&audit, department).await?)
    }
}

fn deadlines_json(d: &Decision) -> serde_json::Value {
    d.deadlines
        .iter()
        .map(|c| {
            json!({
                "kind": c.kind.code(),
                "working_days": c.working_days,
                "date": c.deadline.date,
                "estimated": c.deadline.estimated,
            })
        })
        .collect()
}
