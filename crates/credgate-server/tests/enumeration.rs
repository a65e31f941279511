//! Recovering masked ID numbers by enumeration (issue 8, item 2), and the
//! rate limits that count work rather than requests.

mod common;

use common::{ADMIN, Harness, SCREEN, key};
use credgate_model::{EntryStatus, SubjectKind};
use credgate_server::config::{Config, EnumerationConfig, Role};
use serde_json::{Value, json};

const DAY_SECS: u64 = 86_400;

/// A listed, in-force person whose name finds them.
fn listed_person(h: &Harness) -> credgate_model::Entry {
    h.entries
        .iter()
        .find(|e| {
            e.subject_kind == SubjectKind::Person
                && e.status == EntryStatus::Active
                && e.valid_until
                    .is_none_or(|u| u > chrono::Local::now().date_naive())
        })
        .unwrap()
        .clone()
}

/// Every valid resident ID number consistent with the mask the service
/// used to show (first four and last four characters): the county's two
/// digits × every birth date from 1910 to 2009, filtered by the GB 11643
/// check character.
fn candidates_of_old_mask(id: &str) -> Vec<String> {
    let (prefix, seq, check) = (&id[..4], &id[14..17], &id[17..]);
    let mut out = Vec::new();
    for county in 0..100 {
        for year in 1910..2010 {
            for month in 1..=12 {
                let days =
                    credgate_ident::resident_id::days_in_month(year, month);
                for day in 1..=days {
                    let first17 = format!(
                        "{prefix}{county:02}{year}{month:02}{day:02}{seq}"
                    );
                    let c = credgate_ident::resident_id::check_char(&first17)
                        .unwrap();
                    if check.starts_with(c) {
                        out.push(first17 + check);
                    }
                }
            }
        }
    }
    out
}

/// Candidates per day a key gets past the detector, from its settings:
/// fewer than `max_queries_per_mask` other numbers with one shown mask
/// per window, and fewer than `max_person_id_misses` misses per window.
fn candidates_allowed_per_day(e: &EnumerationConfig) -> u64 {
    let windows = DAY_SECS.div_ceil(e.window_secs);
    let per_mask = u64::from(e.max_queries_per_mask - 1) * windows;
    let misses = u64::from(e.max_person_id_misses - 1) * windows;
    per_mask.min(misses)
}

#[tokio::test]
async fn enumerating_a_masked_id_is_stopped_far_below_a_day_of_attempts() {
    let mut h = Harness::start().await;
    let cfg = Config::default().enumeration;
    let p = listed_person(&h);

    // The attacker's key sees the person masked: the last four only.
    let (s, b) =
        h.post_json("/v1/screen", SCREEN, json!({"name": p.name})).await;
    assert_eq!(s, 200, "{b}");
    let shown = b["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["entry_id"] == p.entry_id.as_str())
        .unwrap_or_else(|| panic!("the person is found by name: {b}"))["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(shown, format!("{}{}", "*".repeat(14), &p.code[14..]));

    // The attack of the issue, with the mask shown before: ~330,000
    // candidates, one of them the number.
    let old = candidates_of_old_mask(&p.code);
    assert!(old.contains(&p.code));
    assert!((300_000..450_000).contains(&old.len()), "{}", old.len());
    // The mask now hides the region too: every six-digit division code
    // is a candidate, ten thousand times as many.
    let new_space = old.len() as u64 * 10_000;

    // Replay, 10 candidates per batch (the number itself held back: the
    // test measures how far the attacker gets when it is not among the
    // first tries).
    let mut requests = 0;
    let mut answered = 0;
    let mut refusal = None;
    for chunk in
        old.iter().filter(|c| **c != p.code).collect::<Vec<_>>().chunks(10)
    {
        let items: Vec<Value> =
            chunk.iter().map(|c| json!({"code": c})).collect();
        let (s, b) = h
            .post_json("/v1/screen/batch", SCREEN, json!({"items": items}))
            .await;
        requests += 1;
        if s != 200 {
            refusal = Some((s, b));
            break;
        }
        answered += chunk.len();
        assert!(requests < 100, "the detector never tripped");
    }
    let (s, b) = refusal.unwrap();
    assert_eq!((s, b["code"].as_str()), (429, Some("enumeration_suspected")));
    assert!(answered < cfg.max_queries_per_mask as usize, "{answered}");

    // The key is blocked, for anything, for block_secs.
    let r = h
        .client
        .post(h.url("/v1/screen"))
        .header("X-API-Key", SCREEN)
        .json(&json!({"name": "南京恒瑞科技有限公司"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 =
        r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait + 5 >= cfg.block_secs && wait <= cfg.block_secs, "{wait}");
    // Other keys are not.
    let (s, _) =
        h.post_json("/v1/screen", ADMIN, json!({"name": p.name})).await;
    assert_eq!(s, 200);
    // The suspicion is in the audit log.
    let audit = std::fs::read_to_string(&h.audit_log).unwrap();
    let line: Value =
        serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(line["event"], "enumeration_suspected");
    assert_eq!(line["key"], "portal");
    assert_eq!(line["endpoint"], "/v1/screen/batch");

    // The rate maths: what the limits allow in a day against what the
    // attack needs (half the candidates on average).
    let per_day = candidates_allowed_per_day(&cfg);
    let old_days = (old.len() as u64 / 2).div_ceil(per_day);
    let new_days = (new_space / 2).div_ceil(per_day);
    println!(
        "{per_day} candidates a day; {} (old mask) need {old_days} days, \
         {new_space} (new mask) {new_days} days",
        old.len()
    );
    assert!(old_days > 300, "{old_days} days");
    assert!(new_days > 1_000_000, "{new_days} days");
    h.stop().await;
}

#[tokio::test]
async fn blind_person_id_misses_past_the_budget_are_refused() {
    let mut h = Harness::start_with(
        |c| c.enumeration.max_person_id_misses = 30,
        axum::Router::new(),
    )
    .await;
    // Numbers on no list (the generator's divisions are real ones; 1999
    // births in a county the harness's data set does not use).
    let ids: Vec<String> = (0..60)
        .map(|i| {
            credgate_ident::generate::resident_id(
                110_105,
                (1999, 1, 1 + i % 28),
                i,
            )
            .unwrap()
        })
        .filter(|id| !h.entries.iter().any(|e| e.code == *id))
        .collect();
    let batch = |ids: &[String]| json!({"items": ids.iter().map(|c| json!({"code": c})).collect::<Vec<_>>()});
    let (s, b) =
        h.post_json("/v1/screen/batch", SCREEN, batch(&ids[..20])).await;
    assert_eq!(s, 200, "{b}");
    // The batch that reaches the budget is withheld.
    let (s, b) =
        h.post_json("/v1/screen/batch", SCREEN, batch(&ids[20..40])).await;
    assert_eq!((s, b["code"].as_str()), (429, Some("enumeration_suspected")));
    h.stop().await;
}

#[tokio::test]
async fn batch_items_and_bulk_rows_cost_tokens() {
    const TEN: &str = "cg_test_ten";
    const BULK: &str = "cg_test_bulk";
    let mut h = Harness::start_with(
        |c| {
            c.bulk_row_cost = 0.5;
            // 1 token a second, bursts of 10 and 60.
            let mut ten = key("ten", TEN, vec![Role::Screen], 1);
            ten.burst = 10;
            let mut bulk = key("bulk", BULK, vec![Role::Screen], 1);
            bulk.burst = 60;
            c.keys.extend([ten, bulk]);
        },
        axum::Router::new(),
    )
    .await;
    let items = |n: usize| json!({"items": (0..n).map(|_| json!({"name": "x公司"})).collect::<Vec<_>>()});
    // A batch larger than the key's burst can never pass.
    let (s, b) = h.post_json("/v1/screen/batch", TEN, items(11)).await;
    assert_eq!(
        (s, b["code"].as_str(), b["field"].as_str()),
        (400, Some("too_many_items"), Some("items")),
        "{b}"
    );
    assert!(b["message"].as_str().unwrap().contains("at most 10"), "{b}");
    // Eight items and the request: then two requests' worth is left.
    let (s, _) = h.post_json("/v1/screen/batch", TEN, items(8)).await;
    assert_eq!(s, 200);
    let (s, b) = h.post_json("/v1/screen/batch", TEN, items(8)).await;
    assert_eq!((s, b["code"].as_str()), (429, Some("rate_limited")));

    // 118 bulk rows at half a token and the request: the burst of 60 is
    // spent, so the next requests (within a second or two) are limited.
    let mut csv = String::from("name\n");
    for i in 0..118 {
        csv.push_str(&format!("某某{i}公司\n"));
    }
    let r = h
        .client
        .post(h.url("/v1/screen/bulk"))
        .header("X-API-Key", BULK)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let out = r.text().await.unwrap();
    assert_eq!(out.lines().count(), 119);
    let mut limited = 0;
    for _ in 0..3 {
        let (s, _) =
            h.post_json("/v1/screen", BULK, json!({"name": "x公司"})).await;
        limited += usize::from(s == 429);
    }
    assert!(limited >= 2, "{limited} of 3 limited after the bulk job");
    h.stop().await;
}
