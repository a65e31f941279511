//! Opening and reading a snapshot in place.

use crate::build::posting;
use crate::format::{
    CHECK_CHUNK, FormatError, Header, Section, section_checksum,
};
use crate::hashindex::HashIndex;
use crate::keys::{code_hash, name_hash};
use crate::record::{self, RecordError, RecordView, StringTable, Tables};
use memmap2::Mmap;
use roaring::RoaringBitmap;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes of one section of a shared memory map; lets an `fst::Map` own
/// its data without borrowing from the snapshot.
#[derive(Debug, Clone)]
struct SectionBytes {
    map: Arc<Mmap>,
    range: Range<usize>,
}

/// An FST section split by key range (see `sharded.rs`).
#[derive(Default)]
struct ShardedMap {
    firsts: Vec<Vec<u8>>,
    fsts: Vec<fst::Map<SectionBytes>>,
}

impl ShardedMap {
    fn get(&self, key: &str) -> Option<u64> {
        let shard = crate::sharded::shard_for(&self.firsts, key.as_bytes())?;
        self.fsts[shard].get(key)
    }
}

/// Visits every node a lookup can reach, so that `verify` refuses a
/// malformed FST instead of a query panicking on it: the fst crate checks
/// only an FST's header and footer when it opens one, and decodes nodes
/// with slice indexing that panics on a bad address (found by the
/// `snapshot` fuzz target, with the checksums repaired as a crafted file
/// would have them). Hence the `catch_unwind`: the panic is the fst
/// crate's only way of saying "malformed".
fn check_fst(fst: &fst::raw::Fst<SectionBytes>) -> Result<(), String> {
    let walk = || {
        let len = fst.as_bytes().len();
        let mut seen = vec![0u64; len / 64 + 1];
        let mut stack = vec![fst.root().addr()];
        while let Some(addr) = stack.pop() {
            if addr >= len {
                return Err(format!("node address {addr} past the end"));
            }
            if seen[addr / 64] & (1 << (addr % 64)) != 0 {
                continue;
            }
            seen[addr / 64] |= 1 << (addr % 64);
            let node = fst.node(addr);
            // Lookups in large nodes go through an index that iterating
            // the transitions does not read.
            if node.len() > 32 {
                for b in 0..=u8::MAX {
                    node.find_input(b);
                }
            }
            stack.extend(node.transitions().map(|t| t.addr));
        }
        Ok(())
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(walk))
        .unwrap_or_else(|_| Err("malformed FST".into()))
}

impl AsRef<[u8]> for SectionBytes {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }
}

/// An open snapshot. Cheap to share behind an `Arc`; every lookup reads
/// the memory map in place.
pub struct Snapshot {
    path: PathBuf,
    map: Arc<Mmap>,
    header: Header,
    ranges: Vec<Range<usize>>,
    secondary_fst: ShardedMap,
    bitmaps: HashMap<String, RoaringBitmap>,
    meta: serde_json::Value,
    /// Set once [`Snapshot::verify`] has checked every section and found
    /// the records and the strings' text valid UTF-8 as a whole: from
    /// then on strings are read without validating them again.
    verified: std::sync::atomic::AtomicBool,
    /// The in-force statuses as a dense bit set, made on first use
    /// ([`Snapshot::status_in_force`]).
    in_force: std::sync::OnceLock<Vec<u64>>,
    /// Each entry's list as two bits, made on first use
    /// ([`Snapshot::list_rank`]).
    list_ranks: std::sync::OnceLock<Vec<u64>>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("path", &self.path)
            .field("entries", &self.header.entry_count)
            .field("built_at", &self.header.built_at)
            .finish_non_exhaustive()
    }
}

/// Where an open snapshot's bytes live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Residence {
    /// Mapped from the file: pages come from the page cache as they are
    /// touched. Opening costs the same at any size, and the memory is the
    /// page cache's, shared and reclaimable. Huge pages map it where the
    /// page cache holds the file in huge folios (`write.rs`).
    #[default]
    Mapped,
    /// Read into private memory, with transparent huge pages where the
    /// kernel allows them (`madvise`). Costs the file's size in resident
    /// memory and a read of the whole file at open (in parallel, on the
    /// current rayon pool); in exchange a random access at 10M entries
    /// rarely misses the TLB whoever wrote the file (a mapped file
    /// written in small pieces is mapped in small pages: p99 about twice
    /// as high, BENCHMARKS.md), and the bytes cannot change or vanish
    /// under the reader whatever happens to the file. The read competes
    /// with whatever else runs (a swap under full load: BENCHMARKS.md).
    Memory,
}

/// Whether `len` bytes fit in the memory the kernel says is available
/// (`MemAvailable`; no limit where that cannot be read). A copy already
/// resident (the live snapshot during a swap) is not available memory, so
/// it is counted.
fn fits_in_memory(len: u64) -> std::io::Result<()> {
    let available =
        std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().strip_suffix("kB"))
                .and_then(|kb| kb.trim().parse::<u64>().ok())
                .map(|kb| kb * 1024)
        });
    match available {
        Some(avail) if len > avail => Err(std::io::Error::new(
            std::io::ErrorKind::OutOfMemory,
            format!(
                "holding this snapshot in memory needs {len} bytes and \
                 {avail} are available; open it mapped instead \
                 (snapshot_residence = \"mapped\", --residence mapped)"
            ),
        )),
        _ => Ok(()),
    }
}

/// Bytes per read of [`read_into_memory`]: large enough for the disk,
/// small enough to spread over the pool's threads.
const READ_PIECE: usize = 16 << 20;

/// The whole file in private anonymous memory (huge pages advised before
/// the first write, so that the kernel backs the region with them), read
/// in pieces in parallel, then made read-only.
fn read_into_memory(file: &std::fs::File) -> std::io::Result<Mmap> {
    use rayon::prelude::*;
    use std::os::unix::fs::FileExt;
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| std::io::Error::other("file larger than memory"))?;
    // An anonymous map cannot be empty; an empty file then reads as one
    // zero byte, which no header accepts.
    let mut m = memmap2::MmapMut::map_anon(len.max(1))?;
    // Advice only: without transparent huge pages the region still works.
    let _ = m.advise(memmap2::Advice::HugePage);
    m[..len].par_chunks_mut(READ_PIECE).enumerate().try_for_each(
        |(i, piece)| file.read_exact_at(piece, (i * READ_PIECE) as u64),
    )?;
    m.make_read_only()
}

/// Resident bytes of a snapshot, and how many of them huge pages map
/// ([`Snapshot::page_use`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageUse {
    pub resident: u64,
    pub huge: u64,
}

/// The [`PageUse`] of the mapping that holds address `at` in an smaps
/// text: its `Rss`, and its huge pages: `FilePmdMapped` (a mapped file),
/// `ShmemPmdMapped` (a file on tmpfs) and `AnonHugePages` (one read into
/// memory). The mapping that holds it, not only one that starts there:
/// should the kernel merge an anonymous copy with a neighbour, the
/// figures are the merged mapping's.
fn page_use_in(smaps: &str, at: usize) -> Option<PageUse> {
    let mut lines = smaps.lines();
    lines.find(|l| {
        let range = l.split_once(' ').and_then(|(r, _)| r.split_once('-'));
        let hex = |h: &str| usize::from_str_radix(h, 16).ok();
        range.is_some_and(|(from, to)| {
            matches!((hex(from), hex(to)), (Some(f), Some(t)) if (f..t).contains(&at))
        })
    })?;
    let kb = |v: &str| -> Option<u64> {
        v.trim()
            .strip_suffix("kB")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|k| k * 1024)
    };
    let mut use_ = PageUse { resident: 0, huge: 0 };
    // The mapping's fields run to the next mapping's header line (the
    // one that is not `Name: value`).
    for line in lines.take_while(|l| {
        l.split_once(':')
            .is_some_and(|(k, _)| !k.contains(' ') && !k.contains('-'))
    }) {
        let (key, value) = line.split_once(':')?;
        match key {
            "Rss" => use_.resident = kb(value)?,
            "FilePmdMapped" | "ShmemPmdMapped" | "AnonHugePages" => {
                use_.huge += kb(value)?
            }
            _ => {}
        }
    }
    Some(use_)
}

/// What `verify` checked.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub sections: usize,
    pub records: u64,
    pub bytes: u64,
}

impl Snapshot {
    /// Opens a snapshot: maps it, checks the header, the section table and
    /// the small sections. Does not read the records or the indexes, so
    /// opening costs the same at any size; [`Snapshot::verify`] checks
    /// everything.
    pub fn open(path: &Path) -> Result<Snapshot, FormatError> {
        Snapshot::open_in(path, Residence::Mapped)
    }

    /// [`Snapshot::open`] with the bytes where `residence` says: mapped,
    /// or read whole into memory first.
    pub fn open_in(
        path: &Path,
        residence: Residence,
    ) -> Result<Snapshot, FormatError> {
        let io = |source| FormatError::Io { path: path.to_path_buf(), source };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let map = match residence {
            Residence::Memory => {
                // The header first: a file that is no snapshot, or that
                // claims another length than its own, is refused before
                // any memory is taken for it; and one too large for the
                // memory left (a sparse file with a forged header) is
                // refused instead of exhausting it.
                let header = Header::read_from(&mut file, path)?;
                fits_in_memory(header.file_len).map_err(io)?;
                read_into_memory(&file).map_err(io)?
            }
            // SAFETY: credgate never modifies a snapshot file after it is
            // renamed into place (new snapshots get new files), so the
            // mapped bytes do not change under us. A file truncated by
            // someone else would fault; the header's file length is
            // checked against the file size below.
            #[allow(unsafe_code)]
            Residence::Mapped => {
                let map = unsafe { Mmap::map(&file) }.map_err(io)?;
                // Pages read from disk then come in huge folios, one
                // page table entry each (`write.rs` says why that
                // matters). Advice only: without it the mapping works.
                let _ = map.advise(memmap2::Advice::HugePage);
                map
            }
        };
        let header = Header::decode(&map, path)?;
        let ranges: Vec<Range<usize>> = header
            .sections
            .iter()
            .map(|s| s.offset as usize..(s.offset + s.len) as usize)
            .collect();
        let map = Arc::new(map);
        let corrupt = |what: String| FormatError::Corrupt {
            path: path.to_path_buf(),
            what,
        };
        let fst_map = |s: Section| {
            let base = ranges[s.index()].start;
            let shards =
                crate::sharded::layout(&map[ranges[s.index()].clone()])
                    .map_err(|e| corrupt(format!("{}: {e}", s.name())))?;
            let mut out = ShardedMap::default();
            for (key, fst) in shards {
                out.firsts
                    .push(map[base + key.start..base + key.end].to_vec());
                let bytes = SectionBytes {
                    map: map.clone(),
                    range: base + fst.start..base + fst.end,
                };
                out.fsts.push(
                    fst::Map::new(bytes)
                        .map_err(|e| corrupt(format!("{}: {e}", s.name())))?,
                );
            }
            Ok::<_, FormatError>(out)
        };
        let secondary_fst = fst_map(Section::SecondaryFst)?;
        let section = |s: Section| &map[ranges[s.index()].clone()];
        for s in [
            Section::CodeIndex,
            Section::RelatedIndex,
            Section::NameIndex,
            Section::NoRegionIndex,
            Section::FuzzyIndex,
        ] {
            HashIndex::open(section(s))
                .map_err(|e| corrupt(format!("{}: {e}", s.name())))?;
        }
        // Ordinals are u32; a larger count once overflowed `n * 4` (found
        // by the `snapshot` fuzz target).
        let offsets_len = u32::try_from(header.entry_count)
            .ok()
            .and_then(|n| (n as usize).checked_mul(4));
        if offsets_len != Some(section(Section::RecordOffsets).len()) {
            return Err(corrupt(
                "record offsets do not match the entry count".into(),
            ));
        }
        // The same count, at eight bytes a row.
        if offsets_len.and_then(|n| n.checked_mul(2))
            != Some(section(Section::ScoreRows).len())
        {
            return Err(corrupt(
                "score rows do not match the entry count".into(),
            ));
        }
        let bitmaps = decode_bitmaps(section(Section::Bitmaps))
            .map_err(|e| corrupt(format!("bitmaps: {e}")))?;
        let meta = serde_json::from_slice(section(Section::Meta))
            .map_err(|e| corrupt(format!("meta: {e}")))?;
        for s in [Section::Strings, Section::DocumentPrefixes] {
            if StringTable::open(section(s)).is_none() {
                return Err(corrupt(format!("{}: table truncated", s.name())));
            }
        }
        Ok(Snapshot {
            path: path.to_path_buf(),
            map,
            header,
            ranges,
            secondary_fst,
            bitmaps,
            meta,
            verified: std::sync::atomic::AtomicBool::new(false),
            in_force: std::sync::OnceLock::new(),
            list_ranks: std::sync::OnceLock::new(),
        })
    }

    /// Checks every section: its checksum, chunk by chunk in parallel
    /// (on the current rayon pool: a service runs it on a pool of its
    /// own, at low priority), the UTF-8 of the records and of the
    /// strings' text as a whole (the same pass, so each chunk is read
    /// once), every FST node, and that record offsets increase. Records
    /// are not decoded one by one: the decoder is total (any bytes give a
    /// record or an error), so what `verify` must establish is only what
    /// the decoder then takes for granted — that strings cut at
    /// character boundaries are valid UTF-8 (`record::decode_trusted`).
    pub fn verify(&self) -> Result<VerifyReport, FormatError> {
        use rayon::prelude::*;
        let corrupt = |what: String| FormatError::Corrupt {
            path: self.path.clone(),
            what,
        };
        let tables = self.tables();
        // Where each section's UTF-8 region starts, if it has one.
        let utf8_from = |s: Section| match s {
            Section::Records => Some(0),
            Section::Strings => Some(tables.strings.text_at()),
            Section::DocumentPrefixes => {
                Some(tables.document_prefixes.text_at())
            }
            _ => None,
        };
        let chunks: Vec<(Section, usize)> = Section::ALL
            .iter()
            .flat_map(|&s| {
                let len = self.section(s).len();
                (0..len).step_by(CHECK_CHUNK).map(move |at| (s, at))
            })
            .collect();
        let checked: Vec<(u64, bool)> = chunks
            .par_iter()
            .map(|&(s, at)| {
                let bytes = self.section(s);
                let end = (at + CHECK_CHUNK).min(bytes.len());
                let sum = twox_hash::XxHash3_64::oneshot(&bytes[at..end]);
                let utf8 = utf8_from(s)
                    .is_none_or(|from| utf8_piece(bytes, from, at, end));
                (sum, utf8)
            })
            .collect();
        for s in Section::ALL {
            let mine = chunks
                .iter()
                .zip(&checked)
                .filter(|((c, _), _)| *c == s)
                .map(|(_, r)| *r);
            let sum = section_checksum(mine.clone().map(|(sum, _)| sum));
            if sum != self.header.sections[s.index()].checksum {
                return Err(corrupt(format!(
                    "section {} checksum mismatch",
                    s.name()
                )));
            }
            if mine.clone().any(|(_, utf8)| !utf8) {
                return Err(corrupt(format!(
                    "section {}: text is not valid UTF-8",
                    s.name()
                )));
            }
        }
        self.secondary_fst.fsts.par_iter().try_for_each(|fst| {
            check_fst(fst.as_fst()).map_err(|e| {
                corrupt(format!("{}: {e}", Section::SecondaryFst.name()))
            })
        })?;
        let records = self.section(Section::Records).len();
        let mut last = None;
        for ord in 0..self.len() {
            let at = self.offset(ord);
            if last.is_some_and(|l| at <= l) || at >= records {
                return Err(corrupt(format!(
                    "record {ord}: offset {at} out of order or past the end"
                )));
            }
            last = Some(at);
        }
        self.verified.store(true, std::sync::atomic::Ordering::Release);
        Ok(VerifyReport {
            sections: Section::ALL.len(),
            records: self.header.entry_count,
            bytes: self.header.file_len,
        })
    }

    /// Decodes every record (what `verify` did before format version 3):
    /// `credgate verify --records` and tests. Not needed for safety.
    pub fn decode_all(&self) -> Result<u64, FormatError> {
        for ord in 0..self.len() {
            self.record(ord).map_err(|e| FormatError::Corrupt {
                path: self.path.clone(),
                what: format!("record {ord}: {e}"),
            })?;
        }
        Ok(self.header.entry_count)
    }

    fn tables(&self) -> Tables<'_> {
        let verified =
            self.verified.load(std::sync::atomic::Ordering::Acquire);
        let table = |s: Section| {
            let t =
                StringTable::open(self.section(s)).expect("checked at open");
            if verified { t.trusted() } else { t }
        };
        Tables {
            strings: table(Section::Strings),
            document_prefixes: table(Section::DocumentPrefixes),
        }
    }

    fn section(&self, s: Section) -> &[u8] {
        &self.map[self.ranges[s.index()].clone()]
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn meta(&self) -> &serde_json::Value {
        &self.meta
    }

    /// How much of the snapshot is resident and how much of that is
    /// mapped by huge pages, from the kernel's `/proc/self/smaps` (None
    /// where that cannot be read). Right after [`Snapshot::verify`] all of
    /// it is resident. A mapped snapshot is in huge pages when the page
    /// cache holds the file in huge folios: written by this crate
    /// (`write.rs`) or read from disk, yes, where the kernel and the
    /// filesystem have large folios; copied in by a tool that writes small
    /// pieces, no, and random reads at 10M entries then miss the TLB far
    /// more often (p99 about twice as high).
    ///
    /// Reading smaps walks every mapping's page tables under the
    /// process's mmap lock (~12 ms with a 10M snapshot mapped): for tools
    /// (`credgate verify`), not for a service's request path or swaps.
    pub fn page_use(&self) -> Option<PageUse> {
        // Bytes, read lossily: a mapped file's path need not be UTF-8.
        let smaps = std::fs::read("/proc/self/smaps").ok()?;
        page_use_in(
            &String::from_utf8_lossy(&smaps),
            self.map.as_ptr() as usize,
        )
    }

    /// Number of entries.
    pub fn len(&self) -> u32 {
        self.header.entry_count as u32
    }

    pub fn is_empty(&self) -> bool {
        self.header.entry_count == 0
    }

    fn offset(&self, ord: u32) -> usize {
        crate::format::u32_at(
            self.section(Section::RecordOffsets),
            ord as usize * 4,
        ) as usize
            * 4
    }

    /// The record of entry `ord`.
    pub fn record(&self, ord: u32) -> Result<RecordView<'_>, RecordError> {
        if ord >= self.len() {
            return Err(RecordError { at: 0, what: "no such entry" });
        }
        let records = self.section(Section::Records);
        let at = self.offset(ord);
        let bytes = records
            .get(at..)
            .ok_or(RecordError { at, what: "offset past the end" })?;
        let tables = self.tables();
        if self.verified.load(std::sync::atomic::Ordering::Acquire) {
            record::decode_trusted(bytes, &tables)
        } else {
            record::decode(bytes, &tables)
        }
    }

    /// Brings the records of `ords` into the cache before they are read
    /// one by one. Decoding a record starts with two dependent DRAM misses
    /// (its offset, then its bytes), and decoding is too long for the CPU
    /// to start the next record's loads meanwhile: at 10M entries those
    /// misses were most of a fuzzy name query (~0.4 µs a candidate, up to
    /// 256 candidates). Here the loads are independent, so they overlap:
    /// all offsets first, then the cache lines of each record up to its
    /// name parts. Only reads; the result is the same without it.
    pub fn prefetch_records(&self, ords: &[u32]) {
        /// Bytes of a record the name scoring reads: the fixed part and
        /// the strings up to the brand fit in about three cache lines.
        const SPAN: usize = 192;
        let offsets = self.section(Section::RecordOffsets);
        let records = self.section(Section::Records);
        let mut acc = 0u8;
        for &o in ords {
            acc ^= offsets.get(o as usize * 4).copied().unwrap_or(0);
        }
        for &o in ords {
            if o >= self.len() {
                continue;
            }
            let at = self.offset(o);
            for line in (at..(at + SPAN).min(records.len())).step_by(64) {
                acc ^= records[line];
            }
        }
        std::hint::black_box(acc);
    }

    /// The score row of entry `ord` (`scorerow.rs`), `None` when it has
    /// none or there is no such entry.
    pub fn score_row(&self, ord: u32) -> Option<crate::scorerow::ScoreRow> {
        let rows = self.section(Section::ScoreRows);
        let at = ord as usize * crate::scorerow::ROW_LEN;
        rows.get(at..at + crate::scorerow::ROW_LEN).and_then(|_| {
            crate::scorerow::unpack(crate::format::u64_at(rows, at))
        })
    }

    /// Brings the score rows of `ords` into the cache together, as
    /// [`Snapshot::prefetch_records`] does records: a row each, one
    /// line.
    pub fn prefetch_score_rows(&self, ords: &[u32]) {
        let rows = self.section(Section::ScoreRows);
        let mut acc = 0u8;
        for &o in ords {
            acc ^= rows
                .get(o as usize * crate::scorerow::ROW_LEN)
                .copied()
                .unwrap_or(0);
        }
        std::hint::black_box(acc);
    }

    /// An interned string; empty for "none" or an unknown id.
    pub fn string(&self, id: u32) -> &str {
        self.tables().strings.get(id).unwrap_or("")
    }

    fn hash_index(&self, s: Section) -> HashIndex<'_> {
        HashIndex::open(self.section(s)).expect("checked at open")
    }

    /// Entries whose identifier is `code` (normalised), confirmed against
    /// the records.
    pub fn by_code(&self, code: &str) -> Vec<u32> {
        let mut out = Vec::new();
        self.hash_index(Section::CodeIndex).for_each(code_hash(code), |ord| {
            if self.record(ord).is_ok_and(|r| r.code == code) {
                out.push(ord);
            }
        });
        out
    }

    /// Organisation entries that name `person_id` as a related party.
    pub fn related_to(&self, person_id: &str) -> Vec<u32> {
        let mut out = Vec::new();
        self.hash_index(Section::RelatedIndex).for_each(
            code_hash(person_id),
            |ord| {
                let hit = self.record(ord).is_ok_and(|r| {
                    r.related.iter().any(|p| p.id_number == Some(person_id))
                });
                if hit && !out.contains(&ord) {
                    out.push(ord);
                }
            },
        );
        out
    }

    /// Entries carrying `id` as a secondary identifier.
    pub fn by_secondary(&self, id: &str) -> Vec<u32> {
        let mut out = Vec::new();
        if let Some(v) = self.secondary_fst.get(id) {
            posting(v, self.section(Section::Postings), &mut out);
        }
        out
    }

    /// Entries whose name base key ([`crate::keys::NameKeys::base`]) is
    /// `key`, in ascending order: exact, each confirmed against its
    /// record ([`RecordView::base_key`]).
    pub fn by_name_base(&self, key: &str) -> Vec<u32> {
        let mut out = self.name_base_candidates(key);
        out.retain(|&o| self.record(o).is_ok_and(|r| r.base_key() == key));
        out
    }

    /// Entries whose name base key hashes as `key`'s does, in ascending
    /// order: every entry of [`Snapshot::by_name_base`], and rarely one
    /// whose key only shares the hash's stored bits (16 past the
    /// bucket's: 39 at 10M entries, so at most one lookup in ~55,000
    /// meets a foreign key). Reads no record: for callers that read the
    /// records anyway and confirm or score each candidate (the matcher,
    /// which keeps to its cap only confirmed ones).
    pub fn name_base_candidates(&self, key: &str) -> Vec<u32> {
        let mut out = self
            .hash_index(Section::NameIndex)
            .get(name_hash(key), usize::MAX);
        // Slots sort by hash, then ordinal: only keys that share the
        // stored bits but not the hash can interleave.
        out.sort_unstable();
        out
    }

    /// Entries under a no-region key hash, at most `limit`.
    pub fn by_noregion(&self, hash: u64, limit: usize) -> Vec<u32> {
        self.hash_index(Section::NoRegionIndex).get(hash, limit)
    }

    /// Calls `f` for each entry under a fuzzy key hash.
    pub fn for_each_fuzzy(&self, hash: u64, f: impl FnMut(u32)) {
        self.hash_index(Section::FuzzyIndex).for_each(hash, f)
    }

    /// About how many entries are under a fuzzy key hash (an upper
    /// bound, read from the directory): lets the matcher visit specific
    /// keys before unspecific ones.
    pub fn fuzzy_count(&self, hash: u64) -> usize {
        self.hash_index(Section::FuzzyIndex).bucket_len(hash)
    }

    /// A named bitmap (`list:black`, `category:court_defaulter`,
    /// `status:active`, `severity:serious`, `prefecture:320100`, …).
    pub fn bitmap(&self, name: &str) -> Option<&RoaringBitmap> {
        self.bitmaps.get(name)
    }

    /// Whether entry `ord`'s status is in force (active or disputed:
    /// `EntryStatus::in_force`), what the status bitmaps say; the date
    /// half of "in force" is the record's. Every name candidate is
    /// tested: a bit of a dense set (1.25 MB at 10M entries, cache
    /// resident) instead of two roaring look-ups (a binary search over
    /// containers, then one inside a container: ~6% of a name query at
    /// 10M). Made from the bitmaps on first use, ~10 ms at 10M, so that
    /// opening stays cheap.
    pub fn status_in_force(&self, ord: u32) -> bool {
        let set = self.in_force_set();
        set.get(ord as usize / 64).is_some_and(|w| w >> (ord % 64) & 1 != 0)
    }

    /// Builds what the first screening would otherwise build (the
    /// in-force set); `Screener::new` calls it, so that no request pays
    /// for it.
    pub fn warm(&self) {
        self.in_force_set();
        self.list_ranks();
    }

    /// The place of entry `ord`'s list in `ListKind::ALL` (black 0,
    /// focus 1, red 2), 3 for an entry in none (or past the last): what
    /// the list bitmaps say, as two bits of a dense array (2.5 MB at 10M
    /// entries) made on first use. A name with more candidates than the
    /// matcher reads is ranked by list, and 15,000 entries of one name
    /// at 10M were three roaring look-ups each.
    pub fn list_rank(&self, ord: u32) -> u8 {
        let ranks = self.list_ranks();
        ranks
            .get(ord as usize / 32)
            .map_or(3, |w| (w >> (ord % 32 * 2) & 3) as u8)
    }

    fn list_ranks(&self) -> &[u64] {
        // Two bits hold three lists and "none".
        const _: () = assert!(credgate_model::ListKind::ALL.len() <= 3);
        self.list_ranks.get_or_init(|| {
            // Every entry starts in none (3); lists are applied last
            // first, so that an entry in two keeps the first, as a search
            // of the bitmaps in order would find it.
            let mut ranks = vec![u64::MAX; (self.len() as usize).div_ceil(32)];
            for (rank, list) in
                credgate_model::ListKind::ALL.iter().enumerate().rev()
            {
                let Some(b) = self.bitmap(&format!("list:{}", list.code()))
                else {
                    continue;
                };
                for o in b.iter().filter(|&o| o < self.len()) {
                    let (word, shift) = (o as usize / 32, o % 32 * 2);
                    ranks[word] =
                        ranks[word] & !(3 << shift) | (rank as u64) << shift;
                }
            }
            ranks
        })
    }

    fn in_force_set(&self) -> &[u64] {
        self.in_force.get_or_init(|| {
            let mut set = vec![0u64; (self.len() as usize).div_ceil(64)];
            for s in credgate_model::EntryStatus::ALL {
                if !s.in_force() {
                    continue;
                }
                let Some(b) = self.bitmap(&format!("status:{}", s.code()))
                else {
                    continue;
                };
                // Bits past the entry count would be a crafted bitmap:
                // no entry has them, so they are left out.
                for o in b.iter().filter(|&o| o < self.len()) {
                    set[o as usize / 64] |= 1 << (o % 64);
                }
            }
            set
        })
    }

    pub fn bitmap_names(&self) -> impl Iterator<Item = &str> {
        self.bitmaps.keys().map(String::as_str)
    }
}

/// Whether the piece of `bytes[from..]` that chunk `at..end` checks is
/// valid UTF-8. Chunks are cut where a character starts (a cut point is
/// moved past up to three continuation bytes), so the pieces of all
/// chunks tile `bytes[from..]` and it is valid UTF-8 if each piece is.
fn utf8_piece(bytes: &[u8], from: usize, at: usize, end: usize) -> bool {
    let len = bytes.len();
    let cut = |p: usize| {
        if p <= from {
            return from;
        }
        let mut q = p;
        while q < len && q < p + 3 && (bytes[q] as i8) < -0x40 {
            q += 1;
        }
        q
    };
    let (a, b) = (cut(at), cut(end));
    a >= b || simdutf8::basic::from_utf8(&bytes[a..b]).is_ok()
}

fn decode_bitmaps(b: &[u8]) -> Result<HashMap<String, RoaringBitmap>, String> {
    let mut out = HashMap::new();
    // Checked: a crafted size made `at + n` overflow.
    let get = |at: usize, n: usize| {
        at.checked_add(n).and_then(|end| b.get(at..end)).ok_or("truncated")
    };
    let count = u32::from_le_bytes(get(0, 4)?.try_into().expect("4"));
    let mut at = 4;
    for _ in 0..count {
        let len =
            u16::from_le_bytes(get(at, 2)?.try_into().expect("2")) as usize;
        let name = std::str::from_utf8(get(at + 2, len)?)
            .map_err(|e| e.to_string())?;
        at += 2 + len;
        let size =
            u64::from_le_bytes(get(at, 8)?.try_into().expect("8")) as usize;
        at += 8;
        let bm = RoaringBitmap::deserialize_from(get(at, size)?)
            .map_err(|e| e.to_string())?;
        at += size;
        out.insert(name.to_string(), bm);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    /// The fields of the mapping that holds the address asked for, not
    /// of its neighbours; none for an address in no mapping.
    #[test]
    fn page_use_reads_the_mapping_asked_for() {
        let smaps = "\
7f0000000000-7f0000200000 r--s 00000000 fe:00 12 /d/a.snapshot
Size:               2048 kB
Rss:                2048 kB
AnonHugePages:         0 kB
FilePmdMapped:         0 kB
VmFlags: rd mr me ms
7f1000000000-7f1000600000 r--s 00000000 fe:00 13 /d/b.snapshot
Size:               6144 kB
Rss:                6000 kB
AnonHugePages:         0 kB
FilePmdMapped:      4096 kB
THPeligible:           0
VmFlags: rd mr me ms hg
7f2000000000-7f2000400000 r--p 00000000 00:00 0
Rss:                4096 kB
AnonHugePages:      2048 kB
ShmemPmdMapped:     2048 kB
FilePmdMapped:         0 kB
";
        let at = |a: usize| super::page_use_in(smaps, a);
        assert_eq!(
            at(0x7f1000000000),
            Some(super::PageUse { resident: 6000 * 1024, huge: 4096 * 1024 })
        );
        assert_eq!(
            at(0x7f0000000000),
            Some(super::PageUse { resident: 2048 * 1024, huge: 0 })
        );
        assert_eq!(
            at(0x7f2000000000),
            Some(super::PageUse { resident: 4096 * 1024, huge: 4096 * 1024 })
        );
        assert_eq!(at(0x7f10005fffff), at(0x7f1000000000));
        assert_eq!(at(0x7f1000600000), None);
        assert_eq!(at(0x7effffffffff), None);
    }

    proptest! {
        /// The pieces that chunks of any size check tile the region, so
        /// the chunked check agrees with checking the region whole.
        #[test]
        fn chunked_utf8_check_agrees_with_the_whole(
            text in ".{0,40}",
            noise in prop::collection::vec((0usize..200, any::<u8>()), 0..2),
            from in 0usize..8,
            chunk in 4usize..20,
        ) {
            let mut bytes = text.into_bytes();
            for (at, b) in noise {
                if !bytes.is_empty() {
                    let n = bytes.len();
                    bytes[at % n] = b;
                }
            }
            let from = from.min(bytes.len());
            let whole = std::str::from_utf8(&bytes[from..]).is_ok();
            let chunked = (0..bytes.len()).step_by(chunk).all(|at| {
                let end = (at + chunk).min(bytes.len());
                super::utf8_piece(&bytes, from, at, end)
            });
            prop_assert_eq!(whole, chunked);
        }
    }

    /// A bitmap size near `usize::MAX` overflowed the offset arithmetic
    /// (seen reviewing what the `snapshot` fuzz target reaches).
    #[test]
    fn bitmap_size_past_the_end_is_an_error() {
        let mut b = 1u32.to_le_bytes().to_vec();
        b.extend_from_slice(&1u16.to_le_bytes());
        b.push(b'x');
        b.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(super::decode_bitmaps(&b).unwrap_err(), "truncated");
    }
}
