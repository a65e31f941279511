//! Administrative division codes (GB/T 2260), the subset credgate ships.
//!
//! The table holds every province-level code, every Jiangsu prefecture and
//! its districts, and the capitals and districts named in the domain
//! brief. [`is_plausible`] uses only what the table knows completely: the
//! province, and for Jiangsu the prefecture. Codes are retired as districts
//! merge, so an unknown code is a warning for callers, never a rejection.

/// One division: its six-digit code and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Division {
    pub code: u32,
    pub name: &'static str,
}

/// Province-level divisions (first two digits).
pub const PROVINCES: &[(u32, &str)] = &[
    (11, "北京市"),
    (12, "天津市"),
    (13, "河北省"),
    (14, "山西省"),
    (15, "内蒙古自治区"),
    (21, "辽宁省"),
    (22, "吉林省"),
    (23, "黑龙江省"),
    (31, "上海市"),
    (32, "江苏省"),
    (33, "浙江省"),
    (34, "安徽省"),
    (35, "福建省"),
    (36, "江西省"),
    (37, "山东省"),
    (41, "河南省"),
    (42, "湖北省"),
    (43, "湖南省"),
    (44, "广东省"),
    (45, "广西壮族自治区"),
    (46, "海南省"),
    (50, "重庆市"),
    (51, "四川省"),
    (52, "贵州省"),
    (53, "云南省"),
    (54, "西藏自治区"),
    (61, "陕西省"),
    (62, "甘肃省"),
    (63, "青海省"),
    (64, "宁夏回族自治区"),
    (65, "新疆维吾尔自治区"),
    (71, "台湾省"),
    (81, "香港特别行政区"),
    (82, "澳门特别行政区"),
];

/// Provinces whose prefecture list in [`DIVISIONS`] is complete.
const COMPLETE_PREFECTURES: &[u32] = &[32];

/// Prefecture- and county-level divisions, sorted by code.
pub const DIVISIONS: &[Division] = &[
    d(110000, "北京"),
    d(110101, "东城区"),
    d(110102, "西城区"),
    d(110105, "朝阳区"),
    d(110108, "海淀区"),
    d(310000, "上海"),
    d(310101, "黄浦区"),
    d(310104, "徐汇区"),
    d(310115, "浦东新区"),
    d(320100, "南京"),
    d(320102, "玄武区"),
    d(320104, "秦淮区"),
    d(320105, "建邺区"),
    d(320106, "鼓楼区"),
    d(320111, "浦口区"),
    d(320113, "栖霞区"),
    d(320114, "雨花台区"),
    d(320115, "江宁区"),
    d(320116, "六合区"),
    d(320117, "溧水区"),
    d(320118, "高淳区"),
    d(320200, "无锡"),
    d(320205, "锡山区"),
    d(320206, "惠山区"),
    d(320211, "滨湖区"),
    d(320213, "梁溪区"),
    d(320214, "新吴区"),
    d(320281, "江阴"),
    d(320282, "宜兴"),
    d(320300, "徐州"),
    d(320302, "鼓楼区"),
    d(320303, "云龙区"),
    d(320305, "贾汪区"),
    d(320311, "泉山区"),
    d(320312, "铜山区"),
    d(320321, "丰县"),
    d(320322, "沛县"),
    d(320324, "睢宁县"),
    d(320381, "新沂"),
    d(320382, "邳州"),
    d(320400, "常州"),
    d(320402, "天宁区"),
    d(320404, "钟楼区"),
    d(320411, "新北区"),
    d(320412, "武进区"),
    d(320413, "金坛区"),
    d(320481, "溧阳"),
    d(320500, "苏州"),
    d(320505, "虎丘区"),
    d(320506, "吴中区"),
    d(320507, "相城区"),
    d(320508, "姑苏区"),
    d(320509, "吴江区"),
    d(320581, "常熟"),
    d(320582, "张家港"),
    d(320583, "昆山"),
    d(320585, "太仓"),
    d(320600, "南通"),
    d(320612, "通州区"),
    d(320613, "崇川区"),
    d(320614, "海门区"),
    d(320623, "如东县"),
    d(320681, "启东"),
    d(320682, "如皋"),
    d(320685, "海安"),
    d(320700, "连云港"),
    d(320703, "连云区"),
    d(320706, "海州区"),
    d(320707, "赣榆区"),
    d(320722, "东海县"),
    d(320723, "灌云县"),
    d(320724, "灌南县"),
    d(320800, "淮安"),
    d(320803, "淮安区"),
    d(320804, "淮阴区"),
    d(320812, "清江浦区"),
    d(320813, "洪泽区"),
    d(320826, "涟水县"),
    d(320830, "盱眙县"),
    d(320831, "金湖县"),
    d(320900, "盐城"),
    d(320902, "亭湖区"),
    d(320903, "盐都区"),
    d(320904, "大丰区"),
    d(320921, "响水县"),
    d(320922, "滨海县"),
    d(320923, "阜宁县"),
    d(320924, "射阳县"),
    d(320925, "建湖县"),
    d(320981, "东台"),
    d(321000, "扬州"),
    d(321002, "广陵区"),
    d(321003, "邗江区"),
    d(321012, "江都区"),
    d(321023, "宝应县"),
    d(321081, "仪征"),
    d(321084, "高邮"),
    d(321100, "镇江"),
    d(321102, "京口区"),
    d(321111, "润州区"),
    d(321112, "丹徒区"),
    d(321181, "丹阳"),
    d(321182, "扬中"),
    d(321183, "句容"),
    d(321200, "泰州"),
    d(321202, "海陵区"),
    d(321203, "高港区"),
    d(321204, "姜堰区"),
    d(321281, "兴化"),
    d(321282, "靖江"),
    d(321283, "泰兴"),
    d(321300, "宿迁"),
    d(321302, "宿城区"),
    d(321311, "宿豫区"),
    d(321322, "沭阳县"),
    d(321323, "泗阳县"),
    d(321324, "泗洪县"),
    d(330100, "杭州"),
    d(330102, "上城区"),
    d(330106, "西湖区"),
    d(340100, "合肥"),
    d(340104, "蜀山区"),
    d(370100, "济南"),
    d(370102, "历下区"),
    d(420100, "武汉"),
    d(420102, "江岸区"),
    d(420106, "武昌区"),
    d(440100, "广州"),
    d(440104, "越秀区"),
    d(440106, "天河区"),
    d(440300, "深圳"),
    d(440303, "罗湖区"),
    d(440304, "福田区"),
    d(440305, "南山区"),
    d(510100, "成都"),
    d(510104, "锦江区"),
    d(510107, "武侯区"),
];

const fn d(code: u32, name: &'static str) -> Division {
    Division { code, name }
}

/// The province name for the first two digits of a division code.
pub fn province(code: u32) -> Option<&'static str> {
    let p = code / 10_000;
    PROVINCES.iter().find(|(c, _)| *c == p).map(|(_, n)| *n)
}

/// The table entry for an exact six-digit code.
pub fn lookup(code: u32) -> Option<Division> {
    DIVISIONS
        .binary_search_by_key(&code, |d| d.code)
        .ok()
        .map(|i| DIVISIONS[i])
}

/// The prefecture-level entry (code ending in `00`) a code belongs to.
pub fn prefecture(code: u32) -> Option<Division> {
    lookup(code / 100 * 100)
}

/// Whether a six-digit division code is consistent with what the table
/// knows completely: a real province and, for provinces whose prefectures
/// are all listed, a real prefecture.
pub fn is_plausible(code: &str) -> bool {
    let Ok(n) = code.parse::<u32>() else { return false };
    if code.len() != 6 || province(n).is_none() {
        return false;
    }
    let p = n / 10_000;
    if COMPLETE_PREFECTURES.contains(&p) && n % 10_000 != 0 {
        return prefecture(n).is_some();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(DIVISIONS.windows(2).all(|w| w[0].code < w[1].code));
        assert!(PROVINCES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn every_division_is_in_a_known_province() {
        for d in DIVISIONS {
            assert!(province(d.code).is_some(), "{}", d.code);
            assert!(is_plausible(&format!("{:06}", d.code)), "{}", d.code);
        }
    }

    #[test]
    fn jiangsu_has_thirteen_prefectures() {
        let n = DIVISIONS
            .iter()
            .filter(|d| d.code / 10_000 == 32 && d.code % 100 == 0)
            .count();
        assert_eq!(n, 13);
    }

    #[test]
    fn plausibility() {
        let cases = [
            ("320106", true),
            ("320103", true), // retired 白下区: prefecture 南京 still known
            ("321400", false),
            ("329901", false),
            ("990000", false),
            ("440113", true),
            ("32010", false),
            ("3201O6", false),
        ];
        for (code, want) in cases {
            assert_eq!(is_plausible(code), want, "{code}");
        }
    }
}
