//! Writing bulk results as CSV or NDJSON.
//!
//! The CSV is a report that people open in a spreadsheet, and it echoes
//! their input: every cell that a spreadsheet would read as a formula is
//! neutralised ([`neutralise`]). NDJSON is for programs and carries the
//! values as they are. A future XLSX writer must write every cell as a
//! string (never a formula or a number parsed from input).

use crate::{BulkError, RowResult};
use std::borrow::Cow;
use std::io::Write;

/// A cell as written to a CSV report: one that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'`, so that a
/// spreadsheet shows it as text instead of evaluating it (OWASP's rule
/// against CSV injection). A report is for reading, so a value such as
/// `-5` showing as `'-5` is the accepted price.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    // The full-width forms too: a spreadsheet on a Chinese input method
    // may take ＝ for =.
    match cell.chars().next() {
        Some(
            '=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠',
        ) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Columns added after the input's own.
pub const ADDED_COLUMNS: &[&str] = &[
    "decision",
    "hit_count",
    "top_score",
    "hits",
    "shared_legal_rep_with",
    "error",
    "warnings",
];

/// Output format of a bulk run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl OutputFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Csv => "text/csv; charset=utf-8",
            OutputFormat::Ndjson => "application/x-ndjson",
        }
    }
}

/// Writes results to any `Write`, the header first.
#[derive(Debug)]
pub struct RowWriter<W: Write> {
    format: OutputFormat,
    headers: Vec<String>,
    csv: Option<csv::Writer<W>>,
    raw: Option<W>,
}

fn out_err(e: impl std::fmt::Display) -> BulkError {
    BulkError::Output(e.to_string())
}

impl<W: Write> RowWriter<W> {
    pub fn new(
        out: W,
        format: OutputFormat,
        headers: &[String],
    ) -> Result<Self, BulkError> {
        let mut w = RowWriter {
            format,
            headers: headers.to_vec(),
            csv: None,
            raw: None,
        };
        match format {
            OutputFormat::Csv => {
                let mut c = csv::Writer::from_writer(out);
                c.write_record(
                    headers
                        .iter()
                        .map(|h| neutralise(h))
                        .chain(ADDED_COLUMNS.iter().map(|&a| a.into()))
                        .map(|c| c.into_owned()),
                )
                .map_err(out_err)?;
                w.csv = Some(c);
            }
            OutputFormat::Ndjson => w.raw = Some(out),
        }
        Ok(w)
    }

    pub fn write(&mut self, r: &RowResult) -> Result<(), BulkError> {
        let score = r.top_score.map(|s| format!("{s:.3}")).unwrap_or_default();
        match (self.format, &mut self.csv, &mut self.raw) {
            (OutputFormat::Csv, Some(c), _) => {
                let count = if r.decision.is_empty() {
                    String::new()
                } else {
                    r.hit_count.to_string()
                };
                let hits = r.hits.join(";");
                let warnings = r.warnings.join("; ");
                // Our own columns too: they quote the input (a label in
                // shared_legal_rep_with, a value in an error).
                let cells = r.fields.iter().map(String::as_str).chain([
                    r.decision.as_str(),
                    &count,
                    &score,
                    &hits,
                    &r.shared_legal_rep_with,
                    &r.error,
                    &warnings,
                ]);
                c.write_record(cells.map(|c| neutralise(c).into_owned()))
                    .map_err(out_err)
            }
            (OutputFormat::Ndjson, _, Some(w)) => {
                let input: serde_json::Map<String, serde_json::Value> = self
                    .headers
                    .iter()
                    .zip(&r.fields)
                    .map(|(h, v)| (h.clone(), v.clone().into()))
                    .collect();
                let v = serde_json::json!({
                    "row": r.row,
                    "input": input,
                    "decision": (!r.decision.is_empty()).then_some(&r.decision),
                    "hit_count": r.hit_count,
                    "top_score": r.top_score,
                    "hits": r.hits,
                    "shared_legal_rep_with": (!r.shared_legal_rep_with.is_empty())
                        .then_some(&r.shared_legal_rep_with),
                    "error": (!r.error.is_empty()).then_some(&r.error),
                    "warnings": r.warnings,
                });
                serde_json::to_writer(&mut *w, &v).map_err(out_err)?;
                w.write_all(b"\n").map_err(out_err)
            }
            _ => unreachable!("writer built for its format"),
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, BulkError> {
        match (self.csv, self.raw) {
            (Some(c), _) => c.into_inner().map_err(out_err),
            (_, Some(mut w)) => {
                w.flush().map_err(out_err)?;
                Ok(w)
            }
            _ => unreachable!("writer built for its format"),
        }
    }

    /// Pushes what was written so far through to the underlying writer.
    pub fn flush(&mut self) -> Result<(), BulkError> {
        match (&mut self.csv, &mut self.raw) {
            (Some(c), _) => c.flush().map_err(out_err),
            (_, Some(w)) => w.flush().map_err(out_err),
            _ => unreachable!("writer built for its format"),
        }
    }
}
