//! Identifier cleaning and validation (USCC, resident ID) on any string.
//!
//! Properties: nothing panics; cleaning is idempotent; a valid code
//! re-validates to itself, as its kind; a checksum rejection names the
//! character that makes the code pass that check.
#![no_main]

use credgate_ident::{IdError, IdKind, clean, validate, validate_as};
use libfuzzer_sys::fuzz_target;

fn with_char_at(code: &str, at: usize, c: char) -> String {
    code.chars()
        .enumerate()
        .map(|(i, x)| if i == at { c } else { x })
        .collect()
}

fn check_kind(input: &str, kind: IdKind) {
    match validate_as(input, kind) {
        Ok(v) => {
            assert_eq!(v.kind, kind);
            assert_eq!(v.normalized.len(), credgate_ident::ID_LEN);
            assert!(
                v.normalized
                    .bytes()
                    .all(|b| { b.is_ascii_digit() || b.is_ascii_uppercase() })
            );
            let again = validate_as(&v.normalized, kind)
                .expect("a valid code re-validates");
            assert_eq!(again, v);
            assert!(validate(&v.normalized).is_ok());
        }
        Err(e) => {
            assert!(!e.rule().is_empty());
            assert!(!e.to_string().is_empty());
            let cleaned = clean(input);
            match &e {
                IdError::CheckDigit { expected, .. } => {
                    let fixed = with_char_at(&cleaned, 17, *expected);
                    assert!(
                        validate_as(&fixed, kind).is_ok(),
                        "{cleaned:?}: the expected check character \
                         {expected:?} does not make it valid"
                    );
                }
                IdError::OrgCodeCheck { expected, .. } => {
                    let fixed = with_char_at(&cleaned, 16, *expected);
                    match validate_as(&fixed, kind) {
                        Ok(_) | Err(IdError::CheckDigit { .. }) => {}
                        Err(other) => panic!(
                            "{cleaned:?}: the expected organisation-code \
                             check {expected:?} gives {other}"
                        ),
                    }
                }
                _ => {}
            }
        }
    }
}

fuzz_target!(|input: &str| {
    let cleaned = clean(input);
    assert_eq!(clean(&cleaned), cleaned, "cleaning is idempotent");
    let _ = credgate_ident::likely_kind(&cleaned);
    if let Ok(v) = validate(input) {
        assert_eq!(validate(&v.normalized), Ok(v.clone()));
    }
    check_kind(input, IdKind::Uscc);
    check_kind(input, IdKind::ResidentId);
});
