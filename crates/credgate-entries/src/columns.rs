//! The columns of the entries file. `docs/formats.md` documents them; a
//! test checks that the document lists every column here.

/// One column: its English name (the canonical header and JSON key), the
/// Chinese headers government exports use, and whether it must exist.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

const fn col(
    name: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> Column {
    Column { name, aliases, required }
}

/// Position of each column in [`COLUMNS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Col {
    EntryId,
    List,
    SubjectType,
    Name,
    Code,
    SecondaryIds,
    Category,
    Reason,
    Basis,
    Authority,
    DocumentNumber,
    ListedOn,
    ValidUntil,
    Severity,
    Status,
    RemovalReason,
    RemovedOn,
    RemovalAuthority,
    LegalRepName,
    LegalRepIdType,
    LegalRepIdNumber,
    PrincipalName,
    PrincipalIdNumber,
    ControllerName,
    ControllerIdNumber,
}

pub const COLUMNS: &[Column] = &[
    col("entry_id", &["记录编号", "编号"], true),
    col("list", &["名单类型", "名单"], true),
    col("subject_type", &["主体类型", "主体类别", "行政相对人类别"], true),
    col("name", &["主体名称", "行政相对人名称"], true),
    col(
        "code",
        &["统一社会信用代码", "统一社会信用代码/证件号码", "证件号码"],
        true,
    ),
    col("secondary_ids", &["其他证照号码", "工商注册号"], false),
    col("category", &["名单类别"], true),
    col("reason", &["列入原因"], false),
    col("basis", &["认定依据"], false),
    col("authority", &["认定部门"], true),
    col("document_number", &["决定文书号", "行政处罚决定书文号"], true),
    col("listed_on", &["列入日期"], true),
    col("valid_until", &["有效期至", "公示截止期"], false),
    col("severity", &["失信程度", "严重程度"], false),
    col("status", &["状态"], false),
    col("removal_reason", &["移出原因"], false),
    col("removed_on", &["移出日期"], false),
    col("removal_authority", &["移出决定机关"], false),
    col("legal_rep_name", &["法定代表人"], false),
    col("legal_rep_id_type", &["法定代表人证件类型", "证件类型"], false),
    col("legal_rep_id_number", &["法定代表人证件号码"], false),
    col("principal_name", &["主要负责人"], false),
    col("principal_id_number", &["主要负责人证件号码"], false),
    col("controller_name", &["实际控制人"], false),
    col("controller_id_number", &["实际控制人证件号码"], false),
];

impl Col {
    pub fn name(self) -> &'static str {
        COLUMNS[self as usize].name
    }
}

/// Finds the column a header names (English, case-insensitive, or one of
/// the Chinese aliases). Surrounding spaces and a BOM are ignored.
pub fn lookup(header: &str) -> Option<usize> {
    let h = header.trim().trim_start_matches('\u{FEFF}');
    COLUMNS
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(h) || c.aliases.contains(&h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn col_enum_matches_table() {
        assert_eq!(COLUMNS.len(), Col::ControllerIdNumber as usize + 1);
        assert_eq!(Col::Code.name(), "code");
        assert_eq!(Col::ControllerIdNumber.name(), "controller_id_number");
        assert_eq!(Col::ListedOn.name(), "listed_on");
    }

    #[test]
    fn headers_are_unambiguous() {
        let mut seen = std::collections::HashSet::new();
        for c in COLUMNS {
            assert!(seen.insert(c.name.to_lowercase()), "{}", c.name);
            for a in c.aliases {
                assert!(seen.insert(a.to_string()), "{a}");
            }
        }
    }
}

#[cfg(test)]
mod doc_tests {
    /// docs/formats.md must document every column and alias.
    #[test]
    fn formats_doc_lists_every_column() {
        let doc = include_str!("../../../docs/formats.md");
        for c in super::COLUMNS {
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", c.name)))
                .unwrap_or_else(|| panic!("{} not documented", c.name));
            for alias in c.aliases {
                assert!(row.contains(alias), "{alias} missing for {}", c.name);
            }
        }
    }
}
