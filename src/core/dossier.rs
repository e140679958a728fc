//! The dossier (*hồ sơ*): its channel, status, rule set, and the check of its papers
//! against the procedure's list. Pure.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

use super::catalogue::{PaperKind, RequiredPaper};
use super::deadline::TimeLimit;
use super::text;

/// How the dossier came in (*hình thức tiếp nhận*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Trực tiếp tại Bộ phận Một cửa.
    Counter,
    /// Trực tuyến, từ Cổng dịch vụ công.
    Online,
    /// Qua dịch vụ bưu chính công ích.
    Post,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Counter => "counter",
            Channel::Online => "online",
            Channel::Post => "post",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "counter" => Some(Channel::Counter),
            "online" => Some(Channel::Online),
            "post" => Some(Channel::Post),
            _ => None,
        }
    }
    pub fn label_vi(self) -> &'static str {
        match self {
            Channel::Counter => "Trực tiếp",
            Channel::Online => "Trực tuyến",
            Channel::Post => "Bưu chính",
        }
    }
}

/// Where the dossier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Chờ tiếp nhận: an online submission waiting for the one-stop desk to receive it
    /// officially or to ask for a correction (NĐ 118/2025 Art. 17(2)); not received yet,
    /// so no statutory time runs.
    Submitted,
    /// Cần bổ sung, hoàn thiện: the desk asked the online applicant, in one go, for what
    /// is missing; the portal sends the dossier again.
    NeedsCorrection,
    /// Từ chối tiếp nhận: the desk refused an online submission (form 03). Terminal;
    /// never received.
    RefusedAtIntake,
    /// Đã tiếp nhận.
    Received,
    /// Đang giải quyết.
    InProgress,
    /// Chờ bổ sung, hoàn thiện hồ sơ (the clock is stopped).
    SupplementRequested,
    /// Tạm dừng (the clock is stopped).
    Paused,
    /// Đã có kết quả, chờ trả.
    Approved,
    /// Từ chối giải quyết.
    Refused,
    /// Đã trả kết quả.
    Returned,
    /// Dừng giải quyết theo yêu cầu của người nộp.
    Stopped,
    /// Đóng hồ sơ: the applicant did not complete the dossier within the time allowed
    /// after a supplement request (NĐ 118/2025 Art. 19(5)). Terminal; neither finished
    /// nor late.
    Closed,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Submitted,
        Status::NeedsCorrection,
        Status::RefusedAtIntake,
        Status::Received,
        Status::InProgress,
        Status::SupplementRequested,
        Status::Paused,
        Status::Approved,
        Status::Refused,
        Status::Returned,
        Status::Stopped,
        Status::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "submitted",
            Status::NeedsCorrection => "needs_correction",
            Status::RefusedAtIntake => "refused_at_intake",
            Status::Received => "received",
            Status::InProgress => "in_progress",
            Status::SupplementRequested => "supplement_requested",
            Status::Paused => "paused",
            Status::Approved => "approved",
            Status::Refused => "refused",
            Status::Returned => "returned",
            Status::Stopped => "stopped",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Vietnamese wording for citizens and forms.
    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Submitted => "Chờ tiếp nhận",
            Status::NeedsCorrection => "Cần bổ sung, hoàn thiện hồ sơ",
            Status::RefusedAtIntake => "Từ chối tiếp nhận",
            Status::Received => "Đã tiếp nhận",
            Status::InProgress => "Đang giải quyết",
            Status::SupplementRequested => "Chờ bổ sung hồ sơ",
            Status::Paused => "Tạm dừng giải quyết",
            Status::Approved => "Đã có kết quả, chờ trả",
            Status::Refused => "Từ chối giải quyết",
            Status::Returned => "Đã trả kết quả",
            Status::Stopped => "Dừng giải quyết",
            Status::Closed => "Đã đóng hồ sơ (không bổ sung đủ)",
        }
    }
}

/// What a supplement after appraisal does to the statutory time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplementClock {
    /// *Thời hạn giải quyết được tính lại từ đầu sau khi nhận đủ hồ sơ* (NĐ 118/2025
    /// Art. 19(5)): the statutory time is counted again, from the moment the complete
    /// dossier arrives, as at intake.
    Restart,
    /// The clock stops while the applicant completes the dossier; the due moment moves
    /// later by the working time stopped (the reading of NĐ 61/2018 kept for its dossiers).
    Pause,
}

impl SupplementClock {
    pub fn as_str(self) -> &'static str {
        match self {
            SupplementClock::Restart => "restart",
            SupplementClock::Pause => "pause",
        }
    }
}

/// A rule set (*văn bản quy định cơ chế một cửa*) and from when it applies: dossiers keep
/// the rules in force when they were received (NĐ 118/2025 replaced NĐ 61/2018 on
/// 1 July 2025). Data: config/rules.toml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub name: String,
    /// First local date of application; none for the oldest.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// How many supplement requests a dossier may get; 0 = no limit (NĐ 118/2025
    /// Art. 11(2)(c): once).
    pub supplement_requests: u32,
    /// What the complete supplement does to the statutory time.
    pub supplement_clock: SupplementClock,
    /// A supplement requested later than this after receipt is still accepted, but
    /// recorded as a late request and counted (NĐ 118/2025 Art. 19(5): 3 working days);
    /// a procedure of a specialised law may set its own in the catalogue. None: no limit.
    #[serde(default)]
    pub supplement_request_within: Option<TimeLimit>,
    /// Calendar days after a supplement request without the complete dossier from which
    /// the one-stop desk closes the dossier (*đóng hồ sơ*, NĐ 118/2025 Art. 19(5): 15).
    /// None: a dossier is never closed for want of a supplement.
    #[serde(default)]
    pub supplement_wait_days: Option<u32>,
    /// A re-appointment (*xin lỗi và đề nghị gia hạn*) must be given at least this many
    /// calendar days before the due date (NĐ 118/2025 Art. 19(6): "chậm nhất 01 ngày
    /// trước ngày hết hạn").
    #[serde(default = "one_day")]
    pub delay_days_before_due: u32,
    /// Within how long of its arrival the one-stop desk receives an online dossier
    /// officially or asks, in one go, for what is missing (NĐ 118/2025 Art. 17(2): 8
    /// working hours). None: online dossiers are received at once, as before.
    #[serde(default)]
    pub online_acknowledge_within: Option<TimeLimit>,
    /// The receiving desk sends a dossier received before this time of day to the
    /// competent agency the same working day (NĐ 118/2025 Art. 18(2): 15:00). None: the
    /// transfer has no deadline of its own.
    #[serde(default, with = "hhmm_opt")]
    pub transfer_cutoff: Option<NaiveTime>,
    /// A dossier received after the cut-off is sent at the start of the next working day,
    /// within this many working minutes (Art. 18(2): "đầu giờ", 60).
    #[serde(default)]
    pub transfer_grace_minutes: u32,
    /// A paper file sent by a provincial or commune centre to an agency of the other level
    /// goes within this (NĐ 118/2025 Art. 20(1)(a): 1 working day).
    #[serde(default)]
    pub transfer_between_levels_within: Option<TimeLimit>,
}

/// `HH:MM` in rule files.
mod hhmm_opt {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.format("%H:%M").to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveTime>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => crate::core::calendar::parse_hhmm(&s)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

fn one_day() -> u32 {
    1
}

/// The rule set in force on `date`: the one with the latest `from` not after it.
pub fn rule_set_for(sets: &[RuleSet], date: NaiveDate) -> Option<&RuleSet> {
    sets.iter()
        .filter(|r| r.from.is_none_or(|f| f <= date))
        .max_by_key(|r| r.from)
}

/// A paper handed in with a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedPaper {
    pub name: String,
    pub kind: PaperKind,
    pub count: u32,
}

/// A required paper not satisfied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingPaper {
    pub name: String,
    pub kind: PaperKind,
    pub count: u32,
    /// `absent`, `wrong_kind` (a copy where an original or certified copy is required),
    /// `too_few`.
    pub reason: &'static str,
}

fn rank(k: PaperKind) -> u8 {
    match k {
        PaperKind::Original => 3,
        PaperKind::CertifiedCopy => 2,
        PaperKind::Copy => 1,
    }
}

fn key(name: &str) -> String {
    text::clean(name).to_lowercase()
}

/// The required papers that `submitted` does not satisfy. A paper matches by name
/// (NFC, case and spacing ignored); an original satisfies a certified copy or a copy, a
/// certified copy satisfies a copy.
pub fn missing_papers(
    required: &[RequiredPaper],
    submitted: &[SubmittedPaper],
) -> Vec<MissingPaper> {
    let mut missing = Vec::new();
    for r in required.iter().filter(|r| r.required) {
        let k = key(&r.name);
        let same: Vec<&SubmittedPaper> = submitted.iter().filter(|s| key(&s.name) == k).collect();
        let reason = if same.is_empty() {
            Some("absent")
        } else {
            let good: u32 = same
                .iter()
                .filter(|s| rank(s.kind) >= rank(r.kind))
                .map(|s| s.count)
                .sum();
            if good == 0 {
                Some("wrong_kind")
            } else if good < r.count {
                Some("too_few")
            } else {
                None
            }
        };
        if let Some(reason) = reason {
            missing.push(MissingPaper {
                name: r.name.clone(),
                kind: r.kind,
                count: r.count,
                reason,
            });
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: &str, kind: PaperKind, count: u32) -> RequiredPaper {
        RequiredPaper {
            name: name.into(),
            kind,
            count,
            required: true,
        }
    }

    fn sub(name: &str, kind: PaperKind, count: u32) -> SubmittedPaper {
        SubmittedPaper {
            name: name.into(),
            kind,
            count,
        }
    }

    #[test]
    fn papers_match_by_name_kind_and_count() {
        let required = vec![
            req("Tờ khai", PaperKind::Original, 1),
            req("Giấy chứng sinh", PaperKind::CertifiedCopy, 2),
            RequiredPaper {
                required: false,
                ..req("Văn bản ủy quyền", PaperKind::Original, 1)
            },
        ];
        assert!(missing_papers(
            &required,
            &[
                sub("tờ  khai", PaperKind::Original, 1),
                sub("Giấy chứng sinh", PaperKind::Original, 2)
            ]
        )
        .is_empty());
        let m = missing_papers(&required, &[sub("Giấy chứng sinh", PaperKind::Copy, 2)]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].name.as_str(), m[0].reason), ("Tờ khai", "absent"));
        assert_eq!(m[1].reason, "wrong_kind");
        let m = missing_papers(
            &required,
            &[
                sub("Tờ khai", PaperKind::Original, 1),
                sub("Giấy chứng sinh", PaperKind::CertifiedCopy, 1),
            ],
        );
        assert_eq!(m[0].reason, "too_few");
    }

    #[test]
    fn rule_sets_by_date() {
        let sets = vec![
            RuleSet {
                id: "old".into(),
                name: "61".into(),
                from: None,
                supplement_requests: 0,
                supplement_clock: SupplementClock::Pause,
                supplement_request_within: None,
                supplement_wait_days: None,
                delay_days_before_due: 1,
                online_acknowledge_within: None,
                transfer_cutoff: None,
                transfer_grace_minutes: 0,
                transfer_between_levels_within: None,
            },
            RuleSet {
                id: "new".into(),
                name: "118".into(),
                from: NaiveDate::from_ymd_opt(2025, 7, 1),
                supplement_requests: 1,
                supplement_clock: SupplementClock::Restart,
                supplement_request_within: None,
                supplement_wait_days: Some(15),
                delay_days_before_due: 1,
                online_acknowledge_within: None,
                transfer_cutoff: None,
                transfer_grace_minutes: 0,
                transfer_between_levels_within: None,
            },
        ];
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(rule_set_for(&sets, d(2025, 6, 30)).unwrap().id, "old");
        assert_eq!(rule_set_for(&sets, d(2025, 7, 1)).unwrap().id, "new");
    }
}
