//! Streaming readers: one row in memory at a time, whatever the file size.

use crate::Format;
use crate::columns::{COLUMNS, lookup};
use crate::convert::{RawParty, RawRow, to_entry};
use crate::encoding::Encoding;
use crate::error::{FieldError, FileError, RowError};
use credgate_model::Entry;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

/// How many bytes are looked at to detect the encoding.
const SNIFF_BYTES: usize = 64 * 1024;

/// What reading one row produced that is not an entry.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The row is bad; the rows after it can still be read.
    #[error("{0}")]
    Row(RowError),
    /// The file cannot be read further.
    #[error("{0}")]
    File(FileError),
}

/// Options for [`EntryReader`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    /// `None` decides from the file extension.
    pub format: Option<Format>,
    /// CSV only: JSON Lines is always UTF-8.
    pub encoding: Encoding,
}

/// Reads entries from a CSV or JSON Lines file, validating each row.
pub struct EntryReader {
    source: Source,
    encoding: Encoding,
    ignored_columns: Vec<String>,
}

impl std::fmt::Debug for EntryReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntryReader")
            .field("encoding", &self.encoding)
            .field("ignored_columns", &self.ignored_columns)
            .finish_non_exhaustive()
    }
}

enum Source {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        /// For each column of the file, its index in [`COLUMNS`].
        mapping: Arc<[Option<usize>]>,
    },
    Jsonl {
        lines: Box<dyn BufRead + Send>,
        line: u64,
    },
}

/// One row as read from the file, not yet decoded or validated.
#[derive(Debug, Clone)]
pub struct RawRecord {
    line: u64,
    data: RawData,
}

#[derive(Debug, Clone)]
enum RawData {
    Csv(csv::ByteRecord),
    Jsonl(Vec<u8>),
}

impl RawRecord {
    /// 1-based line where the row starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// About how many bytes of the file the row took (for estimates).
    pub fn byte_len(&self) -> usize {
        match &self.data {
            RawData::Csv(r) => r.as_slice().len() + r.len(),
            RawData::Jsonl(b) => b.len(),
        }
    }
}

/// Turns raw rows into entries. Cheap to clone and shareable between
/// threads, so rows can be validated in parallel while the file is read
/// sequentially.
#[derive(Debug, Clone)]
pub struct RowDecoder {
    mapping: Option<Arc<[Option<usize>]>>,
    encoding: Encoding,
}

impl RowDecoder {
    pub fn decode(&self, raw: &RawRecord) -> Result<Entry, RowError> {
        let result = match (&raw.data, &self.mapping) {
            (RawData::Csv(record), Some(mapping)) => {
                csv_row(record, raw.line, mapping, self.encoding)
            }
            (RawData::Jsonl(bytes), _) => jsonl_row(bytes, raw.line),
            (RawData::Csv(_), None) => {
                unreachable!("CSV rows come with a mapping")
            }
        };
        result.map_err(|e| match e {
            ReadError::Row(r) => r,
            ReadError::File(_) => unreachable!("decoding does no I/O"),
        })
    }
}

impl EntryReader {
    /// Opens a file; the format comes from `opts` or the extension.
    pub fn open(path: &Path, opts: ReadOptions) -> Result<Self, FileError> {
        let format = match opts.format {
            Some(f) => f,
            None => Format::from_path(path).ok_or_else(|| {
                FileError::UnknownFormat { path: path.to_path_buf() }
            })?,
        };
        let file = std::fs::File::open(path).map_err(|source| {
            FileError::Io { path: path.to_path_buf(), source }
        })?;
        Self::from_reader(Box::new(file), format, opts.encoding)
    }

    /// Reads from any byte stream.
    pub fn from_reader(
        mut input: Box<dyn Read + Send>,
        format: Format,
        encoding: Encoding,
    ) -> Result<Self, FileError> {
        let io = |source| FileError::Io { path: "<input>".into(), source };
        let mut sample = Vec::with_capacity(SNIFF_BYTES);
        (&mut input)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut sample)
            .map_err(io)?;
        let encoding = match (format, encoding) {
            (Format::Jsonl, _) => Encoding::Utf8,
            (Format::Csv, Encoding::Auto) => Encoding::detect(&sample),
            (Format::Csv, e) => e,
        };
        if encoding == Encoding::Utf8 && sample.starts_with(b"\xEF\xBB\xBF") {
            sample.drain(..3);
        }
        let input: Box<dyn Read + Send> =
            Box::new(Cursor::new(sample).chain(input));
        match format {
            Format::Csv => Self::csv(input, encoding),
            Format::Jsonl => Ok(EntryReader {
                source: Source::Jsonl {
                    lines: Box::new(BufReader::with_capacity(1 << 16, input)),
                    line: 0,
                },
                encoding,
                ignored_columns: Vec::new(),
            }),
        }
    }

    fn csv(
        input: Box<dyn Read + Send>,
        encoding: Encoding,
    ) -> Result<Self, FileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(Box::new(CrLf::new(BufReader::with_capacity(
                1 << 16,
                input,
            ))) as Box<dyn Read + Send>);
        let mut header = csv::ByteRecord::new();
        match reader.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(FileError::Empty),
            Err(e) => {
                return Err(FileError::Csv {
                    line: 1,
                    message: e.to_string(),
                });
            }
        }
        let mut names = Vec::with_capacity(header.len());
        for raw in header.iter() {
            names.push(
                encoding
                    .decode(raw)
                    .map_err(|e| FileError::BadHeader(e.to_string()))?
                    .trim()
                    .to_string(),
            );
        }
        let (mapping, ignored) = header_mapping(&names)?;
        Ok(EntryReader {
            source: Source::Csv { reader, mapping: mapping.into() },
            encoding,
            ignored_columns: ignored,
        })
    }

    /// The encoding in use (detected or forced).
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Header columns that are not entry fields and were skipped.
    pub fn ignored_columns(&self) -> &[String] {
        &self.ignored_columns
    }
}

impl EntryReader {
    /// A decoder for the rows of this reader.
    pub fn decoder(&self) -> RowDecoder {
        RowDecoder {
            mapping: match &self.source {
                Source::Csv { mapping, .. } => Some(mapping.clone()),
                Source::Jsonl { .. } => None,
            },
            encoding: self.encoding,
        }
    }

    /// Reads the next raw row; `None` at the end of the file.
    pub fn next_raw(&mut self) -> Option<Result<RawRecord, FileError>> {
        match &mut self.source {
            Source::Csv { reader, .. } => {
                let mut record = csv::ByteRecord::new();
                match reader.read_byte_record(&mut record) {
                    Ok(false) => None,
                    Ok(true) => Some(Ok(RawRecord {
                        line: record_start_line(reader, &record),
                        data: RawData::Csv(record),
                    })),
                    Err(e) => Some(Err(FileError::Csv {
                        line: e.position().map_or(0, |p| p.line()),
                        message: e.to_string(),
                    })),
                }
            }
            Source::Jsonl { lines, line } => loop {
                let mut buf = Vec::new();
                match lines.read_until(b'\n', &mut buf) {
                    Ok(0) => return None,
                    Ok(_) => {
                        *line += 1;
                        if buf.iter().all(u8::is_ascii_whitespace) {
                            continue;
                        }
                        return Some(Ok(RawRecord {
                            line: *line,
                            data: RawData::Jsonl(buf),
                        }));
                    }
                    Err(source) => {
                        return Some(Err(FileError::Io {
                            path: "<input>".into(),
                            source,
                        }));
                    }
                }
            },
        }
    }

    /// Reads up to `max` raw rows into `out`, reusing the buffers of the
    /// rows already there; returns how many were read (0 at the end).
    pub fn read_batch(
        &mut self,
        max: usize,
        out: &mut Vec<RawRecord>,
    ) -> Result<usize, FileError> {
        let mut n = 0;
        while n < max {
            let more = match &mut self.source {
                Source::Csv { reader, .. } => {
                    if n == out.len() {
                        out.push(RawRecord {
                            line: 0,
                            data: RawData::Csv(csv::ByteRecord::new()),
                        });
                    }
                    let slot = &mut out[n];
                    if !matches!(slot.data, RawData::Csv(_)) {
                        slot.data = RawData::Csv(csv::ByteRecord::new());
                    }
                    let RawData::Csv(record) = &mut slot.data else {
                        unreachable!("set above")
                    };
                    let more =
                        reader.read_byte_record(record).map_err(|e| {
                            FileError::Csv {
                                line: e.position().map_or(0, |p| p.line()),
                                message: e.to_string(),
                            }
                        })?;
                    slot.line = record_start_line(reader, record);
                    more
                }
                Source::Jsonl { .. } => match self.next_raw() {
                    None => false,
                    Some(r) => {
                        let r = r?;
                        if n == out.len() {
                            out.push(r);
                        } else {
                            out[n] = r;
                        }
                        true
                    }
                },
            };
            if !more {
                break;
            }
            n += 1;
        }
        out.truncate(n);
        Ok(n)
    }
}

impl Iterator for EntryReader {
    type Item = Result<Entry, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(match self.next_raw()? {
            Ok(raw) => self.decoder().decode(&raw).map_err(ReadError::Row),
            Err(e) => Err(ReadError::File(e)),
        })
    }
}

/// Maps a header's cells to [`COLUMNS`]: for each cell, its column (or
/// `None`), and the cells that name no column. Refuses a header that
/// names a column twice or lacks a required one.
fn header_mapping(
    names: &[String],
) -> Result<(Vec<Option<usize>>, Vec<String>), FileError> {
    let mut mapping = Vec::with_capacity(names.len());
    let mut seen: Vec<Option<String>> = vec![None; COLUMNS.len()];
    let mut ignored = Vec::new();
    for name in names {
        let idx = lookup(name);
        if let Some(i) = idx {
            if let Some(first) = &seen[i] {
                return Err(FileError::DuplicateColumn {
                    column: COLUMNS[i].name,
                    first: first.clone(),
                    second: name.clone(),
                });
            }
            seen[i] = Some(name.clone());
        } else {
            ignored.push(name.clone());
        }
        mapping.push(idx);
    }
    let missing: Vec<&'static str> = COLUMNS
        .iter()
        .zip(&seen)
        .filter(|(c, s)| c.required && s.is_none())
        .map(|(c, _)| c.name)
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns {
            missing,
            found: names.to_vec(),
        });
    }
    Ok((mapping, ignored))
}

/// Decodes rows that arrive as text cells under a header, from a source
/// other than this crate's readers (a spreadsheet's rows, read by
/// `credgate-bulk`'s bounded XLSX reader): the same columns, rules and
/// errors as a CSV row.
#[derive(Debug, Clone)]
pub struct CellDecoder {
    mapping: Arc<[Option<usize>]>,
    ignored: Vec<String>,
}

impl CellDecoder {
    /// Maps the header's cells to the entry columns (English or Chinese
    /// headers, as in CSV).
    pub fn new(headers: &[String]) -> Result<CellDecoder, FileError> {
        let names: Vec<String> =
            headers.iter().map(|h| h.trim().to_string()).collect();
        let (mapping, ignored) = header_mapping(&names)?;
        Ok(CellDecoder { mapping: mapping.into(), ignored })
    }

    /// Header cells that name no entry column.
    pub fn ignored_columns(&self) -> &[String] {
        &self.ignored
    }

    /// One row of cells, at the header's positions; `line` is the row
    /// number its errors name.
    pub fn decode(
        &self,
        line: u64,
        cells: &[String],
    ) -> Result<Entry, RowError> {
        if cells.len() > self.mapping.len() {
            return Err(RowError {
                line,
                entry_id: None,
                errors: whole_row(format!(
                    "expected at most {} cells as in the header, found {}",
                    self.mapping.len(),
                    cells.len()
                )),
            });
        }
        let mut row = RawRow::new();
        for (text, idx) in cells.iter().zip(self.mapping.iter()) {
            if let Some(i) = *idx {
                row.fields[i] = Some(text.clone());
            }
        }
        finish_row(row, Vec::new(), line).map_err(|e| match e {
            ReadError::Row(r) => r,
            ReadError::File(_) => unreachable!("decoding does no I/O"),
        })
    }
}

fn row_error(
    line: u64,
    entry_id: Option<String>,
    errors: Vec<FieldError>,
) -> ReadError {
    ReadError::Row(RowError { line, entry_id, errors })
}

fn whole_row(message: String) -> Vec<FieldError> {
    vec![FieldError { column: "row".into(), message }]
}

fn csv_row(
    record: &csv::ByteRecord,
    line: u64,
    mapping: &[Option<usize>],
    encoding: Encoding,
) -> Result<Entry, ReadError> {
    if record.len() != mapping.len() {
        return Err(row_error(
            line,
            None,
            whole_row(format!(
                "expected {} fields as in the header, found {} (truncated \
                 row, or an unquoted separator?)",
                mapping.len(),
                record.len()
            )),
        ));
    }
    let mut row = RawRow::new();
    let mut errors = Vec::new();
    for (raw, idx) in record.iter().zip(mapping) {
        let Some(i) = *idx else { continue };
        match encoding.decode(raw) {
            Ok(text) => row.fields[i] = Some(text.into_owned()),
            Err(message) => errors.push(FieldError {
                column: COLUMNS[i].name.to_string(),
                message: format!("encoding: {message}"),
            }),
        }
    }
    finish_row(row, errors, line)
}

fn finish_row(
    row: RawRow,
    mut errors: Vec<FieldError>,
    line: u64,
) -> Result<Entry, ReadError> {
    let entry_id = Some(row.get(crate::Col::EntryId).to_string())
        .filter(|s| !s.is_empty());
    match to_entry(&row) {
        Ok(entry) if errors.is_empty() => Ok(entry),
        Ok(_) => Err(row_error(line, entry_id, errors)),
        Err(more) => {
            // An undecodable field also shows up as "required, but
            // empty"; report the cause only.
            let broken: Vec<String> =
                errors.iter().map(|e| e.column.clone()).collect();
            errors.extend(
                more.into_iter().filter(|e| !broken.contains(&e.column)),
            );
            Err(row_error(line, entry_id, errors))
        }
    }
}

fn jsonl_row(bytes: &[u8], line: u64) -> Result<Entry, ReadError> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(row_error(
                line,
                None,
                whole_row(format!(
                    "encoding: invalid UTF-8 at byte {} of the line (JSON \
                     Lines must be UTF-8)",
                    e.valid_up_to() + 1
                )),
            ));
        }
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(row_error(
                line,
                None,
                whole_row(format!("invalid JSON: {e} (truncated line?)")),
            ));
        }
    };
    let serde_json::Value::Object(map) = value else {
        return Err(row_error(
            line,
            None,
            whole_row("expected a JSON object per line".into()),
        ));
    };
    let mut row = RawRow::new();
    let mut errors = Vec::new();
    for (key, value) in &map {
        if key == "related_parties" {
            match parse_parties(value) {
                Ok(parties) => row.related = parties,
                Err(message) => {
                    errors.push(FieldError { column: key.clone(), message })
                }
            }
            continue;
        }
        let Some(i) = lookup(key) else { continue };
        match json_text(value) {
            Ok(text) => row.fields[i] = text,
            Err(message) => errors.push(FieldError {
                column: COLUMNS[i].name.to_string(),
                message,
            }),
        }
    }
    finish_row(row, errors, line)
}

/// The text of a JSON value: strings as they are, numbers written out
/// (legacy list codes are numbers), arrays joined with `;`.
fn json_text(v: &serde_json::Value) -> Result<Option<String>, String> {
    use serde_json::Value;
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Array(items) => {
            let parts: Result<Vec<String>, String> = items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "expected strings in the list, found {other}"
                    )),
                })
                .collect();
            Ok(Some(parts?.join(";")))
        }
        other => Err(format!("expected a string, found {other}")),
    }
}

fn parse_parties(v: &serde_json::Value) -> Result<Vec<RawParty>, String> {
    let serde_json::Value::Array(items) = v else {
        return Err(
            "expected a list of {role, name, id_type, id_number}".into()
        );
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let get = |k: &str| -> Result<String, String> {
                match item.get(k) {
                    None | Some(serde_json::Value::Null) => Ok(String::new()),
                    Some(serde_json::Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(format!(
                        "item {}: {k} must be a string, found {other}",
                        i + 1
                    )),
                }
            };
            if !item.is_object() {
                return Err(format!("item {} is not an object", i + 1));
            }
            let party = RawParty {
                role: get("role")?,
                name: get("name")?,
                id_type: get("id_type")?,
                id_number: get("id_number")?,
            };
            if party.name.trim().is_empty() {
                return Err(format!("item {}: name is required", i + 1));
            }
            Ok(party)
        })
        .collect()
}

/// The 1-based line where `record`, just read, starts. The csv crate
/// skips blank lines but dates a record from where it started looking,
/// so a record after blank lines took the first blank line's number. The
/// reader's position after the record is exact, and [`CrLf`] ends every
/// record with an LF: the record starts that many lines back, less the
/// line ends inside its quoted fields.
fn record_start_line<R: Read>(
    reader: &csv::Reader<R>,
    record: &csv::ByteRecord,
) -> u64 {
    let inner = record.as_slice().iter().filter(|&&b| b == b'\n').count();
    let end = reader.position().line();
    end.saturating_sub(inner as u64 + 1).max(1)
}

/// Reads CR LF line ends as LF. The csv crate counts lines on LF but
/// takes the CR of a CR LF as the end of the record, so every row after
/// the first was numbered one line early in a CR LF file
/// (BurntSushi/rust-csv#395, open) — and Excel and most Windows tools
/// write CSV with CR LF, so bad rows were reported on the wrong line. A
/// lone CR is kept. CR and LF are never part of a multi-byte character in
/// UTF-8 or GB18030, so this works on the undecoded bytes.
///
/// It also ends a last line that lacks its LF, so that every record is
/// followed by a line end and [`record_start_line`] can date records
/// from where they end.
struct CrLf<R> {
    inner: R,
    /// A CR ended the last buffer: dropped if an LF follows.
    pending_cr: bool,
    /// The last byte handed out (`None` before the first).
    last: Option<u8>,
}

impl<R: BufRead> CrLf<R> {
    fn new(inner: R) -> Self {
        CrLf { inner, pending_cr: false, last: None }
    }
}

impl<R: BufRead> Read for CrLf<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.read_converted(out)?;
        if n > 0 {
            self.last = Some(out[n - 1]);
        } else if !out.is_empty() && self.last.is_some_and(|b| b != b'\n') {
            out[0] = b'\n';
            self.last = Some(b'\n');
            return Ok(1);
        }
        Ok(n)
    }
}

impl<R: BufRead> CrLf<R> {
    fn read_converted(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n == 0 && !out.is_empty() {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                if std::mem::take(&mut self.pending_cr) {
                    out[0] = b'\r';
                    return Ok(1);
                }
                return Ok(0);
            }
            if std::mem::take(&mut self.pending_cr) && buf[0] != b'\n' {
                out[0] = b'\r';
                return Ok(1);
            }
            let mut used = 0;
            while used < buf.len() && n < out.len() {
                let b = buf[used];
                used += 1;
                if b == b'\r' {
                    match buf.get(used) {
                        Some(b'\n') => continue,
                        Some(_) => {}
                        None => {
                            self.pending_cr = true;
                            continue;
                        }
                    }
                }
                out[n] = b;
                n += 1;
            }
            self.inner.consume(used);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod crlf_tests {
    use super::*;

    /// Every split of the input across reads gives the same bytes.
    #[test]
    fn crlf_becomes_lf_across_buffer_edges() {
        let input = b"a,b\r\nc\rd\r\n\r\r\ne\r";
        let want = b"a,b\nc\rd\n\r\ne\r\n".to_vec();
        for cap in 1..=input.len() {
            for out_len in 1..=4 {
                let mut r = CrLf::new(BufReader::with_capacity(
                    cap,
                    Cursor::new(input.to_vec()),
                ));
                let mut got = Vec::new();
                let mut chunk = vec![0u8; out_len];
                loop {
                    let k = r.read(&mut chunk).unwrap();
                    if k == 0 {
                        break;
                    }
                    got.extend_from_slice(&chunk[..k]);
                }
                assert_eq!(got, want, "capacity {cap}, reads of {out_len}");
            }
        }
    }
}
