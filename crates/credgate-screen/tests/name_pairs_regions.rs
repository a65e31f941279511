//! Same subject or not, for pairs of organisation names that differ in
//! their region, district or industry words (issue 9 items 3 and 4).
//! One line per pair: the listed name, the query, the verdict, and why.
//! The verdict is what screening makes of the pair: the same match key
//! (`Same`), a fuzzy hit a clerk reviews (`Review`: the pair shares a
//! lookup key and scores at least the default threshold), or no hit
//! (`Different`).

use credgate_index::keys::{NameKeys, name_keys};
use credgate_model::SubjectKind;
use credgate_screen::matcher::MatchOptions;
use credgate_screen::score;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Same,
    Review,
    Different,
}
use Verdict::*;

fn keys(name: &str) -> NameKeys {
    name_keys(name, SubjectKind::Organisation)
}

fn verdict(listed: &str, query: &str) -> (Verdict, f32) {
    let (e, q) = (keys(listed), keys(query));
    if e.parts.key == q.parts.key {
        return (Same, score::NAME_EXACT_ORG);
    }
    let found = e.base == q.base
        || (e.noregion.is_some() && e.noregion == q.noregion)
        || e.fuzzy.iter().any(|k| q.fuzzy.contains(k));
    let s = score::fuzzy(&(&q.parts).into(), &(&e.parts).into());
    if found && s >= MatchOptions::default().min_score {
        (Review, s)
    } else {
        (Different, s)
    }
}

const PAIRS: &[(&str, &str, Verdict, &str)] = &[
    // Districts.
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京江宁区恒瑞科技有限公司",
        Same,
        "市 is optional",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "恒瑞科技(南京市江宁区)有限公司",
        Same,
        "region in brackets",
    ),
    (
        "无锡市梁溪区恒瑞科技有限公司",
        "无锡市梁溪去恒瑞科技有限公司",
        Same,
        "区 typed as 去, recovered through the table",
    ),
    (
        "盐城市阜宁县恒瑞商贸有限公司",
        "盐城市阜柠县恒瑞商贸有限公司",
        Same,
        "阜柠县: the only 盐城 county one edit away is 阜宁县",
    ),
    (
        "深圳市南山区恒瑞科技有限公司",
        "深圳市南山曲恒瑞科技有限公司",
        Same,
        "区 typed as 曲",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京市江宁县恒瑞科技有限公司",
        Same,
        "the former county's name",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京市宁区恒瑞科技有限公司",
        Same,
        "one character missing from the district",
    ),
    (
        "广州市番禺区恒瑞科技有限公司",
        "广州番禺区恒瑞科技有限公司",
        Same,
        "a district only the full table knows",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京恒瑞科技有限公司",
        Review,
        "district missing on one side: compatible",
    ),
    (
        "南京恒瑞科技有限公司",
        "南京市江宁区恒瑞科技有限公司",
        Review,
        "district missing on the listed side",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "恒瑞科技有限公司",
        Review,
        "region missing",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "江宁区恒瑞科技有限公司",
        Review,
        "city missing, district given",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "江苏省南京市江宁区恒瑞科技有限公司",
        Review,
        "province added",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京恒端科技有限公司",
        Review,
        "a typo and the district missing",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京市江宁区恒端科技有限公司",
        Review,
        "a typo in the 字号",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "南京市鼓楼区恒瑞科技有限公司",
        Different,
        "another district of the city",
    ),
    (
        "北京市朝阳区恒瑞科技有限公司",
        "北京市海淀区恒瑞科技有限公司",
        Different,
        "another district of the municipality",
    ),
    (
        "南京市鼓楼区恒瑞科技有限公司",
        "徐州市鼓楼区恒瑞科技有限公司",
        Different,
        "a district of the same name in another city",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "苏州市吴中区恒瑞科技有限公司",
        Different,
        "another city",
    ),
    (
        "南京市江宁区恒瑞科技有限公司",
        "苏州恒瑞科技有限公司",
        Different,
        "another city, no district",
    ),
    (
        "南京鼓楼医药有限公司",
        "南京市鼓楼区医药有限公司",
        Different,
        "鼓楼 is the 字号: 医 is no way to type 区",
    ),
    (
        "徐州市丰县恒瑞商行",
        "徐州市沛县恒瑞商行",
        Different,
        "two counties one character apart",
    ),
    // Industry words.
    (
        "南京恒瑞科技有限公司",
        "南京恒瑞建设有限公司",
        Different,
        "two known industry words",
    ),
    (
        "南京恒瑞达科技有限公司",
        "南京恒瑞达建设有限公司",
        Different,
        "two known industry words, a longer 字号",
    ),
    (
        "南京恒瑞建设工程有限公司",
        "南京恒瑞建筑工程有限公司",
        Different,
        "建设 and 建筑 are different trades",
    ),
    (
        "南京恒瑞贸易有限公司",
        "南京恒瑞商贸有限公司",
        Different,
        "贸易 vs 商贸",
    ),
    (
        "南京恒瑞物流有限公司",
        "南京恒瑞物资有限公司",
        Different,
        "物资 is a word, not a mistyped 物流",
    ),
    (
        "南京恒瑞实业有限公司",
        "南京恒瑞投资有限公司",
        Different,
        "实业 vs 投资",
    ),
    (
        "南京恒瑞餐饮管理有限公司",
        "南京恒瑞酒店管理有限公司",
        Different,
        "餐饮管理 vs 酒店管理",
    ),
    (
        "南京恒瑞劳务有限公司",
        "南京恒瑞装饰有限公司",
        Different,
        "劳务 vs 装饰",
    ),
    (
        "南京恒瑞医药有限公司",
        "南京恒瑞医疗有限公司",
        Different,
        "医药 vs 医疗",
    ),
    (
        "南京恒瑞网络科技有限公司",
        "南京恒瑞电子科技有限公司",
        Different,
        "网络科技 vs 电子科技",
    ),
    (
        "南京恒瑞达建设有限公司",
        "南京恒瑞达科枝有限公司",
        Different,
        "科枝 is recovered as 科技, another trade",
    ),
    (
        "南京恒瑞科技有限公司",
        "南京恒瑞科枝有限公司",
        Review,
        "a typo inside the industry word",
    ),
    (
        "南京恒瑞房地产开发有限公司",
        "南京恒瑞房地产开友有限公司",
        Review,
        "a typo inside a long industry word",
    ),
    (
        "南京恒瑞电子科技有限公司",
        "南京恒瑞电孑科技有限公司",
        Review,
        "a typo inside a compound word leaves 科技 ⊂ 电子科技",
    ),
    (
        "南京恒瑞信息技术有限公司",
        "南京恒瑞信息技木有限公司",
        Review,
        "技木 is recovered as 信息技术",
    ),
    (
        "南京恒瑞信息科技有限公司",
        "南京恒瑞科技有限公司",
        Different,
        "compatible trades (科技 ⊂ 信息科技) but two characters apart: no lookup key is shared",
    ),
    (
        "南京恒瑞科技有限公司",
        "南京恒瑞科技有限责任公司",
        Same,
        "legal-form equivalence",
    ),
];

#[test]
fn region_district_and_industry_pairs() {
    let mut failures = Vec::new();
    for &(listed, query, want, why) in PAIRS {
        let (got, s) = verdict(listed, query);
        if got != want {
            failures.push(format!(
                "{listed} vs {query}: {got:?} ({s:.3}), expected {want:?}: {why}"
            ));
        }
        // The verdict does not depend on which side is listed, except
        // where the table says so.
        let (back, _) = verdict(query, listed);
        if back != want {
            failures.push(format!(
                "{query} vs {listed} (reversed): {back:?}, expected {want:?}: {why}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
