//! From hits to a decision and the measures that apply.
//!
//! Rules (most severe wins):
//! - `block`: an identifier hit (the subject's own code, or a related
//!   party's) on an in-force black entry with a prohibiting measure in the
//!   scenario;
//! - `restrict`: the same with a restricting measure;
//! - `review`: a name-only hit on a black or focus entry (a name alone
//!   never blocks), or an identifier hit on a disputed entry (under
//!   objection review, measures wait for the outcome);
//! - `warn`: identifier hits on the focus list, or on the black list
//!   where the scenario has no prohibiting or restricting measure;
//! - `incentive`: an identifier hit on the red list and nothing negative;
//! - `clear`: nothing of the above.
//!
//! The hits decided on exclude the name hits the query's identifier says
//! are other subjects (`identity.rs`): a listed company with a similar
//! name and another valid USCC gives no `review` and no
//! measures-if-confirmed.
//!
//! Related-party hits: a person screened who is the legal representative,
//! principal or actual controller of a listed organisation gets that
//! organisation's measures marked `extends_to_related`; an organisation
//! whose related person is listed gets `review`. Neither gets incentives.

use crate::catalogue::{Catalogue, Effect, Measure};
use crate::matcher::{Hit, Relation};
use credgate_index::Snapshot;
use credgate_model::{EntryStatus, ListKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    Block,
    Restrict,
    Review,
    Warn,
    Incentive,
    Clear,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Block => "block",
            Decision::Restrict => "restrict",
            Decision::Review => "review",
            Decision::Warn => "warn",
            Decision::Incentive => "incentive",
            Decision::Clear => "clear",
        }
    }

    /// The decision a [`Decision::code`] names.
    pub fn from_code(code: &str) -> Option<Decision> {
        [
            Decision::Block,
            Decision::Restrict,
            Decision::Review,
            Decision::Warn,
            Decision::Incentive,
            Decision::Clear,
        ]
        .into_iter()
        .find(|d| d.code() == code)
    }

    /// The word a clerk reads.
    pub fn name_zh(self) -> &'static str {
        match self {
            Decision::Block => "禁止",
            Decision::Restrict => "限制",
            Decision::Review => "人工核查",
            Decision::Warn => "提示",
            Decision::Incentive => "激励",
            Decision::Clear => "未发现",
        }
    }
}

/// A measure that applies, and the hit it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMeasure {
    pub ordinal: u32,
    pub measure: Measure,
}

/// The decision over all hits, with its measures and whether the subject
/// sits on both the red and the black list (a conflict to surface).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    pub measures: Vec<AppliedMeasure>,
    /// The measures that would apply if a reviewer confirms the hits that
    /// gave `review` (a name-only match, an entry under objection): what
    /// is at stake, for the clerk who decides.
    pub if_confirmed: Vec<AppliedMeasure>,
    pub conflict: bool,
}

pub fn decide(
    snap: &Snapshot,
    hits: &[Hit],
    catalogue: &Catalogue,
    scenario: Option<&str>,
) -> Verdict {
    let mut decision = Decision::Clear;
    let mut measures = Vec::new();
    let mut if_confirmed: Vec<AppliedMeasure> = Vec::new();
    let (mut on_black, mut on_red) = (false, false);
    for hit in hits {
        let Ok(r) = snap.record(hit.ordinal) else { continue };
        let category = r.category;
        let Some(category) = credgate_model::Category::by_id(category) else {
            continue;
        };
        let by_id = hit.kind.by_identifier();
        let related = hit.link.is_some();
        // A listed organisation's measures reach the person screened when
        // that person is its legal representative, principal or actual
        // controller. The other way round (an organisation whose related
        // person is listed) is for a clerk to weigh: review.
        let party_is_listed =
            hit.link.is_some_and(|l| l.relation == Relation::PartyIsListed);
        if party_is_listed && r.list != ListKind::Red {
            decision = decision.min(Decision::Review);
            continue;
        }
        let mut worst = |d: Decision| decision = decision.min(d);
        match r.list {
            ListKind::Black | ListKind::Focus => {
                if !by_id || r.status == EntryStatus::Disputed {
                    worst(Decision::Review);
                    for m in catalogue.measures(category.code, scenario) {
                        if related && !m.extends_to_related {
                            continue;
                        }
                        // Once per measure (from the best hit): twenty
                        // similar names of one category are one stake.
                        if !if_confirmed.iter().any(|a| a.measure == *m) {
                            if_confirmed.push(AppliedMeasure {
                                ordinal: hit.ordinal,
                                measure: m.clone(),
                            });
                        }
                    }
                    continue;
                }
                on_black |= r.list == ListKind::Black && !related;
                let mut any = false;
                for m in catalogue.measures(category.code, scenario) {
                    if related && !m.extends_to_related {
                        continue;
                    }
                    any = true;
                    worst(match m.effect {
                        Effect::Prohibit => Decision::Block,
                        Effect::Restrict => Decision::Restrict,
                        _ => Decision::Warn,
                    });
                    measures.push(AppliedMeasure {
                        ordinal: hit.ordinal,
                        measure: m.clone(),
                    });
                }
                if !any {
                    worst(Decision::Warn);
                }
            }
            ListKind::Red => {
                if !by_id || related {
                    continue;
                }
                on_red = true;
                worst(Decision::Incentive);
                for m in catalogue.measures(category.code, scenario) {
                    measures.push(AppliedMeasure {
                        ordinal: hit.ordinal,
                        measure: m.clone(),
                    });
                }
            }
        }
    }
    // Incentives do not apply alongside anything negative.
    if decision != Decision::Incentive {
        measures.retain(|m| m.measure.effect != Effect::Incentive);
    }
    measures.sort_by(|a, b| {
        a.measure.effect.cmp(&b.measure.effect).then(a.ordinal.cmp(&b.ordinal))
    });
    if_confirmed.sort_by(|a, b| {
        a.measure.effect.cmp(&b.measure.effect).then(a.ordinal.cmp(&b.ordinal))
    });
    Verdict { decision, measures, if_confirmed, conflict: on_black && on_red }
}
