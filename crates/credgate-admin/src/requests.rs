//! The inputs of the service's transitions, as HTTP bodies and CLI JSON
//! files give them (`docs/api.md`, "Admin"). Codes are the stable
//! snake_case ones (`black`, `court_defaulter`, `serious`); dates are
//! `YYYY-MM-DD` China dates. Unknown fields are refused, so a mistyped
//! field is an error naming it rather than a silent default.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The longest free text (reasons, basis, statements, decisions).
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The longest name, identifier, document number or code.
pub const MAX_SHORT_CHARS: usize = 200;
/// Most items in a list field (scenarios, related parties, ids).
pub const MAX_ITEMS: usize = 50;

/// The subject of a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectInput {
    /// `organisation` or `person`.
    pub kind: String,
    /// 主体名称.
    pub name: String,
    /// USCC for organisations, resident ID number for persons.
    pub code: String,
    #[serde(default)]
    pub secondary_ids: Vec<String>,
    /// Legal representative, principal, actual controller.
    #[serde(default)]
    pub related: Vec<PartyInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartyInput {
    /// `legal_representative`, `principal` or `actual_controller`.
    pub role: String,
    pub name: String,
    /// `resident_id` (default), `passport`, `hk_macao_permit`,
    /// `taiwan_permit`, `other`.
    #[serde(default)]
    pub id_type: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
}

/// 告知: propose an entry (→ `noticed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    /// 记录编号; made up (`<department>-<date>-<random>`) when absent.
    #[serde(default)]
    pub entry_id: Option<String>,
    pub subject: SubjectInput,
    /// `black`, `focus` or `red`: the list intended (designation may
    /// change it).
    pub list: String,
    /// Category code (`court_defaulter`, …).
    pub category: String,
    /// 列入原因.
    pub reasons: String,
    /// 认定依据: a law, regulation or State Council document.
    pub basis: String,
    /// The rights the subject was told of (陈述申辩, 复议, 诉讼).
    pub rights: String,
    /// Working days for the statement (default 5).
    #[serde(default)]
    pub statement_days: Option<u32>,
    /// 认定机关 as published (the department's full name).
    pub authority: String,
}

/// 陈述申辩.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementRequest {
    pub text: String,
    pub received_on: NaiveDate,
}

/// 认定: the decision (→ `designated`); also the body of a correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignateRequest {
    pub decided_on: NaiveDate,
    pub document_number: String,
    pub list: String,
    pub category: String,
    /// `minor`, `general` or `serious`; none on the red list.
    #[serde(default)]
    pub severity: Option<String>,
    /// Scenario codes of the measures catalogue
    /// (`government_procurement`, …).
    pub scenarios: Vec<String>,
    /// Red list only.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
}

/// 限期整改.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationRequest {
    pub deadline: NaiveDate,
}

/// 约谈 after a missed rectification deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterviewRequest {
    /// `reminder` (提示约谈) or `warning` (警示约谈).
    pub kind: String,
    pub held_on: NaiveDate,
    #[serde(default)]
    pub note: String,
}

/// 市场和行业禁入: `until` a date, or `permanent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// What the subject may not enter (market, industry, profession).
    pub scope: String,
    #[serde(default)]
    pub until: Option<NaiveDate>,
    #[serde(default)]
    pub permanent: bool,
}

/// 异议 (→ `disputed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    pub applicant: String,
    pub grounds: String,
    pub received_on: NaiveDate,
}

/// A reviewer's decision upholding the entry (→ `published`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpholdRequest {
    /// The review's conclusion, as told to the applicant.
    pub decision: String,
}

/// A reviewer's correction (→ `published` with changed fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectRequest {
    pub designation: DesignateRequest,
    pub decision: String,
}

/// 撤销 (→ `revoked`); of a disputed entry, a reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    pub reason: String,
}

/// 信用修复 (→ `exited`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairRequest {
    /// 信用承诺书: the subject's commitment.
    pub commitment: String,
    /// The conduct corrected and the obligations performed.
    pub obligations_met: bool,
    #[serde(default)]
    pub note: String,
}

/// 撤回 a proposal (→ `withdrawn`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    pub reason: String,
}

/// Filters of a listing or export; all given ones must hold.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::IntoParams,
)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub list: Option<String>,
    pub category: Option<String>,
    /// A stage code; several separated by commas.
    pub stage: Option<String>,
    /// A department code (an operator's filter; others see their own).
    pub department: Option<String>,
    /// Decision date from (inclusive).
    pub listed_from: Option<NaiveDate>,
    /// Decision date to (inclusive).
    pub listed_to: Option<NaiveDate>,
    /// Names containing this.
    pub name: Option<String>,
    /// The subject's identifier, exactly.
    pub code: Option<String>,
    /// Page size (default 100, at most 1,000).
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// Exports only: `csv` (default) or `xlsx`.
    pub format: Option<String>,
}
