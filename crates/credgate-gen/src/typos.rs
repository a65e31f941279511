//! Typed Chinese typos for labelled queries: homophones, similar pinyin,
//! look-alike glyphs.
//!
//! These tables are written by hand for the generator, from general
//! knowledge of Mandarin and of the 形近字 lists taught in schools — not
//! from the Unihan data behind the matcher's cost model
//! (`credgate_names::typo`). A query generated here therefore tests the
//! matcher against an independent idea of what a typo is: the accuracy
//! report is not the model grading itself. The groups are deliberately
//! small: characters common in 字号, grouped by toneless pinyin.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Characters common in 字号 by toneless pinyin. A character appears
/// under its usual reading only.
const HOMOPHONES: &[(&str, &str)] = &[
    ("an", "安岸案按"),
    ("ang", "昂盎"),
    ("bai", "百白柏佰"),
    ("bang", "邦帮榜"),
    ("bao", "宝保报包堡葆"),
    ("bei", "北贝倍备蓓"),
    ("bin", "宾斌彬滨"),
    ("bing", "兵冰炳秉"),
    ("bo", "博波伯铂渤泊"),
    ("cai", "彩财才材采"),
    ("can", "灿餐"),
    ("cang", "仓苍沧"),
    ("chan", "禅婵蝉"),
    ("chang", "昌长畅常场倡"),
    ("chen", "晨辰臣陈尘"),
    ("cheng", "成诚城程承乘橙呈澄"),
    ("chuan", "川传船"),
    ("chuang", "创窗闯"),
    ("chun", "春纯淳醇"),
    ("cun", "村存"),
    ("da", "达大答"),
    ("dao", "道稻岛导"),
    ("de", "德得"),
    ("ding", "鼎定丁顶"),
    ("dong", "东冬栋董"),
    ("fa", "发法"),
    ("fan", "凡帆繁范梵"),
    ("fang", "方芳房坊"),
    ("fei", "飞菲非斐"),
    ("fen", "芬奋粉汾"),
    ("feng", "丰峰锋风枫凤"),
    ("fu", "福富复府辅甫孚芙"),
    ("gang", "港钢刚岗"),
    ("gao", "高皋"),
    ("guan", "冠关观贯"),
    ("guang", "光广"),
    ("guo", "国果郭"),
    ("hai", "海亥"),
    ("han", "汉翰瀚涵晗韩"),
    ("hang", "航杭"),
    ("hao", "浩豪好昊皓灏"),
    ("he", "和合禾河荷贺赫鹤"),
    ("hei", "黑嘿"),
    ("heng", "恒衡亨珩"),
    ("hong", "宏鸿红洪弘虹泓"),
    ("hu", "虎湖沪胡"),
    ("hua", "华化花画桦骅"),
    ("huan", "环欢寰焕"),
    ("huang", "皇黄煌凰璜"),
    ("hui", "辉汇慧惠徽晖卉"),
    ("jia", "嘉佳家加迦"),
    ("jian", "建健剑坚鉴简"),
    ("jiang", "江疆将姜"),
    ("jin", "金锦晋进津劲瑾"),
    ("jing", "京晶精景静靖菁"),
    ("jiu", "久九玖"),
    ("kai", "凯开楷锴恺"),
    ("kang", "康抗"),
    ("lan", "蓝兰澜岚"),
    ("lang", "朗浪郎"),
    ("li", "利力立丽理里黎礼励"),
    ("lian", "联连莲廉"),
    ("liang", "良亮梁量粮"),
    ("lin", "林霖琳临麟"),
    ("ling", "灵凌玲领岭菱"),
    ("long", "龙隆珑"),
    ("lu", "路鲁陆露禄鹿璐"),
    ("mei", "美梅媒玫"),
    ("min", "民敏闽"),
    ("ming", "明鸣名铭茗"),
    ("nan", "南楠"),
    ("nen", "嫩"),
    ("neng", "能"),
    ("nian", "年念"),
    ("ning", "宁凝柠"),
    ("nong", "农浓"),
    ("peng", "鹏彭蓬朋"),
    ("qi", "奇齐琪启其旗祺骐麒"),
    ("qian", "千乾谦倩"),
    ("qiang", "强墙蔷"),
    ("qin", "勤秦琴钦"),
    ("qing", "青清庆晴擎卿"),
    ("ran", "然冉燃"),
    ("ren", "仁任"),
    ("rong", "荣融容蓉熔"),
    ("rui", "瑞睿锐芮蕊"),
    ("run", "润闰"),
    ("san", "三叁"),
    ("sen", "森"),
    ("shan", "山善珊杉"),
    ("shang", "尚上商裳"),
    ("shen", "深申神绅"),
    ("sheng", "盛胜升圣晟笙"),
    ("shi", "世时实石诗仕"),
    ("shu", "书树舒蜀"),
    ("shun", "顺舜"),
    ("si", "思斯丝"),
    ("song", "松嵩颂宋"),
    ("su", "苏速素"),
    ("tai", "泰太台"),
    ("tian", "天田添甜"),
    ("tong", "通同彤铜童桐"),
    ("wan", "万湾婉"),
    ("wang", "旺王望"),
    ("wei", "伟维威卫微玮唯纬"),
    ("wen", "文稳闻雯"),
    ("xian", "先鲜仙贤显"),
    ("xiang", "祥翔香湘向"),
    ("xin", "新鑫信欣心馨芯"),
    ("xing", "兴星行杏幸"),
    ("yi", "亿易益意艺怡逸仪"),
    ("yin", "银印音殷寅"),
    ("ying", "英盈鹰莹颖赢"),
    ("yong", "永勇雍泳"),
    ("yuan", "源远元园圆缘"),
    ("yue", "悦越月岳粤跃"),
    ("zan", "赞"),
    ("zang", "藏臧"),
    ("ze", "泽择"),
    ("zen", "怎"),
    ("zeng", "增曾"),
    ("zhan", "展占湛"),
    ("zhang", "章彰张樟"),
    ("zhe", "哲浙"),
    ("zhen", "振珍真臻贞"),
    ("zheng", "正政征郑铮"),
    ("zhi", "志智之致芝至"),
    ("zhong", "中众忠钟仲"),
    ("zhu", "竹珠朱筑"),
    ("zhuan", "专砖"),
    ("zhuang", "庄装壮"),
    ("zi", "紫子梓资"),
    ("zong", "宗综棕"),
    ("zu", "祖足"),
];

/// Pinyin confusions of the input method (fuzzy-pinyin settings): each
/// pair is tried both ways on the initial or on the final.
const INITIALS: &[(&str, &str)] = &[
    ("zh", "z"),
    ("ch", "c"),
    ("sh", "s"),
    ("n", "l"),
    ("f", "h"),
    ("r", "l"),
];
const FINALS: &[(&str, &str)] = &[
    ("iang", "ian"),
    ("uang", "uan"),
    ("ang", "an"),
    ("eng", "en"),
    ("ing", "in"),
];

/// Classic look-alike pairs (形近字) that occur in 字号.
const LOOKALIKES: &[(char, char)] = &[
    ('己', '已'),
    ('末', '未'),
    ('戍', '戌'),
    ('券', '卷'),
    ('士', '土'),
    ('干', '千'),
    ('大', '太'),
    ('天', '夭'),
    ('人', '入'),
    ('侯', '候'),
    ('晴', '睛'),
    ('辨', '辩'),
    ('拔', '拨'),
    ('折', '拆'),
    ('孟', '盂'),
    ('祟', '崇'),
    ('冶', '治'),
    ('贷', '货'),
    ('茶', '荼'),
    ('壁', '璧'),
    ('栗', '粟'),
    ('酒', '洒'),
    ('日', '曰'),
    ('毫', '豪'),
    ('鸟', '乌'),
    ('王', '玉'),
    ('由', '甲'),
    ('甲', '申'),
    ('免', '兔'),
    ('杨', '扬'),
    ('旦', '且'),
    ('今', '令'),
    ('历', '厉'),
    ('仑', '仓'),
    ('风', '凤'),
    ('泰', '秦'),
    ('春', '舂'),
    ('隆', '降'),
    ('汪', '注'),
    ('往', '住'),
    ('科', '料'),
    ('技', '枝'),
    ('瑞', '端'),
    ('辉', '挥'),
    ('博', '搏'),
    ('锐', '说'),
    ('设', '没'),
    ('贸', '贺'),
    ('营', '宫'),
    ('华', '毕'),
    ('远', '运'),
    ('宏', '宠'),
    ('明', '朋'),
    ('浩', '洁'),
    ('林', '材'),
    ('清', '情'),
    ('鹏', '朋'),
    ('金', '全'),
    ('达', '这'),
    ('佳', '住'),
    ('兴', '共'),
];

fn syllable_of(c: char) -> Option<&'static str> {
    HOMOPHONES.iter().find(|(_, cs)| cs.contains(c)).map(|(s, _)| *s)
}

fn chars_of(syllable: &str) -> Option<&'static str> {
    HOMOPHONES.iter().find(|(s, _)| *s == syllable).map(|(_, cs)| *cs)
}

fn pick(cs: impl Iterator<Item = char>, rng: &mut ChaCha8Rng) -> Option<char> {
    let v: Vec<char> = cs.collect();
    (!v.is_empty()).then(|| v[rng.random_range(0..v.len())])
}

/// Another character of the same toneless pinyin.
pub fn homophone(c: char, rng: &mut ChaCha8Rng) -> Option<char> {
    let cs = chars_of(syllable_of(c)?)?;
    pick(cs.chars().filter(|&o| o != c), rng)
}

/// The syllables one IME confusion away from `s`.
fn neighbours(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (a, b) in INITIALS {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(rest) = s.strip_prefix(x) {
                // "z" must not take the "zh" of zhang.
                if x.len() == 1 && rest.starts_with('h') {
                    continue;
                }
                out.push(format!("{y}{rest}"));
            }
        }
    }
    for (a, b) in FINALS {
        for (x, y) in [(a, b), (b, a)] {
            if let Some(head) = s.strip_suffix(x) {
                let v = format!("{head}{y}");
                // "ang" ends in "an" + "g"…: only whole finals.
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
    }
    out.retain(|v| v != s);
    out
}

/// A character whose pinyin is one IME confusion away (zh/z, an/ang, …),
/// with the two syllables.
pub fn similar_pinyin(
    c: char,
    rng: &mut ChaCha8Rng,
) -> Option<(char, &'static str, String)> {
    let s = syllable_of(c)?;
    let options: Vec<(String, &str)> = neighbours(s)
        .into_iter()
        .filter_map(|n| chars_of(&n).map(|cs| (n, cs)))
        .collect();
    if options.is_empty() {
        return None;
    }
    let (n, cs) = &options[rng.random_range(0..options.len())];
    Some((pick(cs.chars(), rng)?, s, n.clone()))
}

/// A look-alike glyph from the hand list.
pub fn lookalike(c: char, rng: &mut ChaCha8Rng) -> Option<char> {
    pick(
        LOOKALIKES.iter().filter_map(|&(a, b)| {
            if a == c {
                Some(b)
            } else if b == c {
                Some(a)
            } else {
                None
            }
        }),
        rng,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_character_sits_under_one_reading() {
        let mut seen = std::collections::HashMap::new();
        for (s, cs) in HOMOPHONES {
            for c in cs.chars() {
                if let Some(other) = seen.insert(c, *s) {
                    panic!("{c} under both {other} and {s}");
                }
            }
        }
    }

    #[test]
    fn neighbours_follow_the_ime_confusions() {
        let check = |s: &str, want: &[&str]| {
            let mut got = neighbours(s);
            got.sort();
            let mut want: Vec<String> =
                want.iter().map(|w| w.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "{s}");
        };
        check("zhang", &["zang", "zhan"]);
        check("zan", &["zhan", "zang"]);
        check("xiang", &["xian"]);
        check("huang", &["fuang", "huan"]);
        check("rong", &["long"]);
        check("nan", &["lan", "nang"]);
        check("si", &["shi"]);
    }

    #[test]
    fn typed_typos_differ_from_the_original() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            assert_ne!(homophone('瑞', &mut rng), Some('瑞'));
            let (c, from, to) = similar_pinyin('张', &mut rng).unwrap();
            assert!(from == "zhang" && (to == "zang" || to == "zhan"));
            assert!(chars_of(&to).unwrap().contains(c));
        }
        assert_eq!(lookalike('末', &mut rng), Some('未'));
        assert_eq!(lookalike('丁', &mut rng), None);
    }
}
