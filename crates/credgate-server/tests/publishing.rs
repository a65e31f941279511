//! Publishing over HTTP (issue 10 items 6, 7): the whole way from a
//! proposal to what screening answers, and imports. The harness is
//! `tests/admin.rs`'s (stored keys of two departments and each role, a
//! `TestClock`), with a screening key.

use chrono::{NaiveDate, NaiveTime};
use credgate_screen::TestClock;
use credgate_server::Server;
use credgate_server::config::Config;
use credgate_store::{Audit, Department, NewKey, Role, Store};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

const SC: &str = "sc-fgw";
const JS: &str = "js-scjg";
const CENTRE: &str = "credit-centre";

struct Admin {
    _dir: tempfile::TempDir,
    base: String,
    client: reqwest::Client,
    clock: Arc<TestClock>,
    keys: HashMap<&'static str, String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A response: status, headers, JSON body (Null when not JSON).
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl Admin {
    /// Stored keys: `sc_pub`, `sc_rev`, `js_pub` (publishers and a
    /// reviewer of two departments), `ops` (operator), `aud` (auditor),
    /// `adm` (admin) of the credit centre.
    async fn start(today: &str) -> Admin {
        Admin::start_with(today, |_| {}).await
    }

    /// [`Admin::start`] with the configuration changed by `f`.
    async fn start_with(today: &str, f: impl FnOnce(&mut Config)) -> Admin {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_dir(dir.path()).await.unwrap();
        let at = chrono::Utc::now();
        let setup = Audit::new(at, "test", CENTRE, "setup");
        for (code, name) in [
            (SC, "四川省发展和改革委员会"),
            (JS, "江苏省市场监督管理局"),
            (CENTRE, "信用中心"),
        ] {
            store
                .upsert_department(
                    &setup,
                    &Department { code: code.into(), name_zh: name.into() },
                )
                .await
                .unwrap();
        }
        let mut keys = HashMap::new();
        for (name, dept, roles) in [
            ("sc_pub", SC, vec![Role::Publisher]),
            ("sc_rev", SC, vec![Role::Reviewer]),
            ("js_pub", JS, vec![Role::Publisher]),
            ("ops", CENTRE, vec![Role::Operator]),
            ("aud", CENTRE, vec![Role::Auditor]),
            ("adm", CENTRE, vec![Role::Admin]),
            ("scr", CENTRE, vec![Role::Screen]),
        ] {
            let made = store
                .create_key(
                    &setup,
                    &NewKey {
                        name: name.into(),
                        department: dept.into(),
                        roles,
                    },
                )
                .await
                .unwrap();
            keys.insert(name, made.secret);
        }
        store.close().await;
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            demo_entries: 0,
            watch_interval_secs: 3_600,
            admin: credgate_server::config::AdminConfig {
                sweep_interval_minutes: 0,
                ..Default::default()
            },
            ..Config::default()
        };
        f(&mut config);
        let clock = Arc::new(TestClock::at_china(
            day(today),
            NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        ));
        let server =
            Server::start_with_clock(config, clock.clone()).await.unwrap();
        let base = format!("http://{}", server.addr);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = rx.await;
        }));
        Admin {
            _dir: dir,
            base,
            client: reqwest::Client::new(),
            clock,
            keys,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    fn set_today(&self, d: &str) {
        self.clock
            .set_china(day(d), NaiveTime::from_hms_opt(10, 0, 0).unwrap());
    }

    async fn send(&self, r: reqwest::RequestBuilder, key: &str) -> Answer {
        let r = r.header("X-API-Key", self.keys[key].as_str());
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        Answer { status, body }
    }

    async fn get(&self, path: &str, key: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)), key).await
    }

    async fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.send(
            self.client.post(format!("{}{path}", self.base)).json(&body),
            key,
        )
        .await
    }

    /// A transition on `id` at `version` (as `If-Match`).
    async fn act(
        &self,
        id: &str,
        action: &str,
        key: &str,
        version: i64,
        body: Value,
    ) -> Answer {
        let url = format!("{}/admin/v1/entries/{id}/{action}", self.base);
        self.send(
            self.client
                .post(url)
                .header("If-Match", format!("\"{version}\""))
                .json(&body),
            key,
        )
        .await
    }

    /// Proposes an entry of `key`'s department; returns its id.
    async fn propose(&self, key: &str, name: &str, n: u64) -> String {
        let a = self.post("/admin/v1/entries", key, proposal(name, n)).await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["entry_id"].as_str().unwrap().to_string()
    }

    /// Proposes, records a statement and designates on today's date.
    async fn designated(
        &self,
        key: &str,
        name: &str,
        n: u64,
        severity: &str,
    ) -> String {
        let id = self.propose(key, name, n).await;
        let today = self.get(&format!("/admin/v1/entries/{id}"), key).await;
        let noticed = today.body["entry"]["notice"]["noticed_on"].clone();
        let a = self
            .act(
                &id,
                "statement",
                key,
                1,
                json!({"text": "无异议", "received_on": noticed}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        let a = self
            .act(&id, "designate", key, 2, designation(&noticed, severity))
            .await;
        assert_eq!(a.status, 200, "{}", a.body);
        id
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

fn uscc(n: u64) -> String {
    credgate_ident::generate::uscc(
        "91",
        510100,
        &credgate_ident::generate::org_body_ma(n),
    )
    .unwrap()
}

fn proposal(name: &str, n: u64) -> Value {
    json!({
        "subject": {"kind": "organisation", "name": name, "code": uscc(n)},
        "list": "black",
        "category": "court_defaulter",
        "reasons": "有履行能力而拒不履行生效法律文书确定义务",
        "basis": "《最高人民法院关于公布失信被执行人名单信息的若干规定》",
        "rights": "陈述申辩、行政复议、行政诉讼",
        "authority": "四川省发展和改革委员会",
    })
}

fn designation(decided_on: &Value, severity: &str) -> Value {
    json!({
        "decided_on": decided_on,
        "document_number": "川发改信〔2026〕1号",
        "list": "black",
        "category": "court_defaulter",
        "severity": severity,
        "scenarios": ["government_procurement", "bidding"],
    })
}

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
