//! Table-driven tests: one line per case, grouped by the variation kinds
//! of domain brief §4.

use super::*;
use proptest::prelude::*;

/// Asserts that two spellings produce the same match key.
fn same(a: &str, b: &str) {
    assert_eq!(match_key(a), match_key(b), "{a:?} vs {b:?}");
}

/// Asserts that two names keep different match keys.
fn differ(a: &str, b: &str) {
    assert_ne!(match_key(a), match_key(b), "{a:?} vs {b:?}");
}

/// Asserts the parts of an organisation name:
/// "region|brand|industry|legal form|branch".
fn parts(name: &str, want: &str) {
    let p = OrgName::parse(name);
    let got = format!(
        "{}|{}|{}|{}|{}",
        p.region, p.brand, p.industry, p.legal_form, p.branch
    );
    assert_eq!(got, want, "{name:?}");
}

#[test]
fn width_and_punctuation() {
    for (a, b) in [
        ("恒瑞建设工程（南京）有限公司", "恒瑞建设工程(南京)有限公司"),
        ("南京恒瑞科技有限公司", "南京恒瑞科技有限公司\u{3000}"),
        ("ＡＢＣ科技（南京）有限公司", "abc科技(南京)有限公司"),
        ("南京１２３商贸有限公司", "南京123商贸有限公司"),
        ("南京恒瑞．科技有限公司", "南京恒瑞科技有限公司"),
        ("南京【恒瑞】科技有限公司", "南京恒瑞科技有限公司"),
        ("南京〔恒瑞〕科技有限公司", "南京恒瑞科技有限公司"),
        ("南京“恒瑞”科技有限公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞科技有限公司。", "南京恒瑞科技有限公司"),
        ("南京恒瑞—科技有限公司", "南京恒瑞-科技有限公司"),
        ("南京恒瑞、科技有限公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞,科技有限公司", "南京恒瑞，科技有限公司"),
        ("南京恒瑞《科技》有限公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞科技有限公司!", "南京恒瑞科技有限公司！"),
        ("Ｈｅｎｇｒｕｉ Tech 有限公司", "hengrui tech有限公司"),
    ] {
        same(a, b);
    }
}

#[test]
fn legal_form_variants() {
    for (a, b) in [
        ("南京恒瑞科技有限责任公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞科技股份有限公司", "南京恒瑞科技股份公司"),
        ("苏州恒瑞(集团)有限公司", "苏州恒瑞集团有限公司"),
        ("无锡恒瑞投资合伙企业（有限合伙）", "无锡恒瑞投资合伙企业有限合伙"),
        ("南京恒瑞律师事务所(普通合伙)", "南京恒瑞律师事务所普通合伙"),
        (
            "南京恒瑞贸易有限责任公司苏州分公司",
            "南京恒瑞贸易有限公司苏州分公司",
        ),
        ("南通恒瑞农民专业合作社", "南通恒瑞专业合作社"),
        (
            "常州恒瑞会计师事务所（特殊普通合伙）",
            "常州恒瑞会计师事务所特殊普通合伙",
        ),
    ] {
        same(a, b);
    }
    for (a, b) in [
        ("南京恒瑞科技有限公司", "南京恒瑞科技股份公司"),
        ("南京恒瑞科技有限公司", "南京恒瑞科技合伙企业"),
        ("南京恒瑞投资合伙企业(有限合伙)", "南京恒瑞投资合伙企业(普通合伙)"),
    ] {
        differ(a, b);
    }
}

/// Found by the `names` fuzz target: a stray or empty bracket after the
/// legal form hid it, so the name was keyed as a person's and
/// `match_key` was not idempotent.
#[test]
fn stray_brackets_do_not_hide_the_legal_form() {
    for a in [
        "南京恒瑞科技股份有限公司(",
        "南京恒瑞科技股份有限公司（（",
        "南京恒瑞科技股份有限公司()",
        "南京恒瑞科技股份有限公司)",
        "南京恒瑞科技股份有限公司【】",
        "(南京恒瑞科技股份有限公司",
        "【南京恒瑞科技股份有限公司】",
        "((南京恒瑞科技股份有限公司))",
    ] {
        same(a, "南京恒瑞科技股份有限公司");
    }
    let found = "John S mmth-J股份有限公司\u{c}({\u{2}\0";
    assert_eq!(match_key(found), "johnsmmthj股份公司");
    let k = match_key(found);
    assert_eq!(match_key(&k), k);
    let found = "[[[南山\0\u{4}ل0ج商店يJo21nn 股份有限公司&v-分所]\u{557}";
    let k = match_key(found);
    assert_eq!(match_key(&k), k);
}

/// Found by the `names` fuzz target: combining marks that NFKC reorders
/// once the space between them is gone made `match_key` not idempotent.
#[test]
fn combining_marks_leave_the_key() {
    let found = "\u{FC5F}\u{FC5F}心分";
    let k = match_key(found);
    assert_eq!(match_key(&k), k);
    assert_eq!(k, "心分");
    same("José Ltd", "jose\u{301} ltd");
}

/// Found by the `names` fuzz target: the suffix after a parenthesised
/// region stayed in the 字号, and the key then parsed another way.
#[test]
fn suffix_after_a_parenthesised_region_is_the_regions() {
    let found = "【上海】市海【责任公司";
    let k = match_key(found);
    assert_eq!(match_key(&k), k);
    same("(上海)市恒瑞科技有限公司", "上海市恒瑞科技有限公司");
}

/// Found by the `names` fuzz target: Hangul jamo that met once a bracket
/// was dropped composed on the next normalisation.
#[test]
fn jamo_brought_together_are_composed() {
    let found =
        "\u{320A}\u{320A}\u{320A}\u{FF0A}\u{1B}\0\u{116E}\u{1176}分中心";
    let k = match_key(found);
    assert_eq!(match_key(&k), k);
    let p = person_key("(\u{110F})\u{1161}");
    assert_eq!(p, "\u{CE74}");
}

/// Found by the `names` fuzz target: lower-casing J + caron gave j +
/// caron, which NFKC composes into ǰ on the next pass. Combining marks
/// are dropped now, and the key settles in one pass either way.
#[test]
fn lower_case_is_composed_again() {
    let n = normalize("iJ\u{30C} LL");
    assert_eq!(n, "ij ll");
    assert_eq!(normalize(&n), n);
    let n = normalize("I\u{1F0} LL");
    assert_eq!(normalize(&n), n, "{n:?}");
}

#[test]
fn traditional_characters() {
    for (a, b) in [
        ("蘇州恆瑞科技有限公司", "苏州恒瑞科技有限公司"),
        ("無錫華潤電子有限公司", "无锡华润电子有限公司"),
        ("臺灣積體電路製造股份有限公司", "台湾积体电路制造股份有限公司"),
        ("廣東發展銀行", "广东发展银行"),
        ("南京長江建設工程有限責任公司", "南京长江建设工程有限公司"),
        ("揚州聯華貿易有限公司", "扬州联华贸易有限公司"),
        ("鎮江萬達實業有限公司", "镇江万达实业有限公司"),
        ("張偉", "张伟"),
        ("劉德華", "刘德华"),
        ("蘇州恆瑞科技有限公司無錫分公司", "苏州恒瑞科技有限公司无锡分公司"),
    ] {
        same(a, b);
    }
}

#[test]
fn inserted_spaces_and_punctuation() {
    for (a, b) in [
        ("南京 恒瑞 科技 有限公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞  科技有限公司", "南京恒瑞科技有限公司"),
        (" 南京恒瑞科技有限公司 ", "南京恒瑞科技有限公司"),
        ("南京-恒瑞-科技有限公司", "南京恒瑞科技有限公司"),
        ("南京·恒瑞科技有限公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞科技\t有限公司", "南京恒瑞科技有限公司"),
        ("南京恒瑞科技有限公司\n", "南京恒瑞科技有限公司"),
        ("张 伟", "张伟"),
        ("阿卜杜拉·买买提", "阿卜杜拉•买买提"),
        ("阿卜杜拉・买买提", "阿卜杜拉买买提"),
        ("阿卜杜拉‧买买提", "阿卜杜拉 买买提"),
        ("John Smith", "JOHN SMITH"),
        ("john-smith", "John Smith"),
    ] {
        same(a, b);
    }
}

#[test]
fn region_in_parentheses_or_with_suffix() {
    for (a, b) in [
        ("恒瑞建设工程（南京）有限公司", "南京恒瑞建设工程有限公司"),
        ("恒瑞科技(苏州)有限公司", "苏州恒瑞科技有限公司"),
        ("恒瑞(苏州)科技有限公司", "苏州恒瑞科技有限公司"),
        ("恒瑞科技（江苏）有限公司", "江苏恒瑞科技有限公司"),
        ("南京市恒瑞科技有限公司", "南京恒瑞科技有限公司"),
        ("江苏省恒瑞科技有限公司", "江苏恒瑞科技有限公司"),
        ("恒瑞贸易(中国)有限公司", "中国恒瑞贸易有限公司"),
        ("南京市江宁区恒瑞科技有限公司", "南京江宁区恒瑞科技有限公司"),
        ("恒瑞建设工程（南京市）有限公司", "南京恒瑞建设工程有限公司"),
        ("廣西壯族自治區恒瑞貿易有限公司", "广西恒瑞贸易有限公司"),
        ("新疆维吾尔自治区恒瑞商贸有限公司", "新疆恒瑞商贸有限公司"),
        ("连云港市恒瑞物流有限公司", "恒瑞物流(连云港)有限公司"),
        ("张家港恒瑞化工有限公司", "恒瑞化工(张家港市)有限公司"),
    ] {
        same(a, b);
    }
}

#[test]
fn region_and_branch_keep_subjects_apart() {
    for (a, b) in [
        ("南京恒瑞科技有限公司", "苏州恒瑞科技有限公司"),
        ("南京恒瑞科技有限公司", "恒瑞科技有限公司"),
        ("南京恒瑞科技有限公司", "南京恒瑞科技有限公司苏州分公司"),
        ("南京恒瑞科技有限公司苏州分公司", "南京恒瑞科技有限公司无锡分公司"),
        ("南京恒瑞科技有限公司", "南京恒瑞贸易有限公司"),
        ("南京恒瑞科技有限公司", "南京恒端科技有限公司"),
        ("南京恒瑞科技有限公司", "南京恒瑞科技"),
        ("南京江宁区恒瑞科技有限公司", "南京恒瑞科技有限公司"),
        ("张伟", "张玮"),
        ("张伟", "张伟伟"),
    ] {
        differ(a, b);
    }
}

#[test]
fn missing_region_matches_without_region() {
    for (full, bare) in [
        ("南京恒瑞科技有限公司", "恒瑞科技有限公司"),
        ("恒瑞建设工程（南京）有限公司", "恒瑞建设工程有限公司"),
        ("江苏省南京市恒瑞科技有限公司", "恒瑞科技有限公司"),
        ("苏州恒瑞科技有限公司无锡分公司", "恒瑞科技有限公司无锡分公司"),
    ] {
        assert_eq!(
            OrgName::parse(full).key_without_region(),
            match_key(bare),
            "{full}"
        );
    }
}

#[test]
fn branch_suffixes() {
    for (a, b) in [
        ("南京恒瑞科技有限公司苏州分公司", "南京恒瑞科技有限公司苏州市分公司"),
        ("南京恒瑞科技有限公司 苏州分公司", "南京恒瑞科技有限公司苏州分公司"),
        (
            "南京恒瑞科技有限公司（苏州分公司）",
            "南京恒瑞科技有限公司苏州分公司",
        ),
        ("恒瑞科技(南京)有限公司苏州分公司", "南京恒瑞科技有限公司苏州分公司"),
        ("南京恒瑞大药房有限公司江宁分店", "南京恒瑞大药房有限公司江宁分店"),
    ] {
        same(a, b);
    }
}

#[test]
fn parts_of_names() {
    for (name, want) in [
        ("南京恒瑞建设工程有限公司", "南京|恒瑞|建设工程|有限公司|"),
        ("恒瑞建设工程（南京）有限公司", "南京|恒瑞|建设工程|有限公司|"),
        ("江苏省南京市恒瑞科技有限公司", "江苏南京|恒瑞|科技|有限公司|"),
        ("南京恒瑞信息科技发展有限公司", "南京|恒瑞|信息科技发展|有限公司|"),
        (
            "南京恒瑞科技有限公司苏州分公司",
            "南京|恒瑞|科技|有限公司|苏州分公司",
        ),
        ("苏州恒瑞股份有限公司", "苏州|恒瑞||股份公司|"),
        ("恒瑞有限公司", "|恒瑞||有限公司|"),
        ("南京建设有限公司", "南京|建设||有限公司|"),
        ("南京科技科技有限公司", "南京|科技|科技|有限公司|"),
        (
            "南京市江宁区恒瑞装饰工程有限公司",
            "南京江宁区|恒瑞|装饰工程|有限公司|",
        ),
        ("南京鼓楼恒瑞商贸有限公司", "南京|鼓楼恒瑞|商贸|有限公司|"),
        ("无锡恒瑞投资合伙企业(有限合伙)", "无锡|恒瑞|投资|合伙企业有限合伙|"),
        ("上海家化联合股份有限公司", "上海|家化联合||股份公司|"),
        ("恒瑞贸易(中国)有限公司", "中国|恒瑞|贸易|有限公司|"),
        (
            "苏州工业园区恒瑞生物科技有限公司",
            "苏州工业园区|恒瑞|生物科技|有限公司|",
        ),
        ("南京恒瑞", "南京|恒瑞|||"),
        ("张伟", "|张伟|||"),
        ("", "||||"),
        ("有限公司", "|||有限公司|"),
        ("(南京)有限公司", "南京|||有限公司|"),
        (
            "南京恒瑞大药房有限公司江宁分店",
            "南京|恒瑞大药房||有限公司|江宁分店",
        ),
        (
            "徐州恒瑞物流有限公司沛县分公司",
            "徐州|恒瑞|物流|有限公司|沛县分公司",
        ),
    ] {
        parts(name, want);
    }
}

#[test]
fn guessing_the_kind() {
    for (name, want) in [
        ("南京恒瑞科技有限公司", NameKind::Organisation),
        ("南京恒瑞超市", NameKind::Organisation),
        ("恒瑞有限公司南京分公司", NameKind::Organisation),
        ("张伟", NameKind::Person),
        ("阿卜杜拉·买买提", NameKind::Person),
    ] {
        assert_eq!(guess_kind(name), want, "{name}");
    }
}

#[test]
fn normalize_keeps_punctuation_but_maps_it() {
    for (input, want) in [
        ("恒瑞（南京）", "恒瑞(南京)"),
        ("【恒瑞】", "(恒瑞)"),
        ("阿卜杜拉•买买提", "阿卜杜拉·买买提"),
        ("恒瑞  科技 ", "恒瑞 科技"),
        ("ＡＢＣ", "abc"),
        ("蘇州", "苏州"),
        ("乾坤", "乾坤"),
    ] {
        assert_eq!(normalize(input), want, "{input}");
    }
}

#[test]
fn plain_characters_are_what_the_fast_path_assumes() {
    use unicode_normalization::char::{
        canonical_combining_class, is_combining_mark,
    };
    for c in ('\u{0}'..='\u{7F}').chain('\u{4E00}'..='\u{9FFF}') {
        assert!(crate::plain(c));
        assert!(!is_combining_mark(c), "{c:?}");
        assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        let one = c.to_string();
        assert_eq!(
            unicode_normalization::is_nfkc_quick(one.chars()),
            unicode_normalization::IsNormalized::Yes,
            "{c:?}"
        );
        if !c.is_ascii() {
            assert!(c.is_alphanumeric(), "{c:?}");
            assert_eq!(c.to_lowercase().collect::<String>(), one, "{c:?}");
        }
    }
}

proptest! {
    #[test]
    fn plain_text_takes_the_same_path_as_any(
        s in "[a-zA-Z0-9 ,.()\\[\\]{}·\u{3000}（）恒瑞蘇州乾坤臺灣科技有限公司\u{4E00}-\u{9FFF}\u{3400}-\u{3410}\u{F900}-\u{F910}\u{0301}ＡＢ１]{0,24}"
    ) {
        prop_assert_eq!(normalize(&s), crate::normalize_general(&s));
    }

    #[test]
    fn match_key_never_panics_and_is_idempotent(s in "\\PC{0,40}") {
        let k = match_key(&s);
        prop_assert_eq!(match_key(&k), k.clone());
        prop_assert!(k.chars().all(char::is_alphanumeric));
    }

    #[test]
    fn normalize_is_idempotent(s in "\\PC{0,40}") {
        let n = normalize(&s);
        prop_assert_eq!(normalize(&n), n);
    }

    #[test]
    fn org_keys_are_idempotent(
        region in prop::sample::select(vec!["", "南京", "苏州市", "江苏省"]),
        brand in "[恒瑞润宇鑫盛达]{2,4}",
        industry in prop::sample::select(vec!["", "科技", "建设工程", "商贸"]),
        form in prop::sample::select(vec!["有限公司", "有限责任公司", "股份有限公司"]),
        paren in any::<bool>(),
    ) {
        let name = if paren && !region.is_empty() {
            format!("{brand}{industry}({region}){form}")
        } else {
            format!("{region}{brand}{industry}{form}")
        };
        let k = match_key(&name);
        prop_assert_eq!(match_key(&k), k.clone());
        let p = OrgName::parse(&name);
        prop_assert_eq!(p.brand, brand);
    }

    #[test]
    fn arbitrary_unicode_never_panics(s in any::<String>()) {
        let _ = OrgName::parse(&s);
        let _ = person_key(&s);
    }
}

#[test]
fn combining_marks_are_dropped_so_normalising_is_idempotent() {
    for s in ["\u{1e000}\u{fe72}", "恒\u{0301}瑞科技", "İ恒瑞"] {
        let once = normalize(s);
        assert!(
            !once.chars().any(unicode_normalization::char::is_combining_mark),
            "{once:?}"
        );
        assert_eq!(normalize(&once), once, "{s:?}");
    }
    assert_eq!(normalize("恒\u{0301}瑞科技"), normalize("恒瑞科技"));
}
