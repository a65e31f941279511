//! Shared set-up of the benchmarks: a snapshot to query and queries drawn
//! from it.
//!
//! By default a 50,000-entry snapshot is generated in a temporary
//! directory, so `cargo bench` works anywhere. For the recorded figures,
//! point `CREDGATE_BENCH_SNAPSHOT` at a snapshot built with
//! `credgate build` (1M and 10M entries; see BENCHMARKS.md).

use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_index::{BuildOptions, Snapshot};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug)]
pub struct Fixture {
    pub snapshot: Arc<Snapshot>,
    /// Keeps a generated snapshot's directory alive.
    _dir: Option<tempfile::TempDir>,
}

pub fn fixture() -> Fixture {
    if let Ok(path) = std::env::var("CREDGATE_BENCH_SNAPSHOT") {
        let snap = Snapshot::open(&PathBuf::from(&path))
            .expect("CREDGATE_BENCH_SNAPSHOT");
        // As the service does before serving a snapshot: afterwards
        // records are read without re-validating their strings.
        snap.verify().expect("CREDGATE_BENCH_SNAPSHOT verifies");
        return Fixture { snapshot: Arc::new(snap), _dir: None };
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("entries.csv");
    let mut w = EntryWriter::new(
        std::fs::File::create(&input).expect("create"),
        Format::Csv,
    )
    .expect("writer");
    for e in Generator::new(GenOptions::new(7)).take(50_000) {
        w.write(&e).expect("write");
    }
    w.into_inner().expect("flush");
    let out = dir.path().join("bench.snapshot");
    credgate_index::build(&input, &out, &BuildOptions::default(), &|_| {})
        .expect("build");
    let snap = Snapshot::open(&out).expect("open");
    snap.verify().expect("verify");
    Fixture { snapshot: Arc::new(snap), _dir: Some(dir) }
}

/// Every `step`-th in-force organisation entry: (code, name).
pub fn sample(snap: &Snapshot, n: usize) -> Vec<(String, String)> {
    let step = (snap.len() as usize / n.max(1)).max(1);
    (0..snap.len())
        .step_by(step)
        .filter_map(|o| snap.record(o).ok())
        .filter(|r| {
            r.subject_kind == credgate_model::SubjectKind::Organisation
        })
        .map(|r| (r.code.to_string(), r.name.to_string()))
        .take(n)
        .collect()
}

/// A one-character typo in the 字号 of a name.
pub fn typo(name: &str) -> String {
    let parts = brand_of(name);
    let Some(start) = name.find(&parts) else { return name.to_string() };
    let first = parts.chars().next().unwrap_or('恒');
    let with = if first == '端' { '瑞' } else { '端' };
    format!("{}{}{}", &name[..start], with, &name[start + first.len_utf8()..])
}

/// The 字号 of an organisation name.
fn brand_of(name: &str) -> String {
    credgate_index::keys::name_keys(
        name,
        credgate_model::SubjectKind::Organisation,
    )
    .parts
    .brand
}
