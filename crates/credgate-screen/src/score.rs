//! Scores of name matches. An identifier match scores 1.0; an exact name
//! 0.9 (an organisation) or 0.8 (a person: personal names collide
//! massively); a fuzzy name at most 0.89, falling with each difference.
//! Region and branch are identity: the same 字号 in another region or a
//! different branch scores clearly lower than a true variant.

use credgate_index::record::{RecordView, StoredParts};
use credgate_index::scorerow::ScoreRow;
use credgate_names::typo;

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
/// Two different known industry words (恒瑞科技, 恒瑞建设): different
/// companies, whatever the 字号; keeps every such pair below 0.5 (at most
/// 0.9 × 0.4 = 0.36).
const INDUSTRY_OTHER: f32 = 0.4;

/// The name parts a score compares, borrowed from a query's keys or a
/// record in place (scoring a candidate allocates nothing).
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    pub region: &'a str,
    pub brand: &'a str,
    pub industry: &'a str,
    pub legal_form: &'a str,
    pub branch: &'a str,
}

impl<'a> From<&'a StoredParts> for Parts<'a> {
    fn from(p: &'a StoredParts) -> Self {
        Parts {
            region: &p.region,
            brand: &p.brand,
            industry: &p.industry,
            legal_form: &p.legal_form,
            branch: &p.branch,
        }
    }
}

impl<'a> From<&RecordView<'a>> for Parts<'a> {
    fn from(r: &RecordView<'a>) -> Self {
        Parts {
            region: r.region,
            brand: r.brand,
            industry: r.industry,
            legal_form: r.legal_form,
            branch: r.branch,
        }
    }
}

/// The distinctive characters (字号 + industry) of a name; names are at
/// most 200 characters, so they fit the stack buffer in practice.
fn core_chars<'b>(
    p: &Parts<'_>,
    buf: &'b mut [char; 64],
) -> Option<&'b [char]> {
    let mut n = 0;
    for c in p.brand.chars().chain(p.industry.chars()) {
        *buf.get_mut(n)? = c;
        n += 1;
    }
    Some(&buf[..n])
}

/// Similarity in [0, 1] of the distinctive parts (字号 + industry), by
/// the typo model: a homophone, similar pinyin, look-alike, swap, drop or
/// addition costs less than an unrelated character, and an edit in the
/// 字号 weighs by the 字号's length (`credgate_names::typo`).
pub fn core_similarity(q: &Parts<'_>, e: &Parts<'_>) -> f32 {
    let (mut qa, mut eb) = (['\0'; 64], ['\0'; 64]);
    let brand = e.brand.chars().count();
    match (core_chars(q, &mut qa), core_chars(e, &mut eb)) {
        (Some(a), Some(b)) => typo::similarity(a, b, brand),
        _ => typo::similarity(&chars(q), &chars(e), brand),
    }
}

fn chars(p: &Parts<'_>) -> Vec<char> {
    p.brand.chars().chain(p.industry.chars()).collect()
}

/// The edits from the listed name's core to the query's, explained (for
/// a fuzzy hit kept).
pub fn edits(q: &Parts<'_>, e: &Parts<'_>) -> Vec<typo::Edit> {
    typo::edits(&chars(q), &chars(e))
}

fn region_factor(q: &str, e: &str) -> f32 {
    if q == e {
        1.0
    } else if q.is_empty() || e.is_empty() {
        REGION_MISSING
    } else if contains_other(q, e) {
        // 南京 vs 南京江宁区, 江宁区 vs 南京江宁区, 江苏南京 vs 南京: one
        // side more precise; compatible. 南京江宁区 vs 南京鼓楼区 is not.
        REGION_NARROWER
    } else {
        REGION_OTHER
    }
}

/// Whether the longer of two different regions contains the shorter
/// (regions of equal length cannot); per candidate, so the cheap tests
/// come first.
fn contains_other(q: &str, e: &str) -> bool {
    let (short, long) = if q.len() < e.len() { (q, e) } else { (e, q) };
    short.len() < long.len()
        && (long.starts_with(short)
            || long.ends_with(short)
            || long.contains(short))
}

/// The industry a name's parts carry, or the one its 字号 ends in with a
/// typo (恒瑞科枝 → 科技).
fn industry_of<'a>(p: &Parts<'a>) -> &'a str {
    if p.industry.is_empty() {
        credgate_names::recover_industry(p.brand).unwrap_or("")
    } else {
        p.industry
    }
}

/// Industry words are identity: two different known words are two
/// companies (恒瑞科技 vs 恒瑞建设). One missing, or one containing the
/// other (科技 vs 信息科技: a longer name of the same trade), leaves it
/// to the 字号.
fn industry_factor(q: &QueryParts<'_>, e: &Parts<'_>) -> f32 {
    if q.parts.industry == e.industry {
        return 1.0;
    }
    let (qi, ei) = (q.industry, industry_of(e));
    if qi.is_empty() || ei.is_empty() || qi.contains(ei) || ei.contains(qi) {
        1.0
    } else {
        INDUSTRY_OTHER
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

/// A query's parts with what scoring derives from the query alone,
/// derived once per query instead of once per candidate: reading a
/// mistyped industry word off the 字号 ([`industry_of`]) is a dozen small
/// allocations and look-ups.
#[derive(Debug, Clone, Copy)]
pub struct QueryParts<'a> {
    pub parts: Parts<'a>,
    /// The industry word the query carries or recovers.
    industry: &'a str,
}

impl<'a> From<Parts<'a>> for QueryParts<'a> {
    fn from(parts: Parts<'a>) -> Self {
        QueryParts { parts, industry: industry_of(&parts) }
    }
}

impl QueryParts<'_> {
    /// The score of an organisation-name candidate that is not an exact
    /// match.
    pub fn fuzzy(&self, e: &Parts<'_>) -> f32 {
        self.factors(e).score(core_similarity(&self.parts, e))
    }

    /// [`QueryParts::fuzzy`] when it reaches `min`, else `None`; the
    /// typo model's alignment (most of a candidate's cost) runs only
    /// when the other factors leave room. The score with a core
    /// similarity of 1 bounds the real one: the factors are multiplied
    /// in the same order and rounding is monotone, so a bound below
    /// `min` proves the score below it. The factors are compared once
    /// and kept for the real score.
    pub fn fuzzy_reaching(&self, e: &Parts<'_>, min: f32) -> Option<f32> {
        let factors = self.factors(e);
        if factors.score(1.0) < min {
            return None;
        }
        Some(factors.score(core_similarity(&self.parts, e)))
            .filter(|&s| s >= min)
    }

    /// Whether a candidate's score row proves its fuzzy score below
    /// `min`, without its record: the row holds the 字号 and the industry
    /// word (`industry`, read from the string table), which is all the
    /// core similarity reads, and the score with every other factor at 1
    /// bounds the real one, as in [`QueryParts::fuzzy_reaching`]. An
    /// exact match does not score by similarity: the caller keeps a
    /// candidate whose name key may be the query's.
    pub fn row_rules_out(
        &self,
        row: &ScoreRow,
        industry: &str,
        min: f32,
    ) -> bool {
        let (mut qa, mut eb) = (['\0'; 64], ['\0'; 64]);
        let Some(q) = core_chars(&self.parts, &mut qa) else {
            return false;
        };
        let mut n = 0;
        for c in row.brand().iter().copied().chain(industry.chars()) {
            let Some(slot) = eb.get_mut(n) else { return false };
            *slot = c;
            n += 1;
        }
        let core = typo::similarity(q, &eb[..n], row.brand_len);
        Factors([1.0; 4]).score(core) < min
    }

    fn factors(&self, e: &Parts<'_>) -> Factors {
        let q = &self.parts;
        Factors([
            region_factor(q.region, e.region),
            industry_factor(self, e),
            form_factor(q.legal_form, e.legal_form),
            branch_factor(q.branch, e.branch),
        ])
    }
}

/// The factors of a fuzzy score other than the core's similarity:
/// region, industry, legal form, branch.
#[derive(Debug, Clone, Copy)]
struct Factors([f32; 4]);

impl Factors {
    /// The score with a core similarity of `core`. The product is taken
    /// left to right in one fixed order (exact score, core, then the
    /// factors), so the bound with `core` = 1 and the real score round
    /// alike.
    fn score(self, core: f32) -> f32 {
        let [region, industry, form, branch] = self.0;
        let s = NAME_EXACT_ORG * core * region * industry * form * branch;
        s.min(FUZZY_MAX)
    }
}

/// [`QueryParts::fuzzy`] of one pair (a query scoring many candidates
/// makes its `QueryParts` once).
pub fn fuzzy(q: &Parts<'_>, e: &Parts<'_>) -> f32 {
    QueryParts::from(*q).fuzzy(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use credgate_index::keys::name_keys;
    use credgate_model::SubjectKind;

    fn score(q: &str, e: &str) -> f32 {
        let q = name_keys(q, SubjectKind::Organisation).parts;
        let e = name_keys(e, SubjectKind::Organisation).parts;
        fuzzy(&(&q).into(), &(&e).into())
    }

    /// The early-out before the typo model must never drop a score
    /// that reaches the threshold, nor change one that does.
    #[test]
    fn fuzzy_reaching_agrees_with_fuzzy_at_every_threshold() {
        let names = [
            "南京恒瑞科技有限公司",
            "南京恒睿科技有限公司",
            "南京恒丰科技有限公司",
            "苏州恒瑞科技有限公司",
            "南京恒瑞建设工程有限公司",
            "南京恒瑞科技股份有限公司",
            "南京恒瑞科技有限公司苏州分公司",
            "南京恒瑞科技有限公司无锡分公司",
            "南京江宁区恒瑞科技有限公司",
            "南京鼓楼区恒瑞科技有限公司",
            "恒瑞科技有限公司",
            "南京恒瑞达科枝有限公司",
            "南京恒瑞商行",
            "南京恒科技有限公司",
        ];
        let parts: Vec<_> = names
            .iter()
            .map(|n| name_keys(n, SubjectKind::Organisation).parts)
            .collect();
        let mut skipped = 0;
        for q in &parts {
            let q = QueryParts::from(Parts::from(q));
            for e in &parts {
                let e = Parts::from(e);
                let s = q.fuzzy(&e);
                for min in [0.0, 0.3, 0.45, 0.5, 0.6, 0.8, s, 0.89] {
                    let got = q.fuzzy_reaching(&e, min);
                    assert_eq!(got, (s >= min).then_some(s), "{min}");
                    skipped += usize::from(q.factors(&e).score(1.0) < min);
                }
            }
        }
        assert!(skipped > 0, "the early-out is exercised");
    }

    #[test]
    fn long_cores_score_like_short_ones() {
        // Past the stack buffer the heap path must agree.
        let brand = "恒".repeat(70);
        let q = StoredParts { brand: brand.clone(), ..Default::default() };
        let mut other = brand.clone();
        other.replace_range(0..3, "瑞");
        let e = StoredParts { brand: other, ..Default::default() };
        let s = core_similarity(&(&q).into(), &(&e).into());
        // One unrelated character in a 字号 of 70.
        let want = 1.0 - credgate_names::typo::BRAND_WEIGHT / 70.0;
        assert!((s - want).abs() < 1e-6, "{s}");
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
        // 瑞/端, a look-alike in a 字号 of two: well above review.
        assert!(
            variant_typo > 0.65 && variant_typo < FUZZY_MAX,
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

    #[test]
    fn an_industry_word_mistyped_on_either_side_is_identity() {
        // 科枝 is read as 科技, another trade than 建设, on either side.
        let (listed, typed) =
            ("南京恒瑞达建设有限公司", "南京恒瑞达科枝有限公司");
        assert!(score(typed, listed) < 0.5, "{}", score(typed, listed));
        assert!(score(listed, typed) < 0.5, "{}", score(listed, typed));
    }

    #[test]
    fn an_unrelated_character_in_a_short_brand_is_another_name() {
        let listed = "南京恒瑞科技有限公司";
        let typo = score("南京恒睿科技有限公司", listed);
        let other = score("南京恒丰科技有限公司", listed);
        assert!(typo >= 0.5, "恒睿 (homophone) stays for review: {typo}");
        assert!(other < 0.5, "恒丰 (unrelated) is another name: {other}");
    }
}
