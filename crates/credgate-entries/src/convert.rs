//! From the text of a row to a validated [`Entry`], and back.

use crate::columns::{COLUMNS, Col};
use crate::error::FieldError;
use credgate_ident::{IdKind, validate_as};
use credgate_model::{
    Category, Date, Entry, EntryStatus, IdType, ListKind, PartyRole,
    RelatedParty, Severity, SubjectKind,
};

/// Longest accepted text field, in characters.
const MAX_TEXT_CHARS: usize = 2000;
/// Longest accepted entry id.
const MAX_ID_CHARS: usize = 64;

/// The text of one row, by column, before validation. Related parties can
/// come as flat columns or (JSON Lines) as a list.
#[derive(Debug, Default, Clone)]
pub struct RawRow {
    pub fields: Vec<Option<String>>,
    pub related: Vec<RawParty>,
}

/// A related party as written in the file.
#[derive(Debug, Default, Clone)]
pub struct RawParty {
    pub role: String,
    pub name: String,
    pub id_type: String,
    pub id_number: String,
}

impl RawRow {
    pub fn new() -> RawRow {
        RawRow { fields: vec![None; COLUMNS.len()], related: Vec::new() }
    }

    pub fn get(&self, col: Col) -> &str {
        self.fields[col as usize].as_deref().map(str::trim).unwrap_or("")
    }
}

/// Collects every problem of a row instead of stopping at the first, so
/// that one pass over a file reports all it needs fixing.
struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    fn fail(&mut self, col: Col, message: impl Into<String>) {
        self.errors.push(FieldError {
            column: col.name().to_string(),
            message: message.into(),
        });
    }

    fn required<'a>(&mut self, row: &'a RawRow, col: Col) -> Option<&'a str> {
        let v = row.get(col);
        if v.is_empty() {
            self.fail(col, "required, but empty");
            return None;
        }
        self.text(col, v)
    }

    fn text<'a>(&mut self, col: Col, v: &'a str) -> Option<&'a str> {
        let limit =
            if col == Col::EntryId { MAX_ID_CHARS } else { MAX_TEXT_CHARS };
        if v.chars().count() > limit {
            self.fail(col, format!("longer than {limit} characters"));
            return None;
        }
        if let Some(c) = v.chars().find(|c| c.is_control() && *c != '\n') {
            self.fail(
                col,
                format!("contains control character U+{:04X}", c as u32),
            );
            return None;
        }
        Some(v)
    }

    fn optional(&mut self, row: &RawRow, col: Col) -> Option<String> {
        let v = row.get(col);
        if v.is_empty() {
            return None;
        }
        self.text(col, v).map(str::to_string)
    }

    fn vocab<T, E: std::fmt::Display>(
        &mut self,
        col: Col,
        v: Option<&str>,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(v?) {
            Ok(t) => Some(t),
            Err(e) => {
                self.fail(col, e.to_string());
                None
            }
        }
    }

    fn date(&mut self, col: Col, v: &str) -> Option<Date> {
        match parse_date(v) {
            Some(d) => Some(d),
            None => {
                self.fail(
                    col,
                    format!(
                        "'{v}' is not a date (expected YYYY-MM-DD, \
                         YYYY/MM/DD, YYYYMMDD or YYYY年M月D日)"
                    ),
                );
                None
            }
        }
    }
}

/// Parses the date spellings found in government exports.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    // Fast path for the canonical YYYY-MM-DD, which credgate writes.
    let b = s.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let t = &s[r];
            t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
        };
        if let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10))
        {
            return Date::from_ymd_opt(y as i32, m, d);
        }
    }
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日"]
    {
        if let Ok(d) = Date::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    // Exports from spreadsheets often append a midnight time.
    let date_part = s.split([' ', 'T']).next()?;
    if date_part.len() < s.len() {
        return parse_date(date_part);
    }
    None
}

/// Validates a row and builds the entry, or returns every problem found.
pub fn to_entry(row: &RawRow) -> Result<Entry, Vec<FieldError>> {
    let mut c = Checker { errors: Vec::new() };
    let entry_id = c.required(row, Col::EntryId).map(str::to_string);
    let v = c.required(row, Col::List);
    let list = c.vocab(Col::List, v, ListKind::parse);
    let v = c.required(row, Col::SubjectType);
    let kind = c.vocab(Col::SubjectType, v, SubjectKind::parse);
    let name = c.required(row, Col::Name).map(str::to_string);
    let code_raw = c.required(row, Col::Code);
    let code = match (code_raw, kind) {
        (Some(raw), Some(kind)) => {
            match validate_as(raw, Entry::expected_id_kind(kind)) {
                Ok(v) => Some(v.normalized),
                Err(e) => {
                    c.fail(
                        Col::Code,
                        format!(
                            "'{raw}' is not a valid {} for a {kind} subject: {e}",
                            Entry::expected_id_kind(kind)
                        ),
                    );
                    None
                }
            }
        }
        _ => None,
    };
    let secondary_ids = c
        .optional(row, Col::SecondaryIds)
        .map(|s| {
            s.split([';', '；', '|'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let v = c.required(row, Col::Category);
    let category = c.vocab(Col::Category, v, Category::parse);
    let reason = c.optional(row, Col::Reason).unwrap_or_default();
    let basis = c.optional(row, Col::Basis).unwrap_or_default();
    let authority = c.required(row, Col::Authority).map(str::to_string);
    let document_number =
        c.required(row, Col::DocumentNumber).map(str::to_string);
    let listed_on =
        c.required(row, Col::ListedOn).and_then(|v| c.date(Col::ListedOn, v));
    let valid_until = c
        .optional(row, Col::ValidUntil)
        .and_then(|v| c.date(Col::ValidUntil, &v).map(Some))
        .unwrap_or(None);
    let severity = c
        .optional(row, Col::Severity)
        .and_then(|v| c.vocab(Col::Severity, Some(&v), Severity::parse));
    let status = match c.optional(row, Col::Status) {
        None => Some(EntryStatus::Active),
        Some(v) => c.vocab(Col::Status, Some(&v), EntryStatus::parse),
    };
    let removal_reason = c.optional(row, Col::RemovalReason);
    let removed_on = c
        .optional(row, Col::RemovedOn)
        .and_then(|v| c.date(Col::RemovedOn, &v));
    let removal_authority = c.optional(row, Col::RemovalAuthority);
    let related = related_parties(&mut c, row);

    let (
        Some(entry_id),
        Some(list),
        Some(subject_kind),
        Some(name),
        Some(code),
        Some(category),
        Some(authority),
        Some(document_number),
        Some(listed_on),
        Some(status),
    ) = (
        entry_id,
        list,
        kind,
        name,
        code,
        category,
        authority,
        document_number,
        listed_on,
        status,
    )
    else {
        return Err(c.errors);
    };
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let entry = Entry {
        entry_id,
        list,
        subject_kind,
        name,
        code,
        secondary_ids,
        category: category.id(),
        reason,
        basis,
        authority,
        document_number,
        listed_on,
        valid_until,
        severity,
        status,
        removal_reason,
        removed_on,
        removal_authority,
        related,
    };
    entry.check().map_err(|violations| {
        violations.into_iter().map(FieldError::from).collect::<Vec<_>>()
    })?;
    Ok(entry)
}

/// Reads related parties from the flat columns and the JSON list.
fn related_parties(c: &mut Checker, row: &RawRow) -> Vec<RelatedParty> {
    let mut raw: Vec<(Col, RawParty)> = Vec::new();
    for (role, name_col, type_col, num_col) in [
        (
            PartyRole::LegalRepresentative,
            Col::LegalRepName,
            Some(Col::LegalRepIdType),
            Col::LegalRepIdNumber,
        ),
        (
            PartyRole::Principal,
            Col::PrincipalName,
            None,
            Col::PrincipalIdNumber,
        ),
        (
            PartyRole::ActualController,
            Col::ControllerName,
            None,
            Col::ControllerIdNumber,
        ),
    ] {
        let name = row.get(name_col);
        let number = row.get(num_col);
        if name.is_empty() && number.is_empty() {
            continue;
        }
        if name.is_empty() {
            c.fail(
                name_col,
                format!("required when {} is given", num_col.name()),
            );
            continue;
        }
        raw.push((
            num_col,
            RawParty {
                role: role.code().to_string(),
                name: name.to_string(),
                id_type: type_col
                    .map(|t| row.get(t))
                    .unwrap_or("")
                    .to_string(),
                id_number: number.to_string(),
            },
        ));
    }
    raw.extend(row.related.iter().map(|p| (Col::LegalRepIdNumber, p.clone())));

    let mut out = Vec::new();
    for (num_col, p) in raw {
        let Some(role) = c.vocab(num_col, Some(&p.role), PartyRole::parse)
        else {
            continue;
        };
        let id_type = if p.id_type.trim().is_empty() {
            IdType::ResidentId
        } else {
            match IdType::parse(&p.id_type) {
                Ok(t) => t,
                Err(e) => {
                    c.fail(num_col, e.to_string());
                    continue;
                }
            }
        };
        let id_number = match (p.id_number.trim(), id_type) {
            ("", _) => None,
            (n, IdType::ResidentId) => {
                match validate_as(n, IdKind::ResidentId) {
                    Ok(v) => Some(v.normalized),
                    Err(e) => {
                        c.fail(
                            num_col,
                            format!(
                                "{role} '{n}' is not a valid resident ID: {e}"
                            ),
                        );
                        continue;
                    }
                }
            }
            (n, _) => Some(n.to_string()),
        };
        out.push(RelatedParty {
            role,
            name: p.name.trim().to_string(),
            id_type,
            id_number,
        });
    }
    out
}

/// The text of an entry by column, for writing.
pub fn from_entry(e: &Entry) -> RawRow {
    let mut row = RawRow::new();
    let date = |d: Option<Date>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let mut put = |col: Col, v: Option<String>| {
        row.fields[col as usize] = v;
    };
    put(Col::EntryId, Some(e.entry_id.clone()));
    put(Col::List, Some(e.list.code().into()));
    put(Col::SubjectType, Some(e.subject_kind.code().into()));
    put(Col::Name, Some(e.name.clone()));
    put(Col::Code, Some(e.code.clone()));
    put(
        Col::SecondaryIds,
        (!e.secondary_ids.is_empty()).then(|| e.secondary_ids.join(";")),
    );
    put(Col::Category, Some(e.category().code.into()));
    put(Col::Reason, Some(e.reason.clone()));
    put(Col::Basis, Some(e.basis.clone()));
    put(Col::Authority, Some(e.authority.clone()));
    put(Col::DocumentNumber, Some(e.document_number.clone()));
    put(Col::ListedOn, date(Some(e.listed_on)));
    put(Col::ValidUntil, date(e.valid_until));
    put(Col::Severity, e.severity.map(|s| s.code().into()));
    put(Col::Status, Some(e.status.code().into()));
    put(Col::RemovalReason, e.removal_reason.clone());
    put(Col::RemovedOn, date(e.removed_on));
    put(Col::RemovalAuthority, e.removal_authority.clone());
    for p in &e.related {
        let (name, num) = match p.role {
            PartyRole::LegalRepresentative => {
                put(Col::LegalRepIdType, Some(p.id_type.code().into()));
                (Col::LegalRepName, Col::LegalRepIdNumber)
            }
            PartyRole::Principal => {
                (Col::PrincipalName, Col::PrincipalIdNumber)
            }
            PartyRole::ActualController => {
                (Col::ControllerName, Col::ControllerIdNumber)
            }
        };
        put(name, Some(p.name.clone()));
        put(num, p.id_number.clone());
    }
    row
}
