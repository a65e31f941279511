//! What the fuzz targets share: a small snapshot built from generated
//! entries, and a screener over it.

use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_index::Snapshot;
use credgate_model::Entry;
use credgate_screen::{Catalogue, Screener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Entries in the fuzzing snapshot: enough for every index to hold
/// something, few enough that building and verifying stay fast.
pub const ENTRIES: usize = 40;
/// Seed of the generated entries (the seed corpus depends on it).
pub const SEED: u64 = 8;

/// A temporary directory that lives as long as the fuzzing process.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir")).path()
}

/// The generated entries.
pub fn entries() -> &'static [Entry] {
    static ENTRIES_: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES_.get_or_init(|| {
        Generator::new(GenOptions::new(SEED)).take(ENTRIES).collect()
    })
}

/// Builds a snapshot of [`entries`] at `out`.
pub fn build_snapshot(out: &Path) {
    let csv = scratch().join("entries.csv");
    let mut w = EntryWriter::new(
        std::fs::File::create(&csv).expect("entries file"),
        Format::Csv,
    )
    .expect("writer");
    for e in entries() {
        w.write(e).expect("writing entries");
    }
    w.into_inner().expect("writing entries");
    credgate_index::build(
        &csv,
        out,
        &credgate_index::BuildOptions::default(),
        &|_| {},
    )
    .expect("building the fuzzing snapshot");
}

/// The bytes of a valid snapshot of [`entries`].
pub fn snapshot_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let path = scratch().join("valid.snapshot");
        build_snapshot(&path);
        std::fs::read(&path).expect("reading the snapshot")
    })
}

/// A screener over a verified snapshot of [`entries`].
pub fn screener() -> &'static Screener {
    static SCREENER: OnceLock<Screener> = OnceLock::new();
    SCREENER.get_or_init(|| {
        one_thread();
        let path = scratch().join("screen.snapshot");
        build_snapshot(&path);
        let snap = Snapshot::open(&path).expect("opening");
        snap.verify().expect("verifying");
        Screener::new(Arc::new(snap), Arc::new(Catalogue::builtin()))
    })
}

/// Rayon's pool with one thread: the fuzzer is one process per core.
pub fn one_thread() {
    let _ = rayon::ThreadPoolBuilder::new().num_threads(1).build_global();
}

/// A file in the scratch directory for inputs that are read by path.
pub fn input_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("writing the input file");
    path
}

pub mod bulk {
    //! One bulk run and its properties, shared by the CSV and XLSX
    //! targets.

    use credgate_bulk::InputFormat;
    use credgate_screen::Screener;
    use std::path::Path;

    pub fn check(path: &Path, format: InputFormat, screener: &Screener) {
        // The service's default bounds: what an upload gets.
        let limits = credgate_bulk::Limits::default();
        let Ok(mut source) = credgate_bulk::open(path, format, &limits)
        else {
            return;
        };
        // The generator's date: the snapshot's entries are in force then.
        let today = credgate_gen::GenOptions::new(1).as_of;
        let mut last = 0u64;
        let mut seen = 0u64;
        let result = credgate_bulk::run(
            &mut source,
            screener,
            None,
            None,
            today,
            |rows| {
                for r in rows {
                    // The sheet's own row numbers: increasing (blank
                    // rows are skipped, the header is row 1 or later).
                    assert!(r.row > last, "rows in input order");
                    last = r.row;
                    seen += 1;
                    assert!(
                        r.decision.is_empty() != r.error.is_empty(),
                        "row {}: a decision or an error",
                        r.row
                    );
                }
                Ok(())
            },
            &|_| {},
        );
        if let Ok(summary) = result {
            assert_eq!(summary.rows, seen);
        }
    }
}
