//! The staff digest (*cảnh báo sớm*, issue #17) over a seeded ward, on both backends: the
//! dossiers are received and handled through the services with the moments they happen
//! at (August 2026: Saturday 22/8 worked in exchange, Saturday 29/8 to Wednesday 2/9 off
//! for Quốc khánh), and each digest lists exactly the dossiers it should — an official's
//! own due soon and overdue ones, a leader's at-risk ones (current stage late, dossier
//! not), a clerk's decided ones waiting to be returned — and nothing paused, returned,
//! assigned to someone else, beyond the horizon or at another ward. The morning digests
//! are prepared on working days only, from the configured time, once.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::local;
use motcua::app::App;
use motcua::core::machine::Event;
use motcua::service::accounts::{cli_actor, NewUser};
use motcua::service::digest::{DigestLine, DigestView};
use motcua::service::intake::IntakeRequest;
use motcua::service::{Caller, Role};
use serde_json::{json, Value};

const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
/// Đăng ký thành lập hộ kinh doanh: 3 working days, every step at the ward.
const HOUSEHOLD: &str = "1.001612.000.00.00.H26";
/// Đăng ký khai sinh: same day before 15:00.
const BIRTH: &str = "1.001193.000.00.00.H26";
/// First land-use certificate: 20 working days; the ward's first stage (receipt and
/// checks, steps 1–2) has 25 % of the time, then the land office, the tax office…
const LAND: &str = "1.013978.000.00.00.H26";
const ID_NUMBER: &str = "001095006789";

/// `(username, role, agency, e-mail)`.
const STAFF: [(&str, Role, &str, Option<&str>); 8] = [
    (
        "clerk.a",
        Role::Clerk,
        A,
        Some("motcua.a@phuong.hanoi.gov.vn"),
    ),
    (
        "official.a",
        Role::Official,
        A,
        Some("an.nv@phuong.hanoi.gov.vn"),
    ),
    (
        "official2.a",
        Role::Official,
        A,
        Some("binh.tt@phuong.hanoi.gov.vn"),
    ),
    ("official3.a", Role::Official, A, None),
    (
        "leader.a",
        Role::Leader,
        A,
        Some("chutich@phuong.hanoi.gov.vn"),
    ),
    ("clerk.b", Role::Clerk, B, None),
    ("leader.b", Role::Leader, B, Some("chutich@xa.hanoi.gov.vn")),
    ("admin", Role::Admin, A, Some("quantri@hanoi.gov.vn")),
];

fn caller(username: &str) -> Caller {
    let (_, role, agency, _) = STAFF.iter().find(|s| s.0 == username).unwrap();
    Caller {
        username: username.into(),
        full_name: format!("Cán bộ {username}"),
        role: *role,
        agency: (*agency).into(),
        address: None,
    }
}

/// Receives a dossier of `procedure` at the clerk's counter at local moment `at`.
fn receive(app: &App, clerk: &str, procedure: &str, applicant: &str, at: &str) -> String {
    // Every paper the catalogue requires, as required.
    let papers: Vec<Value> = app
        .catalogue
        .get(procedure)
        .unwrap()
        .papers
        .iter()
        .filter(|p| p.required)
        .map(|p| json!({"name": p.name, "kind": p.kind, "count": p.count}))
        .collect();
    let req: IntakeRequest = serde_json::from_value(json!({
        "procedure_code": procedure,
        "channel": "counter",
        "applicant": {"full_name": applicant, "id_number": ID_NUMBER},
        "papers": papers,
    }))
    .unwrap();
    app.receive(&caller(clerk), &req, local(at))
        .unwrap_or_else(|e| panic!("{procedure} at {at}: {e:?}"))
        .code
}

/// Records event `body` on `code` by `who` at local moment `at`.
fn event(app: &App, who: &str, code: &str, body: Value, at: &str) {
    let e: Event = serde_json::from_value(body.clone()).unwrap();
    app.record_event(&caller(who), code, &e, local(at))
        .unwrap_or_else(|e| panic!("{body} on {code} at {at}: {e:?}"));
}

fn assign(app: &App, code: &str, user: &str, at: &str) {
    let leader = if caller(user).agency == A {
        "leader.a"
    } else {
        "leader.b"
    };
    event(
        app,
        leader,
        code,
        json!({"type": "assign", "user": user}),
        at,
    );
}

fn pause(app: &App, code: &str, at: &str) {
    event(
        app,
        "official.a",
        code,
        json!({"type": "pause", "reason": "Chờ xác minh nơi đặt trụ sở", "legal_basis": "Điều 19 Nghị định 118/2025/NĐ-CP"}),
        at,
    );
}

fn resume(app: &App, code: &str, at: &str) {
    event(app, "official.a", code, json!({"type": "resume"}), at);
}

/// The seeded ward: each dossier by what it is.
struct Seeded {
    app: Arc<App>,
    codes: BTreeMap<&'static str, String>,
}

impl Seeded {
    fn code(&self, name: &str) -> String {
        self.codes[name].clone()
    }

    /// The codes of `lines`, each named back.
    fn names(&self, lines: &[DigestLine]) -> Vec<&'static str> {
        lines
            .iter()
            .map(|l| {
                *self
                    .codes
                    .iter()
                    .find(|(_, c)| **c == l.code)
                    .unwrap_or_else(|| panic!("{} is none of the seeded dossiers", l.code))
                    .0
            })
            .collect()
    }

    fn digest(&self, user: &str, at: &str) -> DigestView {
        self.app.digest_for(user, local(at)).unwrap()
    }
}

fn seed(db: &common::TestDb) -> Seeded {
    // Started before the first receipt: the catalogue's versions are in force from the
    // moment they are loaded.
    let app = common::app_at(db, local("2026-08-01T08:00"));
    for (username, role, agency, email) in STAFF {
        app.create_user(
            &NewUser {
                username,
                full_name: &format!("Cán bộ {username}"),
                role,
                agency,
                password: common::http::PASSWORD,
                email,
            },
            &cli_actor(),
            local("2026-08-01T08:00"),
        )
        .unwrap();
    }
    let a = &*app;
    let mut codes = BTreeMap::new();
    // Assigned to official.a, due Thursday 27/8 at the close (received Monday 24/8:
    // Tuesday, Wednesday, Thursday).
    let c = receive(
        a,
        "clerk.a",
        HOUSEHOLD,
        "Nguyễn Văn Hùng",
        "2026-08-24T09:00",
    );
    assign(a, &c, "official.a", "2026-08-24T09:10");
    codes.insert("due_today", c);
    // The same, paused 10:00–15:00 on Monday: 240 working minutes later, Friday 12:00.
    let c = receive(a, "clerk.a", HOUSEHOLD, "Trần Thị Mai", "2026-08-24T09:00");
    assign(a, &c, "official.a", "2026-08-24T09:10");
    pause(a, &c, "2026-08-24T10:00");
    resume(a, &c, "2026-08-24T15:00");
    codes.insert("due_tomorrow_noon", c);
    // Paused Monday 10:00 to Tuesday 12:00 (600 working minutes): Friday, then past the
    // Quốc khánh break, Thursday 3/9 at 10:00.
    let c = receive(a, "clerk.a", HOUSEHOLD, "Lê Văn Phúc", "2026-08-24T09:00");
    assign(a, &c, "official.a", "2026-08-24T09:10");
    pause(a, &c, "2026-08-24T10:00");
    resume(a, &c, "2026-08-25T12:00");
    codes.insert("due_after_the_break", c);
    // Received Wednesday 26/8: Thursday, Friday, Thursday 3/9 at the close.
    let c = receive(
        a,
        "clerk.a",
        HOUSEHOLD,
        "Phạm Minh Tuấn",
        "2026-08-26T10:00",
    );
    assign(a, &c, "official.a", "2026-08-26T10:10");
    codes.insert("due_in_three_days", c);
    // Received Friday 21/8: Saturday 22/8 (worked), Monday, Tuesday 25/8 at the close.
    let c = receive(a, "clerk.a", HOUSEHOLD, "Hoàng Thị Lan", "2026-08-21T09:00");
    assign(a, &c, "official.a", "2026-08-21T09:10");
    codes.insert("overdue", c);
    // The same, paused on Monday before its due moment and still paused.
    let c = receive(a, "clerk.a", HOUSEHOLD, "Vũ Đức Thắng", "2026-08-21T09:00");
    assign(a, &c, "official.a", "2026-08-21T09:10");
    pause(a, &c, "2026-08-24T10:00");
    codes.insert("paused", c);
    // Due Thursday, assigned to other officials or to nobody.
    let c = receive(a, "clerk.a", HOUSEHOLD, "Đặng Thu Hà", "2026-08-24T09:00");
    assign(a, &c, "official2.a", "2026-08-24T09:10");
    codes.insert("someone_else", c);
    let c = receive(a, "clerk.a", HOUSEHOLD, "Bùi Văn Nam", "2026-08-24T09:00");
    assign(a, &c, "official3.a", "2026-08-24T09:10");
    codes.insert("no_email", c);
    let c = receive(a, "clerk.a", HOUSEHOLD, "Đỗ Thị Hằng", "2026-08-24T09:00");
    codes.insert("unassigned", c);
    // Birth registrations due Monday 24/8 at the close: one decided and returned, one
    // decided and waiting at the counter (the clerk's).
    let c = receive(a, "clerk.a", BIRTH, "Ngô Gia Bảo", "2026-08-24T09:00");
    assign(a, &c, "official.a", "2026-08-24T09:10");
    event(
        a,
        "leader.a",
        &c,
        json!({"type": "decide", "outcome": "approved"}),
        "2026-08-24T10:00",
    );
    event(
        a,
        "clerk.a",
        &c,
        json!({"type": "return", "channel": "counter"}),
        "2026-08-24T11:00",
    );
    codes.insert("returned", c);
    let c = receive(a, "clerk.a", BIRTH, "Ngô Gia Huy", "2026-08-24T09:00");
    assign(a, &c, "official.a", "2026-08-24T09:10");
    event(
        a,
        "leader.a",
        &c,
        json!({"type": "decide", "outcome": "approved"}),
        "2026-08-24T10:00",
    );
    codes.insert("decided_waiting", c);
    // Land: received Monday 10/8, due Wednesday 9/9; the ward's stage was due Monday
    // 17/8 10:45 (25 % of the time) and it is still there: at risk.
    let c = receive(a, "clerk.a", LAND, "Trịnh Văn Sơn", "2026-08-10T09:00");
    assign(a, &c, "official.a", "2026-08-10T09:10");
    codes.insert("stage_late", c);
    // The same, paused.
    let c = receive(a, "clerk.a", LAND, "Trịnh Thị Nga", "2026-08-10T09:00");
    pause(a, &c, "2026-08-25T09:00");
    codes.insert("stage_late_paused", c);
    // Received Wednesday 26/8: its first step (5 %) is due Thursday 09:21, the ward's
    // stage (25 %) only on Monday 7/9.
    let c = receive(a, "clerk.a", LAND, "Lý Thị Thu", "2026-08-26T09:00");
    codes.insert("stage_in_time", c);
    // At the other ward: its leader's.
    let c = receive(a, "clerk.b", LAND, "Mai Văn Tâm", "2026-08-10T09:00");
    codes.insert("stage_late_elsewhere", c);
    Seeded { app, codes }
}

fn sorted_by_due(lines: &[DigestLine]) -> bool {
    lines
        .windows(2)
        .all(|w| (w[0].due_at, &w[0].code) <= (w[1].due_at, &w[1].code))
}

fn each_digest_lists_exactly_its_dossiers(db: common::TestDb) {
    let s = seed(&db);
    let app = &s.app;

    // Thursday 27/8 07:30, the morning digest: one working day reaches the day's close.
    let at = "2026-08-27T07:30";
    let d = s.digest("official.a", at);
    assert_eq!(d.due_soon_until, local("2026-08-27T17:00"));
    assert_eq!(s.names(&d.due_soon), ["due_today"]);
    assert_eq!(s.names(&d.overdue), ["overdue"]);
    assert!(d.at_risk.is_empty(), "an official has no at-risk list");
    let line = &d.due_soon[0];
    assert_eq!(line.procedure_name, "Đăng ký thành lập hộ kinh doanh");
    assert_eq!(line.applicant_name, "Nguyễn Văn Hùng");
    assert_eq!(line.due_at, local("2026-08-27T17:00"));
    assert_eq!(line.remaining_minutes, 480);
    assert_eq!(line.step.as_deref(), Some("Tiếp nhận, kiểm tra hồ sơ"));
    // Tuesday 17:00 to Thursday 07:30: Wednesday's 480 working minutes.
    assert_eq!(d.overdue[0].remaining_minutes, -480);
    assert_eq!(
        s.names(&s.digest("official2.a", at).due_soon),
        ["someone_else"]
    );
    assert_eq!(s.names(&s.digest("official3.a", at).due_soon), ["no_email"]);
    let leader = s.digest("leader.a", at);
    assert_eq!(s.names(&leader.at_risk), ["stage_late"]);
    assert!(leader.due_soon.is_empty() && leader.overdue.is_empty());
    let r = &leader.at_risk[0];
    assert_eq!(r.stage_due_at, Some(local("2026-08-17T10:45")));
    assert_eq!(r.due_at, local("2026-09-09T17:00"));
    assert_eq!(
        r.step.as_deref(),
        Some("Tiếp nhận, kiểm tra thành phần hồ sơ")
    );
    assert_eq!(
        s.names(&s.digest("leader.b", at).at_risk),
        ["stage_late_elsewhere"]
    );
    let clerk = s.digest("clerk.a", at);
    assert_eq!(s.names(&clerk.overdue), ["decided_waiting"]);
    assert!(clerk.due_soon.is_empty() && clerk.at_risk.is_empty());

    // Thursday 14:00: until Friday 14:00, the dossier due Friday noon is due soon too.
    let d = s.digest("official.a", "2026-08-27T14:00");
    assert_eq!(d.due_soon_until, local("2026-08-28T14:00"));
    assert_eq!(s.names(&d.due_soon), ["due_today", "due_tomorrow_noon"]);
    assert_eq!(d.due_soon[1].due_at, local("2026-08-28T12:00"));
    assert_eq!(s.names(&d.overdue), ["overdue"]);

    // Friday 28/8 14:00: one working day reaches past the Quốc khánh break to Thursday
    // 3/9 14:00 — 10:00 that day is due soon, its close is not.
    let d = s.digest("official.a", "2026-08-28T14:00");
    assert_eq!(d.due_soon_until, local("2026-09-03T14:00"));
    assert_eq!(s.names(&d.due_soon), ["due_after_the_break"]);
    assert_eq!(d.due_soon[0].due_at, local("2026-09-03T10:00"));
    assert_eq!(
        s.names(&d.overdue),
        ["overdue", "due_today", "due_tomorrow_noon"]
    );
    assert!(sorted_by_due(&d.overdue));
    // The land dossier received on Wednesday: its first step is late, the ward's stage
    // is not — not at risk.
    assert_eq!(
        s.names(&s.digest("leader.a", "2026-08-28T14:00").at_risk),
        ["stage_late"]
    );

    // Who gets one at 07:30 on Thursday: everyone with an address and something to say.
    let pending = app.pending_digests(local(at)).unwrap();
    let who: Vec<&str> = pending.iter().map(|v| v.username.as_str()).collect();
    assert_eq!(
        who,
        [
            "clerk.a",
            "leader.a",
            "official.a",
            "official2.a",
            "leader.b"
        ]
    );
    for v in &pending {
        assert_eq!(
            v,
            &s.digest(&v.username, at),
            "{}: the same digest",
            v.username
        );
    }

    // Nobody else's: unknown accounts and roles without a digest.
    assert_eq!(
        app.digest_for("nobody", local(at)).unwrap_err().error,
        "unknown_account"
    );
    assert_eq!(
        app.digest_for("admin", local(at)).unwrap_err().error,
        "no_digest"
    );
}

fn the_message_carries_the_lists_and_no_personal_number(db: common::TestDb) {
    let s = seed(&db);
    let app = &s.app;
    let at = "2026-08-27T07:30";
    let d = s.digest("official.a", at);
    let vars = app.digest_vars(&d);
    assert_eq!(vars["name"], "Cán bộ official.a");
    assert_eq!(vars["date"], "27/08/2026");
    assert_eq!(vars["due_soon_count"], "1");
    assert_eq!(vars["overdue_count"], "1");
    assert_eq!(vars["summary"], "1 quá hạn, 1 sắp đến hạn");
    assert_eq!(
        vars["due_soon_url"],
        "http://127.0.0.1:8080/hang-doi?tab=sap-den-han&can-bo=me"
    );
    assert_eq!(
        vars["overdue_url"],
        "http://127.0.0.1:8080/hang-doi?tab=qua-han&can-bo=me"
    );
    assert!(vars["due_soon_text"].contains(&s.code("due_today")));
    assert!(vars["due_soon_text"].contains("Hạn: 17:00 27/08/2026 (còn 1 ngày)"));
    assert!(vars["overdue_html"].contains(&s.code("overdue")));
    assert!(vars["overdue_html"].contains("quá 1 ngày"));
    assert!(
        vars["at_risk_text"].is_empty(),
        "an official's digest has no at-risk part"
    );
    let leader = app.digest_vars(&s.digest("leader.a", at));
    assert!(leader["at_risk_text"].contains(&s.code("stage_late")));
    assert!(leader["at_risk_html"].starts_with("<h2>"));
    // Never an applicant's ID number (nor a pin: none is stored in clear).
    for (name, value) in vars.iter().chain(leader.iter()) {
        assert!(!value.contains(ID_NUMBER), "{name}: {value}");
    }
    // Text that is not the code's own is escaped in the HTML fragments.
    let mut hostile = d.clone();
    hostile.due_soon[0].applicant_name = "<script>alert('x')</script> & Co".into();
    let v = app.digest_vars(&hostile);
    assert!(
        v["due_soon_html"].contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"),
        "{}",
        v["due_soon_html"]
    );
    assert!(!v["due_soon_html"].contains("<script>"));
    // The template: subject, text and html, each variable one the digest gives; the
    // HTML fragments inserted raw, everything else escaped.
    let template: toml::Table =
        toml::from_str(&std::fs::read_to_string("config/templates/staff_digest.toml").unwrap())
            .unwrap();
    for key in ["subject", "text", "html"] {
        let body = template[key].as_str().unwrap_or_else(|| panic!("{key}"));
        let rendered = render(body, &vars, key == "html");
        assert!(!rendered.contains("{{"), "{key}: {rendered}");
        if key != "subject" {
            assert!(rendered.contains(&s.code("due_today")), "{key}");
            assert!(rendered.contains(&s.code("overdue")), "{key}");
        }
        for raw in triple_names(body) {
            assert!(
                key == "html" && raw.ends_with("_html"),
                "{key}: {{{{{{{raw}}}}}}} inserts a value raw"
            );
        }
    }
}

/// The names inside `{{{…}}}` in `body`.
fn triple_names(body: &str) -> Vec<&str> {
    body.split("{{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}}").map(|(n, _)| n))
        .collect()
}

/// The template language as notify.rs documents it: `{{{name}}}` as it is, `{{name}}`
/// HTML-escaped in HTML; an unknown name fails.
fn render(body: &str, vars: &BTreeMap<String, String>, html: bool) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let (raw, after) = if rest[i..].starts_with("{{{") {
            (true, &rest[i + 3..])
        } else {
            (false, &rest[i + 2..])
        };
        let end = if raw { "}}}" } else { "}}" };
        let (name, next) = after.split_once(end).expect("closed placeholder");
        let value = vars
            .get(name)
            .unwrap_or_else(|| panic!("the digest gives no variable {name}"));
        if html && !raw {
            out.push_str(&motcua::core::text::escape_html(value));
        } else {
            out.push_str(value);
        }
        rest = next;
    }
    out.push_str(rest);
    out
}

fn digests_are_prepared_on_working_mornings_once(db: common::TestDb) {
    let s = seed(&db);
    let app = &s.app;
    let n = |at: &str| app.prepare_digests(local(at)).unwrap();
    assert_eq!(n("2026-08-30T08:00"), 0, "a Sunday");
    assert_eq!(n("2026-09-02T08:00"), 0, "Quốc khánh, a Wednesday");
    assert_eq!(n("2026-08-31T09:00"), 0, "the Monday swapped off");
    assert_eq!(n("2026-08-27T07:29"), 0, "before [mail] digest_at");
    assert!(!app.digest_time(local("2026-08-27T07:29")));
    assert!(app.digest_time(local("2026-08-27T07:30")));
    assert!(
        app.digest_time(local("2026-08-22T07:30")),
        "a Saturday worked"
    );
    assert_eq!(n("2026-08-27T07:30"), 5);
    // Once a day from this process (the outbox's key keeps another's from sending twice).
    assert_eq!(n("2026-08-27T07:31"), 0);
    assert_eq!(n("2026-08-27T16:00"), 0);
    // The next working day, again.
    assert!(n("2026-08-28T07:30") > 0);
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::common::TestDb::sqlite());
            }
            #[test]
            #[ignore = "needs PostgreSQL"]
            fn postgres() {
                super::$name(super::common::TestDb::postgres());
            }
        }
    };
}

both!(each_digest_lists_exactly_its_dossiers);
both!(the_message_carries_the_lists_and_no_personal_number);
both!(digests_are_prepared_on_working_mornings_once);
