//! Building from a stream of entries (`build_entries`: publishing from
//! the admin store) rather than from a file.

use credgate_entries::{EntryWriter, Format};
use credgate_gen::{GenOptions, Generator};
use credgate_index::{
    BuildError, BuildOptions, Snapshot, build, build_entries,
};
use credgate_model::Entry;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

fn entries(n: usize) -> Vec<Entry> {
    Generator::new(GenOptions::new(11)).take(n).collect()
}

fn opts(batch_rows: usize) -> BuildOptions {
    BuildOptions {
        built_at: Some(1_700_000_000),
        batch_rows,
        ..Default::default()
    }
}

fn streamed(dir: &Path, name: &str, all: &[Entry]) -> PathBuf {
    let out = dir.join(name);
    let stream = all.iter().cloned().map(Ok::<_, Infallible>);
    build_entries(stream, &out, &opts(64), &|_| {}).unwrap();
    out
}

fn digest(path: &Path) -> u128 {
    Snapshot::open(path).unwrap().header().source_digest
}

#[test]
fn a_streamed_build_holds_what_a_file_build_of_the_same_entries_holds() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(700);
    let csv = dir.path().join("e.csv");
    let mut w =
        EntryWriter::new(std::fs::File::create(&csv).unwrap(), Format::Csv)
            .unwrap();
    for e in &all {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    let from_file = dir.path().join("file.snapshot");
    build(&csv, &from_file, &opts(0), &|_| {}).unwrap();
    let from_stream = streamed(dir.path(), "stream.snapshot", &all);

    let (a, b) = (
        Snapshot::open(&from_file).unwrap(),
        Snapshot::open(&from_stream).unwrap(),
    );
    b.verify().unwrap();
    assert_eq!(a.len(), b.len());
    for ord in 0..a.len() {
        let (x, y) = (a.record(ord).unwrap(), b.record(ord).unwrap());
        assert_eq!(x.entry_id, y.entry_id);
        assert_eq!(x.name, y.name);
        assert_eq!(x.related.len(), y.related.len());
    }
    for e in all.iter().take(50) {
        assert_eq!(a.by_code(&e.code), b.by_code(&e.code), "{}", e.code);
    }
    // The digest is over the entries, not a file's bytes.
    assert_ne!(digest(&from_file), digest(&from_stream));
}

#[test]
fn the_streamed_source_digest_identifies_the_entries_and_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(300);
    let base = digest(&streamed(dir.path(), "a.snapshot", &all));
    assert_eq!(base, digest(&streamed(dir.path(), "b.snapshot", &all)));

    let mut changed = all.clone();
    changed[150].reason.push('。');
    let d = digest(&streamed(dir.path(), "c.snapshot", &changed));
    assert_ne!(base, d, "one field of one entry changed");

    let mut swapped = all.clone();
    swapped.swap(3, 4);
    let d = digest(&streamed(dir.path(), "d.snapshot", &swapped));
    assert_ne!(base, d, "two entries swapped");
}

#[test]
fn a_stream_error_stops_the_build_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(300);
    let stream = all
        .into_iter()
        .enumerate()
        .map(|(i, e)| if i == 200 { Err("store gone") } else { Ok(e) });
    let out = dir.path().join("x.snapshot");
    let err = build_entries(stream, &out, &opts(64), &|_| {}).unwrap_err();
    assert!(matches!(err, BuildError::Source(_)), "{err}");
    assert!(err.to_string().contains("store gone"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_duplicate_in_a_stream_is_refused_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = entries(100);
    all[60].entry_id = all[10].entry_id.clone();
    let stream = all.into_iter().map(Ok::<_, Infallible>);
    let out = dir.path().join("x.snapshot");
    let err = build_entries(stream, &out, &opts(16), &|_| {}).unwrap_err();
    let BuildError::Rejected { count, first } = err else { panic!("{err}") };
    assert_eq!(count, 1);
    assert_eq!(first[0].line, 61, "the 1-based position in the stream");
    assert!(!out.exists());
}

/// An entry the model's rules refuse (`Entry::check`) is a bad row at
/// its position, naming the field, as the same row of a file would be.
#[test]
fn an_entry_breaking_a_rule_is_refused_at_its_position() {
    use credgate_model::ListKind;
    let dir = tempfile::tempdir().unwrap();
    let mut all = entries(100);
    let other = match all[40].list {
        ListKind::Red => ListKind::Black,
        _ => ListKind::Red,
    };
    all[40].list = other;
    let stream = all.into_iter().map(Ok::<_, Infallible>);
    let out = dir.path().join("x.snapshot");
    let err = build_entries(stream, &out, &opts(16), &|_| {}).unwrap_err();
    let BuildError::Rejected { count, first } = err else { panic!("{err}") };
    assert_eq!(count, 1);
    assert_eq!(first[0].line, 41, "the 1-based position in the stream");
    assert_eq!(first[0].errors[0].column, "category", "{:?}", first[0]);
    assert!(first[0].errors[0].message.contains("list"), "{:?}", first[0]);
    assert!(!out.exists());
}
