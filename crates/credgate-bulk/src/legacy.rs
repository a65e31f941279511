//! Bounds for the workbooks calamine reads whole: XLS and ODS.
//!
//! Neither has a streaming reader in calamine: opening one parses every
//! sheet into a `Range` (a dense grid from the first to the last used
//! cell, 32 bytes a cell, and a second one of formulas), and trusts what
//! the file declares (an XLS `DIMENSIONS` record reserves its rows ×
//! columns; an ODS cell repeated 16,384 times is 16,384 clones of its
//! text). So, before calamine sees the file, with memory bounded by the
//! file size:
//!
//! - the file is at most `max_legacy_bytes`;
//! - XLS: the compound file's header, allocation tables and chains are
//!   walked (every chain acyclic and inside the file, every count within
//!   it), the workbook stream's records are read as calamine reads them,
//!   and the cells it would allocate (declared dimensions, every sheet's
//!   bounding box twice, cell records) and the text it would copy (shared
//!   strings once per cell that uses them, labels, formulas at 64 bytes a
//!   byte of formula) are counted;
//! - ODS: the ZIP and XML checks of `xlsx::check`, and in `content.xml`
//!   the same counts with repeated rows and columns expanded as calamine
//!   expands them.
//!
//! Counted cells are bounded by `max_legacy_cells`, text by
//! `max_legacy_text_bytes`. The counts are conservative (a real bidder
//! list is far below them); the bounds are derived from the job's memory
//! like every other (see [`Limits`]).

use crate::xlsx::{self, Counts};
use crate::{BulkError, InputFormat, Limits};
use std::path::Path;

fn limit(what: impl Into<String>, limit: &'static str, max: u64) -> BulkError {
    BulkError::Limit { what: what.into(), limit, max }
}

fn bad(what: impl Into<String>) -> BulkError {
    BulkError::Xlsx(format!("xls: {}", what.into()))
}

/// Checks an XLS or ODS file before calamine opens it.
pub(crate) fn check(
    path: &Path,
    format: InputFormat,
    l: &Limits,
) -> Result<(), BulkError> {
    let io =
        |source| BulkError::Io { path: path.display().to_string(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > l.max_legacy_bytes {
        return Err(limit(
            format!("the file ({size} bytes)"),
            "max_legacy_bytes",
            l.max_legacy_bytes,
        ));
    }
    let counts = if format == InputFormat::Xls {
        let data = std::fs::read(path).map_err(io)?;
        let stream = workbook_stream(&data)?;
        xls_counts(&stream)?
    } else {
        let l2 = Limits { max_xlsx_bytes: l.max_legacy_bytes, ..l.clone() };
        xlsx::check_counting(path, &l2)?
    };
    counts.within(l)
}

impl Counts {
    pub(crate) fn within(&self, l: &Limits) -> Result<(), BulkError> {
        if self.cells > l.max_legacy_cells {
            return Err(limit(
                format!(
                    "the cells the sheets span ({} with repeats and \
                     declared dimensions)",
                    self.cells
                ),
                "max_legacy_cells",
                l.max_legacy_cells,
            ));
        }
        if self.text > l.max_legacy_text_bytes {
            return Err(limit(
                format!("the sheets' text ({} bytes as read)", self.text),
                "max_legacy_text_bytes",
                l.max_legacy_text_bytes,
            ));
        }
        Ok(())
    }
}

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;

fn u16_at(d: &[u8], p: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(p..p + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], p: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(p..p + 4)?.try_into().ok()?))
}

/// The sectors of a compound file.
struct Cfb<'a> {
    data: &'a [u8],
    size: usize,
    /// Sectors in the file (the header's sector excluded).
    count: u32,
    fat: Vec<u32>,
}

impl Cfb<'_> {
    fn sector(&self, id: u32) -> Result<&[u8], BulkError> {
        let start = (id as usize + 1) * self.size;
        self.data
            .get(start..(start + self.size).min(self.data.len()))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(format!("sector {id} is beyond the file")))
    }

    /// The chain from `start` through `table`, up to `len` bytes: every
    /// sector inside the file and within `table`, and no loop (more steps
    /// than sectors), which calamine would follow until memory ran out.
    /// `max_steps` is the number of sectors there are.
    fn chain(
        &self,
        start: u32,
        table: &[u32],
        sectors: &dyn Fn(u32) -> Result<Vec<u8>, BulkError>,
        (len, max_steps): (usize, usize),
        what: &str,
    ) -> Result<Vec<u8>, BulkError> {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0usize;
        while id != ENDOFCHAIN && out.len() < len {
            steps += 1;
            if steps > max_steps {
                return Err(bad(format!("{what}: its chain loops")));
            }
            let s = sectors(id)?;
            let take = s.len().min(len - out.len());
            out.extend_from_slice(&s[..take]);
            if out.len() >= len {
                break;
            }
            id = *table.get(id as usize).ok_or_else(|| {
                bad(format!("{what}: sector {id} outside the table"))
            })?;
        }
        Ok(out)
    }
}

/// The workbook stream of a compound file, read as calamine reads it,
/// after checking every count and chain calamine trusts.
fn workbook_stream(data: &[u8]) -> Result<Vec<u8>, BulkError> {
    if !data.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        return Err(bad("not an XLS file (no compound file signature)"));
    }
    let field = |p| u32_at(data, p).ok_or_else(|| bad("a short header"));
    let size = match u16_at(data, 30) {
        Some(9) => 512,
        Some(12) => 4096,
        _ => return Err(bad("a sector size other than 512 or 4096")),
    };
    let count = (data.len() / size).saturating_sub(1) as u32;
    let fat_len = field(44)?;
    // calamine reserves by the four bytes at 62 as a count of u32s
    // (they straddle the mini FAT's start and length).
    let odd = field(62)?;
    let mini_fat_len = field(64)?;
    if fat_len > count || mini_fat_len > count || odd > (1 << 20) {
        return Err(bad("counts in the header larger than the file"));
    }
    let mut cfb = Cfb { data, size, count, fat: Vec::new() };
    // The DIFAT: 109 entries in the header, then a chain of sectors
    // whose last entry links the next.
    let mut difat: Vec<u32> = (0..109)
        .map(|i| u32_at(data, 76 + 4 * i).unwrap_or(u32::MAX))
        .collect();
    let mut id = field(68)?;
    let mut steps = 0;
    while id < 0xFFFF_FFFA {
        steps += 1;
        if steps > count {
            return Err(bad("the DIFAT chain loops"));
        }
        let s = cfb.sector(id)?;
        difat.extend(
            s.chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))),
        );
        id = difat.pop().unwrap_or(ENDOFCHAIN);
    }
    let mut fat = Vec::new();
    for id in difat.into_iter().filter(|id| *id < 0xFFFF_FFFC) {
        if fat.len() > (count as usize + 1) * size {
            return Err(bad("more FAT sectors than the file holds"));
        }
        fat.extend(
            cfb.sector(id)?
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes"))),
        );
    }
    cfb.fat = fat;
    let fat = cfb.fat.clone();
    let normal = |id: u32| cfb.sector(id).map(<[u8]>::to_vec);
    let all = cfb.count as usize + 1;
    let dirs =
        cfb.chain(field(48)?, &fat, &normal, (usize::MAX, all), "directory")?;
    let entry = |e: &[u8]| {
        let name_len = (u16_at(e, 64).unwrap_or(0) as usize).min(64);
        let name: Vec<u16> = e[..name_len.saturating_sub(2)]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let len = if size == 512 {
            u32_at(e, 120).unwrap_or(0) as u64
        } else {
            u32_at(e, 120).unwrap_or(0) as u64
                | (u32_at(e, 124).unwrap_or(0) as u64) << 32
        };
        (String::from_utf16_lossy(&name), u32_at(e, 116).unwrap_or(0), len)
    };
    let entries: Vec<(String, u32, u64)> =
        dirs.chunks_exact(128).map(entry).collect();
    let Some(root) = entries.first().cloned() else {
        return Err(bad("no root directory entry"));
    };
    let too_long = |len: u64| len > data.len() as u64;
    let (mini_fat, mini_stream) = if mini_fat_len > 0 {
        if too_long(root.2) {
            return Err(bad("a mini stream longer than the file"));
        }
        let stream = cfb.chain(
            root.1,
            &fat,
            &normal,
            (root.2 as usize, all),
            "mini stream",
        )?;
        let table = cfb.chain(
            field(60)?,
            &fat,
            &normal,
            (mini_fat_len as usize * size, all),
            "mini FAT",
        )?;
        let table: Vec<u32> = table
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        (table, stream)
    } else {
        (Vec::new(), Vec::new())
    };
    let wanted = ["Workbook", "Book", "WORKBOOK", "BOOK"];
    let Some(wb) = wanted
        .iter()
        .find_map(|w| entries.iter().find(|e| e.0 == *w))
        .cloned()
    else {
        return Err(bad("no Workbook stream"));
    };
    if too_long(wb.2) {
        return Err(bad("a workbook stream longer than the file"));
    }
    if wb.2 < 4096 {
        let mini = |id: u32| {
            let start = id as usize * 64;
            // calamine reads past the mini stream as empty.
            Ok(mini_stream
                .get(start..(start + 64).min(mini_stream.len()))
                .unwrap_or(&[])
                .to_vec())
        };
        let n = mini_stream.len() / 64 + 1;
        cfb.chain(wb.1, &mini_fat, &mini, (wb.2 as usize, n), "workbook")
    } else {
        cfb.chain(wb.1, &fat, &normal, (wb.2 as usize, all), "workbook")
    }
}

/// A BIFF record with its CONTINUE records, as calamine joins them.
struct BiffRecord<'a> {
    typ: u16,
    data: &'a [u8],
    cont: Vec<&'a [u8]>,
}

fn records(
    mut s: &[u8],
) -> impl Iterator<Item = Result<BiffRecord<'_>, BulkError>> {
    std::iter::from_fn(move || {
        if s.is_empty() {
            return None;
        }
        let (Some(typ), Some(len)) = (u16_at(s, 0), u16_at(s, 2)) else {
            s = &[];
            return Some(Err(bad("a record cut short")));
        };
        let len = len as usize;
        if s.len() < 4 + len {
            s = &[];
            return Some(Err(bad("a record longer than its stream")));
        }
        let data = &s[4..4 + len];
        s = &s[4 + len..];
        let mut cont = Vec::new();
        while s.len() > 4 && u16_at(s, 0) == Some(0x003C) {
            let n = u16_at(s, 2).unwrap_or(0) as usize;
            if s.len() < 4 + n {
                s = &[];
                return Some(Err(bad("a CONTINUE record cut short")));
            }
            cont.push(&s[4..4 + n]);
            s = &s[4 + n..];
        }
        Some(Ok(BiffRecord { typ, data, cont }))
    })
}

/// Reads the shared strings' lengths (bytes of UTF-8 at most: 3 per
/// character) from an SST record and its CONTINUE records.
fn sst_lengths(r: &BiffRecord<'_>) -> Result<Vec<u64>, BulkError> {
    let mut parts = std::iter::once(r.data.get(8..).unwrap_or(&[]))
        .chain(r.cont.iter().copied());
    let mut cur: &[u8] = parts.next().unwrap_or(&[]);
    let mut out = Vec::new();
    let short = || bad("a shared string cut short");
    loop {
        while cur.is_empty() {
            match parts.next() {
                Some(p) => cur = p,
                None => return Ok(out),
            }
        }
        if cur.len() < 3 {
            return Err(short());
        }
        let cch = u16_at(cur, 0).expect("3 bytes") as usize;
        let flags = cur[2];
        cur = &cur[3..];
        let mut skip = 0usize;
        if flags & 0x8 != 0 {
            skip += 4 * u16_at(cur, 0).ok_or_else(short)? as usize;
            cur = &cur[2..];
        }
        if flags & 0x4 != 0 {
            skip += u32_at(cur, 0).ok_or_else(short)? as usize;
            cur = &cur[4..];
        }
        let mut wide = flags & 1 != 0;
        let mut left = cch;
        while left > 0 {
            if cur.is_empty() {
                // A string continues in the next record after a new
                // flags byte.
                cur = parts.next().ok_or_else(short)?;
                let f = *cur.first().ok_or_else(short)?;
                wide = f & 1 != 0;
                cur = &cur[1..];
                continue;
            }
            let w = if wide { 2 } else { 1 };
            let n = left.min(cur.len() / w).max(1);
            if n * w > cur.len() {
                return Err(short());
            }
            cur = &cur[n * w..];
            left -= n;
        }
        while skip > 0 {
            if cur.is_empty() {
                cur = parts.next().ok_or_else(short)?;
            }
            let n = skip.min(cur.len());
            cur = &cur[n..];
            skip -= n;
        }
        out.push(cch as u64 * 3);
    }
}

/// Cells and text calamine would allocate for a workbook stream.
fn xls_counts(stream: &[u8]) -> Result<Counts, BulkError> {
    let mut sheets = Vec::new();
    let mut strings: Vec<u64> = Vec::new();
    for r in records(stream) {
        let r = r?;
        match r.typ {
            0x0085 => {
                let pos = u32_at(r.data, 0)
                    .ok_or_else(|| bad("a sheet record cut short"))?;
                if pos as usize >= stream.len() {
                    return Err(bad(format!(
                        "a sheet at offset {pos}, beyond the stream"
                    )));
                }
                sheets.push(pos as usize);
            }
            0x00FC => strings = sst_lengths(&r)?,
            0x000A => break,
            _ => {}
        }
    }
    let mut c = Counts::default();
    for pos in sheets {
        let mut bbox: Option<(u32, u32, u32, u32)> = None;
        let mut formulas: Option<(u32, u32, u32, u32)> = None;
        let grow = |b: &mut Option<(u32, u32, u32, u32)>, r, col| {
            let v = b.get_or_insert((r, r, col, col));
            *v = (v.0.min(r), v.1.max(r), v.2.min(col), v.3.max(col));
        };
        for r in records(&stream[pos..]) {
            let r = r?;
            let d = r.data;
            let at = || -> Result<(u32, u32), BulkError> {
                Ok((
                    u16_at(d, 0).ok_or_else(|| bad("a cell cut short"))?
                        as u32,
                    u16_at(d, 2).ok_or_else(|| bad("a cell cut short"))?
                        as u32,
                ))
            };
            match r.typ {
                0x0200 => {
                    let (rf, rl, cf, cl) = match d.len() {
                        10 => (
                            u16_at(d, 0).unwrap_or(0) as u64,
                            u16_at(d, 2).unwrap_or(0) as u64,
                            u16_at(d, 4).unwrap_or(0) as u64,
                            u16_at(d, 6).unwrap_or(0) as u64,
                        ),
                        14 => (
                            u32_at(d, 0).unwrap_or(0) as u64,
                            u32_at(d, 4).unwrap_or(0) as u64,
                            u16_at(d, 8).unwrap_or(0) as u64,
                            u16_at(d, 10).unwrap_or(0) as u64,
                        ),
                        _ => continue,
                    };
                    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                    if rl >= 1 && cl >= 1 {
                        // calamine reserves (rl - rf) × (cl - cf) cells,
                        // and overflows when rl - 1 < rf.
                        if rl - 1 < rf {
                            return Err(bad(
                                "DIMENSIONS ending before they start",
                            ));
                        }
                        c.cells = c
                            .cells
                            .saturating_add((rl - rf) * (cl - cf).max(1));
                    }
                }
                0x0203 | 0x0205 | 0x027E | 0x0207 => {
                    if r.typ != 0x0207 {
                        let (row, col) = at()?;
                        grow(&mut bbox, row, col);
                    }
                    c.cells += 1;
                    c.text += 2 * d.len() as u64;
                }
                0x0204 => {
                    let (row, col) = at()?;
                    grow(&mut bbox, row, col);
                    c.cells += 1;
                    c.text += 3 * d.len() as u64;
                }
                0x00FD => {
                    let (row, col) = at()?;
                    grow(&mut bbox, row, col);
                    c.cells += 1;
                    let i = u32_at(d, 6).unwrap_or(u32::MAX) as usize;
                    c.text += strings.get(i).copied().unwrap_or(0);
                }
                0x00BD => {
                    let (row, first) = at()?;
                    let last = u16_at(d, d.len().saturating_sub(2))
                        .unwrap_or(0) as u32;
                    grow(&mut bbox, row, first);
                    grow(&mut bbox, row, last.max(first));
                    c.cells += (last.saturating_sub(first) + 1) as u64;
                }
                0x0006 => {
                    let (row, col) = at()?;
                    grow(&mut bbox, row, col);
                    grow(&mut formulas, row, col);
                    c.cells += 2;
                    // A formula's text names sheets and defined names:
                    // up to 255 characters for a 5-byte token.
                    c.text += 64 * d.len() as u64;
                }
                0x000A => break,
                _ => {}
            }
        }
        let area = |b: Option<(u32, u32, u32, u32)>| {
            b.map_or(0, |(r0, r1, c0, c1)| {
                (r1 - r0 + 1) as u64 * (c1 - c0 + 1) as u64
            })
        };
        // The range, its copy when read, and the formulas' range.
        c.cells = c
            .cells
            .saturating_add(2 * area(bbox))
            .saturating_add(area(formulas));
    }
    Ok(c)
}
