//! Whether a name hit is the subject screened, judged by identifiers.
//!
//! A name finds candidates; when the query also carries a valid USCC or
//! resident ID, the identifiers decide whether a candidate is the same
//! subject. A listed entry whose valid identifier of the same kind
//! differs is another subject: it is reported apart (`similar`) and
//! takes no part in the decision. Identity stays open — and the hit
//! keeps its `review` — where the identifiers cannot settle it. The
//! rules, with examples, are in `docs/identity.md`.

use credgate_ident::{IdKind, Validated, uscc};

/// What the identifiers say about a name hit, when the query carries a
/// valid identifier and the entry's is not that identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityCheck {
    /// The entry's valid identifier of the query's kind differs: another
    /// subject.
    IdentifierDiffers,
    /// The entry has no USCC; its organisation code (组织机构代码)
    /// differs from the one the query's USCC embeds: another subject.
    OrganisationCodeDiffers,
    /// The entry has no identifier of the query's kind to compare (an
    /// individual business screened with its operator's resident ID
    /// finds organisations, which carry a USCC).
    NoIdentifier,
    /// The entry has only an old business registration number
    /// (工商注册号, 15 digits), which a USCC replaced without embedding
    /// it: nothing to compare.
    RegistrationNumberOnly,
    /// The entry's organisation code — characters 9–17 of its USCC, or
    /// one kept as a secondary id — is the one the query's USCC embeds,
    /// though the USCCs differ: most likely the same organisation.
    OrganisationCodeAgrees,
    /// The codes differ but the names are identical after normalisation:
    /// a re-registration or a data error is worth a look. Organisations
    /// only: personal names are shared by thousands.
    SameNameOtherIdentifier,
}

impl IdentityCheck {
    /// Stable snake_case name, used by the API.
    pub fn code(self) -> &'static str {
        match self {
            IdentityCheck::IdentifierDiffers => "identifier_differs",
            IdentityCheck::OrganisationCodeDiffers => {
                "organisation_code_differs"
            }
            IdentityCheck::NoIdentifier => "no_identifier",
            IdentityCheck::RegistrationNumberOnly => {
                "registration_number_only"
            }
            IdentityCheck::OrganisationCodeAgrees => {
                "organisation_code_agrees"
            }
            IdentityCheck::SameNameOtherIdentifier => {
                "same_name_other_identifier"
            }
        }
    }

    /// Whether the entry is another subject: out of the hits and out of
    /// the decision.
    pub fn other_subject(self) -> bool {
        matches!(
            self,
            IdentityCheck::IdentifierDiffers
                | IdentityCheck::OrganisationCodeDiffers
        )
    }
}

/// The organisation code (GB 11714) a valid USCC embeds: characters
/// 9–17 (GB 32100).
pub fn embedded_org_code(uscc: &str) -> Option<&str> {
    uscc.get(8..17)
}

/// Whether a cleaned string is a valid organisation code: eight
/// characters and the GB 11714 check character.
fn is_org_code(s: &str) -> bool {
    s.len() == 9
        && s.is_ascii()
        && uscc::org_check_char(&s[..8]) == s[8..].chars().next()
}

/// Whether a cleaned string has the shape of a business registration
/// number (工商注册号: 15 digits).
fn is_registration_number(s: &str) -> bool {
    s.len() == 15 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Judges a name hit: `query` is the query's valid identifier,
/// `entry_code` and `entry_secondary` (';'-separated, as stored) what
/// the entry carries, `same_name` whether the names are identical after
/// normalisation, `organisation` whether the entry is one. `None` when
/// the entry carries the query's identifier itself (the same subject).
pub fn judge(
    query: &Validated,
    entry_code: &str,
    entry_secondary: &str,
    same_name: bool,
    organisation: bool,
) -> Option<IdentityCheck> {
    use IdentityCheck::*;
    let same_name = same_name && organisation;
    let uscc = query.kind == IdKind::Uscc;
    let query_org = embedded_org_code(&query.normalized).filter(|_| uscc);
    let secondary: Vec<String> = entry_secondary
        .split(';')
        .map(credgate_ident::clean)
        .filter(|s| !s.is_empty())
        .collect();
    let org_codes = || secondary.iter().filter(|s| is_org_code(s));
    let org_agrees = |own: Option<&str>| {
        query_org.is_some_and(|q| {
            own == Some(q) || org_codes().any(|s| s.as_str() == q)
        })
    };
    match credgate_ident::validate_as(entry_code, query.kind) {
        Ok(e) if e.normalized == query.normalized => None,
        Ok(e) => Some(if org_agrees(embedded_org_code(&e.normalized)) {
            OrganisationCodeAgrees
        } else if same_name {
            SameNameOtherIdentifier
        } else {
            IdentifierDiffers
        }),
        Err(_) if !uscc => Some(NoIdentifier),
        Err(_) => Some(if org_agrees(None) {
            OrganisationCodeAgrees
        } else if org_codes().next().is_some() {
            if same_name {
                SameNameOtherIdentifier
            } else {
                OrganisationCodeDiffers
            }
        } else if secondary.iter().any(|s| is_registration_number(s)) {
            RegistrationNumberOnly
        } else {
            NoIdentifier
        }),
    }
}
