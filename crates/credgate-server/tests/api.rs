//! Every endpoint and error of the screening API, over real HTTP.

mod common;

use common::{ADMIN, Harness, PII, SCREEN, SLOW};
use credgate_model::{EntryStatus, ListKind, SubjectKind};
use serde_json::{Value, json};

/// An in-force black-list organisation of the harness's entries.
fn black_org(h: &Harness) -> credgate_model::Entry {
    h.entries
        .iter()
        .find(|e| {
            e.subject_kind == SubjectKind::Organisation
                && e.list == ListKind::Black
                && in_force(e, h)
        })
        .unwrap()
        .clone()
}

/// In force on the harness clock's date.
fn in_force(e: &credgate_model::Entry, h: &Harness) -> bool {
    use credgate_screen::Clock;
    e.status == EntryStatus::Active
        && e.valid_until.is_none_or(|u| u >= h.clock.today())
}

#[tokio::test]
async fn screens_by_code_and_explains_the_hit() {
    let mut h = Harness::start().await;
    let e = black_org(&h);
    let (status, body) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"code": e.code, "scenario": "government_procurement"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hit = &body["hits"][0];
    assert_eq!(hit["entry_id"], e.entry_id.as_str());
    assert_eq!(hit["kind"], "code");
    assert_eq!(hit["score"], 1.0);
    assert_eq!(hit["list"], "black");
    assert_eq!(hit["authority"], e.authority.as_str());
    assert_eq!(hit["document_number"], e.document_number.as_str());
    assert_eq!(hit["listed_on"], e.listed_on.to_string());
    assert_eq!(body["scenario"], "government_procurement");
    assert_eq!(body["snapshot"]["version"], "first.snapshot");
    assert_eq!(body["snapshot"]["entries"], 3_000 - revoked(&h));
    assert!(body["took_us"].is_u64());
    // A black identifier hit decides block, restrict or warn, never
    // review/clear, and block/restrict come with their measures.
    let d = body["decision"].as_str().unwrap();
    assert!(["block", "restrict", "warn"].contains(&d), "{d}");
    if d != "warn" {
        assert!(!body["measures"].as_array().unwrap().is_empty());
    }
    h.stop().await;
}

fn revoked(h: &Harness) -> u64 {
    h.entries.iter().filter(|e| e.status == EntryStatus::Revoked).count()
        as u64
}

#[tokio::test]
async fn name_only_hits_are_review_and_disputed_entries_show_as_disputed() {
    let mut h = Harness::start().await;
    let e = black_org(&h);
    let (status, body) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"name": e.name, "scenario": "government_procurement"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["decision"], "review", "{body}");
    assert_eq!(body["decision_zh"], "人工核查", "{body}");
    // Nothing applies yet, but the clerk sees what is at stake.
    assert_eq!(body["measures"], json!([]), "{body}");
    let stake = body["measures_if_confirmed"].as_array().unwrap();
    assert!(!stake.is_empty(), "{body}");
    assert!(stake.iter().all(|m| !m["basis"].as_str().unwrap().is_empty()));
    let hit = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["entry_id"] == e.entry_id.as_str() && x["kind"] == "name_exact"
        })
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(hit["list_zh"], "黑名单");
    assert_eq!(hit["reason"], e.reason.as_str());
    assert_eq!(hit["basis"], e.basis.as_str());
    assert_eq!(stake[0]["entry_id"], e.entry_id.as_str());
    // An identifier hit applies measures: nothing left to confirm.
    let (_, body) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"code": e.code, "scenario": "government_procurement"}),
        )
        .await;
    assert_eq!(body["measures_if_confirmed"], json!([]), "{body}");
    assert_ne!(body["decision_zh"], "未发现");
    if let Some(d) =
        h.entries.iter().find(|e| e.status == EntryStatus::Disputed)
    {
        let (_, body) =
            h.post_json("/v1/screen", SCREEN, json!({"code": d.code})).await;
        let hit = body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["entry_id"] == d.entry_id.as_str())
            .expect("disputed entries stay screenable");
        assert_eq!(hit["status"], "disputed");
        assert_eq!(hit["disputed"], true);
    }
    h.stop().await;
}

/// Issue 9, item 1: a name near a listed company's, sent with a valid
/// code that no entry carries, is another company — not `review`; the
/// listed company comes in `similar`, explained.
#[tokio::test]
async fn a_valid_code_no_entry_carries_makes_similar_names_other_subjects() {
    let mut h = Harness::start().await;
    let e = black_org(&h);
    // One character of the name changed, as the issue's 恒瑞 for 恒丰:
    // the first variant that the name alone sends to review on `e`.
    let chars: Vec<char> = e.name.chars().collect();
    let mut variant = None;
    for i in 2..chars.len().saturating_sub(4) {
        let mut c = chars.clone();
        c[i] = if c[i] == '丰' { '瑞' } else { '丰' };
        let typed = c[i].to_string();
        let name: String = c.into_iter().collect();
        let (_, body) =
            h.post_json("/v1/screen", SCREEN, json!({"name": name})).await;
        let on_e = body["hits"].as_array().unwrap().iter().any(|x| {
            x["entry_id"] == e.entry_id.as_str() && x["kind"] == "name_fuzzy"
        });
        if body["decision"] == "review" && on_e {
            // The fuzzy hit names its edit (the typo model).
            let hit = body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["entry_id"] == e.entry_id.as_str())
                .unwrap();
            let edit = &hit["edits"][0];
            assert_eq!(edit["to"], typed.as_str(), "{hit}");
            assert!(
                edit["explanation"].as_str().unwrap().contains(&typed)
                    && edit["explanation_zh"].as_str().is_some(),
                "{hit}"
            );
            variant = Some(name);
            break;
        }
    }
    let name = variant.unwrap_or_else(|| panic!("no variant of {}", e.name));
    let code = (0..)
        .map(|n| {
            credgate_ident::generate::uscc(
                "91",
                320105,
                &credgate_ident::generate::org_body_ma(n),
            )
            .unwrap()
        })
        .find(|c| h.entries.iter().all(|e| &e.code != c))
        .unwrap();
    let (status, body) = h
        .post_json("/v1/screen", SCREEN, json!({"name": name, "code": code}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "clear", "{body}");
    assert_eq!(body["hits"], json!([]), "{body}");
    assert_eq!(body["measures_if_confirmed"], json!([]), "{body}");
    let similar = body["similar"].as_array().unwrap();
    let s = similar
        .iter()
        .find(|x| x["entry_id"] == e.entry_id.as_str())
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(s["identity"]["reason"], "identifier_differs", "{s}");
    assert!(s["identity"]["explanation"].as_str().unwrap().contains("USCC"));
    assert_eq!(s["code"], e.code.as_str());
    h.stop().await;
}

#[tokio::test]
async fn personal_ids_are_masked_unless_entitled_and_every_disclosure_is_audited()
 {
    let mut h = Harness::start().await;
    let p = h
        .entries
        .iter()
        .find(|e| e.subject_kind == SubjectKind::Person && in_force(e, &h))
        .unwrap()
        .clone();
    // No more than the last four characters: the region and birth date
    // are hidden, so the candidates cannot be enumerated.
    let masked = format!("{}{}", "*".repeat(14), &p.code[14..]);
    let (_, body) =
        h.post_json("/v1/screen", SCREEN, json!({"code": p.code})).await;
    let text = body.to_string();
    assert!(!text.contains(&p.code), "unmasked ID for a screen key: {text}");
    assert!(text.contains(&masked), "{text}");
    let audit = std::fs::read_to_string(&h.audit_log).unwrap_or_default();
    assert!(audit.is_empty(), "masked answers are not disclosures: {audit}");

    let (_, body) =
        h.post_json("/v1/screen", PII, json!({"code": p.code})).await;
    assert!(body.to_string().contains(&p.code));
    let audit = std::fs::read_to_string(&h.audit_log).unwrap();
    let line: Value =
        serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(line["key"], "investigators");
    assert_eq!(line["endpoint"], "/v1/screen");
    assert!(line["at"].is_string());
    // Each line is chained to the one before (`audit verify --pii-log`).
    assert_eq!(line["seq"], 1);
    assert_eq!(line["prev"], credgate_server::pii_log::GENESIS);
    assert!(
        credgate_server::pii_log::verify(&h.audit_log).unwrap().is_ok(),
        "{audit}"
    );
    assert!(
        line["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id_number"] == p.code.as_str()
                && s["entry_id"] == p.entry_id.as_str())
    );
    h.stop().await;
}

#[tokio::test]
async fn bad_requests_get_one_json_error_shape() {
    let mut h = Harness::start_with(
        |c| c.body_limit_bytes = 4096,
        axum::Router::new(),
    )
    .await;
    // Invalid identifier: the rule and the expected check character.
    let (s, b) = h
        .post_json("/v1/screen", SCREEN, json!({"code": "91350100M000100Y44"}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(b["code"], "invalid_identifier");
    assert_eq!(b["field"], "code");
    assert!(b["message"].as_str().unwrap().contains("'3'"), "{b}");

    let (s, b) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"name": "x", "scenario": "picnic"}),
        )
        .await;
    assert_eq!((s, b["code"].as_str()), (400, Some("unknown_scenario")));
    assert!(
        b["message"].as_str().unwrap().contains("government_procurement"),
        "{b}"
    );

    let (s, b) = h.post_json("/v1/screen", SCREEN, json!({})).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("invalid_request")));

    let (s, b) = h.post_json("/v1/screen", SCREEN, json!({"name": 5})).await;
    assert_eq!(
        (s, b["code"].as_str(), b["field"].as_str()),
        (400, Some("invalid_request"), Some("name"))
    );

    let (s, b) = h.post_json("/v1/screen", SCREEN, json!({"nmae": "x"})).await;
    assert_eq!(s, 400);
    assert!(b["message"].as_str().unwrap().contains("nmae"), "{b}");

    let (s, b) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"name": "x", "lists": ["grey"]}),
        )
        .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("lists[0]")));

    let raw = |body: &'static str, ct: &'static str| {
        h.client
            .post(h.url("/v1/screen"))
            .header("X-API-Key", SCREEN)
            .header("Content-Type", ct)
            .body(body)
    };
    let r = raw("{\"name\": ", "application/json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "malformed_json");

    let r = raw("name=x", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "unsupported_media_type"
    );

    let big = json!({"name": "恒".repeat(5000)});
    let (s, b) = h.post_json("/v1/screen", SCREEN, big).await;
    assert_eq!((s, b["code"].as_str()), (413, Some("payload_too_large")));

    let r = h.get("/v1/nothing", Some(SCREEN)).await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "not_found");
    let r = h.get("/v1/screen", Some(SCREEN)).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "method_not_allowed");
    h.stop().await;
}

#[tokio::test]
async fn keys_roles_and_rate_limits() {
    let mut h = Harness::start().await;
    let r = h
        .client
        .post(h.url("/v1/screen"))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthorized");
    let (s, b) =
        h.post_json("/v1/screen", "cg_wrong", json!({"name": "x"})).await;
    assert_eq!((s, b["code"].as_str()), (401, Some("unauthorized")));
    // Bearer works too.
    let r = h
        .client
        .post(h.url("/v1/screen"))
        .bearer_auth(SCREEN)
        .json(&json!({"name": "南京恒瑞科技有限公司"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let (s, b) =
        h.post_json("/admin/v1/snapshots/reload", SCREEN, json!({})).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));

    let mut limited = None;
    for _ in 0..10 {
        let r = h
            .client
            .post(h.url("/v1/screen"))
            .header("X-API-Key", SLOW)
            .json(&json!({"name": "x公司"}))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a 2/s key is limited within 10 quick requests");
    let wait: u64 =
        r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait >= 1);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
    // Another key is not affected.
    let (s, _) =
        h.post_json("/v1/screen", SCREEN, json!({"name": "x公司"})).await;
    assert_eq!(s, 200);
    h.stop().await;
}

#[tokio::test]
async fn batch_answers_in_order_with_per_item_errors() {
    let mut h =
        Harness::start_with(|c| c.batch_max_items = 50, axum::Router::new())
            .await;
    let codes: Vec<&str> =
        h.entries.iter().take(20).map(|e| e.code.as_str()).collect();
    let mut items: Vec<Value> =
        codes.iter().map(|c| json!({"code": c})).collect();
    items.insert(5, json!({"code": "not-a-code"}));
    let (s, b) =
        h.post_json("/v1/screen/batch", SCREEN, json!({"items": items})).await;
    assert_eq!(s, 200, "{b}");
    let results = b["results"].as_array().unwrap();
    assert_eq!(results.len(), 21);
    assert_eq!(results[5]["error"]["code"], "invalid_identifier");
    assert!(results[5].get("result").is_none());
    let mut i = 0;
    for (n, r) in results.iter().enumerate() {
        if n == 5 {
            continue;
        }
        let e = &h.entries[i];
        i += 1;
        if e.status == EntryStatus::Revoked || !in_force(e, &h) {
            continue;
        }
        let hit = &r["result"]["hits"][0];
        assert_eq!(hit["entry_id"], e.entry_id.as_str(), "item {n}");
    }
    let too_many: Vec<Value> = (0..51).map(|_| json!({"name": "x"})).collect();
    let (s, b) = h
        .post_json("/v1/screen/batch", SCREEN, json!({"items": too_many}))
        .await;
    assert_eq!(
        (s, b["code"].as_str(), b["field"].as_str()),
        (400, Some("too_many_items"), Some("items"))
    );
    h.stop().await;
}

#[tokio::test]
async fn operations_endpoints() {
    let mut h = Harness::start().await;
    let r = h.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
    let r = h.get("/readyz", None).await;
    assert_eq!(r.status(), 200);
    let ready: Value = r.json().await.unwrap();
    assert_eq!(ready["version"], "first.snapshot");
    assert_eq!(ready["demo"], false);
    // The harness's clock is noon 2026-11-01 in China; the snapshot was
    // built at midnight UTC that day.
    assert_eq!(ready["age_seconds"], 4 * 3600);
    let r = h.get("/v1/snapshot", Some(SCREEN)).await;
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["version"], "first.snapshot");
    assert_eq!(b["swaps_done"], 1);
    assert!(b["age_seconds"].as_i64().unwrap() >= 0);
    // Metrics are asserted in tests/metrics.rs, a process of its own.
    let doc: Value = h.get("/openapi.json", None).await.json().await.unwrap();
    for p in [
        "/v1/screen",
        "/v1/screen/batch",
        "/v1/screen/bulk",
        "/v1/snapshot",
        "/admin/v1/snapshots/activate",
    ] {
        assert!(doc["paths"][p].is_object(), "openapi lacks {p}");
    }
    assert!(doc["components"]["schemas"]["ScreenResponse"].is_object());
    h.stop().await;
}

#[tokio::test]
async fn a_panicking_handler_answers_500_json_and_the_server_lives_on() {
    let extra = axum::Router::new().route(
        "/test/panic",
        axum::routing::get(|| async {
            if std::hint::black_box(true) {
                panic!("deliberate test panic");
            }
            "unreachable"
        }),
    );
    let mut h = Harness::start_with(|_| {}, extra).await;
    let r = h.get("/test/panic", None).await;
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "internal");
    assert_eq!(h.get("/healthz", None).await.status(), 200);
    h.stop().await;
}

#[tokio::test]
async fn a_slow_request_is_cut_off_with_a_json_timeout() {
    let extra = axum::Router::new().route(
        "/test/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            "late"
        }),
    );
    let mut h =
        Harness::start_with(|c| c.request_timeout_secs = 1, extra).await;
    let started = std::time::Instant::now();
    let r = h.get("/test/slow", None).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "timeout");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    h.stop().await;
}

#[tokio::test]
async fn screen_keys_see_no_key_names_and_no_refusal_details() {
    let mut h = Harness::start().await;
    // 403 does not name the key (its name is the operator's business).
    let (s, b) =
        h.post_json("/admin/v1/snapshots/reload", SCREEN, json!({})).await;
    assert_eq!((s, b["code"].as_str()), (403, Some("forbidden")));
    assert!(!b["message"].as_str().unwrap().contains("portal"), "{b}");

    // A refused snapshot: its reason (paths, file details) is for admins.
    let mut bytes =
        std::fs::read(h.accepted_dir.join("first.snapshot")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xFF;
    std::fs::write(h.snapshot_dir.join("zz-bad.snapshot"), &bytes).unwrap();
    let (s, _) =
        h.post_json("/admin/v1/snapshots/reload", ADMIN, json!({})).await;
    assert_eq!(s, 422);
    let admin: Value =
        h.get("/v1/snapshot", Some(ADMIN)).await.json().await.unwrap();
    let detail = admin["last_refusal"]["error"].as_str().unwrap();
    assert!(!detail.contains("admin keys"), "{admin}");
    let screen: Value =
        h.get("/v1/snapshot", Some(SCREEN)).await.json().await.unwrap();
    assert_eq!(screen["last_refusal"]["version"], "zz-bad.snapshot");
    let shown = screen["last_refusal"]["error"].as_str().unwrap();
    assert_ne!(shown, detail, "a screen key sees the refusal's details");
    let dir = h.dir.path().to_str().unwrap();
    assert!(!screen.to_string().contains(dir), "{screen}");
    h.stop().await;
}

/// "Today" is China's date per request from the server's clock, not the
/// date the snapshot went live: an entry valid until D hits at 23:59 on D
/// (Shanghai) and no longer at 00:00 on D+1, with no swap in between.
#[tokio::test]
async fn an_entry_stops_hitting_at_midnight_china_time() {
    use chrono::NaiveTime;
    let mut h = Harness::start().await;
    let e = h
        .entries
        .iter()
        .filter(|e| in_force(e, &h) && e.list == ListKind::Black)
        .filter(|e| e.valid_until.is_some())
        .min_by_key(|e| e.valid_until)
        .unwrap()
        .clone();
    let until = e.valid_until.unwrap();
    let hits_e = |body: &Value| {
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|hit| hit["entry_id"] == e.entry_id.as_str())
    };
    let body = json!({"code": e.code});
    h.clock.set_china(until, NaiveTime::from_hms_opt(23, 59, 0).unwrap());
    let (status, b) = h.post_json("/v1/screen", SCREEN, body.clone()).await;
    assert_eq!(status, 200, "{b}");
    assert!(hits_e(&b), "23:59 on {until}: {b}");
    h.clock.set_china(until.succ_opt().unwrap(), NaiveTime::MIN);
    let (_, b) = h.post_json("/v1/screen", SCREEN, body.clone()).await;
    assert!(!hits_e(&b), "00:00 the day after {until}: {b}");
    let (_, b) = h
        .post_json("/v1/screen/batch", SCREEN, json!({"items": [body]}))
        .await;
    assert!(!hits_e(&b["results"][0]["result"]), "batch: {b}");
    h.stop().await;
}

/// An organisation whose listed legal representative its record names:
/// the related person's ID is masked in both keys for a `screen` key,
/// and the role comes from the hit, not from parsing `role:id`.
#[tokio::test]
async fn related_persons_ids_are_masked_by_the_hits_type() {
    let mut h = Harness::start().await;
    let listed: std::collections::HashSet<&str> = h
        .entries
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Person && in_force(e, &h))
        .map(|e| e.code.as_str())
        .collect();
    let (org, person) = h
        .entries
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Organisation)
        .find_map(|e| {
            let p = e.related.iter().find(|p| {
                p.id_number.as_deref().is_some_and(|i| listed.contains(i))
            })?;
            Some((e.clone(), p.clone()))
        })
        .expect("the generator lists some legal representatives");
    let id = person.id_number.clone().unwrap();
    let (status, b) =
        h.post_json("/v1/screen", SCREEN, json!({"code": org.code})).await;
    assert_eq!(status, 200, "{b}");
    assert!(!b.to_string().contains(&id), "unmasked: {b}");
    let hit = b["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hit| {
            hit["kind"] == "related_party" && hit["subject_type"] == "person"
        })
        .unwrap_or_else(|| panic!("no related person hit: {b}"));
    let masked = credgate_server::view::mask_id(&id, 4);
    assert_eq!(
        hit["query_key"],
        format!("{}:{masked}", person.role.code()).as_str()
    );
    assert_eq!(hit["entry_key"], masked.as_str());
    assert_eq!(hit["role"], person.role.code());
    assert_eq!(hit["entry_field"], "code");
    h.stop().await;
}

/// Integrators: a client `id` per item is echoed, a batch sets its
/// scenario once (items may override it), and scenarios may be named in
/// Chinese, as `measures.toml` names them.
#[tokio::test]
async fn batch_items_echo_ids_and_take_the_batchs_scenario_in_chinese() {
    let mut h = Harness::start().await;
    let e = black_org(&h);
    let items = json!([
        {"id": "bidder-1", "code": e.code},
        {"id": "bidder-2", "code": e.code, "scenario": "market_access"},
        {"id": "bidder-3", "code": "not-a-code"},
        {"code": e.code},
    ]);
    let (s, b) = h
        .post_json(
            "/v1/screen/batch",
            SCREEN,
            json!({"items": items, "scenario": "政府采购"}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let r = b["results"].as_array().unwrap();
    assert_eq!(r[0]["id"], "bidder-1");
    assert_eq!(r[0]["result"]["scenario"], "government_procurement");
    assert_eq!(r[1]["id"], "bidder-2");
    assert_eq!(r[1]["result"]["scenario"], "market_access");
    assert_eq!(r[2]["id"], "bidder-3");
    assert_eq!(r[2]["error"]["code"], "invalid_identifier");
    assert!(r[3].get("id").is_none(), "{}", r[3]);
    assert_eq!(r[3]["result"]["scenario"], "government_procurement");

    // A Chinese scenario name on a single screen too.
    let (s, b) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"code": e.code, "scenario": "招标投标"}),
        )
        .await;
    assert_eq!((s, b["scenario"].as_str()), (200, Some("bidding")), "{b}");

    // An unknown batch scenario names the field and lists the known ones.
    let (s, b) = h
        .post_json(
            "/v1/screen/batch",
            SCREEN,
            json!({"items": [{"code": e.code}], "scenario": "采购"}),
        )
        .await;
    assert_eq!((s, b["field"].as_str()), (400, Some("scenario")), "{b}");
    assert!(b["message"].as_str().unwrap().contains("政府采购"), "{b}");
    let long = "x".repeat(129);
    let (_, b) = h
        .post_json(
            "/v1/screen/batch",
            SCREEN,
            json!({"items": [{"id": long, "code": e.code}]}),
        )
        .await;
    assert_eq!(b["results"][0]["error"]["field"], "id", "{b}");
    h.stop().await;
}

/// The contract integrators generate clients from: valid examples, enums
/// for the closed vocabularies, every request and response type of bulk,
/// and both ways to present a key.
#[tokio::test]
async fn the_openapi_document_is_a_usable_contract() {
    let mut h = Harness::start().await;
    let doc: Value = h.get("/openapi.json", None).await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    let code = &schemas["ScreenRequest"]["properties"]["code"]["example"];
    let code = code.as_str().expect("an example code");
    assert!(credgate_ident::validate(code).is_ok(), "example {code} fails");
    let text = doc.to_string();
    for e in [
        r#""enum":["block","restrict","review","warn","incentive","clear"]"#,
        r#""enum":["prohibit","restrict","enhanced_supervision","warn","incentive"]"#,
        r#""enum":["code","related_party","name_exact","name_fuzzy"]"#,
    ] {
        assert!(text.contains(e), "no {e}");
    }
    let bulk = &doc["paths"]["/v1/screen/bulk"]["post"];
    let request = bulk["requestBody"]["content"].as_object().unwrap();
    assert!(request.contains_key("text/csv"));
    assert!(request.contains_key(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ));
    let answer = bulk["responses"]["200"]["content"].as_object().unwrap();
    assert!(answer.contains_key("application/x-ndjson"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["name"], "X-API-Key");
    // Every endpoint that takes a key offers both schemes (the server
    // accepts either everywhere).
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let Some(security) = op["security"].as_array() else {
                continue;
            };
            if security.is_empty() {
                continue;
            }
            for scheme in ["api_key", "bearer"] {
                assert!(
                    security.iter().any(|s| s.get(scheme).is_some()),
                    "{method} {path}: no {scheme} in {security:?}"
                );
            }
        }
    }
    // A bearer key works as the scheme says.
    let r = h
        .client
        .post(h.url("/v1/screen"))
        .bearer_auth(SCREEN)
        .json(&json!({"name": "南京恒瑞科技有限公司"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    h.stop().await;
}

/// One wrong character in a listed company's code must not hide the
/// company: its name is screened, and the answer says why the code was
/// left out. A bad code alone stays a 400.
#[tokio::test]
async fn a_bad_code_with_a_name_screens_the_name_and_warns() {
    let mut h = Harness::start().await;
    let e = black_org(&h);
    let mut wrong: Vec<char> = e.code.chars().collect();
    wrong[17] = if wrong[17] == '0' { '1' } else { '0' };
    let wrong: String = wrong.into_iter().collect();
    let (s, b) = h
        .post_json(
            "/v1/screen",
            SCREEN,
            json!({"code": wrong, "name": e.name}),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["decision"], "review", "a name alone: {b}");
    assert!(
        b["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["entry_id"] == e.entry_id.as_str())
    );
    let w = b["warnings"][0].as_str().unwrap();
    assert!(
        w.starts_with("code: check_digit")
            && w.contains("name was screened alone"),
        "{w}"
    );
    let (s, b) =
        h.post_json("/v1/screen", SCREEN, json!({"code": wrong})).await;
    assert_eq!((s, b["field"].as_str()), (400, Some("code")), "{b}");
    h.stop().await;
}
