//! The measures catalogue (措施清单): category × scenario → measures. It is
//! public data that changes, so it ships as `data/measures.toml` and is
//! validated when loaded; the built-in copy is compiled in so that the
//! binary works anywhere.

use credgate_model::{Category, ListKind};
use std::collections::{BTreeMap, HashSet};

/// The catalogue shipped with credgate.
pub const BUILTIN: &str = include_str!("../../../data/measures.toml");

/// What a measure does to a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    Prohibit,
    Restrict,
    EnhancedSupervision,
    Warn,
    Incentive,
}

impl Effect {
    pub const ALL: [Effect; 5] = [
        Effect::Prohibit,
        Effect::Restrict,
        Effect::EnhancedSupervision,
        Effect::Warn,
        Effect::Incentive,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Effect::Prohibit => "prohibit",
            Effect::Restrict => "restrict",
            Effect::EnhancedSupervision => "enhanced_supervision",
            Effect::Warn => "warn",
            Effect::Incentive => "incentive",
        }
    }

    fn parse(s: &str) -> Option<Effect> {
        Effect::ALL.into_iter().find(|e| e.code() == s)
    }
}

/// A scenario: a kind of business a transaction belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub id: String,
    pub name_zh: String,
}

/// One measure of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    pub category: &'static str,
    pub scenario: String,
    pub effect: Effect,
    pub text: String,
    pub basis: String,
    /// Also applies to the legal representative, principal and actual
    /// controller of a listed organisation.
    pub extends_to_related: bool,
}

/// A validated catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    scenarios: Vec<Scenario>,
    measures: BTreeMap<(&'static str, String), Vec<Measure>>,
}

/// A catalogue that does not load; the message names the item and field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("measures catalogue: {0}")]
pub struct CatalogueError(pub String);

mod file {
    //! The TOML layout, kept apart from the validated types.
    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub format_version: u32,
        #[serde(default)]
        pub scenario: Vec<Scenario>,
        #[serde(default)]
        pub measure: Vec<Measure>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Scenario {
        pub id: String,
        pub name_zh: String,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Measure {
        pub category: String,
        pub scenario: String,
        pub effect: String,
        pub text: String,
        pub basis: String,
        #[serde(default)]
        pub extends_to_related: bool,
    }
}

fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Catalogue {
    pub fn builtin() -> Catalogue {
        Catalogue::parse(BUILTIN)
            .expect("the built-in catalogue is valid (tested)")
    }

    /// Reads, parses and validates a catalogue file.
    pub fn load(path: &std::path::Path) -> Result<Catalogue, CatalogueError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CatalogueError(format!("{}: {e}", path.display())))?;
        Catalogue::parse(&text).map_err(|e| {
            CatalogueError(format!("{}: {}", path.display(), e.0))
        })
    }

    /// Parses and validates a catalogue.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let f: file::File =
            toml::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        if f.format_version != 1 {
            return Err(CatalogueError(format!(
                "format_version {} is not supported (expected 1)",
                f.format_version
            )));
        }
        let mut ids = HashSet::new();
        let mut scenarios = Vec::new();
        for (i, s) in f.scenario.into_iter().enumerate() {
            let at = format!("scenario {} ('{}')", i + 1, s.id);
            if !is_snake_case(&s.id) {
                return Err(CatalogueError(format!(
                    "{at}: id must be snake_case English (a-z, 0-9, _)"
                )));
            }
            if !ids.insert(s.id.clone()) {
                return Err(CatalogueError(format!("{at}: id appears twice")));
            }
            scenarios.push(Scenario { id: s.id, name_zh: s.name_zh });
        }
        if scenarios.is_empty() {
            return Err(CatalogueError("no [[scenario]] defined".into()));
        }
        let mut measures: BTreeMap<(&'static str, String), Vec<Measure>> =
            BTreeMap::new();
        for (i, m) in f.measure.into_iter().enumerate() {
            let at =
                format!("measure {} ({} × {})", i + 1, m.category, m.scenario);
            let category = Category::parse(&m.category)
                .map_err(|e| CatalogueError(format!("{at}: {e}")))?;
            if !ids.contains(&m.scenario) {
                let mut known: Vec<&String> = ids.iter().collect();
                known.sort();
                return Err(CatalogueError(format!(
                    "{at}: scenario '{}' is not defined; known: {}",
                    m.scenario,
                    known
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let effect = Effect::parse(&m.effect).ok_or_else(|| {
                CatalogueError(format!(
                    "{at}: effect '{}' is not one of prohibit, restrict, \
                     enhanced_supervision, warn, incentive",
                    m.effect
                ))
            })?;
            let red = category.list == ListKind::Red;
            if red != (effect == Effect::Incentive) {
                return Err(CatalogueError(format!(
                    "{at}: effect {} does not fit the {} list (incentives are for \
                     the red list only, and the red list has only incentives)",
                    effect.code(),
                    category.list
                )));
            }
            if m.text.trim().is_empty() || m.basis.trim().is_empty() {
                return Err(CatalogueError(format!(
                    "{at}: text and basis are required"
                )));
            }
            measures
                .entry((category.code, m.scenario.clone()))
                .or_default()
                .push(Measure {
                    category: category.code,
                    scenario: m.scenario,
                    effect,
                    text: m.text,
                    basis: m.basis,
                    extends_to_related: m.extends_to_related,
                });
        }
        Ok(Catalogue { scenarios, measures })
    }

    pub fn scenarios(&self) -> &[Scenario] {
        &self.scenarios
    }

    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.id == id)
    }

    /// The scenario a caller means: its id (`government_procurement`) or
    /// its Chinese name (`政府采购`), surrounding spaces ignored.
    pub fn find_scenario(&self, given: &str) -> Option<&Scenario> {
        let given = given.trim();
        self.scenarios.iter().find(|s| s.id == given || s.name_zh == given)
    }

    /// The measures of a category in a scenario, or in every scenario when
    /// `scenario` is `None`.
    pub fn measures<'a>(
        &'a self,
        category: &str,
        scenario: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Measure> + 'a {
        let category = category.to_string();
        self.measures
            .iter()
            .filter(move |((c, s), _)| {
                *c == category && scenario.is_none_or(|want| s == want)
            })
            .flat_map(|(_, v)| v.iter())
    }

    pub fn len(&self) -> usize {
        self.measures.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.measures.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_valid_and_covers_every_category() {
        let c = Catalogue::parse(BUILTIN).unwrap();
        for cat in credgate_model::CATEGORIES {
            assert!(
                c.measures(cat.code, None).next().is_some(),
                "{}",
                cat.code
            );
        }
        for id in [
            "government_procurement",
            "bidding",
            "administrative_licensing",
            "project_approval",
            "market_access",
            "qualification_review",
            "public_resource_trading",
            "fiscal_support",
            "awards",
            "real_estate",
            "high_consumption",
        ] {
            assert!(c.scenario(id).is_some(), "{id}");
        }
        let m: Vec<_> = c
            .measures("court_defaulter", Some("government_procurement"))
            .collect();
        assert_eq!(m[0].effect, Effect::Prohibit);
    }

    fn err(text: &str) -> String {
        Catalogue::parse(text).unwrap_err().to_string()
    }

    const HEAD: &str = "format_version = 1\n[[scenario]]\nid = \"bidding\"\nname_zh = \"招标投标\"\n";

    fn measure(cat: &str, scen: &str, effect: &str) -> String {
        format!(
            "{HEAD}[[measure]]\ncategory = \"{cat}\"\nscenario = \"{scen}\"\neffect = \"{effect}\"\ntext = \"t\"\nbasis = \"b\"\n"
        )
    }

    #[test]
    fn bad_catalogues_name_the_problem() {
        let cases = [
            (measure("court_defaulter", "bidding", "prohibit"), None),
            (
                measure("parking", "bidding", "prohibit"),
                Some("measure 1 (parking × bidding): category: 'parking' is not one of"),
            ),
            (
                measure("court_defaulter", "lottery", "prohibit"),
                Some("scenario 'lottery' is not defined; known: bidding"),
            ),
            (
                measure("court_defaulter", "bidding", "ban"),
                Some("effect 'ban' is not one of prohibit"),
            ),
            (
                measure("court_defaulter", "bidding", "incentive"),
                Some("effect incentive does not fit the black list"),
            ),
            (
                measure("tax_a_grade", "bidding", "restrict"),
                Some("effect restrict does not fit the red list"),
            ),
            (
                format!("{HEAD}[[scenario]]\nid = \"bidding\"\nname_zh = \"x\"\n"),
                Some("scenario 2 ('bidding'): id appears twice"),
            ),
            (
                "format_version = 1\n[[scenario]]\nid = \"Bidding\"\nname_zh = \"x\"\n".into(),
                Some("must be snake_case"),
            ),
            ("format_version = 2\n".into(), Some("format_version 2 is not supported")),
            (format!("{HEAD}colour = 1\n"), Some("unknown field `colour`")),
            ("format_version = \n".into(), Some("line 1")),
        ];
        for (text, want) in cases {
            match want {
                None => assert!(Catalogue::parse(&text).is_ok(), "{text}"),
                Some(w) => {
                    let e = err(&text);
                    assert!(e.contains(w), "{e}\n--- wanted: {w}");
                }
            }
        }
    }
}
