//! The entries file: list entries as CSV or JSON Lines (`docs/formats.md`).
//!
//! Reading streams one row at a time and validates every row: identifiers,
//! dates, vocabularies and cross-field rules. A bad row yields a
//! [`RowError`] naming its line, the column and the rule, and reading goes
//! on, so one pass reports every problem of a file; whether a file with
//! bad rows is rejected whole or its good rows kept is the caller's policy
//! ([`Policy`]).

mod columns;
mod convert;
mod encoding;
mod error;
mod reader;
mod writer;

pub use columns::{COLUMNS, Col, Column};
pub use convert::parse_date;
pub use encoding::Encoding;
pub use error::{FieldError, FileError, RowError};
pub use reader::{
    CellDecoder, EntryReader, RawRecord, ReadError, ReadOptions, RowDecoder,
};
pub use writer::{EntryWriter, FileSink, check_publishable};

use std::path::Path;

/// The two layouts of an entries file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// `.csv` is CSV; `.jsonl`, `.ndjson` and `.json` are JSON Lines.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json-lines" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// What to do with a file that has bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Reject the whole file (the default: a list is published whole or
    /// not at all).
    #[default]
    RejectFile,
    /// Keep the good rows; report the bad ones.
    SkipInvalid,
}

/// The outcome of reading a whole file under a [`Policy`].
#[derive(Debug)]
pub struct Loaded {
    /// Good entries; empty when the policy rejected the file.
    pub entries: Vec<Entry>,
    pub bad_rows: Vec<RowError>,
    /// Rows read in all, good and bad.
    pub rows: u64,
    pub rejected: bool,
}

use credgate_model::Entry;

/// Reads a whole file into memory, applying `policy`. `progress` is
/// called with the number of rows read so far, every few thousand rows.
pub fn load(
    path: &Path,
    opts: ReadOptions,
    policy: Policy,
    mut progress: impl FnMut(u64),
) -> Result<Loaded, FileError> {
    let reader = EntryReader::open(path, opts)?;
    let mut out = Loaded {
        entries: Vec::new(),
        bad_rows: Vec::new(),
        rows: 0,
        rejected: false,
    };
    for item in reader {
        out.rows += 1;
        match item {
            Ok(e) => out.entries.push(e),
            Err(ReadError::Row(r)) => out.bad_rows.push(r),
            Err(ReadError::File(f)) => return Err(f),
        }
        if out.rows % 4096 == 0 {
            progress(out.rows);
        }
    }
    progress(out.rows);
    if policy == Policy::RejectFile && !out.bad_rows.is_empty() {
        out.entries = Vec::new();
        out.rejected = true;
    }
    Ok(out)
}
