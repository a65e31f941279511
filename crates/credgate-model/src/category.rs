use crate::{ListKind, ParseError, SubjectKind};

/// A category's stable number ([`Category::number`]); small and copyable
/// so that entries and index records carry it cheaply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CategoryId(pub u16);

/// A list category: the designating system and what it lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Category {
    /// Stable number: entries and snapshot files refer to the category by
    /// it. Never renumber or reuse one (a snapshot built earlier would
    /// silently change meaning); a new category takes the next number.
    pub number: u16,
    /// Stable snake_case code, used in files, the measures catalogue and
    /// APIs.
    pub code: &'static str,
    /// The Chinese name used by the designating system.
    pub name_zh: &'static str,
    /// The list this category belongs to.
    pub list: ListKind,
    /// The designating system (认定部门 type).
    pub system: &'static str,
    /// Which subject kinds the category can list.
    pub organisations: bool,
    pub persons: bool,
}

const fn cat(
    number: u16,
    code: &'static str,
    name_zh: &'static str,
    list: ListKind,
    system: &'static str,
    organisations: bool,
    persons: bool,
) -> Category {
    Category { number, code, name_zh, list, system, organisations, persons }
}

use ListKind::{Black, Focus, Red};

/// The categories credgate knows. Entries must name one of them; the
/// measures catalogue (`data/measures.toml`) maps them to measures.
pub const CATEGORIES: &[Category] = &[
    cat(0, "court_defaulter", "失信被执行人", Black, "court", true, true),
    cat(
        1,
        "major_tax_violation",
        "重大税收违法失信主体",
        Black,
        "tax",
        true,
        true,
    ),
    cat(
        2,
        "procurement_violation",
        "政府采购严重违法失信行为记录",
        Black,
        "finance",
        true,
        false,
    ),
    cat(
        3,
        "market_serious_violation",
        "严重违法失信企业名单",
        Black,
        "market_regulation",
        true,
        false,
    ),
    cat(
        4,
        "wage_arrears",
        "拖欠农民工工资失信联合惩戒对象",
        Black,
        "labour",
        true,
        true,
    ),
    cat(
        5,
        "work_safety",
        "安全生产严重失信主体",
        Black,
        "emergency_management",
        true,
        true,
    ),
    cat(
        6,
        "construction_blacklist",
        "建筑市场主体黑名单",
        Black,
        "housing",
        true,
        true,
    ),
    cat(
        7,
        "abnormal_operation",
        "经营异常名录",
        Focus,
        "market_regulation",
        true,
        false,
    ),
    cat(
        8,
        "commitment_breach",
        "违背信用承诺主体",
        Focus,
        "development_reform",
        true,
        true,
    ),
    cat(
        9,
        "work_safety_focus",
        "安全生产失信重点关注对象",
        Focus,
        "emergency_management",
        true,
        false,
    ),
    cat(
        10,
        "wage_arrears_focus",
        "拖欠农民工工资重点关注对象",
        Focus,
        "labour",
        true,
        true,
    ),
    cat(11, "tax_a_grade", "纳税信用A级纳税人", Red, "tax", true, false),
    cat(
        12,
        "contract_honouring",
        "守合同重信用企业",
        Red,
        "market_regulation",
        true,
        false,
    ),
    cat(13, "customs_aeo", "海关高级认证企业", Red, "customs", true, false),
    cat(
        14,
        "integrity_model",
        "诚信建设先进典型",
        Red,
        "development_reform",
        true,
        true,
    ),
];

impl Category {
    pub fn id(&self) -> CategoryId {
        CategoryId(self.number)
    }

    /// The category with this number, if there is one.
    pub fn by_id(id: CategoryId) -> Option<&'static Category> {
        CATEGORIES.iter().find(|c| c.number == id.0)
    }

    /// Finds a category by code or Chinese name.
    pub fn parse(s: &str) -> Result<&'static Category, ParseError> {
        let t = s.trim();
        CATEGORIES
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(t) || c.name_zh == t)
            .ok_or_else(|| ParseError {
                what: "category",
                found: s.to_string(),
                accepted: CATEGORIES
                    .iter()
                    .map(|c| c.code)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    pub fn allows(&self, kind: SubjectKind) -> bool {
        match kind {
            SubjectKind::Organisation => self.organisations,
            SubjectKind::Person => self.persons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_round_trip() {
        let mut numbers = std::collections::HashSet::new();
        for c in CATEGORIES {
            assert!(numbers.insert(c.number), "number {} twice", c.number);
            assert_eq!(Category::by_id(c.id()).unwrap().code, c.code);
            assert_eq!(Category::parse(c.code).unwrap().code, c.code);
            assert_eq!(Category::parse(c.name_zh).unwrap().code, c.code);
            assert!(c.organisations || c.persons, "{}", c.code);
        }
        for l in ListKind::ALL {
            assert!(CATEGORIES.iter().any(|c| c.list == *l), "{l}");
        }
    }

    #[test]
    fn unknown_category_lists_known_codes() {
        let e = Category::parse("parking_fines").unwrap_err();
        assert!(e.to_string().contains("court_defaulter"), "{e}");
    }
}
