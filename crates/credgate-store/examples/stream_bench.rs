//! Measures the store's side of publishing alone: the in-force stream of
//! an existing data directory, read to the end and dropped (no build),
//! with its wall and CPU time; `--sizes` adds bytes per entry of every
//! table and index (SQLite's dbstat, a full read of the file).
//!
//!     cargo run --release -p credgate-store --example stream_bench -- \
//!         DATA_DIR [--sizes]

mod common;

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
    let cpu = common::cpu_seconds();
    let (count, parties) = store
        .in_force_entries()
        .try_fold((0usize, 0usize), |(c, p), e| async move {
            Ok((c + 1, p + e.related.len()))
        })
        .await
        .expect("stream");
    let secs = t.elapsed().as_secs_f64();
    let cpu = common::cpu_seconds() - cpu;
    println!(
        "in_force_entries: {count} entries ({parties} related parties) in \
         {secs:.2} s = {:.0} entries/s; {cpu:.2} s of CPU (all threads)",
        count as f64 / secs
    );
    store.close().await;
    if sizes {
        common::breakdown(&dir.join(SQLITE_FILE)).await;
    }
}
