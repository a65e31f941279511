//! The record of checks (核查留痕), over real HTTP: ids, times and
//! headers on every answer; records read back by their maker and by
//! auditors only; hashed ID numbers; rotation, retention and the disk
//! budget on a moved clock; and no answer without its record.

mod common;

use common::{ADMIN, Harness, PII, SCREEN, as_of, key};
use credgate_model::{Entry, EntryStatus, ListKind, SubjectKind};
use credgate_screen::Clock;
use credgate_server::checks::ChecksConfig;
use credgate_server::config::{Config, Role};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

const AUDITOR: &str = "cg_test_auditor";
/// Another screening key: it must not read the portal's records.
const OTHER: &str = "cg_test_other";

async fn start(checks: ChecksConfig) -> Harness {
    Harness::start_with(
        move |c: &mut Config| {
            c.keys.push(key("auditors", AUDITOR, vec![Role::Auditor], 1000));
            c.keys.push(key("other-portal", OTHER, vec![Role::Screen], 1000));
            c.checks = checks;
        },
        axum::Router::new(),
    )
    .await
}

fn in_force(e: &Entry, h: &Harness) -> bool {
    e.status == EntryStatus::Active
        && e.valid_until.is_none_or(|u| u >= h.clock.today())
}

fn black_org(h: &Harness) -> Entry {
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

fn listed_person(h: &Harness) -> Entry {
    h.entries
        .iter()
        .find(|e| e.subject_kind == SubjectKind::Person && in_force(e, h))
        .unwrap()
        .clone()
}

struct Answer {
    status: u16,
    check_id: Option<String>,
    snapshot: Option<String>,
    retry_after: Option<String>,
    body: Value,
}

async fn post(h: &Harness, path: &str, key: &str, body: Value) -> Answer {
    let r = h
        .client
        .post(h.url(path))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        r.headers().get(name).map(|v| v.to_str().unwrap().to_string())
    };
    Answer {
        status: r.status().as_u16(),
        check_id: header("x-credgate-check-id"),
        snapshot: header("x-credgate-snapshot"),
        retry_after: header("retry-after"),
        body: r.json().await.unwrap_or(Value::Null),
    }
}

async fn screen(h: &Harness, key: &str, body: Value) -> Answer {
    post(h, "/v1/screen", key, body).await
}

async fn record(h: &Harness, key: &str, id: &str) -> (u16, Value) {
    let r = h.get(&format!("/v1/checks/{id}"), Some(key)).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn checks_dir(h: &Harness) -> PathBuf {
    h.dir.path().join("checks")
}

/// The record files, by name.
fn files(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            (name, e.metadata().unwrap().len())
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_answer_has_a_unique_check_id_its_time_and_the_snapshot() {
    let mut h = start(ChecksConfig::default()).await;
    let e = black_org(&h);
    let mut ids = Vec::new();
    // The clock stands still: ids must still differ and increase.
    for _ in 0..5 {
        let a = screen(&h, SCREEN, json!({"code": e.code})).await;
        assert_eq!(a.status, 200, "{}", a.body);
        let id = a.body["check_id"].as_str().unwrap().to_string();
        assert_eq!(a.check_id.as_deref(), Some(id.as_str()));
        assert_eq!(a.snapshot.as_deref(), Some("first.snapshot"));
        // Noon in China on the clock's date, in China time.
        let date = as_of().format("%Y-%m-%d");
        assert_eq!(a.body["checked_at"], format!("{date}T12:00:00.000+08:00"));
        assert!(
            id.starts_with(&as_of().format("%Y%m%d-120000000-").to_string())
        );
        ids.push(id);
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids, "unique, and sorted in the order issued");

    // A batch: its id in the header, each screened item `BATCH.i`.
    let a = post(
        &h,
        "/v1/screen/batch",
        SCREEN,
        json!({"items": [{"code": e.code}, {"code": "91350100M000100Y44"}, {"name": e.name}]}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let batch = a.check_id.unwrap();
    assert!(batch > ids[4], "{batch}");
    assert_eq!(a.snapshot.as_deref(), Some("first.snapshot"));
    let results = a.body["results"].as_array().unwrap();
    assert_eq!(results[0]["result"]["check_id"], format!("{batch}.0"));
    assert!(results[1]["result"].is_null(), "an error is not a check");
    assert_eq!(results[2]["result"]["check_id"], format!("{batch}.2"));
    assert!(results[2]["result"]["checked_at"].is_string());
    let (status, rec) = record(&h, SCREEN, &batch).await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(rec["kind"], "batch");
    assert_eq!(rec["answered"], json!({"items": 3, "screened": 2}));
    let (status, item) = record(&h, SCREEN, &format!("{batch}.2")).await;
    assert_eq!(status, 200, "{item}");
    assert_eq!(item["kind"], "batch_item");
    assert_eq!(item["part_of"], batch.as_str());
    assert_eq!(item["item"], 2);
    assert_eq!(item["asked"]["name"], e.name.as_str());
    let (status, _) = record(&h, SCREEN, &format!("{batch}.1")).await;
    assert_eq!(status, 404, "the failed item has no record");
    h.stop().await;
}

#[tokio::test]
async fn a_record_is_read_by_its_maker_and_auditors_and_is_404_to_others() {
    let mut h = start(ChecksConfig::default()).await;
    let e = black_org(&h);
    let a = screen(&h, SCREEN, json!({"code": e.code, "name": e.name})).await;
    assert_eq!(a.status, 200);
    let id = a.check_id.unwrap();
    let (status, rec) = record(&h, SCREEN, &id).await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(rec["check_id"], id.as_str());
    assert_eq!(rec["checked_at"], a.body["checked_at"]);
    assert_eq!(rec["kind"], "screen");
    assert_eq!(rec["key"], "portal");
    assert_eq!(rec["snapshot"], "first.snapshot");
    assert_eq!(rec["asked"]["code"], e.code.as_str());
    assert_eq!(rec["asked"]["name"], e.name.as_str());
    assert_eq!(rec["answered"]["decision"], a.body["decision"]);
    let matched: Vec<&Value> = rec["answered"]["matched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["entry_id"])
        .collect();
    let hits: Vec<&Value> = a.body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["entry_id"])
        .collect();
    assert_eq!(matched, hits);
    assert!(!hits.is_empty());

    for reader in [AUDITOR, ADMIN] {
        let (status, r) = record(&h, reader, &id).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r, rec);
    }
    // Another key learns nothing, not even that the id exists.
    let (status, other) = record(&h, OTHER, &id).await;
    assert_eq!(status, 404);
    let never = format!("{}-000000", &id[..id.len() - 7]);
    let (status, unknown) = record(&h, OTHER, &never).await;
    assert_eq!(status, 404);
    assert_eq!(other, unknown, "a foreign id looks like one never issued");
    let long = format!("{id}{}", "7".repeat(8_000));
    for bad in ["nonsense", "..%2F..%2Fpii-audit.log", "20261101", &long] {
        let (status, body) = record(&h, AUDITOR, bad).await;
        assert_eq!(status, 404, "{bad}: {body}");
    }
    let r = h.get(&format!("/v1/checks/{id}"), None).await;
    assert_eq!(r.status(), 401);
    // An auditor reads records; it does not screen.
    let a = screen(&h, AUDITOR, json!({"code": e.code})).await;
    assert_eq!(a.status, 403, "{}", a.body);
    h.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_records_and_their_headers() {
    let mut h = start(ChecksConfig::default()).await;
    let doc: Value = h.get("/openapi.json", None).await.json().await.unwrap();
    let get = &doc["paths"]["/v1/checks/{id}"]["get"];
    assert!(get["responses"]["404"].is_object(), "{get}");
    let ok = &get["responses"]["200"]["content"]["application/json"];
    assert_eq!(ok["schema"]["$ref"], "#/components/schemas/CheckRecord");
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["CheckRecord"]["properties"]["check_id"].is_object());
    assert!(schemas["ScreenResponse"]["properties"]["check_id"].is_object());
    for path in ["/v1/screen", "/v1/screen/batch", "/v1/screen/bulk"] {
        let headers =
            &doc["paths"][path]["post"]["responses"]["200"]["headers"];
        for h in ["X-Credgate-Check-Id", "X-Credgate-Snapshot"] {
            assert!(headers[h].is_object(), "{path} {h}: {headers}");
        }
    }
    h.stop().await;
}

#[tokio::test]
async fn resident_ids_are_hashed_for_masked_keys_and_kept_for_pii_keys() {
    let mut h = start(ChecksConfig::default()).await;
    let p = listed_person(&h);
    let masked = screen(&h, SCREEN, json!({"code": p.code})).await;
    assert_eq!(masked.status, 200, "{}", masked.body);
    let again =
        screen(&h, OTHER, json!({"code": p.code.to_lowercase()})).await;
    assert_eq!(again.status, 200);
    let shown = screen(&h, PII, json!({"code": p.code})).await;
    assert_eq!(shown.status, 200);

    let (_, rec) =
        record(&h, AUDITOR, masked.check_id.as_ref().unwrap()).await;
    let hashed = rec["asked"]["code"].as_str().unwrap();
    assert!(hashed.starts_with("sha256:"), "{hashed}");
    assert_eq!(hashed.len(), "sha256:".len() + 64);
    // Salted: not the plain SHA-256 of the number, which anyone could
    // compute for every number.
    let plain: String = {
        use sha2::Digest;
        sha2::Sha256::digest(p.code.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_ne!(&hashed["sha256:".len()..], plain);
    // One number, one hash: its checks can be found together.
    let (_, rec2) =
        record(&h, AUDITOR, again.check_id.as_ref().unwrap()).await;
    assert_eq!(rec2["asked"]["code"].as_str(), Some(hashed));
    // The screen_pii key's record keeps the number (it saw it); a reader
    // without screen_pii, an auditor, gets it hashed all the same.
    let (_, rec3) =
        record(&h, AUDITOR, shown.check_id.as_ref().unwrap()).await;
    assert_eq!(rec3["asked"]["code"].as_str(), Some(hashed), "{rec3}");
    assert!(!rec3.to_string().contains(p.code.as_str()), "{rec3}");
    let (_, rec4) = record(&h, PII, shown.check_id.as_ref().unwrap()).await;
    assert_eq!(rec4["asked"]["code"], p.code.as_str(), "its maker saw it");

    // On disk: the number only in the pii key's record.
    let text: String = files(&checks_dir(&h))
        .iter()
        .map(|(n, _)| std::fs::read_to_string(checks_dir(&h).join(n)).unwrap())
        .collect();
    assert_eq!(text.matches(p.code.as_str()).count(), 1, "{text}");
    let secret = h.dir.path().join("checks-secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    h.stop().await;
}

/// `code` with its check character changed: no longer valid, yet its
/// other 17 characters name the person.
fn mistyped(code: &str) -> String {
    let last = code.chars().last().unwrap();
    let other = if last == '0' { '1' } else { '0' };
    format!("{}{other}", &code[..17])
}

#[tokio::test]
async fn a_resident_id_failing_its_check_is_hashed_for_masked_keys_too() {
    let mut h = start(ChecksConfig::default()).await;
    let p = listed_person(&h);
    let bad = mistyped(&p.code);
    // A bad code with a name is screened (by the name), so it is on
    // record: it was stored as typed.
    let a = screen(&h, SCREEN, json!({"name": p.name, "code": bad})).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let (_, rec) = record(&h, SCREEN, a.check_id.as_ref().unwrap()).await;
    let code = rec["asked"]["code"].as_str().unwrap();
    assert!(code.starts_with("sha256:"), "hashed: {rec}");
    // In a bulk row as well (a legal representative's mistyped number).
    let csv = format!("名称,法定代表人身份证号\n某某科技有限公司,{bad}\n");
    let r = h
        .client
        .post(h.url("/v1/screen/bulk?format=ndjson"))
        .header("X-API-Key", SCREEN)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let job = r.headers()["x-credgate-check-id"].to_str().unwrap().to_string();
    r.text().await.unwrap();
    let (_, row) = record(&h, SCREEN, &format!("{job}.2")).await;
    let field = row["asked"]["fields"][1].as_str().unwrap();
    assert!(field.starts_with("sha256:"), "hashed: {row}");
    // On disk, nowhere in clear.
    let text: String = files(&checks_dir(&h))
        .iter()
        .map(|(n, _)| std::fs::read_to_string(checks_dir(&h).join(n)).unwrap())
        .collect();
    assert!(!text.contains(&p.code[..17]), "{text}");
    h.stop().await;
}

#[tokio::test]
async fn a_bulk_job_is_on_record_and_each_row_references_it() {
    let mut h = start(ChecksConfig::default()).await;
    let rep = "11010519491231002X";
    let orgs: Vec<Entry> = h
        .entries
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Organisation)
        .take(3)
        .cloned()
        .collect();
    let mut csv =
        String::from("投标人名称,统一社会信用代码,法定代表人证件号码\n");
    for e in &orgs {
        csv.push_str(&format!("{},{},{rep}\n", e.name, e.code));
    }
    let r = h
        .client
        .post(h.url("/v1/screen/bulk?format=ndjson"))
        .header("X-API-Key", SCREEN)
        .header("Content-Type", "text/csv")
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let job = r.headers()["x-credgate-check-id"].to_str().unwrap().to_string();
    assert_eq!(r.headers()["x-credgate-snapshot"], "first.snapshot");
    let rows: Vec<Value> = r
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);

    let (status, rec) = record(&h, SCREEN, &job).await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(rec["kind"], "bulk_job");
    assert_eq!(rec["key"], "portal");
    assert_eq!(rec["asked"]["header"][0], "投标人名称");
    assert_eq!(rec["asked"]["upload_bytes"], csv.len());
    assert_eq!(rec["asked"]["format"], "ndjson");
    assert_eq!(rec["answered"]["rows"], 3);
    assert_eq!(rec["answered"]["completed"], true);
    for row in &rows {
        let n = row["row"].as_u64().unwrap();
        let (status, r) = record(&h, SCREEN, &format!("{job}.{n}")).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["kind"], "bulk_row");
        assert_eq!(r["part_of"], job.as_str());
        assert_eq!(r["item"], n);
        assert_eq!(r["checked_at"], rec["checked_at"]);
        assert_eq!(r["answered"]["decision"], row["decision"]);
        let fields = r["asked"]["fields"].as_array().unwrap();
        assert_eq!(fields[0], row["input"]["投标人名称"]);
        assert!(
            fields[2].as_str().unwrap().starts_with("sha256:"),
            "the representative's number hashed for a masked key: {r}"
        );
    }
    let (status, _) = record(&h, OTHER, &job).await;
    assert_eq!(status, 404);
    let (status, _) = record(&h, AUDITOR, &format!("{job}.2")).await;
    assert_eq!(status, 200);
    h.stop().await;
}

/// A day later on the harness clock, at noon in China.
fn set_day(h: &Harness, days: u64) {
    h.clock.set_china(
        as_of() + chrono::Days::new(days),
        chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
    );
}

#[tokio::test]
async fn files_rotate_by_day_and_size_and_expire_after_the_retention() {
    let cfg = ChecksConfig {
        max_file_bytes: 4096,
        retention_days: 2,
        ..ChecksConfig::default()
    };
    let mut h = start(cfg).await;
    let e = black_org(&h);
    let mut first_day = Vec::new();
    for _ in 0..30 {
        let a = screen(&h, SCREEN, json!({"name": e.name})).await;
        assert_eq!(a.status, 200);
        first_day.push(a.check_id.unwrap());
    }
    // Read back: everything queued is written.
    assert_eq!(record(&h, SCREEN, &first_day[29]).await.0, 200);
    let day0 = as_of().format("checks-%Y%m%d-").to_string();
    let listed = files(&checks_dir(&h));
    assert!(listed.len() >= 3, "rotated by size: {listed:?}");
    for (name, size) in &listed {
        assert!(name.starts_with(&day0), "{name}");
        assert!(*size <= 4096, "{name}: {size} bytes");
    }
    // Every sealed file is named with its id range.
    let sealed: Vec<&String> = listed
        .iter()
        .map(|(n, _)| n)
        .filter(|n| n.ends_with(".jsonl"))
        .collect();
    assert_eq!(sealed.len(), listed.len() - 1, "{listed:?}");
    assert!(sealed[0].contains(&format!("_{}_", first_day[0])), "{sealed:?}");

    set_day(&h, 1);
    let a = screen(&h, SCREEN, json!({"name": e.name})).await;
    let second_day = a.check_id.unwrap();
    assert_eq!(record(&h, SCREEN, &second_day).await.0, 200);
    let day1 = (as_of() + chrono::Days::new(1)).format("checks-%Y%m%d-");
    let listed = files(&checks_dir(&h));
    assert!(listed.iter().any(|(n, _)| n.starts_with(&day1.to_string())));
    assert!(listed.iter().any(|(n, _)| n.starts_with(&day0)), "kept");
    assert_eq!(record(&h, SCREEN, &first_day[0]).await.0, 200);

    // Past the retention of the first day's files (2 days).
    set_day(&h, 3);
    let a = screen(&h, SCREEN, json!({"name": e.name})).await;
    let fourth_day = a.check_id.unwrap();
    assert_eq!(record(&h, SCREEN, &fourth_day).await.0, 200);
    let listed = files(&checks_dir(&h));
    assert!(!listed.iter().any(|(n, _)| n.starts_with(&day0)), "{listed:?}");
    assert_eq!(record(&h, SCREEN, &first_day[0]).await.0, 404);
    assert_eq!(record(&h, SCREEN, &second_day).await.0, 200);
    h.stop().await;
}

#[tokio::test]
async fn the_disk_budget_removes_the_oldest_files_first() {
    let cfg = ChecksConfig {
        max_file_bytes: 2048,
        max_total_bytes: 6144,
        ..ChecksConfig::default()
    };
    let mut h = start(cfg).await;
    let e = black_org(&h);
    let mut ids = Vec::new();
    for _ in 0..40 {
        let a = screen(&h, SCREEN, json!({"name": e.name})).await;
        assert_eq!(a.status, 200);
        ids.push(a.check_id.unwrap());
    }
    assert_eq!(record(&h, SCREEN, &ids[39]).await.0, 200, "the newest kept");
    assert_eq!(record(&h, SCREEN, &ids[0]).await.0, 404, "the oldest gone");
    let listed = files(&checks_dir(&h));
    let total: u64 = listed.iter().map(|(_, s)| s).sum();
    assert!(total <= 6144, "{total} bytes: {listed:?}");
    assert!(listed.len() >= 2, "{listed:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_check_whose_record_cannot_be_queued_is_refused_with_503() {
    let cfg = ChecksConfig {
        queue_bytes: 4096,
        enqueue_timeout_ms: 50,
        ..ChecksConfig::default()
    };
    let mut h = start(cfg).await;
    let e = black_org(&h);
    // The writer stalls as on a disk that stopped answering.
    let checks = h.checks.clone();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (held, holding) = std::sync::mpsc::channel::<()>();
    let staller = std::thread::spawn(move || {
        let _stalled = checks.stall();
        held.send(()).unwrap();
        let _ = released.recv();
    });
    holding.recv().unwrap();
    let mut answered = Vec::new();
    let refused = loop {
        let a = screen(&h, SCREEN, json!({"code": e.code})).await;
        if a.status != 200 {
            break a;
        }
        answered.push(a.check_id.unwrap());
        assert!(answered.len() < 50, "the queue never filled");
    };
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.body["code"], "check_not_recorded");
    assert!(refused.body["decision"].is_null(), "no answer leaves");
    assert!(refused.check_id.is_none());
    assert_eq!(refused.retry_after.as_deref(), Some("1"));
    release.send(()).unwrap();
    staller.join().unwrap();
    let a = screen(&h, SCREEN, json!({"code": e.code})).await;
    assert_eq!(a.status, 200);
    answered.push(a.check_id.unwrap());
    for id in &answered {
        assert_eq!(record(&h, SCREEN, id).await.0, 200, "{id}");
    }
    h.stop().await;
}

#[tokio::test]
async fn answers_are_withheld_while_records_cannot_be_written() {
    // Every write rotates, so each one needs a new file in the directory.
    let cfg = ChecksConfig {
        max_file_bytes: 1,
        max_total_bytes: 1 << 20,
        ..ChecksConfig::default()
    };
    let mut h = start(cfg).await;
    let e = black_org(&h);
    let dir = checks_dir(&h);
    let mut answered = Vec::new();
    let a = screen(&h, SCREEN, json!({"code": e.code})).await;
    assert_eq!(a.status, 200);
    answered.push(a.check_id.unwrap());
    assert_eq!(record(&h, SCREEN, &answered[0]).await.0, 200);

    // The directory is gone: no file can be created.
    let away = h.dir.path().join("checks-away");
    std::fs::rename(&dir, &away).unwrap();
    std::fs::write(&dir, "not a directory").unwrap();
    let refused = loop {
        let a = screen(&h, SCREEN, json!({"code": e.code})).await;
        if a.status != 200 {
            break a;
        }
        // Queued before the writer found out: kept until written.
        answered.push(a.check_id.unwrap());
        assert!(answered.len() < 200, "never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.body["code"], "check_not_recorded");
    assert!(
        refused.body["message"].as_str().unwrap().contains("failing"),
        "{}",
        refused.body
    );
    let (status, body) = record(&h, SCREEN, &answered[0]).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "checks_unavailable");

    // Repaired: the kept records are written and checks answered again.
    std::fs::remove_file(&dir).unwrap();
    std::fs::rename(&away, &dir).unwrap();
    let mut tries = 0;
    loop {
        let a = screen(&h, SCREEN, json!({"code": e.code})).await;
        if a.status == 200 {
            answered.push(a.check_id.unwrap());
            break;
        }
        tries += 1;
        assert!(tries < 100, "never recovered: {}", a.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in &answered {
        assert_eq!(record(&h, SCREEN, id).await.0, 200, "{id} lost");
    }
    h.stop().await;
}

#[tokio::test]
async fn with_recording_off_answers_keep_their_ids_and_nothing_is_kept() {
    let cfg = ChecksConfig { enabled: false, ..ChecksConfig::default() };
    let mut h = start(cfg).await;
    let e = black_org(&h);
    let a = screen(&h, SCREEN, json!({"code": e.code})).await;
    assert_eq!(a.status, 200);
    let id = a.check_id.unwrap();
    assert_eq!(a.body["check_id"], id.as_str());
    assert_eq!(record(&h, SCREEN, &id).await.0, 404);
    assert!(!checks_dir(&h).exists());
    h.stop().await;
}
