//! The audit chain's arithmetic: the canonical JSON of an entry (what its
//! digests hash), the `details` column, and the record hash.
//!
//! Canonical JSON is made by serde from structs with a fixed field order,
//! never from a `serde_json::Map`, whose order depends on whether some
//! other crate in the build enabled `preserve_order`: a digest must not
//! change with the binary that computes it.

use chrono::{DateTime, NaiveDate, Utc};
use credgate_model::{Category, RelatedParty};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use crate::{
    ApiKey, Ban, Department, EntryData, NewEntry, Notice, Stage, Statement,
    StoreError, StoredEntry,
};

/// The prev_hash of the first record.
pub const GENESIS: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The JSON column of rarely read details (the texts a snapshot carries
/// have columns of their own: migration 0002).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub notice: Option<Notice>,
    pub statement: Option<Statement>,
    pub scenarios: Vec<String>,
    pub ban: Option<Ban>,
    pub extra: BTreeMap<String, String>,
}

/// [`Details`] borrowed from an entry, for writing the column.
#[derive(Serialize)]
pub struct StoredDetailsRef<'a> {
    notice: Option<&'a Notice>,
    statement: Option<&'a Statement>,
    scenarios: &'a [String],
    ban: Option<&'a Ban>,
    extra: &'a BTreeMap<String, String>,
}

impl<'a> StoredDetailsRef<'a> {
    pub fn of(d: &'a EntryData) -> StoredDetailsRef<'a> {
        StoredDetailsRef {
            notice: d.facts.notice.as_ref(),
            statement: d.facts.statement.as_ref(),
            scenarios: &d.facts.scenarios,
            ban: d.facts.ban.as_ref(),
            extra: &d.facts.extra,
        }
    }
}

/// The `details` object of an entry's canonical JSON (what its digests
/// hash; fixed, whatever the columns), borrowed from the entry: the texts
/// kept in their own columns, then the `details` column's fields. The
/// digests are pinned (`tests/import.rs`,
/// `the_audit_chain_of_an_import_is_pinned_for_a_fixed_input_and_clock`).
#[derive(Serialize)]
pub struct DetailsRef<'a> {
    secondary_ids: &'a [String],
    reason: &'a str,
    basis: &'a str,
    removal_reason: Option<&'a str>,
    removal_authority: Option<&'a str>,
    #[serde(flatten)]
    stored: StoredDetailsRef<'a>,
}

impl<'a> DetailsRef<'a> {
    pub fn of(d: &'a EntryData) -> DetailsRef<'a> {
        DetailsRef {
            secondary_ids: &d.secondary_ids,
            reason: &d.reason,
            basis: &d.basis,
            removal_reason: d.removal_reason.as_deref(),
            removal_authority: d.removal_authority.as_deref(),
            stored: StoredDetailsRef::of(d),
        }
    }
}

#[derive(Serialize)]
struct Party<'a> {
    role: &'static str,
    name: &'a str,
    id_type: &'static str,
    id_number: Option<&'a str>,
}

#[derive(Serialize)]
struct Canonical<'a> {
    entry_id: &'a str,
    department: &'a str,
    stage: &'static str,
    version: i64,
    list: &'static str,
    subject_kind: &'static str,
    name: &'a str,
    code: &'a str,
    category: &'static str,
    authority: &'a str,
    document_number: Option<&'a str>,
    listed_on: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
    severity: Option<&'static str>,
    removed_on: Option<NaiveDate>,
    min_period_end: Option<NaiveDate>,
    max_period_end: Option<NaiveDate>,
    publicity_deadline: Option<NaiveDate>,
    published_on: Option<NaiveDate>,
    rectification_deadline: Option<NaiveDate>,
    review_deadline: Option<NaiveDate>,
    details: DetailsRef<'a>,
    related: Vec<Party<'a>>,
}

/// The canonical JSON of an entry's state: identity, stage, version and
/// every field and fact (not its created/updated times, which the audit
/// records carry).
pub fn canonical_json(
    entry_id: &str,
    department: &str,
    stage: Stage,
    version: i64,
    d: &EntryData,
) -> String {
    let f = &d.facts;
    let c = Canonical {
        entry_id,
        department,
        stage: stage.code(),
        version,
        list: d.list.code(),
        subject_kind: d.subject_kind.code(),
        name: &d.name,
        code: &d.code,
        category: category_code(d),
        authority: &d.authority,
        document_number: d.document_number.as_deref(),
        listed_on: d.listed_on,
        valid_until: d.valid_until,
        severity: d.severity.map(|s| s.code()),
        removed_on: d.removed_on,
        min_period_end: f.min_period_end,
        max_period_end: f.max_period_end,
        publicity_deadline: f.publicity_deadline,
        published_on: f.published_on,
        rectification_deadline: f.rectification_deadline,
        review_deadline: f.review_deadline,
        details: DetailsRef::of(d),
        related: d.related.iter().map(party).collect(),
    };
    serde_json::to_string(&c).expect("plain structs serialise")
}

#[derive(Serialize)]
struct CanonicalKey<'a> {
    id: &'a str,
    name: &'a str,
    department: &'a str,
    roles: Vec<&'static str>,
    sha256: &'a str,
    created_at: String,
    revoked_at: Option<String>,
}

/// The canonical JSON of a stored key (what its records digest).
pub fn key_json(k: &ApiKey) -> String {
    let c = CanonicalKey {
        id: &k.id,
        name: &k.name,
        department: &k.department,
        roles: k.roles.iter().map(|r| r.code()).collect(),
        sha256: &k.sha256,
        created_at: ts(k.created_at),
        revoked_at: k.revoked_at.map(ts),
    };
    serde_json::to_string(&c).expect("plain structs serialise")
}

#[derive(Serialize)]
struct CanonicalDepartment<'a> {
    code: &'a str,
    name_zh: &'a str,
}

pub fn department_json(d: &Department) -> String {
    let c = CanonicalDepartment { code: &d.code, name_zh: &d.name_zh };
    serde_json::to_string(&c).expect("plain structs serialise")
}

pub fn canonical_of(e: &StoredEntry) -> String {
    canonical_json(&e.entry_id, &e.department, e.stage, e.version, &e.data)
}

fn party(p: &RelatedParty) -> Party<'_> {
    Party {
        role: p.role.code(),
        name: &p.name,
        id_type: p.id_type.code(),
        id_number: p.id_number.as_deref(),
    }
}

pub fn category_code(d: &EntryData) -> &'static str {
    Category::by_id(d.category).map(|c| c.code).unwrap_or("unknown")
}

/// The encoded columns of an entry: the `details` JSON and its secondary
/// ids (a JSON array, `None` when there are none).
#[derive(Debug, Clone)]
pub struct EncodedDetails {
    pub json: String,
    pub secondary_ids: Option<String>,
}

pub fn details_json(d: &EntryData) -> Result<EncodedDetails, StoreError> {
    let bad = |e: serde_json::Error| StoreError::Invalid {
        field: "details",
        message: e.to_string(),
    };
    Ok(EncodedDetails {
        json: serde_json::to_string(&StoredDetailsRef::of(d)).map_err(bad)?,
        secondary_ids: if d.secondary_ids.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&d.secondary_ids).map_err(bad)?)
        },
    })
}

/// A new entry with what writing it needs made in advance: its encoded
/// columns and the SHA-256 of its canonical JSON at version 1 (its audit
/// record's `digest_after`). All of it is CPU without the store, so an
/// import makes it on its reading thread while the one writer writes
/// (`credgate_admin::import`); the record itself is made by the writer,
/// as it chains on the one before.
#[derive(Debug, Clone)]
pub struct PreparedEntry {
    pub(crate) new: NewEntry,
    pub(crate) details: EncodedDetails,
    pub(crate) after_digest: String,
}

impl PreparedEntry {
    pub fn new(new: NewEntry) -> Result<PreparedEntry, StoreError> {
        if new.entry_id.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "entry_id",
                message: "an entry needs its 记录编号".into(),
            });
        }
        let details = details_json(&new.data)?;
        let after = canonical_json(
            &new.entry_id,
            &new.department,
            new.stage,
            1,
            &new.data,
        );
        Ok(PreparedEntry {
            after_digest: sha256_hex(after.as_bytes()),
            new,
            details,
        })
    }

    pub fn entry(&self) -> &NewEntry {
        &self.new
    }
}

/// The stored text of a timestamp: RFC 3339, UTC, `Z`, microseconds, so
/// that text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The fields of an audit record that its hash covers (all but the hash).
#[derive(Debug, Clone)]
pub struct RecordFields<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub key_id: &'a str,
    pub department: &'a str,
    pub action: &'a str,
    pub entry: Option<i64>,
    pub digest_before: Option<&'a str>,
    pub digest_after: Option<&'a str>,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

/// SHA-256 over a length-prefixed encoding of every field: each is a tag
/// byte (0 absent, 1 present), then for a present value its length (u64,
/// big-endian) and bytes, so no two records encode alike.
pub fn record_hash(r: &RecordFields<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |v: Option<&[u8]>| match v {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            h.update((b.len() as u64).to_be_bytes());
            h.update(b);
        }
    };
    let seq = r.seq.to_be_bytes();
    field(Some(&seq));
    field(Some(r.at.as_bytes()));
    field(Some(r.key_id.as_bytes()));
    field(Some(r.department.as_bytes()));
    field(Some(r.action.as_bytes()));
    let entry = r.entry.map(i64::to_be_bytes);
    field(entry.as_ref().map(|b| &b[..]));
    field(r.digest_before.map(str::as_bytes));
    field(r.digest_after.map(str::as_bytes));
    field(Some(r.details.as_bytes()));
    field(Some(r.prev_hash.as_bytes()));
    hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(details: &'a str, entry: Option<i64>) -> RecordFields<'a> {
        RecordFields {
            seq: 1,
            at: "2026-01-01T00:00:00.000000Z",
            key_id: "k",
            department: "d",
            action: "a",
            entry,
            digest_before: None,
            digest_after: None,
            details,
            prev_hash: GENESIS,
        }
    }

    #[test]
    fn record_hash_separates_fields_and_absence() {
        let a = record_hash(&fields("{}", None));
        assert_eq!(a.len(), 64);
        assert_ne!(a, record_hash(&fields("{}", Some(0))));
        assert_ne!(a, record_hash(&fields("{} ", None)));
        assert_eq!(a, record_hash(&fields("{}", None)));
    }

    #[test]
    fn timestamps_are_utc_with_z_and_microseconds() {
        let t =
            DateTime::parse_from_rfc3339("2026-03-01T08:00:00.1234567+08:00")
                .unwrap()
                .with_timezone(&Utc);
        assert_eq!(ts(t), "2026-03-01T00:00:00.123456Z");
    }
}
