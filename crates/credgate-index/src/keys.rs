//! The lookup keys of a name, shared by the builder and the matcher so
//! that both sides always derive them the same way.

use crate::hashindex::hash;
use crate::record::StoredParts;
use credgate_model::SubjectKind;
use credgate_names::{NameKind, OrgName, person_key};

/// Separates the parts inside a fuzzy key (not a key character).
const SEP: char = '\u{1F}';

/// Shortest 字号+industry that gets one-deletion variants. Two: an
/// individual business (南京恒瑞商行) has a 字号 of two and no industry,
/// and a typo in it must still find the entry; the variant keeps region
/// and legal form (南京·恒·商行), so its bucket stays small, and the typo
/// model decides whether the one character left over is a typo.
const MIN_CORE_FOR_DELETIONS: usize = 2;

/// Keys of one name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameKeys {
    pub parts: StoredParts,
    /// Exact key without the branch: region + 字号 + industry + legal form
    /// (or the person key). Looked up, hashed ([`name_hash`]), in the
    /// name hash index.
    pub base: String,
    /// 字号 + industry + legal form: finds the same name in any region, or
    /// listed without one. Organisations only.
    pub noregion: Option<u64>,
    /// The region above its district, with one-deletion variants of
    /// 字号+industry and the legal form, and the undeleted form: finds a
    /// wrong, missing or extra character. The district is left out so
    /// that a name written with its district (南京江宁区恒瑞) and without
    /// (南京恒瑞), which are compatible, share these keys; the score
    /// tells another district apart.
    pub fuzzy: Vec<u64>,
}

/// Derives the keys of a name of known kind.
pub fn name_keys(name: &str, kind: SubjectKind) -> NameKeys {
    match kind {
        SubjectKind::Person => {
            let key = person_key(name);
            NameKeys {
                parts: StoredParts {
                    brand: key.clone(),
                    key: key.clone(),
                    ..Default::default()
                },
                base: key,
                noregion: None,
                fuzzy: Vec::new(),
            }
        }
        SubjectKind::Organisation => org_keys(OrgName::parse(name)),
    }
}

/// Derives the keys of a query name whose kind may be unknown.
pub fn query_keys(
    name: &str,
    kind: Option<SubjectKind>,
) -> (SubjectKind, NameKeys) {
    if let Some(kind) = kind {
        return (kind, name_keys(name, kind));
    }
    // As `guess_kind` decides, with the parse kept for the keys: parsing
    // is a fixed cost of every name query, so it is done once.
    let parsed = OrgName::parse(name);
    match credgate_names::kind_of(&parsed) {
        NameKind::Organisation => {
            (SubjectKind::Organisation, org_keys(parsed))
        }
        NameKind::Person => {
            (SubjectKind::Person, name_keys(name, SubjectKind::Person))
        }
    }
}

fn org_keys(p: OrgName) -> NameKeys {
    let key = p.key();
    let core: Vec<char> = p.brand.chars().chain(p.industry.chars()).collect();
    let base =
        format!("{}{}{}{}", p.region, p.brand, p.industry, p.legal_form);
    let noregion = (!core.is_empty()).then(|| {
        hash(format!("{}{}{}", p.brand, p.industry, p.legal_form).as_bytes())
    });
    let mut fuzzy = Vec::new();
    if !core.is_empty() {
        let region = p.region_above_district();
        let mut variant = |v: &mut dyn Iterator<Item = char>| {
            let mut s = String::with_capacity(64);
            s.push_str(region);
            s.push(SEP);
            s.extend(v);
            s.push(SEP);
            s.push_str(&p.legal_form);
            fuzzy.push(hash(s.as_bytes()));
        };
        variant(&mut core.iter().copied());
        if core.len() >= MIN_CORE_FOR_DELETIONS {
            for i in 0..core.len() {
                // Deleting either of two equal neighbours gives the same
                // variant: keep one.
                if i > 0 && core[i] == core[i - 1] {
                    continue;
                }
                variant(
                    &mut core
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| *j != i)
                        .map(|(_, c)| *c),
                );
            }
        }
    }
    NameKeys {
        parts: StoredParts {
            region: p.region,
            brand: p.brand,
            industry: p.industry,
            legal_form: p.legal_form,
            branch: p.branch,
            key,
        },
        base,
        noregion,
        fuzzy,
    }
}

/// The hash of an identifier in the code and related indexes.
pub fn code_hash(code: &str) -> u64 {
    hash(code.as_bytes())
}

/// The hash of a name base key ([`NameKeys::base`]) in the name index.
pub fn name_hash(base: &str) -> u64 {
    hash(base.as_bytes())
}

/// The first two of the names `make(0)`, `make(1)`, … (at most `tries`)
/// whose base keys differ but whose [`name_hash`]es agree in their top
/// `bits` bits. For tests of what the name index's callers do when keys
/// meet: an index of at most 32 slots keeps 20 bits (4 of the directory,
/// a 16-bit tag), so such names cannot be told apart by it.
pub fn names_sharing_hash_bits(
    kind: SubjectKind,
    bits: u32,
    tries: usize,
    make: impl Fn(usize) -> String,
) -> Option<(String, String)> {
    let mut seen = std::collections::HashMap::new();
    for i in 0..tries {
        let name = make(i);
        let base = name_keys(&name, kind).base;
        let top = name_hash(&base) >> (64 - bits.clamp(1, 64));
        if let Some((first, first_base)) =
            seen.insert(top, (name.clone(), base.clone()))
            && first_base != base
        {
            return Some((first, name));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(name: &str) -> NameKeys {
        name_keys(name, SubjectKind::Organisation)
    }

    fn shares_fuzzy(a: &NameKeys, b: &NameKeys) -> bool {
        a.fuzzy.iter().any(|k| b.fuzzy.contains(k))
    }

    #[test]
    fn a_two_character_core_finds_its_typos() {
        let listed = org("南京恒瑞商行");
        assert!(shares_fuzzy(&listed, &org("南京恒睿商行")));
        assert!(shares_fuzzy(&listed, &org("南京瑞恒商行")));
        assert!(!shares_fuzzy(&listed, &org("南京丰泰商行")));
    }

    #[test]
    fn one_wrong_missing_or_extra_character_shares_a_fuzzy_key() {
        let listed = org("南京恒瑞科技有限公司");
        for q in [
            "南京恒端科技有限公司",
            "南京恒科技有限公司",
            "南京恒瑞达科技有限公司",
            "南京恒瑞科枝有限公司",
        ] {
            assert!(shares_fuzzy(&listed, &org(q)), "{q}");
        }
        for q in [
            "南京华润科技有限公司",
            "苏州恒端科技有限公司",
            "南京恒端科技股份有限公司",
        ] {
            assert!(!shares_fuzzy(&listed, &org(q)), "{q}");
        }
    }

    #[test]
    fn a_name_with_and_without_its_district_share_fuzzy_keys() {
        let with = org("南京市江宁区恒瑞科技有限公司");
        let without = org("南京恒瑞科技有限公司");
        assert_ne!(with.base, without.base, "the district is identity");
        assert_eq!(with.fuzzy[0], without.fuzzy[0]);
        // With a typo on top, a deletion variant is still shared.
        assert!(shares_fuzzy(&with, &org("南京恒端科技有限公司")));
        assert!(!shares_fuzzy(&with, &org("苏州恒瑞科技有限公司")));
    }

    #[test]
    fn noregion_key_ignores_region_only() {
        let a = org("南京恒瑞科技有限公司");
        assert_eq!(a.noregion, org("恒瑞科技有限公司").noregion);
        assert_eq!(a.noregion, org("苏州恒瑞科技有限公司").noregion);
        assert_ne!(a.noregion, org("南京恒瑞贸易有限公司").noregion);
    }

    #[test]
    fn base_key_drops_only_the_branch() {
        let b = org("南京恒瑞科技有限公司苏州分公司");
        assert_eq!(b.base, org("南京恒瑞科技有限责任公司").base);
        assert_eq!(b.parts.branch, "苏州分公司");
        assert_eq!(b.parts.key, "南京恒瑞科技有限公司苏州分公司");
    }

    #[test]
    fn query_keys_guess_the_kind_as_guess_kind_does() {
        for name in [
            "南京恒瑞科技有限公司",
            "南京恒瑞科技有限公司苏州分公司",
            "阿卜杜拉·买买提",
            "张三",
            "南京恒瑞商行",
        ] {
            let want = match credgate_names::guess_kind(name) {
                NameKind::Organisation => SubjectKind::Organisation,
                NameKind::Person => SubjectKind::Person,
            };
            assert_eq!(query_keys(name, None), (want, name_keys(name, want)));
        }
    }

    #[test]
    fn persons_have_only_an_exact_key() {
        let k = name_keys("阿卜杜拉·买买提", SubjectKind::Person);
        assert_eq!(k.base, "阿卜杜拉买买提");
        assert!(k.fuzzy.is_empty() && k.noregion.is_none());
    }
}
