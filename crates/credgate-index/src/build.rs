//! Building a snapshot from an entries file ([`build`]) or from a stream
//! of entries ([`build_entries`]: publishing from the admin store, with
//! no intermediate file).
//!
//! Pipeline: the input is read sequentially in batches; each batch is
//! validated and keyed in parallel (rayon); one writer appends records in
//! input order and gathers index keys as compact `[u32; 3]` triples. Then
//! the hash indexes (names among them) are sorted and the secondary-id FST
//! built in parallel, and written after the records. Entry records are never all in memory.

use crate::format::Section;
use crate::hashindex::{self, pair};
use crate::keys::{code_hash, name_hash, name_keys};
use crate::record;
use crate::record::codes;
use crate::scorerow;
use crate::sharded;
use crate::write::SnapshotWriter;
use credgate_entries::{
    EntryReader, FileError, Policy, RawRecord, ReadOptions, RowError,
};
use credgate_model::{Category, CategoryId, Entry, EntryStatus};
use rayon::prelude::*;
use roaring::RoaringBitmap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use twox_hash::XxHash3_128;

/// Rows validated per parallel batch.
const BATCH: usize = 16_384;
/// Bad rows kept in the report; all are counted.
const KEEP_BAD_ROWS: usize = 1_000;
/// Bit that marks a secondary-FST value as an offset into the postings.
const POSTING_FLAG: u64 = 1 << 63;

/// Options of a build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub read: ReadOptions,
    pub policy: Policy,
    /// Seconds since the epoch to record as the build time; now if `None`
    /// (tests fix it for byte-identical output).
    pub built_at: Option<i64>,
    /// Rows per batch of the pipeline; 0 means the default (16,384).
    /// Tests use tiny batches to run many through the pipeline.
    pub batch_rows: usize,
    /// Marks the snapshot as made of synthetic (demo) data, so that a
    /// service serving it can say so.
    pub synthetic: bool,
}

/// What a build reports as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Rows read so far.
    Rows(u64),
    /// A stage has started.
    Stage(&'static str),
}

/// The outcome of a successful build.
#[derive(Debug, Clone)]
pub struct BuildReport {
    pub path: PathBuf,
    pub rows: u64,
    pub entries: u64,
    pub bad_rows: Vec<RowError>,
    pub bad_count: u64,
    /// Revoked entries leave no trace in a snapshot.
    pub revoked_skipped: u64,
    pub bytes: u64,
    /// Section name → bytes.
    pub sections: Vec<(&'static str, u64)>,
    /// Stage name → seconds.
    pub timings: Vec<(&'static str, f64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error("writing the snapshot: {0}")]
    Io(#[from] std::io::Error),
    /// The stream of [`build_entries`] failed (the store could not be
    /// read): nothing was written.
    #[error("reading the entries: {0}")]
    Source(Box<dyn std::error::Error + Send + Sync>),
    #[error(
        "rejected: {count} bad rows (nothing was written); fix them, or keep \
         the good rows with --skip-invalid"
    )]
    Rejected { count: u64, first: Vec<RowError> },
}

/// An entry validated, keyed and encoded in parallel; the writer only
/// interns five strings and appends.
struct Prepared {
    entry_id: String,
    revoked: bool,
    record: Vec<u8>,
    /// Where the interned string ids go in `record`.
    split: usize,
    /// Strings to intern, with their hashes, in record slot order.
    strings: [Option<(u64, String)>; record::INTERNED],
    code: u64,
    related: Vec<u64>,
    secondary: Vec<String>,
    /// Hash of the name base key (`name_index`); none for an empty key.
    base: Option<u64>,
    noregion: Option<u64>,
    fuzzy: Vec<u64>,
    slots: BitmapSlots,
    /// The score row less its industry id (`scorerow::partial`).
    score_row: u64,
}

/// A row prepared or refused, with the entry's content digest
/// ([`entry_digest`]) when the source is a stream (a file's bytes are
/// hashed instead).
type Decoded = (Option<u128>, Result<Prepared, RowError>);

/// A batch of rows.
type Batch = Vec<Decoded>;

/// Which bitmaps an entry belongs to: stored codes as indexes.
#[derive(Clone, Copy)]
struct BitmapSlots {
    list: usize,
    category: usize,
    status: usize,
    subject: usize,
    severity: Option<usize>,
    prefecture: Option<u32>,
}

/// Everything gathered while the records are written.
#[derive(Default)]
struct Gathered {
    offsets: Vec<u32>,
    records_len: u64,
    codes: Vec<[u32; 3]>,
    related: Vec<[u32; 3]>,
    noregion: Vec<[u32; 3]>,
    fuzzy: Vec<[u32; 3]>,
    names: Vec<[u32; 3]>,
    secondary: Vec<(String, u32)>,
    score_rows: Vec<u64>,
    bitmaps: Bitmaps,
    strings: Strings,
    document_prefixes: Strings,
    /// File offset where the records section starts.
    records_at: u64,
}

#[derive(Default)]
struct Bitmaps {
    /// Indexed by stored code (`record::codes`), category by number;
    /// grown on demand so that a new code needs no change here.
    list: Vec<RoaringBitmap>,
    category: Vec<RoaringBitmap>,
    status: Vec<RoaringBitmap>,
    subject: Vec<RoaringBitmap>,
    severity: Vec<RoaringBitmap>,
    prefecture: BTreeMap<u32, RoaringBitmap>,
}

/// Appends `ord` to the bitmap at `slot`. Ordinals arrive in increasing
/// order, so appending cannot fail.
fn push_at(bitmaps: &mut Vec<RoaringBitmap>, slot: usize, ord: u32) {
    if bitmaps.len() <= slot {
        bitmaps.resize_with(slot + 1, RoaringBitmap::new);
    }
    let _ = bitmaps[slot].try_push(ord);
}

impl Bitmaps {
    fn add(&mut self, s: BitmapSlots, ord: u32) {
        push_at(&mut self.list, s.list, ord);
        push_at(&mut self.category, s.category, ord);
        push_at(&mut self.status, s.status, ord);
        push_at(&mut self.subject, s.subject, ord);
        if let Some(v) = s.severity {
            push_at(&mut self.severity, v, ord);
        }
        if let Some(p) = s.prefecture {
            let _ = self.prefecture.entry(p).or_default().try_push(ord);
        }
    }

    /// The bitmaps by name, as stored in the snapshot. Slots are the
    /// stored codes (`record::codes`) and category numbers, turned back
    /// into values here.
    fn named(self) -> BTreeMap<String, RoaringBitmap> {
        let mut out = BTreeMap::new();
        let mut put = |name: String, bm: RoaringBitmap| {
            if !bm.is_empty() {
                out.insert(name, bm);
            }
        };
        let slot = |i: usize| u8::try_from(i).ok();
        for (i, bm) in self.list.into_iter().enumerate() {
            if let Some(l) = slot(i).and_then(codes::list_from) {
                put(format!("list:{}", l.code()), bm);
            }
        }
        for (i, bm) in self.category.into_iter().enumerate() {
            let id = CategoryId(i as u16);
            if let Some(c) = Category::by_id(id) {
                put(format!("category:{}", c.code), bm);
            }
        }
        for (i, bm) in self.status.into_iter().enumerate() {
            if let Some(s) = slot(i).and_then(codes::status_from) {
                put(format!("status:{}", s.code()), bm);
            }
        }
        for (i, bm) in self.subject.into_iter().enumerate() {
            if let Some(k) = slot(i).and_then(codes::subject_from) {
                put(format!("subject:{}", k.code()), bm);
            }
        }
        for (i, bm) in self.severity.into_iter().enumerate() {
            if let Some(v) = slot(i).and_then(codes::severity_from) {
                put(format!("severity:{}", v.code()), bm);
            }
        }
        for (p, bm) in self.prefecture {
            put(format!("prefecture:{p:06}"), bm);
        }
        out
    }
}

/// Entry ids seen so far, to refuse duplicates. Keyed by a 64-bit hash
/// (16 bytes an entry, where the ids themselves would cost several times
/// that at 10M entries); when a hash comes again the ids themselves are
/// compared, reading the earlier one back from its record, so a hash
/// collision never rejects a distinct id.
#[derive(Default)]
struct EntryIds {
    first: HashMap<u64, Seen>,
    /// Distinct ids whose hash an earlier id already had (collisions;
    /// ~3·10⁻⁶ likely for a whole 10M file), kept whole.
    collided: HashSet<String>,
    /// Ids of revoked entries: they write no record to read back.
    revoked: Vec<String>,
}

/// Where the first id with a given hash can be read again.
#[derive(Debug, Clone, Copy)]
enum Seen {
    /// The ordinal of its record.
    Record(u32),
    /// Its index in `EntryIds::revoked`.
    Revoked(u32),
}

impl EntryIds {
    /// Notes `id` (hash `hash`); false if the same id came before. The
    /// entry is revoked, or will be written as record `next_record`;
    /// `record_id` reads the id of an earlier record.
    fn insert(
        &mut self,
        hash: u64,
        id: &str,
        revoked: bool,
        next_record: u32,
        record_id: impl FnOnce(u32) -> std::io::Result<String>,
    ) -> std::io::Result<bool> {
        use std::collections::hash_map::Entry as Slot;
        let first = match self.first.entry(hash) {
            Slot::Vacant(v) => {
                if revoked {
                    v.insert(Seen::Revoked(self.revoked.len() as u32));
                    self.revoked.push(id.to_string());
                } else {
                    v.insert(Seen::Record(next_record));
                }
                return Ok(true);
            }
            Slot::Occupied(o) => *o.get(),
        };
        let same = match first {
            Seen::Record(ord) => record_id(ord)? == id,
            Seen::Revoked(i) => self.revoked[i as usize] == id,
        };
        if same || self.collided.contains(id) {
            return Ok(false);
        }
        self.collided.insert(id.to_string());
        Ok(true)
    }
}

/// Interned strings. Keyed by hash (computed in parallel) so the writer
/// thread does no string hashing; a hash collision falls back to the
/// string itself.
#[derive(Default)]
struct Strings {
    by_hash: HashMap<u64, u32>,
    collided: HashMap<String, u32>,
    list: Vec<String>,
}

impl Strings {
    fn intern(&mut self, hash: u64, s: String) -> u32 {
        match self.by_hash.get(&hash) {
            Some(&id) if self.list[id as usize] == s => id,
            Some(_) => {
                let next = self.list.len() as u32;
                let id = *self.collided.entry(s.clone()).or_insert(next);
                if id == next {
                    self.list.push(s);
                }
                id
            }
            None => {
                let id = self.list.len() as u32;
                self.by_hash.insert(hash, id);
                self.list.push(s);
                id
            }
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(self.list.len() as u32).to_le_bytes());
        let mut off = 0u32;
        for s in &self.list {
            out.extend_from_slice(&off.to_le_bytes());
            off += s.len() as u32;
        }
        out.extend_from_slice(&off.to_le_bytes());
        for s in &self.list {
            out.extend_from_slice(s.as_bytes());
        }
        out
    }
}

fn prepare(entry: Entry) -> Prepared {
    let keys = name_keys(&entry.name, entry.subject_kind);
    let score_row = scorerow::partial(
        entry.subject_kind,
        &keys.parts.brand,
        &keys.parts.key,
    );
    let mut record = Vec::with_capacity(192);
    let split = record::encode(&entry, &keys.parts, &mut record);
    let strings = record::interned_strings(&entry, &keys.parts)
        .map(|s| s.map(|s| (hashindex::hash(s.as_bytes()), s.to_string())));
    let slots = BitmapSlots {
        list: codes::list(entry.list) as usize,
        category: entry.category.0 as usize,
        status: codes::status(entry.status) as usize,
        subject: codes::subject(entry.subject_kind) as usize,
        severity: entry.severity.map(|s| codes::severity(s) as usize),
        prefecture: entry.division().map(|d| d / 100 * 100),
    };
    Prepared {
        revoked: entry.status == EntryStatus::Revoked,
        record,
        split,
        strings,
        code: code_hash(&entry.code),
        related: entry
            .related
            .iter()
            .filter_map(|p| p.id_number.as_deref().map(code_hash))
            .collect(),
        secondary: entry.secondary_ids,
        base: (!keys.base.is_empty()).then(|| name_hash(&keys.base)),
        noregion: keys.noregion,
        fuzzy: keys.fuzzy,
        slots,
        score_row,
        entry_id: entry.entry_id,
    }
}

/// Builds a snapshot of `input` at `output`.
pub fn build(
    input: &Path,
    output: &Path,
    opts: &BuildOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<BuildReport, BuildError> {
    let mut reader = EntryReader::open(input, opts.read)?;
    let decoder = reader.decoder();
    let read = |n: usize, out: &mut Vec<RawRecord>| {
        reader.read_batch(n, out).map(|_| ()).map_err(BuildError::from)
    };
    let decode = |r: &mut RawRecord| (None, decoder.decode(r).map(prepare));
    let source = Source {
        name: input.file_name().map(|n| n.to_string_lossy().to_string()),
        digest: SourceDigest::File(input),
    };
    run(read, decode, RawRecord::line, source, output, opts, progress)
}

/// One entry of [`build_entries`]' stream, with its 1-based position
/// (the "line" of a bad row's report).
struct Streamed {
    position: u64,
    entry: Option<Entry>,
}

/// Builds a snapshot of a stream of entries at `output`: the admin
/// store's entries in force, with no intermediate file. The stream is
/// pulled on the calling thread in batches while the previous batch is
/// checked ([`Entry::check`]) and keyed in parallel, as a file's rows
/// are; a stream error stops the build and writes nothing.
///
/// The header's source digest is then one over the entries themselves
/// ([`entry_digest`]): the xxh3-128 of the concatenated 16-byte
/// little-endian digests of every entry streamed, in stream order
/// (revoked and refused ones included). The same entries in the same
/// order give the same digest.
pub fn build_entries<I, E>(
    entries: I,
    output: &Path,
    opts: &BuildOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<BuildReport, BuildError>
where
    I: Iterator<Item = Result<Entry, E>> + Send,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut entries = entries;
    let mut position = 0u64;
    let read = |n: usize, out: &mut Vec<Streamed>| {
        out.clear();
        for item in entries.by_ref().take(n) {
            let entry = item.map_err(|e| BuildError::Source(e.into()))?;
            position += 1;
            out.push(Streamed { position, entry: Some(entry) });
        }
        Ok(())
    };
    let decode = |s: &mut Streamed| {
        let entry = s.entry.take().expect("each entry is decoded once");
        let digest = entry_digest(&entry);
        let checked = match entry.check() {
            Ok(()) => Ok(prepare(entry)),
            Err(violations) => Err(RowError {
                line: s.position,
                entry_id: Some(entry.entry_id),
                errors: violations
                    .into_iter()
                    .map(credgate_entries::FieldError::from)
                    .collect(),
            }),
        };
        (Some(digest), checked)
    };
    let source = Source { name: None, digest: SourceDigest::Streamed };
    let line = |s: &Streamed| s.position;
    run(read, decode, line, source, output, opts, progress)
}

/// What the header says the snapshot was built from.
struct Source<'a> {
    /// The input file's name.
    name: Option<String>,
    digest: SourceDigest<'a>,
}

enum SourceDigest<'a> {
    /// xxh3-128 of the file's bytes, read again while indexes sort.
    File(&'a Path),
    /// Folded from each entry's digest as the records are written.
    Streamed,
}

/// The pipeline shared by [`build`] and [`build_entries`]: `read` fills
/// a batch (empty at the end), `decode` turns one item into a prepared
/// entry or a bad row (in parallel), `line` names an item in a report.
fn run<T, R, D>(
    mut read: R,
    decode: D,
    line: fn(&T) -> u64,
    source: Source<'_>,
    output: &Path,
    opts: &BuildOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<BuildReport, BuildError>
where
    T: Send,
    R: FnMut(usize, &mut Vec<T>) -> Result<(), BuildError> + Send,
    D: Fn(&mut T) -> Decoded + Sync,
{
    let mut timings = Vec::new();
    let mut w = SnapshotWriter::create(output)?;
    let mut g = Gathered::default();
    let mut bad_rows = Vec::new();
    let mut bad_count = 0u64;
    let mut rows = 0u64;
    let mut revoked = 0u64;

    progress(Progress::Stage("reading and validating entries"));
    w.begin(Section::Records)?;
    g.records_at = w.position();
    // Three batches in flight: `next` is being read while `current` is
    // decoded in parallel, and the batch before it is written by the
    // single writer; on two cores the writer no longer leaves one idle.
    let batch = if opts.batch_rows == 0 { BATCH } else { opts.batch_rows };
    let mut current: Vec<T> = Vec::with_capacity(batch);
    let mut next: Vec<T> = Vec::with_capacity(batch);
    let mut spare: Vec<T> = Vec::with_capacity(batch);
    let mut pending: Option<(Vec<T>, Batch)> = None;
    let mut sink = Sink {
        w: &mut w,
        g: &mut g,
        entry_ids: EntryIds::default(),
        bad_rows: &mut bad_rows,
        bad_count: &mut bad_count,
        rows: &mut rows,
        revoked: &mut revoked,
        digest: match source.digest {
            SourceDigest::Streamed => Some(XxHash3_128::new()),
            SourceDigest::File(_) => None,
        },
        line,
        scratch: Vec::new(),
    };
    let t = Instant::now();
    read(batch, &mut current)?;
    while !current.is_empty() || pending.is_some() {
        let to_write = pending.take();
        let (written, (read, prepared)) = rayon::join(
            || -> Result<Option<Vec<T>>, BuildError> {
                match to_write {
                    Some((raw, prepared)) => {
                        sink.write(&raw, prepared)?;
                        Ok(Some(raw))
                    }
                    None => Ok(None),
                }
            },
            || {
                if current.is_empty() {
                    // Nothing left to read: `next` holds recycled records
                    // of a written batch, which must not come round again.
                    next.clear();
                    return (Ok(()), Vec::new());
                }
                rayon::join(
                    || read(batch, &mut next),
                    || current.par_iter_mut().map(&decode).collect::<Batch>(),
                )
            },
        );
        if let Some(raw) = written? {
            spare = raw;
        }
        read?;
        if !current.is_empty() {
            pending = Some((std::mem::take(&mut current), prepared));
        }
        // Rotate the buffers: what was read becomes current, and the
        // written batch's records are reused for the next read.
        std::mem::swap(&mut current, &mut next);
        std::mem::swap(&mut next, &mut spare);
        progress(Progress::Rows(*sink.rows));
    }
    let streamed_digest = sink.digest.map(|h| h.finish_128());
    w.end();
    timings.push((
        "read, validate, key and encode rows while writing records (2 threads)",
        t.elapsed().as_secs_f64(),
    ));

    if bad_count > 0 && opts.policy == Policy::RejectFile {
        w.abandon();
        return Err(BuildError::Rejected {
            count: bad_count,
            first: bad_rows,
        });
    }
    if g.records_len / 4 > u32::MAX as u64 {
        w.abandon();
        return Err(BuildError::Io(std::io::Error::other(
            "records exceed 16 GiB: split the list",
        )));
    }

    let t = Instant::now();
    progress(Progress::Stage("sorting keys and building indexes"));
    let entry_count = g.offsets.len() as u64;
    let Gathered {
        offsets,
        mut codes,
        mut related,
        mut noregion,
        mut fuzzy,
        mut names,
        mut secondary,
        bitmaps,
        strings,
        document_prefixes,
        score_rows,
        ..
    } = g;
    let bitmaps = bitmaps.named();
    let counts: BTreeMap<&String, u64> =
        bitmaps.iter().map(|(name, bm)| (name, bm.len())).collect();
    let secs = |t: Instant| t.elapsed().as_secs_f64();
    let (((secondary_fst, postings), t_fst), ((digest, t_digest), t_hash)) =
        rayon::join(
            || {
                let t = Instant::now();
                (build_secondary_fst(&mut secondary), secs(t))
            },
            || {
                rayon::join(
                    || {
                        let t = Instant::now();
                        let digest = match (source.digest, streamed_digest) {
                            (SourceDigest::File(input), _) => {
                                source_digest(input)
                            }
                            (SourceDigest::Streamed, d) => Ok(
                                d.expect("a streamed build folds its digest")
                            ),
                        };
                        (digest, secs(t))
                    },
                    || {
                        // Hash index sections are written straight from
                        // the sorted triples; sorting is the costly part.
                        let t = Instant::now();
                        for v in [
                            &mut codes,
                            &mut related,
                            &mut names,
                            &mut noregion,
                            &mut fuzzy,
                        ] {
                            v.par_sort_unstable();
                        }
                        secs(t)
                    },
                )
            },
        );
    let digest = digest?;
    timings.push(("sort and build indexes", secs(t)));
    timings.push(("  of which: build the secondary-id FST", t_fst));
    timings.push(("  of which: sort hash-index keys", t_hash));
    timings.push(("  of which: digest of the input", t_digest));

    let t = Instant::now();
    progress(Progress::Stage("writing indexes"));
    w.section(Section::RecordOffsets, bytemuck::cast_slice(&offsets))?;
    w.section(Section::Strings, &strings.encode())?;
    write_hash_index(&mut w, Section::CodeIndex, &codes)?;
    write_hash_index(&mut w, Section::RelatedIndex, &related)?;
    w.section(Section::SecondaryFst, &secondary_fst)?;
    write_hash_index(&mut w, Section::NameIndex, &names)?;
    w.section(Section::Postings, bytemuck::cast_slice(&postings))?;
    write_hash_index(&mut w, Section::NoRegionIndex, &noregion)?;
    write_hash_index(&mut w, Section::FuzzyIndex, &fuzzy)?;
    w.section(Section::Bitmaps, &encode_bitmaps(&bitmaps)?)?;
    let built_at =
        opts.built_at.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let meta = serde_json::json!({
        "format_version": crate::format::VERSION,
        "credgate_version": env!("CARGO_PKG_VERSION"),
        "built_at": built_at,
        "synthetic": opts.synthetic,
        "source": {
            "file": source.name,
            "digest_of": if streamed_digest.is_some() {
                "entries"
            } else {
                "file"
            },
            "digest_xxh3_128": format!("{digest:032x}"),
            "rows": rows,
            "bad_rows_skipped": bad_count,
            "revoked_skipped": revoked,
        },
        "entries": entry_count,
        "counts": counts,
        "keys": {
            "codes": codes.len(),
            "related": related.len(),
            "names": names.len(),
            "noregion": noregion.len(),
            "fuzzy": fuzzy.len(),
        },
    });
    w.section(Section::Meta, meta.to_string().as_bytes())?;
    w.section(Section::DocumentPrefixes, &document_prefixes.encode())?;
    w.section(Section::ScoreRows, bytemuck::cast_slice(&score_rows))?;
    // The writer knows its sections: reading the file back to learn them
    // would map gigabytes into memory (it did: 6.2 GB peak at 10M).
    let written = w.sections();
    let sections: Vec<(&'static str, u64)> = Section::ALL
        .iter()
        .map(|s| (s.name(), written[s.index()].len))
        .collect();
    let bytes = w.commit(output, built_at, entry_count, digest)?;
    timings.push(("write indexes, sync, rename", t.elapsed().as_secs_f64()));
    Ok(BuildReport {
        path: output.to_path_buf(),
        rows,
        entries: entry_count,
        bad_rows,
        bad_count,
        revoked_skipped: revoked,
        bytes,
        sections,
        timings,
    })
}

/// The single writer's state: interns strings, appends records, gathers
/// keys, counts bad and revoked rows, folds a streamed source's digest.
struct Sink<'a, T> {
    w: &'a mut SnapshotWriter,
    g: &'a mut Gathered,
    entry_ids: EntryIds,
    bad_rows: &'a mut Vec<RowError>,
    bad_count: &'a mut u64,
    rows: &'a mut u64,
    revoked: &'a mut u64,
    /// The streamed entries' digest so far (in input order: only the
    /// single writer can fold it).
    digest: Option<XxHash3_128>,
    line: fn(&T) -> u64,
    /// The record being assembled, reused.
    scratch: Vec<u8>,
}

impl<T> Sink<'_, T> {
    fn bad(&mut self, e: RowError) {
        *self.bad_count += 1;
        if self.bad_rows.len() < KEEP_BAD_ROWS {
            self.bad_rows.push(e);
        }
    }

    fn write(&mut self, raw: &[T], prepared: Batch) -> Result<(), BuildError> {
        for ((digest, item), r) in prepared.into_iter().zip(raw) {
            *self.rows += 1;
            // Every streamed entry counts, refused ones too.
            if let (Some(h), Some(d)) = (&mut self.digest, digest) {
                h.write(&d.to_le_bytes());
            }
            let mut p = match item {
                Ok(p) => p,
                Err(e) => {
                    self.bad(e);
                    continue;
                }
            };
            let (w, g) = (&mut *self.w, &*self.g);
            let new = self.entry_ids.insert(
                code_hash(&p.entry_id),
                &p.entry_id,
                p.revoked,
                g.offsets.len() as u32,
                |ord| record_entry_id(w, g, ord),
            )?;
            if !new {
                let message = format!(
                    "duplicate: entry {} appears earlier in the file",
                    p.entry_id
                );
                self.bad(RowError {
                    line: (self.line)(r),
                    entry_id: Some(p.entry_id),
                    errors: vec![credgate_entries::FieldError {
                        column: "entry_id".into(),
                        message,
                    }],
                });
                continue;
            }
            if p.revoked {
                *self.revoked += 1;
                continue;
            }
            let g = &mut *self.g;
            let mut slot = 0;
            let ids = std::mem::take(&mut p.strings).map(|s| {
                // The last slot is the document number's prefix.
                let table = if slot == record::INTERNED - 1 {
                    &mut g.document_prefixes
                } else {
                    &mut g.strings
                };
                slot += 1;
                s.map_or(record::NO_STRING, |(h, s)| table.intern(h, s))
            });
            // Records start 4-byte aligned (offsets count 4 bytes).
            let (head, body) = p.record.split_at(p.split);
            let mut out = std::mem::take(&mut self.scratch);
            out.clear();
            out.extend_from_slice(head);
            record::put_ids(&mut out, &ids);
            out.extend_from_slice(body);
            while out.len() % 4 != 0 {
                out.push(0);
            }
            g.score_rows.push(scorerow::complete(
                p.score_row,
                ids[scorerow::INDUSTRY_SLOT],
            ));
            g.offsets.push((g.records_len / 4) as u32);
            g.records_len += out.len() as u64;
            self.w.write(&out)?;
            self.scratch = out;
            let ord = g.offsets.len() as u32 - 1;
            gather(g, p, ord);
        }
        Ok(())
    }
}

/// Reads the entry id of record `ord` back from the file being written.
fn record_entry_id(
    w: &mut SnapshotWriter,
    g: &Gathered,
    ord: u32,
) -> std::io::Result<String> {
    let at = |o: u32| u64::from(o) * 4;
    let start = at(g.offsets[ord as usize]);
    let end =
        g.offsets.get(ord as usize + 1).map_or(g.records_len, |&o| at(o));
    let bytes = w.read_back(g.records_at + start, (end - start) as usize)?;
    let id = record::entry_id(&bytes).map_err(std::io::Error::other)?;
    Ok(id.to_string())
}

fn gather(g: &mut Gathered, p: Prepared, ord: u32) {
    g.codes.push(pair(p.code, ord));
    for h in p.related {
        g.related.push(pair(h, ord));
    }
    for s in p.secondary {
        g.secondary.push((s, ord));
    }
    if let Some(h) = p.base {
        g.names.push(pair(h, ord));
    }
    if let Some(h) = p.noregion {
        g.noregion.push(pair(h, ord));
    }
    for h in p.fuzzy {
        g.fuzzy.push(pair(h, ord));
    }
    g.bitmaps.add(p.slots, ord);
}

/// Sorts the secondary identifiers and builds their FST with its
/// postings. (Names moved to a hash index in format version 4; secondary
/// identifiers are few, 3 B an entry at 10M with their postings, and
/// stay an FST.)
fn build_secondary_fst(
    secondary: &mut [(String, u32)],
) -> (Vec<u8>, Vec<u32>) {
    secondary.par_sort_unstable();
    let mut postings: Vec<u32> = Vec::new();
    let pairs = group_values(
        secondary.iter().map(|(s, o)| (s.as_bytes(), *o)),
        &mut postings,
    );
    (sharded::build(&pairs), postings)
}

/// Turns sorted (key, ordinal) pairs into one value per key: a key with
/// one ordinal stores it; a key with several stores an offset into
/// `postings`, where the count and the ordinals follow.
fn group_values<'a>(
    sorted: impl Iterator<Item = (&'a [u8], u32)>,
    postings: &mut Vec<u32>,
) -> Vec<(&'a [u8], u64)> {
    let mut out = Vec::new();
    let mut group: Vec<u32> = Vec::new();
    let mut current: Option<&[u8]> = None;
    let mut flush = |key: &'a [u8], group: &mut Vec<u32>| {
        group.dedup();
        let value = if group.len() == 1 {
            group[0] as u64
        } else {
            let at = postings.len() as u64;
            postings.push(group.len() as u32);
            postings.extend_from_slice(group);
            POSTING_FLAG | at
        };
        out.push((key, value));
        group.clear();
    };
    for (key, ord) in sorted {
        if let Some(c) = current.filter(|c| *c != key) {
            flush(c, &mut group);
        }
        current = Some(key);
        group.push(ord);
    }
    if let Some(c) = current {
        flush(c, &mut group);
    }
    out
}

/// Decodes an FST value into ordinals.
pub(crate) fn posting(value: u64, postings: &[u8], out: &mut Vec<u32>) {
    if value & POSTING_FLAG == 0 {
        out.push(value as u32);
        return;
    }
    // A posting that does not fit in the section gives nothing: its
    // count once made a 4-billion-step loop, and its offset can overflow
    // (found by the `snapshot` fuzz target).
    let Some(list) = usize::try_from(value & !POSTING_FLAG)
        .ok()
        .and_then(|i| i.checked_mul(4))
        .and_then(|at| postings.get(at..))
    else {
        return;
    };
    let Some((count, rest)) = list.split_first_chunk::<4>() else { return };
    let count = u32::from_le_bytes(*count) as usize;
    let Some(ords) = rest.get(..count.saturating_mul(4)) else { return };
    out.extend(
        ords.chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes"))),
    );
}

fn write_hash_index(
    w: &mut SnapshotWriter,
    section: Section,
    sorted: &[[u32; 3]],
) -> std::io::Result<()> {
    w.begin(section)?;
    hashindex::write_sorted(sorted, |b| w.write(b))?;
    w.end();
    Ok(())
}

fn encode_bitmaps(
    bitmaps: &BTreeMap<String, RoaringBitmap>,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(&(bitmaps.len() as u32).to_le_bytes());
    for (name, bm) in bitmaps {
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&(bm.serialized_size() as u64).to_le_bytes());
        bm.serialize_into(&mut out)?;
    }
    Ok(out)
}

/// The content digest of one entry (the unit of a streamed build's
/// source digest): xxh3-128 of its fields in declaration order of
/// `credgate_model::Entry` — entry id, list, subject kind, name, code,
/// secondary ids, category, reason, basis, authority, document number,
/// listed on, valid until, severity, status, removal reason, removed on,
/// removal authority, then each related party's role, name, id type and
/// id number. Each field is a u32 little-endian byte length and its UTF-8
/// bytes (enumerations by their stable code, dates as YYYY-MM-DD), an
/// absent one the length u32::MAX; a list is its u32 length and then its
/// items. Stable codes, never display strings, so a renamed label does
/// not change it.
pub fn entry_digest(e: &Entry) -> u128 {
    fn put(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            Some(s) => {
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
        }
    }
    let date = |d: Option<credgate_model::Date>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
    };
    let count = |n: usize| (n as u32).to_le_bytes();
    let mut out = Vec::with_capacity(512);
    let o = &mut out;
    put(o, Some(&e.entry_id));
    put(o, Some(e.list.code()));
    put(o, Some(e.subject_kind.code()));
    put(o, Some(&e.name));
    put(o, Some(&e.code));
    o.extend_from_slice(&count(e.secondary_ids.len()));
    for id in &e.secondary_ids {
        put(o, Some(id));
    }
    put(o, Category::by_id(e.category).map(|c| c.code));
    put(o, Some(&e.reason));
    put(o, Some(&e.basis));
    put(o, Some(&e.authority));
    put(o, Some(&e.document_number));
    put(o, date(Some(e.listed_on)).as_deref());
    put(o, date(e.valid_until).as_deref());
    put(o, e.severity.map(|s| s.code()));
    put(o, Some(e.status.code()));
    put(o, e.removal_reason.as_deref());
    put(o, date(e.removed_on).as_deref());
    put(o, e.removal_authority.as_deref());
    o.extend_from_slice(&count(e.related.len()));
    for p in &e.related {
        put(o, Some(p.role.code()));
        put(o, Some(&p.name));
        put(o, Some(p.id_type.code()));
        put(o, p.id_number.as_deref());
    }
    XxHash3_128::oneshot(&out)
}

/// xxh3-128 of the source file, to tell which input a snapshot came from.
fn source_digest(path: &Path) -> std::io::Result<u128> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut h = XxHash3_128::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(h.finish_128());
        }
        h.write(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id gets the same hash: the ids themselves must decide.
    #[test]
    fn entry_ids_compare_the_ids_when_hashes_collide() {
        const H: u64 = 7;
        let mut ids = EntryIds::default();
        let records: Vec<&str> = vec!["A", "B"];
        let mut insert = |id: &str, revoked: bool, next: u32| {
            ids.insert(H, id, revoked, next, |ord| {
                Ok(records[ord as usize].to_string())
            })
            .unwrap()
        };
        assert!(insert("A", false, 0), "first id");
        assert!(insert("B", false, 1), "same hash, other id: not a dup");
        assert!(!insert("A", false, 2), "A again");
        assert!(!insert("B", false, 2), "B again");
        assert!(insert("R", true, 2), "revoked, same hash, other id");
        assert!(!insert("R", false, 2), "R again");

        let mut ids = EntryIds::default();
        let mut insert = |id: &str, revoked: bool| {
            ids.insert(H, id, revoked, 0, |_| panic!("no records")).unwrap()
        };
        assert!(insert("R", true), "a revoked id comes first");
        assert!(!insert("R", false), "its duplicate");
        assert!(insert("S", false), "another id");
    }

    /// The earlier id is read back from the record written to the file.
    #[test]
    fn earlier_entry_ids_are_read_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w =
            SnapshotWriter::create(&dir.path().join("x.snapshot")).unwrap();
        w.begin(Section::Records).unwrap();
        let mut g =
            Gathered { records_at: w.position(), ..Default::default() };
        for id in ["first", "second-id", "third"] {
            let mut e =
                credgate_gen::Generator::new(credgate_gen::GenOptions::new(3))
                    .next()
                    .unwrap();
            e.entry_id = id.into();
            let mut bytes = Vec::new();
            let parts = record::StoredParts::default();
            let split = record::encode(&e, &parts, &mut bytes);
            let mut ids = [0; record::INTERNED];
            ids[3] = record::NO_STRING;
            ids[4] = record::NO_STRING;
            if e.removal_reason.is_some() {
                ids[3] = 0;
            }
            if e.removal_authority.is_some() {
                ids[4] = 0;
            }
            let mut ided = bytes[..split].to_vec();
            record::put_ids(&mut ided, &ids);
            ided.extend_from_slice(&bytes[split..]);
            while ided.len() % 4 != 0 {
                ided.push(0);
            }
            let bytes = ided;
            g.offsets.push((g.records_len / 4) as u32);
            g.records_len += bytes.len() as u64;
            w.write(&bytes).unwrap();
        }
        for (ord, id) in ["first", "second-id", "third"].iter().enumerate() {
            assert_eq!(record_entry_id(&mut w, &g, ord as u32).unwrap(), *id);
        }
        // Writing goes on where it stopped.
        let before = w.position();
        w.write(&[0; 4]).unwrap();
        assert_eq!(w.position(), before + 4);
    }
}

#[cfg(test)]
mod posting_tests {
    use super::{POSTING_FLAG, posting};

    /// Found by the `snapshot` fuzz target: a posting value from a crafted
    /// FST overflowed the offset arithmetic, and a count larger than the
    /// section made a loop of up to 4 billion steps.
    #[test]
    fn posting_outside_the_section_gives_nothing() {
        let mut out = Vec::new();
        posting(POSTING_FLAG | (1 << 62), &[1, 0, 0, 0, 7, 0, 0, 0], &mut out);
        assert!(out.is_empty());
        let huge_count = [0xFF, 0xFF, 0xFF, 0xFF, 7, 0, 0, 0];
        posting(POSTING_FLAG, &huge_count, &mut out);
        assert!(out.is_empty());
        posting(POSTING_FLAG, &[2, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0], &mut out);
        assert_eq!(out, [7, 9]);
        posting(5, &[], &mut out);
        assert_eq!(out, [7, 9, 5]);
    }
}
