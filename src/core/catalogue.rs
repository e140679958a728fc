//! Agencies (*cơ quan, đơn vị*) and the procedure catalogue (*danh mục thủ tục hành
//! chính*) as plain data, with their validation. Read from config/agencies.toml and
//! config/catalogue/*.toml by [`crate::config`]; pure here.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::parse_hhmm;
use super::code::is_valid_agency_code;
use super::deadline::{PeriodUnit, StatutoryTime};

/// A validation problem: where (a path such as `procedure[3].statutory_time.cutoff`)
/// and what, in Vietnamese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// An administrative level (*cấp*): data, since the 2025 reform changed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub id: String,
    pub name: String,
    /// The tier of government (`province` or `commune`, since the two-level reform of
    /// 2025): a paper file sent by a one-stop centre to an agency of the other tier has its
    /// own transfer limit (NĐ 118/2025 Art. 20(1)(a)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Agencies of this level are one-stop centres (*Trung tâm Phục vụ hành chính công*;
    /// the commune's one-stop desk is the commune itself).
    #[serde(default)]
    pub one_stop_centre: bool,
}

/// An agency (*cơ quan*), identified by its QCVN 102:2016 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// config/agencies.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgenciesFile {
    #[serde(default, rename = "level")]
    pub levels: Vec<Level>,
    #[serde(default, rename = "agency")]
    pub agencies: Vec<Agency>,
}

/// The validated agency tree.
#[derive(Debug, Clone, Default)]
pub struct AgencyTree {
    pub levels: Vec<Level>,
    /// In topological order: every parent before its children.
    pub agencies: Vec<Agency>,
    index: HashMap<String, usize>,
}

impl AgencyTree {
    /// Validates the file: well-formed unique codes, known levels and parents, exactly
    /// one root, no cycles.
    pub fn build(file: AgenciesFile) -> Result<Self, Problem> {
        let mut level_ids = BTreeSet::new();
        for (i, l) in file.levels.iter().enumerate() {
            if l.id.trim().is_empty() {
                return Err(Problem::new(
                    format!("level[{i}].id"),
                    "mã cấp không được để trống",
                ));
            }
            if l.tier
                .as_deref()
                .is_some_and(|t| t != "province" && t != "commune")
            {
                return Err(Problem::new(
                    format!("level[{i}].tier"),
                    "cấp chính quyền phải là province hoặc commune",
                ));
            }
            if !level_ids.insert(l.id.clone()) {
                return Err(Problem::new(
                    format!("level[{i}].id"),
                    format!("cấp \"{}\" khai báo hai lần", l.id),
                ));
            }
        }
        if file.agencies.is_empty() {
            return Err(Problem::new("agency", "cần ít nhất một cơ quan"));
        }
        let mut position = HashMap::new();
        for (i, a) in file.agencies.iter().enumerate() {
            if !is_valid_agency_code(&a.code) {
                return Err(Problem::new(
                    format!("agency[{i}].code"),
                    format!(
                        "mã cơ quan \"{}\" không đúng dạng QCVN 102 (ví dụ 000.00.00.H26)",
                        a.code
                    ),
                ));
            }
            if a.name.trim().is_empty() {
                return Err(Problem::new(
                    format!("agency[{i}].name"),
                    "tên cơ quan không được để trống",
                ));
            }
            if !level_ids.contains(&a.level) {
                return Err(Problem::new(
                    format!("agency[{i}].level"),
                    format!("cấp \"{}\" chưa được khai báo trong [[level]]", a.level),
                ));
            }
            if position.insert(a.code.clone(), i).is_some() {
                return Err(Problem::new(
                    format!("agency[{i}].code"),
                    format!("mã cơ quan \"{}\" bị trùng", a.code),
                ));
            }
        }
        let mut roots = 0;
        for (i, a) in file.agencies.iter().enumerate() {
            match &a.parent {
                None => {
                    roots += 1;
                    if roots > 1 {
                        return Err(Problem::new(
                            format!("agency[{i}].parent"),
                            format!("cơ quan \"{}\" thiếu cơ quan cấp trên; chỉ được có một cơ quan gốc", a.code),
                        ));
                    }
                }
                Some(p) if !position.contains_key(p) => {
                    return Err(Problem::new(
                        format!("agency[{i}].parent"),
                        format!("cơ quan cấp trên \"{p}\" không tồn tại"),
                    ))
                }
                Some(_) => {}
            }
        }
        if roots == 0 {
            return Err(Problem::new(
                "agency",
                "không có cơ quan gốc (cơ quan không có parent)",
            ));
        }
        // Topological order; anything left over sits on a cycle.
        let mut ordered: Vec<Agency> = Vec::with_capacity(file.agencies.len());
        let mut placed: BTreeSet<String> = BTreeSet::new();
        let mut pending: Vec<(usize, &Agency)> = file.agencies.iter().enumerate().collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|(_, a)| {
                let ready = a.parent.as_ref().is_none_or(|p| placed.contains(p));
                if ready {
                    placed.insert(a.code.clone());
                    ordered.push((*a).clone());
                }
                !ready
            });
            if pending.len() == before {
                let (i, a) = pending[0];
                return Err(Problem::new(
                    format!("agency[{i}].parent"),
                    format!("quan hệ cấp trên của \"{}\" tạo thành vòng lặp", a.code),
                ));
            }
        }
        let index = ordered
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect();
        Ok(Self {
            levels: file.levels,
            agencies: ordered,
            index,
        })
    }

    pub fn get(&self, code: &str) -> Option<&Agency> {
        self.index.get(code).map(|&i| &self.agencies[i])
    }

    pub fn has_level(&self, id: &str) -> bool {
        self.levels.iter().any(|l| l.id == id)
    }

    /// Whether a paper file sent by `from` to `to` goes from a one-stop centre to an agency
    /// of the other tier of government (NĐ 118/2025 Art. 20(1)(a)).
    pub fn between_tiers_from_a_centre(&self, from: &str, to: &str) -> bool {
        let level = |code: &str| {
            let a = self.get(code)?;
            self.levels.iter().find(|l| l.id == a.level)
        };
        match (level(from), level(to)) {
            (Some(f), Some(t)) => {
                f.one_stop_centre && f.tier.is_some() && t.tier.is_some() && f.tier != t.tier
            }
            _ => false,
        }
    }

    /// `code` and all agencies below it.
    pub fn descendants(&self, code: &str) -> Vec<&Agency> {
        let mut out: Vec<&Agency> = Vec::new();
        let mut frontier: BTreeSet<&str> = BTreeSet::from([code]);
        // Topological order: one pass suffices.
        for a in &self.agencies {
            if a.code == code || a.parent.as_deref().is_some_and(|p| frontier.contains(p)) {
                frontier.insert(&a.code);
                out.push(a);
            }
        }
        out
    }
}

/// Online service level under NĐ 42/2022 (*dịch vụ công trực tuyến toàn trình / một phần*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    Full,
    Partial,
    None,
}

impl OnlineLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            OnlineLevel::Full => "full",
            OnlineLevel::Partial => "partial",
            OnlineLevel::None => "none",
        }
    }
}

/// The kind of a paper (*bản chính / bản sao có chứng thực / bản sao*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperKind {
    Original,
    CertifiedCopy,
    Copy,
}

/// A paper the procedure requires (*thành phần hồ sơ*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredPaper {
    pub name: String,
    pub kind: PaperKind,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default = "yes")]
    pub required: bool,
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

/// A processing step (*bước xử lý*): who handles it and its share of the statutory time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    /// `receiving`, `competent`, or an agency code.
    pub agency: String,
    /// `clerk`, `official` or `leader`.
    pub role: String,
    /// Percent of the statutory time; the shares of a procedure sum to 100.
    pub share: u32,
}

/// The statutory time as written in a catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatutoryTimeSpec {
    pub amount: u32,
    pub unit: PeriodUnit,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cutoff: Option<String>,
}

impl StatutoryTimeSpec {
    pub fn to_time(&self) -> Result<StatutoryTime, (String, String)> {
        let cutoff = match &self.cutoff {
            Some(c) => Some(parse_hhmm(c).map_err(|m| ("cutoff".to_string(), m))?),
            None => None,
        };
        StatutoryTime::new(self.amount, self.unit, cutoff).map_err(|e| {
            let key = match e {
                super::deadline::DeadlineError::InvalidCutoff(_) => "cutoff",
                _ => "amount",
            };
            (key.to_string(), e.to_string())
        })
    }
}

/// A catalogued administrative procedure (*thủ tục hành chính*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    pub code: String,
    pub name: String,
    /// Lĩnh vực.
    pub field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub competent_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub competent_agency: Option<String>,
    pub statutory_time: StatutoryTimeSpec,
    /// Fees and charges in VND (*phí, lệ phí*).
    pub fee: u64,
    pub online_level: OnlineLevel,
    /// Code on the national public-service portal when integrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_code: Option<String>,
    /// Handled by several agencies (*liên thông*).
    #[serde(default)]
    pub inter_agency: bool,
    /// The document the procedure yields, if any (*kết quả giải quyết*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_document: Option<String>,
    /// Retention class of the result and papers.
    #[serde(default = "permanent")]
    pub retention: String,
    /// Within how long after receipt a supplement may be requested without counting as a
    /// late request, when a specialised law sets it; default: the rule set's
    /// (`supplement_request_within` in config/rules.toml, NĐ 118/2025 Art. 19(5)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplement_request_within: Option<super::deadline::TimeLimit>,
    /// From when this definition applies (local date); default: when first loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    #[serde(default, rename = "paper")]
    pub papers: Vec<RequiredPaper>,
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
}

fn permanent() -> String {
    "permanent".into()
}

/// Retention classes a catalogue may use.
pub const RETENTION_CLASSES: &[&str] = &[
    "permanent",
    "70_years",
    "50_years",
    "20_years",
    "10_years",
    "5_years",
];
/// Years a retention class keeps a document; `None` for `permanent`.
pub fn retention_years(class: &str) -> Option<u32> {
    class.strip_suffix("_years").and_then(|n| n.parse().ok())
}

/// Until when a document of retention class `class` dated `from` is kept (the same day
/// N years later; 29 February gives 1 March); `None` when kept permanently.
pub fn retain_until(class: &str, from: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    use chrono::Datelike;
    let years = retention_years(class)? as i32;
    let y = from.year() + years;
    chrono::NaiveDate::from_ymd_opt(y, from.month(), from.day())
        .or_else(|| chrono::NaiveDate::from_ymd_opt(y, 3, 1))
}

#[cfg(test)]
mod retention_tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn retention_dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(retain_until("permanent", d(2026, 11, 2)), None);
        assert_eq!(
            retain_until("5_years", d(2026, 11, 2)),
            Some(d(2031, 11, 2))
        );
        assert_eq!(
            retain_until("10_years", d(2028, 2, 29)),
            Some(d(2038, 3, 1))
        );
        assert_eq!(
            retain_until("20_years", d(2028, 2, 29)),
            Some(d(2048, 2, 29))
        );
        for c in RETENTION_CLASSES {
            assert_eq!(retention_years(c).is_none(), *c == "permanent", "{c}");
        }
    }
}

/// Roles a step may name.
pub const STEP_ROLES: &[&str] = &["clerk", "official", "leader"];

/// config/catalogue/*.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueFile {
    #[serde(default, rename = "procedure")]
    pub procedures: Vec<Procedure>,
}

impl Procedure {
    /// The statutory time, already validated.
    pub fn time(&self) -> StatutoryTime {
        self.statutory_time
            .to_time()
            .expect("validated when the catalogue was loaded")
    }

    /// Checks one procedure against the agency tree; `at` is its path in the file
    /// (`procedure[3]`).
    pub fn validate(&self, at: &str, agencies: &AgencyTree) -> Result<(), Problem> {
        let p = |k: &str| format!("{at}.{k}");
        let code_ok = {
            let groups: Vec<&str> = self.code.split('.').collect();
            groups.len() >= 2
                && groups
                    .iter()
                    .all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_alphanumeric()))
        };
        if !code_ok {
            return Err(Problem::new(
                p("code"),
                format!(
                    "mã thủ tục \"{}\" không hợp lệ (ví dụ 1.001193.000.00.00.H26)",
                    self.code
                ),
            ));
        }
        if self.name.trim().is_empty() {
            return Err(Problem::new(p("name"), "tên thủ tục không được để trống"));
        }
        if self.field.trim().is_empty() {
            return Err(Problem::new(p("field"), "lĩnh vực không được để trống"));
        }
        match (&self.competent_level, &self.competent_agency) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(Problem::new(
                    p("competent_level"),
                    "cần đúng một trong competent_level hoặc competent_agency",
                ))
            }
            (Some(l), None) if !agencies.has_level(l) => {
                return Err(Problem::new(
                    p("competent_level"),
                    format!("cấp \"{l}\" không tồn tại"),
                ))
            }
            (None, Some(a)) if agencies.get(a).is_none() => {
                return Err(Problem::new(
                    p("competent_agency"),
                    format!("cơ quan \"{a}\" không tồn tại"),
                ))
            }
            _ => {}
        }
        self.statutory_time
            .to_time()
            .map_err(|(k, m)| Problem::new(p(&format!("statutory_time.{k}")), m))?;
        if let Some(w) = &self.supplement_request_within {
            w.to_time()
                .map_err(|e| Problem::new(p("supplement_request_within"), e.to_string()))?;
        }
        if !RETENTION_CLASSES.contains(&self.retention.as_str()) {
            return Err(Problem::new(
                p("retention"),
                format!(
                    "loại lưu trữ \"{}\" không hợp lệ (dùng {})",
                    self.retention,
                    RETENTION_CLASSES.join(", ")
                ),
            ));
        }
        let mut names = BTreeSet::new();
        for (i, paper) in self.papers.iter().enumerate() {
            if paper.name.trim().is_empty() {
                return Err(Problem::new(
                    p(&format!("paper[{i}].name")),
                    "tên giấy tờ không được để trống",
                ));
            }
            if !names.insert(paper.name.as_str()) {
                return Err(Problem::new(
                    p(&format!("paper[{i}].name")),
                    format!("giấy tờ \"{}\" bị trùng", paper.name),
                ));
            }
            if paper.count == 0 || paper.count > 100 {
                return Err(Problem::new(
                    p(&format!("paper[{i}].count")),
                    "số lượng phải từ 1 đến 100",
                ));
            }
        }
        if self.steps.is_empty() {
            return Err(Problem::new(p("step"), "cần ít nhất một bước xử lý"));
        }
        let mut total = 0;
        for (i, s) in self.steps.iter().enumerate() {
            if s.agency != "receiving"
                && s.agency != "competent"
                && agencies.get(&s.agency).is_none()
            {
                return Err(Problem::new(
                    p(&format!("step[{i}].agency")),
                    format!(
                        "\"{}\" không phải receiving, competent hay mã một cơ quan đã khai báo",
                        s.agency
                    ),
                ));
            }
            if !STEP_ROLES.contains(&s.role.as_str()) {
                return Err(Problem::new(
                    p(&format!("step[{i}].role")),
                    format!(
                        "vai trò \"{}\" không hợp lệ (dùng {})",
                        s.role,
                        STEP_ROLES.join(", ")
                    ),
                ));
            }
            total += s.share;
        }
        if total != 100 {
            return Err(Problem::new(
                p("step"),
                format!("tổng tỷ lệ thời gian (share) của các bước là {total}, phải bằng 100"),
            ));
        }
        Ok(())
    }
}

/// The validated catalogue, by procedure code.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub procedures: BTreeMap<String, Procedure>,
}

impl Catalogue {
    pub fn get(&self, code: &str) -> Option<&Procedure> {
        self.procedures.get(code)
    }
    pub fn len(&self) -> usize {
        self.procedures.len()
    }
    pub fn is_empty(&self) -> bool {
        self.procedures.is_empty()
    }
}
