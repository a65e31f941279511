//! Score rows (snapshot format version 5) save record reads and decide
//! nothing: screening a snapshot and the same snapshot with every row
//! zeroed (checksums repaired, so that it opens and verifies) gives the
//! same hits, for every kind of generated query and for thresholds
//! around the exact-match score, where only the name key's bits keep an
//! exact match from being ruled out.

use chrono::NaiveDate;
use credgate_gen::{GenOptions, Generator, queries};
use credgate_index::format::{self, Section};
use credgate_index::{BuildOptions, Snapshot, build_entries};
use credgate_model::Entry;
use credgate_screen::{MatchOptions, Query, matcher};
use std::path::Path;

/// The snapshot at `path` with its score rows zeroed, written to `out`.
fn without_rows(path: &Path, out: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut header = format::Header::decode(&bytes, path).unwrap();
    let e = header.sections[Section::ScoreRows.index()];
    let range = e.offset as usize..(e.offset + e.len) as usize;
    bytes[range.clone()].fill(0);
    header.sections[Section::ScoreRows.index()].checksum =
        format::checksum_of(&bytes[range]);
    let table = header.encode();
    bytes[..table.len()].copy_from_slice(&table);
    std::fs::write(out, bytes).unwrap();
}

#[test]
fn zeroing_the_score_rows_changes_no_answer() {
    let entries: Vec<Entry> =
        Generator::new(GenOptions::new(11)).take(4_000).collect();
    let dir = tempfile::tempdir().unwrap();
    let (with, zeroed) = (dir.path().join("a"), dir.path().join("b"));
    build_entries(
        entries.iter().cloned().map(Ok::<_, std::io::Error>),
        &with,
        &BuildOptions::default(),
        &|_| {},
    )
    .unwrap();
    without_rows(&with, &zeroed);
    let a = Snapshot::open(&with).unwrap();
    let b = Snapshot::open(&zeroed).unwrap();
    b.verify().unwrap();
    let rows = |s: &Snapshot| {
        (0..s.len()).filter(|&o| s.score_row(o).is_some()).count()
    };
    assert!(rows(&a) > 1_500, "{}", rows(&a));
    assert_eq!(rows(&b), 0);

    let sample: Vec<Entry> = entries.iter().step_by(4).cloned().collect();
    let labelled = queries::make(&sample, &|_| false, &|_| false, 1_500, 5);
    let kinds: std::collections::BTreeSet<&str> =
        labelled.iter().map(|q| q.kind).collect();
    assert!(kinds.len() > 15, "{kinds:?}");
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let mut hits = 0;
    for min_score in [0.3, 0.5, 0.7, 0.895, 0.9] {
        let opts = MatchOptions { min_score, ..Default::default() };
        for l in &labelled {
            let q = Query {
                name: (!l.name.is_empty()).then(|| l.name.clone()),
                code: (!l.code.is_empty()).then(|| l.code.clone()),
                include_related: true,
                ..Default::default()
            };
            let (Ok(x), Ok(y)) = (
                matcher::find(&a, &q, &opts, today),
                matcher::find(&b, &q, &opts, today),
            ) else {
                continue;
            };
            assert_eq!(x, y, "{} {:?} at {min_score}", l.kind, l.name);
            hits += x.len();
        }
    }
    assert!(hits > 3_000, "{hits}");
}
