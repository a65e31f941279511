//! Building real snapshot files and reading them back, including every
//! kind of damage a file can suffer.

use credgate_entries::{EntryWriter, Format, Policy};
use credgate_gen::{GenOptions, Generator};
use credgate_index::format::{self, HEADER_LEN, Section};
use credgate_index::keys::name_keys;
use credgate_index::{
    BuildError, BuildOptions, FormatError, Residence, Snapshot, build,
};
use credgate_model::{Entry, EntryStatus, SubjectKind};
use std::path::{Path, PathBuf};

fn entries(n: usize) -> Vec<Entry> {
    Generator::new(GenOptions::new(11)).take(n).collect()
}

fn write_entries(dir: &Path, entries: &[Entry]) -> PathBuf {
    let path = dir.join("entries.csv");
    let mut w =
        EntryWriter::new(std::fs::File::create(&path).unwrap(), Format::Csv)
            .unwrap();
    for e in entries {
        w.write(e).unwrap();
    }
    w.into_inner().unwrap();
    path
}

fn build_snapshot(dir: &Path, entries: &[Entry]) -> PathBuf {
    let input = write_entries(dir, entries);
    let out = dir.join("test.snapshot");
    let opts =
        BuildOptions { built_at: Some(1_700_000_000), ..Default::default() };
    build(&input, &out, &opts, &|_| {}).unwrap();
    out
}

#[test]
fn every_entry_is_found_by_code_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(3_000);
    let path = build_snapshot(dir.path(), &all);
    for residence in [Residence::Mapped, Residence::Memory] {
        every_entry_is_found_in(
            &Snapshot::open_in(&path, residence).unwrap(),
            &all,
        );
    }
}

fn every_entry_is_found_in(snap: &Snapshot, all: &[Entry]) {
    snap.verify().unwrap();
    let kept: Vec<&Entry> =
        all.iter().filter(|e| e.status != EntryStatus::Revoked).collect();
    assert_eq!(snap.len() as usize, kept.len());
    for (ord, e) in kept.iter().enumerate() {
        let r = snap.record(ord as u32).unwrap();
        assert_eq!(r.entry_id, e.entry_id);
        assert_eq!(r.name, e.name);
        assert_eq!(snap.string(r.authority), e.authority);
        assert_eq!(r.related.len(), e.related.len());
        assert!(snap.by_code(&e.code).contains(&(ord as u32)), "{}", e.code);
        let keys = name_keys(&e.name, e.subject_kind);
        assert!(
            snap.by_name_base(&keys.base).contains(&(ord as u32)),
            "{}",
            e.name
        );
        for p in &e.related {
            let id = p.id_number.as_deref().unwrap();
            assert!(snap.related_to(id).contains(&(ord as u32)));
        }
        for s in &e.secondary_ids {
            assert!(snap.by_secondary(s).contains(&(ord as u32)));
        }
    }
    assert!(snap.by_code("91110000600037341L").is_empty());
    assert!(snap.by_name_base("不存在的名字").is_empty());
}

/// Every entry's score row says what its record says: the 字号, the
/// industry word and the name key's bits; and an entry has a row
/// exactly when its record could give one (an organisation with a 字号
/// of one or two characters of the CJK block).
#[test]
fn score_rows_agree_with_their_records() {
    use credgate_index::scorerow;
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(3_000));
    let snap = Snapshot::open(&path).unwrap();
    let mut with_row = 0;
    for ord in 0..snap.len() {
        let r = snap.record(ord).unwrap();
        let key = r.name_key.to_string();
        let eligible = scorerow::partial(r.subject_kind, r.brand, &key) != 0;
        match snap.score_row(ord) {
            Some(row) => {
                with_row += 1;
                let brand: String = row.brand().iter().collect();
                assert_eq!(brand, r.brand, "{ord}");
                assert_eq!(snap.string(row.industry), r.industry, "{ord}");
                assert_eq!(row.key_bits, scorerow::key_bits(&key), "{ord}");
                assert_eq!(r.subject_kind, SubjectKind::Organisation);
            }
            None => assert!(!eligible, "{ord}: {} has no row", r.name_key),
        }
    }
    // The generator's 字号 are mostly of two characters.
    assert!(with_row > 1_000, "{with_row}");
    assert!(snap.score_row(snap.len()).is_none());
}

/// The dense list ranks say what the list bitmaps say, entry by entry,
/// and nothing past the last entry.
#[test]
fn list_ranks_agree_with_the_list_bitmaps() {
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(1_000));
    let snap = Snapshot::open(&path).unwrap();
    let lists: Vec<_> = credgate_model::ListKind::ALL
        .iter()
        .map(|l| snap.bitmap(&format!("list:{}", l.code())).unwrap())
        .collect();
    let mut seen = [0; 4];
    for ord in 0..snap.len() {
        let want = lists.iter().position(|b| b.contains(ord)).unwrap_or(3);
        assert_eq!(snap.list_rank(ord) as usize, want, "{ord}");
        seen[want] += 1;
    }
    assert!(seen[..3].iter().all(|&n| n > 0), "{seen:?}");
    assert_eq!(snap.list_rank(snap.len()), 3);
    assert_eq!(snap.list_rank(u32::MAX), 3);
}

#[test]
fn bitmaps_partition_the_entries() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(2_000);
    let snap = Snapshot::open(&build_snapshot(dir.path(), &all)).unwrap();
    let lists: u64 = ["black", "focus", "red"]
        .iter()
        .map(|l| snap.bitmap(&format!("list:{l}")).map_or(0, |b| b.len()))
        .sum();
    assert_eq!(lists, snap.len() as u64);
    let black = snap.bitmap("list:black").unwrap();
    for ord in black.iter().take(100) {
        assert_eq!(
            snap.record(ord).unwrap().list,
            credgate_model::ListKind::Black
        );
    }
    let cat = snap.bitmap("category:court_defaulter").unwrap();
    assert!(cat.is_subset(black));
}

#[test]
fn batch_size_does_not_change_the_snapshot() {
    // Many small batches run every stage of the pipeline (read, prepare,
    // write) with three batches in flight, and its end with a partial one.
    let dir = tempfile::tempdir().unwrap();
    let all = entries(500);
    let input = write_entries(dir.path(), &all);
    let mut bytes = Vec::new();
    for batch_rows in [0, 7, 64, 499, 500, 501] {
        let out = dir.path().join(format!("b{batch_rows}.snapshot"));
        let opts = BuildOptions {
            built_at: Some(1_700_000_000),
            batch_rows,
            ..Default::default()
        };
        let report = build(&input, &out, &opts, &|_| {}).unwrap();
        assert_eq!(report.rows, 500, "batch {batch_rows}");
        assert_eq!(
            report.bad_count,
            0,
            "batch {batch_rows}: {:?}",
            report.bad_rows.first()
        );
        bytes.push((batch_rows, std::fs::read(&out).unwrap()));
    }
    for (b, x) in &bytes[1..] {
        assert!(*x == bytes[0].1, "batch {b} built different bytes");
    }
}

#[test]
fn building_twice_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let all = entries(500);
    let a = std::fs::read(build_snapshot(dir.path(), &all)).unwrap();
    let b = std::fs::read(build_snapshot(dir.path(), &all)).unwrap();
    assert!(a == b, "builds are not reproducible");
}

fn damaged(f: impl FnOnce(&mut Vec<u8>)) -> FormatError {
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(300));
    let mut bytes = std::fs::read(&path).unwrap();
    f(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    let refused = |residence| match Snapshot::open_in(&path, residence) {
        Err(e) => e,
        Ok(s) => s.verify().expect_err("damage must be detected"),
    };
    // Read into memory or mapped, the same damage gets the same error.
    let mapped = refused(Residence::Mapped);
    assert_eq!(refused(Residence::Memory).to_string(), mapped.to_string());
    mapped
}

#[test]
fn truncated_file_is_refused() {
    let e = damaged(|b| b.truncate(b.len() - 100));
    let msg = e.to_string();
    assert!(msg.contains("truncated or appended"), "{msg}");
    assert!(msg.contains("rebuild it with `credgate build`"), "{msg}");
    let e = damaged(|b| b.truncate(100));
    assert!(e.to_string().contains("shorter than a header"), "{e}");
    // An empty file (read into memory as one zero byte, since an
    // anonymous map cannot be empty).
    let e = damaged(|b| b.clear());
    assert!(e.to_string().contains("not a credgate snapshot"), "{e}");
}

#[test]
fn flipped_byte_is_detected_in_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(300));
    let pristine = std::fs::read(&path).unwrap();
    let header =
        credgate_index::format::Header::decode(&pristine, &path).unwrap();
    for s in Section::ALL {
        let range = header.sections[s.index()];
        if range.len == 0 {
            continue;
        }
        let mut bytes = pristine.clone();
        let at = (range.offset + range.len / 2) as usize;
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let err = match Snapshot::open(&path) {
            Err(e) => e.to_string(),
            Ok(snap) => snap.verify().unwrap_err().to_string(),
        };
        assert!(err.contains("corrupt snapshot"), "{}: {err}", s.name());
        assert!(err.contains(s.name()), "{}: {err}", s.name());
    }
    // A flipped header byte is caught at open.
    let mut bytes = pristine.clone();
    bytes[HEADER_LEN - 100] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let err = Snapshot::open(&path).unwrap_err().to_string();
    assert!(err.contains("header checksum mismatch"), "{err}");
}

/// Replaces bytes of a section and repairs its checksum and the header's,
/// as a crafted file would: only the content checks can refuse it.
fn crafted(
    pristine: &[u8],
    path: &Path,
    s: Section,
    edit: impl FnOnce(&mut [u8]),
) -> Vec<u8> {
    let mut bytes = pristine.to_vec();
    let mut header = format::Header::decode(&bytes, path).unwrap();
    let e = header.sections[s.index()];
    let range = e.offset as usize..(e.offset + e.len) as usize;
    edit(&mut bytes[range.clone()]);
    header.sections[s.index()].checksum = format::checksum_of(&bytes[range]);
    let table = header.encode();
    bytes[..table.len()].copy_from_slice(&table);
    bytes
}

/// A score rows section shorter than eight bytes an entry (its table
/// entry and checksums repaired, as a crafted file would have them) is
/// refused at open, naming the section.
#[test]
fn score_rows_of_another_count_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(300));
    let mut bytes = std::fs::read(&path).unwrap();
    let mut header = format::Header::decode(&bytes, &path).unwrap();
    let rows = &mut header.sections[Section::ScoreRows.index()];
    rows.len -= 8;
    let range = rows.offset as usize..(rows.offset + rows.len) as usize;
    rows.checksum = format::checksum_of(&bytes[range]);
    let table = header.encode();
    bytes[..table.len()].copy_from_slice(&table);
    std::fs::write(&path, &bytes).unwrap();
    let e = Snapshot::open(&path).unwrap_err().to_string();
    assert!(e.contains("score rows do not match the entry count"), "{e}");
}

/// Records are not decoded one by one at `verify`: that a crafted record
/// with repaired checksums cannot make the trusted decoder read invalid
/// UTF-8 rests on the records section being checked as UTF-8 as a whole.
#[test]
fn invalid_utf8_in_records_is_refused_even_with_repaired_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(300));
    let pristine = std::fs::read(&path).unwrap();
    for (s, what) in [
        (Section::Records, "section records: text is not valid UTF-8"),
        (Section::Strings, "section strings: text is not valid UTF-8"),
    ] {
        let bytes = crafted(&pristine, &path, s, |b| {
            let at = b.len() - 3;
            b[at] = 0xFF;
        });
        std::fs::write(&path, &bytes).unwrap();
        let snap = Snapshot::open(&path).unwrap();
        let err = snap.verify().unwrap_err().to_string();
        assert!(err.contains(what), "{err}");
    }
}

/// Garbage records with repaired checksums (here: every record's bytes
/// shifted, so each decodes from the middle of another) give errors or
/// records at lookup time, never a panic.
#[test]
fn garbage_records_with_repaired_checksums_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let list = entries(300);
    let path = build_snapshot(dir.path(), &list);
    let pristine = std::fs::read(&path).unwrap();
    for seed in 0..8u8 {
        let bytes = crafted(&pristine, &path, Section::Records, |b| {
            for (i, x) in b.iter_mut().enumerate() {
                if *x < 0x80 && (i as u8).wrapping_mul(31) % 8 == seed {
                    *x = (*x).wrapping_add(seed + 1) & 0x7F;
                }
            }
        });
        std::fs::write(&path, &bytes).unwrap();
        let snap = Snapshot::open(&path).unwrap();
        snap.verify().unwrap();
        for ord in 0..snap.len() {
            if let Ok(r) = snap.record(ord) {
                let _ = r.related.iter().count();
            }
        }
        for e in &list {
            let _ = snap.by_code(&e.code);
        }
    }
}

#[test]
fn other_versions_and_other_files_are_refused() {
    let e = damaged(|b| b[8] = 7);
    assert!(matches!(e, FormatError::Version { found: 7, .. }), "{e}");
    let want = format!("reads only version {}; rebuild", format::VERSION);
    assert!(e.to_string().contains(&want), "{e}");
    let e = damaged(|b| b[0] = b'X');
    assert!(matches!(e, FormatError::NotASnapshot { .. }), "{e}");
}

#[test]
fn rejected_input_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_entries(dir.path(), &entries(50));
    let mut text = std::fs::read_to_string(&input).unwrap();
    text.push_str("BAD1,black,organisation,x,91110000600037341N,court_defaulter,a,b,,,,,2024-01-01,,serious,,,,,,,,,,\n");
    std::fs::write(&input, text).unwrap();
    let out = dir.path().join("x.snapshot");
    let err =
        build(&input, &out, &BuildOptions::default(), &|_| {}).unwrap_err();
    match err {
        BuildError::Rejected { count, first } => {
            assert_eq!(count, 1);
            assert_eq!(first[0].line, 52);
        }
        e => panic!("{e}"),
    }
    assert!(!out.exists());
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
    let opts =
        BuildOptions { policy: Policy::SkipInvalid, ..Default::default() };
    let report = build(&input, &out, &opts, &|_| {}).unwrap();
    assert_eq!(report.bad_count, 1);
    assert!(out.exists());
}

/// Files a build may leave behind: anything with `tmp` in its name.
fn temporary_files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    out.sort();
    out
}

#[test]
fn a_build_failing_with_an_error_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_entries(dir.path(), &entries(200));
    // The snapshot is written in full, then cannot be renamed onto a
    // non-empty directory: the error comes after the last byte.
    let out = dir.path().join("x.snapshot");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("occupied"), b"").unwrap();
    let err =
        build(&input, &out, &BuildOptions::default(), &|_| {}).unwrap_err();
    assert!(matches!(err, BuildError::Io(_)), "{err}");
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
    // An unwritable target directory fails at the start, cleanly too.
    let err = build(
        &input,
        &dir.path().join("missing/x.snapshot"),
        &BuildOptions::default(),
        &|_| {},
    )
    .unwrap_err();
    assert!(matches!(err, BuildError::Io(_)), "{err}");
    assert_eq!(temporary_files(dir.path()), Vec::<String>::new());
}

#[test]
fn duplicate_entry_ids_are_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = entries(20);
    all.push(all[3].clone());
    let input = write_entries(dir.path(), &all);
    let err = build(
        &input,
        &dir.path().join("x.snapshot"),
        &BuildOptions::default(),
        &|_| {},
    )
    .unwrap_err();
    let BuildError::Rejected { first, .. } = err else { panic!() };
    assert!(first[0].to_string().contains("duplicate"), "{}", first[0]);
}

/// Found by the `snapshot` fuzz target: a malformed FST whose checksums
/// are right (xxh3 is no signature: anyone crafting a file rewrites them)
/// passed `verify`, and a lookup then panicked inside the fst crate.
/// Every byte of the FST section (names were one too before format
/// version 4) is changed in turn, the checksums repaired, and the file
/// either refused or answered without a panic.
#[test]
fn malformed_fst_with_valid_checksums_is_refused_by_verify() {
    use credgate_index::format::{Header, TABLE_END};
    // The fst crate's panics are expected here: keep them off the output.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.location().is_some_and(|l| l.file().contains("/fst-")) {
            hook(info);
        }
    }));
    let dir = tempfile::tempdir().unwrap();
    let all = entries(20);
    let path = build_snapshot(dir.path(), &all);
    let pristine = std::fs::read(&path).unwrap();
    let header = Header::decode(&pristine, &path).unwrap();
    let (mut refused, mut answered) = (0, 0);
    for s in [Section::SecondaryFst] {
        let range = header.sections[s.index()];
        for at in range.offset..range.offset + range.len {
            for value in [0xFF, pristine[at as usize] ^ 0x80] {
                let mut bytes = pristine.clone();
                bytes[at as usize] = value;
                let mut h = header.clone();
                let r =
                    range.offset as usize..(range.offset + range.len) as usize;
                // Chunked since format version 3: a plain xxh3 of the
                // section left every change refused by its checksum, and
                // the FST checks untested.
                h.sections[s.index()].checksum =
                    format::checksum_of(&bytes[r]);
                bytes[..TABLE_END].copy_from_slice(&h.encode());
                std::fs::write(&path, &bytes).unwrap();
                let Ok(snap) = Snapshot::open(&path) else {
                    refused += 1;
                    continue;
                };
                if snap.verify().is_err() {
                    refused += 1;
                    continue;
                }
                for e in &all {
                    let keys = name_keys(&e.name, e.subject_kind);
                    snap.by_name_base(&keys.base);
                    for id in &e.secondary_ids {
                        snap.by_secondary(id);
                    }
                }
                answered += 1;
            }
        }
    }
    assert!(refused > 0, "some changes must be refused");
    // Some pass `verify` (a changed output value, say) and are looked
    // up: the checksums were repaired right.
    assert!(answered > 0, "every change refused: {refused}");
}

/// Found by the `snapshot` fuzz target: an entry count beyond u32 in a
/// header with a valid checksum overflowed the offsets check at open.
#[test]
fn entry_count_beyond_u32_is_refused_at_open() {
    use credgate_index::format::{Header, TABLE_END};
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(20));
    let mut bytes = std::fs::read(&path).unwrap();
    let mut header = Header::decode(&bytes, &path).unwrap();
    for count in [(1 << 62) + header.entry_count, 1 << 32] {
        header.entry_count = count;
        bytes[..TABLE_END].copy_from_slice(&header.encode());
        std::fs::write(&path, &bytes).unwrap();
        let err = Snapshot::open(&path).unwrap_err().to_string();
        assert!(err.contains("record offsets do not match"), "{err}");
    }
}

/// A forged header claiming a terabyte, on a sparse file that long: read
/// into memory, it is refused before any memory is taken (mapped, the
/// bytes past the real snapshot are zeros that verification refuses).
#[test]
fn a_snapshot_too_large_for_memory_is_refused_before_reading_it() {
    use credgate_index::format::{Header, TABLE_END};
    let dir = tempfile::tempdir().unwrap();
    let path = build_snapshot(dir.path(), &entries(20));
    let mut bytes = std::fs::read(&path).unwrap();
    let mut header = Header::decode(&bytes, &path).unwrap();
    let huge = 1u64 << 40;
    header.file_len = huge;
    bytes[..TABLE_END].copy_from_slice(&header.encode());
    let f = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut &f, &bytes).unwrap();
    f.set_len(huge).expect("a sparse file of 1 TB");
    drop(f);
    let err = Snapshot::open_in(&path, Residence::Memory).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("needs {huge} bytes")), "{msg}");
    assert!(msg.contains("mapped"), "{msg}");
    // A file that is no snapshot is refused from its first bytes.
    std::fs::write(&path, b"not a snapshot at all").unwrap();
    let err = Snapshot::open_in(&path, Residence::Memory).unwrap_err();
    assert!(err.to_string().contains("not a credgate snapshot"), "{err}");
}

/// Two names of `kind` made by `make` that the name index of a snapshot
/// of at most 32 entries cannot tell apart (their hashes' top 20 bits).
fn colliding_names(
    kind: SubjectKind,
    make: impl Fn(usize) -> String,
) -> (String, String) {
    credgate_index::keys::names_sharing_hash_bits(kind, 20, 20_000, make)
        .expect("a collision among 20,000 names")
}

/// The name index is keyed by a hash: a name whose key shares the
/// hash's stored bits with another's is a candidate of its lookup, and
/// `by_name_base` confirms against the record, so the answer is exact.
#[test]
fn a_name_hash_collision_costs_a_candidate_not_a_wrong_answer() {
    const CHARS: &str =
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红";
    let chars: Vec<char> = CHARS.chars().collect();
    let pick = |i: usize| chars[i % chars.len()];
    let (p1, p2) = colliding_names(SubjectKind::Person, |i| {
        let n = chars.len();
        format!("张{}{}{}", pick(i), pick(i / n), pick(i / n / n))
    });
    let (o1, o2) = colliding_names(SubjectKind::Organisation, |i| {
        let n = chars.len();
        format!(
            "南京{}{}{}科技有限公司",
            pick(i),
            pick(i / n),
            pick(i / n / n)
        )
    });
    // At most 32 entries: the index keeps the 20 bits found equal.
    let mut all = entries(30);
    let mut rename = |kind: SubjectKind, names: [&str; 2]| {
        let mut slots = all.iter_mut().filter(|e| {
            e.subject_kind == kind && e.status != EntryStatus::Revoked
        });
        for n in names {
            slots.next().expect("an entry of the kind").name = n.to_string();
        }
    };
    rename(SubjectKind::Person, [&p1, &p2]);
    rename(SubjectKind::Organisation, [&o1, &o2]);
    let dir = tempfile::tempdir().unwrap();
    let snap = Snapshot::open(&build_snapshot(dir.path(), &all)).unwrap();
    snap.verify().unwrap();
    let ord = |name: &str| {
        (0..snap.len())
            .find(|&o| snap.record(o).unwrap().name == name)
            .unwrap()
    };
    for (kind, a, b) in [
        (SubjectKind::Person, &p1, &p2),
        (SubjectKind::Organisation, &o1, &o2),
    ] {
        let (ka, kb) = (name_keys(a, kind).base, name_keys(b, kind).base);
        let mut both = vec![ord(a), ord(b)];
        both.sort();
        // The collision is real: the index cannot tell the keys apart.
        assert_eq!(snap.name_base_candidates(&ka), both, "{a} / {b}");
        assert_eq!(snap.name_base_candidates(&kb), both, "{a} / {b}");
        assert_eq!(snap.by_name_base(&ka), [ord(a)], "{a}");
        assert_eq!(snap.by_name_base(&kb), [ord(b)], "{b}");
    }
}
