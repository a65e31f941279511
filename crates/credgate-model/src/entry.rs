use crate::{
    Category, CategoryId, Date, EntryStatus, IdType, ListKind, PartyRole,
    Severity, SubjectKind,
};
use credgate_ident::IdKind;

/// The identifier of an entry in its source system (记录编号). Opaque.
pub type EntryId = String;

/// A person whose role in a listed organisation extends its measures to
/// them, or links them to it (§5.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedParty {
    pub role: PartyRole,
    pub name: String,
    pub id_type: IdType,
    /// Normalised when `id_type` is a resident ID; as given otherwise.
    pub id_number: Option<String>,
}

/// One list record (domain brief §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub entry_id: EntryId,
    pub list: ListKind,
    pub subject_kind: SubjectKind,
    /// 主体名称, as published.
    pub name: String,
    /// The identifier, normalised: a USCC for organisations, a resident
    /// ID for persons.
    pub code: String,
    /// Old registration numbers (工商注册号, 组织机构代码, …), as given.
    pub secondary_ids: Vec<String>,
    pub category: CategoryId,
    /// 列入原因.
    pub reason: String,
    /// 认定依据.
    pub basis: String,
    /// 认定部门.
    pub authority: String,
    /// 决定文书号.
    pub document_number: String,
    /// 列入日期 (the decision date; periods count from it).
    pub listed_on: Date,
    /// 有效期至 / 公示截止期.
    pub valid_until: Option<Date>,
    /// Required on black and focus entries, absent on red ones.
    pub severity: Option<Severity>,
    pub status: EntryStatus,
    /// 移出原因, 移出日期, 移出决定机关: set once an entry has left.
    pub removal_reason: Option<String>,
    pub removed_on: Option<Date>,
    pub removal_authority: Option<String>,
    pub related: Vec<RelatedParty>,
}

/// A cross-field rule an entry breaks; `field` names the field to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RuleViolation {
    pub field: &'static str,
    pub message: String,
}

impl Entry {
    pub fn category(&self) -> &'static Category {
        Category::by_id(self.category).expect("category ids are valid")
    }

    /// The six-digit division code of the subject: USCC positions 3-8 or
    /// the first six digits of a resident ID.
    pub fn division(&self) -> Option<u32> {
        let digits = match self.subject_kind {
            SubjectKind::Organisation => self.code.get(2..8),
            SubjectKind::Person => self.code.get(0..6),
        }?;
        digits.parse().ok()
    }

    /// The identifier kind the subject kind requires.
    pub fn expected_id_kind(kind: SubjectKind) -> IdKind {
        match kind {
            SubjectKind::Organisation => IdKind::Uscc,
            SubjectKind::Person => IdKind::ResidentId,
        }
    }

    /// Checks the rules that span fields. Field-level rules (formats,
    /// identifiers, vocabularies) are enforced when the fields are parsed.
    pub fn check(&self) -> Result<(), Vec<RuleViolation>> {
        let mut out = Vec::new();
        let mut fail = |field, message: String| {
            out.push(RuleViolation { field, message })
        };
        let cat = self.category();
        if cat.list != self.list {
            fail(
                "category",
                format!(
                    "category {} belongs to the {} list, not {}",
                    cat.code, cat.list, self.list
                ),
            );
        }
        if !cat.allows(self.subject_kind) {
            fail(
                "category",
                format!(
                    "category {} does not list subjects of type {}",
                    cat.code, self.subject_kind
                ),
            );
        }
        match (self.list, self.severity) {
            (ListKind::Red, Some(s)) => fail(
                "severity",
                format!("red-list entries carry no severity (found {s})"),
            ),
            (ListKind::Black | ListKind::Focus, None) => fail(
                "severity",
                format!(
                    "required on {} entries (minor, general or serious)",
                    self.list
                ),
            ),
            _ => {}
        }
        if let Some(until) = self.valid_until {
            if until < self.listed_on {
                fail(
                    "valid_until",
                    format!("{until} is before listed_on {}", self.listed_on),
                );
            }
        }
        if let Some(removed) = self.removed_on {
            if removed < self.listed_on {
                fail(
                    "removed_on",
                    format!(
                        "{removed} is before listed_on {}",
                        self.listed_on
                    ),
                );
            }
        }
        let removed =
            matches!(self.status, EntryStatus::Exited | EntryStatus::Revoked);
        if removed && self.removed_on.is_none() {
            fail(
                "removed_on",
                format!("required when status is {}", self.status),
            );
        }
        if !removed && self.removed_on.is_some() {
            fail(
                "status",
                format!(
                    "is {} but removed_on is set (expected exited or revoked)",
                    self.status
                ),
            );
        }
        if self.subject_kind == SubjectKind::Person && !self.related.is_empty()
        {
            fail(
                "related",
                "a person subject has no legal representative, principal \
                 or controller"
                    .to_string(),
            );
        }
        if out.is_empty() { Ok(()) } else { Err(out) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            entry_id: "E1".into(),
            list: ListKind::Black,
            subject_kind: SubjectKind::Organisation,
            name: "南京恒瑞科技有限公司".into(),
            code: "91320106MA1K3BTP2E".into(),
            secondary_ids: vec![],
            category: Category::parse("court_defaulter").unwrap().id(),
            reason: "".into(),
            basis: "".into(),
            authority: "南京市中级人民法院".into(),
            document_number: "(2024)苏01执1号".into(),
            listed_on: Date::from_ymd_opt(2024, 3, 1).unwrap(),
            valid_until: Date::from_ymd_opt(2027, 3, 1),
            severity: Some(Severity::Serious),
            status: EntryStatus::Active,
            removal_reason: None,
            removed_on: None,
            removal_authority: None,
            related: vec![],
        }
    }

    /// Applies `change` to a valid entry and returns the violated fields.
    fn violations(change: impl FnOnce(&mut Entry)) -> Vec<&'static str> {
        let mut e = entry();
        change(&mut e);
        e.check().err().unwrap_or_default().iter().map(|v| v.field).collect()
    }

    #[test]
    fn cross_field_rules() {
        assert!(violations(|_| {}).is_empty());
        let d = |y, m, d| Date::from_ymd_opt(y, m, d).unwrap();
        type Change = Box<dyn FnOnce(&mut Entry)>;
        let cases: Vec<(Change, Vec<&str>)> = vec![
            (
                Box::new(|e| e.list = ListKind::Red),
                vec!["category", "severity"],
            ),
            (Box::new(|e| e.severity = None), vec!["severity"]),
            (
                Box::new(move |e| e.valid_until = Some(d(2020, 1, 1))),
                vec!["valid_until"],
            ),
            (Box::new(|e| e.status = EntryStatus::Exited), vec!["removed_on"]),
            (
                Box::new(move |e| e.removed_on = Some(d(2025, 1, 1))),
                vec!["status"],
            ),
            (
                Box::new(move |e| {
                    e.status = EntryStatus::Exited;
                    e.removed_on = Some(d(2023, 1, 1));
                }),
                vec!["removed_on"],
            ),
            (
                Box::new(|e| {
                    e.category = Category::parse("tax_a_grade").unwrap().id();
                    e.list = ListKind::Red;
                    e.severity = None;
                    e.subject_kind = SubjectKind::Person;
                }),
                vec!["category"],
            ),
        ];
        for (i, (change, want)) in cases.into_iter().enumerate() {
            assert_eq!(violations(change), want, "case {i}");
        }
    }

    #[test]
    fn division_comes_from_the_code() {
        let mut e = entry();
        assert_eq!(e.division(), Some(320106));
        e.subject_kind = SubjectKind::Person;
        e.code = "360426199101010071".into();
        assert_eq!(e.division(), Some(360426));
    }
}
