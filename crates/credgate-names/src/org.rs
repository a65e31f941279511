use crate::tables::{
    BRANCH_SUFFIXES, INDUSTRIES, LEGAL_FORMS, MAJOR_REGIONS, MAJOR_SUFFIXES,
    MINOR_REGIONS, MINOR_SUFFIXES,
};
use crate::{finish_key, is_key_char, normalize};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Word tables indexed by the character a match must start or end with,
/// so that a lookup compares a handful of words instead of the whole
/// table (parsing is on the query path and runs 10M times in a build).
struct Tables {
    /// First character → (base, is_major), longest first.
    regions: HashMap<char, Vec<(&'static str, bool)>>,
    /// Last character → (written, canonical), longest first.
    legal_forms: HashMap<char, Vec<(&'static str, &'static str)>>,
    /// Last character → industry words, longest first.
    industries: HashMap<char, Vec<&'static str>>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    fn first(s: &str) -> char {
        s.chars().next().expect("non-empty word")
    }
    fn last(s: &str) -> char {
        s.chars().next_back().expect("non-empty word")
    }
    let mut regions: HashMap<char, Vec<(&'static str, bool)>> = HashMap::new();
    for r in MAJOR_REGIONS {
        regions.entry(first(r)).or_default().push((r, true));
    }
    for r in MINOR_REGIONS {
        regions.entry(first(r)).or_default().push((r, false));
    }
    let mut legal_forms: HashMap<char, Vec<_>> = HashMap::new();
    for &(w, c) in LEGAL_FORMS {
        legal_forms.entry(last(w)).or_default().push((w, c));
    }
    let mut industries: HashMap<char, Vec<&'static str>> = HashMap::new();
    for w in INDUSTRIES {
        industries.entry(last(w)).or_default().push(w);
    }
    for v in regions.values_mut() {
        v.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    }
    for v in legal_forms.values_mut() {
        v.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
    }
    for v in industries.values_mut() {
        v.sort_by_key(|w| std::cmp::Reverse(w.len()));
    }
    Tables { regions, legal_forms, industries }
});

/// An organisation name split into its parts, each normalised and free
/// of punctuation. Empty strings stand for absent parts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrgName {
    /// Region words in canonical form (南京市 → 南京, 江宁区 kept), from
    /// the front of the name or from parentheses.
    pub region: String,
    /// The 字号: what is left once region, industry and legal form are
    /// taken. The distinctive part.
    pub brand: String,
    /// Industry words (行业), possibly several (信息科技 + 发展).
    pub industry: String,
    /// Canonical legal form (有限责任公司 → 有限公司).
    pub legal_form: String,
    /// Branch designation after the parent's legal form, e.g. 苏州分公司.
    pub branch: String,
    /// Whether the region was written in parentheses after the 字号.
    pub region_in_parens: bool,
}

/// Minimum characters of 字号 that stripping region or industry words
/// must leave, so that 南京建设有限公司 keeps 建设 rather than nothing.
const MIN_BRAND_CHARS: usize = 2;

impl OrgName {
    /// Parses any text; parts that cannot be found stay empty.
    pub fn parse(name: &str) -> OrgName {
        let text: String = normalize(name)
            .chars()
            .filter(|&c| is_key_char(c) || c == '(' || c == ')')
            .collect();
        let text = drop_stray_parens(&text);
        let mut out = OrgName::default();
        let (parent, branch) = split_branch(&text);
        out.branch = canonical_branch(branch);

        let (rest, form) = strip_legal_form(parent);
        out.legal_form = form.to_string();

        // Parenthesised groups: a region moves to the region part; any
        // other group (集团) is unwrapped so that 恒瑞(集团) ≡ 恒瑞集团.
        let mut plain = String::with_capacity(rest.len());
        let mut paren_region = String::new();
        let mut after_region = false;
        for (outside, group) in split_groups(rest) {
            // A suffix right after a parenthesised region is the region's:
            // (上海)市海 left 市 in the 字号, and the key 上海市海… then
            // parsed as region 上海市 (found by the `names` fuzz target).
            let outside = match MAJOR_SUFFIXES
                .iter()
                .find(|s| after_region && outside.starts_with(*s))
            {
                Some(s) => &outside[s.len()..],
                None => outside,
            };
            plain.push_str(outside);
            after_region = false;
            if let Some(g) = group {
                match parse_regions(g, 0) {
                    Some((region, "")) => {
                        paren_region.push_str(&region);
                        after_region = true;
                    }
                    _ => plain.extend(g.chars().filter(|&c| is_key_char(c))),
                }
            }
        }

        let (lead_region, rest) = match parse_regions(&plain, MIN_BRAND_CHARS)
        {
            Some((region, rest)) => (region, rest),
            None => (String::new(), plain.as_str()),
        };
        out.region_in_parens = !paren_region.is_empty();
        out.region = lead_region + &paren_region;

        let (brand, industry) = strip_industries(rest);
        out.brand = brand.to_string();
        out.industry = industry;
        out
    }

    /// The canonical match key: region + 字号 + industry + legal form +
    /// branch, without punctuation.
    pub fn key(&self) -> String {
        let mut key = String::with_capacity(
            self.region.len()
                + self.brand.len()
                + self.industry.len()
                + self.legal_form.len()
                + self.branch.len(),
        );
        for part in [
            &self.region,
            &self.brand,
            &self.industry,
            &self.legal_form,
            &self.branch,
        ] {
            key.extend(part.chars().filter(|&c| is_key_char(c)));
        }
        finish_key(key)
    }

    /// The name without its region: what a query that omits the region
    /// would produce.
    pub fn key_without_region(&self) -> String {
        OrgName { region: String::new(), ..self.clone() }.key()
    }
}

/// Splits `text` into (parent, branch) when it ends with a branch suffix
/// after a legal form: 南京恒瑞有限公司苏州分公司 → (南京恒瑞有限公司,
/// 苏州分公司).
fn split_branch(text: &str) -> (&str, &str) {
    let Some(suffix) = BRANCH_SUFFIXES.iter().find(|s| text.ends_with(*s))
    else {
        return (text, "");
    };
    let head = &text[..text.len() - suffix.len()];
    let parent_end = LEGAL_FORMS
        .iter()
        .filter_map(|(written, _)| {
            head.rfind(written).map(|i| i + written.len())
        })
        .max();
    match parent_end {
        Some(end) => (&text[..end], &text[end..]),
        // A branch of an unnamed parent form: keep it whole.
        None => (text, ""),
    }
}

/// Canonical branch text: leading regions canonicalised, punctuation out.
fn canonical_branch(branch: &str) -> String {
    if branch.is_empty() {
        return String::new();
    }
    let clean: String = branch.chars().filter(|&c| is_key_char(c)).collect();
    match parse_regions(&clean, 0) {
        Some((region, rest)) => region + rest,
        None => clean,
    }
}

fn strip_legal_form(text: &str) -> (&str, &'static str) {
    let Some(last) = text.chars().next_back() else { return (text, "") };
    for (written, canonical) in
        TABLES.legal_forms.get(&last).into_iter().flatten()
    {
        if let Some(rest) = text.strip_suffix(written) {
            return (rest, canonical);
        }
    }
    (text, "")
}

/// Drops parentheses that match nothing or enclose nothing. They carry no
/// identity, and a stray one at the end hid the legal form: 恒瑞股份有限公司（
/// was keyed as a person's name, 恒瑞股份有限公司, which itself parses as
/// an organisation (key 恒瑞股份公司), so `match_key` was not idempotent and
/// the two spellings did not match (found by the `names` fuzz target).
fn drop_stray_parens(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    // Key characters before each position, to tell an empty group.
    let mut before = Vec::with_capacity(chars.len() + 1);
    before.push(0usize);
    for &c in &chars {
        let last = *before.last().expect("starts with 0");
        before.push(last + usize::from(c != '(' && c != ')'));
    }
    let mut keep = vec![true; chars.len()];
    let mut open = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '(' => open.push(i),
            ')' => match open.pop() {
                Some(o) if before[i] > before[o + 1] => {}
                Some(o) => (keep[o], keep[i]) = (false, false),
                None => keep[i] = false,
            },
            _ => {}
        }
    }
    for o in open {
        keep[o] = false;
    }
    let mut text: String =
        chars.iter().zip(keep).filter(|(_, k)| *k).map(|(c, _)| c).collect();
    // A name wrapped whole, 【南京恒瑞科技有限公司】, is the name: left
    // wrapped, its legal form was not at the end (found by the `names`
    // fuzz target).
    while text.starts_with('(') && closing(&text) == Some(text.len() - 1) {
        text = text[1..text.len() - 1].to_string();
    }
    text
}

/// The byte position of the `)` that closes the `(` at the start.
fn closing(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits text into (text outside, parenthesised group) pieces. An
/// unbalanced parenthesis is treated as plain text.
fn split_groups(text: &str) -> Vec<(&str, Option<&str>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let Some(len) = rest[open + 1..].find(')') else { break };
        let close = open + 1 + len;
        out.push((&rest[..open], Some(&rest[open + 1..close])));
        rest = &rest[close + 1..];
    }
    out.push((rest, None));
    // Stray parentheses carry no identity.
    for piece in &mut out {
        if piece.0.contains(['(', ')']) {
            piece.0 = piece.0.trim_matches(['(', ')']);
        }
    }
    out
}

/// Parses region words at the front of `text`, leaving at least
/// `min_rest` characters. Returns (canonical regions, rest), or `None`
/// when no region word is there.
fn parse_regions(text: &str, min_rest: usize) -> Option<(String, &str)> {
    let mut region = String::new();
    let mut rest = text;
    while let Some((canonical, len)) = region_at(rest) {
        let after = &rest[len..];
        if after.chars().count() < min_rest {
            break;
        }
        region.push_str(&canonical);
        rest = after;
    }
    (!region.is_empty()).then_some((region, rest))
}

/// The longest region word at the start of `text`: its canonical form
/// and its written length in bytes.
fn region_at(text: &str) -> Option<(String, usize)> {
    let first = text.chars().next()?;
    let mut best: Option<(String, usize)> = None;
    for &(base, major) in TABLES.regions.get(&first).into_iter().flatten() {
        let Some(after) = text.strip_prefix(base) else { continue };
        let candidate = if major {
            let suffix = MAJOR_SUFFIXES.iter().find(|s| after.starts_with(*s));
            Some((
                base.to_string(),
                base.len() + suffix.map_or(0, |s| s.len()),
            ))
        } else {
            MINOR_SUFFIXES
                .iter()
                .find(|s| after.starts_with(*s))
                .map(|s| (format!("{base}{s}"), base.len() + s.len()))
        };
        if let Some((c, len)) = candidate {
            if best.as_ref().is_none_or(|(_, l)| len > *l) {
                best = Some((c, len));
            }
        }
    }
    best
}

/// Strips industry words from the end while at least
/// [`MIN_BRAND_CHARS`] remain; returns (字号, industry).
fn strip_industries(text: &str) -> (&str, String) {
    let mut rest = text;
    let mut stripped: Vec<&str> = Vec::new();
    'outer: while let Some(last) = rest.chars().next_back() {
        for word in TABLES.industries.get(&last).into_iter().flatten() {
            if let Some(head) = rest.strip_suffix(word) {
                if head.chars().count() >= MIN_BRAND_CHARS {
                    stripped.push(word);
                    rest = head;
                    continue 'outer;
                }
            }
        }
        break;
    }
    stripped.reverse();
    (rest, stripped.concat())
}
