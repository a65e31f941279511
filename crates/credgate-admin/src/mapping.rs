//! Between the store's records and the lifecycle's facts. The two crates
//! keep their own shapes (the store's are storage shapes; the
//! lifecycle's are what its guards read): this is the one place that
//! converts, for transitions and imports alike.

use credgate_lifecycle as lc;
use credgate_model::{Category, ListKind};
use credgate_store::{Ban, EntryData, StoredEntry};

use crate::views::extra;

fn deadline(
    date: Option<chrono::NaiveDate>,
    e: &EntryData,
    key: &str,
) -> Option<lc::Deadline> {
    date.map(|date| lc::Deadline {
        date,
        estimated: e.facts.extra.get(key).is_some_and(|v| v == "true"),
    })
}

/// The designation an entry carries, once it has a decision.
pub fn designation(d: &EntryData) -> Option<lc::Designation> {
    Some(lc::Designation {
        decided_on: d.listed_on?,
        document_number: d.document_number.clone()?,
        list: d.list,
        category: d.category,
        severity: d.severity,
        scenarios: d.facts.scenarios.clone(),
        valid_until: d.valid_until,
    })
}

/// What the lifecycle needs to know about a stored entry.
pub fn to_facts(e: &StoredEntry) -> lc::Facts {
    let d = &e.data;
    let f = &d.facts;
    lc::Facts {
        stage: e.stage,
        version: e.version,
        department: e.department.clone(),
        noticed_on: f.notice.as_ref().map(|n| n.noticed_on),
        statement_deadline: deadline(
            f.notice.as_ref().map(|n| n.statement_deadline),
            d,
            extra::STATEMENT_ESTIMATED,
        ),
        statement_received_on: f.statement.as_ref().map(|s| s.received_on),
        designation: designation(d),
        min_period_end: f.min_period_end,
        max_period_end: f.max_period_end,
        publicity_deadline: deadline(
            f.publicity_deadline,
            d,
            extra::PUBLICITY_ESTIMATED,
        ),
        published_on: f.published_on,
        rectification_deadline: f.rectification_deadline,
        review_deadline: deadline(
            f.review_deadline,
            d,
            extra::REVIEW_ESTIMATED,
        ),
        ban: f.ban.as_ref().map(|b| match b.until {
            Some(d) => lc::Ban::Until(d),
            None => lc::Ban::Permanent,
        }),
        ended_on: if e.stage.is_final() { d.removed_on } else { None },
    }
}

fn set_flag(d: &mut EntryData, key: &str, on: Option<bool>) {
    match on {
        Some(v) => {
            d.facts.extra.insert(key.to_string(), v.to_string());
        }
        None => {
            d.facts.extra.remove(key);
        }
    }
}

/// Writes what a decision decided into an entry's data: the designation,
/// period ends, deadlines (with their `estimated` flags), publication,
/// ban and end date. Text the lifecycle does not keep (statement text,
/// ban scope, removal reason) is the caller's to set.
pub fn apply_decision(decision: &lc::Decision, d: &mut EntryData) {
    let f = &decision.facts;
    if let Some(des) = &f.designation {
        d.list = des.list;
        d.category = des.category;
        d.severity = des.severity;
        d.document_number = Some(des.document_number.clone());
        d.listed_on = Some(des.decided_on);
        d.valid_until = des.valid_until;
        d.facts.scenarios = des.scenarios.clone();
    }
    if let (Some(notice), Some(dl)) =
        (d.facts.notice.as_mut(), f.statement_deadline)
    {
        notice.statement_deadline = dl.date;
    }
    set_flag(
        d,
        extra::STATEMENT_ESTIMATED,
        f.statement_deadline.map(|x| x.estimated),
    );
    d.facts.min_period_end = f.min_period_end;
    d.facts.max_period_end = f.max_period_end;
    d.facts.publicity_deadline = f.publicity_deadline.map(|x| x.date);
    set_flag(
        d,
        extra::PUBLICITY_ESTIMATED,
        f.publicity_deadline.map(|x| x.estimated),
    );
    d.facts.published_on = f.published_on;
    if let Some(check) = decision.publicity {
        set_flag(d, extra::PUBLICITY_MET, Some(check.met));
    }
    d.facts.rectification_deadline = f.rectification_deadline;
    d.facts.review_deadline = f.review_deadline.map(|x| x.date);
    set_flag(
        d,
        extra::REVIEW_ESTIMATED,
        f.review_deadline.map(|x| x.estimated),
    );
    let scope = d.facts.ban.as_ref().map(|b| b.scope.clone());
    d.facts.ban = f.ban.map(|b| Ban {
        scope: scope.clone().unwrap_or_default(),
        until: match b {
            lc::Ban::Until(d) => Some(d),
            lc::Ban::Permanent => None,
        },
    });
    if f.stage.is_final() {
        d.removed_on = f.ended_on;
    }
}

/// The category's list must be the entry's: used when a proposal names
/// both.
pub fn category_on_list(c: &Category, list: ListKind) -> bool {
    c.list == list
}
