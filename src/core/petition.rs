//! Petitions (*phản ánh, kiến nghị*): a citizen's report of a problem with, or proposal
//! about, an administrative procedure or its handling, answered by the agency it is about
//! within its own deadline (NĐ 20/2008/NĐ-CP on receiving and handling petitions about
//! administrative regulations, as amended by NĐ 48/2013/NĐ-CP and NĐ 92/2017/NĐ-CP;
//! counted by QĐ 766/QĐ-TTg indicator 5.2). The deadline is data (`config/petitions.toml`)
//! counted by the deadline engine; the life of a petition is a small state machine.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::deadline::{DeadlineError, Deadlines, TimeLimit};

/// `config/petitions.toml`: the deadline with its legal source, the code prefix and the
/// public form's limits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PetitionRules {
    /// Within this of its submission a petition is answered (*thời hạn xử lý*).
    pub answer_within: TimeLimit,
    /// Where the deadline comes from.
    pub source: String,
    /// The deadline could not be verified against the text: a sample to check.
    #[serde(default)]
    pub sample: bool,
    /// The first part of a petition's code: `<prefix>-<yymmdd>-<seq>`.
    pub code_prefix: String,
    /// Accepted submissions from one address within `window_minutes`; more are refused
    /// (429) until the window ends.
    pub submissions_per_address: u32,
    pub window_minutes: u32,
    /// Longest text of a petition, in characters.
    pub max_content_chars: usize,
}

/// What a petition is (*phản ánh* or *kiến nghị*, NĐ 20/2008 Art. 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PetitionKind {
    /// *Phản ánh*: a report of a problem (an official's conduct, a procedure not followed,
    /// a regulation that does not work).
    Report,
    /// *Kiến nghị*: a proposal to change a regulation or a procedure.
    Proposal,
}

impl PetitionKind {
    pub const ALL: [PetitionKind; 2] = [PetitionKind::Report, PetitionKind::Proposal];

    pub fn as_str(self) -> &'static str {
        match self {
            PetitionKind::Report => "report",
            PetitionKind::Proposal => "proposal",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            PetitionKind::Report => "Phản ánh",
            PetitionKind::Proposal => "Kiến nghị",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Where a petition is in its life: received → assigned → answered → closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PetitionStatus {
    /// *Đã tiếp nhận*: waiting for a leader to assign it.
    Received,
    /// *Đang xử lý*: an official of the agency answers it.
    Assigned,
    /// *Đã trả lời*: the answer was given (and sent); its outcome is fixed.
    Answered,
    /// *Đã kết thúc*: filed.
    Closed,
}

impl PetitionStatus {
    pub const ALL: [PetitionStatus; 4] = [
        PetitionStatus::Received,
        PetitionStatus::Assigned,
        PetitionStatus::Answered,
        PetitionStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PetitionStatus::Received => "received",
            PetitionStatus::Assigned => "assigned",
            PetitionStatus::Answered => "answered",
            PetitionStatus::Closed => "closed",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            PetitionStatus::Received => "Đã tiếp nhận",
            PetitionStatus::Assigned => "Đang xử lý",
            PetitionStatus::Answered => "Đã trả lời",
            PetitionStatus::Closed => "Đã kết thúc",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Not answered yet: the deadline runs.
    pub fn is_open(self) -> bool {
        matches!(self, PetitionStatus::Received | PetitionStatus::Assigned)
    }
}

/// Whether an answer came by the due moment (*đúng hạn*) or after it (*quá hạn*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerOutcome {
    OnTime,
    Late,
}

impl AnswerOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerOutcome::OnTime => "on_time",
            AnswerOutcome::Late => "late",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            AnswerOutcome::OnTime => "Đúng hạn",
            AnswerOutcome::Late => "Quá hạn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "on_time" => Some(AnswerOutcome::OnTime),
            "late" => Some(AnswerOutcome::Late),
            _ => None,
        }
    }
}

/// The due moment of a petition submitted at `submitted_at`: `rules.answer_within`
/// counted by the deadline engine (working days: day 1 is the first working day after
/// the day of submission, due at the close of the last).
pub fn due_at(
    engine: &Deadlines<'_>,
    submitted_at: DateTime<FixedOffset>,
    rules: &PetitionRules,
) -> Result<DateTime<FixedOffset>, DeadlineError> {
    engine.due_at(submitted_at, &rules.answer_within.to_time()?)
}

/// The outcome of an answer given at `answered_at`: on time at or before `due_at`.
pub fn answer_outcome(
    answered_at: DateTime<FixedOffset>,
    due_at: DateTime<FixedOffset>,
) -> AnswerOutcome {
    if answered_at <= due_at {
        AnswerOutcome::OnTime
    } else {
        AnswerOutcome::Late
    }
}

/// A petition's code: `<prefix>-<yymmdd>-<seq>`, the day's sequence on at least 4
/// digits (`PA-260310-0001`), gap-free per day like a dossier's.
pub fn petition_code(prefix: &str, day: NaiveDate, seq: i64) -> String {
    format!("{prefix}-{}-{seq:04}", day.format("%y%m%d"))
}

/// A staff command on a petition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// *Phân công*: a leader gives it to an official of the agency (again: to another).
    Assign,
    /// *Trả lời*: the answer; fixes the outcome.
    Answer,
    /// *Kết thúc*: filed after the answer.
    Close,
}

impl Command {
    pub fn as_str(&self) -> &'static str {
        match self {
            Command::Assign => "assign",
            Command::Answer => "answer",
            Command::Close => "close",
        }
    }
}

/// The status after `command` in status `from`, or `None` when it is not allowed then.
pub fn transition(from: PetitionStatus, command: &Command) -> Option<PetitionStatus> {
    use PetitionStatus::*;
    match (from, command) {
        (Received | Assigned, Command::Assign) => Some(Assigned),
        (Received | Assigned, Command::Answer) => Some(Answered),
        (Answered, Command::Close) => Some(Closed),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::{CalendarYear, NamedDay, WorkingCalendar, WorkingHours};
    use crate::core::deadline::PeriodUnit;

    fn rules(amount: u32) -> PetitionRules {
        PetitionRules {
            answer_within: TimeLimit {
                amount,
                unit: PeriodUnit::WorkingDays,
            },
            source: "test".into(),
            sample: true,
            code_prefix: "PA".into(),
            submissions_per_address: 5,
            window_minutes: 60,
            max_content_chars: 4000,
        }
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+07:00")).unwrap()
    }

    /// 2026 with Hùng Kings' day (Sun 26/4 → compensated Mon 27/4), 30/4 and 1/5.
    fn calendar() -> WorkingCalendar {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let named = |date, name: &str| NamedDay {
            date,
            name: name.into(),
        };
        let year = CalendarYear::from_lists(
            2026,
            &[
                named(d(4, 27), "Giỗ Tổ Hùng Vương (nghỉ bù)"),
                named(d(4, 30), "Ngày Chiến thắng"),
                named(d(5, 1), "Quốc tế Lao động"),
            ],
            &[],
        )
        .unwrap();
        WorkingCalendar::new(WorkingHours::standard(), vec![year])
    }

    #[test]
    fn the_due_moment_is_counted_in_working_days_by_the_engine() {
        let cal = calendar();
        let engine = Deadlines::new(&cal, FixedOffset::east_opt(7 * 3600).unwrap());
        // (submitted, working days, due)
        let cases = [
            // Tuesday 10/3 15:30: day 1 is Wed 11/3, day 10 is Tue 24/3.
            ("2026-03-10T15:30", 10, "2026-03-24T17:00"),
            // Submitted on a Saturday: day 1 is Monday.
            ("2026-03-14T09:00", 10, "2026-03-27T17:00"),
            // After hours on Friday: day 1 is Monday 16/3.
            ("2026-03-13T21:00", 1, "2026-03-16T17:00"),
            // Across the holidays of late April (27/4, 30/4, 1/5): Fri 24/4 + 10 working
            // days = 28, 29/4, 4–8/5, 11, 12, 13/5.
            ("2026-04-24T10:00", 10, "2026-05-13T17:00"),
            // 15 working days (DOMAIN.md's reading) from the same Tuesday.
            ("2026-03-10T15:30", 15, "2026-03-31T17:00"),
        ];
        for (submitted, days, want) in cases {
            let got = due_at(&engine, at(submitted), &rules(days)).unwrap();
            assert_eq!(got, at(want), "{submitted} + {days}");
        }
    }

    #[test]
    fn an_answer_at_the_due_moment_is_on_time_and_a_minute_later_late() {
        let due = at("2026-03-24T17:00");
        let cases = [
            ("2026-03-11T08:00", AnswerOutcome::OnTime),
            ("2026-03-24T17:00", AnswerOutcome::OnTime),
            ("2026-03-24T17:01", AnswerOutcome::Late),
            ("2026-04-02T09:00", AnswerOutcome::Late),
        ];
        for (answered, want) in cases {
            assert_eq!(answer_outcome(at(answered), due), want, "{answered}");
        }
    }

    #[test]
    fn the_life_of_a_petition() {
        use PetitionStatus::*;
        let cases = [
            (Received, Command::Assign, Some(Assigned)),
            (Assigned, Command::Assign, Some(Assigned)),
            (Received, Command::Answer, Some(Answered)),
            (Assigned, Command::Answer, Some(Answered)),
            (Answered, Command::Answer, None),
            (Answered, Command::Assign, None),
            (Received, Command::Close, None),
            (Assigned, Command::Close, None),
            (Answered, Command::Close, Some(Closed)),
            (Closed, Command::Close, None),
            (Closed, Command::Answer, None),
            (Closed, Command::Assign, None),
        ];
        for (from, command, want) in cases {
            assert_eq!(transition(from, &command), want, "{from:?} {command:?}");
        }
    }

    #[test]
    fn codes_kinds_and_statuses() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(petition_code("PA", d, 1), "PA-260310-0001");
        assert_eq!(petition_code("PA", d, 12345), "PA-260310-12345");
        for k in PetitionKind::ALL {
            assert_eq!(PetitionKind::parse(k.as_str()), Some(k));
        }
        for s in PetitionStatus::ALL {
            assert_eq!(PetitionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(PetitionKind::parse("complaint"), None);
        assert!(PetitionStatus::Assigned.is_open());
        assert!(!PetitionStatus::Answered.is_open());
    }
}
