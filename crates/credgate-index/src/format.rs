//! The snapshot file layout, version 5.
//!
//! ```text
//! 0      header (256 bytes): magic, version, counts, digests, checksums
//! 256    section table: SECTION_COUNT × 32 bytes
//!        (kind u32, reserved u32, offset u64, len u64, checksum u64)
//! ...    sections, each 8-byte aligned, zero padding between them
//! ```
//!
//! All integers are little-endian. The header checksum covers the header
//! (less its own last 8 bytes) and the section table, so opening checks
//! them without reading the sections; `verify` checks every section.
//! A section's checksum is chunked ([`CHECK_CHUNK`]) so that `verify`
//! checks all chunks of all sections in parallel.
//!
//! Version 3 (issue 11): compact records (`record.rs`: v6 integers, nine
//! interned strings, the name key and brand not repeated, the division
//! not stored) whose sections are valid UTF-8 as a whole, 6-byte hash
//! index slots (`hashindex.rs`), chunked section checksums.
//!
//! Version 4 (issue 11): the exact-name index is a hash index
//! (`name_index`, the xxh3-64 of the name base key, one slot per entry)
//! in place of the name FST: a lookup walked ~40 FST nodes, a cache miss
//! each, ~10% of a name query's CPU at 10M entries. Same section count;
//! section 7 changed kind and name.
//!
//! Version 5 (issue 11): score rows (`scorerow.rs`), eight bytes an entry
//! holding a short 字号 and the industry word's id, so that the matcher
//! rules most fuzzy candidates out without reading their records. One
//! more section (14).

use std::path::PathBuf;

/// Eight bytes that identify a credgate snapshot. The CR LF pair makes a
/// file mangled by a text-mode transfer fail the check (as in PNG).
pub const MAGIC: [u8; 8] = *b"CGSNAP\r\n";

/// The format version this build writes and reads.
pub const VERSION: u32 = 5;

/// Bytes of a checksum chunk: a section's checksum is the xxh3-64 of the
/// little-endian xxh3-64 of each 1 MiB of it, in order (the last chunk
/// shorter; an empty section hashes no chunk). xxh3 runs at memory speed
/// and is a check against corruption (a truncated copy, a flipped bit),
/// not against a forger: whoever can publish a snapshot chooses its
/// content anyway, and a crafted file meets a total decoder.
pub const CHECK_CHUNK: usize = 1 << 20;

/// A section's checksum from the digests of its chunks, in order.
pub fn section_checksum(chunks: impl IntoIterator<Item = u64>) -> u64 {
    use std::hash::Hasher as _;
    let mut h = twox_hash::XxHash3_64::new();
    for c in chunks {
        h.write(&c.to_le_bytes());
    }
    h.finish()
}

/// The checksum of a section's bytes: [`section_checksum`] of the
/// xxh3-64 of each [`CHECK_CHUNK`] (what the writer computes as it
/// writes, and what tests and the fuzz target use to repair a crafted
/// file).
pub fn checksum_of(section: &[u8]) -> u64 {
    section_checksum(
        section.chunks(CHECK_CHUNK).map(twox_hash::XxHash3_64::oneshot),
    )
}

pub const HEADER_LEN: usize = 256;
pub const SECTION_ENTRY_LEN: usize = 32;

/// The sections of a snapshot, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Section {
    /// Encoded entry records, 4-byte aligned.
    Records = 1,
    /// u32 per entry: record offset / 4.
    RecordOffsets = 2,
    /// Interned strings (authorities, reasons, bases).
    Strings = 3,
    /// Hash index: identifier → entry.
    CodeIndex = 4,
    /// Hash index: related party's identifier → organisation entry.
    RelatedIndex = 5,
    /// FST: secondary identifier → posting.
    SecondaryFst = 6,
    /// Hash index: xxh3-64 of the name base key → entry, one slot per
    /// entry with a name (format version 4; an FST before).
    NameIndex = 7,
    /// u32 posting lists for the secondary FST: count, then entry
    /// ordinals.
    Postings = 8,
    /// Hash index: name key without region → entry.
    NoRegionIndex = 9,
    /// Hash index: region + one-deletion variants of 字号+industry → entry.
    FuzzyIndex = 10,
    /// Named roaring bitmaps (list, category, severity, status, region).
    Bitmaps = 11,
    /// JSON: build statistics and parameters.
    Meta = 12,
    /// Interned document number prefixes (`record::split_document_number`),
    /// laid out as `Strings`; an id space of their own, so that the many
    /// prefixes do not lengthen the ids of the common strings.
    DocumentPrefixes = 13,
    /// u64 per entry: its score row (`scorerow.rs`; format version 5).
    ScoreRows = 14,
}

impl Section {
    pub const ALL: [Section; 14] = [
        Section::Records,
        Section::RecordOffsets,
        Section::Strings,
        Section::CodeIndex,
        Section::RelatedIndex,
        Section::SecondaryFst,
        Section::NameIndex,
        Section::Postings,
        Section::NoRegionIndex,
        Section::FuzzyIndex,
        Section::Bitmaps,
        Section::Meta,
        Section::DocumentPrefixes,
        Section::ScoreRows,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Section::Records => "records",
            Section::RecordOffsets => "record_offsets",
            Section::Strings => "strings",
            Section::CodeIndex => "code_index",
            Section::RelatedIndex => "related_index",
            Section::SecondaryFst => "secondary_fst",
            Section::NameIndex => "name_index",
            Section::Postings => "postings",
            Section::NoRegionIndex => "noregion_index",
            Section::FuzzyIndex => "fuzzy_index",
            Section::Bitmaps => "bitmaps",
            Section::Meta => "meta",
            Section::DocumentPrefixes => "document_prefixes",
            Section::ScoreRows => "score_rows",
        }
    }

    pub fn index(self) -> usize {
        self as usize - 1
    }
}

pub const SECTION_COUNT: usize = Section::ALL.len();
pub const TABLE_END: usize = HEADER_LEN + SECTION_COUNT * SECTION_ENTRY_LEN;

/// Where a section lies and its checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SectionEntry {
    pub offset: u64,
    pub len: u64,
    pub checksum: u64,
}

/// The fixed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    /// Seconds since the Unix epoch.
    pub built_at: i64,
    pub entry_count: u64,
    /// xxh3-128 of the source entries file.
    pub source_digest: u128,
    pub file_len: u64,
    pub sections: [SectionEntry; SECTION_COUNT],
}

// Header field offsets.
const OFF_MAGIC: usize = 0;
const OFF_VERSION: usize = 8;
const OFF_BUILT_AT: usize = 16;
const OFF_ENTRIES: usize = 24;
const OFF_DIGEST: usize = 32;
const OFF_FILE_LEN: usize = 48;
const OFF_SECTION_COUNT: usize = 56;
const OFF_CHECKSUM: usize = HEADER_LEN - 8;

impl Header {
    /// Serialises header and section table (TABLE_END bytes), with the
    /// header checksum filled in.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; TABLE_END];
        b[OFF_MAGIC..8].copy_from_slice(&MAGIC);
        b[OFF_VERSION..OFF_VERSION + 4]
            .copy_from_slice(&self.version.to_le_bytes());
        b[OFF_BUILT_AT..OFF_BUILT_AT + 8]
            .copy_from_slice(&self.built_at.to_le_bytes());
        b[OFF_ENTRIES..OFF_ENTRIES + 8]
            .copy_from_slice(&self.entry_count.to_le_bytes());
        b[OFF_DIGEST..OFF_DIGEST + 16]
            .copy_from_slice(&self.source_digest.to_le_bytes());
        b[OFF_FILE_LEN..OFF_FILE_LEN + 8]
            .copy_from_slice(&self.file_len.to_le_bytes());
        b[OFF_SECTION_COUNT..OFF_SECTION_COUNT + 4]
            .copy_from_slice(&(SECTION_COUNT as u32).to_le_bytes());
        for (i, s) in self.sections.iter().enumerate() {
            let at = HEADER_LEN + i * SECTION_ENTRY_LEN;
            b[at..at + 4].copy_from_slice(&(i as u32 + 1).to_le_bytes());
            b[at + 8..at + 16].copy_from_slice(&s.offset.to_le_bytes());
            b[at + 16..at + 24].copy_from_slice(&s.len.to_le_bytes());
            b[at + 24..at + 32].copy_from_slice(&s.checksum.to_le_bytes());
        }
        let sum = header_checksum(&b);
        b[OFF_CHECKSUM..OFF_CHECKSUM + 8].copy_from_slice(&sum.to_le_bytes());
        b
    }

    /// Parses and checks the header and section table of a file.
    pub fn decode(
        bytes: &[u8],
        path: &std::path::Path,
    ) -> Result<Header, FormatError> {
        Header::decode_prefix(bytes, bytes.len() as u64, path)
    }

    /// Reads and checks the header and section table from an open file,
    /// without mapping it: what a service does before it takes a file
    /// that someone else may still change.
    pub fn read_from(
        file: &mut std::fs::File,
        path: &std::path::Path,
    ) -> Result<Header, FormatError> {
        use std::io::Read;
        let io = |source| FormatError::Io { path: path.to_path_buf(), source };
        let len = file.metadata().map_err(io)?.len();
        let mut prefix = Vec::with_capacity(TABLE_END);
        file.take(TABLE_END as u64).read_to_end(&mut prefix).map_err(io)?;
        Header::decode_prefix(&prefix, len, path)
    }

    /// [`Header::decode`] of the first bytes of a file `file_len` long.
    fn decode_prefix(
        bytes: &[u8],
        actual_len: u64,
        path: &std::path::Path,
    ) -> Result<Header, FormatError> {
        let corrupt = |what: String| FormatError::Corrupt {
            path: path.to_path_buf(),
            what,
        };
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(FormatError::NotASnapshot {
                path: path.to_path_buf(),
            });
        }
        if bytes.len() < TABLE_END {
            return Err(corrupt(format!(
                "the file is {} bytes, shorter than a header",
                bytes.len()
            )));
        }
        let version = u32_at(bytes, OFF_VERSION);
        if version != VERSION {
            return Err(FormatError::Version {
                path: path.to_path_buf(),
                found: version,
            });
        }
        let stored = u64_at(bytes, OFF_CHECKSUM);
        if stored != header_checksum(&bytes[..TABLE_END]) {
            return Err(corrupt("header checksum mismatch".into()));
        }
        let count = u32_at(bytes, OFF_SECTION_COUNT) as usize;
        if count != SECTION_COUNT {
            return Err(corrupt(format!(
                "{count} sections, expected {SECTION_COUNT}"
            )));
        }
        let file_len = u64_at(bytes, OFF_FILE_LEN);
        if file_len != actual_len {
            return Err(corrupt(format!(
                "the file is {actual_len} bytes but its header says \
                 {file_len} (truncated or appended to)"
            )));
        }
        let mut sections = [SectionEntry::default(); SECTION_COUNT];
        for (i, s) in sections.iter_mut().enumerate() {
            let at = HEADER_LEN + i * SECTION_ENTRY_LEN;
            *s = SectionEntry {
                offset: u64_at(bytes, at + 8),
                len: u64_at(bytes, at + 16),
                checksum: u64_at(bytes, at + 24),
            };
            let end = s.offset.checked_add(s.len);
            if s.offset < TABLE_END as u64 || end.is_none_or(|e| e > file_len)
            {
                return Err(corrupt(format!(
                    "section {} lies outside the file",
                    Section::ALL[i].name()
                )));
            }
        }
        Ok(Header {
            version,
            built_at: u64_at(bytes, OFF_BUILT_AT) as i64,
            entry_count: u64_at(bytes, OFF_ENTRIES),
            source_digest: u128::from_le_bytes(
                bytes[OFF_DIGEST..OFF_DIGEST + 16]
                    .try_into()
                    .expect("16 bytes"),
            ),
            file_len,
            sections,
        })
    }
}

fn header_checksum(table: &[u8]) -> u64 {
    use std::hash::Hasher as _;
    let mut h = twox_hash::XxHash3_64::new();
    h.write(&table[..OFF_CHECKSUM]);
    h.write(&table[HEADER_LEN..TABLE_END]);
    h.finish()
}

pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Why a snapshot cannot be used. Every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: not a credgate snapshot (bad magic); build one with `credgate build`"
    )]
    NotASnapshot { path: PathBuf },
    #[error(
        "{path}: snapshot format version {found}, but this credgate reads \
         only version {VERSION}; rebuild it from its entries with \
         `credgate build` (or publish it again)"
    )]
    Version { path: PathBuf, found: u32 },
    #[error(
        "{path}: corrupt snapshot: {what}; rebuild it with `credgate build`"
    )]
    Corrupt { path: PathBuf, what: String },
}
