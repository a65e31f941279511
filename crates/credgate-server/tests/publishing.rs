//! Publishing over HTTP (issue 10 items 6, 7): the whole way from a
//! proposal to what screening answers, and imports. The harness is
//! `common/admin.rs` (stored keys of two departments and each role, a
//! screening key, a `TestClock`).

mod common;

use common::admin::*;
use serde_json::{Value, json};

impl Admin {
    async fn publish(&self) -> Value {
        let a = self.post("/admin/v1/publish", "sc_pub", json!({})).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["state"], "done", "{}", a.body);
        a.body
    }

    async fn screen(&self, code: &str) -> Value {
        let a = self
            .post(
                "/v1/screen",
                "scr",
                json!({"code": code, "scenario": "government_procurement"}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body
    }
}

#[tokio::test]
async fn from_proposal_to_block_then_disputed_then_revoked_and_clear() {
    let h = Admin::start("2026-03-02").await;
    let code = uscc(41);
    let id = h
        .designated("sc_pub", "成都恒信建设工程有限公司", 41, "serious")
        .await;
    h.set_today("2026-03-04");
    let a = h.act(&id, "publish", "sc_pub", 3, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);

    // Published in the store is not yet in screening: the service has
    // nothing to serve until a publication.
    let a = h.post("/v1/screen", "scr", json!({"code": code})).await;
    assert_eq!(a.status, 503, "{}", a.body);
    let p = h.publish().await;
    assert_eq!(p["entries"], 1);
    assert_eq!(p["active"], 1);
    let file = p["file_name"].as_str().unwrap().to_string();
    let body = h.screen(&code).await;
    assert_eq!(body["decision"], "block", "{body}");
    assert_eq!(body["snapshot"]["version"], file.as_str());
    assert_eq!(body["hits"][0]["entry_id"], id.as_str());

    // An objection: disputed in screening after the next publication,
    // its measures waiting.
    let objection = json!({
        "applicant": "成都恒信建设工程有限公司",
        "grounds": "案款已全部履行",
        "received_on": "2026-03-04",
    });
    let a = h.act(&id, "objections", "sc_pub", 4, objection).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(h.screen(&code).await["decision"], "block", "until published");
    let p = h.publish().await;
    assert_eq!(
        (p["active"].clone(), p["disputed"].clone()),
        (json!(0), json!(1))
    );
    let body = h.screen(&code).await;
    assert_ne!(body["decision"], "block", "{body}");
    assert_eq!(body["hits"][0]["status"], "disputed", "{body}");

    // Revoked: gone from screening after the next publication.
    let a =
        h.act(&id, "revoke", "sc_rev", 5, json!({"reason": "认定错误"})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let p = h.publish().await;
    assert_eq!(p["entries"], 0);
    let body = h.screen(&code).await;
    assert_eq!(body["decision"], "clear", "{body}");
    assert_eq!(body["snapshot"]["version"], p["file_name"]);

    // Every publication is listed, newest first.
    let a = h.get("/admin/v1/publications", "aud").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let ids: Vec<i64> = a
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [3, 2, 1]);
    // A screening key may not publish.
    let a = h.post("/admin/v1/publish", "scr", json!({})).await;
    assert_eq!((a.status, a.code()), (403, "role_required"));
    h.stop().await;
}

#[tokio::test]
async fn an_import_over_http_is_all_or_nothing_with_its_bad_rows_as_csv() {
    let h = Admin::start("2026-11-02").await;
    let mut buf = Vec::new();
    let mut w = credgate_entries::EntryWriter::new(
        &mut buf,
        credgate_entries::Format::Csv,
    )
    .unwrap();
    let entries: Vec<credgate_model::Entry> =
        credgate_gen::Generator::new(credgate_gen::GenOptions::new(3))
            .filter(|e| {
                e.status == credgate_model::EntryStatus::Active
                    && e.valid_until.is_none_or(|u| u > day("2026-11-02"))
            })
            .take(20)
            .collect();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let good = String::from_utf8(buf).unwrap();
    // Line 5 gets a USCC whose check character is wrong.
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    let code = &entries[3].code;
    let mut bad_code = code.clone();
    let last = bad_code.pop().unwrap();
    bad_code.push(if last == '0' { '1' } else { '0' });
    lines[4] = lines[4].replacen(code.as_str(), &bad_code, 1);
    let bad = lines.join("\n") + "\n";

    let url = |q: &str| format!("{}/admin/v1/imports?{q}", h.base);
    let send = |q: &str, body: String| {
        h.client
            .post(url(q))
            .header("X-API-Key", h.keys["sc_pub"].as_str())
            .header("Content-Type", "text/csv")
            .body(body)
            .send()
    };
    let r = send("", bad.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["rejected"], true, "{report}");
    assert_eq!(report["problems"][0]["row"], 5);
    assert_eq!(report["problems"][0]["column"], "code");
    let r = send("errors=csv", bad.clone()).await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    assert!(csv.contains("\n5,"), "{csv}");
    let a = h.get("/admin/v1/entries", "sc_pub").await;
    assert_eq!(a.body["items"], json!([]), "nothing imported");

    let r = send("skip_invalid=true", bad).await.unwrap();
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (report["committed"].clone(), report["inserted"].clone()),
        (json!(true), json!(19))
    );
    // Again, whole: only the row left out is new.
    let r = send("", good).await.unwrap();
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (report["inserted"].clone(), report["unchanged"].clone()),
        (json!(1), json!(19)),
        "{report}"
    );
    // A reviewer does not import.
    let r = h
        .client
        .post(url(""))
        .header("X-API-Key", h.keys["sc_rev"].as_str())
        .header("Content-Type", "text/csv")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    h.stop().await;
}

/// Imports and publications take as long as the list is large (minutes
/// at 10M entries). Under the request time limit (30 s) the client got
/// 503 `timeout` for a few hundred thousand entries, and a publication
/// dropped half-way stayed `pending` while its snapshot went live. They
/// are bounded by `bulk_timeout_secs`: with a request time limit of zero
/// (the next tick of the timer: an import or a publication, which write
/// and sync files, always overran it), both still work.
#[tokio::test]
async fn imports_and_publications_are_not_cut_by_the_request_time_limit() {
    let h =
        Admin::start_with("2026-11-02", |c| c.request_timeout_secs = 0).await;
    let mut buf = Vec::new();
    let mut w = credgate_entries::EntryWriter::new(
        &mut buf,
        credgate_entries::Format::Csv,
    )
    .unwrap();
    credgate_gen::Generator::new(credgate_gen::GenOptions::new(3))
        .filter(|e| {
            e.status == credgate_model::EntryStatus::Active
                && e.valid_until.is_none_or(|u| u > day("2026-11-02"))
        })
        .take(20)
        .for_each(|e| w.write(&e).unwrap());
    w.into_inner().unwrap();
    let r = h
        .client
        .post(format!("{}/admin/v1/imports", h.base))
        .header("X-API-Key", h.keys["sc_pub"].as_str())
        .header("Content-Type", "text/csv")
        .body(buf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["inserted"], 20, "{report}");
    let published = h.publish().await;
    assert_eq!(published["entries"], 20, "{published}");
    h.stop().await;
}

/// Hostile uploads to `/admin/v1/imports`: past `bulk_limit_bytes` (413
/// while it streams), a format or option that does not exist, bytes that
/// are no spreadsheet, a ragged CSV. Each is a 4xx in the error shape or
/// a rejected report, nothing is written, and the server still answers.
#[tokio::test]
async fn hostile_imports_are_refused_and_write_nothing() {
    let h = Admin::start_with("2026-11-02", |c| c.bulk_limit_bytes = 4 << 10)
        .await;
    let send = |q: &str, ct: &'static str, body: Vec<u8>| {
        h.send(
            h.client
                .post(format!("{}/admin/v1/imports?{q}", h.base))
                .header("Content-Type", ct)
                .body(body),
            "sc_pub",
        )
    };
    let a = send("", "text/csv", vec![b'a'; 8 << 10]).await;
    assert_eq!((a.status, a.code()), (413, "payload_too_large"), "{}", a.body);
    let a = send("format=exe", "text/csv", b"x".to_vec()).await;
    assert_eq!((a.status, a.code()), (400, "invalid_format"), "{}", a.body);
    let a = send("", "application/octet-stream", b"x".to_vec()).await;
    assert_eq!((a.status, a.code()), (400, "invalid_format"), "{}", a.body);
    let a = send("encoding=ebcdic", "text/csv", b"x".to_vec()).await;
    assert_eq!((a.status, a.code()), (400, "invalid_encoding"), "{}", a.body);
    let a = send("errors=xml", "text/csv", b"x".to_vec()).await;
    assert_eq!((a.status, a.code()), (400, "invalid_errors"), "{}", a.body);
    let a = send("dry_run=maybe", "text/csv", b"x".to_vec()).await;
    assert_eq!((a.status, a.code()), (400, "invalid_request"), "{}", a.body);
    let a = send("format=xlsx", "text/csv", b"PK\x03\x04 not a zip".to_vec());
    let a = a.await;
    assert_eq!((a.status, a.code()), (400, "invalid_upload"), "{}", a.body);
    // A ragged CSV: a good header and row, then rows of the wrong width.
    let mut buf = Vec::new();
    let mut w = credgate_entries::EntryWriter::new(
        &mut buf,
        credgate_entries::Format::Csv,
    )
    .unwrap();
    let e = credgate_gen::Generator::new(credgate_gen::GenOptions::new(5))
        .next()
        .unwrap();
    w.write(&e).unwrap();
    w.into_inner().unwrap();
    buf.extend_from_slice(b"x\ny,z,w\n");
    let a = send("", "text/csv", buf).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["rejected"], true, "{}", a.body);
    assert_eq!(a.body["problems"].as_array().unwrap().len(), 2, "{}", a.body);
    // Nothing was written, and the server still answers.
    let a = h.get("/admin/v1/entries", "sc_pub").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["items"], json!([]), "{}", a.body);
    h.stop().await;
}

/// After an upgrade the accepted snapshots are of a format version this
/// build does not read: the service publishes the store again and serves
/// it, with the same answers, rather than an older file it can read or
/// nothing. Only when nothing changed since the last publication: then
/// the entries in force are what was live. A store never published is
/// not published at start (an empty list would clear everyone).
#[tokio::test]
async fn a_restart_that_cannot_serve_the_published_snapshot_publishes_again() {
    let mut h = Admin::start("2026-03-02").await;
    h.restart().await;
    let a = h.post("/v1/screen", "scr", json!({"code": uscc(42)})).await;
    assert_eq!(a.status, 503, "never published: still nothing to serve");

    let code = uscc(42);
    let id = h
        .designated("sc_pub", "成都恒信建设工程有限公司", 42, "serious")
        .await;
    h.set_today("2026-03-04");
    let a = h.act(&id, "publish", "sc_pub", 3, json!({})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let older = h.publish().await["file_name"].as_str().unwrap().to_string();
    let active = h.publish().await["file_name"].as_str().unwrap().to_string();
    assert_eq!(h.screen(&code).await["decision"], "block");

    // The file ACTIVE names, as another build wrote it: another format
    // version. The older file is readable, but is not what was live.
    let accepted = h.dir.path().join("accepted");
    let age = |file: &str| {
        let path = accepted.join(file);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[8..12].copy_from_slice(&4u32.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let path = age(&active);
    h.restart().await;
    let body = h.screen(&code).await;
    assert_eq!(body["decision"], "block", "{body}");
    let served = body["snapshot"]["version"].as_str().unwrap().to_string();
    assert!(![&older, &active].contains(&&served), "{body}");
    // The old file stays where it was, for a way back.
    assert!(path.exists());

    // A change recorded since the last publication is a department's to
    // publish: the service serves the newest file it can read, and
    // publishes nothing.
    h.designated("sc_pub", "成都华信商贸有限公司", 43, "serious").await;
    age(&served);
    let before = h.get("/admin/v1/publications", "ops").await;
    h.restart().await;
    let body = h.screen(&code).await;
    assert_eq!(body["snapshot"]["version"], older.as_str(), "{body}");
    let after = h.get("/admin/v1/publications", "ops").await;
    assert_eq!(after.body, before.body);
    h.stop().await;
}
