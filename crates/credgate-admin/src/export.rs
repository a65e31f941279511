//! A filtered list of entries as a file for officers: CSV (UTF-8 with a
//! BOM, so that Excel on Chinese Windows reads it; formula-like cells
//! neutralised) or XLSX (every cell a string, as `credgate-bulk` writes:
//! a USCC of digits stays whole and nothing is a formula). Headers are
//! Chinese.

use credgate_model::Category;
use credgate_store::StoredEntry;

/// The columns of an export, in order.
pub const HEADERS: &[&str] = &[
    "记录编号",
    "认定部门",
    "阶段",
    "名单",
    "类别",
    "主体类型",
    "主体名称",
    "统一社会信用代码/身份证号",
    "列入原因",
    "认定依据",
    "认定机关",
    "决定文书号",
    "决定日期",
    "严重程度",
    "适用场景",
    "最短公示期满",
    "最长公示期满",
    "双公示期限",
    "公示日期",
    "移出原因",
    "移出日期",
    "版本",
];

/// What an export is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s {
            "csv" => Some(ExportFormat::Csv),
            "xlsx" => Some(ExportFormat::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("writing the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The cells of one entry, in [`HEADERS`] order (Chinese names for the
/// codes).
pub fn row(e: &StoredEntry) -> Vec<String> {
    let d = &e.data;
    let f = &d.facts;
    vec![
        e.entry_id.clone(),
        e.department.clone(),
        e.stage.name_zh().to_string(),
        d.list.name_zh().to_string(),
        Category::by_id(d.category)
            .map_or_else(|| d.category.0.to_string(), |c| c.name_zh.into()),
        d.subject_kind.name_zh().to_string(),
        d.name.clone(),
        d.code.clone(),
        d.reason.clone(),
        d.basis.clone(),
        d.authority.clone(),
        d.document_number.clone().unwrap_or_default(),
        opt(d.listed_on),
        d.severity.map(|s| s.name_zh().to_string()).unwrap_or_default(),
        f.scenarios.join("、"),
        opt(f.min_period_end),
        opt(f.max_period_end),
        opt(f.publicity_deadline),
        opt(f.published_on),
        d.removal_reason.clone().unwrap_or_default(),
        opt(d.removed_on),
        e.version.to_string(),
    ]
}

/// The entries as a file.
pub fn write(
    entries: &[StoredEntry],
    format: ExportFormat,
) -> Result<Vec<u8>, ExportError> {
    match format {
        ExportFormat::Csv => csv_bytes(entries),
        ExportFormat::Xlsx => xlsx_bytes(entries),
    }
}

fn csv_bytes(entries: &[StoredEntry]) -> Result<Vec<u8>, ExportError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(HEADERS)?;
        for e in entries {
            let cells = row(e);
            w.write_record(
                cells
                    .iter()
                    .map(|c| credgate_bulk::neutralise(c).into_owned()),
            )?;
        }
        w.flush().map_err(csv::Error::from)?;
    }
    Ok(out)
}

/// Excel's limit of characters in a cell.
const XLSX_MAX_CHARS: usize = 32_767;

fn xlsx_bytes(entries: &[StoredEntry]) -> Result<Vec<u8>, ExportError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("名单")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, e) in entries.iter().enumerate() {
        let row_no = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, v) in row(e).iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let v: String = v.chars().take(XLSX_MAX_CHARS).collect();
            sheet.write_string(row_no, c as u16, v)?;
        }
    }
    Ok(book.save_to_buffer()?)
}
