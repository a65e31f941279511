use std::fmt;

/// A value that is not one of a vocabulary's accepted spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: '{found}' is not one of {accepted}")]
pub struct ParseError {
    pub what: &'static str,
    pub found: String,
    pub accepted: String,
}

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal
              $(| $alias:literal)*;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// Stable snake_case code used in files and APIs.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            /// The Chinese name used in government exports.
            pub fn name_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }

            /// Parses the code, the Chinese name or a known alias
            /// (case-insensitive, surrounding spaces ignored).
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($code) || t == $zh
                        $(|| t.eq_ignore_ascii_case($alias))* {
                        return Ok($name::$variant);
                    }
                )+
                Err(ParseError {
                    what: $what,
                    found: s.to_string(),
                    accepted: $name::ALL
                        .iter()
                        .map(|v| format!("{} ({})", v.code(), v.name_zh()))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

vocabulary! {
    /// The three lists (domain brief §2). Older interfaces coded them as
    /// 2 = red, 4 = focus, 8 = black; those codes are accepted.
    ListKind, "list" {
        /// 失信联合惩戒对象名单: joint punishment.
        Black = "black", "黑名单" | "8" | "失信联合惩戒对象名单" | "严重失信主体名单";
        /// 重点关注对象名单: enhanced supervision.
        Focus = "focus", "重点关注名单" | "4" | "重点关注对象名单";
        /// 守信激励对象名单: incentives.
        Red = "red", "红名单" | "2" | "守信激励对象名单";
    }
}

impl ListKind {
    /// The legacy numeric code (2 red, 4 focus, 8 black).
    pub fn legacy_code(self) -> u8 {
        match self {
            ListKind::Black => 8,
            ListKind::Focus => 4,
            ListKind::Red => 2,
        }
    }
}

vocabulary! {
    /// Organisations (法人和其他组织, including 个体工商户) or persons.
    SubjectKind, "subject_type" {
        Organisation = "organisation", "法人和其他组织"
            | "organization" | "org" | "法人" | "企业";
        Person = "person", "自然人" | "individual";
    }
}

vocabulary! {
    /// Severity of the conduct behind an entry; it sets the publication
    /// period (信用修复管理办法).
    Severity, "severity" {
        Minor = "minor", "轻微";
        General = "general", "一般";
        Serious = "serious", "严重";
    }
}

vocabulary! {
    /// Where an entry is in its lifecycle (domain brief §5).
    EntryStatus, "status" {
        /// Published and in force: measures apply.
        Active = "active", "有效" | "公示中";
        /// Under objection review (异议处理中): shown as disputed.
        Disputed = "disputed", "异议中" | "异议处理中";
        /// Left the list: expiry, credit repair (移出).
        Exited = "exited", "已移出" | "移出";
        /// Designation revoked as wrongful: no trace in screening.
        Revoked = "revoked", "已撤销" | "撤销";
    }
}

impl EntryStatus {
    /// Whether an entry in this status is in force for screening.
    pub fn in_force(self) -> bool {
        matches!(self, EntryStatus::Active | EntryStatus::Disputed)
    }
}

vocabulary! {
    /// Roles that extend an organisation's measures to a person (§5.6).
    PartyRole, "role" {
        LegalRepresentative = "legal_representative", "法定代表人";
        Principal = "principal", "主要负责人";
        ActualController = "actual_controller", "实际控制人";
    }
}

vocabulary! {
    /// 证件类型 of a related party. Only resident IDs can be validated.
    IdType, "id_type" {
        ResidentId = "resident_id", "居民身份证" | "身份证";
        Passport = "passport", "护照";
        HkMacaoPermit = "hk_macao_permit", "港澳居民来往内地通行证";
        TaiwanPermit = "taiwan_permit", "台湾居民来往大陆通行证";
        Other = "other", "其他";
    }
}

/// Publication periods per severity in months, counted from the decision
/// date (信用修复管理办法, NDRC Order No. 36): (minimum, maximum). The
/// values are data, not code: `data/periods.toml`, loaded and validated
/// by `credgate_lifecycle::Periods` (no default here, so the table has
/// one source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicationPeriods {
    /// (minimum, maximum) months for each severity.
    pub minor: (u32, u32),
    pub general: (u32, u32),
    pub serious: (u32, u32),
}

impl PublicationPeriods {
    pub fn months(&self, severity: Severity) -> (u32, u32) {
        match severity {
            Severity::Minor => self.minor,
            Severity::General => self.general,
            Severity::Serious => self.serious,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_names_and_legacy_codes() {
        let cases = [
            ("black", ListKind::Black),
            ("BLACK", ListKind::Black),
            ("黑名单", ListKind::Black),
            ("8", ListKind::Black),
            ("重点关注对象名单", ListKind::Focus),
            ("4", ListKind::Focus),
            (" red ", ListKind::Red),
            ("2", ListKind::Red),
        ];
        for (s, want) in cases {
            assert_eq!(ListKind::parse(s), Ok(want), "{s}");
        }
        for l in ListKind::ALL {
            assert_eq!(ListKind::parse(&l.legacy_code().to_string()), Ok(*l));
        }
    }

    #[test]
    fn errors_name_the_accepted_values() {
        let e = ListKind::parse("grey").unwrap_err();
        assert_eq!(
            e.to_string(),
            "list: 'grey' is not one of black (黑名单), focus (重点关注名单), \
             red (红名单)"
        );
        let e = Severity::parse("critical").unwrap_err();
        assert!(e.to_string().contains("minor (轻微)"), "{e}");
    }
}
