//! `GET /api/v1/dossiers/{code}/actions` against the events endpoint, on every state of
//! the dossier's life and for every kind of user: each action it offers, `POST
//! …/events?dry_run=true` accepts (200); each it refuses, the endpoint refuses with the
//! same error code; a dossier it does not show (404) the endpoint does not find.
//!
//! The states: received at the counter, handed over (pending), in progress at another
//! ward, waiting for a supplement, paused, re-appointed, approved, handed back, returned,
//! rated; stopped; refused; closed after the 15-day wait; an online submission waiting,
//! sent back for correction, refused at intake.

mod common;

use common::http::{event, get, login, portal_token, post, send, service, users};
use common::local;
use motcua::service::Role;
use serde_json::{json, Value};

const CITY: &str = "000.00.00.H26";
const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";
const HOUSEHOLD: &str = "1.001612.000.00.00.H26";

const STAFF: [(&str, Role, &str); 10] = [
    ("clerk.a", Role::Clerk, A),
    ("official.a", Role::Official, A),
    ("leader.a", Role::Leader, A),
    ("clerk.b", Role::Clerk, B),
    ("official.b", Role::Official, B),
    ("leader.b", Role::Leader, B),
    ("clerk.city", Role::Clerk, CITY),
    ("leader.city", Role::Leader, CITY),
    ("inspector", Role::Inspector, CITY),
    ("portal.dvc", Role::Portal, CITY),
];

/// A well-formed event of each kind, as a user would send it: with the action's own
/// choices when it is offered, otherwise with plausible values (an agency other than the
/// current one, an official of the user's agency).
fn body_for(kind: &str, action: &Value, user_agency: &str, current: &str) -> Value {
    let first = |name: &str| {
        action["fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == name))
            .and_then(|f| f["choices"][0]["value"].as_str().map(String::from))
    };
    let latest = action["fields"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == "new_due_at"))
        .and_then(|f| f["latest"].as_str().map(String::from))
        .unwrap_or_else(|| "2027-01-29T17:00:00+07:00".into());
    match kind {
        "receive" | "accept" | "resume" | "supplement_received" => json!({"type": kind}),
        "request_correction" | "request_supplement" => {
            json!({"type": kind, "items": ["Bản sao sổ hộ khẩu"], "reason": "Còn thiếu giấy tờ"})
        }
        "refuse" | "close" | "stop" => json!({"type": kind, "reason": "Theo đề nghị"}),
        "assign" => {
            let someone = if user_agency == A {
                "official.a"
            } else if user_agency == B {
                "official.b"
            } else {
                "leader.city"
            };
            let user = first("user").unwrap_or(someone.to_string());
            json!({"type": kind, "user": user})
        }
        "handover" => {
            let to = first("to_agency").unwrap_or_else(|| {
                [A, B, CITY]
                    .into_iter()
                    .find(|a| *a != current)
                    .unwrap()
                    .to_string()
            });
            json!({"type": kind, "to_agency": to, "electronic": true})
        }
        "pause" => json!({"type": kind, "reason": "Chờ xác minh", "legal_basis": "Điều 19"}),
        "propose" => json!({"type": kind, "note": "Đủ điều kiện cấp"}),
        "delay" => json!({"type": kind, "reason": "Cần xác minh thêm", "new_due_at": latest}),
        "decide" => {
            json!({"type": kind, "outcome": "approved", "result": {"number": "15/2026/QĐ"}})
        }
        "return" => json!({"type": kind, "channel": "counter"}),
        "payment" => json!({"type": kind, "amount": 50000, "method": "cash"}),
        "rate" => json!({"type": kind, "score": "satisfied"}),
        other => panic!("unknown action {other}"),
    }
}

/// `POST …/events?dry_run=true`.
async fn dry_run<S>(svc: &S, token: &str, code: &str, body: Value) -> (u16, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    send(
        svc,
        post(
            token,
            &format!("/api/v1/dossiers/{code}/events?dry_run=true"),
            body,
        ),
    )
    .await
}

struct Checker<'a, S> {
    svc: &'a S,
    tokens: Vec<(&'static str, &'static str, String)>,
    checked: usize,
    offered: std::collections::BTreeSet<String>,
}

impl<S> Checker<'_, S>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    /// Every user's actions on `code` (now at `current`) against the events endpoint.
    async fn check(&mut self, code: &str, current: &str, state: &str) {
        let mut offered_here = Vec::new();
        for (user, agency, token) in &self.tokens {
            let (status, b) = send(
                self.svc,
                get(token, &format!("/api/v1/dossiers/{code}/actions")),
            )
            .await;
            if status == 404 {
                // Not shown: no event is accepted either.
                for kind in ["accept", "handover", "payment", "decide"] {
                    let (s, r) = dry_run(
                        self.svc,
                        token,
                        code,
                        body_for(kind, &Value::Null, agency, current),
                    )
                    .await;
                    // Not found, or the role's refusal, which says nothing of the dossier.
                    assert!(
                        matches!(
                            (s, r["error"].as_str()),
                            (404, Some("not_found")) | (403, Some("forbidden"))
                        ),
                        "{state}: {user} {kind}: {s} {r}"
                    );
                    self.checked += 1;
                }
                continue;
            }
            assert_eq!(status, 200, "{state}: {user}: {b}");
            let actions = b["actions"].as_array().expect("actions");
            assert_eq!(
                actions.len(),
                motcua::service::actions::KINDS.len(),
                "{state}: every kind is listed"
            );
            for a in actions {
                let kind = a["type"].as_str().unwrap();
                assert!(!a["label"].as_str().unwrap_or("").is_empty());
                let body = body_for(kind, a, agency, current);
                let (s, r) = dry_run(self.svc, token, code, body).await;
                if a["allowed"] == true {
                    assert_eq!(s, 200, "{state}: {user} is offered {kind}, refused: {r}");
                    assert_eq!(r["dry_run"], true);
                    offered_here.push(format!("{user}:{kind}"));
                    self.offered.insert(kind.to_string());
                } else {
                    assert!(
                        (400..500).contains(&s),
                        "{state}: {user} is not offered {kind} ({a}), the endpoint said {s} {r}"
                    );
                    assert_eq!(
                        r["error"], a["error"],
                        "{state}: {user} {kind}: the same reason ({a} / {r})"
                    );
                    assert!(!a["message"].as_str().unwrap_or("").is_empty());
                }
                self.checked += 1;
            }
        }
        assert!(
            !offered_here.is_empty() || state.starts_with("terminal"),
            "{state}: someone may act"
        );
    }
}

/// Every user's token, logged in now (the manual clock jumps days).
async fn tokens_now<S>(svc: &S) -> Vec<(&'static str, &'static str, String)>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let mut tokens = Vec::new();
    for (user, role, agency) in STAFF {
        let t = if role == Role::Portal {
            portal_token(svc, user).await
        } else {
            login(svc, user).await
        };
        tokens.push((user, agency, t));
    }
    tokens
}

async fn every_state(db: common::TestDb) {
    let app = common::app_at(&db, local("2026-11-02T08:00"));
    app.clock.set(local("2026-11-02T09:00"));
    users(&app, &STAFF);
    let svc = service(&app).await;
    let tokens = tokens_now(&svc).await;
    let tok = |tokens: &Vec<(&'static str, &'static str, String)>, u: &str| {
        tokens.iter().find(|t| t.0 == u).unwrap().2.clone()
    };
    let (clerk_a, official_b, _, _) = (
        tok(&tokens, "clerk.a"),
        tok(&tokens, "official.b"),
        tok(&tokens, "leader.b"),
        tok(&tokens, "portal.dvc"),
    );
    let mut c = Checker {
        svc: &svc,
        tokens: tokens.clone(),
        checked: 0,
        offered: Default::default(),
    };
    let counter = |name: &str| {
        let household = name == "Đỗ Minh Khoa";
        if household {
            // Three working days: time for an apology before the due date.
            return json!({
                "procedure_code": HOUSEHOLD, "channel": "counter",
                "applicant": {"full_name": name, "id_number": "001095006789"},
                "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]
            });
        }
        json!({
            "procedure_code": BIRTH, "channel": "counter",
            "applicant": {"full_name": name, "id_number": "001095006789"},
            "papers": [
                {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                {"name": "Giấy chứng sinh", "kind": "original"}
            ]
        })
    };
    let new_dossier = |clerk_a: String, name: &'static str| {
        let svc = &svc;
        async move {
            let (s, b) = send(svc, post(&clerk_a, "/api/v1/dossiers", counter(name))).await;
            assert_eq!(s, 201, "{b}");
            b["code"].as_str().unwrap().to_string()
        }
    };
    let ok = |r: (u16, Value), what: &str| {
        assert_eq!(r.0, 201, "{what}: {}", r.1);
        r.1
    };

    // One dossier through its whole life, between two wards.
    let code = new_dossier(clerk_a.clone(), "Đỗ Minh Khoa").await;
    c.check(&code, A, "received").await;
    let e = |t: &str, b: Value| {
        let svc = &svc;
        let code = code.clone();
        let t = t.to_string();
        async move { event(svc, &t, &code, b).await }
    };
    ok(
        e(
            &clerk_a,
            json!({"type": "handover", "to_agency": B, "electronic": true}),
        )
        .await,
        "handover",
    );
    c.check(&code, A, "handed over to B").await;
    ok(e(&official_b, json!({"type": "accept"})).await, "accept");
    c.check(&code, B, "in progress at B").await;
    // The apology offered with its latest new date: taken at that date.
    let (_, acts) = send(
        &svc,
        get(&official_b, &format!("/api/v1/dossiers/{code}/actions")),
    )
    .await;
    let delay = acts["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "delay")
        .unwrap()
        .clone();
    assert_eq!(delay["allowed"], true, "{delay}");
    let latest = delay["fields"][1]["latest"].as_str().unwrap().to_string();
    assert!(delay["fields"][1]["after"].is_string(), "{delay}");
    let r = ok(
        e(
            &official_b,
            json!({"type": "delay", "reason": "Cần xác minh thêm", "new_due_at": latest}),
        )
        .await,
        "delay",
    );
    assert_eq!(r["dossier"]["reappointed_at"], json!(latest));
    c.check(&code, B, "re-appointed").await;
    ok(
        e(
            &official_b,
            json!({"type": "propose", "note": "Đủ điều kiện"}),
        )
        .await,
        "propose",
    );
    c.check(&code, B, "proposed").await;
    ok(
        e(
            &official_b,
            json!({"type": "request_supplement", "items": ["Giấy chứng sinh bản chính"], "reason": "Bản sao không rõ"}),
        )
        .await,
        "supplement",
    );
    c.check(&code, B, "waiting for a supplement").await;
    app.clock.set(local("2026-11-03T09:00"));
    c.tokens = tokens_now(&svc).await;
    let official_b = tok(&c.tokens, "official.b");
    let leader_b = tok(&c.tokens, "leader.b");
    let clerk_a = tok(&c.tokens, "clerk.a");
    ok(
        e(&official_b, json!({"type": "supplement_received"})).await,
        "supplement received",
    );
    ok(
        e(&official_b, json!({"type": "pause", "reason": "Chờ xác minh", "legal_basis": "Điều 19 NĐ 118/2025"})).await,
        "pause",
    );
    c.check(&code, B, "paused").await;
    ok(e(&official_b, json!({"type": "resume"})).await, "resume");
    c.check(&code, B, "in progress again").await;
    ok(
        e(
            &leader_b,
            json!({"type": "decide", "outcome": "approved", "result": {"number": "15/2026/TP-KS"}}),
        )
        .await,
        "decide",
    );
    c.check(&code, B, "approved").await;
    ok(
        e(
            &official_b,
            json!({"type": "handover", "to_agency": A, "electronic": true}),
        )
        .await,
        "hand back",
    );
    c.check(&code, B, "handed back").await;
    ok(e(&clerk_a, json!({"type": "accept"})).await, "accept back");
    c.check(&code, A, "back at the counter").await;
    ok(
        e(&clerk_a, json!({"type": "return", "channel": "counter"})).await,
        "return",
    );
    c.check(&code, A, "returned").await;
    ok(
        e(&clerk_a, json!({"type": "rate", "score": "very_satisfied"})).await,
        "rate",
    );
    c.check(&code, A, "rated").await;

    // Stopped at the applicant's request; refused; closed after the wait.
    let stopped = new_dossier(clerk_a.clone(), "Lê Văn Tám").await;
    ok(
        event(
            &svc,
            &clerk_a,
            &stopped,
            json!({"type": "stop", "reason": "Người nộp xin rút"}),
        )
        .await,
        "stop",
    );
    c.check(&stopped, A, "terminal: stopped").await;
    let refused = new_dossier(clerk_a.clone(), "Trần Thị Mai").await;
    ok(
        event(
            &svc,
            &tok(&c.tokens, "leader.a"),
            &refused,
            json!({"type": "decide", "outcome": "refused", "reason": "Không đủ điều kiện"}),
        )
        .await,
        "refuse",
    );
    c.check(&refused, A, "refused").await;
    let closed = new_dossier(clerk_a.clone(), "Phạm Văn Đồng").await;
    ok(
        event(
            &svc,
            &tok(&c.tokens, "official.a"),
            &closed,
            json!({"type": "request_supplement", "items": ["Tờ khai"], "reason": "Sai thông tin"}),
        )
        .await,
        "supplement",
    );
    app.clock.set(local("2026-11-25T09:00"));
    c.tokens = tokens_now(&svc).await;
    let clerk_a = tok(&c.tokens, "clerk.a");
    let portal = tok(&c.tokens, "portal.dvc");
    c.check(&closed, A, "waiting past the 15 days").await;
    ok(
        event(
            &svc,
            &clerk_a,
            &closed,
            json!({"type": "close", "reason": "Quá 15 ngày không bổ sung"}),
        )
        .await,
        "close",
    );
    c.check(&closed, A, "terminal: closed").await;

    // Online submissions.
    let online = |name: &str| {
        json!({
            "procedure_code": HOUSEHOLD, "channel": "online", "receiving_agency": A,
            "applicant": {"full_name": name, "id_number": "001095006790"},
            "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]
        })
    };
    let (s, r) = send(
        &svc,
        post(&portal, "/api/v1/dossiers", online("Quách Thị Vân")),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let waiting = r["code"].as_str().unwrap().to_string();
    let desk = A;
    c.check(&waiting, desk, "submitted online").await;
    let desk_clerk = tok(&c.tokens, "clerk.a");
    ok(
        event(
            &svc,
            &desk_clerk,
            &waiting,
            json!({"type": "request_correction", "items": ["Bản chụp CCCD"], "reason": "Ảnh mờ"}),
        )
        .await,
        "correction",
    );
    c.check(&waiting, desk, "terminal: waiting for the portal")
        .await;
    let (s, r) = send(
        &svc,
        post(&portal, "/api/v1/dossiers", online("Vũ Văn Nam")),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let refused_online = r["code"].as_str().unwrap().to_string();
    ok(
        event(
            &svc,
            &desk_clerk,
            &refused_online,
            json!({"type": "refuse", "reason": "Không thuộc thẩm quyền"}),
        )
        .await,
        "refuse at intake",
    );
    c.check(&refused_online, desk, "terminal: refused at intake")
        .await;

    // Every kind was offered to someone somewhere, and each check was made.
    let all: Vec<&str> = motcua::service::actions::KINDS.to_vec();
    let offered: Vec<&str> = c.offered.iter().map(String::as_str).collect();
    let mut missing: Vec<&str> = all
        .iter()
        .filter(|k| !offered.contains(k))
        .copied()
        .collect();
    missing.sort();
    assert!(missing.is_empty(), "never offered: {missing:?}");
    assert!(c.checked > 1500, "{} checks", c.checked);
}

#[actix_web::test]
async fn the_actions_offered_are_exactly_what_the_events_endpoint_accepts_on_sqlite() {
    every_state(common::TestDb::sqlite()).await;
}

#[actix_web::test]
#[ignore = "needs PostgreSQL"]
async fn the_actions_offered_are_exactly_what_the_events_endpoint_accepts_on_postgres() {
    every_state(common::TestDb::postgres()).await;
}
