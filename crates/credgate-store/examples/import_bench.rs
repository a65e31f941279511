//! Measures the store's import path, the in-force stream and the audit
//! verification on synthetic entries, and its size per entry:
//!
//!     cargo run -p credgate-store --example import_bench -- 100000
//!
//! The file is made in a temporary directory and removed afterwards.

mod common;

use std::time::Instant;

use chrono::Utc;
use credgate_gen::{GenOptions, Generator};
use credgate_store::{
    Audit, Department, EntryData, NewEntry, SQLITE_FILE, Stage, Store,
};
use futures_util::TryStreamExt;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("a number of entries"))
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open_dir(dir.path()).await.expect("the store opens");
    let audit = Audit::new(Utc::now(), "bench", "bench", "import");
    let d =
        Department { code: "bench".into(), name_zh: "测试部门".into() };
    store.upsert_department(&audit, &d).await.expect("department");
    let entries: Vec<NewEntry> = Generator::new(GenOptions::new(7))
        .take(n)
        .map(|e| NewEntry {
            entry_id: e.entry_id.clone(),
            department: "bench".into(),
            stage: Stage::Published,
            data: EntryData::from_model(&e),
        })
        .collect();
    let parties: usize = entries.iter().map(|e| e.data.related.len()).sum();

    let t = Instant::now();
    let cpu = common::cpu_seconds();
    store.insert_many(&audit, &entries).await.expect("import");
    let secs = t.elapsed().as_secs_f64();
    let cpu = common::cpu_seconds() - cpu;
    println!(
        "insert_many: {n} entries ({parties} related parties) in {secs:.2} s \
         = {:.0} entries/s; {cpu:.2} s of CPU (all threads) = {:.0} \
         entries per CPU-second",
        n as f64 / secs,
        n as f64 / cpu
    );

    let t = Instant::now();
    let count = store
        .in_force_entries()
        .try_fold(0usize, |c, _| async move { Ok(c + 1) })
        .await
        .expect("stream");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "in_force_entries: {count} in {secs:.2} s = {:.0} entries/s",
        count as f64 / secs
    );

    let t = Instant::now();
    let report = store.verify_audit().await.expect("verify runs");
    println!("verify_audit: {report:?} in {:.2} s", t.elapsed().as_secs_f64());
    store.close().await;

    // Closing the last connection checkpoints the WAL into the file.
    let size = |name: &str| {
        std::fs::metadata(dir.path().join(name)).map(|m| m.len()).unwrap_or(0)
    };
    let db = size(SQLITE_FILE);
    let wal = size(&format!("{SQLITE_FILE}-wal"));
    println!(
        "size: {db} bytes (+{wal} WAL) = {:.0} bytes/entry",
        (db + wal) as f64 / n as f64
    );
    common::breakdown(&dir.path().join(SQLITE_FILE)).await;
}
