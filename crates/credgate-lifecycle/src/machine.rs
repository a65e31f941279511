//! The lifecycle of a list entry as a state machine (docs/admin.md,
//! "Lifecycle"; /tmp/admin-spec.md). [`Lifecycle::decide`] takes an
//! entry's [`Facts`], a [`Command`], the [`Actor`] and today's China date,
//! and either refuses with a stable rule code or returns the new facts and
//! what to record. It changes nothing itself: the caller persists the
//! decision (and its audit record) after comparing versions.
//!
//! Checks run in a fixed order, so a refusal names the first rule broken:
//! the department (403), the role (403), the stage (409), the inputs
//! (422), then the guards on dates (409).
//!
//! **Departments.** A department acts only on the entries it designated
//! (§8; 谁认定、谁修复 for repair). Operators *read* every department's
//! entries but act on others' only through `expire`: the scheduled sweep
//! runs as an operator, and expiry is decided by the date alone. Every
//! other change stays with the department accountable for the entry.

use crate::calendar::{Calendar, Deadline};
use crate::periods::{PeriodEnds, Periods};
use chrono::NaiveDate;
use credgate_model::{Category, CategoryId, EntryStatus, ListKind, Severity};
use std::fmt;

/// The stable rule codes of refusals. The HTTP layer returns them as the
/// error `code`'s detail; never rename one.
pub mod rule {
    /// The actor's department did not designate the entry.
    pub const NOT_DESIGNATING_DEPARTMENT: &str = "not_designating_department";
    pub const PUBLISHER_ROLE_REQUIRED: &str = "publisher_role_required";
    pub const REVIEWER_ROLE_REQUIRED: &str = "reviewer_role_required";
    pub const DEPARTMENT_REQUIRED: &str = "department_required";
    /// The entry's stage does not allow the action.
    pub const ILLEGAL_TRANSITION: &str = "illegal_transition";
    pub const REASONS_REQUIRED: &str = "reasons_required";
    pub const BASIS_REQUIRED: &str = "basis_required";
    pub const BASIS_NOT_LEGAL: &str = "basis_not_legal";
    pub const RIGHTS_REQUIRED: &str = "rights_required";
    pub const STATEMENT_PERIOD_INVALID: &str = "statement_period_invalid";
    pub const STATEMENT_TEXT_REQUIRED: &str = "statement_text_required";
    pub const STATEMENT_ALREADY_RECORDED: &str = "statement_already_recorded";
    pub const DATE_IN_FUTURE: &str = "date_in_future";
    pub const DATE_BEFORE_NOTICE: &str = "date_before_notice";
    pub const DATE_BEFORE_PUBLICATION: &str = "date_before_publication";
    pub const STATEMENT_PERIOD_OPEN: &str = "statement_period_open";
    pub const DECISION_IN_STATEMENT_PERIOD: &str =
        "decision_in_statement_period";
    pub const DOCUMENT_NUMBER_REQUIRED: &str = "document_number_required";
    pub const UNKNOWN_CATEGORY: &str = "unknown_category";
    pub const CATEGORY_LIST_MISMATCH: &str = "category_list_mismatch";
    pub const SEVERITY_REQUIRED: &str = "severity_required";
    pub const SEVERITY_NOT_ALLOWED: &str = "severity_not_allowed";
    pub const VALID_UNTIL_NOT_ALLOWED: &str = "valid_until_not_allowed";
    pub const VALID_UNTIL_NOT_AFTER_DECISION: &str =
        "valid_until_not_after_decision";
    pub const SCENARIOS_REQUIRED: &str = "scenarios_required";
    pub const PERIOD_ALREADY_ENDED: &str = "period_already_ended";
    pub const DEADLINE_NOT_IN_FUTURE: &str = "deadline_not_in_future";
    pub const RECTIFICATION_NOT_OVERDUE: &str = "rectification_not_overdue";
    pub const BAN_END_NOT_IN_FUTURE: &str = "ban_end_not_in_future";
    pub const GROUNDS_REQUIRED: &str = "grounds_required";
    pub const CORRECTION_CHANGES_NOTHING: &str = "correction_changes_nothing";
    pub const REVOCATION_REASON_REQUIRED: &str = "revocation_reason_required";
    pub const REPAIR_NOT_APPLICABLE: &str = "repair_not_applicable";
    pub const COMMITMENT_REQUIRED: &str = "commitment_required";
    pub const OBLIGATIONS_NOT_MET: &str = "obligations_not_met";
    pub const MINIMUM_PERIOD_NOT_REACHED: &str = "minimum_period_not_reached";
    pub const NO_MAXIMUM_PERIOD: &str = "no_maximum_period";
    pub const MAXIMUM_PERIOD_NOT_REACHED: &str = "maximum_period_not_reached";
    pub const WITHDRAWAL_REASON_REQUIRED: &str = "withdrawal_reason_required";

    /// Every rule code, for documentation (the API lists them) and
    /// for the test that each has a regression case.
    pub const ALL: &[&str] = &[
        NOT_DESIGNATING_DEPARTMENT,
        PUBLISHER_ROLE_REQUIRED,
        REVIEWER_ROLE_REQUIRED,
        DEPARTMENT_REQUIRED,
        ILLEGAL_TRANSITION,
        REASONS_REQUIRED,
        BASIS_REQUIRED,
        BASIS_NOT_LEGAL,
        RIGHTS_REQUIRED,
        STATEMENT_PERIOD_INVALID,
        STATEMENT_TEXT_REQUIRED,
        STATEMENT_ALREADY_RECORDED,
        DATE_IN_FUTURE,
        DATE_BEFORE_NOTICE,
        DATE_BEFORE_PUBLICATION,
        STATEMENT_PERIOD_OPEN,
        DECISION_IN_STATEMENT_PERIOD,
        DOCUMENT_NUMBER_REQUIRED,
        UNKNOWN_CATEGORY,
        CATEGORY_LIST_MISMATCH,
        SEVERITY_REQUIRED,
        SEVERITY_NOT_ALLOWED,
        VALID_UNTIL_NOT_ALLOWED,
        VALID_UNTIL_NOT_AFTER_DECISION,
        SCENARIOS_REQUIRED,
        PERIOD_ALREADY_ENDED,
        DEADLINE_NOT_IN_FUTURE,
        RECTIFICATION_NOT_OVERDUE,
        BAN_END_NOT_IN_FUTURE,
        GROUNDS_REQUIRED,
        CORRECTION_CHANGES_NOTHING,
        REVOCATION_REASON_REQUIRED,
        REPAIR_NOT_APPLICABLE,
        COMMITMENT_REQUIRED,
        OBLIGATIONS_NOT_MET,
        MINIMUM_PERIOD_NOT_REACHED,
        NO_MAXIMUM_PERIOD,
        MAXIMUM_PERIOD_NOT_REACHED,
        WITHDRAWAL_REASON_REQUIRED,
    ];
}

macro_rules! codes {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Stable snake_case code (files, APIs, the store).
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            pub fn name_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }

            /// The value with this code, exactly.
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

codes! {
    /// Where an entry is in its lifecycle (admin spec, "Stages").
    Stage {
        /// Proposed: the subject was told reasons, basis, rights and the
        /// statement deadline (告知).
        Noticed = "noticed", "已告知";
        Designated = "designated", "已认定";
        /// In force: measures apply.
        Published = "published", "公示中";
        /// Under objection review: measures wait.
        Disputed = "disputed", "异议中";
        /// Left by expiry or credit repair.
        Exited = "exited", "已移出";
        /// Wrongful designation revoked: no trace in screening.
        Revoked = "revoked", "已撤销";
        /// Proposal dropped before designation.
        Withdrawn = "withdrawn", "已撤回";
    }
}

impl Stage {
    /// How a snapshot shows an entry in this stage; `None`: absent.
    pub fn screening_status(self) -> Option<EntryStatus> {
        match self {
            Stage::Published => Some(EntryStatus::Active),
            Stage::Disputed => Some(EntryStatus::Disputed),
            _ => None,
        }
    }

    /// No action leaves these stages.
    pub fn is_final(self) -> bool {
        matches!(self, Stage::Exited | Stage::Revoked | Stage::Withdrawn)
    }
}

codes! {
    /// The transitions (admin spec, "Transitions"); recorded in history
    /// and audit under these codes.
    Action {
        Propose = "propose", "告知";
        RecordStatement = "record_statement", "陈述申辩";
        Designate = "designate", "认定";
        Publish = "publish", "公示";
        SetRectification = "set_rectification", "限期整改";
        RecordInterview = "record_interview", "约谈";
        SetBan = "set_ban", "市场和行业禁入";
        Object = "object", "异议";
        Uphold = "uphold", "异议不成立";
        Correct = "correct", "更正";
        Revoke = "revoke", "撤销";
        Repair = "repair", "信用修复";
        Expire = "expire", "公示期满移出";
        Withdraw = "withdraw", "撤回";
        Import = "import", "导入";
    }
}

codes! {
    /// 约谈: after a missed rectification deadline (§5.3).
    InterviewKind {
        Reminder = "reminder", "提示约谈";
        Warning = "warning", "警示约谈";
    }
}

codes! {
    /// Working-day deadlines a decision computes.
    DeadlineKind {
        /// End of the statement and defence period (陈述申辩).
        Statement = "statement", "陈述申辩期限";
        /// 双公示: the decision online within 7 working days.
        Publicity = "publicity", "双公示期限";
        /// Objection review.
        Review = "review", "异议处理期限";
    }
}

/// 市场和行业禁入 (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ban {
    Until(NaiveDate),
    /// 直至永远逐出市场.
    Permanent,
}

/// The notice before designation (告知).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// 列入原因.
    pub reasons: String,
    /// 认定依据: a law, regulation or State Council document
    /// ([`basis_names_legal_source`]).
    pub basis: String,
    /// The subject's rights (陈述申辩, 复议, 诉讼) as told.
    pub rights: String,
    /// Working days for the statement; `None`: [`Rules::statement_days`].
    pub statement_days: Option<u32>,
}

/// The decision (认定) and what follows from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Designation {
    /// 决定日期: the publication periods count from it.
    pub decided_on: NaiveDate,
    /// 决定文书号.
    pub document_number: String,
    pub list: ListKind,
    pub category: CategoryId,
    /// Required on black and focus entries; none on red ones.
    pub severity: Option<Severity>,
    /// The measures catalogue's scenario codes that apply (the admin
    /// checks them against the catalogue; here they must be non-empty).
    pub scenarios: Vec<String>,
    /// Red list only: the end of the entry's validity (its maximum).
    pub valid_until: Option<NaiveDate>,
}

/// One change an action asks for, with its inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Propose(Proposal),
    RecordStatement {
        text: String,
        received_on: NaiveDate,
    },
    Designate(Designation),
    /// Today becomes the publication date.
    Publish,
    SetRectification {
        deadline: NaiveDate,
    },
    RecordInterview {
        kind: InterviewKind,
        on: NaiveDate,
        notes: String,
    },
    SetBan(Ban),
    Object {
        grounds: String,
        received_on: NaiveDate,
    },
    Uphold,
    /// The corrected designation, whole; the decision lists the fields
    /// that changed.
    Correct(Designation),
    Revoke {
        reason: String,
    },
    Repair {
        commitment: String,
        obligations_met: bool,
    },
    Expire,
    Withdraw {
        reason: String,
    },
    /// An existing, published entry moved in (→ published directly).
    /// `published_on`: when it went online; `None`: today.
    Import {
        designation: Designation,
        published_on: Option<NaiveDate>,
    },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Propose(_) => Action::Propose,
            Command::RecordStatement { .. } => Action::RecordStatement,
            Command::Designate(_) => Action::Designate,
            Command::Publish => Action::Publish,
            Command::SetRectification { .. } => Action::SetRectification,
            Command::RecordInterview { .. } => Action::RecordInterview,
            Command::SetBan(_) => Action::SetBan,
            Command::Object { .. } => Action::Object,
            Command::Uphold => Action::Uphold,
            Command::Correct(_) => Action::Correct,
            Command::Revoke { .. } => Action::Revoke,
            Command::Repair { .. } => Action::Repair,
            Command::Expire => Action::Expire,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::Import { .. } => Action::Import,
        }
    }
}

/// Who asks: a key's department and roles (issue 10 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Department code (e.g. `js-scjg`).
    pub department: String,
    /// Proposes, designates, publishes, repairs its department's entries.
    pub publisher: bool,
    /// Decides objections on its department's entries.
    pub reviewer: bool,
    /// Credit centre: reads every department; may expire any entry.
    pub operator: bool,
}

impl Actor {
    pub fn publisher(department: &str) -> Actor {
        Actor {
            department: department.into(),
            publisher: true,
            reviewer: false,
            operator: false,
        }
    }

    pub fn reviewer(department: &str) -> Actor {
        Actor {
            reviewer: true,
            publisher: false,
            ..Actor::publisher(department)
        }
    }

    pub fn operator(department: &str) -> Actor {
        Actor {
            operator: true,
            publisher: false,
            ..Actor::publisher(department)
        }
    }
}

/// What the lifecycle knows about an entry: everything its guards read.
/// The store keeps it (one row per entry) and hands it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub stage: Stage,
    /// 1 when created, +1 per decision. The store compares it with the
    /// caller's `If-Match`; the lifecycle only increments it.
    pub version: i64,
    /// The designating department (谁认定).
    pub department: String,
    /// `None` for imported entries (no notice here).
    pub noticed_on: Option<NaiveDate>,
    pub statement_deadline: Option<Deadline>,
    pub statement_received_on: Option<NaiveDate>,
    /// Set from designation (or import) on.
    pub designation: Option<Designation>,
    /// Repair possible from this date.
    pub min_period_end: Option<NaiveDate>,
    /// Leaves publication on this date.
    pub max_period_end: Option<NaiveDate>,
    /// 双公示: decision date + 7 working days; set at designation so that
    /// the report sees unpublished decisions.
    pub publicity_deadline: Option<Deadline>,
    pub published_on: Option<NaiveDate>,
    pub rectification_deadline: Option<NaiveDate>,
    /// While disputed.
    pub review_deadline: Option<Deadline>,
    pub ban: Option<Ban>,
    /// The day it exited, was revoked or withdrawn; for expiry, the
    /// maximum period's end (when it left by law, whenever the sweep ran).
    pub ended_on: Option<NaiveDate>,
}

impl Facts {
    pub fn list(&self) -> Option<ListKind> {
        self.designation.as_ref().map(|d| d.list)
    }

    pub fn severity(&self) -> Option<Severity> {
        self.designation.as_ref().and_then(|d| d.severity)
    }

    pub fn decided_on(&self) -> Option<NaiveDate> {
        self.designation.as_ref().map(|d| d.decided_on)
    }

    /// Whether the 双公示 deadline has passed without publication.
    pub fn publicity_overdue(&self, today: NaiveDate) -> bool {
        self.published_on.is_none()
            && self.stage == Stage::Designated
            && self.publicity_deadline.is_some_and(|d| today > d.date)
    }
}

/// A working-day deadline a decision computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputedDeadline {
    pub kind: DeadlineKind,
    pub working_days: u32,
    pub deadline: Deadline,
}

/// 双公示 at publication: was the decision online in time?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicityCheck {
    pub deadline: Deadline,
    pub published_on: NaiveDate,
    /// `published_on <= deadline.date`; otherwise late.
    pub met: bool,
}

/// One field a correction changed, as display values for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

/// An accepted command: the new facts and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub action: Action,
    /// `None` for creations (propose, import).
    pub from: Option<Stage>,
    pub facts: Facts,
    pub deadlines: Vec<ComputedDeadline>,
    /// Set by publish and import.
    pub publicity: Option<PublicityCheck>,
    /// Set by correct.
    pub changes: Vec<FieldChange>,
}

/// How the HTTP layer answers a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// A department or role rule: 403.
    Forbidden,
    /// The stage or a date guard forbids it now: 409.
    Conflict,
    /// An input is missing or malformed whatever the stage: 422.
    Invalid,
}

impl RefusalKind {
    pub fn http_status(self) -> u16 {
        match self {
            RefusalKind::Forbidden => 403,
            RefusalKind::Conflict => 409,
            RefusalKind::Invalid => 422,
        }
    }
}

/// A refused command: a stable rule code and a message naming the stage,
/// date or field involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Refusal {
    pub rule: &'static str,
    pub kind: RefusalKind,
    /// The command input at fault, for `Invalid`.
    pub field: Option<&'static str>,
    pub message: String,
}

fn forbidden(rule: &'static str, message: String) -> Refusal {
    Refusal { rule, kind: RefusalKind::Forbidden, field: None, message }
}

fn conflict(rule: &'static str, message: String) -> Refusal {
    Refusal { rule, kind: RefusalKind::Conflict, field: None, message }
}

fn invalid(
    rule: &'static str,
    field: &'static str,
    message: String,
) -> Refusal {
    Refusal { rule, kind: RefusalKind::Invalid, field: Some(field), message }
}

/// Configurable periods in working days. The defaults are this
/// deployment's choices where no national rule fixes a number (statement
/// and review periods), and the 双公示 rule's 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Statement and defence period when a proposal names none.
    pub statement_days: u32,
    /// The longest statement period a proposal may set.
    pub max_statement_days: u32,
    /// Objection review period from receipt.
    pub review_days: u32,
    /// 双公示: decisions online within this many working days.
    pub publicity_days: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            statement_days: 5,
            max_statement_days: 60,
            review_days: 10,
            publicity_days: 7,
        }
    }
}

/// The markers of a legal source in a 认定依据 (see
/// [`basis_names_legal_source`]).
const TITLE_ENDINGS: &[&str] = &["法", "条例", "规定", "办法", "决定"];
const TITLE_ISSUERS: &[&str] = &["中华人民共和国", "国务院", "中共中央"];
const DOCUMENT_PREFIXES: &[&str] = &["国发", "国办发", "中发", "中办发"];

/// Whether a 认定依据 names a law, regulation or State Council (or Party
/// Central Committee) document, as 国办发〔2020〕49号 requires. A
/// heuristic on the text, not a legal check: it accepts
/// - a title in 《》 ending in 法, 条例, 规定, 办法 or 决定 (laws,
///   regulations, rules: 《中华人民共和国税收征收管理法》,
///   《保障农民工工资支付条例》), or issued by 中华人民共和国, 国务院 or
///   中共中央 (《国务院关于…的意见》);
/// - a document number of the State Council or the Party Central
///   Committee: 国发, 国办发, 中发, 中办发 followed by a bracketed year
///   (〔2020〕, [2020], （2020）).
///
/// "依法", "有关规定" or a department's own letter are refused: the
/// clerk must name the source.
pub fn basis_names_legal_source(basis: &str) -> bool {
    let titled = basis.split('《').skip(1).any(|rest| {
        let Some((title, _)) = rest.split_once('》') else {
            return false;
        };
        let title = title.trim();
        TITLE_ENDINGS.iter().any(|e| title.ends_with(e))
            || TITLE_ISSUERS.iter().any(|i| title.starts_with(i))
    });
    let numbered = DOCUMENT_PREFIXES.iter().any(|prefix| {
        basis.match_indices(prefix).any(|(at, _)| {
            let mut rest = basis[at + prefix.len()..].chars();
            matches!(rest.next(), Some('〔' | '[' | '［' | '（' | '('))
                && rest.take(4).filter(char::is_ascii_digit).count() == 4
        })
    });
    titled || numbered
}

/// The rules of the lifecycle with their data.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    pub calendar: Calendar,
    pub periods: Periods,
    pub rules: Rules,
}

fn require_text(
    text: &str,
    rule: &'static str,
    field: &'static str,
) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        Err(invalid(rule, field, format!("{field} is empty")))
    } else {
        Ok(())
    }
}

fn not_after_today(
    date: NaiveDate,
    today: NaiveDate,
    field: &'static str,
) -> Result<(), Refusal> {
    if date > today {
        Err(invalid(
            rule::DATE_IN_FUTURE,
            field,
            format!("{field} {date} is after today {today}"),
        ))
    } else {
        Ok(())
    }
}

fn show<T: fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Lifecycle {
    pub fn new(calendar: Calendar, periods: Periods, rules: Rules) -> Self {
        Lifecycle { calendar, periods, rules }
    }

    /// The shipped calendar and periods with the default rules.
    pub fn builtin() -> Self {
        Lifecycle::new(
            Calendar::builtin(),
            Periods::builtin(),
            Rules::default(),
        )
    }

    /// Whether the sweep should expire the entry today: published or
    /// disputed and at or past its maximum period.
    pub fn due_for_expiry(facts: &Facts, today: NaiveDate) -> bool {
        matches!(facts.stage, Stage::Published | Stage::Disputed)
            && facts.max_period_end.is_some_and(|end| today >= end)
    }

    /// Decides `command` on the entry `facts` (`None`: no entry yet, for
    /// propose and import) for `actor` on `today` (China date).
    pub fn decide(
        &self,
        facts: Option<&Facts>,
        command: &Command,
        actor: &Actor,
        today: NaiveDate,
    ) -> Result<Decision, Refusal> {
        let action = command.action();
        let Some(facts) = facts else {
            return self.create(command, actor, today);
        };
        authorize(facts, command, actor)?;
        let allowed: &[Stage] = match action {
            Action::Propose | Action::Import => &[],
            Action::RecordStatement | Action::Designate | Action::Withdraw => {
                &[Stage::Noticed]
            }
            Action::Publish => &[Stage::Designated],
            Action::SetRectification
            | Action::RecordInterview
            | Action::SetBan
            | Action::Object
            | Action::Repair => &[Stage::Published],
            Action::Uphold | Action::Correct => &[Stage::Disputed],
            Action::Revoke => {
                &[Stage::Designated, Stage::Published, Stage::Disputed]
            }
            Action::Expire => &[Stage::Published, Stage::Disputed],
        };
        if !allowed.contains(&facts.stage) {
            let from = if allowed.is_empty() {
                "no existing entry (it creates one)".to_string()
            } else {
                allowed
                    .iter()
                    .map(|s| s.code())
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            return Err(conflict(
                rule::ILLEGAL_TRANSITION,
                format!(
                    "{action} is not allowed on a {} entry (allowed from: \
                     {from})",
                    facts.stage
                ),
            ));
        }
        let mut next = facts.clone();
        next.version = facts.version + 1;
        let mut decision = Decision {
            action,
            from: Some(facts.stage),
            facts: next,
            deadlines: Vec::new(),
            publicity: None,
            changes: Vec::new(),
        };
        self.apply(facts, command, today, &mut decision)?;
        Ok(decision)
    }

    fn create(
        &self,
        command: &Command,
        actor: &Actor,
        today: NaiveDate,
    ) -> Result<Decision, Refusal> {
        let action = command.action();
        if !matches!(action, Action::Propose | Action::Import) {
            return Err(conflict(
                rule::ILLEGAL_TRANSITION,
                format!(
                    "{action} needs an existing entry; only propose and \
                     import create one"
                ),
            ));
        }
        if actor.department.trim().is_empty() {
            return Err(forbidden(
                rule::DEPARTMENT_REQUIRED,
                "the key belongs to no department; entries are created by \
                 a designating department"
                    .into(),
            ));
        }
        if !actor.publisher {
            return Err(forbidden(
                rule::PUBLISHER_ROLE_REQUIRED,
                format!("{action} needs the publisher role"),
            ));
        }
        let facts = Facts {
            stage: Stage::Noticed,
            version: 1,
            department: actor.department.clone(),
            noticed_on: None,
            statement_deadline: None,
            statement_received_on: None,
            designation: None,
            min_period_end: None,
            max_period_end: None,
            publicity_deadline: None,
            published_on: None,
            rectification_deadline: None,
            review_deadline: None,
            ban: None,
            ended_on: None,
        };
        let mut decision = Decision {
            action,
            from: None,
            facts: facts.clone(),
            deadlines: Vec::new(),
            publicity: None,
            changes: Vec::new(),
        };
        self.apply(&facts, command, today, &mut decision)?;
        Ok(decision)
    }

    /// Checks the inputs and date guards of `command` and writes its
    /// effect into `d.facts` (already a copy with the version bumped).
    fn apply(
        &self,
        old: &Facts,
        command: &Command,
        today: NaiveDate,
        d: &mut Decision,
    ) -> Result<(), Refusal> {
        let rules = &self.rules;
        match command {
            Command::Propose(p) => {
                require_text(&p.reasons, rule::REASONS_REQUIRED, "reasons")?;
                require_text(&p.basis, rule::BASIS_REQUIRED, "basis")?;
                if !basis_names_legal_source(&p.basis) {
                    return Err(invalid(
                        rule::BASIS_NOT_LEGAL,
                        "basis",
                        format!(
                            "basis '{}' names no law, regulation or State \
                             Council document: cite a title in 《》 (…法, \
                             …条例, …规定, …办法) or a document number \
                             (国发〔YYYY〕N号, 国办发〔YYYY〕N号)",
                            clip(&p.basis)
                        ),
                    ));
                }
                require_text(&p.rights, rule::RIGHTS_REQUIRED, "rights")?;
                let days = p.statement_days.unwrap_or(rules.statement_days);
                if days == 0 || days > rules.max_statement_days {
                    return Err(invalid(
                        rule::STATEMENT_PERIOD_INVALID,
                        "statement_days",
                        format!(
                            "statement_days {days} is outside 1..={}",
                            rules.max_statement_days
                        ),
                    ));
                }
                let deadline = self.calendar.add_working_days(today, days);
                d.facts.noticed_on = Some(today);
                d.facts.statement_deadline = Some(deadline);
                d.deadlines.push(ComputedDeadline {
                    kind: DeadlineKind::Statement,
                    working_days: days,
                    deadline,
                });
            }
            Command::RecordStatement { text, received_on } => {
                require_text(text, rule::STATEMENT_TEXT_REQUIRED, "text")?;
                not_after_today(*received_on, today, "received_on")?;
                if let Some(noticed) = old.noticed_on {
                    if *received_on < noticed {
                        return Err(invalid(
                            rule::DATE_BEFORE_NOTICE,
                            "received_on",
                            format!(
                                "received_on {received_on} is before the \
                                 notice of {noticed}"
                            ),
                        ));
                    }
                }
                if let Some(first) = old.statement_received_on {
                    return Err(conflict(
                        rule::STATEMENT_ALREADY_RECORDED,
                        format!("a statement was recorded on {first}"),
                    ));
                }
                d.facts.statement_received_on = Some(*received_on);
            }
            Command::Designate(des) => {
                if old.statement_received_on.is_none() {
                    if let Some(dl) = old.statement_deadline {
                        if today <= dl.date {
                            return Err(conflict(
                                rule::STATEMENT_PERIOD_OPEN,
                                format!(
                                    "the statement period runs until {}{} \
                                     and no statement is recorded; \
                                     designate from {} on",
                                    dl.date,
                                    estimated(dl),
                                    dl.date.succ_opt().unwrap_or(dl.date)
                                ),
                            ));
                        }
                    }
                }
                self.check_designation(des, today)?;
                self.check_heard(old, des)?;
                self.designate(des, d);
                d.facts.stage = Stage::Designated;
            }
            Command::Publish => {
                self.check_not_ended(&d.facts, today)?;
                d.facts.stage = Stage::Published;
                self.publish(today, d);
            }
            Command::Import { designation, published_on } => {
                self.check_designation(designation, today)?;
                let published_on = published_on.unwrap_or(today);
                not_after_today(published_on, today, "published_on")?;
                if published_on < designation.decided_on {
                    return Err(invalid(
                        rule::DATE_BEFORE_NOTICE,
                        "published_on",
                        format!(
                            "published_on {published_on} is before the \
                             decision of {}",
                            designation.decided_on
                        ),
                    ));
                }
                self.designate(designation, d);
                self.check_not_ended(&d.facts, today)?;
                d.facts.stage = Stage::Published;
                self.publish(published_on, d);
            }
            Command::SetRectification { deadline } => {
                if *deadline <= today {
                    return Err(invalid(
                        rule::DEADLINE_NOT_IN_FUTURE,
                        "deadline",
                        format!(
                            "deadline {deadline} is not after today {today}"
                        ),
                    ));
                }
                d.facts.rectification_deadline = Some(*deadline);
            }
            Command::RecordInterview { kind, on, .. } => {
                not_after_today(*on, today, "held_on")?;
                match old.rectification_deadline {
                    Some(deadline) if *on > deadline => {}
                    Some(deadline) => {
                        return Err(conflict(
                            rule::RECTIFICATION_NOT_OVERDUE,
                            format!(
                                "a {} ({}) follows a missed rectification \
                                 deadline; the deadline {deadline} had not \
                                 passed on {on}",
                                kind.name_zh(),
                                kind
                            ),
                        ));
                    }
                    None => {
                        return Err(conflict(
                            rule::RECTIFICATION_NOT_OVERDUE,
                            format!(
                                "a {} ({}) follows a missed rectification \
                                 deadline; none is set",
                                kind.name_zh(),
                                kind
                            ),
                        ));
                    }
                }
            }
            Command::SetBan(ban) => {
                if let Ban::Until(until) = ban {
                    if *until <= today {
                        return Err(invalid(
                            rule::BAN_END_NOT_IN_FUTURE,
                            "until",
                            format!(
                                "ban end {until} is not after today {today}"
                            ),
                        ));
                    }
                }
                d.facts.ban = Some(*ban);
            }
            Command::Object { grounds, received_on } => {
                require_text(grounds, rule::GROUNDS_REQUIRED, "grounds")?;
                not_after_today(*received_on, today, "received_on")?;
                if let Some(published) = old.published_on {
                    if *received_on < published {
                        return Err(invalid(
                            rule::DATE_BEFORE_PUBLICATION,
                            "received_on",
                            format!(
                                "received_on {received_on} is before the \
                                 publication of {published}"
                            ),
                        ));
                    }
                }
                let deadline = self
                    .calendar
                    .add_working_days(*received_on, rules.review_days);
                d.facts.stage = Stage::Disputed;
                d.facts.review_deadline = Some(deadline);
                d.deadlines.push(ComputedDeadline {
                    kind: DeadlineKind::Review,
                    working_days: rules.review_days,
                    deadline,
                });
            }
            Command::Uphold => {
                d.facts.stage = Stage::Published;
                d.facts.review_deadline = None;
            }
            Command::Correct(des) => {
                self.check_designation(des, today)?;
                self.check_heard(old, des)?;
                let before = old.designation.as_ref();
                d.changes = changes(before, des);
                if d.changes.is_empty() {
                    return Err(invalid(
                        rule::CORRECTION_CHANGES_NOTHING,
                        "designation",
                        "the corrected designation equals the current one \
                         (uphold the entry instead)"
                            .into(),
                    ));
                }
                self.designate(des, d);
                d.facts.stage = Stage::Published;
                d.facts.review_deadline = None;
            }
            Command::Revoke { reason } => {
                require_text(
                    reason,
                    rule::REVOCATION_REASON_REQUIRED,
                    "reason",
                )?;
                d.facts.stage = Stage::Revoked;
                d.facts.review_deadline = None;
                d.facts.ended_on = Some(today);
            }
            Command::Repair { commitment, obligations_met } => {
                if old.list() == Some(ListKind::Red) {
                    return Err(conflict(
                        rule::REPAIR_NOT_APPLICABLE,
                        "credit repair ends the publication of negative \
                         information; a red-list entry has none"
                            .into(),
                    ));
                }
                require_text(
                    commitment,
                    rule::COMMITMENT_REQUIRED,
                    "commitment",
                )?;
                if !obligations_met {
                    return Err(conflict(
                        rule::OBLIGATIONS_NOT_MET,
                        "credit repair needs the conduct corrected and the \
                         obligations performed (obligations_met)"
                            .into(),
                    ));
                }
                if let Some(min) = old.min_period_end {
                    if today < min {
                        return Err(conflict(
                            rule::MINIMUM_PERIOD_NOT_REACHED,
                            format!(
                                "the minimum publication period of this {} \
                                 entry (decided on {}) ends on {min}; repair \
                                 is possible from that day, today is {today}",
                                show(old.severity()),
                                show(old.decided_on()),
                            ),
                        ));
                    }
                }
                d.facts.stage = Stage::Exited;
                d.facts.ended_on = Some(today);
            }
            Command::Expire => {
                let Some(max) = old.max_period_end else {
                    return Err(conflict(
                        rule::NO_MAXIMUM_PERIOD,
                        "the entry has no end date (a red-list entry \
                         without valid_until); revoke it instead"
                            .into(),
                    ));
                };
                if today < max {
                    return Err(conflict(
                        rule::MAXIMUM_PERIOD_NOT_REACHED,
                        format!(
                            "the maximum publication period ends on {max}; \
                             today is {today}"
                        ),
                    ));
                }
                d.facts.stage = Stage::Exited;
                d.facts.review_deadline = None;
                d.facts.ended_on = Some(max);
            }
            Command::Withdraw { reason } => {
                require_text(
                    reason,
                    rule::WITHDRAWAL_REASON_REQUIRED,
                    "reason",
                )?;
                d.facts.stage = Stage::Withdrawn;
                d.facts.ended_on = Some(today);
            }
        }
        Ok(())
    }

    /// The rules a designation obeys on its own (designate, correct,
    /// import).
    fn check_designation(
        &self,
        des: &Designation,
        today: NaiveDate,
    ) -> Result<(), Refusal> {
        require_text(
            &des.document_number,
            rule::DOCUMENT_NUMBER_REQUIRED,
            "document_number",
        )?;
        not_after_today(des.decided_on, today, "decided_on")?;
        let Some(category) = Category::by_id(des.category) else {
            return Err(invalid(
                rule::UNKNOWN_CATEGORY,
                "category",
                format!("category number {} is unknown", des.category.0),
            ));
        };
        if category.list != des.list {
            return Err(invalid(
                rule::CATEGORY_LIST_MISMATCH,
                "category",
                format!(
                    "category {} belongs to the {} list, not {}",
                    category.code, category.list, des.list
                ),
            ));
        }
        match (des.list, des.severity) {
            (ListKind::Red, Some(s)) => {
                return Err(invalid(
                    rule::SEVERITY_NOT_ALLOWED,
                    "severity",
                    format!("red-list entries carry no severity (found {s})"),
                ));
            }
            (ListKind::Black | ListKind::Focus, None) => {
                return Err(invalid(
                    rule::SEVERITY_REQUIRED,
                    "severity",
                    format!(
                        "{} entries need a severity (minor, general or \
                         serious): it sets the publication period",
                        des.list
                    ),
                ));
            }
            _ => {}
        }
        if let Some(until) = des.valid_until {
            if des.list != ListKind::Red {
                return Err(invalid(
                    rule::VALID_UNTIL_NOT_ALLOWED,
                    "valid_until",
                    format!(
                        "{} entries end by their severity's period; \
                         valid_until is for the red list",
                        des.list
                    ),
                ));
            }
            if until <= des.decided_on {
                return Err(invalid(
                    rule::VALID_UNTIL_NOT_AFTER_DECISION,
                    "valid_until",
                    format!(
                        "valid_until {until} is not after decided_on {}",
                        des.decided_on
                    ),
                ));
            }
        }
        if des.scenarios.iter().all(|s| s.trim().is_empty()) {
            return Err(invalid(
                rule::SCENARIOS_REQUIRED,
                "scenarios",
                "name at least one measure scenario".into(),
            ));
        }
        Ok(())
    }

    /// A decision comes after the subject was heard: after its statement,
    /// or after the statement period ended.
    fn check_heard(
        &self,
        facts: &Facts,
        des: &Designation,
    ) -> Result<(), Refusal> {
        let decided = des.decided_on;
        let refuse = |why: String| {
            Err(invalid(
                rule::DECISION_IN_STATEMENT_PERIOD,
                "decided_on",
                format!("decided_on {decided} is {why}"),
            ))
        };
        if let Some(noticed) = facts.noticed_on {
            if decided < noticed {
                return refuse(format!("before the notice of {noticed}"));
            }
        }
        match (facts.statement_received_on, facts.statement_deadline) {
            (Some(received), _) if decided < received => {
                refuse(format!("before the statement received on {received}"))
            }
            (None, Some(dl)) if decided <= dl.date => refuse(format!(
                "inside the statement period (until {})",
                dl.date
            )),
            _ => Ok(()),
        }
    }

    /// Records a designation and what follows from it: period ends and
    /// the 双公示 deadline.
    fn designate(&self, des: &Designation, d: &mut Decision) {
        let ends = match des.severity {
            Some(s) => self.periods.ends(s, des.decided_on),
            None => PeriodEnds { min_end: None, max_end: des.valid_until },
        };
        let days = self.rules.publicity_days;
        let deadline = self.calendar.add_working_days(des.decided_on, days);
        d.facts.designation = Some(des.clone());
        d.facts.min_period_end = ends.min_end;
        d.facts.max_period_end = ends.max_end;
        d.facts.publicity_deadline = Some(deadline);
        d.deadlines.push(ComputedDeadline {
            kind: DeadlineKind::Publicity,
            working_days: days,
            deadline,
        });
    }

    fn publish(&self, published_on: NaiveDate, d: &mut Decision) {
        d.facts.published_on = Some(published_on);
        if let Some(deadline) = d.facts.publicity_deadline {
            d.publicity = Some(PublicityCheck {
                deadline,
                published_on,
                met: published_on <= deadline.date,
            });
        }
    }

    /// An entry whose maximum period is over is not (re)published.
    fn check_not_ended(
        &self,
        facts: &Facts,
        today: NaiveDate,
    ) -> Result<(), Refusal> {
        match facts.max_period_end {
            Some(end) if today >= end => Err(conflict(
                rule::PERIOD_ALREADY_ENDED,
                format!(
                    "the publication period ended on {end}; today is \
                     {today}: there is nothing left to publish"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// Department, then role (module comment, "Departments").
fn authorize(
    facts: &Facts,
    command: &Command,
    actor: &Actor,
) -> Result<(), Refusal> {
    let action = command.action();
    let own = actor.department == facts.department;
    if action == Action::Expire && actor.operator {
        return Ok(());
    }
    if !own {
        let why = if action == Action::Repair {
            " (谁认定、谁修复: only the designating department repairs)"
        } else {
            ""
        };
        return Err(forbidden(
            rule::NOT_DESIGNATING_DEPARTMENT,
            format!(
                "the entry was designated by {}; {} may not {action} it{why}",
                facts.department, actor.department
            ),
        ));
    }
    let review = matches!(action, Action::Uphold | Action::Correct)
        || (action == Action::Revoke && facts.stage == Stage::Disputed);
    if review {
        if !actor.reviewer {
            return Err(forbidden(
                rule::REVIEWER_ROLE_REQUIRED,
                format!(
                    "{action} decides an objection: it needs the reviewer role"
                ),
            ));
        }
    } else if action == Action::Object {
        if !(actor.publisher || actor.reviewer) {
            return Err(forbidden(
                rule::PUBLISHER_ROLE_REQUIRED,
                "recording an objection needs the publisher or reviewer role"
                    .into(),
            ));
        }
    } else if !actor.publisher {
        return Err(forbidden(
            rule::PUBLISHER_ROLE_REQUIRED,
            format!("{action} needs the publisher role"),
        ));
    }
    Ok(())
}

fn estimated(d: Deadline) -> &'static str {
    if d.estimated {
        " (estimated: no holiday notice for that year)"
    } else {
        ""
    }
}

/// At most 100 characters of user text in a message.
fn clip(s: &str) -> String {
    match s.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

fn changes(
    before: Option<&Designation>,
    after: &Designation,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut diff = |field: &'static str, before: String, after: String| {
        if before != after {
            out.push(FieldChange { field, before, after });
        }
    };
    let category = |id: CategoryId| {
        Category::by_id(id).map_or_else(|| id.0.to_string(), |c| c.code.into())
    };
    let b = before;
    diff(
        "decided_on",
        show(b.map(|b| b.decided_on)),
        after.decided_on.to_string(),
    );
    diff(
        "document_number",
        b.map(|b| b.document_number.clone()).unwrap_or_default(),
        after.document_number.clone(),
    );
    diff("list", show(b.map(|b| b.list)), after.list.to_string());
    diff(
        "category",
        b.map(|b| category(b.category)).unwrap_or_default(),
        category(after.category),
    );
    diff("severity", show(b.and_then(|b| b.severity)), show(after.severity));
    diff(
        "scenarios",
        b.map(|b| b.scenarios.join(",")).unwrap_or_default(),
        after.scenarios.join(","),
    );
    diff(
        "valid_until",
        show(b.and_then(|b| b.valid_until)),
        show(after.valid_until),
    );
    out
}
