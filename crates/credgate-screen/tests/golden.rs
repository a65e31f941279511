//! Screening the golden snapshot of `credgate-index/tests/data` (a file
//! of the current format version, checked in) with a fixed catalogue:
//! these answers must never change without a format version bump.

use chrono::{NaiveDate, NaiveTime};
use credgate_ident::IdKind;
use credgate_index::Snapshot;
use credgate_index::format::VERSION;
use credgate_model::PartyRole;
use credgate_screen::{
    Catalogue, Clock, Decision, EntryField, Link, MatchKind, Query,
    QueryField, Relation, Screener, TestClock,
};
use std::path::PathBuf;
use std::sync::Arc;

fn screener() -> Screener {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(format!(
        "../credgate-index/tests/data/golden-v{VERSION}.snapshot"
    ));
    let snap = Snapshot::open(&path).unwrap();
    snap.verify().unwrap();
    let catalogue =
        Catalogue::load(&root.join("tests/data/golden-measures.toml"))
            .unwrap();
    Screener::new(Arc::new(snap), Arc::new(catalogue))
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

const U1: &str = "91320106100000016T"; // G01 (black) and G14 (red)
const P1: &str = "320106197503150116"; // G01's legal representative
const P2: &str = "320505198003150224"; // G01's principal
const P3: &str = "110105196803150337"; // G02, and G04's legal rep
const U3: &str = "91110105100000032G"; // G04

fn code(c: &str) -> Query {
    Query { code: Some(c.into()), include_related: true, ..Default::default() }
}

/// (entry id, kind) of every hit, and the decision, on `today`.
fn screen(q: Query, today: NaiveDate) -> (Vec<(String, MatchKind)>, Decision) {
    let s = screener();
    let out = s.screen(&q, Some("government_procurement"), today).unwrap();
    let hits = out
        .hits
        .iter()
        .map(|h| {
            let id = s.snapshot.record(h.ordinal).unwrap().entry_id;
            (id.to_string(), h.kind)
        })
        .collect();
    (hits, out.verdict.decision)
}

fn check(q: Query, hits: &[(&str, MatchKind)], decision: Decision) {
    let what = format!("{:?} {:?}", q.code, q.name);
    let (got, got_decision) = screen(q, d(2026, 1, 15));
    let want: Vec<(String, MatchKind)> =
        hits.iter().map(|(id, k)| (id.to_string(), *k)).collect();
    assert_eq!((got, got_decision), (want, decision), "{what}");
}

#[test]
fn golden_snapshot_screens_with_known_answers() {
    use Decision::*;
    use MatchKind::*;
    check(code(U1), &[("G01", Code), ("G14", Code)], Block);
    check(code(P1), &[("G01", RelatedParty)], Block);
    check(code(P2), &[("G01", RelatedParty)], Block);
    check(code(P3), &[("G02", Code), ("G04", RelatedParty)], Block);
    check(code(U3), &[("G04", Code), ("G02", RelatedParty)], Block);
    check(code("91320505100000024U"), &[("G03", Code)], Review);
    check(code("913101151000000408"), &[], Clear); // exited
    check(code("914403051000000593"), &[], Clear); // valid until 2025-06-30
    check(code("913201061000001124"), &[], Clear); // revoked
    check(code("913301061000000677"), &[("G09", Code)], Warn);
    check(code("91110105100000091K"), &[("G13", Code)], Incentive);
    check(code("320106000012345"), &[("G01", Code)], Block); // secondary
    let name = Query {
        name: Some("南京恒瑞建设工程有限公司".into()),
        ..Default::default()
    };
    check(name, &[("G01", NameExact), ("G14", NameExact)], Review);
    let rep = Query {
        name: Some("某某科技有限公司".into()),
        legal_rep_code: Some(P3.into()),
        include_related: true,
        ..Default::default()
    };
    check(rep, &[("G02", RelatedParty)], Review);
    let s = screener();
    let out = s
        .screen(&code(U1), Some("government_procurement"), d(2026, 1, 15))
        .unwrap();
    assert!(out.verdict.conflict, "on the red and the black list");
}

/// Related-party hits carry their role and direction as types; the
/// decision reads them, not a display string.
#[test]
fn related_party_hits_carry_role_and_direction() {
    let s = screener();
    let today = d(2026, 1, 15);
    let hit = |c: &str, entry: &str| {
        let out = s.screen(&code(c), None, today).unwrap();
        out.hits
            .into_iter()
            .find(|h| s.snapshot.record(h.ordinal).unwrap().entry_id == entry)
            .unwrap()
    };
    // A person screened who is a listed organisation's principal.
    let h = hit(P2, "G01");
    assert_eq!(
        h.link,
        Some(Link {
            role: PartyRole::Principal,
            relation: Relation::SubjectIsParty
        })
    );
    assert_eq!(h.query_field, QueryField::Code);
    assert_eq!(
        h.entry_field,
        EntryField::RelatedPartyId(PartyRole::Principal)
    );
    assert_eq!((h.query_key.as_str(), h.entry_key.as_str()), (P2, P2));
    assert_eq!(h.identifier, Some(IdKind::ResidentId));
    // An organisation screened whose legal representative is listed: the
    // query key is the person's ID, the role is in the link.
    let h = hit(U3, "G02");
    assert_eq!(
        h.link,
        Some(Link {
            role: PartyRole::LegalRepresentative,
            relation: Relation::PartyIsListed
        })
    );
    assert_eq!(h.entry_field, EntryField::Code);
    assert_eq!((h.query_key.as_str(), h.entry_key.as_str()), (P3, P3));
    assert_eq!(h.identifier, Some(IdKind::ResidentId));
    // The organisation's own hit is no related-party hit.
    let h = hit(U3, "G04");
    assert_eq!((h.link, h.identifier), (None, Some(IdKind::Uscc)));
}

/// "Today" is China's date, taken per query: one screener, and the entry
/// valid until 2025-06-30 hits until 23:59:59 that day in Shanghai and
/// not from midnight on (16:00 UTC).
#[test]
fn an_entry_stops_hitting_at_midnight_china_time_without_a_swap() {
    let s = screener();
    let until = d(2025, 6, 30);
    let clock = TestClock::at_china(
        until,
        NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
    );
    let q = code("914403051000000593");
    let hits = |clock: &TestClock| {
        s.screen(&q, None, clock.today()).unwrap().hits.len()
    };
    assert_eq!(hits(&clock), 1, "23:59 on the last day");
    clock.set_china(until, NaiveTime::from_hms_opt(23, 59, 59).unwrap());
    assert_eq!(hits(&clock), 1, "23:59:59 on the last day");
    clock.set_china(d(2025, 7, 1), NaiveTime::MIN);
    assert_eq!(hits(&clock), 0, "00:00 the next day");
    // 16:00 UTC on the last day is already the next day in Shanghai.
    clock.set("2025-06-30T16:00:00Z".parse().unwrap());
    assert_eq!(hits(&clock), 0, "16:00 UTC");
    clock.set("2025-06-30T15:59:59Z".parse().unwrap());
    assert_eq!(hits(&clock), 1, "15:59:59 UTC");
}
