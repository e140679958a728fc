//! The one-stop desk's own clocks (*Bộ phận Một cửa*, NĐ 118/2025 Art. 17–20):
//!
//! - **Online submissions** (Art. 17(2)–(3)): a dossier sent by a portal arrives
//!   `submitted`. Within the rule set's limit (8 working hours) the desk either receives
//!   it officially — from that moment the statutory time runs, as at the counter — or
//!   asks, in one go, for what is missing (`needs_correction`: the portal sends it again,
//!   a new round with a new limit), or refuses it (`refused_at_intake`, terminal). Every
//!   answer records whether it came by the limit.
//! - **Transfer** (Art. 18(2), 20(1)(a)): the hand-over that takes a received dossier out
//!   of the receiving desk has its own due moment — the same working day when received
//!   before the cut-off (15:00), otherwise the start of the next working day plus a grace;
//!   a paper file sent by a provincial or commune centre to an agency of the other level,
//!   within 1 working day.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, FixedOffset};

use super::deadline::{DeadlineError, Deadlines, TimeLimit};
use super::dossier::{RuleSet, Status};
use super::machine::{refuse, Event, Refusal};

/// When the desk must answer a submission that arrived at `arrival` (none: no limit).
pub fn acknowledge_by(
    arrival: DateTime<FixedOffset>,
    within: Option<&TimeLimit>,
    engine: &Deadlines<'_>,
) -> Result<Option<DateTime<FixedOffset>>, DeadlineError> {
    within
        .map(|w| engine.due_at(arrival, &w.to_time()?))
        .transpose()
}

/// What a desk answer does to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: Status,
    /// The answer came after the limit (*tiếp nhận, phản hồi quá hạn*).
    pub late: bool,
}

/// Why an event cannot happen to a dossier not received yet.
pub fn not_received(status: Status) -> Refusal {
    match status {
        Status::RefusedAtIntake => refuse(
            "dossier_refused",
            "Hồ sơ đã bị từ chối tiếp nhận: không ghi nhận thêm sự kiện",
        ),
        _ => refuse(
            "not_received",
            format!(
                "Hồ sơ trực tuyến chưa được tiếp nhận chính thức ({})",
                status.label_vi()
            ),
        ),
    }
}

/// The desk's answer `event` at `at` to a dossier in `status` that had to be answered by
/// `acknowledge_by`: receive, ask for a correction (once per round) or refuse — each only
/// on a `submitted` dossier. A payment (an online fee) is recorded in any state before
/// receipt except after a refusal; it answers nothing.
pub fn answer(
    status: Status,
    acknowledge_by: Option<DateTime<FixedOffset>>,
    event: &Event,
    at: DateTime<FixedOffset>,
) -> Result<Option<Answer>, Refusal> {
    let late = acknowledge_by.is_some_and(|by| at > by);
    let next = match event {
        Event::Payment { .. } if status != Status::RefusedAtIntake => return Ok(None),
        Event::Receive | Event::RequestCorrection { .. } | Event::Refuse { .. }
            if status != Status::Submitted =>
        {
            return Err(match status {
                Status::NeedsCorrection => refuse(
                    "invalid_state",
                    "Hồ sơ đang chờ người nộp bổ sung, hoàn thiện: chờ Cổng dịch vụ công gửi lại",
                ),
                other => not_received(other),
            });
        }
        Event::Receive => Status::Received,
        Event::RequestCorrection { items, reason } => {
            if items.is_empty() || reason.trim().is_empty() {
                return Err(refuse(
                    "invalid_correction",
                    "Cần nêu đầy đủ một lần các nội dung cần bổ sung, hoàn thiện và lý do",
                ));
            }
            Status::NeedsCorrection
        }
        Event::Refuse { reason } => {
            if reason.trim().is_empty() {
                return Err(refuse(
                    "missing_reason",
                    "Cần nêu rõ lý do từ chối tiếp nhận",
                ));
            }
            Status::RefusedAtIntake
        }
        _ => return Err(not_received(status)),
    };
    Ok(Some(Answer { status: next, late }))
}

/// The portal sends a dossier the desk sent back for correction again.
pub fn resubmit(status: Status) -> Result<Status, Refusal> {
    match status {
        Status::NeedsCorrection => Ok(Status::Submitted),
        Status::Submitted => Err(refuse(
            "invalid_state",
            "Hồ sơ đang chờ tiếp nhận: không có yêu cầu bổ sung, hoàn thiện nào để gửi lại",
        )),
        Status::RefusedAtIntake => Err(not_received(status)),
        other => Err(refuse(
            "invalid_state",
            format!(
                "Hồ sơ đã được tiếp nhận ({}): bổ sung theo yêu cầu của cơ quan giải quyết",
                other.label_vi()
            ),
        )),
    }
}

/// How a transfer out of the receiving desk is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// A paper file (*hồ sơ giấy*), not an electronic hand-over.
    pub paper: bool,
    /// The receiving desk is a provincial or commune one-stop centre and the receiver is an
    /// agency of the other level (NĐ 118/2025 Art. 20(1)(a)).
    pub between_levels: bool,
}

/// When the transfer out of the receiving desk of a dossier received at `received_at` is
/// due; none when the rule set sets no transfer deadline.
pub fn transfer_due_at(
    received_at: DateTime<FixedOffset>,
    transfer: Transfer,
    rules: &RuleSet,
    engine: &Deadlines<'_>,
) -> Result<Option<DateTime<FixedOffset>>, DeadlineError> {
    if transfer.paper && transfer.between_levels {
        if let Some(w) = &rules.transfer_between_levels_within {
            return engine.due_at(received_at, &w.to_time()?).map(Some);
        }
    }
    let Some(cutoff) = rules.transfer_cutoff else {
        return Ok(None);
    };
    let cal = engine.calendar;
    let local = received_at.with_timezone(&engine.offset).naive_local();
    let hours = cal.hours();
    if cal.is_working_day(local.date()) && local.time() < cutoff {
        // The same working day: by the close of working hours.
        let close = local.date().and_time(hours.closing());
        return Ok(Some(received_at + (close - local)));
    }
    let next = cal
        .next_working_day(local.date())
        .ok_or(DeadlineError::OutOfRange)?;
    let opening = received_at + (next.and_time(hours.opening()) - local);
    engine
        .add_working_minutes(opening, i64::from(rules.transfer_grace_minutes))
        .map(Some)
}

/// Whether `at` meets `due` (on or before it).
pub fn on_time(at: DateTime<FixedOffset>, due: DateTime<FixedOffset>) -> bool {
    at <= due
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::{WorkingCalendar, WorkingHours};
    use crate::core::deadline::PeriodUnit;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+07:00")).unwrap()
    }

    fn rules() -> RuleSet {
        RuleSet {
            id: "nd118-2025".into(),
            name: "NĐ 118/2025".into(),
            from: None,
            supplement_requests: 1,
            supplement_clock: crate::core::dossier::SupplementClock::Restart,
            supplement_request_within: None,
            supplement_wait_days: Some(15),
            delay_days_before_due: 1,
            online_acknowledge_within: Some(TimeLimit {
                amount: 8,
                unit: PeriodUnit::WorkingHours,
            }),
            transfer_cutoff: chrono::NaiveTime::from_hms_opt(15, 0, 0),
            transfer_grace_minutes: 60,
            transfer_between_levels_within: Some(TimeLimit {
                amount: 1,
                unit: PeriodUnit::WorkingDays,
            }),
        }
    }

    // 2030-03-04 is a Monday with no holiday nearby in the derived calendar.
    #[test]
    fn eight_working_hours_to_answer_a_submission() {
        let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
        let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
        let r = rules();
        let by = |s| acknowledge_by(at(s), r.online_acknowledge_within.as_ref(), &e).unwrap();
        // Friday 16:30: 30 minutes that day, then Monday 08:00–12:00 and 13:00–16:30.
        assert_eq!(by("2030-03-08T16:30"), Some(at("2030-03-11T16:30")));
        // Saturday night: from Monday's opening.
        assert_eq!(by("2030-03-09T22:00"), Some(at("2030-03-11T17:00")));
        // Monday 09:00: 180 + 240 + 60 → Tuesday 09:00.
        assert_eq!(by("2030-03-04T09:00"), Some(at("2030-03-05T09:00")));
        assert_eq!(
            acknowledge_by(at("2030-03-04T09:00"), None, &e).unwrap(),
            None
        );
    }

    #[test]
    fn the_desk_answers_only_a_submitted_dossier() {
        let by = Some(at("2030-03-05T09:00"));
        let receive = Event::Receive;
        let a = answer(Status::Submitted, by, &receive, at("2030-03-05T09:00")).unwrap();
        assert_eq!(
            a,
            Some(Answer {
                status: Status::Received,
                late: false
            })
        );
        let a = answer(Status::Submitted, by, &receive, at("2030-03-05T09:01")).unwrap();
        assert!(a.unwrap().late);
        let correction = Event::RequestCorrection {
            items: vec!["Giấy chứng sinh".into()],
            reason: "Bản chụp mờ".into(),
        };
        assert_eq!(
            answer(Status::Submitted, by, &correction, at("2030-03-04T10:00"))
                .unwrap()
                .unwrap()
                .status,
            Status::NeedsCorrection
        );
        // Once per round: waiting for the portal, nothing to answer.
        for ev in [&receive, &correction] {
            assert_eq!(
                answer(Status::NeedsCorrection, by, ev, at("2030-03-04T11:00"))
                    .unwrap_err()
                    .code,
                "invalid_state"
            );
        }
        assert_eq!(resubmit(Status::NeedsCorrection), Ok(Status::Submitted));
        assert_eq!(
            resubmit(Status::Submitted).unwrap_err().code,
            "invalid_state"
        );
        assert_eq!(
            answer(
                Status::Submitted,
                by,
                &Event::Refuse { reason: " ".into() },
                at("2030-03-04T10:00")
            )
            .unwrap_err()
            .code,
            "missing_reason"
        );
        let refused = answer(
            Status::Submitted,
            by,
            &Event::Refuse {
                reason: "Không thuộc thẩm quyền".into(),
            },
            at("2030-03-04T10:00"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(refused.status, Status::RefusedAtIntake);
        assert_eq!(
            answer(
                Status::RefusedAtIntake,
                by,
                &receive,
                at("2030-03-04T11:00")
            )
            .unwrap_err()
            .code,
            "dossier_refused"
        );
        // Any other event waits for the receipt; a payment does not.
        assert_eq!(
            answer(
                Status::Submitted,
                by,
                &Event::Accept,
                at("2030-03-04T11:00")
            )
            .unwrap_err()
            .code,
            "not_received"
        );
        let pay = Event::Payment {
            amount: 50_000,
            method: crate::core::machine::PaymentMethod::Online,
            reference: Some("GD-1".into()),
        };
        assert_eq!(
            answer(Status::Submitted, by, &pay, at("2030-03-04T11:00")),
            Ok(None)
        );
    }

    #[test]
    fn transfer_the_same_day_before_the_cut_off_else_first_thing_next_day() {
        let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
        let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
        let r = rules();
        let due = |s, paper, between_levels| {
            transfer_due_at(
                at(s),
                Transfer {
                    paper,
                    between_levels,
                },
                &r,
                &e,
            )
            .unwrap()
        };
        // Art. 18(2): 14:59 → 17:00 the same day; 15:01 → next working day 08:00 + 60.
        assert_eq!(
            due("2030-03-04T14:59", true, false),
            Some(at("2030-03-04T17:00"))
        );
        assert_eq!(
            due("2030-03-04T15:01", true, false),
            Some(at("2030-03-05T09:00"))
        );
        // Friday after the cut-off, or a Saturday: Monday 09:00.
        assert_eq!(
            due("2030-03-08T16:00", false, false),
            Some(at("2030-03-11T09:00"))
        );
        assert_eq!(
            due("2030-03-09T10:00", false, false),
            Some(at("2030-03-11T09:00"))
        );
        // Art. 20(1)(a): a paper file to the other level, within 1 working day.
        assert_eq!(
            due("2030-03-04T14:59", true, true),
            Some(at("2030-03-05T17:00"))
        );
        // Sent electronically, the general rule applies.
        assert_eq!(
            due("2030-03-04T14:59", false, true),
            Some(at("2030-03-04T17:00"))
        );
        let none = RuleSet {
            transfer_cutoff: None,
            transfer_between_levels_within: None,
            ..r.clone()
        };
        assert_eq!(
            transfer_due_at(
                at("2030-03-04T14:59"),
                Transfer {
                    paper: true,
                    between_levels: true
                },
                &none,
                &e
            )
            .unwrap(),
            None
        );
    }
}
