//! Resident identity number (居民身份证号码, GB 11643-1999).
//!
//! Layout: 1-6 division code of the place of registration, 7-14 birth
//! date YYYYMMDD, 15-17 sequence (odd for men), 18 check character.

use crate::{IdError, IdKind, Validated, Warning, check_length, division};

/// 2^(17-i) mod 11 for positions 1-17.
const WEIGHTS: [u32; 17] =
    [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Birth years outside this range are rejected: nobody alive was born
/// before 1900, and the second-generation card began in 2004.
pub const BIRTH_YEARS: std::ops::RangeInclusive<u32> = 1900..=2099;

/// Computes the check character over the first 17 digits.
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
        n += 1;
    }
    if n != 17 {
        return None;
    }
    Some(match (12 - sum % 11) % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).expect("0..=9"),
    })
}

/// Whether a cleaned code resembles a resident ID more than a USCC: 18
/// characters, at most one non-digit among the first 17, and a plausible
/// birth year in positions 7-10. Used to choose which error to report.
pub fn looks_like(code: &str) -> bool {
    let b = code.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let non_digits = b[..17].iter().filter(|c| !c.is_ascii_digit()).count();
    let year = std::str::from_utf8(&b[6..10])
        .ok()
        .and_then(|y| y.parse::<u32>().ok());
    non_digits <= 1 && year.is_some_and(|y| (1800..=2099).contains(&y))
}

/// Validates an already cleaned code as a resident ID.
pub fn validate_clean(code: &str) -> Result<Validated, IdError> {
    check_length(code)?;
    for (i, c) in code.chars().enumerate() {
        let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
        if !ok {
            return Err(IdError::Format {
                position: i + 1,
                found: c,
                expected: if i == 17 { "a digit or X" } else { "a digit" },
            });
        }
    }
    check_birth_date(&code[6..14])?;
    let expected = check_char(&code[..17]).expect("digits checked above");
    let found = code.as_bytes()[17] as char;
    if expected != found {
        return Err(IdError::CheckDigit { expected, found });
    }
    let mut warnings = Vec::new();
    if !division::is_plausible(&code[..6]) {
        warnings
            .push(Warning::UnknownDivision { code: code[..6].to_string() });
    }
    Ok(Validated {
        kind: IdKind::ResidentId,
        normalized: code.to_string(),
        warnings,
    })
}

fn check_birth_date(digits: &str) -> Result<(), IdError> {
    let num = |r: std::ops::Range<usize>| -> u32 {
        digits[r].parse().expect("digits checked by caller")
    };
    let (y, m, d) = (num(0..4), num(4..6), num(6..8));
    let fail = |reason| {
        Err(IdError::BirthDate { digits: digits.to_string(), reason })
    };
    if !BIRTH_YEARS.contains(&y) {
        return fail("year outside 1900-2099");
    }
    if !(1..=12).contains(&m) {
        return fail("month outside 01-12");
    }
    if d == 0 || d > days_in_month(y, m) {
        return fail("day outside the month");
    }
    Ok(())
}

/// Days in a Gregorian month.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate_as;

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = validate_as(input, IdKind::ResidentId);
        match (expected, got) {
            (Ok(norm), Ok(v)) => assert_eq!(v.normalized, norm, "{input}"),
            (Err(msg), Err(e)) => assert_eq!(e.to_string(), msg, "{input}"),
            (want, got) => panic!("{input}: want {want:?}, got {got:?}"),
        }
    }

    #[test]
    fn domain_vectors() {
        check("360426199101010071", Ok("360426199101010071"));
        check("44011320141005001X", Ok("44011320141005001X"));
        check("44011320141005001x", Ok("44011320141005001X"));
        check(
            "T60426199101010078",
            Err("format: position 1 is 'T', expected a digit"),
        );
        check(
            "360426199113010079",
            Err("birth_date: 19911301 is not a real calendar date \
                 (month outside 01-12)"),
        );
        check(
            "36042619910102009X",
            Err("check_digit: check character is 'X', expected '3'"),
        );
    }

    #[test]
    fn calendar_rules() {
        let make = |date: &str| {
            let first17 = format!("320102{date}001");
            format!("{first17}{}", check_char(&first17).unwrap())
        };
        let cases = [
            ("20000229", None),
            ("19000228", None),
            ("19000229", Some("day outside the month")),
            ("20230229", Some("day outside the month")),
            ("19910431", Some("day outside the month")),
            ("19910400", Some("day outside the month")),
            ("18991231", Some("year outside 1900-2099")),
            ("19910001", Some("month outside 01-12")),
        ];
        for (date, want) in cases {
            let got = validate_as(&make(date), IdKind::ResidentId);
            match (want, got) {
                (None, Ok(_)) => {}
                (Some(r), Err(IdError::BirthDate { reason, .. })) => {
                    assert_eq!(reason, r, "{date}")
                }
                (want, got) => panic!("{date}: {want:?} vs {got:?}"),
            }
        }
    }

    #[test]
    fn unknown_division_is_only_a_warning() {
        // 329901 is no Jiangsu prefecture; 990101 is no province.
        for div in ["329901", "990101"] {
            let first17 = format!("{div}19800101123");
            let code = format!("{first17}{}", check_char(&first17).unwrap());
            let v = validate_as(&code, IdKind::ResidentId).unwrap();
            assert_eq!(v.warnings.len(), 1, "{code}");
        }
    }
}
