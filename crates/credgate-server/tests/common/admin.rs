//! The admin module's HTTP harness, shared by `tests/admin.rs` and
//! `tests/publishing.rs`: a real server on an ephemeral port with stored
//! keys of two departments and each role, and a `TestClock` that the
//! tests move through the lifecycle's periods.

use chrono::{NaiveDate, NaiveTime};
use credgate_screen::TestClock;
use credgate_server::Server;
use credgate_server::config::Config;
use credgate_store::{Audit, Department, NewKey, Role, Store};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

pub const SC: &str = "sc-fgw";
pub const JS: &str = "js-scjg";
pub const CENTRE: &str = "credit-centre";

pub struct Admin {
    pub dir: tempfile::TempDir,
    pub base: String,
    pub client: reqwest::Client,
    pub clock: Arc<TestClock>,
    pub keys: HashMap<&'static str, String>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A response: status, headers, JSON body (Null when not JSON).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().unwrap().to_string()
    }

    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

impl Admin {
    /// Stored keys: `sc_pub`, `sc_rev`, `js_pub` (publishers and a
    /// reviewer of two departments), `ops` (operator), `aud` (auditor),
    /// `adm` (admin), `scr` (screen) of the credit centre, `sc_pii`
    /// (publisher with `screen_pii`).
    pub async fn start(today: &str) -> Admin {
        Admin::start_with(today, |_| {}).await
    }

    /// [`Admin::start`] with the configuration changed by `f`.
    pub async fn start_with(
        today: &str,
        f: impl FnOnce(&mut Config),
    ) -> Admin {
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
            ("sc_pii", SC, vec![Role::Publisher, Role::ScreenPii]),
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
        let mut config = config_in(dir.path());
        f(&mut config);
        let clock = Arc::new(TestClock::at_china(
            day(today),
            NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
        ));
        let mut admin = Admin {
            dir,
            base: String::new(),
            client: reqwest::Client::new(),
            clock,
            keys,
            shutdown: None,
            task: None,
        };
        admin.serve(config).await;
        admin
    }

    async fn serve(&mut self, config: Config) {
        let server = Server::start_with_clock(config, self.clock.clone())
            .await
            .unwrap();
        self.base = format!("http://{}", server.addr);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        self.task = Some(tokio::spawn(server.run(async {
            let _ = rx.await;
        })));
        self.shutdown = Some(tx);
    }

    /// Stops the server and starts another on the same data directory
    /// (with the default test configuration), as a restart or an upgrade
    /// does.
    pub async fn restart(&mut self) {
        self.halt().await;
        self.serve(config_in(self.dir.path())).await;
    }

    pub fn set_today(&self, d: &str) {
        self.clock
            .set_china(day(d), NaiveTime::from_hms_opt(10, 0, 0).unwrap());
    }

    pub async fn send(&self, r: reqwest::RequestBuilder, key: &str) -> Answer {
        let r = r.header("X-API-Key", self.keys[key].as_str());
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        Answer { status, headers, body }
    }

    pub async fn get(&self, path: &str, key: &str) -> Answer {
        self.send(self.client.get(format!("{}{path}", self.base)), key).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Answer {
        self.send(
            self.client.post(format!("{}{path}", self.base)).json(&body),
            key,
        )
        .await
    }

    /// A transition on `id` at `version` (as `If-Match`).
    pub async fn act(
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
    pub async fn propose(&self, key: &str, name: &str, n: u64) -> String {
        let a = self.post("/admin/v1/entries", key, proposal(name, n)).await;
        assert_eq!(a.status, 201, "{}", a.body);
        a.body["entry_id"].as_str().unwrap().to_string()
    }

    /// Proposes, records a statement and designates on today's date.
    pub async fn designated(
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

    pub fn pii_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pii-audit.log"))
            .unwrap_or_default()
    }

    pub async fn stop(mut self) {
        self.halt().await;
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

/// The test configuration of a server on `dir`.
fn config_in(dir: &std::path::Path) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        demo_entries: 0,
        watch_interval_secs: 3_600,
        admin: credgate_server::config::AdminConfig {
            sweep_interval_minutes: 0,
            ..Default::default()
        },
        ..Config::default()
    }
}

pub fn uscc(n: u64) -> String {
    credgate_ident::generate::uscc(
        "91",
        510100,
        &credgate_ident::generate::org_body_ma(n),
    )
    .unwrap()
}

pub fn proposal(name: &str, n: u64) -> Value {
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

pub fn designation(decided_on: &Value, severity: &str) -> Value {
    json!({
        "decided_on": decided_on,
        "document_number": "川发改信〔2026〕1号",
        "list": "black",
        "category": "court_defaulter",
        "severity": severity,
        "scenarios": ["government_procurement", "bidding"],
    })
}
