//! What the screening test binaries share.

use credgate_index::{BuildOptions, Snapshot, build_entries};
use credgate_model::Entry;
use credgate_screen::{Catalogue, Screener};
use std::sync::Arc;

/// A screener of a snapshot of `entries`, built in the directory
/// returned with it.
pub fn screener_of(entries: Vec<Entry>) -> (tempfile::TempDir, Screener) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.snapshot");
    build_entries(
        entries.into_iter().map(Ok::<_, std::io::Error>),
        &out,
        &BuildOptions::default(),
        &|_| {},
    )
    .unwrap();
    let snap = Arc::new(Snapshot::open(&out).unwrap());
    (dir, Screener::new(snap, Arc::new(Catalogue::builtin())))
}
