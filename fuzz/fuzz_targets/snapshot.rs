//! A snapshot file, mutated: `open` then `verify` must answer with an
//! error, never panic, crash or hang; a file that passes both is screened
//! with a few queries.
//!
//! Checksums stop almost every random mutation at the header, which is
//! right for damage but not for a crafted file (xxh3 is no signature).
//! So when the first byte is odd the target repairs the file length and
//! every checksum after mutating, and the parsers behind the checksums
//! get fuzzed too.
#![no_main]

use credgate_index::Snapshot;
use credgate_index::format::{
    HEADER_LEN, SECTION_ENTRY_LEN, TABLE_END, checksum_of,
};
use credgate_screen::{Catalogue, Query, Screener};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn put(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Rewrites the file length, the section checksums (of sections that lie
/// in the file) and the header checksum, as `format.rs` lays them out.
fn repair(b: &mut [u8]) {
    if b.len() < TABLE_END {
        return;
    }
    put(b, 48, b.len() as u64);
    let count = (TABLE_END - HEADER_LEN) / SECTION_ENTRY_LEN;
    for i in 0..count {
        let at = HEADER_LEN + i * SECTION_ENTRY_LEN;
        let (off, len) = (u64_at(b, at + 8), u64_at(b, at + 16));
        let Some(end) = off.checked_add(len) else { continue };
        if end > b.len() as u64 {
            continue;
        }
        let sum = checksum_of(&b[off as usize..end as usize]);
        put(b, at + 24, sum);
    }
    let mut h = twox_hash::XxHash3_64::new();
    std::hash::Hasher::write(&mut h, &b[..HEADER_LEN - 8]);
    std::hash::Hasher::write(&mut h, &b[HEADER_LEN..TABLE_END]);
    put(b, HEADER_LEN - 8, std::hash::Hasher::finish(&h));
}

fn screen(snap: Snapshot) {
    // Since format version 3 `verify` does not decode every record: a
    // crafted record passes it and must give an error here, not a panic.
    for ord in 0..snap.len() {
        if let Ok(r) = snap.record(ord) {
            for p in &r.related {
                let _ = (p.name.len(), p.id_number.map(str::len));
            }
            let _ = snap.string(r.authority).len();
        }
        if let Some(row) = snap.score_row(ord) {
            let _ = (row.brand().len(), snap.string(row.industry).len());
        }
    }
    let names: Vec<String> = snap.bitmap_names().map(String::from).collect();
    for n in &names {
        let _ = snap.bitmap(n).map(|b| b.len());
    }
    let screener =
        Screener::new(Arc::new(snap), Arc::new(Catalogue::builtin()));
    let mut queries = vec![Query {
        name: Some("南京恒瑞建设工程有限公司".into()),
        include_related: true,
        ..Default::default()
    }];
    for e in credgate_fuzz::entries().iter().take(8) {
        queries.push(Query {
            code: Some(e.code.clone()),
            name: Some(e.name.clone()),
            include_related: true,
            ..Default::default()
        });
        for s in &e.secondary_ids {
            queries
                .push(Query { code: Some(s.clone()), ..Default::default() });
        }
        for p in &e.related {
            queries.push(Query {
                code: p.id_number.clone(),
                name: Some(p.name.clone()),
                include_related: true,
                ..Default::default()
            });
        }
    }
    let today = credgate_gen::GenOptions::new(1).as_of;
    for q in &queries {
        let _ = screener.screen(q, None, today);
    }
}

/// `verify` contains the fst crate's panics on a malformed FST with
/// `catch_unwind`; libFuzzer's hook would abort on them first. Any panic
/// that escapes the target still aborts (libfuzzer-sys checks).
fn contained_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            if !info.location().is_some_and(|l| l.file().contains("/fst-")) {
                eprintln!("{info}");
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    contained_panics();
    let Some((&sel, file)) = data.split_first() else { return };
    let mut file = file.to_vec();
    if sel & 1 == 1 {
        repair(&mut file);
    }
    let path = credgate_fuzz::input_file("fuzz.snapshot", &file);
    let Ok(snap) = Snapshot::open(&path) else { return };
    if snap.verify().is_ok() {
        screen(snap);
    }
});
