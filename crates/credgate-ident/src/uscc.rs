//! Unified social credit code (统一社会信用代码, GB 32100-2015).
//!
//! Layout: 1 registration authority, 2 organisation type, 3-8 division
//! code (GB/T 2260), 9-17 organisation code (GB 11714, with its own
//! check character in 17), 18 check character.

use crate::{IdError, IdKind, Validated, Warning, check_length, division};

/// The 31 characters a USCC may contain (no I, O, Z, S, V); the index of a
/// character is its value.
pub const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights 3^i mod 31 for positions 1-17.
const WEIGHTS: [u32; 17] =
    [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// GB 11714 weights over the 8 body characters of an organisation code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Registration authorities (登记管理部门) of GB 32100 and its later
/// assignments: 1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游,
/// 7 宗教, 8 工会, 9 工商/市场监管, N 农业, Y 其他.
pub const AUTHORITIES: &str = "123456789NY";

/// The value (0-30) of a USCC character, or `None` outside the alphabet.
pub fn char_value(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// Computes the USCC check character over the first 17 characters, which
/// must all be in [`ALPHABET`].
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += char_value(c)? * w;
        n += 1;
    }
    if n != 17 {
        return None;
    }
    // The outer mod matters: a sum divisible by 31 gives '0', not index 31.
    let idx = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(idx as usize)
}

/// GB 11714 value of an organisation-code body character: digits 0-9,
/// letters A-Z as 10-35.
fn org_value(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        'A'..='Z' => Some(c as u32 - 'A' as u32 + 10),
        _ => None,
    }
}

/// Computes the GB 11714 check character of an 8-character body.
pub fn org_check_char(body8: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in body8.chars().zip(ORG_WEIGHTS) {
        sum += org_value(c)? * w;
        n += 1;
    }
    if n != 8 {
        return None;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        d => char::from_digit(d, 10).expect("0..=9"),
    })
}

/// Validates an already cleaned code as a USCC.
pub fn validate_clean(code: &str) -> Result<Validated, IdError> {
    check_length(code)?;
    let bad: Vec<(usize, char)> = code
        .chars()
        .enumerate()
        .filter(|(_, c)| char_value(*c).is_none())
        .map(|(i, c)| (i + 1, c))
        .collect();
    if !bad.is_empty() {
        return Err(IdError::Characters {
            kind: IdKind::Uscc.as_str(),
            bad,
            allowed: "0-9 and A-Y without I, O, S, V, Z",
        });
    }
    // All characters are ASCII from here on, so byte indexing is safe.
    let b = code.as_bytes();
    if !AUTHORITIES.as_bytes().contains(&b[0]) {
        return Err(IdError::Format {
            position: 1,
            found: b[0] as char,
            expected: "a registration authority code (1-9, N or Y)",
        });
    }
    if !(b'1'..=b'9').contains(&b[1]) {
        return Err(IdError::Format {
            position: 2,
            found: b[1] as char,
            expected: "an organisation type digit 1-9",
        });
    }
    if let Some(i) = (2..8).find(|&i| !b[i].is_ascii_digit()) {
        return Err(IdError::Format {
            position: i + 1,
            found: b[i] as char,
            expected: "a digit of the division code (positions 3-8)",
        });
    }
    let org_code = &code[8..17];
    let org_expected =
        org_check_char(&org_code[..8]).expect("alphabet checked above");
    if org_expected != b[16] as char {
        return Err(IdError::OrgCodeCheck {
            org_code: org_code.to_string(),
            expected: org_expected,
            found: b[16] as char,
        });
    }
    let expected = check_char(&code[..17]).expect("alphabet checked above");
    if expected != b[17] as char {
        return Err(IdError::CheckDigit { expected, found: b[17] as char });
    }
    let mut warnings = Vec::new();
    let div = &code[2..8];
    // 100000 is the national level (中央), used by central registrations.
    if div != "100000" && !division::is_plausible(div) {
        warnings.push(Warning::UnknownDivision { code: div.to_string() });
    }
    Ok(Validated {
        kind: IdKind::Uscc,
        normalized: code.to_string(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clean, validate_as};

    fn check(input: &str, expected: Result<&str, &str>) {
        let got = validate_as(input, IdKind::Uscc);
        match (expected, got) {
            (Ok(norm), Ok(v)) => assert_eq!(v.normalized, norm, "{input}"),
            (Err(msg), Err(e)) => {
                assert_eq!(e.to_string(), msg, "{input}")
            }
            (want, got) => panic!("{input}: want {want:?}, got {got:?}"),
        }
    }

    #[test]
    fn domain_vectors() {
        for v in [
            "91110000600037341L",
            "121200004013590816",
            "91310115MA1K3BTP2B",
            "9115220107837941X1",
            "91620105L015101280",
            "92340603MA2UK1TD00",
        ] {
            check(v, Ok(v));
        }
        check("91 110000 600037341L", Ok("91110000600037341L"));
        check("12345", Err("length: expected 18 characters, found 5"));
        check(
            "A1110000600037341L",
            Err("format: position 1 is 'A', expected a registration \
                 authority code (1-9, N or Y)"),
        );
        check(
            "9111000060003IOZSV",
            Err("characters: 'I' at position 14, 'O' at position 15, \
                 'Z' at position 16, 'S' at position 17, 'V' at position \
                 18 not allowed in a uscc (allowed: 0-9 and A-Y without \
                 I, O, S, V, Z)"),
        );
        check(
            "91110000600037341N",
            Err("check_digit: check character is 'N', expected 'L'"),
        );
    }

    #[test]
    fn organisation_code_check_is_enforced() {
        // Body 60003734 has GB 11714 check '1'; change it to '2' and fix
        // the USCC check so that only the inner rule fails.
        let first17 = "91110000600037342";
        let full = format!("{first17}{}", check_char(first17).unwrap());
        let err = validate_as(&full, IdKind::Uscc).unwrap_err();
        assert_eq!(err.rule(), "organisation_code_check");
        assert_eq!(err.expected_check(), Some('1'));
    }

    #[test]
    fn sum_divisible_by_31_gives_zero() {
        // Search a code whose weighted sum is a multiple of 31 and check
        // the outer mod maps it to '0' (not past the alphabet).
        for n in 0..10_000u32 {
            let first17 = format!("9132010{n:08}0");
            let body = &first17[8..16];
            let oc = org_check_char(body).unwrap();
            let first17 = format!("{}{}", &first17[..16], oc);
            let sum: u32 = first17
                .chars()
                .zip(WEIGHTS)
                .map(|(c, w)| char_value(c).unwrap() * w)
                .sum();
            if sum % 31 == 0 {
                assert_eq!(check_char(&first17), Some('0'));
                let code = format!("{first17}0");
                assert!(validate_as(&code, IdKind::Uscc).is_ok(), "{code}");
                return;
            }
        }
        panic!("no sum divisible by 31 found");
    }

    #[test]
    fn retired_division_is_a_warning() {
        // 329900 is not a Jiangsu prefecture: valid code, one warning.
        let first8 = "91329900";
        let body = "12345678";
        let oc = org_check_char(body).unwrap();
        let first17 = format!("{first8}{body}{oc}");
        let code = format!("{first17}{}", check_char(&first17).unwrap());
        let v = validate_as(&code, IdKind::Uscc).unwrap();
        assert_eq!(v.warnings.len(), 1);
        assert_eq!(v.warnings[0].rule(), "unknown_division");
    }

    #[test]
    fn n_and_y_authorities_are_accepted() {
        for prefix in ["N2", "Y1", "51", "31"] {
            let first8 = format!("{prefix}320106");
            let oc = org_check_char("MA1K3BTP").unwrap();
            let first17 = format!("{first8}MA1K3BTP{oc}");
            let code = format!("{first17}{}", check_char(&first17).unwrap());
            assert!(validate_as(&code, IdKind::Uscc).is_ok(), "{code}");
        }
        assert_eq!(clean("n2"), "N2");
    }

    /// stdnum accepts any digit in positions 1-2; GB 32100 does not: see
    /// docs/identifiers.md (rule uscc_authority_code).
    #[test]
    fn authority_and_type_positions_are_checked() {
        for (prefix, position) in [("01", 1), ("A1", 1), ("90", 2)] {
            let first17 = format!("{prefix}320106600037341");
            let code = format!("{first17}{}", check_char(&first17).unwrap());
            let e = validate_as(&code, IdKind::Uscc).unwrap_err();
            assert_eq!(e.rule(), "format", "{code}");
            assert!(e.to_string().contains(&format!("position {position} ")));
        }
    }

    #[test]
    fn letters_in_division_are_format_errors() {
        let e = validate_as("9132A1006000373410", IdKind::Uscc).unwrap_err();
        assert_eq!(e.rule(), "format");
        assert!(e.to_string().contains("position 5"), "{e}");
    }
}
