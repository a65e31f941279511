//! Writing bulk results: a CSV or an XLSX report for officers, NDJSON for
//! programs.
//!
//! The reports are opened in a spreadsheet and echo their input: every
//! CSV cell that a spreadsheet would read as a formula is neutralised
//! ([`neutralise`]), and every XLSX cell taken from input is written as a
//! string, never as a formula or a number parsed from it. NDJSON carries
//! the values as they are.
//!
//! An officer's report ([`Lang::Zh`], the default of the CLI and the API)
//! has Chinese headers and decision words (禁止 / 限制 / 人工核查 / 提示 /
//! 激励 / 未发现), and a CSV starts with a UTF-8 BOM (or is GBK on
//! request) so that Excel on Chinese Windows reads it. [`Lang::En`] keeps
//! the machine-friendly English names and codes.

use crate::{BulkError, HitDetail, RowResult, SharedGroup, Summary};
use credgate_screen::{Decision, Effect};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Seek, Write};

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

/// Columns added after the input's own ([`Lang::En`]).
pub const ADDED_COLUMNS: &[&str] = &[
    "decision",
    "hit_count",
    "top_score",
    "hits",
    "shared_legal_rep_with",
    "error",
    "warnings",
];

/// The same columns as an officer reads them ([`Lang::Zh`]).
pub const ADDED_COLUMNS_ZH: &[&str] = &[
    "核查结论",
    "命中数",
    "最高匹配度",
    "命中条目",
    "共用法定代表人",
    "错误",
    "提示信息",
];

/// Output format of a bulk run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    /// One JSON object per line.
    Ndjson,
    /// A workbook: cover, bidders, hits, shared legal representatives.
    Xlsx,
}

impl OutputFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Csv => "text/csv; charset=utf-8",
            OutputFormat::Ndjson => "application/x-ndjson",
            OutputFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// `csv`, `ndjson` or `xlsx` (a file extension or a query value).
    pub fn parse(s: &str) -> Option<OutputFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(OutputFormat::Csv),
            "ndjson" | "jsonl" => Some(OutputFormat::Ndjson),
            "xlsx" => Some(OutputFormat::Xlsx),
            _ => None,
        }
    }
}

/// The language of a report's headers and decision words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Chinese, for officers (the CLI's and the API's default).
    Zh,
    /// English names and codes, for programs (the library's default).
    #[default]
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// The bytes of a CSV report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvEncoding {
    /// UTF-8 with a byte-order mark: what Excel needs to read UTF-8.
    Utf8Bom,
    /// UTF-8 without a mark (programs).
    #[default]
    Utf8,
    /// GBK, for older Chinese systems; a character outside GBK is written
    /// as an HTML numeric reference (`&#12345;`).
    Gbk,
}

impl CsvEncoding {
    pub fn parse(s: &str) -> Option<CsvEncoding> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8-bom" | "utf8-bom" | "bom" => Some(CsvEncoding::Utf8Bom),
            "utf-8" | "utf8" => Some(CsvEncoding::Utf8),
            "gbk" | "gb18030" => Some(CsvEncoding::Gbk),
            _ => None,
        }
    }
}

/// What a report says about the check itself (its cover sheet; CSV and
/// NDJSON carry none of it).
#[derive(Debug, Clone, Default)]
pub struct ReportMeta {
    /// The check's id (核查编号).
    pub check_id: String,
    /// When the check was made (RFC 3339, China time).
    pub checked_at: String,
    pub snapshot_version: String,
    pub snapshot_built_at: String,
    /// The scenario as a clerk reads it, e.g. `政府采购 (government_procurement)`.
    pub scenario: Option<String>,
    /// The input's file name.
    pub source: String,
}

/// How to write a report.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    pub format: Option<OutputFormat>,
    pub lang: Lang,
    pub encoding: CsvEncoding,
    pub meta: ReportMeta,
    /// The input's name column (the hits sheet names each bidder).
    pub name_column: Option<usize>,
}

/// The clerk's word for a decision code ([`Decision::name_zh`]); empty
/// for a row without a decision.
pub fn decision_zh(code: &str) -> &'static str {
    Decision::from_code(code).map_or("", Decision::name_zh)
}

fn effect_zh(e: Effect) -> &'static str {
    match e {
        Effect::Prohibit => "禁止",
        Effect::Restrict => "限制",
        Effect::EnhancedSupervision => "重点监管",
        Effect::Warn => "提示",
        Effect::Incentive => "激励",
    }
}

fn kind_zh(kind: &str) -> &'static str {
    match kind {
        "code" => "代码一致",
        "related_party" => "关联主体",
        "name_exact" => "名称一致",
        "name_fuzzy" => "名称相似",
        _ => "",
    }
}

/// Writes results to any `Write`, the header first.
#[derive(Debug)]
pub struct RowWriter<W: Write> {
    format: OutputFormat,
    lang: Lang,
    headers: Vec<String>,
    csv: Option<csv::Writer<Encoded<W>>>,
    raw: Option<W>,
    xlsx: Option<Box<XlsxReport>>,
}

fn out_err(e: impl std::fmt::Display) -> BulkError {
    BulkError::Output(e.to_string())
}

impl<W: Write> RowWriter<W> {
    /// A writer for programs: English names, UTF-8 without a BOM.
    pub fn new(
        out: W,
        format: OutputFormat,
        headers: &[String],
    ) -> Result<Self, BulkError> {
        let options =
            OutputOptions { format: Some(format), ..Default::default() };
        RowWriter::with_options(out, &options, headers)
    }

    pub fn with_options(
        out: W,
        options: &OutputOptions,
        headers: &[String],
    ) -> Result<Self, BulkError> {
        let format = options.format.unwrap_or(OutputFormat::Csv);
        let mut w = RowWriter {
            format,
            lang: options.lang,
            headers: headers.to_vec(),
            csv: None,
            raw: None,
            xlsx: None,
        };
        let added = match options.lang {
            Lang::Zh => ADDED_COLUMNS_ZH,
            Lang::En => ADDED_COLUMNS,
        };
        match format {
            OutputFormat::Csv => {
                let mut out = Encoded::new(out, options.encoding);
                if options.encoding == CsvEncoding::Utf8Bom {
                    out.inner
                        .write_all("\u{FEFF}".as_bytes())
                        .map_err(out_err)?;
                }
                let mut c = csv::Writer::from_writer(out);
                c.write_record(
                    headers
                        .iter()
                        .map(|h| neutralise(h))
                        .chain(added.iter().map(|&a| a.into()))
                        .map(|c| c.into_owned()),
                )
                .map_err(out_err)?;
                w.csv = Some(c);
            }
            OutputFormat::Ndjson => w.raw = Some(out),
            OutputFormat::Xlsx => {
                w.raw = Some(out);
                w.xlsx = Some(Box::new(XlsxReport::new(
                    headers,
                    options.lang,
                    options.meta.clone(),
                    options.name_column,
                )?));
            }
        }
        Ok(w)
    }

    fn decision_word<'a>(&self, code: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => decision_zh(code),
            Lang::En => code,
        }
    }

    fn hits_cell(&self, r: &RowResult) -> String {
        match self.lang {
            Lang::En => r.hits.join(";"),
            Lang::Zh => r
                .details
                .iter()
                .map(|d| {
                    format!(
                        "{} {}（{}·{}，{} {:.3}）",
                        d.entry_id,
                        d.name,
                        d.list.name_zh(),
                        d.category_zh,
                        kind_zh(d.kind),
                        d.score
                    )
                })
                .collect::<Vec<_>>()
                .join("；"),
        }
    }

    fn shared_cell(&self, r: &RowResult) -> String {
        let Some(by_id) = r.shared_by_id else { return String::new() };
        if r.shared_legal_rep_with.is_empty() {
            return String::new();
        }
        match (self.lang, by_id) {
            (Lang::En, true) => {
                format!("by ID number: {}", r.shared_legal_rep_with)
            }
            (Lang::En, false) => {
                format!("by name only: {}", r.shared_legal_rep_with)
            }
            (Lang::Zh, true) => {
                format!("按身份证号：{}", zh_rows(&r.shared_legal_rep_with))
            }
            (Lang::Zh, false) => format!(
                "仅按姓名（可能同名不同人）：{}",
                zh_rows(&r.shared_legal_rep_with)
            ),
        }
    }

    pub fn write(&mut self, r: &RowResult) -> Result<(), BulkError> {
        let score = r.top_score.map(|s| format!("{s:.3}")).unwrap_or_default();
        let count = if r.decision.is_empty() {
            String::new()
        } else {
            r.hit_count.to_string()
        };
        let decision = self.decision_word(&r.decision).to_string();
        let hits = self.hits_cell(r);
        let shared = self.shared_cell(r);
        let warnings = r.warnings.join("; ");
        match self.format {
            OutputFormat::Csv => {
                let c =
                    self.csv.as_mut().expect("writer built for its format");
                // Our own columns too: they quote the input (a label in
                // shared_legal_rep_with, a value in an error).
                let cells = r.fields.iter().map(String::as_str).chain([
                    decision.as_str(),
                    &count,
                    &score,
                    &hits,
                    &shared,
                    &r.error,
                    &warnings,
                ]);
                c.write_record(cells.map(|c| neutralise(c).into_owned()))
                    .map_err(out_err)
            }
            OutputFormat::Ndjson => {
                let w =
                    self.raw.as_mut().expect("writer built for its format");
                let mut input = serde_json::Map::new();
                for (i, (h, v)) in
                    self.headers.iter().zip(&r.fields).enumerate()
                {
                    // Two columns with one header keep both values.
                    let key = if input.contains_key(h) {
                        format!("{h} ({})", i + 1)
                    } else {
                        h.clone()
                    };
                    input.insert(key, v.clone().into());
                }
                let v = serde_json::json!({
                    "row": r.row,
                    "input": input,
                    "decision": (!r.decision.is_empty()).then_some(&r.decision),
                    "decision_zh": (!r.decision.is_empty()).then(|| decision_zh(&r.decision)),
                    "hit_count": r.hit_count,
                    "top_score": r.top_score,
                    "hits": r.hits,
                    "details": r.details.iter().map(detail_json).collect::<Vec<_>>(),
                    "shared_legal_rep_with": (!r.shared_legal_rep_with.is_empty())
                        .then_some(&r.shared_legal_rep_with),
                    "shared_by": r.shared_by_id.filter(|_| !r.shared_legal_rep_with.is_empty())
                        .map(|b| if b { "id_number" } else { "name_only" }),
                    "error": (!r.error.is_empty()).then_some(&r.error),
                    "warnings": r.warnings,
                });
                serde_json::to_writer(&mut *w, &v).map_err(out_err)?;
                w.write_all(b"\n").map_err(out_err)
            }
            OutputFormat::Xlsx => {
                let x =
                    self.xlsx.as_mut().expect("writer built for its format");
                x.row(r, &decision, &hits, &shared, &warnings)
            }
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, BulkError> {
        self.finish_with(&Summary::default())
    }

    /// [`RowWriter::finish`], with what a whole run learnt: the groups of
    /// bidders sharing a legal representative (an XLSX report's sheet).
    pub fn finish_with(self, summary: &Summary) -> Result<W, BulkError> {
        match self.format {
            OutputFormat::Csv => {
                let c = self.csv.expect("writer built for its format");
                let mut e = c.into_inner().map_err(out_err)?;
                e.finish().map_err(out_err)?;
                Ok(e.inner)
            }
            OutputFormat::Ndjson => {
                let mut w = self.raw.expect("writer built for its format");
                w.flush().map_err(out_err)?;
                Ok(w)
            }
            OutputFormat::Xlsx => {
                let mut w = self.raw.expect("writer built for its format");
                let x = self.xlsx.expect("writer built for its format");
                x.save(&summary.shared, &mut w)?;
                w.flush().map_err(out_err)?;
                Ok(w)
            }
        }
    }

    /// Pushes what was written so far through to the underlying writer
    /// (an XLSX report is written whole at the end).
    pub fn flush(&mut self) -> Result<(), BulkError> {
        match self.format {
            OutputFormat::Csv => self
                .csv
                .as_mut()
                .expect("writer built for its format")
                .flush()
                .map_err(out_err),
            OutputFormat::Ndjson => self
                .raw
                .as_mut()
                .expect("writer built for its format")
                .flush()
                .map_err(out_err),
            OutputFormat::Xlsx => Ok(()),
        }
    }
}

/// `row 3: X; row 5: Y` as `第3行 X；第5行 Y`.
fn zh_rows(s: &str) -> String {
    s.split("; ")
        .map(|part| match part.strip_prefix("row ") {
            Some(rest) => match rest.split_once(": ") {
                Some((n, label)) => format!("第{n}行 {label}"),
                None => part.to_string(),
            },
            None => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("；")
}

fn detail_json(d: &HitDetail) -> serde_json::Value {
    serde_json::json!({
        "entry_id": d.entry_id,
        "name": d.name,
        "list": d.list.code(),
        "list_zh": d.list.name_zh(),
        "category_zh": d.category_zh,
        "authority": d.authority,
        "document_number": d.document_number,
        "listed_on": d.listed_on,
        "valid_until": (!d.valid_until.is_empty()).then_some(&d.valid_until),
        "kind": d.kind,
        "score": d.score,
        "measures": d.measures.iter().map(|m| serde_json::json!({
            "effect": m.effect.code(),
            "text": m.text,
            "basis": m.basis,
            "if_confirmed": m.if_confirmed,
        })).collect::<Vec<_>>(),
    })
}

/// A writer that turns the CSV writer's UTF-8 into the report's encoding.
/// The CSV writer flushes at any byte, so a character split across two
/// writes waits in `pending`.
struct Encoded<W: Write> {
    inner: W,
    encoding: CsvEncoding,
    pending: Vec<u8>,
    encoder: Option<encoding_rs::Encoder>,
}

impl<W: Write> std::fmt::Debug for Encoded<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

impl<W: Write> Encoded<W> {
    fn new(inner: W, encoding: CsvEncoding) -> Encoded<W> {
        let encoder = (encoding == CsvEncoding::Gbk)
            .then(|| encoding_rs::GBK.new_encoder());
        Encoded { inner, encoding, pending: Vec::new(), encoder }
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            return Err(std::io::Error::other(
                "the report ended inside a UTF-8 character",
            ));
        }
        self.inner.flush()
    }
}

impl<W: Write> Write for Encoded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(encoder) = self.encoder.as_mut() else {
            return self.inner.write(buf);
        };
        debug_assert_eq!(self.encoding, CsvEncoding::Gbk);
        self.pending.extend_from_slice(buf);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    e,
                ));
            }
        };
        let text = std::str::from_utf8(&self.pending[..valid])
            .expect("checked just above");
        let mut out = Vec::with_capacity(text.len() + 16);
        let mut rest = text;
        loop {
            out.reserve(rest.len() * 2 + 16);
            // Characters outside GBK become numeric references (the
            // third value says whether that happened).
            let (result, read, _) =
                encoder.encode_from_utf8_to_vec(rest, &mut out, false);
            rest = &rest[read..];
            if result == encoding_rs::CoderResult::InputEmpty {
                break;
            }
        }
        self.inner.write_all(&out)?;
        self.pending.drain(..valid);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// An XLSX report: 封面 (cover), 核查结果 (one row per bidder), 命中明细
/// (one row per hit, with measures and their legal basis) and
/// 共用法定代表人. Rows go to temporary files as they come (the writer's
/// constant-memory mode), so memory does not grow with the list; the
/// workbook is assembled at the end.
struct XlsxReport {
    workbook: rust_xlsxwriter::Workbook,
    lang: Lang,
    meta: ReportMeta,
    /// The input's name column (a hit's bidder).
    name_column: Option<usize>,
    bidder_row: u32,
    hit_row: u32,
    decisions: BTreeMap<String, u64>,
}

impl std::fmt::Debug for XlsxReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XlsxReport")
            .field("bidder_row", &self.bidder_row)
            .finish_non_exhaustive()
    }
}

const COVER: usize = 0;
const BIDDERS: usize = 1;
const HITS: usize = 2;
const SHARED: usize = 3;

/// Characters Excel holds in one cell; the XLSX writer refuses more.
const XLSX_MAX_CHARS: usize = 32_767;

/// `v` as an XLSX cell: cut to Excel's limit and ending in `…` when
/// longer. Input cells may be longer (up to `max_cell_bytes`), and a
/// remark of 40,000 characters must not cost the officer the whole
/// report; the CSV and NDJSON reports keep such a cell whole.
fn xlsx_text(v: &str) -> Cow<'_, str> {
    match v.char_indices().nth(XLSX_MAX_CHARS) {
        None => Cow::Borrowed(v),
        Some(_) => {
            let cut = v
                .char_indices()
                .nth(XLSX_MAX_CHARS - 1)
                .map_or(v.len(), |(i, _)| i);
            Cow::Owned(format!("{}…", &v[..cut]))
        }
    }
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> BulkError {
    BulkError::Output(format!("writing the XLSX report: {e}"))
}

impl XlsxReport {
    fn new(
        headers: &[String],
        lang: Lang,
        meta: ReportMeta,
        name_column: Option<usize>,
    ) -> Result<XlsxReport, BulkError> {
        let zh = lang == Lang::Zh;
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let names = if zh {
            ["封面", "核查结果", "命中明细", "共用法定代表人"]
        } else {
            ["cover", "bidders", "hits", "shared_legal_reps"]
        };
        for (i, name) in names.iter().enumerate() {
            // The cover is written last (it counts the rows); the others
            // stream their rows to temporary files.
            let ws = if i == COVER {
                workbook.add_worksheet()
            } else {
                workbook.add_worksheet_with_constant_memory()
            };
            ws.set_name(*name).map_err(xlsx_err)?;
        }
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let added = if zh { ADDED_COLUMNS_ZH } else { ADDED_COLUMNS };
        let row_header = if zh { "行号" } else { "row" };
        let bidders =
            workbook.worksheet_from_index(BIDDERS).map_err(xlsx_err)?;
        let bidder_headers = std::iter::once(row_header)
            .chain(headers.iter().map(String::as_str))
            .chain(added.iter().copied());
        for (c, h) in bidder_headers.enumerate() {
            bidders
                .write_string_with_format(0, c as u16, xlsx_text(h), &bold)
                .map_err(xlsx_err)?;
        }
        let hit_headers: &[&str] = if zh {
            &[
                "行号",
                "投标人",
                "核查结论",
                "条目编号",
                "名单",
                "类别",
                "名单主体名称",
                "认定机关",
                "文号",
                "列入日期",
                "有效期至",
                "匹配方式",
                "匹配度",
                "措施",
                "法律依据",
            ]
        } else {
            &[
                "row",
                "bidder",
                "decision",
                "entry_id",
                "list",
                "category",
                "listed_name",
                "authority",
                "document_number",
                "listed_on",
                "valid_until",
                "match",
                "score",
                "measures",
                "basis",
            ]
        };
        let hits = workbook.worksheet_from_index(HITS).map_err(xlsx_err)?;
        for (c, h) in hit_headers.iter().enumerate() {
            hits.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xlsx_err)?;
        }
        Ok(XlsxReport {
            workbook,
            lang,
            meta,
            name_column,
            bidder_row: 1,
            hit_row: 1,
            decisions: BTreeMap::new(),
        })
    }

    fn row(
        &mut self,
        r: &RowResult,
        decision: &str,
        hits_cell: &str,
        shared: &str,
        warnings: &str,
    ) -> Result<(), BulkError> {
        let zh = self.lang == Lang::Zh;
        let key = if r.decision.is_empty() { "error" } else { &r.decision };
        *self.decisions.entry(key.to_string()).or_default() += 1;
        let bidders =
            self.workbook.worksheet_from_index(BIDDERS).map_err(xlsx_err)?;
        let row = self.bidder_row;
        bidders.write_number(row, 0, r.row as f64).map_err(xlsx_err)?;
        let count = if r.decision.is_empty() {
            String::new()
        } else {
            r.hit_count.to_string()
        };
        let score = r.top_score.map(|s| format!("{s:.3}")).unwrap_or_default();
        // Every cell from input is a string: never a formula, never a
        // number that Excel would round (a USCC of digits stays whole).
        let cells = r.fields.iter().map(String::as_str).chain([
            decision, &count, &score, hits_cell, shared, &r.error, warnings,
        ]);
        // Our own counts are numbers (Excel would flag "number stored as
        // text"); everything else, input above all, is a string.
        let count_col = r.fields.len();
        for (c, v) in cells.enumerate() {
            if v.is_empty() {
                continue;
            }
            let col = c as u16 + 1;
            let number = (c == count_col + 1 || c == count_col + 2)
                .then(|| v.parse::<f64>().ok())
                .flatten();
            match number {
                Some(n) => bidders.write_number(row, col, n),
                None => bidders.write_string(row, col, xlsx_text(v)),
            }
            .map_err(xlsx_err)?;
        }
        self.bidder_row += 1;
        let bidder = self
            .name_column
            .and_then(|i| r.fields.get(i))
            .cloned()
            .unwrap_or_default();
        let hits =
            self.workbook.worksheet_from_index(HITS).map_err(xlsx_err)?;
        for d in &r.details {
            let measures = d
                .measures
                .iter()
                .map(|m| {
                    let pending = match (m.if_confirmed, zh) {
                        (false, _) => "",
                        (true, true) => "（经核实后适用）",
                        (true, false) => " (if confirmed)",
                    };
                    let effect =
                        if zh { effect_zh(m.effect) } else { m.effect.code() };
                    format!("[{effect}] {}{pending}", m.text)
                })
                .collect::<Vec<_>>()
                .join("\n");
            let basis = d
                .measures
                .iter()
                .map(|m| m.basis.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let score = format!("{:.3}", d.score);
            let row_no = r.row.to_string();
            let cells = [
                row_no.as_str(),
                &bidder,
                decision,
                &d.entry_id,
                if zh { d.list.name_zh() } else { d.list.code() },
                &d.category_zh,
                &d.name,
                &d.authority,
                &d.document_number,
                &d.listed_on,
                &d.valid_until,
                if zh { kind_zh(d.kind) } else { d.kind },
                &score,
                &measures,
                &basis,
            ];
            for (c, v) in cells.iter().enumerate() {
                if !v.is_empty() {
                    hits.write_string(self.hit_row, c as u16, xlsx_text(v))
                        .map_err(xlsx_err)?;
                }
            }
            self.hit_row += 1;
        }
        Ok(())
    }

    fn save(
        mut self,
        shared: &[SharedGroup],
        out: &mut impl Write,
    ) -> Result<(), BulkError> {
        let zh = self.lang == Lang::Zh;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet =
            self.workbook.worksheet_from_index(SHARED).map_err(xlsx_err)?;
        let headers: &[&str] = if zh {
            &["组", "依据", "行号", "投标人"]
        } else {
            &["group", "basis", "row", "bidder"]
        };
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *h, &bold)
                .map_err(xlsx_err)?;
        }
        let mut row = 1;
        for (g, group) in shared.iter().enumerate() {
            let basis = match (zh, group.by_id) {
                (true, true) => "身份证号相同",
                (true, false) => "仅姓名相同（可能同名不同人，需核实）",
                (false, true) => "same ID number",
                (false, false) => "same name only (may be different people)",
            };
            for (r, label) in &group.rows {
                sheet
                    .write_number(row, 0, (g + 1) as f64)
                    .map_err(xlsx_err)?;
                sheet.write_string(row, 1, basis).map_err(xlsx_err)?;
                sheet.write_number(row, 2, *r as f64).map_err(xlsx_err)?;
                sheet
                    .write_string(row, 3, xlsx_text(label))
                    .map_err(xlsx_err)?;
                row += 1;
            }
        }
        let m = &self.meta;
        let total: u64 = self.decisions.values().sum();
        let mut lines: Vec<(String, String)> = if zh {
            vec![
                ("核查编号".into(), m.check_id.clone()),
                ("核查时间".into(), m.checked_at.clone()),
                ("名单版本".into(), m.snapshot_version.clone()),
                ("名单生成时间".into(), m.snapshot_built_at.clone()),
                (
                    "业务场景".into(),
                    m.scenario.clone().unwrap_or_else(|| "全部场景".into()),
                ),
                ("核查文件".into(), m.source.clone()),
                ("核查主体数".into(), total.to_string()),
            ]
        } else {
            vec![
                ("check_id".into(), m.check_id.clone()),
                ("checked_at".into(), m.checked_at.clone()),
                ("snapshot_version".into(), m.snapshot_version.clone()),
                ("snapshot_built_at".into(), m.snapshot_built_at.clone()),
                (
                    "scenario".into(),
                    m.scenario.clone().unwrap_or_else(|| "all".into()),
                ),
                ("source".into(), m.source.clone()),
                ("rows".into(), total.to_string()),
            ]
        };
        for code in [
            "block",
            "restrict",
            "review",
            "warn",
            "incentive",
            "clear",
            "error",
        ] {
            let n = self.decisions.get(code).copied().unwrap_or(0);
            let label = match (zh, code) {
                (true, "error") => "无法核查".to_string(),
                (true, c) => decision_zh(c).to_string(),
                (false, c) => c.to_string(),
            };
            lines.push((label, n.to_string()));
        }
        let cover =
            self.workbook.worksheet_from_index(COVER).map_err(xlsx_err)?;
        let title = if zh {
            "信用核查报告（红黑名单交叉比对）"
        } else {
            "Credit screening report"
        };
        cover
            .write_string_with_format(0, 0, title, &bold)
            .map_err(xlsx_err)?;
        for (i, (k, v)) in lines.iter().enumerate() {
            let r = i as u32 + 2;
            cover
                .write_string_with_format(r, 0, k, &bold)
                .map_err(xlsx_err)?;
            cover.write_string(r, 1, xlsx_text(v)).map_err(xlsx_err)?;
        }
        cover.set_column_width(0, 16).map_err(xlsx_err)?;
        cover.set_column_width(1, 40).map_err(xlsx_err)?;
        // Assembled in a temporary file (the zip needs to seek), then
        // copied out: the caller's writer may be a network stream.
        let mut tmp = tempfile::tempfile().map_err(out_err)?;
        self.workbook.save_to_writer(&mut tmp).map_err(xlsx_err)?;
        tmp.seek(std::io::SeekFrom::Start(0)).map_err(out_err)?;
        std::io::copy(&mut tmp, out).map_err(out_err)?;
        Ok(())
    }
}
