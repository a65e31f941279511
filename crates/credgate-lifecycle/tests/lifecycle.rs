//! The state machine driven with dates moved by hand: every legal
//! transition, every illegal one and every guard with its rule code.

use chrono::NaiveDate;
use credgate_lifecycle::{
    Action, Actor, Ban, Command, Deadline, DeadlineKind, Decision,
    Designation, Facts, InterviewKind, Lifecycle, Proposal, RefusalKind,
    Stage, basis_names_legal_source, rule,
};
use credgate_model::{Category, EntryStatus, ListKind, Severity};
use std::collections::BTreeSet;

const DEPT: &str = "js-scjg";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn lc() -> Lifecycle {
    Lifecycle::builtin()
}

fn clerk() -> Actor {
    Actor::publisher(DEPT)
}

fn reviewer() -> Actor {
    Actor::reviewer(DEPT)
}

/// Publisher and reviewer of the designating department: passes every
/// department and role rule, so a refusal is about the stage or a guard.
fn all_roles() -> Actor {
    Actor { reviewer: true, ..clerk() }
}

fn proposal() -> Proposal {
    Proposal {
        reasons: "未按期履行行政处罚决定".into(),
        basis: "《企业信息公示暂行条例》第十七条".into(),
        rights: "可在期限内陈述申辩".into(),
        statement_days: None,
    }
}

fn black(decided_on: NaiveDate, severity: Severity) -> Designation {
    Designation {
        decided_on,
        document_number: "苏市监信〔2026〕1号".into(),
        list: ListKind::Black,
        category: Category::parse("market_serious_violation").unwrap().id(),
        severity: Some(severity),
        scenarios: vec!["government_procurement".into()],
        valid_until: None,
    }
}

fn red(decided_on: NaiveDate, valid_until: Option<NaiveDate>) -> Designation {
    Designation {
        list: ListKind::Red,
        category: Category::parse("tax_a_grade").unwrap().id(),
        severity: None,
        scenarios: vec!["administrative_licensing".into()],
        valid_until,
        ..black(decided_on, Severity::Minor)
    }
}

/// Runs a command that must be accepted.
fn ok(
    facts: Option<&Facts>,
    command: Command,
    actor: &Actor,
    today: NaiveDate,
) -> Decision {
    lc().decide(facts, &command, actor, today).unwrap_or_else(|r| {
        panic!("{:?} refused on {today}: {r}", command.action())
    })
}

/// The rule a refused command breaks, and the refusal's HTTP status.
fn refused(
    facts: Option<&Facts>,
    command: &Command,
    actor: &Actor,
    today: NaiveDate,
) -> (&'static str, u16) {
    match lc().decide(facts, command, actor, today) {
        Ok(dec) => panic!("{:?} accepted: {dec:?}", command.action()),
        Err(r) => {
            assert!(!r.message.is_empty());
            if r.kind == RefusalKind::Invalid {
                assert!(r.field.is_some(), "{r}");
            }
            (r.rule, r.kind.http_status())
        }
    }
}

// A general black-list entry walked through its stages (Monday 2 March
// 2026 onwards; no holidays until Qingming on 4 April).
const NOTICED_ON: (i32, u32, u32) = (2026, 3, 2);

fn noticed() -> Facts {
    let (y, m, day) = NOTICED_ON;
    ok(None, Command::Propose(proposal()), &clerk(), d(y, m, day)).facts
}

fn designated_as(des: Designation) -> Facts {
    // The 5-working-day statement period ends on Monday 9 March.
    ok(Some(&noticed()), Command::Designate(des), &clerk(), d(2026, 3, 10))
        .facts
}

fn designated() -> Facts {
    designated_as(black(d(2026, 3, 10), Severity::General))
}

fn published() -> Facts {
    ok(Some(&designated()), Command::Publish, &clerk(), d(2026, 3, 11)).facts
}

fn object() -> Command {
    Command::Object {
        grounds: "处罚已履行完毕".into(),
        received_on: d(2026, 3, 12),
    }
}

fn disputed() -> Facts {
    ok(Some(&published()), object(), &clerk(), d(2026, 3, 12)).facts
}

fn repair() -> Command {
    Command::Repair {
        commitment: "本单位承诺守法经营".into(),
        obligations_met: true,
    }
}

fn exited() -> Facts {
    ok(Some(&published()), repair(), &clerk(), d(2026, 6, 10)).facts
}

fn revoked() -> Facts {
    let revoke = Command::Revoke { reason: "认定错误".into() };
    ok(Some(&published()), revoke, &clerk(), d(2026, 3, 12)).facts
}

fn withdrawn() -> Facts {
    let withdraw = Command::Withdraw { reason: "证据不足".into() };
    ok(Some(&noticed()), withdraw, &clerk(), d(2026, 3, 3)).facts
}

fn at(stage: Stage) -> Facts {
    let facts = match stage {
        Stage::Noticed => noticed(),
        Stage::Designated => designated(),
        Stage::Published => published(),
        Stage::Disputed => disputed(),
        Stage::Exited => exited(),
        Stage::Revoked => revoked(),
        Stage::Withdrawn => withdrawn(),
    };
    assert_eq!(facts.stage, stage);
    facts
}

/// A command with valid inputs for each action.
fn sample(action: Action) -> Command {
    match action {
        Action::Propose => Command::Propose(proposal()),
        Action::RecordStatement => Command::RecordStatement {
            text: "已整改".into(),
            received_on: d(2026, 3, 3),
        },
        Action::Designate => {
            Command::Designate(black(d(2026, 3, 10), Severity::General))
        }
        Action::Publish => Command::Publish,
        Action::SetRectification => {
            Command::SetRectification { deadline: d(2026, 4, 30) }
        }
        Action::RecordInterview => Command::RecordInterview {
            kind: InterviewKind::Reminder,
            on: d(2026, 3, 12),
            notes: "".into(),
        },
        Action::SetBan => Command::SetBan(Ban::Permanent),
        Action::Object => object(),
        Action::Uphold => Command::Uphold,
        Action::Correct => {
            Command::Correct(black(d(2026, 3, 10), Severity::Minor))
        }
        Action::Revoke => Command::Revoke { reason: "认定错误".into() },
        Action::Repair => repair(),
        Action::Expire => Command::Expire,
        Action::Withdraw => {
            Command::Withdraw { reason: "证据不足".into() }
        }
        Action::Import => Command::Import {
            designation: black(d(2026, 3, 10), Severity::General),
            published_on: None,
        },
    }
}

#[test]
fn every_legal_transition() {
    let p = clerk();
    let r = reviewer();
    // propose → noticed; record_statement → noticed; designate.
    let dec = ok(None, Command::Propose(proposal()), &p, d(2026, 3, 2));
    assert_eq!((dec.action, dec.from), (Action::Propose, None));
    let f = dec.facts;
    assert_eq!(
        (f.stage, f.version, f.department.as_str()),
        (Stage::Noticed, 1, DEPT)
    );
    assert_eq!(dec.deadlines[0].kind, DeadlineKind::Statement);
    assert_eq!(
        f.statement_deadline,
        Some(Deadline { date: d(2026, 3, 9), estimated: false })
    );
    let f =
        ok(Some(&f), sample(Action::RecordStatement), &p, d(2026, 3, 3)).facts;
    assert_eq!((f.stage, f.version), (Stage::Noticed, 2));
    assert_eq!(f.statement_received_on, Some(d(2026, 3, 3)));
    // With the statement heard, designation need not wait for 9 March.
    let des = black(d(2026, 3, 4), Severity::General);
    let dec = ok(Some(&f), Command::Designate(des), &p, d(2026, 3, 4));
    let f = dec.facts;
    assert_eq!((f.stage, f.version), (Stage::Designated, 3));
    assert_eq!(f.min_period_end, Some(d(2026, 6, 4)));
    assert_eq!(f.max_period_end, Some(d(2027, 3, 4)));
    assert_eq!(
        f.publicity_deadline,
        Some(Deadline { date: d(2026, 3, 13), estimated: false })
    );
    // publish → published, 双公示 met.
    let dec = ok(Some(&f), Command::Publish, &p, d(2026, 3, 5));
    assert!(dec.publicity.unwrap().met);
    let f = dec.facts;
    assert_eq!(
        (f.stage, f.published_on),
        (Stage::Published, Some(d(2026, 3, 5)))
    );
    assert_eq!(f.stage.screening_status(), Some(EntryStatus::Active));
    // Records on a published entry keep it published.
    let f = ok(Some(&f), sample(Action::SetRectification), &p, d(2026, 3, 6))
        .facts;
    assert_eq!(f.rectification_deadline, Some(d(2026, 4, 30)));
    let interview = Command::RecordInterview {
        kind: InterviewKind::Warning,
        on: d(2026, 5, 6),
        notes: "逾期未整改".into(),
    };
    let f = ok(Some(&f), interview, &p, d(2026, 5, 6)).facts;
    let ban = Command::SetBan(Ban::Until(d(2029, 5, 6)));
    let f = ok(Some(&f), ban, &p, d(2026, 5, 7)).facts;
    assert_eq!(
        (f.stage, f.ban),
        (Stage::Published, Some(Ban::Until(d(2029, 5, 6))))
    );
    // object → disputed → uphold → published.
    let objection = Command::Object {
        grounds: "已整改".into(),
        received_on: d(2026, 5, 8),
    };
    let dec = ok(Some(&f), objection.clone(), &p, d(2026, 5, 8));
    let f = dec.facts;
    assert_eq!(f.stage, Stage::Disputed);
    assert_eq!(f.stage.screening_status(), Some(EntryStatus::Disputed));
    // 10 working days from Friday 8 May 2026 (Saturday 9 May worked).
    assert_eq!(
        f.review_deadline,
        Some(Deadline { date: d(2026, 5, 21), estimated: false })
    );
    let f = ok(Some(&f), Command::Uphold, &r, d(2026, 5, 11)).facts;
    assert_eq!((f.stage, f.review_deadline), (Stage::Published, None));
    // object → correct → published, with the changes and new periods.
    let f = ok(Some(&f), objection, &r, d(2026, 5, 12)).facts;
    let fixed = black(d(2026, 3, 4), Severity::Minor);
    let dec = ok(Some(&f), Command::Correct(fixed), &r, d(2026, 5, 13));
    assert_eq!(dec.changes.len(), 1);
    assert_eq!(
        (
            dec.changes[0].field,
            dec.changes[0].before.as_str(),
            dec.changes[0].after.as_str()
        ),
        ("severity", "general", "minor")
    );
    let f = dec.facts;
    assert_eq!(f.stage, Stage::Published);
    assert_eq!(f.min_period_end, Some(d(2026, 3, 4)));
    assert_eq!(f.max_period_end, Some(d(2026, 6, 4)));
    // repair → exited.
    let dec = ok(Some(&f), repair(), &p, d(2026, 5, 14));
    let f = dec.facts;
    assert_eq!(
        (f.stage, f.ended_on, f.version),
        (Stage::Exited, Some(d(2026, 5, 14)), 12)
    );
    assert_eq!(f.stage.screening_status(), None);
    assert!(f.stage.is_final());

    // withdraw: noticed → withdrawn.
    assert_eq!(withdrawn().stage, Stage::Withdrawn);
    // revoke from designated, published (publisher) and disputed
    // (reviewer).
    let revoke = sample(Action::Revoke);
    for (facts, actor) in
        [(designated(), &p), (published(), &p), (disputed(), &r)]
    {
        let dec = ok(Some(&facts), revoke.clone(), actor, d(2026, 3, 20));
        assert_eq!(dec.from, Some(facts.stage));
        assert_eq!(dec.facts.stage, Stage::Revoked);
        assert_eq!(dec.facts.ended_on, Some(d(2026, 3, 20)));
    }
    // expire from published and disputed, at the maximum.
    for facts in [published(), disputed()] {
        let dec = ok(Some(&facts), Command::Expire, &p, d(2027, 3, 10));
        assert_eq!(dec.facts.stage, Stage::Exited);
        assert_eq!(dec.facts.review_deadline, None);
    }
    // import → published directly.
    let dec = ok(None, sample(Action::Import), &p, d(2026, 3, 11));
    assert_eq!((dec.facts.stage, dec.facts.version), (Stage::Published, 1));
    assert_eq!(dec.facts.noticed_on, None);
    assert!(dec.publicity.unwrap().met);
}

#[test]
fn versions_count_every_decision() {
    let f = published();
    assert_eq!(f.version, 3);
    let next = ok(
        Some(&f),
        Command::SetBan(Ban::Permanent),
        &clerk(),
        d(2026, 3, 12),
    );
    assert_eq!(next.facts.version, 4);
}

#[test]
fn every_illegal_transition_is_refused_with_its_rule() {
    let legal: &[(Stage, &[Action])] = &[
        (
            Stage::Noticed,
            &[Action::RecordStatement, Action::Designate, Action::Withdraw],
        ),
        (Stage::Designated, &[Action::Publish, Action::Revoke]),
        (
            Stage::Published,
            &[
                Action::SetRectification,
                Action::RecordInterview,
                Action::SetBan,
                Action::Object,
                Action::Revoke,
                Action::Repair,
                Action::Expire,
            ],
        ),
        (
            Stage::Disputed,
            &[Action::Uphold, Action::Correct, Action::Revoke, Action::Expire],
        ),
        (Stage::Exited, &[]),
        (Stage::Revoked, &[]),
        (Stage::Withdrawn, &[]),
    ];
    let mut checked = 0;
    for (stage, allowed) in legal {
        let facts = at(*stage);
        for action in Action::ALL {
            if allowed.contains(action) {
                continue;
            }
            // A date when no date guard could refuse instead.
            let got = refused(
                Some(&facts),
                &sample(*action),
                &all_roles(),
                d(2028, 1, 5),
            );
            assert_eq!(
                got,
                (rule::ILLEGAL_TRANSITION, 409),
                "{action} on {stage}"
            );
            checked += 1;
        }
    }
    // Without an entry, only propose and import.
    for action in Action::ALL {
        if matches!(action, Action::Propose | Action::Import) {
            continue;
        }
        let got =
            refused(None, &sample(*action), &all_roles(), d(2026, 3, 12));
        assert_eq!(
            got,
            (rule::ILLEGAL_TRANSITION, 409),
            "{action} on nothing"
        );
        checked += 1;
    }
    // 7 stages × 15 actions, minus the 16 legal pairs; 13 on no entry.
    assert_eq!(checked, 7 * 15 - 16 + 13);
}

/// One refusal: the rule, the entry (None: a creation), the command, who,
/// when, and the expected HTTP status.
type Case = (&'static str, Option<Facts>, Command, Actor, NaiveDate, u16);

fn propose_with(change: impl FnOnce(&mut Proposal)) -> Command {
    let mut p = proposal();
    change(&mut p);
    Command::Propose(p)
}

fn designate_with(change: impl FnOnce(&mut Designation)) -> Command {
    let mut des = black(d(2026, 3, 10), Severity::General);
    change(&mut des);
    Command::Designate(des)
}

fn guard_cases() -> Vec<Case> {
    let (p, r) = (clerk(), reviewer());
    let other = Actor::publisher("js-sw");
    let today = d(2026, 3, 12);
    let statement = |text: &str, on| Command::RecordStatement {
        text: text.into(),
        received_on: on,
    };
    let stated = ok(
        Some(&noticed()),
        statement("已整改", d(2026, 3, 3)),
        &p,
        d(2026, 3, 3),
    )
    .facts;
    let interview = |on| Command::RecordInterview {
        kind: InterviewKind::Reminder,
        on,
        notes: "".into(),
    };
    let with_deadline = ok(
        Some(&published()),
        Command::SetRectification { deadline: d(2026, 3, 31) },
        &p,
        today,
    )
    .facts;
    let red_open = designated_as(red(d(2026, 3, 10), None));
    let red_open = ok(Some(&red_open), Command::Publish, &p, today).facts;
    let minor = designated_as(black(d(2026, 3, 10), Severity::Minor));
    vec![
        // Departments and roles (403).
        (
            rule::NOT_DESIGNATING_DEPARTMENT,
            Some(designated()),
            Command::Publish,
            other.clone(),
            today,
            403,
        ),
        (
            rule::NOT_DESIGNATING_DEPARTMENT,
            Some(published()),
            repair(),
            other.clone(),
            d(2026, 6, 10),
            403,
        ),
        (
            rule::NOT_DESIGNATING_DEPARTMENT,
            Some(published()),
            Command::Expire,
            other.clone(),
            d(2027, 3, 10),
            403,
        ),
        (
            rule::NOT_DESIGNATING_DEPARTMENT,
            Some(disputed()),
            Command::Uphold,
            Actor::reviewer("js-sw"),
            today,
            403,
        ),
        (
            rule::PUBLISHER_ROLE_REQUIRED,
            Some(noticed()),
            designate_with(|_| {}),
            r.clone(),
            d(2026, 3, 10),
            403,
        ),
        (
            rule::PUBLISHER_ROLE_REQUIRED,
            None,
            Command::Propose(proposal()),
            r.clone(),
            today,
            403,
        ),
        (
            rule::PUBLISHER_ROLE_REQUIRED,
            Some(published()),
            object(),
            Actor::operator(DEPT),
            today,
            403,
        ),
        (
            rule::REVIEWER_ROLE_REQUIRED,
            Some(disputed()),
            Command::Uphold,
            p.clone(),
            today,
            403,
        ),
        (
            rule::REVIEWER_ROLE_REQUIRED,
            Some(disputed()),
            sample(Action::Correct),
            p.clone(),
            today,
            403,
        ),
        (
            rule::REVIEWER_ROLE_REQUIRED,
            Some(disputed()),
            sample(Action::Revoke),
            p.clone(),
            today,
            403,
        ),
        (
            rule::DEPARTMENT_REQUIRED,
            None,
            Command::Propose(proposal()),
            Actor::publisher(" "),
            today,
            403,
        ),
        // The notice.
        (
            rule::REASONS_REQUIRED,
            None,
            propose_with(|p| p.reasons = " ".into()),
            p.clone(),
            today,
            422,
        ),
        (
            rule::BASIS_REQUIRED,
            None,
            propose_with(|p| p.basis = "".into()),
            p.clone(),
            today,
            422,
        ),
        (
            rule::BASIS_NOT_LEGAL,
            None,
            propose_with(|p| p.basis = "依据有关规定".into()),
            p.clone(),
            today,
            422,
        ),
        (
            rule::RIGHTS_REQUIRED,
            None,
            propose_with(|p| p.rights = "".into()),
            p.clone(),
            today,
            422,
        ),
        (
            rule::STATEMENT_PERIOD_INVALID,
            None,
            propose_with(|p| p.statement_days = Some(0)),
            p.clone(),
            today,
            422,
        ),
        (
            rule::STATEMENT_PERIOD_INVALID,
            None,
            propose_with(|p| p.statement_days = Some(61)),
            p.clone(),
            today,
            422,
        ),
        // The statement.
        (
            rule::STATEMENT_TEXT_REQUIRED,
            Some(noticed()),
            statement("", d(2026, 3, 3)),
            p.clone(),
            d(2026, 3, 3),
            422,
        ),
        (
            rule::DATE_IN_FUTURE,
            Some(noticed()),
            statement("x", d(2026, 3, 4)),
            p.clone(),
            d(2026, 3, 3),
            422,
        ),
        (
            rule::DATE_BEFORE_NOTICE,
            Some(noticed()),
            statement("x", d(2026, 3, 1)),
            p.clone(),
            d(2026, 3, 3),
            422,
        ),
        (
            rule::STATEMENT_ALREADY_RECORDED,
            Some(stated.clone()),
            statement("x", d(2026, 3, 4)),
            p.clone(),
            d(2026, 3, 4),
            409,
        ),
        // Designation: on the deadline day the period is still open.
        (
            rule::STATEMENT_PERIOD_OPEN,
            Some(noticed()),
            designate_with(|d2| d2.decided_on = d(2026, 3, 9)),
            p.clone(),
            d(2026, 3, 9),
            409,
        ),
        (
            rule::DECISION_IN_STATEMENT_PERIOD,
            Some(noticed()),
            designate_with(|d2| d2.decided_on = d(2026, 3, 9)),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::DECISION_IN_STATEMENT_PERIOD,
            Some(stated),
            designate_with(|d2| d2.decided_on = d(2026, 3, 2)),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::DATE_IN_FUTURE,
            Some(noticed()),
            designate_with(|d2| d2.decided_on = d(2026, 3, 11)),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::DOCUMENT_NUMBER_REQUIRED,
            Some(noticed()),
            designate_with(|d2| d2.document_number = "".into()),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::UNKNOWN_CATEGORY,
            Some(noticed()),
            designate_with(|d2| d2.category = credgate_model::CategoryId(999)),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::CATEGORY_LIST_MISMATCH,
            Some(noticed()),
            designate_with(|d2| d2.list = ListKind::Focus),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::SEVERITY_REQUIRED,
            Some(noticed()),
            designate_with(|d2| d2.severity = None),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::SEVERITY_NOT_ALLOWED,
            Some(noticed()),
            Command::Designate(Designation {
                severity: Some(Severity::Minor),
                ..red(d(2026, 3, 10), None)
            }),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::VALID_UNTIL_NOT_ALLOWED,
            Some(noticed()),
            designate_with(|d2| d2.valid_until = Some(d(2027, 1, 1))),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::VALID_UNTIL_NOT_AFTER_DECISION,
            Some(noticed()),
            Command::Designate(red(d(2026, 3, 10), Some(d(2026, 3, 10)))),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        (
            rule::SCENARIOS_REQUIRED,
            Some(noticed()),
            designate_with(|d2| d2.scenarios = vec![" ".into()]),
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        // Publication of what has already ended (minor: 3 months).
        (
            rule::PERIOD_ALREADY_ENDED,
            Some(minor),
            Command::Publish,
            p.clone(),
            d(2026, 6, 10),
            409,
        ),
        (
            rule::PERIOD_ALREADY_ENDED,
            None,
            Command::Import {
                designation: black(d(2022, 1, 4), Severity::Serious),
                published_on: Some(d(2022, 1, 5)),
            },
            p.clone(),
            d(2026, 3, 10),
            409,
        ),
        (
            rule::DATE_BEFORE_NOTICE,
            None,
            Command::Import {
                designation: black(d(2026, 3, 4), Severity::Serious),
                published_on: Some(d(2026, 3, 3)),
            },
            p.clone(),
            d(2026, 3, 10),
            422,
        ),
        // Records on a published entry.
        (
            rule::DEADLINE_NOT_IN_FUTURE,
            Some(published()),
            Command::SetRectification { deadline: today },
            p.clone(),
            today,
            422,
        ),
        (
            rule::RECTIFICATION_NOT_OVERDUE,
            Some(published()),
            interview(today),
            p.clone(),
            today,
            409,
        ),
        (
            rule::RECTIFICATION_NOT_OVERDUE,
            Some(with_deadline.clone()),
            interview(d(2026, 3, 31)),
            p.clone(),
            d(2026, 3, 31),
            409,
        ),
        (
            rule::DATE_IN_FUTURE,
            Some(with_deadline),
            interview(d(2026, 4, 2)),
            p.clone(),
            d(2026, 4, 1),
            422,
        ),
        (
            rule::BAN_END_NOT_IN_FUTURE,
            Some(published()),
            Command::SetBan(Ban::Until(today)),
            p.clone(),
            today,
            422,
        ),
        // Objections and reviews.
        (
            rule::GROUNDS_REQUIRED,
            Some(published()),
            Command::Object { grounds: "".into(), received_on: today },
            p.clone(),
            today,
            422,
        ),
        (
            rule::DATE_BEFORE_PUBLICATION,
            Some(published()),
            Command::Object {
                grounds: "x".into(),
                received_on: d(2026, 3, 10),
            },
            p.clone(),
            today,
            422,
        ),
        (
            rule::CORRECTION_CHANGES_NOTHING,
            Some(disputed()),
            Command::Correct(black(d(2026, 3, 10), Severity::General)),
            r.clone(),
            today,
            422,
        ),
        (
            rule::REVOCATION_REASON_REQUIRED,
            Some(published()),
            Command::Revoke { reason: " ".into() },
            p.clone(),
            today,
            422,
        ),
        // Exit.
        (
            rule::REPAIR_NOT_APPLICABLE,
            Some(red_open.clone()),
            repair(),
            p.clone(),
            d(2027, 3, 10),
            409,
        ),
        (
            rule::COMMITMENT_REQUIRED,
            Some(published()),
            Command::Repair { commitment: "".into(), obligations_met: true },
            p.clone(),
            d(2026, 6, 10),
            422,
        ),
        (
            rule::OBLIGATIONS_NOT_MET,
            Some(published()),
            Command::Repair {
                commitment: "承诺".into(),
                obligations_met: false,
            },
            p.clone(),
            d(2026, 6, 10),
            409,
        ),
        (
            rule::MINIMUM_PERIOD_NOT_REACHED,
            Some(published()),
            repair(),
            p.clone(),
            d(2026, 6, 9),
            409,
        ),
        (
            rule::NO_MAXIMUM_PERIOD,
            Some(red_open),
            Command::Expire,
            p.clone(),
            d(2030, 1, 1),
            409,
        ),
        (
            rule::MAXIMUM_PERIOD_NOT_REACHED,
            Some(published()),
            Command::Expire,
            p.clone(),
            d(2027, 3, 9),
            409,
        ),
        (
            rule::WITHDRAWAL_REASON_REQUIRED,
            Some(noticed()),
            Command::Withdraw { reason: "".into() },
            p.clone(),
            d(2026, 3, 3),
            422,
        ),
    ]
}

#[test]
fn every_guard_is_refused_with_its_rule() {
    let mut seen = BTreeSet::new();
    for (i, (want, facts, command, actor, today, status)) in
        guard_cases().into_iter().enumerate()
    {
        let got = refused(facts.as_ref(), &command, &actor, today);
        assert_eq!(got, (want, status), "case {i}: {command:?} on {today}");
        seen.insert(want);
    }
    seen.insert(rule::ILLEGAL_TRANSITION);
    let all: BTreeSet<_> = rule::ALL.iter().copied().collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "rules without a regression case: {missing:?}"
    );
}

#[test]
fn repair_is_refused_the_day_before_the_minimum_period_and_accepted_on_it() {
    // General, decided 10 March 2026: minimum 3 months → 10 June 2026.
    let f = published();
    assert_eq!(f.min_period_end, Some(d(2026, 6, 10)));
    let r =
        lc().decide(Some(&f), &repair(), &clerk(), d(2026, 6, 9)).unwrap_err();
    assert_eq!(r.rule, rule::MINIMUM_PERIOD_NOT_REACHED);
    assert!(r.message.contains("2026-06-10"), "{r}");
    let dec = ok(Some(&f), repair(), &clerk(), d(2026, 6, 10));
    assert_eq!(dec.facts.stage, Stage::Exited);
    // Serious: one year.
    let serious = designated_as(black(d(2026, 3, 10), Severity::Serious));
    let serious =
        ok(Some(&serious), Command::Publish, &clerk(), d(2026, 3, 11)).facts;
    assert_eq!(
        refused(Some(&serious), &repair(), &clerk(), d(2027, 3, 9)).0,
        rule::MINIMUM_PERIOD_NOT_REACHED
    );
    ok(Some(&serious), repair(), &clerk(), d(2027, 3, 10));
}

#[test]
fn minor_entries_are_repairable_once_the_obligations_are_met() {
    let minor = designated_as(black(d(2026, 3, 10), Severity::Minor));
    let minor =
        ok(Some(&minor), Command::Publish, &clerk(), d(2026, 3, 10)).facts;
    assert_eq!(minor.min_period_end, Some(d(2026, 3, 10)));
    let not_met = Command::Repair {
        commitment: "承诺".into(),
        obligations_met: false,
    };
    assert_eq!(
        refused(Some(&minor), &not_met, &clerk(), d(2026, 3, 10)).0,
        rule::OBLIGATIONS_NOT_MET
    );
    ok(Some(&minor), repair(), &clerk(), d(2026, 3, 10));
}

#[test]
fn repair_only_by_the_designating_department() {
    let r = lc()
        .decide(
            Some(&published()),
            &repair(),
            &Actor::publisher("js-sw"),
            d(2026, 7, 1),
        )
        .unwrap_err();
    assert_eq!(
        (r.rule, r.kind),
        (rule::NOT_DESIGNATING_DEPARTMENT, RefusalKind::Forbidden)
    );
    assert!(r.message.contains("谁认定、谁修复"), "{r}");
}

#[test]
fn expiry_at_the_maximum_period() {
    // General, decided 10 March 2026: maximum 12 months → 10 March 2027.
    let f = published();
    assert_eq!(f.max_period_end, Some(d(2027, 3, 10)));
    assert!(!Lifecycle::due_for_expiry(&f, d(2027, 3, 9)));
    assert!(Lifecycle::due_for_expiry(&f, d(2027, 3, 10)));
    assert_eq!(
        refused(Some(&f), &Command::Expire, &clerk(), d(2027, 3, 9)).0,
        rule::MAXIMUM_PERIOD_NOT_REACHED
    );
    // The sweep runs as an operator of another department, and late: the
    // entry left on the day its period ended.
    let sweep = Actor::operator("credit-centre");
    let dec = ok(Some(&f), Command::Expire, &sweep, d(2027, 3, 15));
    assert_eq!(dec.facts.stage, Stage::Exited);
    assert_eq!(dec.facts.ended_on, Some(d(2027, 3, 10)));
    // Disputed entries expire too; others never come due.
    assert!(Lifecycle::due_for_expiry(&disputed(), d(2027, 3, 10)));
    for stage in [Stage::Designated, Stage::Exited, Stage::Revoked] {
        assert!(
            !Lifecycle::due_for_expiry(&at(stage), d(2030, 1, 1)),
            "{stage}"
        );
    }
}

#[test]
fn statement_deadline_across_the_spring_festival() {
    // Noticed on Thursday 12 February 2026 with 5 working days: Fri 13,
    // Sat 14 (worked), then the holiday (15–23), Tue 24 – Thu 26.
    let f =
        ok(None, Command::Propose(proposal()), &clerk(), d(2026, 2, 12)).facts;
    assert_eq!(
        f.statement_deadline,
        Some(Deadline { date: d(2026, 2, 26), estimated: false })
    );
    let des = |on| Command::Designate(black(on, Severity::General));
    let r = lc()
        .decide(Some(&f), &des(d(2026, 2, 26)), &clerk(), d(2026, 2, 26))
        .unwrap_err();
    assert_eq!(r.rule, rule::STATEMENT_PERIOD_OPEN);
    assert!(r.message.contains("until 2026-02-26"), "{r}");
    ok(Some(&f), des(d(2026, 2, 27)), &clerk(), d(2026, 2, 27));
}

#[test]
fn a_statement_period_in_a_year_without_a_notice_is_flagged() {
    let dec =
        ok(None, Command::Propose(proposal()), &clerk(), d(2026, 12, 29));
    let deadline = dec.deadlines[0].deadline;
    assert_eq!(deadline, Deadline { date: d(2027, 1, 5), estimated: true });
    let r = lc()
        .decide(
            Some(&dec.facts),
            &Command::Designate(black(d(2027, 1, 5), Severity::General)),
            &clerk(),
            d(2027, 1, 5),
        )
        .unwrap_err();
    assert!(r.message.contains("estimated"), "{r}");
}

#[test]
fn publicity_deadline_across_the_spring_festival() {
    // Decided Thursday 12 February 2026: 7 working days end on the worked
    // Saturday 28 February.
    let mut f = ok(
        None,
        Command::Propose(Proposal { statement_days: Some(1), ..proposal() }),
        &clerk(),
        d(2026, 2, 10),
    )
    .facts;
    f = ok(
        Some(&f),
        Command::Designate(black(d(2026, 2, 12), Severity::General)),
        &clerk(),
        d(2026, 2, 12),
    )
    .facts;
    let deadline = Deadline { date: d(2026, 2, 28), estimated: false };
    assert_eq!(f.publicity_deadline, Some(deadline));
    assert!(!f.publicity_overdue(d(2026, 2, 28)));
    assert!(f.publicity_overdue(d(2026, 3, 2)));
    let on_time = ok(Some(&f), Command::Publish, &clerk(), d(2026, 2, 28));
    assert!(on_time.publicity.unwrap().met);
    let late = ok(Some(&f), Command::Publish, &clerk(), d(2026, 3, 2));
    let check = late.publicity.unwrap();
    assert_eq!((check.deadline, check.met), (deadline, false));
    assert!(!late.facts.publicity_overdue(d(2026, 3, 2)));
}

#[test]
fn a_red_list_entry() {
    let f = designated_as(red(d(2026, 3, 10), Some(d(2029, 3, 9))));
    assert_eq!(f.list(), Some(ListKind::Red));
    assert_eq!(f.severity(), None);
    assert_eq!(
        (f.min_period_end, f.max_period_end),
        (None, Some(d(2029, 3, 9)))
    );
    let f = ok(Some(&f), Command::Publish, &clerk(), d(2026, 3, 11)).facts;
    assert_eq!(
        refused(Some(&f), &repair(), &clerk(), d(2028, 1, 1)).0,
        rule::REPAIR_NOT_APPLICABLE
    );
    assert!(!Lifecycle::due_for_expiry(&f, d(2029, 3, 8)));
    assert!(Lifecycle::due_for_expiry(&f, d(2029, 3, 9)));
    let dec = ok(Some(&f), Command::Expire, &clerk(), d(2029, 3, 9));
    assert_eq!(dec.facts.stage, Stage::Exited);
    // Without valid_until it never comes due.
    let open = designated_as(red(d(2026, 3, 10), None));
    let open =
        ok(Some(&open), Command::Publish, &clerk(), d(2026, 3, 11)).facts;
    assert!(!Lifecycle::due_for_expiry(&open, d(2100, 1, 1)));
}

#[test]
fn import_publishes_directly_and_checks_the_old_publicity() {
    let import = Command::Import {
        designation: black(d(2025, 6, 3), Severity::Serious),
        published_on: Some(d(2025, 6, 20)),
    };
    let dec = ok(None, import, &clerk(), d(2026, 3, 10));
    assert_eq!(dec.action, Action::Import);
    assert_eq!(dec.facts.stage, Stage::Published);
    assert_eq!(dec.facts.max_period_end, Some(d(2028, 6, 3)));
    let check = dec.publicity.unwrap();
    // 3 June 2025 + 7 working days = 12 June; published on the 20th.
    assert_eq!(check.deadline.date, d(2025, 6, 12));
    assert!(!check.met);
}

#[test]
fn the_basis_must_name_a_legal_source() {
    let cases = [
        ("《中华人民共和国税收征收管理法》第四十五条", true),
        ("《保障农民工工资支付条例》第四十八条", true),
        ("《最高人民法院关于公布失信被执行人名单信息的若干规定》", true),
        ("《政府采购法实施条例》", true),
        (
            "《国务院关于建立完善守信联合激励和失信联合惩戒制度加快推进社会诚信建设的指导意见》",
            true,
        ),
        ("国办发〔2020〕49号", true),
        ("国发[2016]33号", true),
        ("中办发（2016）64号", true),
        ("依法", false),
        ("依据有关规定", false),
        ("《关于开展专项整治的通知》", false),
        ("国办发", false),
        ("领导批示", false),
    ];
    for (basis, want) in cases {
        assert_eq!(basis_names_legal_source(basis), want, "{basis}");
    }
}

#[test]
fn codes_round_trip() {
    for s in Stage::ALL {
        assert_eq!(Stage::from_code(s.code()), Some(*s));
    }
    for a in Action::ALL {
        assert_eq!(Action::from_code(a.code()), Some(*a));
        assert_eq!(sample(*a).action(), *a);
    }
    assert_eq!(Stage::Published.name_zh(), "公示中");
    assert_eq!(InterviewKind::Warning.name_zh(), "警示约谈");
    assert_eq!(Stage::from_code("active"), None);
}
