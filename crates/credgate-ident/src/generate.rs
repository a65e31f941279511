//! Generators of valid codes, for test and demo data.
//!
//! Each function computes the check characters and returns a code that
//! passes validation; bad arguments are reported, never papered over.

use crate::{IdError, IdKind, uscc};

/// Builds a USCC from its registration prefix (authority + type, e.g.
/// `"91"`), a six-digit division code and an 8-character organisation
/// code body; both check characters are computed.
pub fn uscc(
    prefix: &str,
    division: u32,
    org_body: &str,
) -> Result<String, IdError> {
    let first16 = format!("{prefix}{division:06}{org_body}");
    let org_check = uscc::org_check_char(org_body).unwrap_or('?');
    let first17 = format!("{first16}{org_check}");
    let check = uscc::check_char(&first17).unwrap_or('?');
    let code = format!("{first17}{check}");
    crate::validate_as(&code, IdKind::Uscc).map(|v| v.normalized)
}

/// An all-digit organisation code body, as assigned before 2015.
pub fn org_body_numeric(sequence: u64) -> String {
    format!("{:08}", sequence % 100_000_000)
}

/// A body of the `MA` series that market regulation assigns since 2015:
/// `MA` followed by six characters of the USCC alphabet.
pub fn org_body_ma(sequence: u64) -> String {
    let alphabet = uscc::ALPHABET.as_bytes();
    let mut n = sequence % 31u64.pow(6);
    let mut tail = [b'0'; 6];
    for slot in tail.iter_mut().rev() {
        *slot = alphabet[(n % 31) as usize];
        n /= 31;
    }
    format!("MA{}", std::str::from_utf8(&tail).expect("ASCII"))
}

/// Builds a resident ID for a division, birth date and sequence (0-999;
/// odd for men); the check character is computed.
pub fn resident_id(
    division: u32,
    (year, month, day): (u32, u32, u32),
    sequence: u32,
) -> Result<String, IdError> {
    let first17 = format!(
        "{division:06}{year:04}{month:02}{day:02}{:03}",
        sequence % 1000
    );
    let check = crate::resident_id::check_char(&first17).unwrap_or('?');
    let code = format!("{first17}{check}");
    crate::validate_as(&code, IdKind::ResidentId).map(|v| v.normalized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reproduces_a_domain_vector() {
        assert_eq!(
            uscc("91", 110000, "60003734").unwrap(),
            "91110000600037341L"
        );
        assert_eq!(
            resident_id(360426, (1991, 1, 1), 7).unwrap(),
            "360426199101010071"
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        assert_eq!(
            uscc("A1", 110000, "60003734").unwrap_err().rule(),
            "format"
        );
        assert_eq!(
            resident_id(320102, (1991, 2, 30), 1).unwrap_err().rule(),
            "birth_date"
        );
    }

    proptest! {
        #[test]
        fn generated_codes_validate(seq in 0u64..u64::MAX, ma: bool,
                                    div in 110000u32..660000) {
            let body = if ma { org_body_ma(seq) } else { org_body_numeric(seq) };
            let code = uscc("91", div, &body).unwrap();
            prop_assert_eq!(code.len(), 18);
            prop_assert_eq!(&code[8..16], body.as_str());
        }

        #[test]
        fn generated_ids_validate(div in 110000u32..660000, y in 1900u32..2030,
                                  m in 1u32..=12, d in 1u32..=28, s in 0u32..1000) {
            let code = resident_id(div, (y, m, d), s).unwrap();
            prop_assert_eq!(&code[6..14], format!("{y:04}{m:02}{d:02}"));
        }

        #[test]
        fn any_single_substitution_is_caught(seq in 0u64..1_000_000,
                                             pos in 0usize..18, delta in 1u32..31) {
            // A one-character change to a valid USCC never validates as the
            // same code: either some rule fails or it is a different code.
            let code = uscc("91", 320106, &org_body_numeric(seq)).unwrap();
            let mut chars: Vec<char> = code.chars().collect();
            let alphabet: Vec<char> = crate::uscc::ALPHABET.chars().collect();
            let v = crate::uscc::char_value(chars[pos]).unwrap();
            chars[pos] = alphabet[((v + delta) % 31) as usize];
            let changed: String = chars.into_iter().collect();
            prop_assert!(crate::validate_as(&changed, IdKind::Uscc).is_err());
        }

        #[test]
        fn validate_never_panics(s in "\\PC{0,40}") {
            let _ = crate::validate(&s);
        }
    }
}
