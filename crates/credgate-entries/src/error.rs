use std::fmt;
use std::path::PathBuf;

/// A problem with one field of one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The column, by its canonical English name (`code`, `listed_on`, …),
    /// or `row` for problems of the row as a whole.
    pub column: String,
    pub message: String,
}

/// A cross-field rule of the model (`Entry::check`), named by the column
/// that carries the field.
impl From<credgate_model::RuleViolation> for FieldError {
    fn from(v: credgate_model::RuleViolation) -> Self {
        FieldError { column: v.field.to_string(), message: v.message }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// A row that cannot become an entry, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line where the row starts in the file.
    pub line: u64,
    /// The row's entry id when it could be read, to find it elsewhere.
    pub entry_id: Option<String>,
    pub errors: Vec<FieldError>,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(id) = &self.entry_id {
            write!(f, " (entry {id})")?;
        }
        let parts: Vec<String> =
            self.errors.iter().map(ToString::to_string).collect();
        write!(f, ": {}", parts.join("; "))
    }
}

impl std::error::Error for RowError {}

/// A problem with the file as a whole: nothing can be read from it.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: cannot tell the format from the extension; use .csv, \
         .jsonl or .ndjson, or name the format"
    )]
    UnknownFormat { path: PathBuf },
    #[error(
        "header: missing required column(s) {}; found {}",
        .missing.join(", "),
        .found.join(", ")
    )]
    MissingColumns { missing: Vec<&'static str>, found: Vec<String> },
    #[error(
        "header: column {column} appears twice (as '{first}' and '{second}')"
    )]
    DuplicateColumn { column: &'static str, first: String, second: String },
    #[error("header: {0}")]
    BadHeader(String),
    #[error("the file is empty: expected a header row")]
    Empty,
    #[error("line {line}: cannot read the CSV: {message}")]
    Csv { line: u64, message: String },
    #[error("writing entries: {0}")]
    Write(String),
}
