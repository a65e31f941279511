//! The admin module over HTTP (issue 10): a real server on an ephemeral
//! port with stored keys of two departments and each role, and a
//! `TestClock` that the tests move through the lifecycle's periods
//! (`common/admin.rs`).

mod common;

use common::admin::*;
use serde_json::{Value, json};
#[tokio::test]
async fn propose_statement_designate_publish_object_uphold_revoke() {
    let h = Admin::start("2026-03-02").await;
    let a = h
        .post(
            "/admin/v1/entries",
            "sc_pub",
            proposal("成都恒信贸易有限公司", 1),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.etag(), "\"1\"");
    let id = a.body["entry_id"].as_str().unwrap().to_string();
    assert_eq!(a.headers["location"], format!("/admin/v1/entries/{id}"));
    assert_eq!(a.body["stage"], "noticed");
    // Five working days from Monday 2 March: Monday 9 March.
    assert_eq!(a.body["notice"]["statement_deadline"], "2026-03-09");

    // Designating inside the statement period is refused, naming the rule.
    let des = designation(&json!("2026-03-02"), "serious");
    let a = h.act(&id, "designate", "sc_pub", 1, des.clone()).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.code(), "statement_period_open");

    let a = h
        .act(
            &id,
            "statement",
            "sc_pub",
            1,
            json!({"text": "已履行部分义务", "received_on": "2026-03-02"}),
        )
        .await;
    assert_eq!((a.status, a.etag()), (200, "\"2\"".into()), "{}", a.body);
    let a = h.act(&id, "designate", "sc_pub", 2, des).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "designated");
    assert_eq!(a.body["min_period_end"], "2027-03-02");
    assert_eq!(a.body["max_period_end"], "2029-03-02");

    h.set_today("2026-03-04");
    let a = h.act(&id, "publish", "sc_pub", 3, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "published");
    assert_eq!(a.body["publicity_met"], true);

    let objection = json!({
        "applicant": "成都恒信贸易有限公司",
        "grounds": "案款已全部履行",
        "received_on": "2026-03-04",
    });
    let a = h.act(&id, "objections", "sc_pub", 4, objection.clone()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "disputed");
    // A publisher does not decide objections.
    let a =
        h.act(&id, "uphold", "sc_pub", 5, json!({"decision": "维持"})).await;
    assert_eq!((a.status, a.code()), (403, "reviewer_role_required"));
    let a = h
        .act(&id, "uphold", "sc_rev", 5, json!({"decision": "异议不成立"}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "published");

    let a = h.act(&id, "objections", "sc_pub", 6, objection).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a =
        h.act(&id, "revoke", "sc_rev", 7, json!({"reason": "认定错误"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "revoked");
    assert_eq!(a.etag(), "\"8\"");

    let a = h.get(&format!("/admin/v1/entries/{id}"), "sc_rev").await;
    assert_eq!(a.status, 200);
    assert_eq!(a.etag(), "\"8\"");
    let actions: Vec<&str> = a.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "propose",
            "record_statement",
            "designate",
            "publish",
            "object",
            "uphold",
            "object",
            "revoke"
        ]
    );
    let outcomes: Vec<&str> = a.body["objections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["upheld", "revoked"]);
    // A revoked entry leaves the 双公示 report too.
    let a = h.get("/admin/v1/reports/double-publicity", "ops").await;
    assert_eq!(a.body["departments"], json!([]));
    h.stop().await;
}

#[tokio::test]
async fn repair_is_refused_before_the_minimum_period_and_accepted_after() {
    let h = Admin::start("2026-04-01").await;
    let id =
        h.designated("sc_pub", "成都利达建材有限公司", 2, "general").await;
    let a = h.act(&id, "publish", "sc_pub", 3, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["min_period_end"], "2026-07-01");
    let repair = json!({
        "commitment": "本企业承诺依法经营",
        "obligations_met": true,
    });
    h.set_today("2026-06-30");
    let a = h.act(&id, "repair", "sc_pub", 4, repair.clone()).await;
    assert_eq!(a.status, 409, "{}", a.body);
    assert_eq!(a.code(), "minimum_period_not_reached");
    assert!(a.body["message"].as_str().unwrap().contains("2026-07-01"));
    // 谁认定、谁修复: another department may not repair it.
    h.set_today("2026-07-01");
    let a = h.act(&id, "repair", "js_pub", 4, repair.clone()).await;
    assert_eq!((a.status, a.code()), (403, "not_designating_department"));
    let a = h.act(&id, "repair", "sc_pub", 4, repair).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["stage"], "exited");
    assert_eq!(a.body["removed_on"], "2026-07-01");
    assert_eq!(a.body["removal_reason"], "信用修复");
    h.stop().await;
}

#[tokio::test]
async fn the_sweep_exits_entries_at_their_maximum_period() {
    let h = Admin::start("2026-04-10").await;
    let id = h.designated("sc_pub", "成都顺达物流有限公司", 3, "minor").await;
    let other =
        h.designated("sc_pub", "成都永安商贸有限公司", 4, "serious").await;
    for e in [&id, &other] {
        let a = h.act(e, "publish", "sc_pub", 3, json!({})).await;
        assert_eq!(a.status, 200, "{}", a.body);
    }
    h.set_today("2026-07-09");
    let a = h.post("/admin/v1/sweep", "ops", json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["expired"], json!([]));
    // A minor entry's maximum is 3 months after the decision.
    h.set_today("2026-07-10");
    let a = h.post("/admin/v1/sweep", "sc_pub", json!({})).await;
    assert_eq!((a.status, a.code()), (403, "role_required"));
    let a = h.post("/admin/v1/sweep", "ops", json!({})).await;
    assert_eq!(a.body["expired"], json!([id]), "{}", a.body);
    let a = h.get(&format!("/admin/v1/entries/{id}"), "ops").await;
    assert_eq!(a.body["entry"]["stage"], "exited");
    assert_eq!(a.body["entry"]["removed_on"], "2026-07-10");
    let last = a.body["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "expire");
    assert_eq!(last["key_id"], "system");
    let a = h.get(&format!("/admin/v1/entries/{other}"), "ops").await;
    assert_eq!(a.body["entry"]["stage"], "published");
    h.stop().await;
}

/// 春节 2026: off 15–23 February, worked Saturday 14 and Saturday 28
/// February (国办发明电〔2025〕7号). A decision of Thursday 12 February
/// counts 13, 14 (worked Saturday), 24, 25, 26, 27 and 28 (worked
/// Saturday): its 7th working day is 28 February. On weekends alone it
/// would be 3 March; without the worked days, 4 March.
#[tokio::test]
async fn double_publicity_deadline_across_the_spring_festival_2026() {
    let h = Admin::start("2026-02-02").await;
    let id = h.propose("sc_pub", "成都春华食品有限公司", 5).await;
    h.set_today("2026-02-03");
    let a = h
        .act(
            &id,
            "statement",
            "sc_pub",
            1,
            json!({"text": "无", "received_on": "2026-02-03"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    h.set_today("2026-02-12");
    let a = h
        .act(
            &id,
            "designate",
            "sc_pub",
            2,
            designation(&json!("2026-02-12"), "general"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["publicity_deadline"], "2026-02-28");
    assert_eq!(a.body["publicity_deadline_estimated"], false);

    h.set_today("2026-02-28");
    let a = h.get("/admin/v1/reports/double-publicity", "ops").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["departments"], json!([]), "not late on the day");

    h.set_today("2026-03-01");
    let a = h.get("/admin/v1/reports/double-publicity", "sc_pub").await;
    let depts = a.body["departments"].as_array().unwrap();
    assert_eq!(depts.len(), 1, "{}", a.body);
    assert_eq!(depts[0]["department"], SC);
    assert_eq!(depts[0]["overdue"][0]["entry_id"], id.as_str());
    assert_eq!(depts[0]["overdue"][0]["deadline"], "2026-02-28");
    // Another department's report does not show it.
    let a = h.get("/admin/v1/reports/double-publicity", "js_pub").await;
    assert_eq!(a.body["departments"], json!([]));

    h.set_today("2026-03-02");
    let a = h.act(&id, "publish", "sc_pub", 3, json!({})).await;
    assert_eq!(a.body["publicity_met"], false, "{}", a.body);
    let a = h.get("/admin/v1/reports/double-publicity", "ops").await;
    let d = &a.body["departments"][0];
    assert_eq!(d["overdue"], json!([]));
    assert_eq!(d["published_late"][0]["published_on"], "2026-03-02");
    h.stop().await;
}

#[tokio::test]
async fn another_department_is_refused_naming_the_rule() {
    let h = Admin::start("2026-03-02").await;
    let id = h.propose("sc_pub", "成都天府酒业有限公司", 6).await;
    let a = h.get(&format!("/admin/v1/entries/{id}"), "js_pub").await;
    assert_eq!((a.status, a.code()), (403, "not_own_department"));
    assert!(a.body["message"].as_str().unwrap().contains(SC));
    let a = h.act(&id, "withdraw", "js_pub", 1, json!({"reason": "x"})).await;
    assert_eq!((a.status, a.code()), (403, "not_designating_department"));
    let a = h.get("/admin/v1/entries?department=sc-fgw", "js_pub").await;
    assert_eq!((a.status, a.code()), (403, "not_own_department"));
    // Its own listing shows none of the other department's entries.
    let a = h.get("/admin/v1/entries", "js_pub").await;
    assert_eq!(a.body["items"], json!([]));
    // An operator reads every department.
    let a = h.get(&format!("/admin/v1/entries/{id}"), "ops").await;
    assert_eq!(a.status, 200);
    let a = h.get("/admin/v1/entries?department=sc-fgw", "ops").await;
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    // An auditor reads the chain, not entries.
    let a = h.get("/admin/v1/entries", "aud").await;
    assert_eq!((a.status, a.code()), (403, "read_role_required"));
    // A key without a lifecycle role is refused before the entry is
    // looked up: an unknown id tells it nothing either.
    for id in [id.as_str(), "no-such-entry"] {
        let a = h.act(id, "withdraw", "aud", 1, json!({"reason": "x"})).await;
        assert_eq!((a.status, a.code()), (403, "publisher_role_required"));
    }
    h.stop().await;
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_a_missing_one_428() {
    let h = Admin::start("2026-03-02").await;
    let id = h.propose("sc_pub", "成都蓉城科技有限公司", 7).await;
    let statement = json!({"text": "无", "received_on": "2026-03-02"});
    let a = h.act(&id, "statement", "sc_pub", 1, statement.clone()).await;
    assert_eq!(a.status, 200);
    // Another clerk still holding version 1.
    let a =
        h.act(&id, "withdraw", "sc_pub", 1, json!({"reason": "重复"})).await;
    assert_eq!((a.status, a.code()), (412, "stale_version"), "{}", a.body);
    assert!(a.body["message"].as_str().unwrap().contains("version 2"));
    let url = format!("{}/admin/v1/entries/{id}/withdraw", h.base);
    let a = h
        .send(
            h.client.post(url.clone()).json(&json!({"reason": "x"})),
            "sc_pub",
        )
        .await;
    assert_eq!((a.status, a.code()), (428, "if_match_required"));
    let a = h
        .send(
            h.client
                .post(url)
                .header("If-Match", "W/\"2\"")
                .json(&json!({"reason": "x"})),
            "sc_pub",
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "invalid_if_match"));
    h.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_retry_makes_one_entry() {
    let h = Admin::start("2026-03-02").await;
    let url = format!("{}/admin/v1/entries", h.base);
    let body = proposal("成都重试实业有限公司", 8);
    let send = |body: Value| {
        h.send(
            h.client
                .post(url.clone())
                .header("Idempotency-Key", "req-0001")
                .json(&body),
            "sc_pub",
        )
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let again = send(body.clone()).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(again.body, first.body, "the first answer, unchanged");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let a = h.get("/admin/v1/entries", "sc_pub").await;
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    let mut other = body;
    other["reasons"] = json!("另一个原因");
    let a = send(other).await;
    assert_eq!((a.status, a.code()), (422, "idempotency_key_reused"));
    h.stop().await;
}

/// The sweep writes the audit chain as department `system`: a department
/// of that code could pass for the service. A role named twice is one
/// role.
#[tokio::test]
async fn the_system_department_is_reserved_and_roles_are_a_set() {
    let h = Admin::start("2026-03-02").await;
    let a = h
        .send(
            h.client
                .put(format!("{}/admin/v1/departments/system", h.base))
                .json(&json!({"name_zh": "系统"})),
            "adm",
        )
        .await;
    assert_eq!((a.status, a.code()), (422, "reserved_code"), "{}", a.body);
    assert_eq!(a.body["field"], "code", "{}", a.body);
    let a = h
        .post(
            "/admin/v1/keys",
            "adm",
            json!({"name": "dup", "department": SC,
                   "roles": ["publisher", "reviewer", "publisher"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    assert_eq!(a.body["key"]["roles"], json!(["publisher", "reviewer"]));
    h.stop().await;
}

#[tokio::test]
async fn a_revoked_store_key_is_refused_at_once() {
    let h = Admin::start("2026-03-02").await;
    let a = h
        .post(
            "/admin/v1/keys",
            "adm",
            json!({"name": "clerk", "department": SC, "roles": ["publisher"]}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let secret = a.body["secret"].as_str().unwrap().to_string();
    let key_id = a.body["key"]["id"].as_str().unwrap().to_string();
    let get = |secret: String| {
        h.client
            .get(format!("{}/admin/v1/entries", h.base))
            .header("X-API-Key", secret)
            .send()
    };
    assert_eq!(get(secret.clone()).await.unwrap().status(), 200);
    // A publisher does not manage keys.
    let a = h
        .post(
            "/admin/v1/keys",
            "sc_pub",
            json!({"name": "x", "department": SC, "roles": ["admin"]}),
        )
        .await;
    assert_eq!((a.status, a.code()), (403, "admin_role_required"));
    let a = h
        .send(
            h.client.delete(format!("{}/admin/v1/keys/{key_id}", h.base)),
            "adm",
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body["revoked_at"].is_string());
    // Cached a moment ago, refused now.
    assert_eq!(get(secret).await.unwrap().status(), 401);
    h.stop().await;
}

#[tokio::test]
async fn an_auditor_pages_and_filters_the_audit_chain() {
    let h = Admin::start("2026-03-02").await;
    for n in 0..3 {
        h.propose("sc_pub", &format!("成都审计{n}号有限公司"), 10 + n).await;
    }
    let a = h.get("/admin/v1/audit?action=propose&limit=2", "aud").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let items = a.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|r| r["action"] == "propose"));
    assert!(items[0]["seq"].as_i64() < items[1]["seq"].as_i64());
    assert_eq!(items[0]["hash"].as_str().unwrap().len(), 64);
    let next = a.body["next"].as_str().unwrap().to_string();
    let a = h
        .get(
            &format!("/admin/v1/audit?action=propose&limit=2&cursor={next}"),
            "aud",
        )
        .await;
    let rest = a.body["items"].as_array().unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["department"], SC);
    assert!(a.body["next"].is_null());
    let a = h.get("/admin/v1/audit", "sc_pub").await;
    assert_eq!((a.status, a.code()), (403, "auditor_role_required"));
    h.stop().await;
}

#[tokio::test]
async fn exports_have_chinese_headers_in_csv_and_xlsx() {
    let h = Admin::start("2026-03-02").await;
    let id = h.propose("sc_pub", "成都导出测试有限公司", 20).await;
    h.propose("js_pub", "南京不导出有限公司", 21).await;
    let fetch = |format: &str| {
        h.client
            .get(format!("{}/admin/v1/entries/export?format={format}", h.base))
            .header("X-API-Key", h.keys["sc_pub"].as_str())
            .send()
    };
    let r = fetch("csv").await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"].to_str().unwrap().starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "a UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "记录编号");
    assert_eq!(&headers[6], "主体名称");
    let records: Vec<csv::StringRecord> =
        rows.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 1, "only the department's own entries");
    assert_eq!(&records[0][0], id.as_str());
    assert_eq!(&records[0][2], "已告知");
    assert_eq!(&records[0][6], "成都导出测试有限公司");

    let r = fetch("xlsx").await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range("名单").unwrap();
    let cell = |r: u32, c: u32| {
        range.get_value((r, c)).map(|v| v.to_string()).unwrap_or_default()
    };
    assert_eq!(cell(0, 0), "记录编号");
    assert_eq!(cell(0, 7), "统一社会信用代码/身份证号");
    assert_eq!(cell(1, 0), id);
    assert_eq!(cell(1, 7), uscc(20), "the code whole, as a string");
    assert_eq!(range.height(), 2);
    let a = h.get("/admin/v1/entries/export?format=pdf", "sc_pub").await;
    assert_eq!((a.status, a.code()), (400, "invalid_request"));
    h.stop().await;
}

/// An export holds its entries and its file in memory: it takes one of
/// the `bulk_max_jobs` slots, so exports and bulk checks cannot pile up.
#[tokio::test]
async fn an_export_waits_for_a_bulk_slot() {
    let h = Admin::start_with("2026-03-02", |c| c.bulk_max_jobs = 1).await;
    h.propose("sc_pub", "成都导出排队有限公司", 22).await;
    let a = h.post("/admin/v1/publish", "sc_pub", json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // A bulk upload whose body never ends holds the one slot.
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    tx.send("name\n成都某某有限公司\n".as_bytes().to_vec()).unwrap();
    let rx = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let upload = h
        .client
        .post(format!("{}/v1/screen/bulk", h.base))
        .header("X-API-Key", h.keys["scr"].as_str())
        .header("Content-Type", "text/csv")
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let upload = tokio::spawn(upload);
    // The job holds its slot once its upload is being spooled.
    let spool = h.dir.path().join("spool");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::read_dir(&spool).map_or(0, |d| d.count()) == 0 {
        assert!(std::time::Instant::now() < until, "the upload never began");
        if upload.is_finished() {
            let r = upload.await.unwrap().unwrap();
            let status = r.status();
            panic!("the upload ended early: {status} {:?}", r.text().await);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let a = h.get("/admin/v1/entries/export", "sc_pub").await;
    assert_eq!((a.status, a.code()), (503, "bulk_busy"), "{}", a.body);
    assert!(a.headers.contains_key("retry-after"));
    // The slot comes back when the job ends.
    drop(tx);
    let r = upload.await.unwrap().unwrap();
    let _ = r.bytes().await;
    let a = h.get("/admin/v1/entries/export", "sc_pub").await;
    assert_eq!(a.status, 200, "{}", a.body);
    h.stop().await;
}

#[tokio::test]
async fn listing_pages_with_a_cursor_and_filters() {
    let h = Admin::start("2026-03-02").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            h.propose("sc_pub", &format!("成都分页{n}号有限公司"), 30 + n)
                .await,
        );
    }
    let mut seen = Vec::new();
    let mut path = "/admin/v1/entries?limit=2".to_string();
    loop {
        let a = h.get(&path, "sc_pub").await;
        assert_eq!(a.status, 200, "{}", a.body);
        for e in a.body["items"].as_array().unwrap() {
            seen.push(e["entry_id"].as_str().unwrap().to_string());
        }
        match a.body["next"].as_str() {
            Some(n) => path = format!("/admin/v1/entries?limit=2&cursor={n}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let a =
        h.get(&format!("/admin/v1/entries?code={}", uscc(32)), "sc_pub").await;
    assert_eq!(a.body["items"][0]["entry_id"], ids[2].as_str());
    let a = h.get("/admin/v1/entries?stage=published", "sc_pub").await;
    assert_eq!(a.body["items"], json!([]));
    let a = h.get("/admin/v1/entries?stage=bogus", "sc_pub").await;
    assert_eq!((a.status, a.code()), (422, "unknown_code"));
    assert_eq!(a.body["field"], "stage");
    let a = h.get("/admin/v1/entries?name=分页3", "sc_pub").await;
    assert_eq!(a.body["items"].as_array().unwrap().len(), 1);
    h.stop().await;
}

#[tokio::test]
async fn every_admin_endpoint_is_in_the_openapi_document() {
    let h = Admin::start("2026-03-02").await;
    let doc: Value = h
        .client
        .get(format!("{}/openapi.json", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut ops = vec![
        ("/admin/v1/entries", "post"),
        ("/admin/v1/entries", "get"),
        ("/admin/v1/entries/{id}", "get"),
        ("/admin/v1/entries/export", "get"),
        ("/admin/v1/reports/double-publicity", "get"),
        ("/admin/v1/keys", "post"),
        ("/admin/v1/keys", "get"),
        ("/admin/v1/keys/{id}", "delete"),
        ("/admin/v1/departments", "get"),
        ("/admin/v1/departments/{code}", "put"),
        ("/admin/v1/audit", "get"),
        ("/admin/v1/sweep", "post"),
    ];
    let actions = [
        "statement",
        "designate",
        "publish",
        "rectification",
        "interviews",
        "ban",
        "objections",
        "uphold",
        "correct",
        "revoke",
        "repair",
        "withdraw",
    ];
    let paths: Vec<String> = actions
        .iter()
        .map(|a| format!("/admin/v1/entries/{{id}}/{a}"))
        .collect();
    for p in &paths {
        ops.push((p.as_str(), "post"));
    }
    for (path, method) in ops {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "openapi lacks {method} {path}");
        assert_eq!(op["tags"][0], "admin", "{method} {path}");
    }
    for p in &paths {
        let op = &doc["paths"][p.as_str()]["post"];
        let params = op["parameters"].as_array().unwrap();
        assert!(
            params.iter().any(|x| x["name"] == "If-Match"),
            "{p} documents If-Match"
        );
        assert!(op["responses"]["412"].is_object(), "{p} documents 412");
        assert!(op["responses"]["428"].is_object(), "{p} documents 428");
    }
    h.stop().await;
}

#[tokio::test]
async fn person_ids_are_masked_unless_the_key_has_screen_pii_and_logged_when_shown()
 {
    let t = Admin::start("2026-03-02").await;
    let id_number = "11010519491231002X";
    let mut p = proposal("张三", 0);
    p["subject"] =
        json!({"kind": "person", "name": "张三", "code": id_number});
    let a = t.post("/admin/v1/entries", "sc_pub", p).await;
    assert_eq!(a.status, 201, "{}", a.body);
    // The answer to the change is masked for a key without screen_pii.
    assert_eq!(a.body["code"], "**************002X", "{}", a.body);
    let id = a.body["entry_id"].as_str().unwrap().to_string();
    let path = format!("/admin/v1/entries/{id}");

    let masked = t.get(&path, "sc_pub").await;
    assert_eq!(masked.body["entry"]["code"], "**************002X");
    let listed = t.get("/admin/v1/entries", "sc_pub").await;
    assert_eq!(listed.body["items"][0]["code"], "**************002X");
    let csv = t
        .client
        .get(format!("{}/admin/v1/entries/export", t.base))
        .header("X-API-Key", t.keys["sc_pub"].as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!csv.contains(id_number), "{csv}");
    assert!(csv.contains("**************002X"), "{csv}");
    assert!(!t.pii_log().contains(id_number), "nothing shown, nothing logged");

    // A key with screen_pii sees the number, and the read is logged first.
    let shown = t.get(&path, "sc_pii").await;
    assert_eq!(shown.body["entry"]["code"], id_number);
    let log = t.pii_log();
    let line = log.lines().last().expect("a PII audit line");
    assert!(line.contains(id_number) && line.contains(&id), "{line}");
    assert!(line.contains("/admin/v1/entries/{id}"), "{line}");
    t.stop().await;
}

/// Hostile input to every kind of `/admin/v1` input: bodies (oversized,
/// malformed, mistyped, of another type), strings past their bounds in
/// bodies, headers, paths and queries, malformed and repeated query
/// parameters, unknown keys tried one after another, and two clerks
/// racing on one version. Each is a 4xx in the one error shape, and
/// the server still answers afterwards.
#[tokio::test]
async fn hostile_admin_input_is_a_4xx_in_the_error_shape() {
    let h = Admin::start_with("2026-03-02", |c| c.body_limit_bytes = 16 << 10)
        .await;
    let entries = format!("{}/admin/v1/entries", h.base);
    let raw = |body: String, ct: &'static str| {
        h.client.post(entries.clone()).header("Content-Type", ct).body(body)
    };
    // Past the body limit: 413 before anything is parsed.
    let big = json!({"reasons": "失".repeat(20_000)}).to_string();
    let a = h.send(raw(big, "application/json"), "sc_pub").await;
    assert_eq!((a.status, a.code()), (413, "payload_too_large"), "{}", a.body);
    let a = h.send(raw("{\"subject\": ".into(), "application/json"), "sc_pub");
    let a = a.await;
    assert_eq!((a.status, a.code()), (400, "malformed_json"), "{}", a.body);
    let a = h.send(raw("[1, 2]".into(), "application/json"), "sc_pub").await;
    assert_eq!((a.status, a.code()), (400, "invalid_request"), "{}", a.body);
    let a = h.send(raw("{}".into(), "text/plain"), "sc_pub").await;
    assert_eq!(a.status, 415, "{}", a.body);
    let mut mistyped = proposal("成都恶意测试有限公司", 40);
    mistyped["list"] = json!(7);
    let a = h.post("/admin/v1/entries", "sc_pub", mistyped).await;
    assert_eq!((a.status, a.code()), (400, "invalid_request"), "{}", a.body);
    assert_eq!(a.body["field"], "list", "{}", a.body);
    // Under the body limit, over a text's bound: 422 naming the field.
    let mut long = proposal("成都恶意测试有限公司", 41);
    long["reasons"] = json!("失".repeat(4_001));
    let a = h.post("/admin/v1/entries", "sc_pub", long).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert_eq!(a.body["field"], "reasons", "{}", a.body);
    let a = h
        .send(
            h.client
                .post(entries.clone())
                .header("Idempotency-Key", "k".repeat(201))
                .json(&proposal("成都恶意测试有限公司", 42)),
            "sc_pub",
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (422, "invalid_idempotency_key"),
        "{}",
        a.body
    );
    // Paths past their bounds.
    let long_id = format!("/admin/v1/entries/{}", "e".repeat(65));
    assert_eq!(h.get(&long_id, "sc_pub").await.status, 404);
    let a = h
        .send(
            h.client.delete(format!(
                "{}/admin/v1/keys/{}",
                h.base,
                "k".repeat(201)
            )),
            "adm",
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "invalid_request"), "{}", a.body);
    let a = h
        .send(
            h.client
                .put(format!(
                    "{}/admin/v1/departments/{}",
                    h.base,
                    "d".repeat(65)
                ))
                .json(&json!({"name_zh": "部门"})),
            "adm",
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    // Queries: mistyped, negative, unknown, repeated, past a bound.
    for path in [
        "/admin/v1/entries?limit=abc",
        "/admin/v1/entries?limit=-1",
        "/admin/v1/entries?bogus=1",
        "/admin/v1/entries?limit=1&limit=2",
        "/admin/v1/publications?limit=99999999999",
        "/admin/v1/audit?from=yesterday",
    ] {
        let key = if path.contains("audit") { "aud" } else { "sc_pub" };
        let a = h.get(path, key).await;
        assert_eq!(
            (a.status, a.code()),
            (400, "invalid_request"),
            "{path}: {}",
            a.body
        );
    }
    let a = h
        .get(&format!("/admin/v1/audit?key_id={}", "k".repeat(201)), "aud")
        .await;
    assert_eq!((a.status, a.code()), (400, "invalid_request"), "{}", a.body);
    assert_eq!(a.body["field"], "key_id", "{}", a.body);
    // A page never exceeds the store's bound, whatever is asked.
    for n in 0..3 {
        h.propose("sc_pub", &format!("成都页码{n}科技有限公司"), 50 + n).await;
    }
    let a = h.get("/admin/v1/entries?limit=4000000000", "sc_pub").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["items"].as_array().unwrap().len(), 3, "{}", a.body);
    // Unknown keys tried in turn: each 401, none admitted.
    for n in 0..20 {
        let r = h
            .client
            .get(entries.clone())
            .header("X-API-Key", format!("cg_guess_{n}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // Two clerks racing on one version: exactly one change wins.
    let id = h.propose("sc_pub", "成都竞速科技有限公司", 60).await;
    let (x, y) = tokio::join!(
        h.act(&id, "withdraw", "sc_pub", 1, json!({"reason": "甲"})),
        h.act(&id, "withdraw", "sc_pub", 1, json!({"reason": "乙"})),
    );
    let (won, lost) = if x.status == 200 { (x, y) } else { (y, x) };
    assert_eq!(won.status, 200, "{}", won.body);
    assert_eq!(
        (lost.status, lost.code()),
        (412, "stale_version"),
        "{}",
        lost.body
    );
    let a = h.get(&format!("/admin/v1/entries/{id}"), "sc_pub").await;
    assert_eq!(a.body["entry"]["version"], 2, "{}", a.body);
    h.stop().await;
}
