//! Reading a bidder list: CSV (UTF-8 or GBK/GB18030) or XLSX.

use crate::{BulkError, InputRow};
use calamine::{Data, Reader};
use credgate_entries::Encoding;
use std::path::Path;

/// What the input file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    Csv(Encoding),
    /// The first worksheet of an Office Open XML workbook.
    Xlsx,
}

impl InputFormat {
    /// From a content type (`text/csv`, `application/vnd.openxmlformats-
    /// officedocument.spreadsheetml.sheet`), a charset parameter choosing
    /// the CSV encoding.
    pub fn from_content_type(ct: &str) -> Option<InputFormat> {
        let mut parts = ct.split(';').map(str::trim);
        let mime = parts.next()?.to_ascii_lowercase();
        let charset = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
            .and_then(|(_, v)| Encoding::parse(v.trim_matches('"')));
        match mime.as_str() {
            "text/csv" | "application/csv" | "text/plain" => {
                Some(InputFormat::Csv(charset.unwrap_or(Encoding::Auto)))
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
                Some(InputFormat::Xlsx)
            }
            _ => None,
        }
    }

    /// From a file name's extension (CSV unless `.xlsx`).
    pub fn from_path(path: &Path, encoding: Encoding) -> InputFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("xlsx") => InputFormat::Xlsx,
            _ => InputFormat::Csv(encoding),
        }
    }
}

/// An open input: its header and then its rows.
#[derive(Debug)]
pub enum Source {
    Csv {
        path: std::path::PathBuf,
        reader: csv::Reader<std::fs::File>,
        encoding: Encoding,
        headers: Vec<String>,
    },
    /// The sheet is in memory (calamine reads it whole).
    Xlsx { rows: Vec<Vec<String>>, headers: Vec<String> },
}

fn cell(d: &Data) -> String {
    match d {
        // Integral numbers (codes typed into a numeric cell) without ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", *f as i64)
        }
        other => other.to_string(),
    }
}

fn decode(
    enc: Encoding,
    rec: &csv::ByteRecord,
) -> Result<Vec<String>, String> {
    rec.iter().map(|f| enc.decode(f).map(|s| s.into_owned())).collect()
}

impl Source {
    pub fn open(
        path: &Path,
        format: InputFormat,
    ) -> Result<Source, BulkError> {
        let io = |source| BulkError::Io {
            path: path.display().to_string(),
            source,
        };
        match format {
            InputFormat::Csv(encoding) => {
                let file = std::fs::File::open(path).map_err(io)?;
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(file);
                let mut header = csv::ByteRecord::new();
                let more =
                    reader.read_byte_record(&mut header).map_err(|e| {
                        BulkError::Csv { row: 0, message: e.to_string() }
                    })?;
                if !more {
                    return Err(BulkError::Empty);
                }
                let encoding = match encoding {
                    Encoding::Auto => Encoding::detect(header.as_slice()),
                    e => e,
                };
                let headers = decode(encoding, &header).map_err(|e| {
                    BulkError::Header(format!("encoding: {e}"))
                })?;
                Ok(Source::Csv {
                    path: path.to_path_buf(),
                    reader,
                    encoding,
                    headers,
                })
            }
            InputFormat::Xlsx => {
                let mut book = calamine::open_workbook_auto(path)
                    .map_err(|e| BulkError::Xlsx(e.to_string()))?;
                let range = book
                    .worksheet_range_at(0)
                    .ok_or_else(|| {
                        BulkError::Xlsx("the workbook has no sheet".into())
                    })?
                    .map_err(|e| BulkError::Xlsx(e.to_string()))?;
                let mut rows = range
                    .rows()
                    .map(|r| r.iter().map(cell).collect::<Vec<_>>());
                let headers = rows.next().ok_or(BulkError::Empty)?;
                Ok(Source::Xlsx { rows: rows.collect(), headers })
            }
        }
    }

    pub fn headers(&self) -> &[String] {
        match self {
            Source::Csv { headers, .. } | Source::Xlsx { headers, .. } => {
                headers
            }
        }
    }

    /// Starts the rows again from the first (a CSV file is reopened; the
    /// encoding found the first time is kept).
    pub fn rewind(&mut self) -> Result<(), BulkError> {
        if let Source::Csv { path, encoding, .. } = self {
            *self = Source::open(&path.clone(), InputFormat::Csv(*encoding))?;
        }
        Ok(())
    }

    /// The data rows, numbered from 1; a row that cannot be read or
    /// decoded is an `Err` naming why, and reading goes on.
    pub fn rows(&mut self) -> Box<dyn Iterator<Item = InputRow> + '_> {
        match self {
            Source::Csv { reader, encoding, .. } => {
                let enc = *encoding;
                let mut row = 0u64;
                let mut rec = csv::ByteRecord::new();
                let mut failed = false;
                Box::new(std::iter::from_fn(move || {
                    if failed {
                        return None;
                    }
                    row += 1;
                    match reader.read_byte_record(&mut rec) {
                        Ok(true) => Some((row, decode(enc, &rec))),
                        Ok(false) => None,
                        // An I/O error would repeat: name it, then stop.
                        Err(e) => {
                            failed = e.is_io_error();
                            Some((row, Err(e.to_string())))
                        }
                    }
                }))
            }
            Source::Xlsx { rows, .. } => Box::new(
                rows.iter()
                    .cloned()
                    .enumerate()
                    .map(|(i, r)| (i as u64 + 1, Ok(r))),
            ),
        }
    }
}
