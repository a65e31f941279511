use std::fmt;

/// Why a code was rejected. Each variant is one rule; [`IdError::rule`]
/// gives its stable name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("empty: no identifier given")]
    Empty,
    #[error("length: expected 18 characters, found {found}")]
    Length { found: usize },
    /// Characters outside the scheme's alphabet, with 1-based positions.
    #[error(
        "characters: {} not allowed in a {kind} (allowed: {allowed})",
        fmt_bad(.bad)
    )]
    Characters {
        kind: &'static str,
        bad: Vec<(usize, char)>,
        allowed: &'static str,
    },
    /// A character from the alphabet in a position that does not take it.
    #[error("format: position {position} is '{found}', expected {expected}")]
    Format { position: usize, found: char, expected: &'static str },
    /// The GB 11714 check of the organisation code in USCC positions 9-17.
    #[error(
        "organisation_code_check: the organisation code {org_code} has \
         check character '{found}', expected '{expected}'"
    )]
    OrgCodeCheck { org_code: String, expected: char, found: char },
    #[error(
        "check_digit: check character is '{found}', expected '{expected}'"
    )]
    CheckDigit { expected: char, found: char },
    #[error("birth_date: {digits} is not a real calendar date ({reason})")]
    BirthDate { digits: String, reason: &'static str },
}

impl IdError {
    /// The stable name of the rule that failed.
    pub fn rule(&self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::Length { .. } => "length",
            IdError::Characters { .. } => "characters",
            IdError::Format { .. } => "format",
            IdError::OrgCodeCheck { .. } => "organisation_code_check",
            IdError::CheckDigit { .. } => "check_digit",
            IdError::BirthDate { .. } => "birth_date",
        }
    }

    /// The check character that would have made the code valid, for
    /// checksum failures.
    pub fn expected_check(&self) -> Option<char> {
        match self {
            IdError::OrgCodeCheck { expected, .. }
            | IdError::CheckDigit { expected, .. } => Some(*expected),
            _ => None,
        }
    }
}

fn fmt_bad(bad: &[(usize, char)]) -> String {
    let parts: Vec<String> =
        bad.iter().map(|(p, c)| format!("'{c}' at position {p}")).collect();
    parts.join(", ")
}

/// A finding that does not invalidate a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The division code is not in the built-in GB/T 2260 table. Codes are
    /// retired over time, so real, valid numbers carry old ones.
    UnknownDivision { code: String },
}

impl Warning {
    pub fn rule(&self) -> &'static str {
        match self {
            Warning::UnknownDivision { .. } => "unknown_division",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnknownDivision { code } => write!(
                f,
                "unknown_division: {code} is not in the built-in GB/T 2260 \
                 table (it may be retired)"
            ),
        }
    }
}
