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
    /// The county-level part that ends `region` (江宁区 in 南京江宁区),
    /// empty when the region stops at a city or province. A district
    /// written after its city is read against the GB/T 2260 table, which
    /// also recovers one wrong character (梁溪去 → 梁溪区).
    pub district: String,
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
        let mut paren_district = String::new();
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
                        paren_region.push_str(&region.text);
                        paren_district = region.district;
                        after_region = true;
                    }
                    _ => plain.extend(g.chars().filter(|&c| is_key_char(c))),
                }
            }
        }

        let (lead_region, rest) = match parse_regions(&plain, MIN_BRAND_CHARS)
        {
            Some((region, rest)) => (region, rest),
            None => (Region::default(), plain.as_str()),
        };
        out.region_in_parens = !paren_region.is_empty();
        // The district is what ends the region.
        out.district = if paren_region.is_empty() {
            lead_region.district
        } else {
            paren_district
        };
        out.region = lead_region.text + &paren_region;

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
        OrgName {
            region: String::new(),
            district: String::new(),
            ..self.clone()
        }
        .key()
    }

    /// The region without its district (南京江宁区 → 南京): what a name
    /// of the same company written without the district carries.
    pub fn region_above_district(&self) -> &str {
        self.region
            .strip_suffix(self.district.as_str())
            .unwrap_or(&self.region)
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
        Some((region, rest)) => region.text + rest,
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

/// Region words parsed from the front of a name.
#[derive(Debug, Default)]
struct Region {
    /// Canonical region words, concatenated (南京江宁区).
    text: String,
    /// The county-level word ending `text`, if it ends with one.
    district: String,
}

/// Parses region words at the front of `text`, leaving at least
/// `min_rest` characters. Returns (regions, rest), or `None` when no
/// region word is there. After a prefecture (or a municipality), a
/// county-level division of it is read from the GB/T 2260 table
/// (`credgate_ident::division`): exactly, or with one wrong character
/// when exactly one of its divisions is that close (see
/// [`district_typo`]).
fn parse_regions(text: &str, min_rest: usize) -> Option<(Region, &str)> {
    let mut region = Region::default();
    let mut rest = text;
    // The prefecture the last word named, whose districts may follow.
    let mut prefecture: Option<u32> = None;
    loop {
        let word = region_at(rest);
        let district = prefecture.and_then(|p| district_at(rest, p));
        // An exact district beats a shorter region word; any region word
        // written exactly beats a recovered typo (南京高新区 stays, not
        // 高淳区).
        let (canonical, len, is_district, major) = match (word, district) {
            (w, Some((d, len, true)))
                if w.as_ref().is_none_or(|w| len >= w.1) =>
            {
                (d, len, true, false)
            }
            // The same district under its former suffix (江宁县, now
            // 江宁区): the table's name.
            (Some((w, wlen, false)), Some((d, len, false)))
                if wlen == len && same_base(&w, &d) =>
            {
                (d, len, true, false)
            }
            // The region word is the district's own name, its suffix
            // mistyped (沭阳现: the word 沭阳, the county 沭阳县).
            (Some((w, wlen, _)), Some((d, len, false)))
                if len > wlen && d.starts_with(w.as_str()) =>
            {
                (d, len, true, false)
            }
            (Some((w, len, major)), _) => (w, len, !major, major),
            (None, Some((d, len, _))) => (d, len, true, false),
            (None, None) => break,
        };
        let after = &rest[len..];
        if after.chars().count() < min_rest {
            break;
        }
        prefecture = if major {
            credgate_ident::division::prefecture_by_short_name(&canonical)
                .map(|d| d.code)
        } else {
            None
        };
        region.district =
            if is_district { canonical.clone() } else { String::new() };
        region.text.push_str(&canonical);
        rest = after;
    }
    (!region.text.is_empty()).then_some((region, rest))
}

/// The longest region word at the start of `text`: its canonical form,
/// its written length in bytes, and whether it is a major region.
fn region_at(text: &str) -> Option<(String, usize, bool)> {
    let first = text.chars().next()?;
    let mut best: Option<(String, usize, bool)> = None;
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
            if best.as_ref().is_none_or(|(_, l, _)| len > *l) {
                best = Some((c, len, major));
            }
        }
    }
    best
}

/// The canonical form of a county-level division: a county-level city
/// without its 市, as the major region words are (江阴市 → 江阴); a
/// district, county or banner whole (江宁区), since bare district names
/// are as often 字号.
fn district_canonical(name: &str) -> String {
    match name.strip_suffix('市') {
        Some(base) if base.chars().count() >= 2 => base.to_string(),
        _ => name.to_string(),
    }
}

/// A county-level division of `prefecture` at the start of `text`: the
/// longest written exactly, else one recovered from a typo. Returns its
/// canonical form, the written length in bytes and whether it was
/// written exactly.
fn district_at(text: &str, prefecture: u32) -> Option<(String, usize, bool)> {
    let counties = credgate_ident::division::counties_of(prefecture);
    let exact = counties
        .iter()
        .filter(|d| text.starts_with(d.name))
        .max_by_key(|d| d.name.len());
    if let Some(d) = exact {
        return Some((district_canonical(d.name), d.name.len(), true));
    }
    district_typo(text, counties).map(|(d, len)| (d, len, false))
}

/// Characters typed for a division suffix by the same or a similar
/// pinyin (区 qu, 县 xian, 市 shi, 旗 qi): 梁溪去 is 梁溪区.
const SUFFIX_CONFUSIONS: &[(char, &str)] = &[
    ('区', "去曲取趋驱渠躯屈岖"),
    ('县', "现线限先显险献宪贤"),
    ('市', "是事式示士世试势"),
    ('旗', "期骑棋其奇齐"),
];

/// Longest county-level name considered for a typo (莫力达瓦达斡尔族自治旗
/// has 11 characters; nobody mistypes it into a name).
const MAX_DIVISION_CHARS: usize = 12;

/// Suffixes a division changes between (撤县设区: 江宁县 → 江宁区).
const DIVISION_SUFFIXES: &str = "区县市旗";

/// One wrong, missing or extra character in a division name, recovered
/// when exactly one division of the prefecture is that close. What the
/// written text must keep, so that a 字号 right after the city is never
/// taken for a district (南京鼓楼医药 is not 南京鼓楼区 + 药): either
/// the division's suffix character, with the error in its name
/// (阜柠县), or its name exactly with the suffix mistyped as a same- or
/// similar-pinyin character (梁溪去) or as another division suffix
/// (江宁县, the county before it became a district).
fn district_typo(
    text: &str,
    counties: &[credgate_ident::division::Division],
) -> Option<(String, usize)> {
    let head: Vec<char> = text.chars().take(16).collect();
    // Every recoverable typo writes a suffix or a way of typing one
    // within the first few characters; most names after a city have
    // none, and skip the scan (it runs on every query with a city).
    static SUFFIX_LIKE: LazyLock<Vec<char>> = LazyLock::new(|| {
        let mut v: Vec<char> = DIVISION_SUFFIXES
            .chars()
            .chain(SUFFIX_CONFUSIONS.iter().flat_map(|(_, t)| t.chars()))
            .collect();
        v.sort_unstable();
        v
    });
    let suffix_like = |c: &char| SUFFIX_LIKE.binary_search(c).is_ok();
    if !head.iter().take(MAX_DIVISION_CHARS + 1).any(suffix_like) {
        return None;
    }
    let mut found: Option<(&str, usize)> = None;
    let mut buf = ['\0'; MAX_DIVISION_CHARS];
    for d in counties {
        let mut n = 0;
        for c in d.name.chars() {
            if n == buf.len() {
                break;
            }
            buf[n] = c;
            n += 1;
        }
        let name = &buf[..n];
        // Shortest written length first: an exact suffix at n - 1 ends
        // the word there.
        let lengths = [n.saturating_sub(1), n, n + 1];
        let Some(len) = lengths.into_iter().find(|&len| {
            len >= 2
                && len <= head.len()
                && suffix_kept(&head[..len], name)
                && levenshtein_is_one(&head[..len], name)
        }) else {
            continue;
        };
        match found {
            Some((other, _)) if other != d.name => return None,
            _ => found = Some((d.name, len)),
        }
    }
    let (name, len) = found?;
    let bytes: usize = head[..len].iter().map(|c| c.len_utf8()).sum();
    Some((district_canonical(name), bytes))
}

/// Whether `written` keeps what [`district_typo`] requires of `name`.
fn suffix_kept(written: &[char], name: &[char]) -> bool {
    let (w, n) = (written[written.len() - 1], name[name.len() - 1]);
    if w == n {
        return true;
    }
    written.len() == name.len()
        && written[..written.len() - 1] == name[..name.len() - 1]
        && (DIVISION_SUFFIXES.contains(w)
            || SUFFIX_CONFUSIONS
                .iter()
                .any(|(s, typed)| *s == n && typed.contains(w)))
}

/// Whether two division names differ at most in their last character.
fn same_base(a: &str, b: &str) -> bool {
    let base = |s: &str| {
        let mut c = s.chars();
        c.next_back();
        c.as_str().to_string()
    };
    base(a) == base(b)
}

/// Whether two short strings are exactly one edit apart (substitution,
/// insertion or deletion).
fn levenshtein_is_one(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => short.iter().zip(long).filter(|(x, y)| x != y).count() == 1,
        1 => {
            let i = short.iter().zip(long).take_while(|(x, y)| x == y).count();
            short[i..] == long[i + 1..]
        }
        _ => false,
    }
}

/// Industry words by pattern: each word with one character replaced by
/// `*`, for finding the words one substitution away from a text.
static INDUSTRY_PATTERNS: LazyLock<HashMap<String, Vec<&'static str>>> =
    LazyLock::new(|| {
        let mut map: HashMap<String, Vec<&'static str>> = HashMap::new();
        for w in INDUSTRIES {
            for i in 0..w.chars().count() {
                map.entry(wildcard(w, i)).or_default().push(w);
            }
        }
        map
    });

fn wildcard(word: &str, at: usize) -> String {
    word.chars()
        .enumerate()
        .map(|(i, c)| if i == at { '*' } else { c })
        .collect()
}

/// The industry word a 字号 ends with one wrong character (恒瑞科枝 →
/// 科技): a known word of at least two characters one substitution from
/// the end of `brand`, when exactly one is, leaving at least two
/// characters of 字号. A word written correctly is stripped when the name
/// is parsed and never reaches here; the caller decides what the
/// recovered word means (the score compares industries with it, the
/// match key is unchanged).
pub fn recover_industry(brand: &str) -> Option<&'static str> {
    let chars: Vec<char> = brand.chars().collect();
    let longest = chars.len().saturating_sub(MIN_BRAND_CHARS).min(6);
    // The longest tail decides: 信息技木 is 信息技术, not 技术.
    for len in (2..=longest).rev() {
        let tail: String = chars[chars.len() - len..].iter().collect();
        let mut found: Option<&'static str> = None;
        for i in 0..len {
            let words = INDUSTRY_PATTERNS.get(&wildcard(&tail, i));
            for &w in words.into_iter().flatten() {
                match found {
                    Some(other) if other != w => return None,
                    _ => found = Some(w),
                }
            }
        }
        if found.is_some() {
            return found;
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, region, district, 字号): one line per rule.
    #[track_caller]
    fn check(name: &str, region: &str, district: &str, brand: &str) {
        let p = OrgName::parse(name);
        assert_eq!(
            (p.region.as_str(), p.district.as_str(), p.brand.as_str()),
            (region, district, brand),
            "{name}"
        );
    }

    #[test]
    fn districts_after_their_city() {
        // Written exactly, with or without 市, with the province first.
        check("南京市江宁区恒瑞科技有限公司", "南京江宁区", "江宁区", "恒瑞");
        check("南京江宁区恒瑞科技有限公司", "南京江宁区", "江宁区", "恒瑞");
        check("无锡市梁溪区恒瑞科技有限公司", "无锡梁溪区", "梁溪区", "恒瑞");
        check(
            "江苏省南京市江宁区恒瑞有限公司",
            "江苏南京江宁区",
            "江宁区",
            "恒瑞",
        );
        check("北京市朝阳区恒瑞科技有限公司", "北京朝阳区", "朝阳区", "恒瑞");
        // A district the curated word list lacks, from the full table.
        check("盐城市阜宁县恒瑞科技有限公司", "盐城阜宁县", "阜宁县", "恒瑞");
        check("深圳市龙岗区恒瑞科技有限公司", "深圳龙岗区", "龙岗区", "恒瑞");
        check("广州市番禺区恒瑞科技有限公司", "广州番禺区", "番禺区", "恒瑞");
        // A county-level city canonicalises as a major region does.
        check("无锡市江阴市恒瑞科技有限公司", "无锡江阴", "江阴", "恒瑞");
        check("苏州昆山恒瑞科技有限公司", "苏州昆山", "", "恒瑞");
        // No district: the city alone.
        check("南京恒瑞科技有限公司", "南京", "", "恒瑞");
        // In parentheses.
        check(
            "恒瑞科技(南京市江宁区)有限公司",
            "南京江宁区",
            "江宁区",
            "恒瑞",
        );
    }

    #[test]
    fn one_wrong_character_in_a_district_is_recovered() {
        check("无锡市梁溪去恒瑞科技有限公司", "无锡梁溪区", "梁溪区", "恒瑞");
        check("盐城市阜柠县恒瑞科技有限公司", "盐城阜宁县", "阜宁县", "恒瑞");
        check("南京市江宁县恒瑞科技有限公司", "南京江宁区", "江宁区", "恒瑞");
        check("南京江宁曲恒瑞科技有限公司", "南京江宁区", "江宁区", "恒瑞");
        check("南京市宁区恒瑞科技有限公司", "南京江宁区", "江宁区", "恒瑞");
        // 沭阳 is also a region word of its own; 沭阳现 is 沭阳县.
        check("宿迁市沭阳现恒瑞科技有限公司", "宿迁沭阳县", "沭阳县", "恒瑞");
        check("宿迁市沭阳县恒瑞科技有限公司", "宿迁沭阳县", "沭阳县", "恒瑞");
        // A district the old word list read as a city (淮安区 of 淮安).
        check("淮安市淮安区恒瑞科技有限公司", "淮安淮安区", "淮安区", "恒瑞");
    }

    #[test]
    fn a_brand_after_the_city_is_not_taken_for_a_district() {
        // 鼓楼医 is one edit from 鼓楼区, but 医 is no way to type 区.
        check("南京鼓楼医药有限公司", "南京", "", "鼓楼");
        // Bare district names are 字号.
        check("南京江宁恒瑞科技有限公司", "南京", "", "江宁恒瑞");
        // Two districts of the city one edit away: not guessed.
        // (徐州: 丰县 and 沛县 are both one edit from 洋县.)
        check("徐州洋县恒瑞科技有限公司", "徐州", "", "洋县恒瑞");
        // A region word written exactly beats a typo (高新区 is not
        // 高淳区).
        check("南京市高新区恒瑞科技有限公司", "南京高新区", "高新区", "恒瑞");
        // The 字号 keeps its two characters.
        check("南京市江宁区恒瑞有限公司", "南京江宁区", "江宁区", "恒瑞");
        check("南京江宁区瑞有限公司", "南京", "", "江宁区瑞");
    }

    #[test]
    fn industry_typos_are_recovered_only_when_unambiguous() {
        let cases = [
            ("恒瑞科枝", Some("科技")),
            // 建设, 建筑 and 建材 are all one character away: not
            // guessed (the 字号 comparison still sees one typo).
            ("恒瑞建没", None),
            ("恒瑞信息技木", Some("信息技术")),
            ("恒瑞房地产开友", Some("房地产开发")),
            // 物资 and 电器 are words; a real word never comes here, and
            // its neighbours would be ambiguous anyway.
            ("恒瑞", None),
            ("恒瑞达通", None),
            // Too little 字号 would be left.
            ("科枝", None),
        ];
        for (brand, want) in cases {
            assert_eq!(recover_industry(brand), want, "{brand}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_districts_never_panics_and_keys_are_idempotent(
            s in "[南京无锡盐城徐州市江宁区梁溪去县阜柠宁鼓楼医沛丰洋高新恒瑞科技枝有限公司()]{0,30}",
        ) {
            let k = crate::match_key(&s);
            proptest::prop_assert_eq!(crate::match_key(&k), k.clone());
            let p = OrgName::parse(&s);
            proptest::prop_assert!(p.region.ends_with(p.district.as_str()));
        }
    }
}
