//! Which columns of a bidder list hold the name, the code, the legal
//! representative and his ID number: the header spellings that officers'
//! files really have, overrides by header text or position, and the
//! columns that look like one of these but were not used (a column
//! ignored without a word once let a listed legal representative through
//! as `clear`).
//!
//! Headers are compared after [`normalise`] (BOM, spaces, full-width
//! forms, case, brackets, required-field stars), so `法定代表人（负责人）`,
//! `* 企业名称` and `Company Name` are found as written.

use crate::{BulkError, clip};

/// What a column is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Name,
    Code,
    RepName,
    RepCode,
}

impl Role {
    pub const ALL: [Role; 4] =
        [Role::Name, Role::Code, Role::RepName, Role::RepCode];

    /// Stable key, as in the API's `X-Credgate-Columns` header.
    pub fn key(self) -> &'static str {
        match self {
            Role::Name => "name",
            Role::Code => "code",
            Role::RepName => "legal_rep_name",
            Role::RepCode => "legal_rep_code",
        }
    }

    /// What a person calls it, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Name => "name",
            Role::Code => "code (USCC or ID number)",
            Role::RepName => "legal representative",
            Role::RepCode => "legal representative's ID number",
        }
    }

    /// The header spellings recognised, compared after [`normalise`].
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Role::Name => NAME,
            Role::Code => CODE,
            Role::RepName => REP_NAME,
            Role::RepCode => REP_CODE,
        }
    }
}

/// Accepted headers of the name column.
pub const NAME: &[&str] = &[
    "name",
    "名称",
    "主体名称",
    "单位名称",
    "企业名称",
    "公司名称",
    "机构名称",
    "组织名称",
    "市场主体名称",
    "企业(机构)名称",
    "投标单位",
    "投标单位名称",
    "投标人",
    "投标人名称",
    "投标企业",
    "投标企业名称",
    "供应商",
    "供应商名称",
    "申请人名称",
    "申请单位",
    "当事人名称",
    "姓名/名称",
    "名称/姓名",
    "company",
    "company name",
    "entity name",
    "organisation name",
    "organization name",
    "bidder",
    "bidder name",
    "supplier",
    "supplier name",
    "subject name",
];

/// Accepted headers of the code column (USCC or resident ID).
pub const CODE: &[&str] = &[
    "code",
    "统一社会信用代码",
    "社会信用代码",
    "信用代码",
    "统一代码",
    "证件号码",
    "证件号",
    "证照号码",
    "身份证号",
    "身份证号码",
    "统一社会信用代码/证件号码",
    "统一社会信用代码/身份证号",
    "统一社会信用代码/身份证号码",
    "组织机构代码",
    "注册号",
    "uscc",
    "credit code",
    "unified social credit code",
    "id number",
    "id no",
];

/// Accepted headers of the legal representative's name.
pub const REP_NAME: &[&str] = &[
    "legal_rep_name",
    "法定代表人",
    "法定代表人姓名",
    "法人",
    "法人代表",
    "法人姓名",
    "法人代表姓名",
    "法定代表人/负责人",
    "法定代表人或负责人",
    "法定代表人(负责人)",
    "负责人",
    "legal representative",
    "legal rep",
];

/// Accepted headers of the legal representative's ID number.
pub const REP_CODE: &[&str] = &[
    "legal_rep_code",
    "legal_rep_id_number",
    "法定代表人证件号码",
    "法定代表人证件号",
    "法定代表人身份证",
    "法定代表人身份证号",
    "法定代表人身份证号码",
    "法定代表人(负责人)身份证号",
    "法定代表人(负责人)证件号码",
    "法人身份证",
    "法人身份证号",
    "法人身份证号码",
    "法人证件号码",
    "法人代表身份证号",
    "法人代表身份证号码",
    "负责人身份证号",
    "负责人证件号码",
    "legal representative id",
    "legal rep id",
];

/// A header as compared: BOM and surrounding spaces gone, full-width
/// forms made half-width, lower case, and spaces, underscores, dashes,
/// stars and colons removed (`* 企业名称：` is `企业名称`). Brackets are
/// kept, unified to `(` `)`; see [`Headers`] for how they are matched.
pub fn normalise(h: &str) -> String {
    h.chars()
        .map(|c| match c {
            // Full-width ASCII forms and the ideographic space.
            '\u{FF01}'..='\u{FF5E}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '\u{3000}' => ' ',
            '【' | '〔' | '[' | '{' | '<' | '《' => '(',
            '】' | '〕' | ']' | '}' | '>' | '》' => ')',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| {
            !(c.is_whitespace()
                || matches!(c, '_' | '-' | '*' | ':' | '\u{FEFF}' | '·'))
        })
        .collect()
}

/// `h` (normalised) with its brackets dropped, their content kept
/// (`法定代表人(身份证号)` → `法定代表人身份证号`), and with the brackets'
/// content dropped too (`名称(必填)` → `名称`).
fn forms(h: &str) -> (String, String) {
    let keep = h.chars().filter(|c| !matches!(c, '(' | ')')).collect();
    let mut strip = String::new();
    let mut depth = 0u32;
    for c in h.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => strip.push(c),
            _ => {}
        }
    }
    (keep, strip)
}

fn alias_forms(role: Role) -> impl Iterator<Item = String> {
    role.aliases().iter().map(|a| forms(&normalise(a)).0)
}

/// The role whose spelling `header` is: first with the brackets' content
/// kept, then without it, so that `法定代表人(身份证号)` is the ID number
/// and `名称(必填)` the name.
pub fn role_of(header: &str) -> Option<Role> {
    let (keep, strip) = forms(&normalise(header));
    [keep, strip].into_iter().filter(|f| !f.is_empty()).find_map(|f| {
        Role::ALL.into_iter().find(|r| alias_forms(*r).any(|a| a == f))
    })
}

/// A column chosen by the user: its header text or its 1-based position
/// among the header's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    Index(usize),
    Header(String),
}

impl ColumnRef {
    /// Digits are a position (from 1), anything else a header.
    pub fn parse(s: &str) -> ColumnRef {
        let t = s.trim();
        match t.parse::<usize>() {
            Ok(i)
                if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) =>
            {
                ColumnRef::Index(i)
            }
            _ => ColumnRef::Header(t.to_string()),
        }
    }

    fn resolve(
        &self,
        role: Role,
        headers: &[String],
    ) -> Result<usize, BulkError> {
        match self {
            ColumnRef::Index(i) if *i >= 1 && *i <= headers.len() => Ok(i - 1),
            ColumnRef::Index(i) => Err(BulkError::Column(format!(
                "{} column {i}: the header has {} columns (counted from 1)",
                role.key(),
                headers.len()
            ))),
            ColumnRef::Header(h) => {
                let want = forms(&normalise(h)).0;
                headers
                    .iter()
                    .position(|x| forms(&normalise(x)).0 == want)
                    .ok_or_else(|| {
                        BulkError::Column(format!(
                            "{} column '{}': no such header; found {}",
                            role.key(),
                            clip(h),
                            clip(&headers.join(", "))
                        ))
                    })
            }
        }
    }
}

/// Columns chosen by the user, overriding detection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnOverrides {
    pub name: Option<ColumnRef>,
    pub code: Option<ColumnRef>,
    pub rep_name: Option<ColumnRef>,
    pub rep_code: Option<ColumnRef>,
}

impl ColumnOverrides {
    pub fn get(&self, role: Role) -> Option<&ColumnRef> {
        match role {
            Role::Name => self.name.as_ref(),
            Role::Code => self.code.as_ref(),
            Role::RepName => self.rep_name.as_ref(),
            Role::RepCode => self.rep_code.as_ref(),
        }
    }

    fn any_index(&self) -> bool {
        Role::ALL
            .into_iter()
            .filter(|r| matches!(r, Role::Name | Role::Code))
            .any(|r| matches!(self.get(r), Some(ColumnRef::Index(_))))
    }
}

/// Where the columns are (0-based positions among the header's cells).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub name: Option<usize>,
    pub code: Option<usize>,
    pub rep_name: Option<usize>,
    pub rep_code: Option<usize>,
}

impl Columns {
    pub fn get(&self, role: Role) -> Option<usize> {
        match role {
            Role::Name => self.name,
            Role::Code => self.code,
            Role::RepName => self.rep_name,
            Role::RepCode => self.rep_code,
        }
    }

    fn set(&mut self, role: Role, i: Option<usize>) {
        match role {
            Role::Name => self.name = i,
            Role::Code => self.code = i,
            Role::RepName => self.rep_name = i,
            Role::RepCode => self.rep_code = i,
        }
    }

    /// Finds the columns by their headers alone; a file with neither a
    /// name nor a code column is refused, naming what was expected and
    /// what was found.
    pub fn detect(headers: &[String]) -> Result<Columns, BulkError> {
        Columns::choose(headers, &ColumnOverrides::default())
    }

    /// The columns of `headers`: the overridden ones where given, the
    /// first header of each role's spellings otherwise (a column chosen
    /// for one role is not detected for another).
    pub fn choose(
        headers: &[String],
        overrides: &ColumnOverrides,
    ) -> Result<Columns, BulkError> {
        let mut cols = Columns::default();
        for role in Role::ALL {
            if let Some(r) = overrides.get(role) {
                let i = r.resolve(role, headers)?;
                if let Some(other) =
                    Role::ALL.into_iter().find(|o| cols.get(*o) == Some(i))
                {
                    return Err(BulkError::Column(format!(
                        "{} column and {} column are both column {} ({})",
                        other.key(),
                        role.key(),
                        i + 1,
                        clip(&headers[i])
                    )));
                }
                cols.set(role, Some(i));
            }
        }
        let roles: Vec<Option<Role>> =
            headers.iter().map(|h| role_of(h)).collect();
        for role in Role::ALL {
            if overrides.get(role).is_some() {
                continue;
            }
            let taken =
                |i: usize| Role::ALL.iter().any(|o| cols.get(*o) == Some(i));
            let found = (0..headers.len())
                .find(|&i| roles[i] == Some(role) && !taken(i));
            cols.set(role, found);
        }
        if cols.name.is_none() && cols.code.is_none() {
            // The header is input: echo a bounded part of it.
            return Err(BulkError::Header(format!(
                "no name column ({}) and no code column ({}); found {}",
                NAME[..6].join(", ") + ", …",
                CODE[..6].join(", ") + ", …",
                clip(&headers.join(", "))
            )));
        }
        Ok(cols)
    }

    /// Whether `headers` is a header row: it has a name or code column
    /// (or holds the headers the user named).
    pub(crate) fn is_header(
        headers: &[String],
        overrides: &ColumnOverrides,
    ) -> bool {
        let named = Role::ALL
            .into_iter()
            .any(|r| matches!(overrides.get(r), Some(ColumnRef::Header(_))));
        let ok = Columns::choose(headers, overrides).is_ok();
        if named || !overrides.any_index() {
            return ok;
        }
        // Chosen by position only: the first row with a value is the
        // header unless a later one is recognisable.
        ok && headers.iter().any(|h| role_of(h).is_some())
    }

    pub(crate) fn has_reps(&self) -> bool {
        self.rep_name.is_some() || self.rep_code.is_some()
    }

    /// The columns used, by role: (role, position, header).
    pub fn used<'h>(
        &self,
        headers: &'h [String],
    ) -> Vec<(Role, usize, &'h str)> {
        Role::ALL
            .into_iter()
            .filter_map(|r| {
                let i = self.get(r)?;
                Some((r, i, headers.get(i).map_or("", String::as_str)))
            })
            .collect()
    }
}

/// A column that was not used though it looks like a name or an
/// identifier: its header says so, or its first values are valid codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusedColumn {
    /// 0-based position among the header's cells.
    pub index: usize,
    pub header: String,
    pub reason: String,
}

impl std::fmt::Display for UnusedColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column {} '{}' was not used, but {}; choose it with a column \
             option if it should be screened",
            self.index + 1,
            clip(&self.header),
            self.reason
        )
    }
}

/// Header words of a name or an identifier column.
const NAME_WORDS: &[&str] = &[
    "名称",
    "名字",
    "姓名",
    "单位",
    "企业",
    "公司",
    "供应商",
    "投标",
    "主体",
    "法人",
    "法定代表人",
    "负责人",
    "name",
    "company",
    "bidder",
    "supplier",
];
const ID_WORDS: &[&str] = &[
    "代码",
    "证件",
    "身份证",
    "号码",
    "证号",
    "注册号",
    "执照",
    "信用",
    "code",
    "id",
    "uscc",
];
/// Words of columns that are numbers of another kind (phone, account).
const OTHER_WORDS: &[&str] =
    &["电话", "手机", "传真", "邮编", "邮箱", "账号", "帐号", "银行", "序号"];

/// Rows whose values are sampled for [`unused_columns`].
pub const SAMPLE_ROWS: usize = 20;

/// Counts, per column, the cells of `fields` that validate as a USCC or
/// resident ID (a sample row, read one at a time).
pub(crate) fn count_codes(counts: &mut Vec<usize>, fields: &[String]) {
    if counts.len() < fields.len() {
        counts.resize(fields.len(), 0);
    }
    for (n, f) in counts.iter_mut().zip(fields) {
        let f = f.trim();
        // A code is 15 to 18 characters; longer cells are not tried.
        if f.len() <= 24 && credgate_ident::validate(f).is_ok() {
            *n += 1;
        }
    }
}

/// Columns not in `cols` that look like names or identifiers by their
/// header, or with valid codes in the sampled rows (`codes`, from
/// [`count_codes`]).
pub fn unused_columns(
    headers: &[String],
    cols: &Columns,
    codes: &[usize],
) -> Vec<UnusedColumn> {
    let used: Vec<usize> =
        Role::ALL.into_iter().filter_map(|r| cols.get(r)).collect();
    let mut out = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if used.contains(&i) {
            continue;
        }
        let n = normalise(h);
        let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
        let reason = if let Some(role) = role_of(h) {
            Some(format!(
                "its header is a {} column's (one is used already)",
                role.describe()
            ))
        } else if has(OTHER_WORDS) {
            None
        } else if has(ID_WORDS) {
            Some("its header looks like an identifier's".to_string())
        } else if has(NAME_WORDS) {
            Some("its header looks like a name's".to_string())
        } else {
            None
        };
        let reason = reason.or_else(|| {
            let valid = codes.get(i).copied().unwrap_or(0);
            (valid > 0).then(|| {
                format!(
                    "{valid} of its first values are valid USCC or resident \
                     ID numbers"
                )
            })
        });
        if let Some(reason) = reason {
            out.push(UnusedColumn { index: i, header: h.clone(), reason });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(header: &str, want: Option<Role>) {
        assert_eq!(role_of(header), want, "{header}");
    }

    #[test]
    fn header_spellings() {
        use Role::*;
        for h in [
            "名称",
            "单位名称",
            "企业名称",
            "公司名称",
            "投标单位",
            "投标人名称",
            "供应商名称",
            "主体名称",
            "name",
            "Company",
            "Company Name",
            " 企业名称 ",
            "*企业名称",
            "企业名称（必填）",
            "ＮＡＭＥ",
            "\u{FEFF}name",
            "企业（机构）名称",
            "supplier_name",
        ] {
            check(h, Some(Name));
        }
        for h in [
            "统一社会信用代码",
            "信用代码",
            "证件号码",
            "身份证号",
            "CODE",
            "统一社会信用代码（身份证号）",
            "USCC",
            "统一社会信用代码/证件号码",
        ] {
            check(h, Some(Code));
        }
        for h in
            ["法定代表人", "法人", "法定代表人姓名", "法定代表人（负责人）"]
        {
            check(h, Some(RepName));
        }
        for h in [
            "法定代表人身份证号",
            "法定代表人证件号码",
            "法人身份证号",
            "法定代表人(身份证号)",
            "法定代表人（负责人）身份证号",
            "legal_rep_code",
            "Legal Rep ID",
        ] {
            check(h, Some(RepCode));
        }
        for h in ["序号", "联系电话", "2026年某项目投标人名单", "", "备注"]
        {
            check(h, None);
        }
    }

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn overrides_by_header_or_position() {
        let h = headers(&["序号", "单位", "代码", "联系人"]);
        assert!(Columns::detect(&h).is_err());
        let o = ColumnOverrides {
            name: Some(ColumnRef::parse("单位")),
            code: Some(ColumnRef::parse("3")),
            ..Default::default()
        };
        let c = Columns::choose(&h, &o).unwrap();
        assert_eq!((c.name, c.code), (Some(1), Some(2)));
        let bad = ColumnOverrides {
            code: Some(ColumnRef::parse("9")),
            ..Default::default()
        };
        let e = Columns::choose(&h, &bad).unwrap_err().to_string();
        assert!(e.contains("code column 9: the header has 4 columns"), "{e}");
        let same = ColumnOverrides {
            name: Some(ColumnRef::parse("2")),
            code: Some(ColumnRef::parse("单位")),
            ..Default::default()
        };
        let e = Columns::choose(&h, &same).unwrap_err().to_string();
        assert!(e.contains("both column 2"), "{e}");
    }

    #[test]
    fn unused_look_alikes_are_named() {
        let h = headers(&[
            "名称",
            "企业名称",
            "联系电话",
            "营业执照号",
            "备注",
            "序号",
        ]);
        let c = Columns::detect(&h).unwrap();
        let mut codes = Vec::new();
        let row = headers(&[
            "甲",
            "乙",
            "13800000000",
            "x",
            "91350100M000100Y43",
            "1",
        ]);
        count_codes(&mut codes, &row);
        let u = unused_columns(&h, &c, &codes);
        let idx: Vec<usize> = u.iter().map(|u| u.index).collect();
        assert_eq!(idx, [1, 3, 4], "{u:?}");
        assert!(u[2].reason.contains("valid USCC"), "{u:?}");
    }
}
