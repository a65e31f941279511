//! Every match kind and decision rule, on a snapshot built from a small,
//! hand-made list.

use chrono::NaiveDate;
use common::screener_of;
use credgate_ident::generate;
use credgate_model::{
    Category, Entry, EntryStatus, IdType, ListKind, PartyRole, RelatedParty,
    Severity, SubjectKind,
};
use credgate_screen::{Decision, MatchKind, Query, ScreenError, Screener};
use std::sync::OnceLock;

mod common;

fn uscc(seq: u64) -> String {
    generate::uscc("91", 320106, &generate::org_body_numeric(seq)).unwrap()
}

fn person_id(seq: u32) -> String {
    generate::resident_id(320102, (1980, 1, 1), seq).unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn entry(
    id: &str,
    list: ListKind,
    category: &str,
    name: &str,
    code: String,
) -> Entry {
    let kind = if code.len() == 18
        && code.chars().take(17).all(|c| c.is_ascii_digit())
        && !code.starts_with("91")
    {
        SubjectKind::Person
    } else {
        SubjectKind::Organisation
    };
    Entry {
        entry_id: id.into(),
        list,
        subject_kind: kind,
        name: name.into(),
        code,
        secondary_ids: vec![],
        category: Category::parse(category).unwrap().id(),
        reason: "r".into(),
        basis: "b".into(),
        authority: "南京市中级人民法院".into(),
        document_number: format!("doc-{id}"),
        listed_on: d(2025, 1, 1),
        valid_until: Some(d(2028, 1, 1)),
        severity: (list != ListKind::Red).then_some(Severity::Serious),
        status: EntryStatus::Active,
        removal_reason: None,
        removed_on: None,
        removal_authority: None,
        related: vec![],
    }
}

fn rep(role: PartyRole, name: &str, id: String) -> RelatedParty {
    RelatedParty {
        role,
        name: name.into(),
        id_type: IdType::ResidentId,
        id_number: Some(id),
    }
}

fn fixture() -> Vec<Entry> {
    use ListKind::*;
    let mut black_org = entry(
        "B1",
        Black,
        "court_defaulter",
        "南京恒瑞建设工程有限公司",
        uscc(1),
    );
    black_org.related.push(rep(
        PartyRole::LegalRepresentative,
        "李强",
        person_id(11),
    ));
    black_org.secondary_ids.push("320106000000001".into());
    let black_person =
        entry("P1", Black, "court_defaulter", "张伟", person_id(21));
    let mut focus_org = entry(
        "F1",
        Focus,
        "abnormal_operation",
        "苏州华润商贸有限公司",
        uscc(2),
    );
    focus_org.related.push(rep(
        PartyRole::LegalRepresentative,
        "张伟",
        person_id(21),
    ));
    let red = entry("R1", Red, "tax_a_grade", "无锡天宇科技有限公司", uscc(3));
    let conflict_red =
        entry("R2", Red, "tax_a_grade", "常州金达实业有限公司", uscc(4));
    let conflict_black = entry(
        "B2",
        Black,
        "major_tax_violation",
        "常州金达实业有限公司",
        uscc(4),
    );
    let mut disputed =
        entry("B3", Black, "court_defaulter", "扬州鑫盛物流有限公司", uscc(5));
    disputed.status = EntryStatus::Disputed;
    let mut exited =
        entry("B4", Black, "court_defaulter", "镇江宏远贸易有限公司", uscc(6));
    exited.status = EntryStatus::Exited;
    exited.removed_on = Some(d(2025, 6, 1));
    let mut expired =
        entry("B5", Black, "court_defaulter", "泰州永安化工有限公司", uscc(7));
    expired.valid_until = Some(d(2025, 3, 1));
    let branch = entry(
        "B6",
        Black,
        "market_serious_violation",
        "徐州博远科技有限公司南通分公司",
        uscc(8),
    );
    vec![
        black_org,
        black_person,
        focus_org,
        red,
        conflict_red,
        conflict_black,
        disputed,
        exited,
        expired,
        branch,
    ]
}

fn screener() -> &'static Screener {
    static S: OnceLock<(tempfile::TempDir, Screener)> = OnceLock::new();
    &S.get_or_init(|| screener_of(fixture())).1
}

/// The day the fixture is screened on.
fn today() -> NaiveDate {
    d(2026, 1, 1)
}

fn q(code: &str, name: &str) -> Query {
    Query {
        code: (!code.is_empty()).then(|| code.to_string()),
        name: (!name.is_empty()).then(|| name.to_string()),
        include_related: true,
        ..Default::default()
    }
}

/// (entry id, kind) of each hit, and the decision.
fn run(
    query: Query,
    scenario: Option<&str>,
) -> (Vec<(String, MatchKind)>, Decision, f32) {
    let s = screener();
    let out = s.screen(&query, scenario, today()).unwrap();
    let hits = out
        .hits
        .iter()
        .map(|h| {
            (
                s.snapshot.record(h.ordinal).unwrap().entry_id.to_string(),
                h.kind,
            )
        })
        .collect();
    let top = out.hits.first().map_or(0.0, |h| h.score);
    (hits, out.verdict.decision, top)
}

fn check(
    query: Query,
    scenario: Option<&str>,
    hits: &[(&str, MatchKind)],
    decision: Decision,
) {
    let (got, got_decision, _) = run(query.clone(), scenario);
    let want: Vec<(String, MatchKind)> =
        hits.iter().map(|(id, k)| (id.to_string(), *k)).collect();
    assert_eq!(got, want, "{query:?}");
    assert_eq!(got_decision, decision, "{query:?} {scenario:?}");
}

use MatchKind::*;

#[test]
fn identifier_hits_decide_by_the_catalogue() {
    let c = uscc(1);
    check(
        q(&c, ""),
        Some("government_procurement"),
        &[("B1", Code)],
        Decision::Block,
    );
    check(
        q(&c, ""),
        Some("administrative_licensing"),
        &[("B1", Code)],
        Decision::Restrict,
    );
    check(q(&c, ""), None, &[("B1", Code)], Decision::Block);
    // The code as a user types it.
    let messy = format!("{} {}", &c[..9], c[9..].to_lowercase());
    check(q(&messy, ""), Some("bidding"), &[("B1", Code)], Decision::Block);
    // An old registration number finds the entry that keeps it.
    check(
        q("320106000000001", ""),
        Some("bidding"),
        &[("B1", Code)],
        Decision::Block,
    );
    check(q("320106000000002", ""), Some("bidding"), &[], Decision::Clear);
}

#[test]
fn names_alone_never_block() {
    for name in [
        "南京恒瑞建设工程有限公司",
        "南京恒瑞建设工程有限责任公司",
        "南京恆瑞建設工程有限公司",
        "恒瑞建设工程（南京）有限公司",
        "南京 恒瑞 建设工程 有限公司",
    ] {
        check(
            q("", name),
            Some("government_procurement"),
            &[("B1", NameExact)],
            Decision::Review,
        );
    }
    for name in [
        "南京恒端建设工程有限公司",
        "恒瑞建设工程有限公司",
        "南京恒瑞建没工程有限公司",
    ] {
        check(
            q("", name),
            Some("government_procurement"),
            &[("B1", NameFuzzy)],
            Decision::Review,
        );
    }
}

/// A fuzzy hit kept names its edits; a hit found another way has none,
/// even when its name was also a fuzzy match (the code won).
#[test]
fn kept_fuzzy_hits_explain_their_edits() {
    let s = screener();
    let fuzzy = q("", "南京恒端建设工程有限公司");
    let out = s.screen(&fuzzy, None, today()).unwrap();
    let edits: Vec<(&str, &str)> = out.hits[0]
        .edits
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str()))
        .collect();
    assert_eq!(edits, [("瑞", "端")]);
    let by_code = q(&uscc(1), "南京恒端建设工程有限公司");
    let out = s.screen(&by_code, None, today()).unwrap();
    assert_eq!(out.hits[0].kind, Code);
    assert!(out.hits[0].edits.is_empty(), "{:?}", out.hits[0]);
}

#[test]
fn decoys_score_below_the_threshold() {
    for name in [
        "苏州恒瑞建设工程有限公司",
        "南京恒瑞贸易有限公司",
        "南京华光建设工程有限公司",
        "徐州博远科技有限公司无锡分公司",
    ] {
        check(q("", name), None, &[], Decision::Clear);
    }
    // The parent of a listed branch: found, weaker than a variant.
    let (hits, decision, top) = run(q("", "徐州博远科技有限公司"), None);
    assert_eq!(hits, [("B6".to_string(), NameFuzzy)]);
    assert_eq!(decision, Decision::Review);
    assert!(top < 0.7, "{top}");
}

#[test]
fn scores_order_code_over_exact_over_fuzzy() {
    let (_, _, code) = run(q(&uscc(1), ""), None);
    let (_, _, exact) = run(q("", "南京恒瑞建设工程有限公司"), None);
    let (_, _, fuzzy) = run(q("", "南京恒端建设工程有限公司"), None);
    assert!(
        code > exact && exact > fuzzy && fuzzy > 0.5,
        "{code} {exact} {fuzzy}"
    );
}

#[test]
fn related_parties_both_ways() {
    // The legal representative of a court defaulter: the measures that
    // extend to related parties apply to them.
    let rep = person_id(11);
    check(
        q(&rep, ""),
        Some("high_consumption"),
        &[("B1", RelatedParty)],
        Decision::Block,
    );
    check(
        q(&rep, ""),
        Some("government_procurement"),
        &[("B1", RelatedParty)],
        Decision::Warn,
    );
    // An organisation whose legal representative is listed: review.
    check(
        q(&uscc(2), ""),
        Some("bidding"),
        &[("F1", Code), ("P1", RelatedParty)],
        Decision::Review,
    );
    let mut with_rep = q("", "南京新公司有限公司");
    with_rep.legal_rep_code = Some(person_id(21));
    check(
        with_rep.clone(),
        Some("bidding"),
        &[("P1", RelatedParty)],
        Decision::Review,
    );
    with_rep.include_related = false;
    check(with_rep, Some("bidding"), &[], Decision::Clear);
}

#[test]
fn person_names_match_exactly_only() {
    check(q("", "张伟"), None, &[("P1", NameExact)], Decision::Review);
    check(q("", "张玮"), None, &[], Decision::Clear);
    // A listed person who also represents a focus-listed company.
    check(
        q(&person_id(21), ""),
        Some("high_consumption"),
        &[("P1", Code), ("F1", RelatedParty)],
        Decision::Block,
    );
}

#[test]
fn focus_red_conflict_disputed_exited() {
    check(
        q(&uscc(2), ""),
        Some("administrative_licensing"),
        &[("F1", Code), ("P1", RelatedParty)],
        Decision::Review,
    );
    let mut only_focus = q(&uscc(2), "");
    only_focus.include_related = false;
    check(
        only_focus,
        Some("administrative_licensing"),
        &[("F1", Code)],
        Decision::Warn,
    );
    check(
        q(&uscc(3), ""),
        Some("administrative_licensing"),
        &[("R1", Code)],
        Decision::Incentive,
    );
    let s = screener();
    let out = s
        .screen(&q(&uscc(4), ""), Some("government_procurement"), today())
        .unwrap();
    assert_eq!(out.verdict.decision, Decision::Block);
    assert!(out.verdict.conflict);
    assert!(
        out.verdict
            .measures
            .iter()
            .all(|m| m.measure.effect != credgate_screen::Effect::Incentive)
    );
    check(
        q(&uscc(5), ""),
        Some("government_procurement"),
        &[("B3", Code)],
        Decision::Review,
    );
    check(
        q(&uscc(6), ""),
        Some("government_procurement"),
        &[],
        Decision::Clear,
    );
    check(
        q(&uscc(7), ""),
        Some("government_procurement"),
        &[],
        Decision::Clear,
    );
    let mut history = q(&uscc(6), "");
    history.include_exited = true;
    check(history, None, &[("B4", Code)], Decision::Block);
}

#[test]
fn list_filters() {
    let mut red_only = q(&uscc(4), "");
    red_only.lists = vec![ListKind::Red];
    check(
        red_only,
        Some("administrative_licensing"),
        &[("R2", Code)],
        Decision::Incentive,
    );
    let mut cat = q(&uscc(4), "");
    cat.categories =
        vec![Category::parse("major_tax_violation").unwrap().id()];
    check(cat, None, &[("B2", Code)], Decision::Block);
}

#[test]
fn bad_queries_are_errors() {
    let s = screener();
    let e = s.screen(&q("91110000600037341N", ""), None, today()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "code: check_digit: check character is 'N', expected 'L'"
    );
    assert!(matches!(
        s.screen(&q("", ""), None, today()).unwrap_err(),
        ScreenError::Query(_)
    ));
    let e = s.screen(&q(&uscc(1), ""), Some("lottery"), today()).unwrap_err();
    assert!(e.to_string().starts_with("scenario: 'lottery' is not known; known scenarios: government_procurement (政府采购), bidding (招标投标)"), "{e}");
    let long = "恒".repeat(300);
    assert!(s.screen(&q("", &long), None, today()).is_err());
}

/// Two names of `kind` made by `make` that the name index of a snapshot
/// of at most 32 entries cannot tell apart (their hashes' top 20 bits).
fn colliding_names(
    kind: SubjectKind,
    make: impl Fn(usize) -> String,
) -> (String, String) {
    credgate_index::keys::names_sharing_hash_bits(kind, 20, 20_000, make)
        .expect("a collision among 20,000 names")
}

/// The name index is a hash index: an entry whose base key only shares
/// the query key's hash is a candidate too. With one candidate allowed
/// and the foreign entry on the black list (read first), the exact entry
/// must still be the one read: a collision costs a read, never the hit.
#[test]
fn a_name_hash_collision_does_not_take_the_place_of_the_exact_entry() {
    const CHARS: &str =
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红";
    let chars: Vec<char> = CHARS.chars().collect();
    let n = chars.len();
    let three = |i: usize| -> String {
        [i, i / n, i / n / n].iter().map(|j| chars[j % n]).collect()
    };
    let (p1, p2) =
        colliding_names(SubjectKind::Person, |i| format!("张{}", three(i)));
    let (o1, o2) = colliding_names(SubjectKind::Organisation, |i| {
        format!("南京{}科技有限公司", three(i))
    });
    let entries = vec![
        entry("PA", ListKind::Focus, "commitment_breach", &p1, person_id(31)),
        entry("PB", ListKind::Black, "court_defaulter", &p2, person_id(32)),
        entry("OA", ListKind::Focus, "abnormal_operation", &o1, uscc(31)),
        entry("OB", ListKind::Black, "court_defaulter", &o2, uscc(32)),
    ];
    let (_dir, mut s) = screener_of(entries);
    let snap = s.snapshot.clone();
    s.options.max_candidates = 1;
    for (kind, name, want) in [
        (SubjectKind::Person, &p1, "PA"),
        (SubjectKind::Organisation, &o1, "OA"),
    ] {
        let base = credgate_index::keys::name_keys(name, kind).base;
        assert_eq!(snap.name_base_candidates(&base).len(), 2, "{name}");
        let query = Query {
            name: Some(name.clone()),
            subject_type: Some(kind),
            ..Default::default()
        };
        let got: Vec<(String, MatchKind)> = s
            .screen(&query, None, today())
            .unwrap()
            .hits
            .iter()
            .map(|h| {
                let r = snap.record(h.ordinal).unwrap();
                (r.entry_id.to_string(), h.kind)
            })
            .collect();
        assert_eq!(got, [(want.to_string(), NameExact)], "{name}");
    }
}

/// A common person name's candidates are read in ordinal order and
/// reading stops once the hits `find` keeps are found: for every cap,
/// cut and query, the hits and similar hits must be exactly those of a
/// full read cut the same way.
#[test]
fn a_common_person_name_keeps_the_hits_a_full_read_keeps() {
    use ListKind::*;
    let lists = [Black, Focus, Red];
    let categories =
        ["court_defaulter", "commitment_breach", "integrity_model"];
    let mut entries = Vec::new();
    for i in 0..300u32 {
        let l = (i * 7 % 3) as usize;
        let mut e = entry(
            &format!("Z{i}"),
            lists[l],
            categories[l],
            "张伟",
            person_id(200 + i),
        );
        if i % 5 == 2 {
            e.status = EntryStatus::Exited;
            e.removed_on = Some(d(2025, 6, 1));
        }
        if i % 11 == 4 {
            // Two entries of one person.
            e.code = person_id(200 + i - 1);
        }
        entries.push(e);
    }
    entries.push(entry(
        "O1",
        Black,
        "court_defaulter",
        "南京恒瑞科技有限公司",
        uscc(9),
    ));
    let (_dir, mut s) = screener_of(entries);
    let ids =
        |hits: &[credgate_screen::Hit]| -> Vec<(u32, MatchKind, String)> {
            hits.iter()
                .map(|h| {
                    (
                        h.ordinal,
                        h.kind,
                        format!("{:.3} {:?}", h.score, h.identity),
                    )
                })
                .collect()
        };
    let queries = [
        q("", "张伟"),
        q(&person_id(203), "张伟"),
        q(&person_id(999), "张伟"),
        Query { include_exited: true, ..q("", "张伟") },
        // A listed organisation's code with a person's name: the code
        // hit first, then the name's hits, none another subject.
        Query {
            subject_type: Some(SubjectKind::Person),
            ..q(&uscc(9), "张伟")
        },
    ];
    let mut cut_mattered = 0;
    // 240 of the 300 are in force, 100 of them on the black list: caps of
    // 16 and 64 hold black entries only, 128 and 200 black then focus
    // (the window out of ordinal order), 256 and 400 every one.
    for cap in [1, 16, 64, 128, 200, 256, 400] {
        for max_hits in [1, 5, 20] {
            for query in &queries {
                s.options.max_candidates = cap;
                s.options.max_hits = 100_000;
                let full = s.screen(query, None, today()).unwrap();
                s.options.max_hits = max_hits;
                let cut = s.screen(query, None, today()).unwrap();
                let want_hits = &full.hits[..full.hits.len().min(max_hits)];
                let want_similar =
                    &full.similar[..full.similar.len().min(max_hits)];
                let at = format!("cap {cap}, max_hits {max_hits}, {query:?}");
                assert_eq!(ids(&cut.hits), ids(want_hits), "{at}");
                assert_eq!(ids(&cut.similar), ids(want_similar), "{at}");
                if full.hits.len().max(full.similar.len()) > max_hits {
                    cut_mattered += 1;
                }
                if cap <= 64 {
                    // More entries than the cap: the black list's first.
                    for h in full.hits.iter().chain(&full.similar) {
                        let r = s.snapshot.record(h.ordinal).unwrap();
                        if h.kind == MatchKind::NameExact {
                            assert_eq!(r.list, ListKind::Black, "{at}");
                        }
                    }
                }
            }
        }
    }
    assert!(cut_mattered > 50, "{cut_mattered}");
}
