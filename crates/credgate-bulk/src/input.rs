//! Reading a bidder list: CSV (UTF-8 or GBK/GB18030) or XLSX, row by row
//! with bounded memory.
//!
//! CSV is parsed with `csv-core` into fixed buffers (`max_row_bytes`,
//! `max_columns`): a longer record cannot grow them. XLSX is checked by
//! `xlsx::check` and then streamed cell by cell (calamine's
//! `XlsxCellReader`), never as a `Range`, which allocates the declared
//! dimensions.

use crate::xlsx::{self, cell_name};
use crate::{BulkError, InputRow, Limits};
use calamine::{Data, Reader, Xlsx};
use credgate_entries::Encoding;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// What the input file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Csv(Encoding),
    /// The first worksheet of an Office Open XML workbook.
    Xlsx,
}

impl InputFormat {
    /// From a file name's extension (CSV unless `.xlsx`).
    pub fn from_path(path: &Path, encoding: Encoding) -> InputFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("xlsx") => InputFormat::Xlsx,
            _ => InputFormat::Csv(encoding),
        }
    }
}

/// Input echoed in a message at most (a header can be megabytes long).
pub const ECHO_BYTES: usize = 200;

/// `s` cut to [`ECHO_BYTES`] at a character boundary, marked when cut.
pub fn clip(s: &str) -> String {
    if s.len() <= ECHO_BYTES {
        return s.to_string();
    }
    let mut end = ECHO_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// An open, checked input: its header, and its rows as often as asked.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    limits: Limits,
    headers: Vec<String>,
    kind: Kind,
}

enum Kind {
    Csv {
        encoding: Encoding,
    },
    Xlsx {
        book: Box<Xlsx<BufReader<std::fs::File>>>,
        sheet: String,
        /// 0-based sheet row and first column of the header.
        header_row: u32,
        first_col: u32,
    },
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Csv { encoding } => write!(f, "Csv({})", encoding.name()),
            Kind::Xlsx { sheet, .. } => write!(f, "Xlsx({sheet})"),
        }
    }
}

fn cell(d: Data) -> String {
    match d {
        // Integral numbers (codes typed into a numeric cell) without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", f as i64)
        }
        Data::String(s) => s,
        other => other.to_string(),
    }
}

/// One CSV record, read into fixed buffers.
enum Record {
    Fields,
    /// Longer than `max_row_bytes`; the rest of it was skipped.
    TooLong,
    /// More than `max_columns` cells; the rest of it was skipped.
    TooWide,
}

/// CSV records with bounded buffers (the `csv` crate grows its buffer to
/// the longest record).
struct CsvRecords {
    core: csv_core::Reader,
    input: BufReader<std::fs::File>,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// Bytes and fields of the last record read.
    len: usize,
    fields: usize,
}

impl CsvRecords {
    fn open(path: &Path, l: &Limits) -> std::io::Result<CsvRecords> {
        Ok(CsvRecords {
            core: csv_core::Reader::new(),
            input: BufReader::new(std::fs::File::open(path)?),
            out: vec![0; l.max_row_bytes],
            // One more than allowed, to tell "exactly full" from "over".
            ends: vec![0; l.max_columns + 1],
            len: 0,
            fields: 0,
        })
    }

    fn next(&mut self) -> std::io::Result<Option<Record>> {
        use csv_core::ReadRecordResult as R;
        let (mut nout, mut nend) = (0, 0);
        let mut problem = None;
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, o, e) = self.core.read_record(
                input,
                &mut self.out[nout..],
                &mut self.ends[nend..],
            );
            self.input.consume(nin);
            nout += o;
            nend += e;
            match res {
                R::InputEmpty => {}
                // Keep reading to the record's end into the same space.
                R::OutputFull => {
                    problem.get_or_insert(Record::TooLong);
                    nout = 0;
                }
                R::OutputEndsFull => {
                    problem.get_or_insert(Record::TooWide);
                    nend = 0;
                }
                R::Record => {
                    if nend > self.ends.len() - 1 && problem.is_none() {
                        problem = Some(Record::TooWide);
                    }
                    self.len = nout;
                    self.fields = nend;
                    return Ok(Some(problem.unwrap_or(Record::Fields)));
                }
                R::End => return Ok(None),
            }
        }
    }

    fn decode(&self, enc: Encoding) -> Result<Vec<String>, String> {
        let mut start = 0;
        self.ends[..self.fields]
            .iter()
            .map(|&end| {
                let f = &self.out[start..end];
                start = end;
                enc.decode(f).map(|s| s.into_owned())
            })
            .collect()
    }
}

impl Source {
    /// Opens `path` and reads its header; the whole file is checked
    /// against `limits` first, so that a refusal comes before any output.
    pub fn open(
        path: &Path,
        format: InputFormat,
        limits: &Limits,
    ) -> Result<Source, BulkError> {
        match format {
            InputFormat::Csv(encoding) => {
                Source::open_csv(path, encoding, limits)
            }
            InputFormat::Xlsx => Source::open_xlsx(path, limits),
        }
    }

    fn open_csv(
        path: &Path,
        encoding: Encoding,
        l: &Limits,
    ) -> Result<Source, BulkError> {
        let io = |source| BulkError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut records = CsvRecords::open(path, l).map_err(io)?;
        match records.next().map_err(io)? {
            None => return Err(BulkError::Empty),
            Some(Record::Fields) => {}
            Some(Record::TooLong) => {
                return Err(BulkError::Limit {
                    what: "the header row".into(),
                    limit: "max_row_bytes",
                    max: l.max_row_bytes as u64,
                });
            }
            Some(Record::TooWide) => {
                return Err(BulkError::Limit {
                    what: "the header row's column count".into(),
                    limit: "max_columns",
                    max: l.max_columns as u64,
                });
            }
        };
        let encoding = match encoding {
            Encoding::Auto => Encoding::detect(&records.out[..records.len]),
            e => e,
        };
        let mut headers = records
            .decode(encoding)
            .map_err(|e| BulkError::Header(format!("encoding: {e}")))?;
        if let Some(first) = headers.first_mut() {
            if let Some(rest) = first.strip_prefix('\u{FEFF}') {
                *first = rest.to_string();
            }
        }
        // Count the rows now: past `max_rows` the upload is refused before
        // anything is written (a long record is only that row's error).
        let mut rows = 0u64;
        while records.next().map_err(io)?.is_some() {
            rows += 1;
            if rows > l.max_rows {
                return Err(BulkError::Limit {
                    what: "the file's row count".into(),
                    limit: "max_rows",
                    max: l.max_rows,
                });
            }
        }
        Ok(Source {
            path: path.to_path_buf(),
            limits: l.clone(),
            headers,
            kind: Kind::Csv { encoding },
        })
    }

    fn open_xlsx(path: &Path, l: &Limits) -> Result<Source, BulkError> {
        xlsx::check(path, l)?;
        let xerr = |e: calamine::XlsxError| BulkError::Xlsx(e.to_string());
        let mut book: Xlsx<_> = calamine::open_workbook(path).map_err(xerr)?;
        let sheet =
            book.sheet_names().into_iter().next().ok_or_else(|| {
                BulkError::Xlsx("the workbook has no sheet".into())
            })?;
        // The header: the first row with a value, from its first value to
        // its last.
        let mut cells = book.worksheet_cells_reader(&sheet).map_err(xerr)?;
        let mut header: Vec<(u32, String)> = Vec::new();
        let mut header_row = None;
        while let Some(c) = cells.next_cell().map_err(xerr)? {
            let (row, col) = c.get_position();
            if header_row.is_some_and(|h| h != row) {
                break;
            }
            let v = cell(Data::from(c.get_value().clone()));
            if v.is_empty() {
                continue;
            }
            header_row = Some(row);
            header.push((col, v));
        }
        drop(cells);
        let header_row = header_row.ok_or(BulkError::Empty)?;
        let first_col = header.iter().map(|(c, _)| *c).min().unwrap_or(0);
        let last_col = header.iter().map(|(c, _)| *c).max().unwrap_or(0);
        // Bounded by `xlsx::check` (every position within max_columns).
        let mut headers =
            vec![String::new(); (last_col - first_col) as usize + 1];
        for (c, v) in header {
            headers[(c - first_col) as usize] = v;
        }
        Ok(Source {
            path: path.to_path_buf(),
            limits: l.clone(),
            headers,
            kind: Kind::Xlsx {
                book: Box::new(book),
                sheet,
                header_row,
                first_col,
            },
        })
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The data rows from the first, numbered from 1 (a CSV record, or an
    /// XLSX sheet row counted from the header; empty sheet rows are
    /// skipped). A row that cannot be read or decoded carries its
    /// `problem`, and reading goes on; an I/O error ends the rows after
    /// one row naming it.
    pub fn rows(
        &mut self,
    ) -> Result<Box<dyn Iterator<Item = InputRow> + '_>, BulkError> {
        let l = &self.limits;
        match &mut self.kind {
            Kind::Csv { encoding } => {
                let enc = *encoding;
                let path = self.path.clone();
                let io = |source| BulkError::Io {
                    path: path.display().to_string(),
                    source,
                };
                let mut records =
                    CsvRecords::open(&self.path, l).map_err(io)?;
                // The header was read by `open`.
                records.next().map_err(io)?;
                let (max_bytes, max_cols) = (l.max_row_bytes, l.max_columns);
                let mut row = 0u64;
                let mut failed = false;
                Ok(Box::new(std::iter::from_fn(move || {
                    if failed {
                        return None;
                    }
                    row += 1;
                    let problem = |p: String| {
                        Some(InputRow {
                            row,
                            fields: Vec::new(),
                            problem: Some(p),
                        })
                    };
                    match records.next() {
                        Ok(None) => None,
                        Ok(Some(Record::Fields)) => {
                            match records.decode(enc) {
                                Ok(fields) => Some(InputRow {
                                    row,
                                    fields,
                                    problem: None,
                                }),
                                Err(e) => problem(e),
                            }
                        }
                        Ok(Some(Record::TooLong)) => problem(format!(
                            "longer than {max_bytes} bytes (max_row_bytes)"
                        )),
                        Ok(Some(Record::TooWide)) => problem(format!(
                            "more than {max_cols} cells (max_columns)"
                        )),
                        Err(e) => {
                            failed = true;
                            problem(format!("reading the file: {e}"))
                        }
                    }
                })))
            }
            Kind::Xlsx { book, sheet, header_row, first_col } => {
                let (header_row, first_col) = (*header_row, *first_col);
                let mut cells = book
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| BulkError::Xlsx(e.to_string()))?;
                // calamine does not export the reader's type: a closure.
                let next = move || {
                    let c = cells.next_cell().map_err(|e| e.to_string())?;
                    Ok(c.map(|c| {
                        let (row, col) = c.get_position();
                        (row, col, cell(Data::from(c.get_value().clone())))
                    }))
                };
                Ok(Box::new(XlsxRows {
                    next,
                    header_row,
                    first_col,
                    width: self.headers.len(),
                    pending: None,
                    done: false,
                }))
            }
        }
    }
}

/// A cell of the stream: sheet row, column, value.
type XlsxCell = (u32, u32, String);

/// Sheet rows assembled from the cell stream (cells come row by row).
struct XlsxRows<F> {
    next: F,
    header_row: u32,
    first_col: u32,
    width: usize,
    /// The row being assembled: sheet row and fields.
    pending: Option<(u32, InputRow)>,
    done: bool,
}

impl<F> XlsxRows<F> {
    fn take(&mut self) -> Option<InputRow> {
        let (_, mut r) = self.pending.take()?;
        let empty = r.fields.iter().all(String::is_empty);
        // Missing cells are empty ones: every row has the header's width.
        r.fields.resize(self.width, String::new());
        (r.problem.is_some() || !empty).then_some(r)
    }
}

impl<F> Iterator for XlsxRows<F>
where
    F: FnMut() -> Result<Option<XlsxCell>, String>,
{
    type Item = InputRow;

    fn next(&mut self) -> Option<InputRow> {
        while !self.done {
            let (srow, col, value) = match (self.next)() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    self.done = true;
                    let row =
                        self.pending.as_ref().map_or(0, |(_, r)| r.row + 1);
                    return self.take().or(Some(InputRow {
                        row,
                        fields: Vec::new(),
                        problem: Some(format!("reading the sheet: {e}")),
                    }));
                }
            };
            if srow <= self.header_row {
                continue;
            }
            let finished = match &self.pending {
                Some((r, _)) if *r != srow => self.take(),
                _ => None,
            };
            let (header_row, first_col, width) =
                (self.header_row, self.first_col, self.width);
            let pending = self.pending.get_or_insert_with(|| {
                let row = (srow - header_row) as u64;
                (srow, InputRow { row, fields: Vec::new(), problem: None })
            });
            if !value.is_empty() {
                let r = &mut pending.1;
                let i = col.checked_sub(first_col).map(|i| i as usize);
                match i {
                    Some(i) if i < width => {
                        if r.fields.len() <= i {
                            r.fields.resize(i + 1, String::new());
                        }
                        r.fields[i] = value;
                    }
                    // A value outside the header's columns has no place:
                    // the row is refused rather than shifted or cut.
                    _ => {
                        r.problem.get_or_insert_with(|| {
                            format!(
                                "cell {} has a value outside the header's \
                                 columns",
                                cell_name(srow, col)
                            )
                        });
                    }
                }
            }
            if finished.is_some() {
                return finished;
            }
        }
        self.take()
    }
}
