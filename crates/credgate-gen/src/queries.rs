//! Labelled queries for accuracy reports and benchmarks: planted hits of
//! every variation kind of domain brief §4, and realistic non-hits,
//! including the same 字号 in another region (decoys).

use crate::{GenOptions, Generator};
use credgate_model::{Entry, EntryStatus, SubjectKind};
use credgate_names::{OrgName, match_key};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The kinds of query, in the order they are produced.
///
/// `typo` is the original kind, kept so that reports compare with earlier
/// ones: one 字号 character replaced by one from a fixed list, mostly
/// unrelated to it (恒瑞 → 恒华). Since the typo model (docs/names.md) an
/// unrelated character in a short 字号 makes another name, so its recall
/// is no floor; the typed kinds at the end are: `homophone_typo`,
/// `similar_pinyin_typo`, `lookalike_typo` and `transposition`.
pub const KINDS: &[&str] = &[
    "code",
    "name_exact",
    "width_punct",
    "legal_form",
    "traditional",
    "typo",
    "region_paren",
    "missing_region",
    "branch_suffix",
    "person_code",
    "person_name",
    "unlisted",
    "decoy_other_region",
    "homophone_typo",
    "similar_pinyin_typo",
    "lookalike_typo",
    "transposition",
    "district_typo",
    "unlisted_same_city_industry",
    "other_city_same_brand",
    "unlisted+code",
    "unlisted_same_city_industry+code",
    "other_city_same_brand+code",
    "decoy_other_region+code",
    "missing_region+code",
    "district_typo+code",
];

/// The suffix of a kind sent with a fresh valid USCC that no entry
/// carries: the name kind's query, but from a subject the identifier
/// says is not listed, so any hit it keeps in the decision is wrong —
/// except for the kinds of [`SAME_NAME_WITH_CODE`].
pub const WITH_CODE: &str = "+code";

/// Name kinds whose query, once read, *is* the listed entry's name
/// (a district typo is recovered through the division table: 南京市江宁去
/// → 江宁区). docs/identity.md keeps identical names open whatever the
/// code (a re-registration or a data error is worth a look), so their
/// `+code` query expects the listed entry for review, like the name
/// alone: it measures that recovery and the identity rule agree.
pub const SAME_NAME_WITH_CODE: &[&str] = &["district_typo"];

/// What a one-character typo of a district suffix looks like: the same
/// or a similar pinyin (区 qu: 去, 曲; 县 xian: 现, 线).
const SUFFIX_TYPOS: &[(char, &[char])] =
    &[('区', &['去', '曲', '取']), ('县', &['现', '线', '限'])];

/// One labelled query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledQuery {
    pub id: u64,
    pub kind: &'static str,
    /// Whether a hit on `expected_entry_id` is the right answer; for
    /// non-hits, any hit is a false hit.
    pub expect_hit: bool,
    pub expected_entry_id: String,
    pub name: String,
    pub code: String,
}

/// Simplified → traditional for characters common in company names;
/// enough to write a traditional variant of most names.
const S2T: &[(char, char)] = &[
    ('华', '華'),
    ('苏', '蘇'),
    ('东', '東'),
    ('业', '業'),
    ('发', '發'),
    ('贸', '貿'),
    ('电', '電'),
    ('络', '絡'),
    ('术', '術'),
    ('车', '車'),
    ('务', '務'),
    ('广', '廣'),
    ('国', '國'),
    ('实', '實'),
    ('云', '雲'),
    ('龙', '龍'),
    ('达', '達'),
    ('丰', '豐'),
    ('兴', '興'),
    ('长', '長'),
    ('宁', '寧'),
    ('锡', '錫'),
    ('门', '門'),
    ('连', '連'),
    ('设', '設'),
    ('计', '計'),
    ('装', '裝'),
    ('饰', '飾'),
    ('银', '銀'),
    ('钢', '鋼'),
    ('铁', '鐵'),
    ('机', '機'),
    ('药', '藥'),
    ('医', '醫'),
    ('乐', '樂'),
    ('输', '輸'),
    ('运', '運'),
    ('农', '農'),
    ('资', '資'),
    ('产', '產'),
    ('环', '環'),
    ('营', '營'),
    ('销', '銷'),
    ('饮', '飲'),
    ('万', '萬'),
    ('马', '馬'),
    ('鸿', '鴻'),
    ('阳', '陽'),
    ('时', '時'),
    ('经', '經'),
    ('济', '濟'),
    ('创', '創'),
    ('网', '網'),
    ('数', '數'),
    ('汇', '匯'),
    ('恒', '恆'),
    ('泰', '泰'),
    ('凯', '凱'),
    ('宝', '寶'),
    ('联', '聯'),
    ('传', '傳'),
    ('贸', '貿'),
    ('湾', '灣'),
    ('优', '優'),
    ('鑫', '鑫'),
    ('维', '維'),
    ('盘', '盤'),
    ('园', '園'),
    ('绿', '綠'),
    ('开', '開'),
    ('区', '區'),
    ('州', '州'),
    ('扬', '揚'),
    ('镇', '鎮'),
    ('盐', '鹽'),
    ('县', '縣'),
    ('徐', '徐'),
    ('常', '常'),
];

/// Characters a typo may bring in.
const TYPO: &[char] = &[
    '瑞', '端', '华', '中', '天', '金', '达', '盛', '远', '安', '新', '恒',
    '通', '信', '博', '泰', '海', '康', '源', '世', '明', '宝', '锦', '德',
    '兴', '昌', '立', '和',
];

/// Cities for decoys and branch suffixes: a fixed, ordered subset of the
/// name parser's region words (`credgate_names::tables::MAJOR_REGIONS`;
/// a test keeps it one), kept apart so that query files stay the same
/// for a seed when the parser learns new regions.
const OTHER_CITIES: &[&str] = &[
    "南京",
    "无锡",
    "徐州",
    "常州",
    "苏州",
    "南通",
    "连云港",
    "淮安",
    "盐城",
    "扬州",
    "镇江",
    "泰州",
    "宿迁",
    "杭州",
    "合肥",
    "济南",
    "武汉",
    "广州",
    "深圳",
    "成都",
];

/// Builds `count` labelled queries from `sample` (entries drawn from the
/// list); `is_listed` tells whether a name's match key is on the list, to
/// keep non-hits unlisted.
/// `is_code_listed` tells whether an identifier is on the list, to keep
/// the codes of `+code` kinds unlisted.
pub fn make(
    sample: &[Entry],
    is_listed: &dyn Fn(&str) -> bool,
    is_code_listed: &dyn Fn(&str) -> bool,
    count: usize,
    seed: u64,
) -> Vec<LabelledQuery> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut unlisted = Generator::new(GenOptions::new(seed ^ 0x5EED))
        .filter(|e| e.subject_kind == SubjectKind::Organisation)
        .map(|e| e.name)
        .filter(|n| !is_listed(&match_key(n)));
    let orgs: Vec<&Entry> = sample
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Organisation)
        .collect();
    let persons: Vec<&Entry> = sample
        .iter()
        .filter(|e| e.subject_kind == SubjectKind::Person)
        .collect();
    let mut out = Vec::with_capacity(count);
    let mut cursor = 0usize;
    let mut attempts = 0usize;
    while out.len() < count && attempts < count * 20 {
        attempts += 1;
        let kind = KINDS[out.len() % KINDS.len()];
        let id = out.len() as u64 + 1;
        let q = |expect_hit, e: Option<&Entry>, name: String, code: String| {
            LabelledQuery {
                id,
                kind,
                expect_hit,
                expected_entry_id: e
                    .map(|e| e.entry_id.clone())
                    .unwrap_or_default(),
                name,
                code,
            }
        };
        // A `+code` kind is its name kind's query sent with a fresh valid
        // USCC that no entry carries: another subject by its code, so no
        // hit is right.
        let (base, with_code) = match kind.strip_suffix(WITH_CODE) {
            Some(base) => (base, true),
            None => (kind, false),
        };
        // Where the code of a `+code` query is registered.
        let mut division = 320100;
        let made = match base {
            "person_code" | "person_name" => {
                if persons.is_empty() {
                    continue;
                }
                let e = persons[rng.random_range(0..persons.len())];
                Some(if kind == "person_code" {
                    q(true, Some(e), String::new(), e.code.clone())
                } else {
                    q(true, Some(e), e.name.clone(), String::new())
                })
            }
            "unlisted" => {
                unlisted.next().map(|n| q(false, None, n, String::new()))
            }
            _ => {
                if orgs.is_empty() {
                    break;
                }
                cursor = (cursor + 1) % orgs.len();
                let e = orgs[cursor];
                division = e.division().unwrap_or(division);
                vary(base, e, &orgs, is_listed, &mut rng).map(
                    |(expect, name, code)| {
                        q(expect, expect.then_some(e), name, code)
                    },
                )
            }
        };
        let made = match made {
            Some(m) if with_code => {
                let same_name = SAME_NAME_WITH_CODE.contains(&base);
                fresh_code(division, is_code_listed, &mut rng).map(|code| {
                    LabelledQuery {
                        expect_hit: same_name && m.expect_hit,
                        expected_entry_id: if same_name {
                            m.expected_entry_id
                        } else {
                            String::new()
                        },
                        code,
                        ..m
                    }
                })
            }
            other => other,
        };
        if let Some(m) = made {
            out.push(m);
        }
    }
    out
}

/// A valid USCC of a company registered in `division` that no entry
/// carries.
fn fresh_code(
    division: u32,
    is_code_listed: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    (0..8).find_map(|_| {
        let body = credgate_ident::generate::org_body_ma(
            rng.random_range(0..31u64.pow(6)),
        );
        credgate_ident::generate::uscc("91", division, &body)
            .ok()
            .filter(|c| !is_code_listed(c))
    })
}

/// The county-level division written in a name right after its city
/// (南京市江宁区…): its name and byte range in `name`.
fn written_district(
    name: &str,
    e: &Entry,
) -> Option<(&'static str, std::ops::Range<usize>)> {
    use credgate_ident::division;
    let code = e.division()?;
    let district = division::lookup(code)?;
    let city = division::prefecture(code)?.short_name();
    if district.is_prefecture() || !name.starts_with(city) {
        return None;
    }
    let start = name.find(district.name)?;
    let between = &name[city.len()..start];
    // Only right after the city (南京江宁区, 南京市江宁区): elsewhere the
    // same characters belong to a 字号 or a branch.
    (between.is_empty() || between == "市")
        .then_some((district.name, start..start + district.name.len()))
}

/// A 字号 of the same length sharing exactly one character (at one
/// position) with `brand`, the other characters drawn from other
/// listed 字号.
fn other_brand(
    brand: &str,
    donors: &[&Entry],
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    let chars: Vec<char> = brand.chars().collect();
    if chars.len() < 2 {
        return None;
    }
    let keep = rng.random_range(0..chars.len());
    let mut out = chars.clone();
    for (i, slot) in out.iter_mut().enumerate() {
        if i == keep {
            continue;
        }
        let replacement = (0..16).find_map(|_| {
            let donor = donors[rng.random_range(0..donors.len())];
            let b: Vec<char> =
                OrgName::parse(&donor.name).brand.chars().collect();
            let c = *b.get(rng.random_range(0..b.len().max(1)))?;
            (!chars.contains(&c) && c.is_alphanumeric()).then_some(c)
        })?;
        *slot = replacement;
    }
    Some(out.into_iter().collect())
}

/// The written region prefix of a name (南京市, 江苏省南京市, …) and the
/// rest, when the name starts with its region.
fn split_region(name: &str, parts: &OrgName) -> Option<(String, String)> {
    if parts.region.is_empty()
        || parts.region_in_parens
        || !parts.branch.is_empty()
    {
        return None;
    }
    let chars: Vec<char> = name.chars().collect();
    for n in (1..chars.len().min(12)).rev() {
        let head: String = chars[..n].iter().collect();
        let rest: String = chars[n..].iter().collect();
        // A bare region has no 字号 after it, which the parser requires:
        // give it one.
        let probe = OrgName::parse(&format!("{head}甲乙有限公司"));
        if probe.region == parts.region
            && probe.brand == "甲乙"
            && rest.contains(&parts.brand)
        {
            return Some((head, rest));
        }
    }
    None
}

fn vary(
    kind: &str,
    e: &Entry,
    donors: &[&Entry],
    is_listed: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
) -> Option<(bool, String, String)> {
    let name = e.name.clone();
    let parts = OrgName::parse(&name);
    let unlisted = |n: &str| !is_listed(&match_key(n));
    match kind {
        "code" => Some((true, String::new(), e.code.clone())),
        "name_exact" => Some((true, name, String::new())),
        "width_punct" => {
            let mut v: String = name
                .chars()
                .map(|c| match c {
                    '(' => '（',
                    ')' => '）',
                    '0'..='9' => {
                        char::from_u32(c as u32 + 0xFEE0).unwrap_or(c)
                    }
                    _ => c,
                })
                .collect();
            let at = v.char_indices().nth(2).map(|(i, _)| i)?;
            v.insert(at, '\u{3000}');
            v.push('．');
            Some((true, v, String::new()))
        }
        "legal_form" => {
            let v = if let Some(h) = name.strip_suffix("股份有限公司") {
                format!("{h}股份公司")
            } else if let Some(h) = name.strip_suffix("有限责任公司") {
                format!("{h}有限公司")
            } else if let Some(h) = name.strip_suffix("有限公司") {
                format!("{h}有限责任公司")
            } else {
                return None;
            };
            Some((true, v, String::new()))
        }
        "traditional" => {
            let v: String = name
                .chars()
                .map(|c| {
                    S2T.iter().find(|(s, _)| *s == c).map_or(c, |(_, t)| *t)
                })
                .collect();
            (v != name).then_some((true, v, String::new()))
        }
        "typo" => {
            let brand: Vec<char> = parts.brand.chars().collect();
            if brand.len() + parts.industry.chars().count() < 4 {
                return None;
            }
            let start = name.find(&parts.brand)?;
            let i = rng.random_range(0..brand.len());
            let mut with = TYPO[rng.random_range(0..TYPO.len())];
            if with == brand[i] {
                with = '嘉';
            }
            let mut b = brand.clone();
            b[i] = with;
            let typo: String = b.into_iter().collect();
            let v = format!(
                "{}{typo}{}",
                &name[..start],
                &name[start + parts.brand.len()..]
            );
            unlisted(&v).then_some((true, v, String::new()))
        }
        "region_paren" => {
            let (_, rest) = split_region(&name, &parts)?;
            let core = format!("{}{}", parts.brand, parts.industry);
            let form = rest.strip_prefix(&core)?;
            let v = format!("{core}({}){form}", parts.region);
            Some((true, v, String::new()))
        }
        "missing_region" => {
            let (_, rest) = split_region(&name, &parts)?;
            Some((true, rest, String::new()))
        }
        "branch_suffix" => {
            if !parts.branch.is_empty() {
                return None;
            }
            let city = OTHER_CITIES[rng.random_range(0..OTHER_CITIES.len())];
            let v = format!("{name}{city}分公司");
            unlisted(&v).then_some((true, v, String::new()))
        }
        "decoy_other_region" => {
            let (_, rest) = split_region(&name, &parts)?;
            let city = OTHER_CITIES[rng.random_range(0..OTHER_CITIES.len())];
            if parts.region.contains(city) {
                return None;
            }
            let v = format!("{city}{rest}");
            unlisted(&v).then_some((false, v, String::new()))
        }
        "district_typo" => {
            let (district, range) = written_district(&name, e)?;
            let mut chars: Vec<char> = district.chars().collect();
            let last = chars.len() - 1;
            // Half in the suffix (梁溪去), half in the name (阜柠县).
            let suffix_typos =
                SUFFIX_TYPOS.iter().find(|(s, _)| *s == chars[last]);
            match suffix_typos {
                Some((_, typos)) if rng.random_bool(0.5) => {
                    chars[last] = typos[rng.random_range(0..typos.len())];
                }
                _ => {
                    let i = rng.random_range(0..last);
                    let mut with = TYPO[rng.random_range(0..TYPO.len())];
                    if with == chars[i] {
                        with = '嘉';
                    }
                    chars[i] = with;
                }
            }
            let typo: String = chars.into_iter().collect();
            let v = format!(
                "{}{typo}{}",
                &name[..range.start],
                &name[range.end..]
            );
            // Another listed name is a wrong target; the source's own key
            // is the point: a parser that recovers the typo keys it so.
            let own = match_key(&v) == match_key(&name);
            (own || unlisted(&v)).then_some((true, v, String::new()))
        }
        "unlisted_same_city_industry" => {
            if parts.brand.chars().count() < 2 || !parts.branch.is_empty() {
                return None;
            }
            let start = name.find(&parts.brand)?;
            let brand = other_brand(&parts.brand, donors, rng)?;
            let v = format!(
                "{}{brand}{}",
                &name[..start],
                &name[start + parts.brand.len()..]
            );
            unlisted(&v).then_some((false, v, String::new()))
        }
        "other_city_same_brand" => {
            if parts.brand.is_empty()
                || parts.legal_form.is_empty()
                || !parts.branch.is_empty()
            {
                return None;
            }
            let city = OTHER_CITIES[rng.random_range(0..OTHER_CITIES.len())];
            if parts.region.contains(city) {
                return None;
            }
            let v = format!(
                "{city}{}{}{}",
                parts.brand, parts.industry, parts.legal_form
            );
            unlisted(&v).then_some((false, v, String::new()))
        }
        _ => typed_typo(kind, &name, &parts, rng)
            .filter(|v| unlisted(v))
            .map(|v| (true, v, String::new())),
    }
}

/// The typed typos (`crate::typos`, tables independent of the matcher's):
/// one character of the 字号 replaced by a homophone, a similar-pinyin
/// or a look-alike character, or two adjacent 字号 characters swapped.
/// The position is drawn among those the table has a replacement for.
fn typed_typo(
    kind: &str,
    name: &str,
    parts: &OrgName,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    let brand: Vec<char> = parts.brand.chars().collect();
    let start = name.find(&parts.brand)?;
    let replace = |f: &dyn Fn(char, &mut ChaCha8Rng) -> Option<char>,
                   rng: &mut ChaCha8Rng| {
        let options: Vec<(usize, char)> = (0..brand.len())
            .filter_map(|i| f(brand[i], rng).map(|c| (i, c)))
            .collect();
        (!options.is_empty())
            .then(|| options[rng.random_range(0..options.len())])
    };
    let mut b = brand.clone();
    match kind {
        "homophone_typo" => {
            let (i, c) = replace(&crate::typos::homophone, rng)?;
            b[i] = c;
        }
        "similar_pinyin_typo" => {
            let (i, c) = replace(
                &|c, rng| crate::typos::similar_pinyin(c, rng).map(|t| t.0),
                rng,
            )?;
            b[i] = c;
        }
        "lookalike_typo" => {
            let (i, c) = replace(&crate::typos::lookalike, rng)?;
            b[i] = c;
        }
        "transposition" => {
            let pairs: Vec<usize> =
                (1..b.len()).filter(|&i| b[i] != b[i - 1]).collect();
            if pairs.is_empty() {
                return None;
            }
            let i = pairs[rng.random_range(0..pairs.len())];
            b.swap(i - 1, i);
        }
        _ => return None,
    }
    let typo: String = b.into_iter().collect();
    Some(format!(
        "{}{typo}{}",
        &name[..start],
        &name[start + parts.brand.len()..]
    ))
}

/// Whether an entry is a fair source of a planted hit on `day`: in force
/// with a margin, so that the expected hit is still in force when the
/// queries run.
pub fn usable(e: &Entry, day: chrono::NaiveDate) -> bool {
    e.status == EntryStatus::Active
        && e.valid_until.is_none_or(|u| u > day + chrono::Days::new(60))
}

/// A query file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum QueryFileError {
    #[error("{path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{path}, line {line}: {what}")]
    Row { path: String, line: u64, what: String },
}

/// The columns of a query file, in order.
pub const COLUMNS: [&str; 6] =
    ["query_id", "kind", "expect", "expected_entry_id", "name", "code"];

/// Writes labelled queries as CSV with the [`COLUMNS`].
pub fn write_csv<W: std::io::Write>(
    out: W,
    queries: &[LabelledQuery],
) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for q in queries {
        w.write_record([
            q.id.to_string().as_str(),
            q.kind,
            if q.expect_hit { "hit" } else { "no_hit" },
            &q.expected_entry_id,
            &q.name,
            &q.code,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Reads a query file written by [`write_csv`].
pub fn read_csv(
    path: &std::path::Path,
) -> Result<Vec<LabelledQuery>, QueryFileError> {
    let shown = path.display().to_string();
    let csv_err = |source| QueryFileError::Csv { path: shown.clone(), source };
    let mut r = csv::Reader::from_path(path).map_err(csv_err)?;
    let headers = r.headers().map_err(csv_err)?.clone();
    if headers.iter().ne(COLUMNS) {
        return Err(QueryFileError::Row {
            path: shown,
            line: 1,
            what: format!("expected the header {}", COLUMNS.join(",")),
        });
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(csv_err)?;
        let line = rec.position().map_or(0, |p| p.line());
        let row = |what: String| QueryFileError::Row {
            path: shown.clone(),
            line,
            what,
        };
        let get = |n: usize| rec.get(n).unwrap_or("");
        let kind = KINDS.iter().find(|k| **k == get(1)).ok_or_else(|| {
            row(format!(
                "kind: '{}' is not one of {}",
                get(1),
                KINDS.join(", ")
            ))
        })?;
        let expect_hit = match get(2) {
            "hit" => true,
            "no_hit" => false,
            other => {
                return Err(row(format!(
                    "expect: '{other}' is neither hit nor no_hit"
                )));
            }
        };
        out.push(LabelledQuery {
            id: get(0).parse().map_err(|_| {
                row(format!("query_id: '{}' is not a number", get(0)))
            })?,
            kind,
            expect_hit,
            expected_entry_id: get(3).to_string(),
            name: get(4).to_string(),
            code: get(5).to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_files_round_trip_and_bad_rows_are_named() {
        let qs: Vec<LabelledQuery> = KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| LabelledQuery {
                id: i as u64 + 1,
                kind: k,
                expect_hit: i % 2 == 0,
                expected_entry_id: format!("CG{i:010}"),
                name: "南京恒瑞科技有限公司, \"分号\"".into(),
                code: String::new(),
            })
            .collect();
        let dir = std::env::temp_dir()
            .join(format!("cg-queries-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("q.csv");
        write_csv(std::fs::File::create(&path).unwrap(), &qs).unwrap();
        assert_eq!(read_csv(&path).unwrap(), qs);

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen(",typo,", ",tpyo,", 1)).unwrap();
        let err = read_csv(&path).unwrap_err().to_string();
        assert!(err.contains("line 7") && err.contains("'tpyo'"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn org(name: &str, division: u32) -> Entry {
        let mut e = crate::Generator::new(GenOptions::new(1))
            .find(|e| e.subject_kind == SubjectKind::Organisation)
            .unwrap();
        e.name = name.to_string();
        e.code = credgate_ident::generate::uscc(
            "91",
            division,
            &credgate_ident::generate::org_body_ma(7),
        )
        .unwrap();
        e
    }

    #[test]
    fn district_typos_change_one_character_of_the_district() {
        let e = org("南京市江宁区恒瑞科技有限公司", 320115);
        let none = |_: &str| false;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..40 {
            let (hit, v, _) =
                vary("district_typo", &e, &[&e], &none, &mut rng).unwrap();
            assert!(hit);
            assert!(
                v.starts_with("南京市") && v.ends_with("恒瑞科技有限公司")
            );
            let d: Vec<char> = v["南京市".len()..].chars().take(3).collect();
            let diff =
                d.iter().zip("江宁区".chars()).filter(|(a, b)| **a != *b);
            assert_eq!(diff.count(), 1, "{v}");
            seen.insert(v);
        }
        assert!(seen.iter().any(|v| v.contains("江宁去")
            || v.contains("江宁曲")
            || v.contains("江宁取")));
        // The typo keys as the source when the parser recovers it: the
        // source being listed does not stop the query.
        let source = match_key("南京市江宁区恒瑞科技有限公司");
        let own = |k: &str| k == source;
        let recovered = (0..20)
            .filter_map(|_| vary("district_typo", &e, &[&e], &own, &mut rng))
            .filter(|(_, v, _)| match_key(v) == source)
            .count();
        assert!(recovered > 0);
        // No district written after the city: no query of this kind.
        let e = org("南京恒瑞科技有限公司", 320115);
        assert_eq!(vary("district_typo", &e, &[&e], &none, &mut rng), None);
    }

    #[test]
    fn other_brands_share_one_character_and_keep_the_rest() {
        let e = org("南京恒瑞科技有限公司", 320115);
        let donor = org("苏州华信贸易有限公司", 320505);
        let none = |_: &str| false;
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..20 {
            let (hit, v, _) = vary(
                "unlisted_same_city_industry",
                &e,
                &[&donor],
                &none,
                &mut rng,
            )
            .unwrap();
            assert!(!hit);
            let p = OrgName::parse(&v);
            assert_eq!(
                (p.region.as_str(), p.industry.as_str()),
                ("南京", "科技")
            );
            let shared = p.brand.chars().filter(|c| "恒瑞".contains(*c));
            assert_eq!(shared.count(), 1, "{v}");
        }
        let (hit, v, _) =
            vary("other_city_same_brand", &e, &[&e], &none, &mut rng).unwrap();
        assert!(!hit && !v.starts_with("南京"));
        assert!(v.ends_with("恒瑞科技有限公司"), "{v}");
    }

    #[test]
    fn code_kinds_carry_a_fresh_valid_unlisted_code() {
        let e = org("南京市江宁区恒瑞科技有限公司", 320115);
        let listed = e.code.clone();
        let person = crate::Generator::new(GenOptions::new(1))
            .find(|e| e.subject_kind == SubjectKind::Person)
            .unwrap();
        let qs = make(
            &[e, person, org("苏州华信贸易有限公司", 320505)],
            &|_| false,
            &|c| c == listed,
            KINDS.len() * 2,
            5,
        );
        let with_code: Vec<_> =
            qs.iter().filter(|q| q.kind.ends_with(WITH_CODE)).collect();
        assert!(!with_code.is_empty());
        for q in with_code {
            let same_name = q.kind == "district_typo+code";
            assert_eq!(q.expect_hit, same_name, "{q:?}");
            assert!(q.code != listed, "{q:?}");
            if same_name {
                // The recovered name is the listed one: identity stays
                // open, the listed entry is expected for review.
                assert!(!q.expected_entry_id.is_empty(), "{q:?}");
            }
            let v = credgate_ident::validate(&q.code).unwrap();
            assert_eq!(v.kind, credgate_ident::IdKind::Uscc);
        }
    }

    #[test]
    fn decoy_cities_are_regions_the_parser_knows() {
        for c in OTHER_CITIES {
            assert!(
                credgate_names::tables::MAJOR_REGIONS.contains(c),
                "{c} would not parse as a region"
            );
        }
    }

    #[test]
    fn typed_typo_kinds_change_one_brand_character_or_swap_two() {
        let sample: Vec<Entry> =
            Generator::new(GenOptions::new(7)).take(2000).collect();
        let by_id: std::collections::HashMap<&str, &Entry> =
            sample.iter().map(|e| (e.entry_id.as_str(), e)).collect();
        let made = make(&sample, &|_| false, &|_| false, KINDS.len() * 40, 7);
        for kind in [
            "homophone_typo",
            "similar_pinyin_typo",
            "lookalike_typo",
            "transposition",
        ] {
            let qs: Vec<_> = made.iter().filter(|q| q.kind == kind).collect();
            assert!(qs.len() >= 20, "{kind}: only {} queries", qs.len());
            for q in qs {
                let e = by_id[q.expected_entry_id.as_str()];
                let (a, b) =
                    (OrgName::parse(&q.name), OrgName::parse(&e.name));
                let (x, y): (Vec<char>, Vec<char>) =
                    (a.brand.chars().collect(), b.brand.chars().collect());
                let diff = x.iter().zip(&y).filter(|(p, q)| p != q).count();
                let swapped = x.len() == y.len() && {
                    let mut s = x.clone();
                    s.sort();
                    let mut t = y.clone();
                    t.sort();
                    s == t
                };
                match kind {
                    "transposition" => assert!(
                        diff == 2 && swapped,
                        "{} ← {}",
                        q.name,
                        e.name
                    ),
                    _ => assert_eq!(diff, 1, "{} ← {}", q.name, e.name),
                }
            }
        }
    }

    #[test]
    fn region_variants_of_a_name() {
        let name = "南京市恒瑞科技有限公司";
        let parts = OrgName::parse(name);
        let (head, rest) = split_region(name, &parts).expect("region prefix");
        assert_eq!(
            (head.as_str(), rest.as_str()),
            ("南京市", "恒瑞科技有限公司")
        );
    }
}
