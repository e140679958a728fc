//! The route of a dossier (*quy trình nội bộ, liên thông*): the procedure's steps, each at
//! an agency with its share of the statutory time, and each with its own due moment from
//! the same deadline engine (NĐ 118/2025 Art. 14; QĐ 766 counts every hand-over as early,
//! on time or late against the time allotted to the step that ends).
//!
//! - **Planning.** With `T` the working minutes from receipt to the due moment, step `k`
//!   is due `T × (share₁ + … + shareₖ) / Σ share` working minutes after receipt (rounded
//!   down to the minute); the last step is due exactly at the dossier's due moment.
//! - **Stages.** Consecutive steps at one agency form one stage: inside an agency the
//!   dossier moves by assignment, not by hand-over, so only the stage can be measured. A
//!   hand-over (or the return) ends the current stage; its result is the outcome of that
//!   moment against the due moment of the stage's last step, and every step of the stage
//!   records it.
//! - **Moving on.** The receiving agency's acceptance enters the first later step at that
//!   agency. A hand-over to an agency off the route (a consultation) leaves the dossier
//!   between stages; it rejoins the route when handed to an agency further along it.
//! - **Clock stops.** When the clock restarts after a supplement or a pause, every step
//!   not yet ended moves later by the stopped working time, like the dossier's due moment.
//!
//! Pure: no I/O, no clock.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::deadline::{DeadlineError, Deadlines, Outcome};

/// A step as the catalogue gives it, with its agency already resolved to a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub name: String,
    pub agency: String,
    pub role: String,
    pub share: u32,
}

/// A step of one dossier's route (*bước xử lý*), with its due moment and result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1-based position in the route.
    pub no: u32,
    pub name: String,
    pub agency: String,
    pub role: String,
    pub share: u32,
    /// When the step must be done (moved later by stopped clock time).
    pub due_at: DateTime<FixedOffset>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub ended_at: Option<DateTime<FixedOffset>>,
    /// Early / on time / late against the due moment of the step's stage.
    pub outcome: Option<Outcome>,
}

/// Plans the route of a dossier received at `received_at`, due at `due_at`.
pub fn plan(
    steps: &[PlannedStep],
    received_at: DateTime<FixedOffset>,
    due_at: DateTime<FixedOffset>,
    engine: &Deadlines<'_>,
) -> Result<Vec<Step>, DeadlineError> {
    let shares: Vec<u32> = steps.iter().map(|s| s.share).collect();
    let dues = spread(&shares, received_at, due_at, engine)?;
    Ok(steps
        .iter()
        .zip(dues)
        .enumerate()
        .map(|(i, (s, due))| Step {
            no: i as u32 + 1,
            name: s.name.clone(),
            agency: s.agency.clone(),
            role: s.role.clone(),
            share: s.share,
            due_at: due,
            started_at: None,
            ended_at: None,
            outcome: None,
        })
        .collect())
}

/// The due moments of consecutive steps with `shares` of the working time from `start`
/// to `due`: step k at `T × (share₁ + … + shareₖ) / Σ share` working minutes after
/// `start` (rounded down to the minute), the last exactly at `due`.
fn spread(
    shares: &[u32],
    start: DateTime<FixedOffset>,
    due: DateTime<FixedOffset>,
    engine: &Deadlines<'_>,
) -> Result<Vec<DateTime<FixedOffset>>, DeadlineError> {
    let total_share: u64 = shares.iter().map(|s| u64::from(*s)).sum();
    let total = engine.working_minutes_between(start, due).max(0) as u64;
    let mut cumulative = 0u64;
    let mut out = Vec::with_capacity(shares.len());
    for (i, share) in shares.iter().enumerate() {
        cumulative += u64::from(*share);
        out.push(if i + 1 == shares.len() || total_share == 0 {
            due
        } else {
            let minutes = total * cumulative / total_share;
            engine.add_working_minutes(start, minutes as i64)?.min(due)
        });
    }
    Ok(out)
}

/// When the statutory time is counted again from `start` (a supplement completed under
/// NĐ 118/2025 Art. 19(5)) with the new due moment `due`: every step not yet ended gets
/// a new due moment, the remaining steps sharing the time from `start` to `due` by their
/// shares, the last of them exactly at `due`. Ended steps keep theirs.
pub fn replan(
    steps: &mut [Step],
    start: DateTime<FixedOffset>,
    due: DateTime<FixedOffset>,
    engine: &Deadlines<'_>,
) -> Result<(), DeadlineError> {
    let open: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].ended_at.is_none())
        .collect();
    let shares: Vec<u32> = open.iter().map(|&i| steps[i].share).collect();
    let dues = spread(&shares, start, due, engine)?;
    for (i, d) in open.into_iter().zip(dues) {
        steps[i].due_at = d;
    }
    Ok(())
}

/// The first step at `agency` at or after position `from` (0-based).
pub fn find_from(steps: &[Step], from: usize, agency: &str) -> Option<usize> {
    steps
        .iter()
        .enumerate()
        .skip(from)
        .find(|(_, s)| s.agency == agency)
        .map(|(i, _)| i)
}

/// The last index of the stage that starts at `i`: consecutive steps at the same agency.
pub fn stage_end(steps: &[Step], i: usize) -> usize {
    let agency = &steps[i].agency;
    let mut j = i;
    while j + 1 < steps.len() && steps[j + 1].agency == *agency {
        j += 1;
    }
    j
}

/// Where to look for the next step: after the last step that has ended.
pub fn next_search_from(steps: &[Step]) -> usize {
    steps
        .iter()
        .rposition(|s| s.ended_at.is_some())
        .map_or(0, |i| i + 1)
}

/// The result of a stage that ended: its steps, its due moment and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageResult {
    /// 1-based numbers of the steps that ended.
    pub steps: Vec<u32>,
    pub name: String,
    pub due_at: DateTime<FixedOffset>,
    pub outcome: Outcome,
}

/// Ends the stage containing step `current` at moment `at`.
pub fn end_stage(
    steps: &mut [Step],
    current: usize,
    at: DateTime<FixedOffset>,
    engine: &Deadlines<'_>,
) -> StageResult {
    let last = stage_end(steps, current);
    let due = steps[last].due_at;
    let outcome = engine.outcome(at, due);
    for s in &mut steps[current..=last] {
        s.ended_at = Some(at);
        s.outcome = Some(outcome);
        if s.started_at.is_none() {
            s.started_at = Some(at);
        }
    }
    StageResult {
        steps: (current..=last).map(|i| i as u32 + 1).collect(),
        name: steps[last].name.clone(),
        due_at: due,
        outcome,
    }
}

/// Moves every step not yet ended later by the working time stopped from `since` to `at`.
pub fn shift(
    steps: &mut [Step],
    since: DateTime<FixedOffset>,
    at: DateTime<FixedOffset>,
    engine: &Deadlines<'_>,
) -> Result<(), DeadlineError> {
    for s in steps.iter_mut().filter(|s| s.ended_at.is_none()) {
        s.due_at = engine.resume(s.due_at, since, at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::calendar::{WorkingCalendar, WorkingHours};

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(&format!("{s}:00+07:00")).unwrap()
    }

    fn step(agency: &str, share: u32) -> PlannedStep {
        PlannedStep {
            name: format!("at {agency}"),
            agency: agency.into(),
            role: "official".into(),
            share,
        }
    }

    // 2030-03-04 is a Monday with no holiday nearby in the derived calendar;
    // 8 working hours a day (08:00–12:00, 13:00–17:00).
    #[test]
    fn shares_split_the_working_time_and_the_last_step_ends_at_the_due_moment() {
        let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
        let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
        // Received Monday 08:00, due Friday 17:00: 5 × 480 = 2400 working minutes.
        let steps = plan(
            &[step("A", 10), step("B", 45), step("B", 20), step("A", 25)],
            at("2030-03-04T08:00"),
            at("2030-03-08T17:00"),
            &e,
        )
        .unwrap();
        let due: Vec<_> = steps.iter().map(|s| s.due_at).collect();
        // 240 min → Mon 12:00; 1320 = 2×480 + 360 → Wed 15:00; 1800 = 3×480 + 360 →
        // Thu 15:00; the last step at the due moment.
        assert_eq!(
            due,
            vec![
                at("2030-03-04T12:00"),
                at("2030-03-06T15:00"),
                at("2030-03-07T15:00"),
                at("2030-03-08T17:00"),
            ]
        );
        assert_eq!(stage_end(&steps, 1), 2);
        assert_eq!(stage_end(&steps, 3), 3);
        assert_eq!(find_from(&steps, 1, "A"), Some(3));
        assert_eq!(find_from(&steps, 0, "C"), None);
    }

    #[test]
    fn a_stage_is_judged_against_its_last_step_and_open_steps_move_with_the_clock() {
        let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
        let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
        let mut steps = plan(
            &[step("A", 10), step("B", 45), step("B", 20), step("A", 25)],
            at("2030-03-04T08:00"),
            at("2030-03-08T17:00"),
            &e,
        )
        .unwrap();
        let r = end_stage(&mut steps, 0, at("2030-03-04T11:00"), &e);
        assert_eq!(r.outcome, Outcome::OnTime);
        assert_eq!(r.steps, vec![1]);
        // A pause of one working day (Tue 08:00 → Wed 08:00) moves the open steps.
        shift(
            &mut steps,
            at("2030-03-05T08:00"),
            at("2030-03-06T08:00"),
            &e,
        )
        .unwrap();
        assert_eq!(steps[0].due_at, at("2030-03-04T12:00"));
        assert_eq!(steps[1].due_at, at("2030-03-07T15:00"));
        assert_eq!(steps[3].due_at, at("2030-03-11T17:00"));
        // Stage B (steps 2–3) handed over Friday 10:00: due Friday 15:00 → on time;
        // Monday → late.
        let mut late = steps.clone();
        let r = end_stage(&mut steps, 1, at("2030-03-08T10:00"), &e);
        assert_eq!((r.steps.clone(), r.outcome), (vec![2, 3], Outcome::OnTime));
        assert_eq!(r.due_at, at("2030-03-08T15:00"));
        let r = end_stage(&mut late, 1, at("2030-03-11T08:00"), &e);
        assert_eq!(r.outcome, Outcome::Late);
        assert_eq!(late[1].outcome, Some(Outcome::Late));
        assert_eq!(next_search_from(&late), 3);
        // Ended on an earlier date than its due: early.
        let r = end_stage(&mut late, 3, at("2030-03-08T16:00"), &e);
        assert_eq!(r.outcome, Outcome::Early);
    }

    #[test]
    fn replanning_spreads_the_new_time_over_the_open_steps_only() {
        let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
        let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
        let mut steps = plan(
            &[step("A", 10), step("B", 45), step("B", 20), step("A", 25)],
            at("2030-03-04T08:00"),
            at("2030-03-08T17:00"),
            &e,
        )
        .unwrap();
        end_stage(&mut steps, 0, at("2030-03-04T10:00"), &e);
        let first = steps[0].due_at;
        // Counted again from Wed 06/03 10:00 to Wed 13/03 17:00: 360 + 5 × 480 = 2760
        // working minutes over shares 45 / 20 / 25 (Σ 90): 1380 = 360 + 2 × 480 + 60 →
        // Mon 11/03 09:00; 1993 = 360 + 3 × 480 + 193 → Tue 12/03 11:13; the last at due.
        replan(
            &mut steps,
            at("2030-03-06T10:00"),
            at("2030-03-13T17:00"),
            &e,
        )
        .unwrap();
        assert_eq!(steps[0].due_at, first, "an ended step keeps its due moment");
        assert_eq!(
            steps[1..].iter().map(|s| s.due_at).collect::<Vec<_>>(),
            [
                at("2030-03-11T09:00"),
                at("2030-03-12T11:13"),
                at("2030-03-13T17:00")
            ]
        );
    }

    #[test]
    fn a_zero_length_period_puts_every_step_at_the_due_moment() {
        let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
        let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
        let steps = plan(
            &[step("A", 50), step("A", 50)],
            at("2030-03-04T17:00"),
            at("2030-03-04T17:00"),
            &e,
        )
        .unwrap();
        assert!(steps.iter().all(|s| s.due_at == at("2030-03-04T17:00")));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Whatever the shares and the receipt moment: step due moments never decrease,
        /// stay within [receipt, due], and the last one is the dossier's due moment.
        #[test]
        fn planned_due_moments_are_ordered_and_end_at_the_due_moment(
            shares in proptest::collection::vec(0u32..60, 1..8),
            start_min in 0i64..(60 * 24 * 20),
            days in 1u32..40,
        ) {
            use crate::core::deadline::{PeriodUnit, StatutoryTime};
            let c = WorkingCalendar::new(WorkingHours::standard(), Vec::new());
            let e = Deadlines::new(&c, *at("2030-03-04T08:00").offset());
            let received = at("2030-03-01T00:00") + chrono::Duration::minutes(start_min);
            let time = StatutoryTime::new(days, PeriodUnit::WorkingDays, None).unwrap();
            let due = e.due_at(received, &time).unwrap();
            let planned: Vec<_> = shares.iter().enumerate().map(|(i, s)| step(if i % 2 == 0 { "A" } else { "B" }, *s)).collect();
            let steps = plan(&planned, received, due, &e).unwrap();
            proptest::prop_assert_eq!(steps.len(), shares.len());
            proptest::prop_assert_eq!(steps.last().unwrap().due_at, due);
            for w in steps.windows(2) {
                proptest::prop_assert!(w[0].due_at <= w[1].due_at);
            }
            for s in &steps {
                proptest::prop_assert!(s.due_at <= due);
                proptest::prop_assert!(s.due_at >= received || e.working_minutes_between(received, s.due_at) == 0);
            }
        }
    }
}
