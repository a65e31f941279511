//! Request and response models of the screening API, and the conversion
//! of an [`Outcome`] into a response. Personal ID numbers are masked
//! (**************1234) unless the caller is entitled to see them.

use credgate_ident::IdKind;
use credgate_index::Snapshot;
use credgate_model::{Category, EntryStatus, ListKind, SubjectKind};
use credgate_screen::{
    Decision, Edit, EditKind, Effect, EntryField, Hit, IdentityCheck, Link,
    MatchKind, Outcome, Query, QueryField, Relation,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;

/// One subject to screen.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenRequest {
    /// The caller's own reference for this subject (at most 128
    /// characters), echoed in its batch answer.
    #[schema(example = "bidder-3")]
    pub id: Option<String>,
    /// Unified social credit code (USCC), resident ID number, or an old
    /// registration number / organisation code kept as a secondary id.
    #[schema(example = "91320106MA1K3BTP2E")]
    pub code: Option<String>,
    /// Organisation or person name, as the applicant wrote it.
    #[schema(example = "南京恒瑞建设工程有限公司")]
    pub name: Option<String>,
    /// `organisation` or `person`; guessed from the code or name if absent.
    pub subject_type: Option<String>,
    /// Which measures apply: a scenario's id or Chinese name, e.g.
    /// `government_procurement` or `政府采购`; all scenarios when absent
    /// (in a batch: the batch's `scenario`).
    #[schema(example = "government_procurement")]
    pub scenario: Option<String>,
    /// Only these lists (`black`, `focus`, `red`); all when absent.
    pub lists: Option<Vec<String>>,
    /// Only these categories (codes); all when absent.
    pub categories: Option<Vec<String>>,
    /// Follow related parties (legal representative etc.). Default true.
    pub include_related: Option<bool>,
    /// The applicant organisation's legal representative's ID number.
    pub legal_rep_code: Option<String>,
}

impl ScreenRequest {
    /// The matcher's query, or the field at fault.
    pub fn query(&self) -> Result<Query, ApiError> {
        let bad = |field: &str, e: String| {
            ApiError::bad_request("invalid_request", e).field(field)
        };
        if self.id.as_ref().is_some_and(|id| id.chars().count() > 128) {
            return Err(bad("id", "longer than 128 characters".into()));
        }
        let subject_type = self
            .subject_type
            .as_deref()
            .map(SubjectKind::parse)
            .transpose()
            .map_err(|e| bad("subject_type", e.to_string()))?;
        let mut lists = Vec::new();
        for (i, l) in self.lists.iter().flatten().enumerate() {
            lists
                .push(ListKind::parse(l).map_err(|e| {
                    bad(&format!("lists[{i}]"), e.to_string())
                })?);
        }
        let mut categories = Vec::new();
        for (i, c) in self.categories.iter().flatten().enumerate() {
            categories.push(
                Category::parse(c)
                    .map_err(|e| {
                        bad(&format!("categories[{i}]"), e.to_string())
                    })?
                    .id(),
            );
        }
        Ok(Query {
            code: self.code.clone(),
            name: self.name.clone(),
            subject_type,
            legal_rep_code: self.legal_rep_code.clone(),
            lists,
            categories,
            include_related: self.include_related.unwrap_or(true),
            include_exited: false,
        })
    }
}

/// The snapshot an answer came from; the same shape in the API and in
/// `credgate check --json`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotRef {
    /// The snapshot's file name.
    pub version: String,
    /// The snapshot file format version.
    pub format_version: u32,
    /// When it was built (RFC 3339).
    pub built_at: String,
    pub entries: u64,
}

/// The decision over all hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionCode {
    Block,
    Restrict,
    Review,
    Warn,
    Incentive,
    Clear,
}

impl DecisionCode {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionCode::Block => "block",
            DecisionCode::Restrict => "restrict",
            DecisionCode::Review => "review",
            DecisionCode::Warn => "warn",
            DecisionCode::Incentive => "incentive",
            DecisionCode::Clear => "clear",
        }
    }
}

impl From<Decision> for DecisionCode {
    fn from(d: Decision) -> DecisionCode {
        match d {
            Decision::Block => DecisionCode::Block,
            Decision::Restrict => DecisionCode::Restrict,
            Decision::Review => DecisionCode::Review,
            Decision::Warn => DecisionCode::Warn,
            Decision::Incentive => DecisionCode::Incentive,
            Decision::Clear => DecisionCode::Clear,
        }
    }
}

/// What a measure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EffectCode {
    Prohibit,
    Restrict,
    EnhancedSupervision,
    Warn,
    Incentive,
}

impl From<Effect> for EffectCode {
    fn from(e: Effect) -> EffectCode {
        match e {
            Effect::Prohibit => EffectCode::Prohibit,
            Effect::Restrict => EffectCode::Restrict,
            Effect::EnhancedSupervision => EffectCode::EnhancedSupervision,
            Effect::Warn => EffectCode::Warn,
            Effect::Incentive => EffectCode::Incentive,
        }
    }
}

/// How a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKindCode {
    Code,
    RelatedParty,
    NameExact,
    NameFuzzy,
}

impl MatchKindCode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKindCode::Code => "code",
            MatchKindCode::RelatedParty => "related_party",
            MatchKindCode::NameExact => "name_exact",
            MatchKindCode::NameFuzzy => "name_fuzzy",
        }
    }
}

impl From<MatchKind> for MatchKindCode {
    fn from(k: MatchKind) -> MatchKindCode {
        match k {
            MatchKind::Code => MatchKindCode::Code,
            MatchKind::RelatedParty => MatchKindCode::RelatedParty,
            MatchKind::NameExact => MatchKindCode::NameExact,
            MatchKind::NameFuzzy => MatchKindCode::NameFuzzy,
        }
    }
}

/// What the query's identifier says about a name hit
/// (docs/identity.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityReason {
    /// The entry's valid USCC or resident ID differs from the code
    /// given: another subject (in `similar`).
    IdentifierDiffers,
    /// The entry has no USCC and its organisation code differs from
    /// characters 9–17 of the USCC given: another subject (in
    /// `similar`).
    OrganisationCodeDiffers,
    /// The entry has no identifier of the kind given: identity open.
    NoIdentifier,
    /// The entry has only an old business registration number, which a
    /// USCC replaced without embedding it: identity open.
    RegistrationNumberOnly,
    /// The entry's organisation code is the one characters 9–17 of the
    /// USCC given embed, though the USCCs differ: likely the same
    /// organisation.
    OrganisationCodeAgrees,
    /// The codes differ but the organisation names are identical after
    /// normalisation: a re-registration or a data error.
    SameNameOtherIdentifier,
}

impl From<IdentityCheck> for IdentityReason {
    fn from(c: IdentityCheck) -> IdentityReason {
        match c {
            IdentityCheck::IdentifierDiffers => {
                IdentityReason::IdentifierDiffers
            }
            IdentityCheck::OrganisationCodeDiffers => {
                IdentityReason::OrganisationCodeDiffers
            }
            IdentityCheck::NoIdentifier => IdentityReason::NoIdentifier,
            IdentityCheck::RegistrationNumberOnly => {
                IdentityReason::RegistrationNumberOnly
            }
            IdentityCheck::OrganisationCodeAgrees => {
                IdentityReason::OrganisationCodeAgrees
            }
            IdentityCheck::SameNameOtherIdentifier => {
                IdentityReason::SameNameOtherIdentifier
            }
        }
    }
}

/// Why a name hit is another subject, or why its identity is open.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IdentityView {
    #[schema(inline, example = "identifier_differs")]
    pub reason: IdentityReason,
    /// The reason in a sentence, for the clerk.
    #[schema(
        example = "The entry's USCC differs from the code given: another \
                   organisation with a similar name. Not part of the \
                   decision."
    )]
    pub explanation: String,
}

/// The sentence explaining an identity check; `person`: the entry is a
/// person.
pub fn identity_explanation(c: IdentityCheck, person: bool) -> String {
    let (id, subject) = if person {
        ("resident ID", "person")
    } else {
        ("USCC", "organisation")
    };
    match c {
        IdentityCheck::IdentifierDiffers => format!(
            "The entry's {id} differs from the code given: another \
             {subject} with a similar name. Not part of the decision."
        ),
        IdentityCheck::OrganisationCodeDiffers => {
            "The entry has no USCC, and its organisation code (组织机构代码) \
             differs from the one the USCC given embeds (characters 9-17): \
             another organisation. Not part of the decision."
                .into()
        }
        IdentityCheck::NoIdentifier => format!(
            "The entry ({}) carries no identifier of the kind given to \
             compare: identity is open, check by hand.",
            if person { "a person" } else { "an organisation" }
        ),
        IdentityCheck::RegistrationNumberOnly => {
            "The entry carries only an old business registration number \
             (工商注册号), which a USCC replaces without embedding it: \
             identity is open, check by hand."
                .into()
        }
        IdentityCheck::OrganisationCodeAgrees => {
            "The entry's organisation code (组织机构代码) is the one \
             characters 9-17 of the USCC given embed, though the USCCs \
             differ: most likely the same organisation (a re-issued code \
             or a data error)."
                .into()
        }
        IdentityCheck::SameNameOtherIdentifier => {
            "The name is identical to the entry's after normalisation \
             although the codes differ: a re-registration or a data error \
             is worth a look."
                .into()
        }
    }
}

/// The kind of an edit between a listed name and the query's
/// (docs/names.md, "Typo model").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EditKindCode {
    /// The same pinyin without tone (瑞→睿): the input method's wrong
    /// candidate.
    Homophone,
    /// A pinyin one fuzzy-pinyin step away (zh/z, an/ang, n/l, …).
    SimilarPinyin,
    /// A look-alike glyph (形近字: 末/未).
    LookAlike,
    /// Two adjacent characters swapped (恒瑞→瑞恒).
    Transposition,
    /// A character of the listed name missing.
    Dropped,
    /// A character the listed name lacks.
    Added,
    /// A character with no relation to the one it replaces.
    Unrelated,
}

impl From<EditKind> for EditKindCode {
    fn from(k: EditKind) -> EditKindCode {
        match k {
            EditKind::Homophone => EditKindCode::Homophone,
            EditKind::SimilarPinyin => EditKindCode::SimilarPinyin,
            EditKind::LookAlike => EditKindCode::LookAlike,
            EditKind::Transposition => EditKindCode::Transposition,
            EditKind::Dropped => EditKindCode::Dropped,
            EditKind::Added => EditKindCode::Added,
            EditKind::Unrelated => EditKindCode::Unrelated,
        }
    }
}

/// One edit from the listed name's 字号 and industry to the query's.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditView {
    #[schema(inline, example = "homophone")]
    pub kind: EditKindCode,
    /// The listed name's text ("" for an added character).
    #[schema(example = "瑞")]
    pub from: String,
    /// The query's text ("" for a dropped character).
    #[schema(example = "睿")]
    pub to: String,
    #[schema(example = "瑞→睿, same pinyin rui")]
    pub explanation: String,
    #[schema(example = "瑞→睿，同音 rui")]
    pub explanation_zh: String,
}

impl From<&Edit> for EditView {
    fn from(e: &Edit) -> EditView {
        EditView {
            kind: e.kind.into(),
            from: e.from.clone(),
            to: e.to.clone(),
            explanation: e.explanation(),
            explanation_zh: e.explanation_zh(),
        }
    }
}

/// A measure that applies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MeasureView {
    /// The entry it comes from.
    pub entry_id: String,
    pub category: String,
    pub scenario: String,
    #[schema(inline)]
    pub effect: EffectCode,
    pub text: String,
    /// Legal basis.
    pub basis: String,
}

/// One explained hit and the entry it found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HitView {
    pub entry_id: String,
    /// `black`, `focus` or `red`.
    #[schema(example = "black")]
    pub list: String,
    /// The list's Chinese name, e.g. 黑名单.
    #[schema(example = "黑名单")]
    pub list_zh: String,
    pub category: Option<String>,
    pub category_zh: Option<String>,
    #[schema(inline)]
    pub kind: MatchKindCode,
    /// In [0, 1]: identifier 1.0 > exact name 0.9 > fuzzy ≤ 0.89.
    pub score: f64,
    /// The query field that matched.
    pub query_field: String,
    /// The entry field it matched.
    pub entry_field: String,
    /// The two keys compared (ID numbers masked unless entitled).
    pub query_key: String,
    pub entry_key: String,
    /// For related-party hits: the role linking the two.
    pub role: Option<String>,
    /// `organisation` or `person`.
    pub subject_type: String,
    pub name: String,
    /// The entry's identifier (a person's masked unless entitled).
    pub code: String,
    /// The designating authority.
    pub authority: String,
    /// Why the subject was listed (列入原因).
    pub reason: String,
    /// The legal basis of the designation (认定依据).
    pub basis: String,
    pub document_number: String,
    pub listed_on: String,
    pub valid_until: Option<String>,
    /// `active` or `disputed` (an objection is under review).
    pub status: String,
    pub disputed: bool,
    pub severity: Option<String>,
    /// For a name hit when the request carries a valid USCC or resident
    /// ID: what the identifiers say. Always set in `similar`; in `hits`
    /// only where identity is open (why the hit is still for review).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityView>,
    /// For a fuzzy name hit (`kind` = `name_fuzzy`): how the query's
    /// name differs from the listed one, edit by edit, by the typo model
    /// (docs/names.md). Absent on other hits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<EditView>,
}

/// The answer to one screening request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreenResponse {
    #[schema(inline)]
    pub decision: DecisionCode,
    /// The decision as a clerk reads it: 禁止, 限制, 人工核查, 提示, 激励
    /// or 未发现.
    #[schema(example = "人工核查")]
    pub decision_zh: String,
    pub scenario: Option<String>,
    /// The subject is on both the red and the black list.
    pub conflict: bool,
    pub measures: Vec<MeasureView>,
    /// For a `review`: the measures that would apply if the reviewer
    /// confirms the hits under review (a name-only match, an entry under
    /// objection). Empty otherwise.
    pub measures_if_confirmed: Vec<MeasureView>,
    pub hits: Vec<HitView>,
    /// Name hits on entries that the request's identifier shows to be
    /// other subjects: a listed organisation with a similar name and
    /// another valid USCC (`identity.reason` = `identifier_differs`), or
    /// without a USCC and with another organisation code
    /// (`organisation_code_differs`); likewise a person with another
    /// resident ID. Shown for information; they take no part in the
    /// decision or in `measures_if_confirmed`. Empty without a valid
    /// code in the request.
    pub similar: Vec<HitView>,
    /// What the answer rests on that the clerk should know, e.g. a code
    /// that failed its check while the name was screened alone.
    pub warnings: Vec<String>,
    pub snapshot: SnapshotRef,
    /// Time spent screening, in microseconds.
    pub took_us: u64,
    /// The check's id, to keep on file (核查留痕): also in the
    /// `X-Credgate-Check-Id` header; a batch item's is `BATCH_ID.INDEX`.
    /// Always set by the API; absent from `credgate check --json`, which
    /// records nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "20261101-120000123-00000-3fa9c1")]
    pub check_id: Option<String>,
    /// When the check was made: RFC 3339, China time.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "2026-11-01T12:00:00.123+08:00")]
    pub checked_at: Option<String>,
}

/// How personal ID numbers appear in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pii {
    Show,
    /// Masked but for the last `visible` characters (at most 4).
    Mask {
        visible: usize,
    },
}

/// Characters of a masked ID number left visible by default.
pub const MASK_VISIBLE: usize = 4;

impl From<bool> for Pii {
    fn from(show: bool) -> Pii {
        if show { Pii::Show } else { Pii::Mask { visible: MASK_VISIBLE } }
    }
}

/// `id` with all but its last `visible` (at most 4) characters masked.
/// The first characters (region) are hidden too: with them and the last
/// four shown, the candidates of a number were a few hundred thousand
/// (county and birth date), few enough to enumerate.
pub fn mask_id(id: &str, visible: usize) -> String {
    let n = id.chars().count();
    let keep = visible.min(MASK_VISIBLE).min(n);
    "*".repeat(n - keep) + &id.chars().skip(n - keep).collect::<String>()
}

/// Masks `s` when it is a resident ID and PII is not to be shown.
pub fn pii(s: &str, how: impl Into<Pii>) -> String {
    let Pii::Mask { visible } = how.into() else {
        return s.to_string();
    };
    if credgate_ident::validate_as(s, IdKind::ResidentId).is_ok() {
        return mask_id(s, visible);
    }
    s.to_string()
}

/// The API name of a query field.
pub fn query_field(f: QueryField) -> &'static str {
    match f {
        QueryField::Code => "code",
        QueryField::Name => "name",
        QueryField::LegalRepCode => "legal_rep_code",
    }
}

/// The API name of an entry field (`related_parties.ROLE.id_number` for
/// a related party's ID).
pub fn entry_field(f: EntryField) -> String {
    match f {
        EntryField::Code => "code".into(),
        EntryField::SecondaryIds => "secondary_ids".into(),
        EntryField::Name => "name".into(),
        EntryField::RelatedPartyId(role) => {
            format!("related_parties.{}.id_number", role.code())
        }
    }
}

/// Whether a hit's keys are personal ID numbers: known from the hit's
/// type, not guessed from the keys' look.
fn personal_keys(h: &Hit) -> bool {
    h.identifier == Some(IdKind::ResidentId)
}

/// The query and entry keys of a hit as shown: resident IDs masked
/// unless `how` shows them; an organisation's related person as `ROLE:ID`.
pub fn keys(h: &Hit, how: impl Into<Pii>) -> (String, String) {
    let how = how.into();
    let key = |k: &str| {
        if personal_keys(h) { pii(k, how) } else { k.to_string() }
    };
    let query = match h.link {
        Some(Link { role, relation: Relation::PartyIsListed })
            if h.query_field == QueryField::Code =>
        {
            format!("{}:{}", role.code(), key(&h.query_key))
        }
        _ => key(&h.query_key),
    };
    (query, key(&h.entry_key))
}

/// Personal data an answer disclosed unmasked: (entry id, ID number).
pub type Disclosed = Vec<(String, String)>;

fn hit(
    snap: &Snapshot,
    h: &Hit,
    how: Pii,
    disclosed: &mut Disclosed,
) -> Option<HitView> {
    let show_pii = how == Pii::Show;
    let r = snap.record(h.ordinal).ok()?;
    let category = Category::by_id(r.category);
    let person = r.subject_kind == SubjectKind::Person;
    if show_pii {
        let mut ids: Vec<&str> = Vec::new();
        if person {
            ids.push(r.code);
        }
        if personal_keys(h) {
            ids.extend([h.query_key.as_str(), h.entry_key.as_str()]);
        }
        for id in ids {
            if !disclosed.iter().any(|(_, d)| d == id) {
                disclosed.push((r.entry_id.to_string(), id.to_string()));
            }
        }
    }
    let (query_key, entry_key) = keys(h, how);
    Some(HitView {
        entry_id: r.entry_id.into(),
        list: r.list.code().into(),
        list_zh: r.list.name_zh().into(),
        category: category.map(|c| c.code.into()),
        category_zh: category.map(|c| c.name_zh.into()),
        kind: h.kind.into(),
        score: (f64::from(h.score) * 1000.0).round() / 1000.0,
        query_field: query_field(h.query_field).into(),
        entry_field: entry_field(h.entry_field),
        query_key,
        entry_key,
        role: h.role().map(|r| r.code().into()),
        subject_type: r.subject_kind.code().into(),
        name: r.name.into(),
        code: if person { pii(r.code, how) } else { r.code.into() },
        authority: snap.string(r.authority).into(),
        reason: snap.string(r.reason).into(),
        basis: snap.string(r.basis).into(),
        document_number: r.document_number.into(),
        listed_on: r.listed_on.to_string(),
        valid_until: r.valid_until.map(|d| d.to_string()),
        status: r.status.code().into(),
        disputed: r.status == EntryStatus::Disputed,
        severity: r.severity.map(|s| s.code().into()),
        identity: h.identity.map(|c| IdentityView {
            reason: c.into(),
            explanation: identity_explanation(c, person),
        }),
        edits: h.edits.iter().map(EditView::from).collect(),
    })
}

/// The response to an outcome, and the personal data it disclosed.
pub fn response(
    snap: &Snapshot,
    version: &str,
    o: &Outcome,
    how: impl Into<Pii>,
    took_us: u64,
) -> (ScreenResponse, Disclosed) {
    let how = how.into();
    let mut disclosed = Vec::new();
    let measure_view =
        |m: &credgate_screen::decision::AppliedMeasure| MeasureView {
            entry_id: snap
                .record(m.ordinal)
                .map(|r| r.entry_id.to_string())
                .unwrap_or_default(),
            category: m.measure.category.into(),
            scenario: m.measure.scenario.clone(),
            effect: m.measure.effect.into(),
            text: m.measure.text.clone(),
            basis: m.measure.basis.clone(),
        };
    let measures = o.verdict.measures.iter().map(measure_view).collect();
    let measures_if_confirmed =
        o.verdict.if_confirmed.iter().map(measure_view).collect();
    let hits = o
        .hits
        .iter()
        .filter_map(|h| hit(snap, h, how, &mut disclosed))
        .collect();
    let similar = o
        .similar
        .iter()
        .filter_map(|h| hit(snap, h, how, &mut disclosed))
        .collect();
    let r = ScreenResponse {
        decision: o.verdict.decision.into(),
        decision_zh: o.verdict.decision.name_zh().into(),
        scenario: o.scenario.clone(),
        conflict: o.verdict.conflict,
        measures,
        measures_if_confirmed,
        hits,
        similar,
        warnings: Vec::new(),
        snapshot: snapshot_ref(snap, version),
        took_us,
        check_id: None,
        checked_at: None,
    };
    (r, disclosed)
}

pub fn snapshot_ref(snap: &Snapshot, version: &str) -> SnapshotRef {
    SnapshotRef {
        version: version.into(),
        format_version: snap.header().version,
        built_at: rfc3339(snap.header().built_at),
        entries: snap.len() as u64,
    }
}

pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_resident_ids_only() {
        let id = "11010519491231002X";
        assert_eq!(pii(id, false), "**************002X");
        assert_eq!(pii(id, true), id);
        // A USCC is not personal data.
        assert_eq!(pii("91350100M000100Y43", false), "91350100M000100Y43");
        // Fewer visible characters when configured; never more than 4.
        assert_eq!(pii(id, Pii::Mask { visible: 2 }), "****************2X");
        assert_eq!(pii(id, Pii::Mask { visible: 9 }), "**************002X");
    }
}
