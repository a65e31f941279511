//! Measures the store's side of publishing alone: the in-force stream of
//! an existing data directory, read to the end and dropped (no build),
//! with its wall and CPU time; `--sizes` adds bytes per entry of every
//! table and index (SQLite's dbstat, a full read of the file).
//!
//!     cargo run --release -p credgate-store --example stream_bench -- \
//!         DATA_DIR [--sizes]

use std::time::Instant;

use credgate_store::{SQLITE_FILE, Store};
use futures_util::TryStreamExt;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("a data dir"));
    let sizes = args.next().as_deref() == Some("--sizes");
    let store = Store::open_dir(&dir).await.expect("the store opens");
    let t = Instant::now();
    let cpu = cpu_seconds();
    let (count, parties) = store
        .in_force_entries()
        .try_fold((0usize, 0usize), |(c, p), e| async move {
            Ok((c + 1, p + e.related.len()))
        })
        .await
        .expect("stream");
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "in_force_entries: {count} entries ({parties} related parties) in \
         {secs:.2} s = {:.0} entries/s; {cpu:.2} s of CPU (all threads)",
        count as f64 / secs
    );
    store.close().await;
    if sizes {
        breakdown(&dir.join(SQLITE_FILE)).await;
    }
}

/// User + system CPU time of this process, all threads (Linux
/// /proc/self/stat, in clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
    (tick(11).unwrap_or(0.0) + tick(12).unwrap_or(0.0)) / 100.0
}

/// Bytes per entry of each table and index (dbstat).
async fn breakdown(path: &std::path::Path) {
    use sqlx::{ConnectOptions, Row};
    let mut c = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .expect("the file opens");
    let n: i64 = sqlx::query("SELECT count(*) FROM entries")
        .fetch_one(&mut c)
        .await
        .expect("count")
        .get(0);
    let q = "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name \
             ORDER BY bytes DESC";
    let rows = sqlx::query(q).fetch_all(&mut c).await.expect("dbstat");
    let mut total = 0i64;
    for r in rows {
        let name: String = r.get("name");
        let bytes: i64 = r.get("bytes");
        total += bytes;
        println!("  {name:32} {:6.0} bytes/entry", bytes as f64 / n as f64);
    }
    println!("  {:32} {:6.0} bytes/entry ({n} entries)", "all", {
        total as f64 / n as f64
    });
}
