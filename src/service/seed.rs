//! `motcua seed-load N`: synthetic but realistic dossiers for load tests and benchmarks —
//! receipts spread over the working hours of a year's working days at the province's
//! agencies, the catalogue's procedures and statutory times, channels, finishes early, on
//! time and late, stops, refusals, hand-overs, digitisation, reuse, online payments,
//! ratings — with their events, hand-over log and daily rollup, in batches of one
//! transaction each. Deterministic for a given seed. Applicants are fictitious (Vietnamese
//! names, so that name searches behave as on real data); no audit records are written
//! (this is not real work).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc};
use serde_json::json;

use crate::app::App;
use crate::core::indicators::{contributions, Column, RollupKey};
use crate::error::{AppError, AppResult};
use crate::store::dossiers::{self, DossierRow, EventRow, HandoverRow, ProgressRow};
use crate::store::{to_db, StoreError};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `p` percent.
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// Dossiers per transaction.
const BATCH: usize = 1000;

/// Surnames with their share in percent (roughly the Vietnamese distribution); the rest
/// are "Lý".
const SURNAMES: [(&str, u64); 15] = [
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 3),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 2),
];
const MIDDLES: [&str; 10] = [
    "Văn", "Thị", "Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc",
];
const GIVEN: [&str; 40] = [
    "An", "Anh", "Bình", "Chi", "Cường", "Dũng", "Duy", "Giang", "Hà", "Hải", "Hạnh", "Hiếu",
    "Hoa", "Hùng", "Hương", "Huy", "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga",
    "Ngọc", "Nhung", "Phúc", "Phương", "Quang", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Thủy",
    "Trang", "Trung", "Tuấn", "Việt", "Yến",
];

/// The fictitious applicant of the `k`-th seeded dossier: a Vietnamese name from a hash of
/// `k` (not from the generator, so the rest of the data stays what it was).
pub fn seed_name(k: usize) -> String {
    let h = ((k as u64 + 1) * 2_654_435_761) % 1_000_003;
    let mut acc = 0;
    let surname = SURNAMES
        .iter()
        .find(|(_, share)| {
            acc += share;
            h % 100 < acc
        })
        .map_or("Lý", |(name, _)| name);
    let middle = MIDDLES[((h / 100) % MIDDLES.len() as u64) as usize];
    let given = GIVEN[((h / 1000) % GIVEN.len() as u64) as usize];
    format!("{surname} {middle} {given}")
}

impl App {
    /// Generates `n` dossiers received in `year`; `progress(done)` after each batch.
    pub fn seed_load(
        &self,
        n: usize,
        year: i32,
        seed: u64,
        progress: &mut dyn FnMut(usize),
    ) -> AppResult<usize> {
        let offset: FixedOffset = self.settings.offset;
        let engine = self.deadlines();
        let communes: Vec<String> = self
            .agencies
            .agencies
            .iter()
            .filter(|a| a.level == "commune")
            .map(|a| a.code.clone())
            .collect();
        let procedures: Vec<_> = self.catalogue.procedures.values().collect();
        if communes.is_empty() || procedures.is_empty() {
            return Err(AppError::invalid(
                "no_data",
                "Cần có cấp xã và thủ tục trong cấu hình",
            ));
        }
        let centre = self
            .agencies
            .agencies
            .iter()
            .find(|a| a.level == "centre")
            .map(|a| a.code.clone())
            .unwrap_or_else(|| communes[0].clone());
        let working_days: Vec<NaiveDate> = (1..=366)
            .filter_map(|d| NaiveDate::from_yo_opt(year, d))
            .filter(|d| self.calendar.is_working_day(*d))
            .collect();
        let mut rng = Rng(seed.max(1));
        let mut rollup: BTreeMap<(RollupKey, Column), i64> = BTreeMap::new();
        let mut done = 0usize;
        let rule_set = self
            .rule_sets
            .iter()
            .max_by_key(|r| r.from)
            .map(|r| r.id.clone())
            .unwrap_or_default();
        while done < n {
            let size = BATCH.min(n - done);
            let mut rows = Vec::with_capacity(size);
            let mut progresses = Vec::with_capacity(size);
            let mut events = Vec::with_capacity(size * 3);
            let mut handovers = Vec::new();
            for i in 0..size {
                let k = done + i;
                let p = procedures[rng.below(procedures.len() as u64) as usize];
                let (receiving, competent) =
                    match (&p.competent_agency, p.competent_level.as_deref()) {
                        (Some(c), _) => (
                            communes[rng.below(communes.len() as u64) as usize].clone(),
                            c.clone(),
                        ),
                        (None, Some("commune")) => {
                            let c = communes[rng.below(communes.len() as u64) as usize].clone();
                            (c.clone(), c)
                        }
                        (None, Some(level)) => {
                            let c = self
                                .agencies
                                .agencies
                                .iter()
                                .find(|a| a.level == level)
                                .map(|a| a.code.clone())
                                .unwrap_or_else(|| centre.clone());
                            (centre.clone(), c)
                        }
                        (None, None) => (centre.clone(), centre.clone()),
                    };
                let day = working_days[rng.below(working_days.len() as u64) as usize];
                let minute = rng.below(480) as i64;
                let local = day.and_hms_opt(8, 0, 0).expect("valid")
                    + Duration::minutes(if minute < 240 { minute } else { minute + 60 });
                let received: DateTime<FixedOffset> = local
                    .and_local_timezone(offset)
                    .single()
                    .expect("fixed offset");
                let time = p.time();
                let Ok(due) = engine.due_at(received, &time) else {
                    continue;
                };
                let total = engine.working_minutes_between(received, due).max(60);
                let channel = match rng.below(100) {
                    0..=39 => "online",
                    40..=94 => "counter",
                    _ => "post",
                };
                let code = format!("{receiving}-SEED{seed:x}-{k:07}");
                // Most dossiers are finished; those still open are mostly recent ones.
                let recent = day.ordinal() > 340;
                // 0–2 stopped, 3 still open, the rest returned; half the recent ones open.
                let fate = if recent && rng.pct(50) {
                    3
                } else {
                    rng.below(100)
                };
                let (status, finished, outcome) = if fate > 3 {
                    let used = total * (30 + rng.below(95) as i64) / 100;
                    let f = engine.add_working_minutes(received, used).unwrap_or(due);
                    ("returned", Some(f), Some(engine.outcome(f, due)))
                } else if fate < 3 {
                    let f = engine
                        .add_working_minutes(received, total / 4)
                        .unwrap_or(due);
                    ("stopped", Some(f), None)
                } else {
                    ("in_progress", None, None)
                };
                let refused = status == "returned" && rng.pct(5);
                let mut row = DossierRow {
                    code: code.clone(),
                    procedure_code: p.code.clone(),
                    procedure_version: 1,
                    rule_set: rule_set.clone(),
                    receiving_agency: receiving.clone(),
                    competent_agency: Some(competent.clone()),
                    current_agency: receiving.clone(),
                    channel: channel.into(),
                    status: status.into(),
                    applicant_name: seed_name(k),
                    applicant_id_kind: "personal_id".into(),
                    applicant_id_number: format!("{:012}", 900_000_000_000u64 + k as u64),
                    applicant_phone: None,
                    applicant_email: None,
                    applicant_address: None,
                    applicant_search: crate::core::text::fold(&seed_name(k)),
                    proxy: None,
                    note: None,
                    pin_hash: String::new(),
                    received_at: Some(to_db(received.with_timezone(&Utc))),
                    due_at: Some(to_db(due.with_timezone(&Utc))),
                    time_amount: time.amount as i32,
                    time_unit: time.unit.as_str().into(),
                    time_cutoff: time.cutoff.map(|c| c.format("%H:%M").to_string()),
                    reappointed_at: None,
                    finished_at: finished.map(|f| to_db(f.with_timezone(&Utc))),
                    outcome: outcome.map(|o| o.as_str().to_string()),
                    result_ready: status == "returned",
                    received_by: "seed".into(),
                    book_volume: Some(year),
                    book_line: Some(k as i64 + 1),
                    updated_at: to_db(received.with_timezone(&Utc)),
                };
                let mut pr = ProgressRow::new(&code);
                pr.first_due_at = row.due_at;
                pr.yields_document = p.result_document.is_some();
                pr.supplement_requests = i32::from(rng.pct(10));
                pr.digitised = rng.pct(70);
                pr.reused = rng.pct(20);
                pr.fee_bearing = p.fee > 0;
                pr.paid_online = pr.fee_bearing && channel == "online" && rng.pct(50);
                if status == "returned" {
                    let f = finished.expect("returned");
                    pr.decision = Some(if refused { "refused" } else { "approved" }.into());
                    pr.results = i32::from(!refused);
                    pr.results_electronic = i32::from(!refused && rng.pct(60));
                    pr.handling_minutes = Some(engine.working_minutes_between(received, f));
                    if rng.pct(30) {
                        pr.rating = Some(
                            if rng.pct(90) {
                                "satisfied"
                            } else {
                                "unsatisfied"
                            }
                            .into(),
                        );
                        pr.rated_at = Some(to_db((f + Duration::days(1)).with_timezone(&Utc)));
                        pr.rated = true;
                    }
                    row.current_agency = receiving.clone();
                }
                let ev = |seq: i32, kind: &str, at: DateTime<FixedOffset>, status_after: &str| {
                    EventRow {
                        dossier_code: code.clone(),
                        seq,
                        kind: kind.into(),
                        at: to_db(at.with_timezone(&Utc)),
                        actor: "seed".into(),
                        agency_code: receiving.clone(),
                        status_after: status_after.into(),
                        payload: "{}".into(),
                    }
                };
                events.push(ev(1, "receive", received, "received"));
                let mut seq = 1;
                if p.inter_agency && competent != receiving {
                    // Counter → competent agency and back, before the finish.
                    let end = finished.unwrap_or(due);
                    let span = engine.working_minutes_between(received, end).max(2);
                    for (n, (from, to)) in [(&receiving, &competent), (&competent, &receiving)]
                        .into_iter()
                        .enumerate()
                    {
                        let at = engine
                            .add_working_minutes(received, span * (n as i64 + 1) / 3)
                            .unwrap_or(received);
                        if at >= end || (n == 1 && finished.is_none()) {
                            break;
                        }
                        seq += 1;
                        let electronic = rng.pct(85);
                        let step_due = engine
                            .add_working_minutes(received, total * (n as i64 + 1) / 3)
                            .unwrap_or(due);
                        handovers.push(HandoverRow {
                            dossier_code: code.clone(),
                            seq,
                            at: to_db(at.with_timezone(&Utc)),
                            from_agency: from.clone(),
                            to_agency: to.clone(),
                            electronic,
                            outcome: Some(engine.outcome(at, step_due).as_str().to_string()),
                            transfer_due_at: None,
                            transfer_outcome: None,
                        });
                        events.push(EventRow {
                            payload: json!({"to_agency": to, "electronic": electronic}).to_string(),
                            agency_code: from.clone(),
                            ..ev(seq, "handover", at, "in_progress")
                        });
                        let cell = (from.clone(), p.code.clone(), at.date_naive());
                        *rollup
                            .entry((cell.clone(), Column::HandoversTotal))
                            .or_insert(0) += 1;
                        if electronic {
                            *rollup
                                .entry((cell, Column::HandoversElectronic))
                                .or_insert(0) += 1;
                        }
                    }
                }
                if let Some(f) = finished {
                    if status == "returned" {
                        events.push(ev(
                            seq + 1,
                            "decide",
                            f - Duration::minutes(1),
                            if refused { "refused" } else { "approved" },
                        ));
                        events.push(ev(seq + 2, "return", f, "returned"));
                    } else {
                        events.push(ev(seq + 1, "stop", f, "stopped"));
                    }
                }
                let facts =
                    super::reports::facts_of(&row, &pr, String::new()).expect("a received dossier");
                for (k, v) in contributions(&facts, offset) {
                    *rollup.entry(k).or_insert(0) += v;
                }
                rows.push(row);
                progresses.push(pr);
            }
            self.store.write(None, |conn| {
                dossiers::insert_many(conn, &rows, &progresses, &events, &handovers)?;
                Ok::<_, StoreError>(())
            })?;
            done += size;
            progress(done);
        }
        // The rollup, in one transaction per 5,000 cells.
        let cells: Vec<(RollupKey, Column, i64)> =
            rollup.into_iter().map(|((k, c), v)| (k, c, v)).collect();
        for chunk in cells.chunks(5000) {
            self.store.write(None, |conn| {
                crate::store::reports::apply_rollup(conn, chunk)
            })?;
        }
        self.store.compact_rollup()?;
        Ok(done)
    }
}
