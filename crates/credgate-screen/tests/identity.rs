//! The identifier decides identity (docs/identity.md): one `check` line
//! per rule, first on the rule itself (including entries the entries file
//! cannot hold today, such as one without a USCC), then end to end on a
//! snapshot built from a small hand-made list.

use chrono::NaiveDate;
use credgate_ident::{IdKind, generate, uscc::org_check_char, validate_as};
use credgate_model::{
    Category, Entry, EntryStatus, ListKind, Severity, SubjectKind,
};
use credgate_screen::identity::judge;
use credgate_screen::{Decision, IdentityCheck, MatchKind, Query, Screener};
use std::sync::OnceLock;

mod common;

use IdentityCheck::*;

/// A USCC of division `division` around organisation-code body `body`.
fn uscc_in(division: u32, body: &str) -> String {
    generate::uscc("91", division, body).unwrap()
}

fn uscc(seq: u64) -> String {
    uscc_in(320106, &generate::org_body_numeric(seq))
}

/// The organisation code of a body, written with a dash as on old
/// certificates.
fn org_code(body: &str) -> String {
    format!("{body}-{}", org_check_char(body).unwrap())
}

fn person_id(seq: u32) -> String {
    generate::resident_id(320102, (1980, 1, 1), seq).unwrap()
}

// ---------------------------------------------------------------------
// The rule, on what an entry carries.

/// `judge` for a query code against an entry's code and secondary ids.
fn check_rule(
    query_code: &str,
    entry_code: &str,
    secondary: &str,
    same_name: bool,
    organisation: bool,
    want: Option<IdentityCheck>,
) {
    let kind = if organisation { IdKind::Uscc } else { IdKind::ResidentId };
    let q = validate_as(query_code, kind).unwrap();
    let got = judge(&q, entry_code, secondary, same_name, organisation);
    assert_eq!(
        got, want,
        "query {query_code}, entry {entry_code:?} [{secondary}], \
         same name {same_name}"
    );
}

#[test]
fn the_rule_on_what_an_entry_carries() {
    let q = uscc(1);
    let other = uscc(2);
    // The same code: the same subject (found by code anyway).
    check_rule(&q, &q, "", false, true, None);
    check_rule(&q, &q, "", true, true, None);
    // Another valid USCC: another organisation.
    check_rule(&q, &other, "", false, true, Some(IdentifierDiffers));
    // ... and an old registration number beside it changes nothing.
    check_rule(
        &q,
        &other,
        "320106000000002",
        false,
        true,
        Some(IdentifierDiffers),
    );
    // Another USCC but the same organisation code in characters 9-17
    // (another division or registration authority): likely the same.
    check_rule(
        &q,
        &uscc_in(320102, "00000001"),
        "",
        false,
        true,
        Some(OrganisationCodeAgrees),
    );
    // Another USCC but an old organisation code equal to the query's.
    check_rule(
        &q,
        &other,
        &org_code("00000001"),
        false,
        true,
        Some(OrganisationCodeAgrees),
    );
    // Identical names after normalisation, another USCC: worth a look.
    check_rule(&q, &other, "", true, true, Some(SameNameOtherIdentifier));
    // No USCC and nothing else: open.
    check_rule(&q, "", "", false, true, Some(NoIdentifier));
    // No USCC, an old registration number only: a USCC replaced it
    // without embedding it, so nothing to compare.
    check_rule(
        &q,
        "",
        "320106000000001",
        false,
        true,
        Some(RegistrationNumberOnly),
    );
    // No USCC, an organisation code: compared with characters 9-17.
    check_rule(
        &q,
        "",
        &org_code("00000001"),
        false,
        true,
        Some(OrganisationCodeAgrees),
    );
    check_rule(
        &q,
        "",
        &format!("320106000000001;{}", org_code("00000002")),
        false,
        true,
        Some(OrganisationCodeDiffers),
    );
    // ... the same name keeps it open even then.
    check_rule(
        &q,
        "",
        &org_code("00000002"),
        true,
        true,
        Some(SameNameOtherIdentifier),
    );
    // An organisation code with a wrong check character proves nothing.
    check_rule(&q, "", "00000002-0", false, true, Some(NoIdentifier));
    // Persons: another resident ID is another person, even with the same
    // name (personal names are shared by thousands).
    let p = person_id(21);
    check_rule(&p, &p, "", true, false, None);
    check_rule(&p, &person_id(22), "", true, false, Some(IdentifierDiffers));
    check_rule(&p, &person_id(22), "", false, false, Some(IdentifierDiffers));
    check_rule(&p, "", "", true, false, Some(NoIdentifier));
    // A resident ID given for an organisation (an individual business
    // screened with its operator's ID): the entry's USCC is not of that
    // kind, so identity is open.
    let organisation = true;
    let got = judge(
        &validate_as(&p, IdKind::ResidentId).unwrap(),
        &q,
        "",
        false,
        organisation,
    );
    assert_eq!(got, Some(NoIdentifier));
}

// ---------------------------------------------------------------------
// End to end.

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn entry(id: &str, name: &str, code: String, secondary: &[&str]) -> Entry {
    let person = !code.starts_with("91");
    Entry {
        entry_id: id.into(),
        list: ListKind::Black,
        subject_kind: if person {
            SubjectKind::Person
        } else {
            SubjectKind::Organisation
        },
        name: name.into(),
        code,
        secondary_ids: secondary.iter().map(|s| s.to_string()).collect(),
        category: Category::parse("court_defaulter").unwrap().id(),
        reason: "r".into(),
        basis: "b".into(),
        authority: "南京市中级人民法院".into(),
        document_number: format!("doc-{id}"),
        listed_on: d(2025, 1, 1),
        valid_until: Some(d(2028, 1, 1)),
        severity: Some(Severity::Serious),
        status: EntryStatus::Active,
        removal_reason: None,
        removed_on: None,
        removal_authority: None,
        related: vec![],
    }
}

fn fixture() -> Vec<Entry> {
    vec![
        // 恒睿 and 恒瑞 are homophones: a typo of each other by name.
        entry("A1", "南京恒睿科技有限公司", uscc(101), &[]),
        entry("A2", "南京恒瑞科技有限公司", uscc(102), &["320106000000102"]),
        entry("A4", "常州金达实业有限公司", uscc(104), &[]),
        entry(
            "A5",
            "扬州鑫盛物流有限公司",
            uscc(105),
            &[&org_code("00000999")],
        ),
        entry("P1", "张伟", person_id(21), &[]),
    ]
}

fn screener() -> &'static Screener {
    static S: OnceLock<(tempfile::TempDir, Screener)> = OnceLock::new();
    &S.get_or_init(|| common::screener_of(fixture())).1
}

fn q(code: &str, name: &str) -> Query {
    Query {
        code: (!code.is_empty()).then(|| code.to_string()),
        name: (!name.is_empty()).then(|| name.to_string()),
        include_related: true,
        ..Default::default()
    }
}

/// Screens `query` and compares the hits (entry, kind, identity), the
/// similar entries (entry, reason) and the decision. Similar entries
/// never add measures to confirm.
fn check(
    query: Query,
    hits: &[(&str, MatchKind, Option<IdentityCheck>)],
    similar: &[(&str, IdentityCheck)],
    decision: Decision,
) {
    let s = screener();
    let out = s
        .screen(&query, Some("government_procurement"), d(2026, 1, 1))
        .unwrap();
    let id = |o: u32| s.snapshot.record(o).unwrap().entry_id.to_string();
    let got_hits: Vec<(String, MatchKind, Option<IdentityCheck>)> =
        out.hits.iter().map(|h| (id(h.ordinal), h.kind, h.identity)).collect();
    let want_hits: Vec<(String, MatchKind, Option<IdentityCheck>)> =
        hits.iter().map(|(e, k, i)| (e.to_string(), *k, *i)).collect();
    assert_eq!(got_hits, want_hits, "hits of {query:?}");
    let got_similar: Vec<(String, Option<IdentityCheck>)> =
        out.similar.iter().map(|h| (id(h.ordinal), h.identity)).collect();
    let want_similar: Vec<(String, Option<IdentityCheck>)> =
        similar.iter().map(|(e, r)| (e.to_string(), Some(*r))).collect();
    assert_eq!(got_similar, want_similar, "similar of {query:?}");
    assert_eq!(out.verdict.decision, decision, "{query:?}");
    let similar_ordinals: Vec<u32> =
        out.similar.iter().map(|h| h.ordinal).collect();
    assert!(
        out.verdict
            .if_confirmed
            .iter()
            .chain(&out.verdict.measures)
            .all(|m| !similar_ordinals.contains(&m.ordinal)),
        "a similar entry weighs on the decision: {query:?}"
    );
}

use MatchKind::*;

#[test]
fn the_identifier_decides_identity_end_to_end() {
    // The issue's example: a valid code no entry carries, and listed
    // companies with similar names and other codes. Name alone: review;
    // with the code: they are other companies, clear.
    let fresh = uscc(9_999);
    check(
        q("", "南京恒锐科技有限公司"),
        &[("A1", NameFuzzy, None), ("A2", NameFuzzy, None)],
        &[],
        Decision::Review,
    );
    // 恒丰 is no typo of 恒瑞 (neither sound nor shape): another name,
    // not even a name hit (the typo model, docs/names.md).
    check(q("", "南京恒丰科技有限公司"), &[], &[], Decision::Clear);
    check(
        q(&fresh, "南京恒锐科技有限公司"),
        &[],
        &[("A1", IdentifierDiffers), ("A2", IdentifierDiffers)],
        Decision::Clear,
    );
    // The entry's own code: an identifier hit decides; the similar name
    // with another code is reported apart.
    check(
        q(&uscc(102), "南京恒瑞科技有限公司"),
        &[("A2", Code, None)],
        &[("A1", IdentifierDiffers)],
        Decision::Block,
    );
    // The same name after normalisation (有限责任公司 = 有限公司) with
    // another valid code: a re-registration or a data error, review.
    check(
        q(&fresh, "南京恒瑞科技有限责任公司"),
        &[("A2", NameExact, Some(SameNameOtherIdentifier))],
        &[("A1", IdentifierDiffers)],
        Decision::Review,
    );
    // Another USCC embedding the same organisation code (characters
    // 9-17): likely the same organisation, review.
    check(
        q(&uscc_in(320102, "00000104"), "常州金大实业有限公司"),
        &[("A4", NameFuzzy, Some(OrganisationCodeAgrees))],
        &[],
        Decision::Review,
    );
    // The entry's old organisation code agrees with the query's USCC.
    check(
        q(&uscc_in(320106, "00000999"), "扬州鑫胜物流有限公司"),
        &[("A5", NameFuzzy, Some(OrganisationCodeAgrees))],
        &[],
        Decision::Review,
    );
    // Persons: another resident ID is another person, even by the same
    // name; the person's own ID decides; the name alone is review.
    check(
        q(&person_id(22), "张伟"),
        &[],
        &[("P1", IdentifierDiffers)],
        Decision::Clear,
    );
    check(
        q(&person_id(21), "张伟"),
        &[("P1", Code, None)],
        &[],
        Decision::Block,
    );
    check(q("", "张伟"), &[("P1", NameExact, None)], &[], Decision::Review);
    // An individual business screened with its operator's resident ID:
    // the listed organisations carry a USCC, nothing to compare, review.
    check(
        Query {
            subject_type: Some(SubjectKind::Organisation),
            ..q(&person_id(41), "南京恒锐科技有限公司")
        },
        &[
            ("A1", NameFuzzy, Some(NoIdentifier)),
            ("A2", NameFuzzy, Some(NoIdentifier)),
        ],
        &[],
        Decision::Review,
    );
}
