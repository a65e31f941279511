//! Turning screening outcomes into JSON and text for the CLI. Personal ID
//! numbers are masked unless the operator asks for them.

use credgate_index::Snapshot;
use credgate_model::SubjectKind;
use credgate_screen::{Hit, Outcome};
use serde_json::{Value, json};

/// Masks `s` when it is a resident ID and PII is not to be shown.
pub fn pii(s: &str, show: bool) -> String {
    if show
        || credgate_ident::validate_as(s, credgate_ident::IdKind::ResidentId)
            .is_err()
    {
        // Keys of related hits are "role:ID": mask the ID part.
        if !show {
            if let Some((role, id)) = s.split_once(':') {
                return format!("{role}:{}", pii(id, show));
            }
        }
        s.to_string()
    } else {
        credgate_ident::mask(s)
    }
}

pub fn hit_json(snap: &Snapshot, h: &Hit, show_pii: bool) -> Value {
    let Ok(r) = snap.record(h.ordinal) else {
        return json!({ "entry": h.ordinal, "error": "unreadable record" });
    };
    let category = credgate_model::Category::by_id(r.category);
    let code = if r.subject_kind == SubjectKind::Person {
        pii(r.code, show_pii)
    } else {
        r.code.to_string()
    };
    json!({
        "entry_id": r.entry_id,
        "list": r.list.code(),
        "category": category.map(|c| c.code),
        "category_zh": category.map(|c| c.name_zh),
        "kind": h.kind.code(),
        "score": (h.score * 1000.0).round() / 1000.0,
        "query_field": h.query_field,
        "entry_field": h.entry_field,
        "query_key": pii(&h.query_key, show_pii),
        "entry_key": pii(&h.entry_key, show_pii),
        "role": h.role.map(|r| r.code()),
        "subject_type": r.subject_kind.code(),
        "name": r.name,
        "code": code,
        "authority": snap.string(r.authority),
        "document_number": r.document_number,
        "listed_on": r.listed_on.to_string(),
        "valid_until": r.valid_until.map(|d| d.to_string()),
        "status": r.status.code(),
        "disputed": r.status == credgate_model::EntryStatus::Disputed,
        "severity": r.severity.map(|s| s.code()),
    })
}

pub fn outcome_json(
    snap: &Snapshot,
    o: &Outcome,
    show_pii: bool,
    took_us: u128,
) -> Value {
    let measures: Vec<Value> = o
        .verdict
        .measures
        .iter()
        .map(|m| {
            json!({
                "entry_id": snap.record(m.ordinal).map(|r| r.entry_id.to_string()).unwrap_or_default(),
                "category": m.measure.category,
                "scenario": m.measure.scenario,
                "effect": m.measure.effect.code(),
                "text": m.measure.text,
                "basis": m.measure.basis,
            })
        })
        .collect();
    json!({
        "decision": o.verdict.decision.code(),
        "scenario": o.scenario,
        "conflict": o.verdict.conflict,
        "measures": measures,
        "hits": o.hits.iter().map(|h| hit_json(snap, h, show_pii)).collect::<Vec<_>>(),
        "snapshot": {
            "version": snap.header().version,
            "built_at": snap.header().built_at,
            "entries": snap.len(),
        },
        "took_us": took_us,
    })
}
