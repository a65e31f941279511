//! Scores of name matches. An identifier match scores 1.0; an exact name
//! 0.9 (an organisation) or 0.8 (a person: personal names collide
//! massively); a fuzzy name at most 0.89, falling with each difference.
//! Region and branch are identity: the same 字号 in another region or a
//! different branch scores clearly lower than a true variant.

use credgate_index::record::StoredParts;

pub const CODE: f32 = 1.0;
pub const RELATED_BY_CODE: f32 = 0.95;
pub const RELATED_VIA_RECORD: f32 = 0.9;
pub const NAME_EXACT_ORG: f32 = 0.9;
pub const NAME_EXACT_PERSON: f32 = 0.8;
/// Ceiling of fuzzy scores: below any exact match.
pub const FUZZY_MAX: f32 = 0.89;

/// Factors applied to a fuzzy score. Chosen so that a true variant (one
/// wrong character in a 字号+industry of 4+ characters, or a missing
/// region) stays above the default threshold of 0.5, while another region
/// (0.35) or another branch (0.5) of the same name does not.
const REGION_MISSING: f32 = 0.85;
const REGION_OTHER: f32 = 0.35;
const REGION_NARROWER: f32 = 0.9;
const FORM_OTHER: f32 = 0.8;
const FORM_MISSING: f32 = 0.9;
const BRANCH_ONE_SIDE: f32 = 0.6;
const BRANCH_OTHER: f32 = 0.5;

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Similarity in [0, 1] of the distinctive parts (字号 + industry).
pub fn core_similarity(q: &StoredParts, e: &StoredParts) -> f32 {
    let a = chars(&format!("{}{}", q.brand, q.industry));
    let b = chars(&format!("{}{}", e.brand, e.industry));
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    let d = strsim::generic_levenshtein(&a, &b);
    1.0 - d as f32 / longest as f32
}

fn region_factor(q: &str, e: &str) -> f32 {
    if q == e {
        1.0
    } else if q.is_empty() || e.is_empty() {
        REGION_MISSING
    } else if q.starts_with(e) || e.starts_with(q) {
        // 南京 vs 南京江宁区: the same city, one more precise.
        REGION_NARROWER
    } else {
        REGION_OTHER
    }
}

fn form_factor(q: &str, e: &str) -> f32 {
    if q == e {
        1.0
    } else if q.is_empty() || e.is_empty() {
        FORM_MISSING
    } else {
        FORM_OTHER
    }
}

fn branch_factor(q: &str, e: &str) -> f32 {
    if q == e {
        1.0
    } else if q.is_empty() || e.is_empty() {
        BRANCH_ONE_SIDE
    } else {
        BRANCH_OTHER
    }
}

/// The score of an organisation-name candidate that is not an exact
/// match.
pub fn fuzzy(q: &StoredParts, e: &StoredParts) -> f32 {
    let s = NAME_EXACT_ORG
        * core_similarity(q, e)
        * region_factor(&q.region, &e.region)
        * form_factor(&q.legal_form, &e.legal_form)
        * branch_factor(&q.branch, &e.branch);
    s.min(FUZZY_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use credgate_index::keys::name_keys;
    use credgate_model::SubjectKind;

    fn score(q: &str, e: &str) -> f32 {
        let q = name_keys(q, SubjectKind::Organisation).parts;
        let e = name_keys(e, SubjectKind::Organisation).parts;
        fuzzy(&q, &e)
    }

    #[test]
    fn scores_order_sensibly() {
        let listed = "南京恒瑞建设工程有限公司";
        let variant_typo = score("南京恒端建设工程有限公司", listed);
        let variant_no_region = score("恒瑞建设工程有限公司", listed);
        let other_region = score("苏州恒瑞建设工程有限公司", listed);
        let other_branch = score(
            "南京恒瑞建设工程有限公司苏州分公司",
            "南京恒瑞建设工程有限公司无锡分公司",
        );
        let branch_of = score("南京恒瑞建设工程有限公司苏州分公司", listed);
        assert!(
            variant_typo > 0.7 && variant_typo < FUZZY_MAX,
            "{variant_typo}"
        );
        assert!(variant_no_region > 0.7, "{variant_no_region}");
        assert!(other_region < 0.4, "{other_region}");
        assert!(other_branch < 0.5, "{other_branch}");
        assert!(branch_of < variant_typo && branch_of >= 0.5, "{branch_of}");
        assert!(variant_typo - other_region > 0.3);
        // Two wrong characters score lower than one.
        assert!(score("南京恒端建设工种有限公司", listed) < variant_typo);
        assert!(score(listed, listed) <= FUZZY_MAX);
    }
}
