//! A real server on 127.0.0.1:0 over a generated snapshot, with one API
//! key per role.

#![allow(dead_code)]

use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_model::Entry;
use credgate_screen::TestClock;
use credgate_server::Server;
use credgate_server::access::hash_key;
use credgate_server::config::{Config, KeyConfig, Role};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod admin;

pub const SCREEN: &str = "cg_test_screen";
pub const PII: &str = "cg_test_pii";
pub const ADMIN: &str = "cg_test_admin";
/// A key allowed 2 requests per second, burst 2.
pub const SLOW: &str = "cg_test_slow";
/// Build time of the harness's first snapshot (2026-11-01T00:00:00Z).
pub const FIRST_BUILT_AT: i64 = 1_793_491_200;

pub fn key(name: &str, key: &str, roles: Vec<Role>, rate: u32) -> KeyConfig {
    KeyConfig {
        name: name.into(),
        sha256: hash_key(key),
        roles,
        department: None,
        rate_per_second: rate,
        burst: rate,
    }
}

/// Generates `n` entries (seed `seed`) and builds them into `out`.
pub fn build_snapshot(
    dir: &Path,
    seed: u64,
    n: usize,
    out: &Path,
) -> Vec<Entry> {
    build_snapshot_at(dir, seed, n, out, None)
}

/// [`build_snapshot`] with the build time in its header set to
/// `built_at` (seconds since the epoch), which orders publications.
pub fn build_snapshot_at(
    dir: &Path,
    seed: u64,
    n: usize,
    out: &Path,
    built_at: Option<i64>,
) -> Vec<Entry> {
    let entries: Vec<Entry> =
        Generator::new(GenOptions::new(seed)).take(n).collect();
    let csv = dir.join(format!("entries-{seed}-{n}.csv"));
    let mut w =
        EntryWriter::new(std::fs::File::create(&csv).unwrap(), Format::Csv)
            .unwrap();
    for e in &entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let opts = credgate_index::BuildOptions { built_at, ..Default::default() };
    credgate_index::build(&csv, out, &opts, &|_| {}).unwrap();
    entries
}

/// Publishes a snapshot the way `credgate build` does: written under a
/// temporary name, then renamed into the inbox.
pub fn publish(
    h: &Harness,
    seed: u64,
    n: usize,
    name: &str,
    built_at: i64,
) -> Vec<Entry> {
    let tmp = h.dir.path().join(format!("{name}.tmp"));
    let entries =
        build_snapshot_at(h.dir.path(), seed, n, &tmp, Some(built_at));
    std::fs::rename(&tmp, h.snapshot_dir.join(name)).unwrap();
    entries
}

/// The generator's `as_of` date: the harness's clock starts at noon of it
/// in China, so that tests do not depend on the wall clock (the data would
/// have expired by late 2029).
pub fn as_of() -> chrono::NaiveDate {
    GenOptions::new(0).as_of
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    /// The server's clock; tests move it.
    pub clock: Arc<TestClock>,
    pub base: String,
    pub entries: Vec<Entry>,
    pub client: reqwest::Client,
    /// The inbox.
    pub snapshot_dir: PathBuf,
    /// The service's own snapshot directory.
    pub accepted_dir: PathBuf,
    pub store: std::sync::Arc<credgate_server::snapshots::Store>,
    pub audit_log: PathBuf,
    /// Check ids and the record of checks.
    pub checks: Arc<credgate_server::checks::Checks>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::start_with(|_| {}, axum::Router::new()).await
    }

    pub async fn start_with(
        adjust: impl FnOnce(&mut Config),
        extra: axum::Router<credgate_server::AppState>,
    ) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let snapshot_dir = dir.path().join("snapshots");
        std::fs::create_dir_all(&snapshot_dir).unwrap();
        // Built "yesterday" at a fixed second, so that tests can publish
        // newer and older snapshots by build time.
        let entries = build_snapshot_at(
            dir.path(),
            7,
            3_000,
            &snapshot_dir.join("first.snapshot"),
            Some(FIRST_BUILT_AT),
        );
        let mut config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            demo_entries: 0,
            watch_interval_secs: 3_600,
            keys: vec![
                key("portal", SCREEN, vec![Role::Screen], 100_000),
                key("investigators", PII, vec![Role::ScreenPii], 100_000),
                key("ops", ADMIN, vec![Role::Admin], 100_000),
                key("slow", SLOW, vec![Role::Screen], 2),
            ],
            ..Config::default()
        };
        adjust(&mut config);
        let audit_log = config.audit_log();
        let accepted_dir = config.accepted_dir();
        let clock = Arc::new(TestClock::at_china(
            as_of(),
            chrono::NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
        ));
        let server =
            Server::start_with_clock(config, clock.clone()).await.unwrap();
        let store = server.state.store.clone();
        let checks = server.state.checks.clone();
        let base = format!("http://{}", server.addr);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run_with(extra, async {
            let _ = rx.await;
        }));
        Harness {
            dir,
            clock,
            base,
            entries,
            client: reqwest::Client::new(),
            snapshot_dir,
            accepted_dir,
            store,
            audit_log,
            checks,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(self.url(path))
            .header("X-API-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn get(
        &self,
        path: &str,
        key: Option<&str>,
    ) -> reqwest::Response {
        let mut r = self.client.get(self.url(path));
        if let Some(k) = key {
            r = r.header("X-API-Key", k);
        }
        r.send().await.unwrap()
    }

    /// Stops the server and waits for it to drain.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}
