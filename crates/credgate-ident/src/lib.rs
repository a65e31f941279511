//! Subject identifiers: the unified social credit code (USCC, GB 32100)
//! and the resident identity number (GB 11643).
//!
//! The identifier, never the name, is the key of a subject, so every
//! rejection here says which rule failed and, for a checksum, which
//! character was expected. Nothing in this crate does I/O.
//!
//! ```
//! use credgate_ident::{validate, IdKind};
//! let v = validate("91 110000 600037341l").unwrap();
//! assert_eq!(v.kind, IdKind::Uscc);
//! assert_eq!(v.normalized, "91110000600037341L");
//! let err = validate("91110000600037341N").unwrap_err();
//! assert_eq!(err.rule(), "check_digit");
//! ```

mod clean;
pub mod division;
mod error;
pub mod generate;
pub mod resident_id;
pub mod uscc;

pub use clean::clean;
pub use error::{IdError, Warning};

use std::fmt;

/// Length shared by both identifier kinds.
pub const ID_LEN: usize = 18;

/// Which identifier scheme a code follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    /// 统一社会信用代码 (organisations, including 个体工商户).
    Uscc,
    /// 居民身份证号码 (natural persons).
    ResidentId,
}

impl IdKind {
    /// Stable snake_case name used in CLI output and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Uscc => "uscc",
            IdKind::ResidentId => "resident_id",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    pub kind: IdKind,
    /// The cleaned form: 18 ASCII characters, upper case.
    pub normalized: String,
    /// Findings that do not make the code invalid (e.g. a retired
    /// division code, which is normal for real people).
    pub warnings: Vec<Warning>,
}

/// Validates `input` as whichever kind it is.
///
/// Both kinds are 18 characters and an all-digit string may be either, so
/// both validators run; when both reject, the error of the kind the input
/// most resembles is returned (a resident ID shape with a plausible year
/// in positions 7-10, otherwise a USCC).
pub fn validate(input: &str) -> Result<Validated, IdError> {
    let code = clean(input);
    match (uscc::validate_clean(&code), resident_id::validate_clean(&code)) {
        (Ok(v), _) | (Err(_), Ok(v)) => Ok(v),
        (Err(uscc_err), Err(rid_err)) => match likely_kind(&code) {
            IdKind::ResidentId => Err(rid_err),
            IdKind::Uscc => Err(uscc_err),
        },
    }
}

/// The kind a cleaned code most resembles, used to pick which rejection
/// to report when it is valid as neither.
pub fn likely_kind(cleaned: &str) -> IdKind {
    if resident_id::looks_like(cleaned) {
        IdKind::ResidentId
    } else {
        IdKind::Uscc
    }
}

/// Validates `input` as the given kind only.
pub fn validate_as(input: &str, kind: IdKind) -> Result<Validated, IdError> {
    let code = clean(input);
    match kind {
        IdKind::Uscc => uscc::validate_clean(&code),
        IdKind::ResidentId => resident_id::validate_clean(&code),
    }
}

/// Checks the common length rule, counting characters rather than bytes
/// so that a stray CJK character is reported as one position.
fn check_length(code: &str) -> Result<(), IdError> {
    let found = code.chars().count();
    if found == 0 {
        return Err(IdError::Empty);
    }
    if found != ID_LEN {
        return Err(IdError::Length { found });
    }
    Ok(())
}
