//! Checks an XLSX file against [`Limits`] before the spreadsheet reader
//! (calamine) opens it, so that nothing it allocates can grow past them.
//!
//! Calamine trusts what a file declares: it reserves the shared strings
//! table by `uniqueCount`, the ZIP reader reserves entries by the count in
//! the end record, and an XML event (a cell, a comment, a tag) is buffered
//! whole, however long. So this pass, with constant memory:
//!
//! 1. bounds the file size and the ZIP end records (entry count, no
//!    ZIP64), so the ZIP directory stays small;
//! 2. decompresses every part through a counter that stops at the part's
//!    limit — declared sizes are checked first but can lie;
//! 3. tokenises every XML part as quick-xml does (text up to `<`, tags up
//!    to an unquoted `>`, comments, CDATA, processing instructions) and
//!    refuses any token longer than `max_cell_bytes`, a DOCTYPE, a cell or
//!    shared string with more text than `max_cell_bytes`, too many cells
//!    or shared strings, a declared `uniqueCount` or `dimension` over the
//!    limits, and a cell position beyond them.
//!
//! What passes can then be read with the memory the limits allow.

use crate::{BulkError, Limits};
use std::io::Read;
use std::path::Path;

fn limit(what: impl Into<String>, limit: &'static str, max: u64) -> BulkError {
    BulkError::Limit { what: what.into(), limit, max }
}

fn bad(what: impl Into<String>) -> BulkError {
    BulkError::Xlsx(what.into())
}

/// `A1`-style name of a 0-based (row, column).
pub(crate) fn cell_name(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col as u64 + 1;
    while c > 0 {
        letters.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row as u64 + 1)
}

/// Parses an `A1` reference into a 0-based (row, column); `None` when it
/// is not one (the reader then refuses the file itself).
fn parse_ref(r: &[u8]) -> Option<(u64, u64)> {
    let letters = r.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let (l, d) = r.split_at(letters);
    if l.is_empty() || d.is_empty() || l.len() > 8 || d.len() > 12 {
        return None;
    }
    let col = l.iter().fold(0u64, |acc, b| {
        acc * 26 + (b.to_ascii_uppercase() - b'A') as u64 + 1
    });
    let row: u64 = std::str::from_utf8(d).ok()?.parse().ok()?;
    Some((row.checked_sub(1)?, col - 1))
}

fn parse_u64(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

/// The value of attribute `key` in a tag's bytes (after `<`, before `>`).
fn attr<'t>(tag: &'t [u8], key: &[u8]) -> Option<&'t [u8]> {
    let mut i = tag
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/')
        .unwrap_or(tag.len());
    loop {
        while i < tag.len() && (tag[i].is_ascii_whitespace() || tag[i] == b'/')
        {
            i += 1;
        }
        if i >= tag.len() {
            return None;
        }
        let start = i;
        while i < tag.len() && tag[i] != b'=' && !tag[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let name = &tag[start..i];
        while i < tag.len() && (tag[i] == b'=' || tag[i].is_ascii_whitespace())
        {
            i += 1;
        }
        let q = *tag.get(i)?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let vstart = i + 1;
        let vlen = tag[vstart..].iter().position(|b| *b == q)?;
        if name == key {
            return Some(&tag[vstart..vstart + vlen]);
        }
        i = vstart + vlen + 1;
    }
}

fn local_name(tag: &[u8]) -> &[u8] {
    let end = tag
        .iter()
        .position(|b| b.is_ascii_whitespace() || *b == b'/' || *b == b'>')
        .unwrap_or(tag.len());
    let name = &tag[..end];
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Just after `<`.
    Open,
    /// After `<!`, deciding between a comment and CDATA.
    Bang,
    Tag,
    Comment,
    Pi,
    CData,
}

/// Whose text is being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Nobody,
    Cell(u32, u32),
    Shared(u64),
}

/// Counts over the whole file.
#[derive(Debug, Default)]
struct Totals {
    cells: u64,
    strings: u64,
    uncompressed: u64,
    /// What an ODS reader allocates (see [`Ods`]).
    ods: Ods,
}

/// Cells and text bytes a reader that holds whole sheets would allocate.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub cells: u64,
    pub text: u64,
}

/// An ODS `content.xml` as calamine expands it: a row repeated n times
/// is n rows, a cell repeated n times n cells (each a copy of its text),
/// capped as calamine caps them; every table becomes a dense range from
/// its first to its last non-empty cell.
#[derive(Debug, Default)]
struct Ods {
    counts: Counts,
    /// Rows of the current table so far, and its non-empty cells' box
    /// (first row, last row, first column, last column).
    rows: u64,
    bbox: Option<(u64, u64, u64, u64)>,
    /// The current row element: its first row, repeats, next column,
    /// first and end column of its non-empty cells, text of one copy.
    row: u64,
    repeat: u64,
    col: u64,
    first: Option<u64>,
    end: u64,
    text: u64,
    /// The current cell: repeats, non-empty, its tag's length.
    cell: Option<(u64, bool, u64)>,
}

/// calamine's caps on an ODS sheet.
const ODS_ROWS: u64 = 1_048_576;
const ODS_COLUMNS: u64 = 16_384;

/// The tokeniser of one XML part.
struct Scan<'a> {
    limits: &'a Limits,
    part: &'a str,
    totals: &'a mut Totals,
    state: State,
    token: usize,
    /// The current tag (or `<!` prefix), at most `max_cell_bytes` long.
    tag: Vec<u8>,
    quote: u8,
    /// The two bytes before the current one, to find `-->`, `?>`, `]]>`.
    tail: [u8; 2],
    owner: Owner,
    text: usize,
    /// The reader's implicit position of a cell without `r`.
    row: u64,
    col: u64,
}

impl<'a> Scan<'a> {
    fn new(limits: &'a Limits, part: &'a str, totals: &'a mut Totals) -> Self {
        Scan {
            limits,
            part,
            totals,
            state: State::Text,
            token: 0,
            tag: Vec::new(),
            quote: 0,
            tail: [0; 2],
            owner: Owner::Nobody,
            text: 0,
            row: 0,
            col: 0,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), BulkError> {
        let max = self.limits.max_cell_bytes;
        for &b in bytes {
            // A cell's text first, for the more precise message.
            if matches!(self.state, State::Text | State::CData) && b != b'<' {
                self.count_text()?;
            }
            self.token += 1;
            if self.token > max {
                return Err(limit(
                    format!("{}: an XML token", self.part),
                    "max_cell_bytes",
                    max as u64,
                ));
            }
            match self.state {
                State::Text if b == b'<' => self.begin(State::Open),
                State::Text => {}
                State::Open => match b {
                    b'!' => self.state = State::Bang,
                    b'?' => self.state = State::Pi,
                    _ => {
                        self.state = State::Tag;
                        self.tag_byte(b)?;
                    }
                },
                State::Bang => {
                    self.tag.push(b);
                    if self.tag == b"--" {
                        self.begin(State::Comment);
                    } else if self.tag == b"[CDATA[" {
                        self.begin(State::CData);
                    } else if !b"--".starts_with(&self.tag)
                        && !b"[CDATA[".starts_with(&self.tag)
                    {
                        return Err(bad(format!(
                            "{}: a DOCTYPE or other declaration, which \
                             spreadsheets do not contain",
                            self.part
                        )));
                    }
                }
                State::Tag => self.tag_byte(b)?,
                State::Comment if b == b'>' && self.tail == *b"--" => {
                    self.begin(State::Text)
                }
                State::Pi if b == b'>' && self.tail[1] == b'?' => {
                    self.begin(State::Text)
                }
                State::CData if b == b'>' && self.tail == *b"]]" => {
                    self.begin(State::Text)
                }
                State::CData | State::Comment | State::Pi => {}
            }
            self.tail = [self.tail[1], b];
        }
        Ok(())
    }

    /// Starts a token (the byte that opens it is already counted).
    fn begin(&mut self, state: State) {
        self.state = state;
        self.tail = [0; 2];
        if state == State::Open {
            self.token = 1;
            self.tag.clear();
            self.quote = 0;
        } else if state == State::Text {
            self.token = 0;
        }
    }

    fn count_text(&mut self) -> Result<(), BulkError> {
        if self.owner == Owner::Nobody {
            return Ok(());
        }
        self.text += 1;
        if self.text <= self.limits.max_cell_bytes {
            return Ok(());
        }
        let what = match self.owner {
            Owner::Cell(r, c) => {
                format!("{}: cell {}", self.part, cell_name(r, c))
            }
            Owner::Shared(i) => {
                format!("{}: shared string {i}", self.part)
            }
            Owner::Nobody => unreachable!("checked above"),
        };
        Err(limit(what, "max_cell_bytes", self.limits.max_cell_bytes as u64))
    }

    fn tag_byte(&mut self, b: u8) -> Result<(), BulkError> {
        if self.quote != 0 {
            if b == self.quote {
                self.quote = 0;
            }
        } else if b == b'"' || b == b'\'' {
            self.quote = b;
        } else if b == b'>' {
            let tag = std::mem::take(&mut self.tag);
            let r = self.element(&tag);
            self.tag = tag;
            self.begin(State::Text);
            return r;
        }
        self.tag.push(b);
        Ok(())
    }

    /// A whole tag, without `<` and `>`.
    fn element(&mut self, tag: &[u8]) -> Result<(), BulkError> {
        let l = self.limits;
        if let Some(end) = tag.strip_prefix(b"/") {
            self.end(local_name(end));
            return Ok(());
        }
        let name = local_name(tag);
        let empty = tag.ends_with(b"/");
        match name {
            b"dimension" => {
                let Some(r) = attr(tag, b"ref") else { return Ok(()) };
                let shown = String::from_utf8_lossy(r);
                let shown: String = shown.chars().take(40).collect();
                // A range that ends before it starts made calamine's
                // `get_dimension` subtract past zero (a panic in debug
                // builds, ~1.8e19 cells in release; found by fuzzing,
                // tafia/calamine#692).
                let corners: Vec<_> =
                    r.split(|b| *b == b':').filter_map(parse_ref).collect();
                if let [(r0, c0), (r1, c1)] = corners[..] {
                    if r1 < r0 || c1 < c0 {
                        return Err(bad(format!(
                            "{}: declared dimensions {shown} end before \
                             they start",
                            self.part
                        )));
                    }
                }
                for corner in r.split(|b| *b == b':') {
                    let Some((row, col)) = parse_ref(corner) else {
                        continue;
                    };
                    if col >= l.max_columns as u64 {
                        return Err(limit(
                            format!(
                                "{}: declared dimensions {shown} ({} \
                                 columns)",
                                self.part,
                                col + 1
                            ),
                            "max_columns",
                            l.max_columns as u64,
                        ));
                    }
                    if row > l.max_rows {
                        return Err(limit(
                            format!(
                                "{}: declared dimensions {shown} ({} rows)",
                                self.part,
                                row + 1
                            ),
                            "max_rows",
                            l.max_rows,
                        ));
                    }
                }
            }
            b"sst" => {
                for key in [&b"uniqueCount"[..], b"count"] {
                    let n = attr(tag, key).and_then(parse_u64).unwrap_or(0);
                    if n > l.max_shared_strings {
                        return Err(limit(
                            format!(
                                "{}: a declared count of {n} shared strings",
                                self.part
                            ),
                            "max_shared_strings",
                            l.max_shared_strings,
                        ));
                    }
                }
            }
            b"si" => {
                self.totals.strings += 1;
                if self.totals.strings > l.max_shared_strings {
                    return Err(limit(
                        format!("{}: the shared strings", self.part),
                        "max_shared_strings",
                        l.max_shared_strings,
                    ));
                }
                self.owner = Owner::Shared(self.totals.strings);
                self.text = 0;
            }
            b"row" => {
                if let Some(r) = attr(tag, b"r") {
                    // calamine reads `r` itself: a number it cannot hold
                    // overflowed there (found by fuzzing).
                    let n =
                        parse_u64(r).filter(|n| *n >= 1).ok_or_else(|| {
                            bad(format!(
                                "{}: row number '{}' is not a row number",
                                self.part,
                                String::from_utf8_lossy(&r[..r.len().min(24)])
                            ))
                        })?;
                    self.row = n - 1;
                }
                self.position(self.row, 0)?;
            }
            b"table" => {
                let o = &mut self.totals.ods;
                o.rows = 0;
                o.bbox = None;
            }
            b"table-row" => {
                let n = attr(tag, b"table:number-rows-repeated")
                    .and_then(parse_u64)
                    .unwrap_or(1);
                let o = &mut self.totals.ods;
                o.repeat = n.min(ODS_ROWS.saturating_sub(o.rows));
                o.row = o.rows;
                o.rows += o.repeat;
                o.col = 0;
                o.first = None;
                o.end = 0;
                o.text = 0;
            }
            b"table-cell" | b"covered-table-cell" => {
                let n = attr(tag, b"table:number-columns-repeated")
                    .and_then(parse_u64)
                    .unwrap_or(1);
                let valued = attr(tag, b"office:value-type").is_some()
                    || attr(tag, b"table:formula").is_some();
                let o = &mut self.totals.ods;
                let n = n.min(ODS_COLUMNS.saturating_sub(o.col));
                // A cell with content may hold text: counted as not empty.
                o.cell = Some((n, valued || !empty, tag.len() as u64));
                self.owner = Owner::Cell(
                    o.row.min(u32::MAX as u64) as u32,
                    o.col.min(u32::MAX as u64) as u32,
                );
                self.text = 0;
            }
            b"c" => {
                self.totals.cells += 1;
                if self.totals.cells > l.max_cells {
                    return Err(limit(
                        "the workbook's cells",
                        "max_cells",
                        l.max_cells,
                    ));
                }
                // A reference calamine cannot read is refused here: a row
                // beyond u32 overflowed in calamine 0.35 (found by
                // fuzzing; it wraps silently in release builds).
                let (row, col) = match attr(tag, b"r") {
                    None => (self.row, self.col),
                    Some(r) => parse_ref(r).ok_or_else(|| {
                        bad(format!(
                            "{}: cell reference '{}' is not an A1 reference",
                            self.part,
                            String::from_utf8_lossy(&r[..r.len().min(24)])
                        ))
                    })?,
                };
                self.position(row, col)?;
                self.col = col + 1;
                self.owner = Owner::Cell(row as u32, col as u32);
                self.text = 0;
            }
            _ => {}
        }
        if empty {
            self.end(name);
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8]) {
        let o = &mut self.totals.ods;
        match name {
            b"table-cell" | b"covered-table-cell" => {
                self.owner = Owner::Nobody;
                if let Some((n, full, tag)) = o.cell.take() {
                    if full {
                        o.first.get_or_insert(o.col);
                        o.end = o.col + n;
                        o.text = o
                            .text
                            .saturating_add(n * (self.text as u64 + tag));
                    }
                    o.col += n;
                }
            }
            b"table-row" => {
                // Parsed: one cell per column up to the last non-empty
                // one; the text once, then once per repeat in the range.
                o.counts.cells = o.counts.cells.saturating_add(o.end);
                o.counts.text = o.counts.text.saturating_add(
                    o.text.saturating_mul(o.repeat.saturating_add(1)),
                );
                if let Some(first) = o.first {
                    let last_row = o.row + o.repeat.max(1) - 1;
                    let b =
                        o.bbox.get_or_insert((o.row, last_row, first, o.end));
                    *b = (
                        b.0.min(o.row),
                        b.1.max(last_row),
                        b.2.min(first),
                        b.3.max(o.end),
                    );
                }
            }
            b"table" => {
                if let Some((r0, r1, c0, c1)) = o.bbox.take() {
                    // The range and the formulas' range, and a copy.
                    let area = (r1 - r0 + 1).saturating_mul(c1 - c0);
                    o.counts.cells =
                        o.counts.cells.saturating_add(area.saturating_mul(3));
                }
            }
            b"c" | b"si" => self.owner = Owner::Nobody,
            b"row" => {
                self.row += 1;
                self.col = 0;
            }
            _ => {}
        }
    }

    /// A cell or row position: within `max_rows` data rows (plus the
    /// header) and `max_columns`.
    fn position(&self, row: u64, col: u64) -> Result<(), BulkError> {
        let l = self.limits;
        let at = || cell_name(row.min(u32::MAX as u64) as u32, col as u32);
        if col >= l.max_columns as u64 {
            return Err(limit(
                format!("{}: cell {}", self.part, at()),
                "max_columns",
                l.max_columns as u64,
            ));
        }
        if row > l.max_rows {
            return Err(limit(
                format!("{}: row {}", self.part, row + 1),
                "max_rows",
                l.max_rows,
            ));
        }
        Ok(())
    }
}

/// Reads at most `left` bytes of a part, then fails (its declared size
/// may be smaller than what it inflates to).
struct Capped<R> {
    inner: R,
    left: u64,
    over: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            self.over = true;
            return Err(std::io::Error::other("part over its limit"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Every ZIP end-of-central-directory record in the file: an entry count
/// within `max_zip_entries`, and no ZIP64 markers (an XLSX within
/// `max_xlsx_bytes` never needs them). The ZIP reader tries every such
/// record it finds, so all of them are checked.
fn check_end_records(data: &[u8], l: &Limits) -> Result<(), BulkError> {
    const SIG: &[u8] = b"PK\x05\x06";
    let u16_at = |p: usize| u16::from_le_bytes([data[p], data[p + 1]]);
    let u32_at = |p: usize| {
        u32::from_le_bytes([data[p], data[p + 1], data[p + 2], data[p + 3]])
    };
    for p in 0..data.len().saturating_sub(21) {
        if &data[p..p + 4] != SIG {
            continue;
        }
        let (disk_entries, entries) = (u16_at(p + 8), u16_at(p + 10));
        if disk_entries == u16::MAX
            || entries == u16::MAX
            || u32_at(p + 12) == u32::MAX
            || u32_at(p + 16) == u32::MAX
        {
            return Err(bad("a ZIP64 archive, which an XLSX never needs"));
        }
        let n = disk_entries.max(entries) as u64;
        if n > l.max_zip_entries {
            return Err(limit(
                format!("the ZIP container ({n} entries)"),
                "max_zip_entries",
                l.max_zip_entries,
            ));
        }
    }
    Ok(())
}

/// The checks of the module comment; `Ok` means calamine may open it.
pub(crate) fn check(path: &Path, l: &Limits) -> Result<(), BulkError> {
    check_counting(path, l).map(|_| ())
}

/// [`check`], returning what an ODS reader would allocate (`legacy`).
pub(crate) fn check_counting(
    path: &Path,
    l: &Limits,
) -> Result<Counts, BulkError> {
    let io =
        |source| BulkError::Io { path: path.display().to_string(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > l.max_xlsx_bytes {
        return Err(limit(
            format!("the file ({size} bytes)"),
            "max_xlsx_bytes",
            l.max_xlsx_bytes,
        ));
    }
    // At most `max_xlsx_bytes`, and freed before the reader opens it.
    let data = std::fs::read(path).map_err(io)?;
    if !data.starts_with(b"PK\x03\x04") {
        return Err(bad("not an XLSX or ODS file (no ZIP signature)"));
    }
    check_end_records(&data, l)?;
    drop(data);
    let file = std::fs::File::open(path).map_err(io)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("not a readable ZIP container: {e}")))?;
    let mut totals = Totals::default();
    let mut buf = vec![0u8; 64 << 10];
    for i in 0..zip.len() {
        let part =
            zip.by_index(i).map_err(|e| bad(format!("ZIP entry {i}: {e}")))?;
        let name: String = part.name().chars().take(120).collect();
        let lower = name.to_ascii_lowercase();
        let (cap, cap_name) = if lower.starts_with("xl/worksheets/") {
            (l.max_xlsx_uncompressed_bytes, "max_xlsx_uncompressed_bytes")
        } else if lower == "xl/sharedstrings.xml" {
            (l.max_shared_strings_bytes, "max_shared_strings_bytes")
        } else {
            (l.max_xlsx_part_bytes, "max_xlsx_part_bytes")
        };
        let left = l.max_xlsx_uncompressed_bytes - totals.uncompressed;
        let (cap, cap_name) = if left < cap {
            (left, "max_xlsx_uncompressed_bytes")
        } else {
            (cap, cap_name)
        };
        let over = || {
            limit(
                format!("{name}: its uncompressed size"),
                cap_name,
                if cap_name == "max_xlsx_uncompressed_bytes" {
                    l.max_xlsx_uncompressed_bytes
                } else {
                    cap
                },
            )
        };
        if part.size() > cap {
            return Err(over());
        }
        let xml = lower.ends_with(".xml") || lower.ends_with(".rels");
        let mut reader = Capped { inner: part, left: cap, over: false };
        let mut scan = Scan::new(l, &name, &mut totals);
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(_) if reader.over => return Err(over()),
                Err(e) => return Err(bad(format!("{name}: {e}"))),
            };
            if xml {
                scan.feed(&buf[..n])?;
            }
        }
        totals.uncompressed += cap - reader.left;
    }
    Ok(totals.ods.counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_attributes() {
        assert_eq!(parse_ref(b"A1"), Some((0, 0)));
        assert_eq!(parse_ref(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(parse_ref(b"1A"), None);
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
        assert_eq!(cell_name(4, 27), "AB5");
        let tag = br#"c r="B2" s='1' t="s""#;
        assert_eq!(attr(tag, b"r"), Some(&b"B2"[..]));
        assert_eq!(attr(tag, b"s"), Some(&b"1"[..]));
        assert_eq!(attr(tag, b"x"), None);
        assert_eq!(local_name(b"x:c r=\"A1\""), b"c");
    }

    fn scan(xml: &str, l: &Limits) -> Result<Totals, BulkError> {
        let mut totals = Totals::default();
        let mut s = Scan::new(l, "part.xml", &mut totals);
        // Fed in small pieces: tokens cross read boundaries.
        for chunk in xml.as_bytes().chunks(7) {
            s.feed(chunk)?;
        }
        Ok(totals)
    }

    #[test]
    fn the_tokeniser_bounds_tokens_cells_and_positions() {
        let l = Limits { max_cell_bytes: 32, ..Limits::default() };
        let ok = r#"<?xml version="1.0"?><!-- a > b --><sst uniqueCount="2"><si><t>abc</t></si><si><r><t>de</t></r></si></sst>"#;
        let t = scan(ok, &l).unwrap();
        assert_eq!(t.strings, 2);
        let err = |xml: &str| scan(xml, &l).unwrap_err().to_string();
        let e = err(
            "<si><t>0123456789abcdefghij</t><t>0123456789abcdefghij</t></si>",
        );
        assert!(e.contains("shared string 1") && e.contains("max_cell_bytes"));
        let e =
            err(r#"<c r="B2"><v>0123456789012345678901234567890123</v></c>"#);
        assert!(e.contains("cell B2"), "{e}");
        let e = err(&format!("<!-- {} -->", "x".repeat(40)));
        assert!(e.contains("XML token"), "{e}");
        let e = err(r#"<!DOCTYPE x>"#);
        assert!(e.contains("DOCTYPE"), "{e}");
        let e = err(r#"<dimension ref="A1:XFD1048576"/>"#);
        assert!(e.contains("16384 columns") && e.contains("max_columns"));
        let e = err(r#"<dimension ref="A9:D3"/>"#);
        assert!(e.contains("A9:D3 end before they start"), "{e}");
        let e = err(r#"<c r="3213243807r"><v>1</v></c>"#);
        assert!(e.contains("'3213243807r' is not an A1"), "{e}");
        let e = err(r#"<row r="0">"#);
        assert!(e.contains("'0' is not a row number"), "{e}");
        assert!(scan(r#"<dimension ref="B2:D9"/>"#, &l).is_ok());
        // A cell without `r` is placed after the one before it.
        let many = format!("<row>{}</row>", "<c/>".repeat(1_025));
        assert!(err(&many).contains("cell AMK1 exceeds max_columns"));
        let e = err(r#"<sst uniqueCount="99999999999">"#);
        assert!(e.contains("max_shared_strings"), "{e}");
        // A `>` inside a quoted attribute does not end the tag.
        let t = scan(r#"<c r="A1" x="a>b"><v>1</v></c>"#, &l).unwrap();
        assert_eq!(t.cells, 1);
    }
}
