//! Name normalisation and organisation-name parsing on any string.
//!
//! Properties: nothing panics; `normalize` and `match_key` are
//! idempotent; a match key holds letters and digits only.
#![no_main]

use credgate_names::{
    NameKind, OrgName, match_key, match_key_as, normalize, person_key,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let n = normalize(input);
    assert_eq!(normalize(&n), n, "normalize is idempotent");
    let k = match_key(input);
    assert_eq!(match_key(&k), k, "match_key is idempotent");
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
});
