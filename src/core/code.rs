//! Dossier codes (*mã hồ sơ*, TT 01/2018/TT-VPCP Art. 19, kept by NĐ 118/2025):
//! `<receiving agency code>-<YYMMDD>-<NNNN>`, NNNN the receiving agency's daily
//! sequence with at least 4 digits, e.g. `000.00.00.H26-210601-0001`.
//!
//! The layout is data (`[codes] dossier` in config/default.toml), a template with the
//! placeholders `{agency}`, `{yymmdd}`, `{yyyymmdd}` and `{seq:N}` (the sequence,
//! zero-padded to at least N digits). Pure: no I/O, no clock.

use chrono::NaiveDate;

/// The default template, as in TT 01/2018 Art. 19.
pub const DEFAULT_DOSSIER_TEMPLATE: &str = "{agency}-{yymmdd}-{seq:4}";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Agency,
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
    /// Parses a template. It must contain `{agency}`, one date and `{seq:N}` so that
    /// codes are unique per agency and day.
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
                "yymmdd" => Part::Yymmdd,
                "yyyymmdd" => Part::Yyyymmdd,
                _ => match name.strip_prefix("seq:").map(str::parse::<usize>) {
                    Some(Ok(n)) if (1..=12).contains(&n) => Part::Seq(n),
                    _ => {
                        return Err(format!(
                            "trường \"{{{name}}}\" không hợp lệ trong mẫu mã (dùng {{agency}}, {{yymmdd}}, {{yyyymmdd}}, {{seq:N}})"
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
        if has(|p| matches!(p, Part::Agency)) != 1
            || has(|p| matches!(p, Part::Yymmdd | Part::Yyyymmdd)) != 1
            || has(|p| matches!(p, Part::Seq(_))) != 1
        {
            return Err(format!(
                "mẫu mã \"{template}\" phải có đúng một {{agency}}, một ngày ({{yymmdd}} hoặc {{yyyymmdd}}) và một {{seq:N}}"
            ));
        }
        Ok(Self { parts })
    }

    /// The code of the `seq`-th dossier (from 1) received by `agency` on local date `day`.
    pub fn format(&self, agency: &str, day: NaiveDate, seq: u64) -> String {
        let mut out = String::with_capacity(32);
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Agency => out.push_str(agency),
                Part::Yymmdd => out.push_str(&day.format("%y%m%d").to_string()),
                Part::Yyyymmdd => out.push_str(&day.format("%Y%m%d").to_string()),
                Part::Seq(n) => out.push_str(&format!("{seq:0width$}", width = *n)),
            }
        }
        out
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
    fn default_template_matches_tt01_example() {
        let f = CodeFormat::default();
        assert_eq!(
            f.format("000.00.00.H26", day(), 1),
            "000.00.00.H26-210601-0001"
        );
        assert_eq!(
            f.format("000.00.00.H26", day(), 12345),
            "000.00.00.H26-210601-12345"
        );
    }

    #[test]
    fn templates_must_be_unique_per_agency_and_day() {
        assert!(CodeFormat::parse("{agency}-{seq:4}").is_err());
        assert!(CodeFormat::parse("{yymmdd}-{seq:4}").is_err());
        assert!(CodeFormat::parse("{agency}-{yymmdd}-{seq:0}").is_err());
        assert!(CodeFormat::parse("{agency}-{yymmdd}-{nope}").is_err());
        assert!(CodeFormat::parse("{agency}-{yymmdd-{seq:4}").is_err());
        let f = CodeFormat::parse("HS-{agency}/{yyyymmdd}/{seq:6}").unwrap();
        assert_eq!(f.format("X.H26", day(), 7), "HS-X.H26/20210601/000007");
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
