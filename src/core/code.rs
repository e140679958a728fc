//! Dossier codes (*mã hồ sơ*, NĐ 118/2025 Art. 28(2) with TT 03/2025): issued by the
//! system at the official receipt, `<agency identifier>-<YYMMDD>-<NNNN>`, where the agency
//! is the one **competent to resolve** the procedure — for a group of inter-agency
//! procedures, the receiving one-stop desk (filed in person) or the national portal (filed
//! online) — and NNNN is that agency's sequence of the day, at least 4 digits, e.g.
//! `000.00.51.H26-260601-0001`. The older layout (TT 01/2018 Art. 19) used the receiving
//! agency.
//!
//! The layout is data (`[codes] dossier` in config/default.toml), a template with one
//! agency placeholder — `{agency}` (the agency named by Art. 28, see [`code_agency`]) or
//! `{receiving}` (the receiving agency, as under TT 01/2018) —, one date — `{yymmdd}` or
//! `{yyyymmdd}` — and `{seq:N}` (the sequence of that agency and day, zero-padded to at
//! least N digits). Pure: no I/O, no clock.

use chrono::NaiveDate;

/// The default template (NĐ 118/2025 Art. 28(2)).
pub const DEFAULT_DOSSIER_TEMPLATE: &str = "{agency}-{yymmdd}-{seq:4}";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Agency,
    Receiving,
    Yymmdd,
    Yyyymmdd,
    Seq(usize),
}

/// A parsed code template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeFormat {
    parts: Vec<Part>,
}

impl CodeFormat {
    /// Parses a template. It must contain one agency placeholder (`{agency}` or
    /// `{receiving}`), one date and `{seq:N}` so that codes are unique per agency and day.
    pub fn parse(template: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("thiếu dấu '}}' trong mẫu mã \"{template}\""))?
                + open;
            let name = &rest[open + 1..close];
            parts.push(match name {
                "agency" => Part::Agency,
                "receiving" => Part::Receiving,
                "yymmdd" => Part::Yymmdd,
                "yyyymmdd" => Part::Yyyymmdd,
                _ => match name.strip_prefix("seq:").map(str::parse::<usize>) {
                    Some(Ok(n)) if (1..=12).contains(&n) => Part::Seq(n),
                    _ => {
                        return Err(format!(
                            "trường \"{{{name}}}\" không hợp lệ trong mẫu mã (dùng {{agency}} hoặc {{receiving}}, {{yymmdd}}, {{yyyymmdd}}, {{seq:N}})"
                        ))
                    }
                },
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        let has = |f: fn(&Part) -> bool| parts.iter().filter(|p| f(p)).count();
        if has(|p| matches!(p, Part::Agency | Part::Receiving)) != 1
            || has(|p| matches!(p, Part::Yymmdd | Part::Yyyymmdd)) != 1
            || has(|p| matches!(p, Part::Seq(_))) != 1
        {
            return Err(format!(
                "mẫu mã \"{template}\" phải có đúng một cơ quan ({{agency}} hoặc {{receiving}}), một ngày ({{yymmdd}} hoặc {{yyyymmdd}}) và một {{seq:N}}"
            ));
        }
        Ok(Self { parts })
    }

    /// Whether the template names the receiving agency (`{receiving}`) rather than the
    /// agency of NĐ 118/2025 Art. 28 (`{agency}`).
    pub fn uses_receiving(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Receiving))
    }

    /// The agency whose daily sequence numbers a dossier: the one the template prints.
    pub fn sequence_agency<'a>(&self, agency: &'a str, receiving: &'a str) -> &'a str {
        if self.uses_receiving() {
            receiving
        } else {
            agency
        }
    }

    /// The code of the `seq`-th dossier (from 1) of the day `day` for `agency` (the agency
    /// of Art. 28; `receiving` fills `{receiving}`).
    pub fn format(&self, agency: &str, receiving: &str, day: NaiveDate, seq: u64) -> String {
        let mut out = String::with_capacity(32);
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Agency => out.push_str(agency),
                Part::Receiving => out.push_str(receiving),
                Part::Yymmdd => out.push_str(&day.format("%y%m%d").to_string()),
                Part::Yyyymmdd => out.push_str(&day.format("%Y%m%d").to_string()),
                Part::Seq(n) => out.push_str(&format!("{seq:0width$}", width = *n)),
            }
        }
        out
    }
}

/// The agency whose identifier leads a dossier's code (NĐ 118/2025 Art. 28(2)): the agency
/// competent to resolve the procedure (the receiving one when none other is named); for a
/// group of inter-agency procedures, the receiving one-stop desk when filed in person, the
/// national portal when filed online.
pub fn code_agency<'a>(
    inter_agency: bool,
    online: bool,
    receiving: &'a str,
    competent: Option<&'a str>,
    national_portal: &'a str,
) -> &'a str {
    match (inter_agency, online) {
        (true, true) => national_portal,
        (true, false) => receiving,
        (false, _) => competent.unwrap_or(receiving),
    }
}

impl Default for CodeFormat {
    fn default() -> Self {
        Self::parse(DEFAULT_DOSSIER_TEMPLATE).expect("the default template is valid")
    }
}

/// Checks the shape of a QCVN 102:2016 agency code: dot-separated groups of letters and
/// digits, e.g. `000.00.00.H26` or `H15.50.05.13`. The exact levels are data.
pub fn is_valid_agency_code(code: &str) -> bool {
    let groups: Vec<&str> = code.split('.').collect();
    (2..=6).contains(&groups.len())
        && groups
            .iter()
            .all(|g| !g.is_empty() && g.len() <= 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2021, 6, 1).unwrap()
    }

    #[test]
    fn default_template_matches_the_published_example() {
        let f = CodeFormat::default();
        assert_eq!(
            f.format("000.00.00.H26", "X", day(), 1),
            "000.00.00.H26-210601-0001"
        );
        assert_eq!(
            f.format("000.00.00.H26", "X", day(), 12345),
            "000.00.00.H26-210601-12345"
        );
        assert!(!f.uses_receiving());
        assert_eq!(f.sequence_agency("A", "R"), "A");
        let old = CodeFormat::parse("{receiving}-{yymmdd}-{seq:4}").unwrap();
        assert_eq!(old.format("A", "R.H26", day(), 3), "R.H26-210601-0003");
        assert_eq!(old.sequence_agency("A", "R"), "R");
    }

    #[test]
    fn the_code_names_the_competent_agency_or_for_inter_agency_groups_the_desk_or_portal() {
        // A ward-level procedure received at the city centre: the ward (competent).
        assert_eq!(
            code_agency(false, false, "CENTRE", Some("WARD"), "PORTAL"),
            "WARD"
        );
        assert_eq!(
            code_agency(false, true, "CENTRE", Some("WARD"), "PORTAL"),
            "WARD"
        );
        // Nobody else named: the receiving agency decides.
        assert_eq!(
            code_agency(false, false, "CENTRE", None, "PORTAL"),
            "CENTRE"
        );
        // A group of inter-agency procedures: the desk in person, the portal online.
        assert_eq!(
            code_agency(true, false, "CENTRE", Some("WARD"), "PORTAL"),
            "CENTRE"
        );
        assert_eq!(
            code_agency(true, true, "CENTRE", Some("WARD"), "PORTAL"),
            "PORTAL"
        );
    }

    #[test]
    fn templates_must_be_unique_per_agency_and_day() {
        assert!(CodeFormat::parse("{agency}-{seq:4}").is_err());
        assert!(CodeFormat::parse("{yymmdd}-{seq:4}").is_err());
        assert!(CodeFormat::parse("{agency}-{yymmdd}-{seq:0}").is_err());
        assert!(CodeFormat::parse("{agency}-{yymmdd}-{nope}").is_err());
        assert!(CodeFormat::parse("{agency}-{receiving}-{yymmdd}-{seq:4}").is_err());
        assert!(CodeFormat::parse("{agency}-{yymmdd-{seq:4}").is_err());
        let f = CodeFormat::parse("HS-{agency}/{yyyymmdd}/{seq:6}").unwrap();
        assert_eq!(f.format("X.H26", "Y", day(), 7), "HS-X.H26/20210601/000007");
    }

    #[test]
    fn agency_codes() {
        assert!(is_valid_agency_code("000.00.00.H26"));
        assert!(is_valid_agency_code("H15.50.05.13"));
        assert!(!is_valid_agency_code("000..00.H26"));
        assert!(!is_valid_agency_code("000.00.00.H26 "));
        assert!(!is_valid_agency_code("H26"));
    }
}
