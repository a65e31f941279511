//! Reading a bidder list: CSV (UTF-8 or GBK/GB18030), XLSX, XLS or ODS,
//! row by row with bounded memory, as officers' files really are: a title
//! row or two above the header, several sheets, codes typed as numbers,
//! blank rows.
//!
//! CSV is parsed with `csv-core` into fixed buffers (`max_row_bytes`,
//! `max_columns`): a longer record cannot grow them. XLSX is checked by
//! `xlsx::check` and then streamed cell by cell (calamine's
//! `XlsxCellReader`), never as a `Range`, which allocates the declared
//! dimensions. XLS and ODS have no streaming reader: calamine reads every
//! sheet into a `Range`, so `legacy::check` bounds the file and the
//! ranges it will allocate before calamine opens it.
//!
//! The header is the first row, among the first [`HEADER_SCAN_ROWS`] of a
//! sheet, that has a name or code column; rows above it are titles. Rows
//! are numbered as the spreadsheet numbers them (1-based, title rows
//! counted), so that an officer finds the row a message names.

use crate::columns::{
    ColumnOverrides, Columns, SAMPLE_ROWS, UnusedColumn, count_codes,
    unused_columns,
};
use crate::xlsx::{self, cell_name};
use crate::{BulkError, InputRow, Limits, legacy};
use calamine::{Data, Range, Reader, Xlsx};
use credgate_entries::Encoding;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// What the input file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Csv(Encoding),
    /// An Office Open XML workbook.
    Xlsx,
    /// An Excel 97–2003 workbook (BIFF8).
    Xls,
    /// An OpenDocument spreadsheet.
    Ods,
}

impl InputFormat {
    /// From a file name's extension (CSV unless `.xlsx`, `.xls`, `.ods`).
    pub fn from_path(path: &Path, encoding: Encoding) -> InputFormat {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("xlsx" | "xlsm") => InputFormat::Xlsx,
            Some("xls") => InputFormat::Xls,
            Some("ods") => InputFormat::Ods,
            _ => InputFormat::Csv(encoding),
        }
    }

    /// A spreadsheet format from a file's first bytes: XLS (a compound
    /// file), ODS (a ZIP whose first entry is the ODS `mimetype`) or XLSX
    /// (any other ZIP); `None` otherwise.
    pub fn sniff(head: &[u8]) -> Option<InputFormat> {
        const CFB: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
        const ODS: &[u8] =
            b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet";
        if head.starts_with(CFB) {
            Some(InputFormat::Xls)
        } else if head.starts_with(b"PK\x03\x04") {
            let ods = head.get(30..30 + ODS.len()) == Some(ODS);
            Some(if ods { InputFormat::Ods } else { InputFormat::Xlsx })
        } else {
            None
        }
    }
}

/// A sheet chosen by the user: its name, or its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SheetRef {
    Name(String),
    Index(usize),
}

impl SheetRef {
    /// Digits are a position (from 1) unless a sheet has that name.
    pub fn parse(s: &str) -> SheetRef {
        let t = s.trim();
        match t.parse::<usize>() {
            Ok(i) if t.bytes().all(|b| b.is_ascii_digit()) => {
                SheetRef::Index(i)
            }
            _ => SheetRef::Name(t.to_string()),
        }
    }

    fn pick(&self, names: &[String]) -> Result<String, BulkError> {
        let found = match self {
            SheetRef::Name(n) => names.iter().find(|s| *s == n),
            SheetRef::Index(i) => names
                .iter()
                .find(|s| **s == i.to_string())
                .or_else(|| names.get(i.checked_sub(1)?)),
        };
        found.cloned().ok_or_else(|| {
            let given = match self {
                SheetRef::Name(n) => format!("'{}'", crate::clip(n)),
                SheetRef::Index(i) => i.to_string(),
            };
            BulkError::Sheet(format!(
                "{given}: no such sheet; the workbook has {}",
                crate::clip(&names.join(", "))
            ))
        })
    }
}

/// How to read an input: which sheet and which columns; by default the
/// first sheet with a header, and the columns found by their headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputOptions {
    pub sheet: Option<SheetRef>,
    pub columns: ColumnOverrides,
}

/// Rows of a sheet searched for the header.
pub const HEADER_SCAN_ROWS: u32 = 20;

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

/// An open, checked input: its header and columns, and its rows as often
/// as asked.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    limits: Limits,
    headers: Vec<String>,
    columns: Columns,
    /// The header's row, 1-based as the spreadsheet numbers it.
    header_row: u64,
    sheet: Option<String>,
    unused: Vec<UnusedColumn>,
    kind: Kind,
}

enum Kind {
    Csv {
        encoding: Encoding,
        /// Records up to and including the header.
        header_records: u64,
    },
    Xlsx {
        book: Box<Xlsx<BufReader<std::fs::File>>>,
        sheet: String,
        /// 0-based sheet row and first column of the header.
        header_row: u32,
        first_col: u32,
    },
    /// An XLS or ODS sheet, read whole by calamine (bounded by
    /// `legacy::check`).
    Grid { range: Range<Data>, header_row: u32, first_col: u32 },
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Csv { encoding, .. } => {
                write!(f, "Csv({})", encoding.name())
            }
            Kind::Xlsx { sheet, .. } => write!(f, "Xlsx({sheet})"),
            Kind::Grid { range, .. } => {
                write!(f, "Grid({:?})", range.get_size())
            }
        }
    }
}

/// A cell's text, and whether it is stored as a number. A number is
/// written in full (`913213233634161900`, never `9.132132336341619e17`):
/// Rust's `Display` of a float is its shortest exact decimal form.
fn cell(d: Data) -> (String, bool) {
    match d {
        Data::Float(f) => (format!("{f}"), true),
        Data::Int(i) => (i.to_string(), true),
        Data::String(s) => (s, false),
        other => (other.to_string(), false),
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
    /// Records read so far, and the spreadsheet row of the last one.
    records: u64,
    row: u64,
    /// The last byte consumed, to tell whether a record's newline was.
    last: u8,
    /// Newlines inside the quoted cells of the records read: a
    /// spreadsheet keeps such a record on one row.
    inner_newlines: u64,
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
            records: 0,
            row: 0,
            last: 0,
            inner_newlines: 0,
        })
    }

    fn next(&mut self) -> std::io::Result<Option<Record>> {
        use csv_core::ReadRecordResult as R;
        let (mut nout, mut nend) = (0, 0);
        let mut problem = None;
        let mut inner = 0u64;
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, o, e) = self.core.read_record(
                input,
                &mut self.out[nout..],
                &mut self.ends[nend..],
            );
            if nin > 0 {
                self.last = input[nin - 1];
            }
            self.input.consume(nin);
            nout += o;
            nend += e;
            match res {
                R::InputEmpty => {}
                // Keep reading to the record's end into the same space.
                R::OutputFull => {
                    problem.get_or_insert(Record::TooLong);
                    inner += self.out[..nout]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count() as u64;
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
                    inner += self.out[..nout]
                        .iter()
                        .filter(|b| **b == b'\n')
                        .count() as u64;
                    self.number(inner);
                    return Ok(Some(problem.unwrap_or(Record::Fields)));
                }
                R::End => return Ok(None),
            }
        }
    }

    /// The spreadsheet row of the record just read, from the newlines
    /// consumed (blank lines are rows to a spreadsheet; `csv-core` skips
    /// them) less those inside quoted cells.
    fn number(&mut self, inner: u64) {
        self.records += 1;
        let end = (self.last == b'\n') as u64;
        let first_line = self.core.line().saturating_sub(inner + end);
        let row = first_line.saturating_sub(self.inner_newlines);
        // A file with CR-only line ends has one "line": count records.
        self.row = row.max(self.row + 1);
        self.inner_newlines += inner;
    }

    fn decode(&self, enc: Encoding) -> Result<Vec<String>, String> {
        let mut start = 0;
        let mut fields: Vec<String> = self.ends[..self.fields]
            .iter()
            .map(|&end| {
                let f = &self.out[start..end];
                start = end;
                enc.decode(f).map(|s| s.into_owned())
            })
            .collect::<Result<_, _>>()?;
        if self.records == 1 {
            if let Some(rest) =
                fields.first().and_then(|f| f.strip_prefix('\u{FEFF}'))
            {
                fields[0] = rest.to_string();
            }
        }
        Ok(fields)
    }

    fn bytes(&self) -> &[u8] {
        &self.out[..self.len]
    }

    /// A refusal of a record read while looking for the header.
    fn too_big(&self, r: &Record, l: &Limits) -> Option<BulkError> {
        let what = format!("row {} (before a header was found)", self.row);
        match r {
            Record::Fields => None,
            Record::TooLong => Some(BulkError::Limit {
                what,
                limit: "max_row_bytes",
                max: l.max_row_bytes as u64,
            }),
            Record::TooWide => Some(BulkError::Limit {
                what: format!("{what}: its column count"),
                limit: "max_columns",
                max: l.max_columns as u64,
            }),
        }
    }
}

fn blank(fields: &[String]) -> bool {
    fields.iter().all(|f| f.trim().is_empty())
}

/// A header candidate: 0-based sheet row, the column of its first cell,
/// its cells.
type Header = (u32, u32, Vec<String>);

/// Finds the header among the first rows, fed one at a time: the first
/// row that [`Columns::is_header`] accepts, or else (when columns are
/// chosen by position) the first that they fit.
#[derive(Default)]
struct HeaderScan {
    found: Option<Header>,
    fallback: Option<Header>,
    /// The first row with a value, for the refusal's message.
    first: Option<Vec<String>>,
}

impl HeaderScan {
    /// Takes a row; true once the header is found.
    fn feed(&mut self, h: Header, o: &ColumnOverrides) -> bool {
        if self.found.is_some() || blank(&h.2) {
            return self.found.is_some();
        }
        if Columns::is_header(&h.2, o) {
            self.found = Some(h);
            return true;
        }
        if self.first.is_none() {
            // Only for the refusal's message, which quotes little.
            let cut = |c: &String| c.chars().take(64).collect();
            self.first = Some(h.2.iter().map(cut).collect());
        }
        if self.fallback.is_none() && Columns::choose(&h.2, o).is_ok() {
            self.fallback = Some(h);
        }
        false
    }

    /// The header, or the refusal.
    fn finish(
        self,
        o: &ColumnOverrides,
        where_: &str,
    ) -> Result<Header, BulkError> {
        if let Some(h) = self.found.or(self.fallback) {
            return Ok(h);
        }
        let Some(first) = self.first else {
            return Err(BulkError::Empty);
        };
        let e = Columns::choose(&first, o)
            .err()
            .unwrap_or_else(|| BulkError::Header("no header".into()));
        Err(match e {
            BulkError::Header(m) => BulkError::Header(format!(
                "{m} (looked for a header in the first {HEADER_SCAN_ROWS} \
                 rows{where_})"
            )),
            e => e,
        })
    }
}

/// Feeds the first rows of a cell stream (cells come in row order) to a
/// [`HeaderScan`], one row at a time, at columns relative to the row's
/// first value.
fn scan_cells(
    next: &mut dyn FnMut() -> Result<Option<GridCell>, String>,
    o: &ColumnOverrides,
) -> Result<HeaderScan, BulkError> {
    let mut scan = HeaderScan::default();
    let mut row: Option<(u32, Vec<(u32, String)>)> = None;
    let flush = |scan: &mut HeaderScan, r: u32, cells: Vec<(u32, String)>| {
        let first = cells.iter().map(|c| c.0).min().unwrap_or(0);
        let last = cells.iter().map(|c| c.0).max().unwrap_or(0);
        // Positions are within max_columns (checked before opening).
        let mut v = vec![String::new(); (last - first) as usize + 1];
        for (c, s) in cells {
            v[(c - first) as usize] = s;
        }
        scan.feed((r, first, v), o)
    };
    while let Some((r, c, v, _)) = next().map_err(BulkError::Xlsx)? {
        if r >= HEADER_SCAN_ROWS {
            break;
        }
        if row.as_ref().is_some_and(|(pr, _)| *pr != r) {
            let (pr, cells) = row.take().expect("checked");
            if flush(&mut scan, pr, cells) {
                return Ok(scan);
            }
        }
        if !v.trim().is_empty() {
            row.get_or_insert_with(|| (r, Vec::new())).1.push((c, v));
        }
    }
    if let Some((pr, cells)) = row.take() {
        flush(&mut scan, pr, cells);
    }
    Ok(scan)
}

impl Source {
    /// Opens `path` with the default options (the first sheet with a
    /// header, columns found by their headers).
    pub fn open(
        path: &Path,
        format: InputFormat,
        limits: &Limits,
    ) -> Result<Source, BulkError> {
        Source::open_with(path, format, limits, &InputOptions::default())
    }

    /// Opens `path`, finds its header and columns, and samples its first
    /// rows for unused columns that look like names or codes; the whole
    /// file is checked against `limits` first, so that a refusal comes
    /// before any output.
    pub fn open_with(
        path: &Path,
        format: InputFormat,
        limits: &Limits,
        options: &InputOptions,
    ) -> Result<Source, BulkError> {
        let mut source = match format {
            InputFormat::Csv(encoding) => {
                Source::open_csv(path, encoding, limits, options)?
            }
            InputFormat::Xlsx => Source::open_xlsx(path, limits, options)?,
            InputFormat::Xls | InputFormat::Ods => {
                legacy::check(path, format, limits)?;
                Source::open_grid(path, format, limits, options)?
            }
        };
        // One row at a time: a row may be large.
        let mut codes = Vec::new();
        for r in source.rows()?.take(SAMPLE_ROWS) {
            count_codes(&mut codes, &r.fields);
        }
        source.unused =
            unused_columns(&source.headers, &source.columns, &codes);
        Ok(source)
    }

    fn open_csv(
        path: &Path,
        encoding: Encoding,
        l: &Limits,
        options: &InputOptions,
    ) -> Result<Source, BulkError> {
        let io = |source| BulkError::Io {
            path: path.display().to_string(),
            source,
        };
        // The encoding: GB18030 if any of the first rows is not UTF-8 (a
        // title row may be plain ASCII and the header GBK).
        let mut records = CsvRecords::open(path, l).map_err(io)?;
        let mut enc = Encoding::Utf8;
        let mut any = false;
        while let Some(r) = records.next().map_err(io)? {
            if records.row > HEADER_SCAN_ROWS as u64 {
                break;
            }
            any = true;
            if matches!(r, Record::Fields)
                && Encoding::detect(records.bytes()) != Encoding::Utf8
            {
                enc = Encoding::Gb18030;
            }
        }
        if !any {
            return Err(BulkError::Empty);
        }
        let encoding = match encoding {
            Encoding::Auto => enc,
            e => e,
        };
        let mut records = CsvRecords::open(path, l).map_err(io)?;
        let mut scan = HeaderScan::default();
        let mut header_at = 0;
        let mut fallback_at = 0;
        while let Some(r) = records.next().map_err(io)? {
            if records.row > HEADER_SCAN_ROWS as u64 {
                break;
            }
            // Before the header every row may be it: one too long is
            // refused, as a header too long would be.
            if let Some(e) = records.too_big(&r, l) {
                return Err(e);
            }
            // A row that does not decode is no header.
            let Ok(fields) = records.decode(encoding) else { continue };
            let had_fallback = scan.fallback.is_some();
            let row = (records.row - 1) as u32;
            if scan.feed((row, 0, fields), &options.columns) {
                header_at = records.records;
                break;
            }
            if !had_fallback && scan.fallback.is_some() {
                fallback_at = records.records;
            }
        }
        if scan.found.is_none() {
            header_at = fallback_at;
        }
        let (row, _, headers) = scan.finish(&options.columns, "")?;
        let columns = Columns::choose(&headers, &options.columns)?;
        // Count the rows now: past `max_rows` the upload is refused before
        // anything is written (a long record is only that row's error).
        let mut records = CsvRecords::open(path, l).map_err(io)?;
        let mut rows = 0u64;
        while records.next().map_err(io)?.is_some() {
            if records.records <= header_at {
                continue;
            }
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
            columns,
            header_row: row as u64 + 1,
            sheet: None,
            unused: Vec::new(),
            kind: Kind::Csv { encoding, header_records: header_at },
        })
    }

    fn open_xlsx(
        path: &Path,
        l: &Limits,
        options: &InputOptions,
    ) -> Result<Source, BulkError> {
        xlsx::check(path, l)?;
        let xerr = |e: calamine::XlsxError| BulkError::Xlsx(e.to_string());
        let mut book: Xlsx<_> = calamine::open_workbook(path).map_err(xerr)?;
        let names = book.sheet_names();
        if names.is_empty() {
            return Err(BulkError::Xlsx("the workbook has no sheet".into()));
        }
        let candidates = match &options.sheet {
            Some(s) => vec![s.pick(&names)?],
            None => names.clone(),
        };
        let mut refusals = Vec::new();
        for sheet in candidates {
            let mut cells = match book.worksheet_cells_reader(&sheet) {
                Ok(c) => c,
                // A chart sheet, say: not the list.
                Err(e) if options.sheet.is_none() => {
                    refusals.push(BulkError::Xlsx(e.to_string()));
                    continue;
                }
                Err(e) => return Err(xerr(e)),
            };
            let mut next = || xlsx_cell(cells.next_cell());
            let scan = scan_cells(&mut next, &options.columns)?;
            drop(cells);
            let at = format!(" of sheet '{}'", clip(&sheet));
            match scan.finish(&options.columns, &at) {
                Ok((row, first_col, headers)) => {
                    let columns = Columns::choose(&headers, &options.columns)?;
                    return Ok(Source {
                        path: path.to_path_buf(),
                        limits: l.clone(),
                        headers,
                        columns,
                        header_row: row as u64 + 1,
                        sheet: Some(sheet.clone()),
                        unused: Vec::new(),
                        kind: Kind::Xlsx {
                            book: Box::new(book),
                            sheet,
                            header_row: row,
                            first_col,
                        },
                    });
                }
                Err(e) => refusals.push(e),
            }
        }
        Err(no_header(refusals, &names))
    }

    fn open_grid(
        path: &Path,
        format: InputFormat,
        l: &Limits,
        options: &InputOptions,
    ) -> Result<Source, BulkError> {
        let mut book = open_legacy(path, format)?;
        let names = book.sheet_names();
        if names.is_empty() {
            return Err(BulkError::Xlsx("the workbook has no sheet".into()));
        }
        let candidates = match &options.sheet {
            Some(s) => vec![s.pick(&names)?],
            None => names.clone(),
        };
        let mut refusals = Vec::new();
        for sheet in candidates {
            let range = book
                .worksheet_range(&sheet)
                .map_err(|e| BulkError::Xlsx(e.to_string()))?;
            let scan = scan_cells(&mut grid_cells(&range), &options.columns)?;
            let at = format!(" of sheet '{}'", clip(&sheet));
            match scan.finish(&options.columns, &at) {
                Ok((row, first_col, headers)) => {
                    let columns = Columns::choose(&headers, &options.columns)?;
                    // The other sheets' ranges go with the workbook.
                    drop(book);
                    return Ok(Source {
                        path: path.to_path_buf(),
                        limits: l.clone(),
                        headers,
                        columns,
                        header_row: row as u64 + 1,
                        sheet: Some(sheet),
                        unused: Vec::new(),
                        kind: Kind::Grid { range, header_row: row, first_col },
                    });
                }
                Err(e) => refusals.push(e),
            }
        }
        Err(no_header(refusals, &names))
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The columns used for name, code and legal representative.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The header's row, 1-based as the spreadsheet numbers it (2 when a
    /// title row is above it).
    pub fn header_row(&self) -> u64 {
        self.header_row
    }

    /// The sheet read, for a workbook.
    pub fn sheet(&self) -> Option<&str> {
        self.sheet.as_deref()
    }

    /// Columns not used that look like names or identifiers.
    pub fn unused_columns(&self) -> &[UnusedColumn] {
        &self.unused
    }

    /// The data rows below the header, numbered as the spreadsheet
    /// numbers them; blank rows are skipped. A row that cannot be read or
    /// decoded carries its `problem`, and reading goes on; an I/O error
    /// ends the rows after one row naming it.
    pub fn rows(
        &mut self,
    ) -> Result<Box<dyn Iterator<Item = InputRow> + '_>, BulkError> {
        let l = &self.limits;
        let width = self.headers.len();
        match &mut self.kind {
            Kind::Csv { encoding, header_records } => {
                let (enc, skip) = (*encoding, *header_records);
                let path = self.path.clone();
                let io = |source| BulkError::Io {
                    path: path.display().to_string(),
                    source,
                };
                let mut records =
                    CsvRecords::open(&self.path, l).map_err(io)?;
                // The title rows and the header were read by `open`.
                while records.records < skip {
                    if records.next().map_err(io)?.is_none() {
                        break;
                    }
                }
                let (max_bytes, max_cols) = (l.max_row_bytes, l.max_columns);
                let mut failed = false;
                Ok(Box::new(std::iter::from_fn(move || {
                    loop {
                        if failed {
                            return None;
                        }
                        let next = records.next();
                        let row = records.row;
                        let problem = |p: String| {
                            Some(InputRow {
                                row,
                                problem: Some(p),
                                ..Default::default()
                            })
                        };
                        return match next {
                            Ok(None) => None,
                            Ok(Some(Record::Fields)) => {
                                match records.decode(enc) {
                                    Ok(f) if blank(&f) => continue,
                                    Ok(fields) => Some(InputRow {
                                        row,
                                        fields,
                                        ..Default::default()
                                    }),
                                    Err(e) => problem(e),
                                }
                            }
                            Ok(Some(Record::TooLong)) => problem(format!(
                                "longer than {max_bytes} bytes \
                                 (max_row_bytes)"
                            )),
                            Ok(Some(Record::TooWide)) => problem(format!(
                                "more than {max_cols} cells (max_columns)"
                            )),
                            Err(e) => {
                                failed = true;
                                problem(format!("reading the file: {e}"))
                            }
                        };
                    }
                })))
            }
            Kind::Xlsx { book, sheet, header_row, first_col } => {
                let (header_row, first_col) = (*header_row, *first_col);
                let mut cells = book
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| BulkError::Xlsx(e.to_string()))?;
                // calamine does not export the reader's type: a closure.
                let next = move || xlsx_cell(cells.next_cell());
                Ok(Box::new(SheetRows {
                    next,
                    header_row,
                    first_col,
                    width,
                    pending: None,
                    done: false,
                }))
            }
            Kind::Grid { range, header_row, first_col } => {
                Ok(Box::new(SheetRows {
                    next: grid_cells(range),
                    header_row: *header_row,
                    first_col: *first_col,
                    width,
                    pending: None,
                    done: false,
                }))
            }
        }
    }
}

/// The refusal when no sheet has a header: the one sheet's own, or one
/// naming every sheet looked at.
fn no_header(mut refusals: Vec<BulkError>, names: &[String]) -> BulkError {
    if refusals.len() == 1 {
        return refusals.remove(0);
    }
    if refusals.iter().all(|e| matches!(e, BulkError::Empty)) {
        return BulkError::Empty;
    }
    BulkError::Header(format!(
        "no sheet has a header with a name or code column in its first \
         {HEADER_SCAN_ROWS} rows (sheets: {}); choose the sheet and columns",
        clip(&names.join(", "))
    ))
}

/// A cell of a sheet: 0-based row and column, text, stored as a number.
type GridCell = (u32, u32, String, bool);

fn xlsx_cell(
    c: Result<
        Option<calamine::Cell<calamine::DataRef<'_>>>,
        calamine::XlsxError,
    >,
) -> Result<Option<GridCell>, String> {
    let c = c.map_err(|e| e.to_string())?;
    Ok(c.map(|c| {
        let (row, col) = c.get_position();
        let (text, number) = cell(Data::from(c.get_value().clone()));
        (row, col, text, number)
    }))
}

/// The used cells of a range, in row order, at absolute positions.
fn grid_cells(
    range: &Range<Data>,
) -> impl FnMut() -> Result<Option<GridCell>, String> + '_ {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut cells = range.used_cells();
    move || {
        Ok(cells.next().map(|(r, c, d)| {
            let (text, num) = cell(d.clone());
            (r0 + r as u32, c0 + c as u32, text, num)
        }))
    }
}

/// Opens an XLS or ODS workbook (already checked).
fn open_legacy(
    path: &Path,
    format: InputFormat,
) -> Result<calamine::Sheets<BufReader<std::fs::File>>, BulkError> {
    let e = |e: calamine::Error| BulkError::Xlsx(e.to_string());
    let file = std::fs::File::open(path).map_err(|source| BulkError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let r = BufReader::new(file);
    Ok(match format {
        InputFormat::Xls => calamine::Sheets::Xls(
            calamine::Xls::new(r).map_err(|x| e(x.into()))?,
        ),
        _ => calamine::Sheets::Ods(
            calamine::Ods::new(r).map_err(|x| e(x.into()))?,
        ),
    })
}

/// Sheet rows assembled from a cell stream (cells come row by row).
struct SheetRows<F> {
    next: F,
    header_row: u32,
    first_col: u32,
    width: usize,
    /// The row being assembled.
    pending: Option<InputRow>,
    done: bool,
}

impl<F> SheetRows<F> {
    fn take(&mut self) -> Option<InputRow> {
        let mut r = self.pending.take()?;
        let empty = blank(&r.fields);
        // Missing cells are empty ones: every row has the header's width.
        r.fields.resize(self.width, String::new());
        (r.problem.is_some() || !empty).then_some(r)
    }
}

impl<F> Iterator for SheetRows<F>
where
    F: FnMut() -> Result<Option<GridCell>, String>,
{
    type Item = InputRow;

    fn next(&mut self) -> Option<InputRow> {
        while !self.done {
            let (srow, col, value, number) = match (self.next)() {
                Ok(Some(c)) => c,
                Ok(None) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    self.done = true;
                    let row = self.pending.as_ref().map_or(0, |r| r.row + 1);
                    return self.take().or(Some(InputRow {
                        row,
                        problem: Some(format!("reading the sheet: {e}")),
                        ..Default::default()
                    }));
                }
            };
            if srow <= self.header_row {
                continue;
            }
            let row = srow as u64 + 1;
            let finished = match &self.pending {
                Some(r) if r.row != row => self.take(),
                _ => None,
            };
            let (first_col, width) = (self.first_col, self.width);
            let r = self
                .pending
                .get_or_insert_with(|| InputRow { row, ..Default::default() });
            if !value.is_empty() {
                let i = col.checked_sub(first_col).map(|i| i as usize);
                match i {
                    Some(i) if i < width => {
                        if r.fields.len() <= i {
                            r.fields.resize(i + 1, String::new());
                        }
                        r.fields[i] = value;
                        if number {
                            r.numbers.push(i);
                        }
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
