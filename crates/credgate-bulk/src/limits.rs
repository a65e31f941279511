//! What a bulk input may be: every size that would cost memory is bounded
//! and checked before anything is allocated for it.
//!
//! The bounds derive from one figure, the memory a job may use
//! ([`Limits::with_memory`]); the largest consumers are an XLSX file's
//! shared strings table (held whole by the spreadsheet reader), the
//! legal-representative groups and the batch in flight. Each bound has a
//! name (`max_cell_bytes`, …) that the refusal quotes.

/// Bounds of one bulk input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The memory one job may use; the defaults below derive from it.
    pub memory_bytes: u64,
    /// Data rows (Excel's own sheet limit by default).
    pub max_rows: u64,
    /// Columns of the header, and the column of any XLSX cell.
    pub max_columns: usize,
    /// Bytes of one cell, and of any one XML token of an XLSX part.
    pub max_cell_bytes: usize,
    /// Bytes of one CSV record (the header included).
    pub max_row_bytes: usize,
    /// Cells of an XLSX file (all parts).
    pub max_cells: u64,
    /// Size of an XLSX file as uploaded (compressed).
    pub max_xlsx_bytes: u64,
    /// Entries of the ZIP container.
    pub max_zip_entries: u64,
    /// Uncompressed bytes of all parts together.
    pub max_xlsx_uncompressed_bytes: u64,
    /// Uncompressed bytes of `xl/sharedStrings.xml` (read whole).
    pub max_shared_strings_bytes: u64,
    /// Strings of the shared strings table.
    pub max_shared_strings: u64,
    /// Uncompressed bytes of any other part but a worksheet (styles,
    /// workbook, relationships: read whole; worksheets are streamed).
    pub max_xlsx_part_bytes: u64,
    /// Size of an XLS or ODS file. These are read whole (calamine has
    /// no streaming reader for them), so they are bounded more tightly.
    pub max_legacy_bytes: u64,
    /// Cells an XLS or ODS reader would allocate over all sheets: each
    /// sheet's span from first to last used cell (three times: the
    /// values, the formulas and a copy), declared dimensions, repeated
    /// rows and columns expanded. About 100 bytes each.
    pub max_legacy_cells: u64,
    /// Text an XLS or ODS reader would copy (a shared string once per
    /// cell using it, a repeated cell once per repeat).
    pub max_legacy_text_bytes: u64,
    /// Input bytes of the rows screened at once.
    pub batch_bytes: usize,
}

/// 512 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 512 << 20;

impl Limits {
    /// The bounds for a job allowed `memory` bytes. The shares are
    /// generous to a real bidder list (thousands of rows, short cells)
    /// and keep the worst case of every input under `memory`; see
    /// ARCHITECTURE.md for the budget.
    pub fn with_memory(memory: u64) -> Limits {
        let m = memory.max(64 << 20);
        Limits {
            memory_bytes: m,
            max_rows: 1 << 20,
            max_columns: 1_024,
            max_cell_bytes: (m / 4_096) as usize,
            max_row_bytes: (m / 512) as usize,
            max_cells: 1 << 24,
            max_xlsx_bytes: m / 16,
            max_zip_entries: 10_000,
            max_xlsx_uncompressed_bytes: m * 2,
            max_shared_strings_bytes: m / 8,
            max_shared_strings: m / 512,
            max_xlsx_part_bytes: m / 64,
            max_legacy_bytes: m / 64,
            max_legacy_cells: m / 512,
            max_legacy_text_bytes: m / 16,
            batch_bytes: (m / 32) as usize,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::with_memory(DEFAULT_MEMORY_BYTES)
    }
}
