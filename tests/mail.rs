//! Notifications against a real SMTP server (issue #17): Python's `aiosmtpd` with its
//! Mailbox handler, writing every message it accepts into a Maildir that the tests read.
//! These tests are `#[ignore]`: they need `python3 -m aiosmtpd` (`pip install aiosmtpd`),
//! which `.ci/run` installs; run them with `cargo test --test mail -- --include-ignored`.
//!
//! - a dossier's life sends exactly the expected messages, in order, once each, with the
//!   Vietnamese text and the status link and never the pin;
//! - the SMTP server stopped in the middle of 200 messages and started again: all 200
//!   delivered, none twice;
//! - one of two server processes killed while sending: the other finishes; duplicates are
//!   counted and each is explained by an attempt that never ended.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::http::{event, get, login, post, send, service, users};
use common::local;
use motcua::app::App;
use motcua::config::{MailTransport, SmtpSettings};
use motcua::mail::EmailChannel;
use motcua::service::Role;
use serde_json::{json, Value};

/// A real SMTP server delivering into a Maildir.
struct SmtpSink {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl SmtpSink {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.path().join("maildir").join(sub)).unwrap();
        }
        let mut sink = Self {
            dir,
            port: common::process::free_port(),
            child: None,
        };
        sink.restart();
        sink
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Starts the server (again) on the same port and waits until it answers.
    fn restart(&mut self) {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(self.maildir())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "aiosmtpd exited at start ({status}): is it installed? pip install aiosmtpd"
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the server.
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn smtp(&self) -> SmtpSettings {
        SmtpSettings {
            host: "127.0.0.1".into(),
            port: self.port,
            security: "none".into(),
            username: String::new(),
            password: None,
            timeout_s: 2,
            pool_size: 2,
        }
    }

    /// Every message delivered so far.
    fn messages(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir().join(sub)) else {
                continue;
            };
            for e in entries.flatten() {
                let bytes = std::fs::read(e.path()).unwrap();
                out.push(Mail::parse(&bytes));
            }
        }
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A delivered message, decoded.
#[derive(Debug, Clone)]
struct Mail {
    message_id: String,
    to: String,
    subject: String,
    text: String,
    html: String,
    auto_submitted: String,
}

impl Mail {
    fn parse(bytes: &[u8]) -> Mail {
        use mailparse::MailHeaderMap;
        let m = mailparse::parse_mail(bytes).expect("a MIME message");
        let h = |name: &str| m.headers.get_first_value(name).unwrap_or_default();
        let part = |mime: &str| {
            m.subparts
                .iter()
                .find(|p| p.ctype.mimetype == mime)
                .map(|p| p.get_body().unwrap())
                .unwrap_or_default()
        };
        Mail {
            message_id: h("Message-ID"),
            to: h("To"),
            subject: h("Subject"),
            text: part("text/plain").replace("\r\n", "\n"),
            html: part("text/html"),
            auto_submitted: h("Auto-Submitted"),
        }
    }
}

/// UBND phường Ba Đình (receives) and UBND phường Ngọc Hà (handles).
const A: &str = "000.00.51.H26";
const B: &str = "000.00.52.H26";
/// Đăng ký thành lập hộ kinh doanh: three working days.
const HOUSEHOLD: &str = "1.001612.000.00.00.H26";

/// Sends what is due now through the sink, until nothing is left that can be sent.
fn deliver(app: &App, channel: &EmailChannel) -> usize {
    let delivery = motcua::mail::delivery(app);
    let now = || app.clock.now();
    let mut sent = 0;
    loop {
        let r = app
            .deliver_due(&app.templates, channel, &delivery, "test-worker", &now)
            .unwrap();
        sent += r.sent;
        if r.claimed == 0 {
            return sent;
        }
    }
}

fn with_smtp(app: &mut Arc<App>, sink: &SmtpSink) {
    Arc::get_mut(app)
        .expect("not shared yet")
        .settings
        .mail
        .transport = MailTransport::Smtp(sink.smtp());
}

async fn a_dossier_life(db: common::TestDb) {
    let sink = SmtpSink::start();
    let mut app = common::app_at(&db, local("2026-03-10T08:00"));
    with_smtp(&mut app, &sink);
    let channel = EmailChannel::new(&app.settings.mail).unwrap().unwrap();
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("official.b", Role::Official, B),
            ("leader.b", Role::Leader, B),
        ],
    );
    let svc = service(&app).await;
    let (clerk, official, leader) = ("clerk.a", "official.b", "leader.b");

    let (s, r) = send(
        &svc,
        post(
            &login(&svc, clerk).await,
            "/api/v1/dossiers",
            json!({
                "procedure_code": HOUSEHOLD, "channel": "counter",
                "applicant": {"full_name": "Đỗ Minh Khoa", "id_number": "001095006789",
                              "email": "do.minh.khoa@example.vn"},
                "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]
            }),
        ),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap().to_string();
    let agency_a = app.agencies.get(A).unwrap().name.clone();

    // Each step, then what the applicant received because of it (delivered right away).
    let mut seen: Vec<Mail> = Vec::new();
    let mut step = |app: &App, what: &str, want: &[&str]| {
        deliver(app, &channel);
        let all = sink.messages();
        let new: Vec<Mail> = all
            .into_iter()
            .filter(|m| !seen.iter().any(|s| s.message_id == m.message_id))
            .collect();
        let subjects: Vec<&str> = new.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(new.len(), want.len(), "{what}: {subjects:?}");
        for w in want {
            assert!(
                new.iter().any(|m| m.subject.starts_with(w)),
                "{what}: no message \"{w}…\" in {subjects:?}"
            );
        }
        // Several from one step: in the order the templates are listed.
        let mut ordered = new.clone();
        ordered.sort_by_key(|m| want.iter().position(|w| m.subject.starts_with(w)));
        seen.extend(ordered);
    };
    step(
        &app,
        "intake",
        &[&format!("Hồ sơ {code} đã được tiếp nhận")],
    );

    // Tokens last 30 minutes and the clock moves by hours: each event logs in again.
    let e = |user: &str, body: Value| {
        let (svc, code, user) = (&svc, code.clone(), user.to_string());
        async move {
            let token = login(svc, &user).await;
            let (s, b) = event(svc, &token, &code, body).await;
            assert_eq!(s, 201, "{b}");
            b
        }
    };
    app.clock.set(local("2026-03-10T09:00"));
    e(
        clerk,
        json!({"type": "handover", "to_agency": B, "electronic": true}),
    )
    .await;
    e(official, json!({"type": "accept"})).await;
    step(&app, "hand-over and accept", &[]);

    app.clock.set(local("2026-03-10T10:00"));
    e(
        official,
        json!({"type": "request_supplement", "items": ["Bản sao căn cước của chủ hộ"], "reason": "Thiếu giấy tờ nhân thân"}),
    )
    .await;
    step(
        &app,
        "supplement asked",
        &[&format!("Hồ sơ {code}: đề nghị bổ sung")],
    );

    app.clock.set(local("2026-03-11T08:30"));
    e(clerk, json!({"type": "supplement_received"})).await;
    step(
        &app,
        "supplement received",
        &[&format!("Hồ sơ {code}: đã nhận giấy tờ bổ sung")],
    );

    app.clock.set(local("2026-03-11T09:00"));
    e(
        official,
        json!({"type": "pause", "reason": "Chờ cơ quan thuế xác nhận", "legal_basis": "Điều 19 Nghị định 118/2025/NĐ-CP"}),
    )
    .await;
    step(&app, "pause", &[&format!("Hồ sơ {code} tạm dừng")]);
    app.clock.set(local("2026-03-11T14:00"));
    e(official, json!({"type": "resume"})).await;
    step(
        &app,
        "resume",
        &[&format!("Hồ sơ {code} được giải quyết tiếp")],
    );

    // The apology, at its latest new date.
    let (_, acts) = send(
        &svc,
        get(
            &login(&svc, official).await,
            &format!("/api/v1/dossiers/{code}/actions"),
        ),
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
    e(
        official,
        json!({"type": "delay", "reason": "Cần xác minh địa điểm kinh doanh", "new_due_at": latest}),
    )
    .await;
    step(
        &app,
        "re-appointment",
        &["Thư xin lỗi và hẹn lại ngày trả kết quả"],
    );

    app.clock.set(local("2026-03-12T10:00"));
    e(official, json!({"type": "propose", "note": "Đủ điều kiện"})).await;
    e(
        leader,
        json!({"type": "decide", "outcome": "approved", "result": {"number": "125/2026/HKD"}}),
    )
    .await;
    step(&app, "decision", &[&format!("Hồ sơ {code} đã có kết quả")]);
    e(
        official,
        json!({"type": "handover", "to_agency": A, "electronic": true}),
    )
    .await;
    step(&app, "handed back", &[]);
    e(clerk, json!({"type": "accept"})).await;
    step(
        &app,
        "back at the desk",
        &[&format!("Kết quả hồ sơ {code} đã sẵn sàng")],
    );
    app.clock.set(local("2026-03-12T15:00"));
    e(clerk, json!({"type": "return", "channel": "counter"})).await;
    step(
        &app,
        "return",
        &[
            &format!("Hồ sơ {code} đã trả kết quả"),
            "Mời Ông/Bà đánh giá",
        ],
    );

    // Nothing more, ever: delivering again sends nothing.
    assert_eq!(deliver(&app, &channel), 0);
    let all = sink.messages();
    assert_eq!(all.len(), 10, "ten messages in all");
    let mut ids: Vec<&str> = all.iter().map(|m| m.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "none twice");

    let subjects: Vec<&str> = seen.iter().map(|m| m.subject.as_str()).collect();
    println!("{code}: {subjects:#?}");
    for m in &seen {
        assert_eq!(m.to, "do.minh.khoa@example.vn");
        assert_eq!(m.auto_submitted, "auto-generated");
        assert!(
            m.message_id.starts_with('<') && m.message_id.ends_with("@127.0.0.1>"),
            "{}",
            m.message_id
        );
        for body in [&m.text, &m.html] {
            assert!(body.contains(&code), "{}: {body}", m.subject);
            assert!(
                body.contains(&format!("/tra-cuu/{code}")),
                "{}: no status link",
                m.subject
            );
            assert!(body.contains(&agency_a), "{}: no agency", m.subject);
            assert!(
                !body.contains(&pin),
                "{}: the pin must never be sent",
                m.subject
            );
            assert!(
                !body.contains("001095006789"),
                "{}: no ID number",
                m.subject
            );
            assert!(
                !body.contains("{{"),
                "{}: a placeholder left: {body}",
                m.subject
            );
        }
        assert!(m.text.contains("Kính gửi Đỗ Minh Khoa"), "{}", m.text);
        assert!(m.html.contains("lang=\"vi\""));
    }
    let by = |prefix: &str| seen.iter().find(|m| m.subject.starts_with(prefix)).unwrap();
    let received = by(&format!("Hồ sơ {code} đã được tiếp nhận"));
    assert!(
        received.text.contains("Đăng ký thành lập hộ kinh doanh"),
        "{}",
        received.text
    );
    assert!(
        received
            .text
            .contains("Hẹn trả kết quả: 17:00 ngày 13/03/2026"),
        "{}",
        received.text
    );
    let asked = by(&format!("Hồ sơ {code}: đề nghị bổ sung"));
    assert!(
        asked.text.contains("Bản sao căn cước của chủ hộ"),
        "{}",
        asked.text
    );
    assert!(
        asked.html.contains("<li>Bản sao căn cước của chủ hộ</li>"),
        "{}",
        asked.html
    );
    assert!(asked.text.contains("Lý do: Thiếu giấy tờ nhân thân"));
    let paused = by(&format!("Hồ sơ {code} tạm dừng"));
    assert!(
        paused
            .text
            .contains("Căn cứ: Điều 19 Nghị định 118/2025/NĐ-CP"),
        "{}",
        paused.text
    );
    let sorry = by("Thư xin lỗi");
    let latest_local = chrono::DateTime::parse_from_rfc3339(&latest)
        .unwrap()
        .format("%H:%M ngày %d/%m/%Y")
        .to_string();
    assert!(
        sorry
            .text
            .contains(&format!("Ngày hẹn trả kết quả mới: {latest_local}")),
        "{}",
        sorry.text
    );
    assert!(sorry.text.contains("thành thật xin lỗi"), "{}", sorry.text);
    assert!(sorry
        .text
        .contains("Lý do: Cần xác minh địa điểm kinh doanh"));
    let decided = by(&format!("Hồ sơ {code} đã có kết quả"));
    assert!(
        decided.text.contains("Giải quyết (chấp thuận)"),
        "{}",
        decided.text
    );

    // Counted: notified against not reachable. A dossier without an address is kept as
    // "not reachable", never sent.
    let (s, r) = send(
        &svc,
        post(
            &login(&svc, clerk).await,
            "/api/v1/dossiers",
            json!({
                "procedure_code": HOUSEHOLD, "channel": "counter",
                "applicant": {"full_name": "Phan Văn Hùng", "id_number": "001095001111"},
                "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]
            }),
        ),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    assert_eq!(deliver(&app, &channel), 0);
    let counts = app
        .outbox_counts(local("2026-03-01T00:00"), local("2026-04-01T00:00"))
        .unwrap();
    assert_eq!(
        (
            counts.sent,
            counts.unreachable,
            counts.pending,
            counts.parked
        ),
        (10, 1, 0, 0)
    );
    let other = app.notifications_of(r["code"].as_str().unwrap()).unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(
        (other[0].template.as_str(), other[0].state.as_str()),
        ("dossier_received", "unreachable")
    );
}

#[actix_rt::test]
#[ignore = "needs aiosmtpd"]
async fn a_dossier_life_sends_exactly_the_expected_messages_on_sqlite() {
    a_dossier_life(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL and aiosmtpd"]
async fn a_dossier_life_sends_exactly_the_expected_messages_on_postgres() {
    a_dossier_life(common::TestDb::postgres()).await;
}

/// The numbers of the test messages delivered, with how many times each.
fn delivered_numbers(mails: &[Mail]) -> BTreeMap<u32, usize> {
    let mut n = BTreeMap::new();
    for m in mails {
        let k: u32 = m
            .subject
            .rsplit_once("(#")
            .and_then(|(_, rest)| rest.split_once(')'))
            .and_then(|(num, _)| num.parse().ok())
            .unwrap_or_else(|| panic!("not a test message: {}", m.subject));
        *n.entry(k).or_insert(0) += 1;
    }
    n
}

fn smtp_outage(db: common::TestDb) {
    let mut sink = SmtpSink::start();
    let mut app = common::app_at(&db, chrono::Utc::now());
    {
        let a = Arc::get_mut(&mut app).unwrap();
        a.clock = motcua::clock::Clock::System;
        a.settings.mail.transport = MailTransport::Smtp(sink.smtp());
        a.settings.mail.retry_base_s = 1;
        a.settings.mail.retry_max_s = 2;
        a.settings.mail.batch_size = 10;
    }
    assert_eq!(
        app.queue_test_messages("nguoi.nhan@example.vn", 200, app.clock.now())
            .unwrap(),
        200
    );
    let worker = {
        let app = app.clone();
        std::thread::spawn(move || {
            let channel = EmailChannel::new(&app.settings.mail).unwrap().unwrap();
            let delivery = motcua::mail::delivery(&app);
            let now = || app.clock.now();
            let started = Instant::now();
            let (mut sent, mut retried) = (0, 0);
            while sent < 200 && started.elapsed() < Duration::from_secs(120) {
                let r = app
                    .deliver_due(&app.templates, &channel, &delivery, "test-worker", &now)
                    .unwrap();
                sent += r.sent;
                retried += r.retried;
                assert_eq!(r.parked, 0, "nothing parked");
                if r.claimed == 0 {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            (sent, retried)
        })
    };
    let started = Instant::now();
    while sink.messages().len() < 60 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first 60 never arrived"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    sink.stop();
    let at_stop = sink.messages().len();
    std::thread::sleep(Duration::from_secs(3));
    sink.restart();
    let (sent, retried) = worker.join().unwrap();
    let mails = sink.messages();
    let numbers = delivered_numbers(&mails);
    let twice: Vec<_> = numbers.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "stopped after {at_stop} of 200; {retried} failed attempts retried; {} delivered, {} distinct, twice: {twice:?}",
        mails.len(),
        numbers.len()
    );
    assert!(
        at_stop < 200,
        "the server was stopped in the middle of the batch"
    );
    assert!(
        retried > 0,
        "some attempts failed while the server was down"
    );
    assert_eq!(sent, 200);
    assert_eq!(numbers.len(), 200, "all 200 delivered");
    assert!(twice.is_empty(), "none twice: {twice:?}");
    assert_eq!(mails.len(), 200);
    let counts = app
        .outbox_counts(
            app.clock.now() - chrono::Duration::days(1),
            app.clock.now() + chrono::Duration::days(1),
        )
        .unwrap();
    assert_eq!((counts.sent, counts.pending, counts.parked), (200, 0, 0));
}

#[test]
#[ignore = "needs aiosmtpd"]
fn the_smtp_server_stopped_mid_batch_loses_nothing_on_sqlite() {
    smtp_outage(common::TestDb::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL and aiosmtpd"]
fn the_smtp_server_stopped_mid_batch_loses_nothing_on_postgres() {
    smtp_outage(common::TestDb::postgres());
}

/// A copy of the shipped config/ whose `[mail]` sends to `sink` with short waits.
fn config_for_sink(sink: &SmtpSink, into: &Path) -> PathBuf {
    let dir = into.join("config");
    copy_dir(
        &Path::new(common::process::crate_root()).join("config"),
        &dir,
    );
    let path = dir.join("default.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("\n[mail]").expect("a [mail] section");
    let rest = &text[start + 1..];
    let end = rest
        .find("\n[")
        .map(|i| start + 1 + i)
        .unwrap_or(text.len());
    let mail = format!(
        "\n[mail]\ntransport = \"smtp\"\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_security = \"none\"\nsmtp_timeout_s = 2\npoll_interval_ms = 50\nbatch_size = 10\nretry_base_s = 1\nretry_max_s = 2\nlease_s = 6\n",
        sink.port
    );
    std::fs::write(&path, format!("{}{mail}{}", &text[..start], &text[end..])).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn process_killed_while_sending(db: common::TestDb) {
    let sink = SmtpSink::start();
    let config_dir = config_for_sink(&sink, db.dir.path());
    let secret = "mot-bi-mat-rat-dai-cho-hai-tien-trinh-thu-gui-0123456789";
    let command = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_motcua"));
        c.current_dir(common::process::crate_root())
            .arg("--config-dir")
            .arg(&config_dir)
            .env_remove("MOTCUA_CONFIG_DIR")
            .env("MOTCUA_DATABASE_URL", &db.url)
            .env("MOTCUA_DATA_DIR", db.dir.path())
            .env("MOTCUA_SECRET", secret)
            .env("RUST_LOG", "warn");
        c
    };
    // Both processes up before anything is queued.
    let mut a = common::process::Server::start_with("a", command());
    a.wait_healthy();
    let mut b = common::process::Server::start_with("b", command());
    b.wait_healthy();
    let out = command()
        .args([
            "mail",
            "test",
            "--to",
            "nguoi.nhan@example.vn",
            "--count",
            "200",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Kill one process while the two are sending.
    let started = Instant::now();
    while sink.messages().len() < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "nothing was sent"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    a.kill9();
    let at_kill = sink.messages().len();
    // The other finishes, the killed one's claimed rows after their lease (6 s).
    let reader = motcua::store::Store::open(&db.url, &Default::default()).unwrap();
    let started = Instant::now();
    let (pending, unended) = loop {
        let mut c = reader.conn().unwrap();
        let pending = motcua::store::outbox::in_state(&mut c, "pending", 1000)
            .unwrap()
            .len();
        let unended = motcua::store::outbox::unended_attempts(&mut c).unwrap();
        if pending == 0 || started.elapsed() > Duration::from_secs(90) {
            break (pending, unended);
        }
        drop(c);
        std::thread::sleep(Duration::from_millis(200));
    };
    std::thread::sleep(Duration::from_millis(500));
    let mails = sink.messages();
    let numbers = delivered_numbers(&mails);
    let duplicates: usize = numbers.values().map(|n| n - 1).sum();
    println!(
        "killed after {at_kill} of 200 delivered; in the end {} messages, {} distinct, {duplicates} duplicate(s); attempts never ended (the killed process was sending): {}",
        mails.len(),
        numbers.len(),
        unended.len()
    );
    assert_eq!(pending, 0, "the other process finished the batch");
    assert!(at_kill < 200, "killed in the middle");
    assert_eq!(numbers.len(), 200, "no message lost");
    // A duplicate is a message the killed process handed to the server without living to
    // record it: each one has an attempt that never ended.
    assert!(
        duplicates <= unended.len(),
        "{duplicates} duplicates, {} unended attempts",
        unended.len()
    );
    // Same Message-ID for both copies: recognisable.
    let mut by_number: HashMap<u32, Vec<&str>> = HashMap::new();
    for m in &mails {
        let k = *delivered_numbers(std::slice::from_ref(m))
            .keys()
            .next()
            .unwrap();
        by_number.entry(k).or_default().push(&m.message_id);
    }
    for ids in by_number.values() {
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "one Message-ID per message: {ids:?}"
        );
    }
    b.terminate();
    b.wait_exit(Duration::from_secs(15));
}

#[test]
#[ignore = "needs aiosmtpd"]
fn a_process_killed_while_sending_loses_nothing_on_sqlite() {
    process_killed_while_sending(common::TestDb::sqlite());
}

#[test]
#[ignore = "needs PostgreSQL and aiosmtpd"]
fn a_process_killed_while_sending_loses_nothing_on_postgres() {
    process_killed_while_sending(common::TestDb::postgres());
}

/// A browser signed in as `user` through the login page.
async fn signed_in<S>(svc: &S, user: &str) -> common::http::Browser
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let mut b = common::http::Browser::default();
    let (_, html) = b
        .page(svc, actix_web::test::TestRequest::get().uri("/dang-nhap"))
        .await;
    let csrf = common::http::hidden(&html, "csrf");
    let (s, _) = b
        .page(
            svc,
            actix_web::test::TestRequest::post()
                .uri("/dang-nhap")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(common::http::form(&[
                    ("csrf", &csrf),
                    ("username", user),
                    ("password", common::http::PASSWORD),
                ])),
        )
        .await;
    assert_eq!(s, 303, "login {user}");
    b
}

/// A channel that answers as told, and records what it was given (no SMTP needed).
struct Scripted {
    answers: std::sync::Mutex<Vec<Result<(), motcua::service::notify::SendError>>>,
    seen: std::sync::Mutex<Vec<String>>,
}

impl motcua::service::notify::Channel for Scripted {
    fn name(&self) -> &'static str {
        "email"
    }
    fn send(
        &self,
        e: &motcua::service::notify::Envelope<'_>,
    ) -> Result<(), motcua::service::notify::SendError> {
        self.seen.lock().unwrap().push(e.message_id.clone());
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            Ok(())
        } else {
            a.remove(0)
        }
    }
}

/// Failures wait longer each time, a message is parked after `max_attempts` (or at once
/// when refused for good), the admin page lists it, and "Gửi lại" sends it again; every
/// attempt is recorded with the same Message-ID.
#[actix_rt::test]
async fn failed_messages_wait_then_park_and_an_admin_sends_them_again() {
    use motcua::service::notify::SendError;
    let db = common::TestDb::sqlite();
    let mut app = common::app_at(&db, local("2026-03-10T08:00"));
    {
        let a = Arc::get_mut(&mut app).unwrap();
        a.settings.mail.max_attempts = 3;
        a.settings.mail.retry_base_s = 60;
        a.settings.mail.retry_max_s = 90;
    }
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("admin", Role::Admin, "000.00.00.H26"),
        ],
    );
    let svc = service(&app).await;
    let new = |name: &'static str, email: &'static str| {
        let svc = &svc;
        async move {
            let (s, r) = send(
                svc,
                post(
                    &login(svc, "clerk.a").await,
                    "/api/v1/dossiers",
                    json!({
                        "procedure_code": HOUSEHOLD, "channel": "counter",
                        "applicant": {"full_name": name, "id_number": "001095006789", "email": email},
                        "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]
                    }),
                ),
            )
            .await;
            assert_eq!(s, 201, "{r}");
            r["code"].as_str().unwrap().to_string()
        }
    };
    let flaky = new("Vũ Thị Lan", "vu.lan@example.vn").await;
    let refused = new("Ngô Văn Bình", "khong.ton.tai@example.vn").await;
    let channel = Scripted {
        answers: std::sync::Mutex::new(vec![
            Err(SendError::Transient("421 thử lại sau".into())),
            Err(SendError::Permanent("550 hộp thư không tồn tại".into())),
        ]),
        seen: Default::default(),
    };
    let delivery = motcua::mail::delivery(&app);
    let now = || app.clock.now();
    let run = || {
        app.deliver_due(&app.templates, &channel, &delivery, "w1", &now)
            .unwrap()
    };
    let state = |code: &str| {
        let n = app.notifications_of(code).unwrap();
        (n[0].state.clone(), n[0].attempts)
    };

    let r = run();
    assert_eq!((r.claimed, r.sent, r.retried, r.parked), (2, 0, 1, 1));
    assert_eq!(state(&flaky), ("pending".into(), 1));
    assert_eq!(
        state(&refused),
        ("parked".into(), 1),
        "refused for good: parked at once"
    );
    // Not before its wait: 60 s after the first failure, then 90 s (the ceiling).
    assert_eq!(run().claimed, 0);
    app.clock
        .set(local("2026-03-10T08:00") + chrono::Duration::seconds(59));
    assert_eq!(run().claimed, 0);
    channel
        .answers
        .lock()
        .unwrap()
        .push(Err(SendError::Transient("timeout".into())));
    app.clock.set(local("2026-03-10T08:01"));
    assert_eq!(run().retried, 1);
    channel
        .answers
        .lock()
        .unwrap()
        .push(Err(SendError::Transient("timeout".into())));
    app.clock.set(local("2026-03-10T08:02"));
    assert_eq!(run().claimed, 0, "90 s, not yet");
    app.clock
        .set(local("2026-03-10T08:02") + chrono::Duration::seconds(30));
    let r = run();
    assert_eq!(r.parked, 1, "the third failure parks it");
    assert_eq!(state(&flaky), ("parked".into(), 3));

    // The admin sees both and sends one again.
    let mut b = signed_in(&svc, "admin").await;
    let (s, html) = b
        .page(
            &svc,
            actix_web::test::TestRequest::get().uri("/quan-tri/thu-gui"),
        )
        .await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("<h1>Thư thông báo</h1>"));
    assert!(
        html.contains(&flaky) && html.contains(&refused),
        "both parked shown"
    );
    assert!(
        html.contains("550 hộp thư không tồn tại"),
        "the last error shown"
    );
    assert!(html.contains("id=\"so-loi\">2<"), "two parked this month");
    let id = app.notifications_of(&flaky).unwrap()[0].id;
    let csrf = common::http::hidden(&html, "csrf");
    let (s, _) = b
        .page(
            &svc,
            actix_web::test::TestRequest::post()
                .uri(&format!("/quan-tri/thu-gui/{id}/gui-lai"))
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(common::http::form(&[("csrf", &csrf)])),
        )
        .await;
    assert_eq!(s, 303);
    assert_eq!(state(&flaky), ("pending".into(), 0));
    let r = run();
    assert_eq!((r.claimed, r.sent), (1, 1));
    assert_eq!(state(&flaky).0, "sent");
    // Four attempts, one Message-ID.
    let seen = channel.seen.lock().unwrap().clone();
    let flaky_ids: Vec<&String> = seen
        .iter()
        .filter(|m| seen.iter().filter(|n| n == m).count() > 1)
        .collect();
    assert_eq!(flaky_ids.len(), 4, "{seen:?}");
    // The dossier's history tells the clerk what the applicant was told.
    let mut clerk = signed_in(&svc, "clerk.a").await;
    let history = |code: &str| format!("/ho-so/{code}?tab=qua-trinh");
    let (s, html) = clerk
        .page(
            &svc,
            actix_web::test::TestRequest::get().uri(&history(&flaky)),
        )
        .await;
    assert_eq!(s, 200);
    assert!(html.contains("Thông báo cho người nộp"), "{html}");
    assert!(
        html.contains("Đã tiếp nhận hồ sơ") && html.contains("Đã gửi 08:02"),
        "{html}"
    );
    let (_, html) = clerk
        .page(
            &svc,
            actix_web::test::TestRequest::get().uri(&history(&refused)),
        )
        .await;
    assert!(html.contains("Gửi không được"), "{html}");

    // The report: notified against not reachable, for the desk's dossiers of the month.
    let (s, r) = send(
        &svc,
        get(
            &login(&svc, "admin").await,
            &format!("/api/v1/reports/notifications?agency={A}&from=2026-03-01&to=2026-03-31"),
        ),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["notified"].as_i64(), r["not_reachable"].as_i64()),
        (Some(1), Some(0)),
        "{r}"
    );
    assert_eq!(r["counts"]["parked"], 1, "{r}");
    assert_eq!(r["reachable_rate"], 100.0, "{r}");
    let (s, r) = send(
        &svc,
        get(
            &login(&svc, "clerk.a").await,
            &format!("/api/v1/reports/notifications?agency={B}&from=2026-03-01&to=2026-03-31"),
        ),
    )
    .await;
    assert_eq!(s, 403, "another ward's: {r}");
    let audit = app.recent_audit(5).unwrap();
    assert!(audit
        .iter()
        .any(|a| a.action == "notification.resend" && a.actor == "admin"));
}

/// A petition's receipt and answer, and a staff member's morning digest, reach the SMTP
/// server too: the petition's code and status link, the answer's text, the digest's
/// lists, never a pin.
#[actix_rt::test]
#[ignore = "needs aiosmtpd"]
async fn petitions_and_digests_are_sent_by_mail() {
    let db = common::TestDb::sqlite();
    let sink = SmtpSink::start();
    let mut app = common::app_at(&db, local("2026-03-10T09:00"));
    with_smtp(&mut app, &sink);
    let channel = EmailChannel::new(&app.settings.mail).unwrap().unwrap();
    users(
        &app,
        &[
            ("clerk.a", Role::Clerk, A),
            ("leader.a", Role::Leader, A),
            ("official.a", Role::Official, A),
        ],
    );
    let svc = service(&app).await;
    let (s, r) = send(
        &svc,
        actix_web::test::TestRequest::post()
            .uri("/api/v1/public/petitions")
            .peer_addr("198.51.100.7:40000".parse().unwrap())
            .set_json(json!({"kind": "report", "full_name": "Trần Thị Bình", "email": "binh@example.vn",
                             "agency": A, "content": "Cán bộ hẹn trả kết quả nhưng không trả đúng hẹn."})),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap_or_default().to_string();
    deliver(&app, &channel);
    let leader = login(&svc, "leader.a").await;
    let ev = format!("/api/v1/petitions/{code}/events");
    let (s, b) = send(
        &svc,
        post(
            &leader,
            &ev,
            json!({"type": "assign", "user": "official.a"}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    app.clock.set(local("2026-03-12T10:00"));
    let official = login(&svc, "official.a").await;
    let (s, b) = send(
        &svc,
        post(
            &official,
            &ev,
            json!({"type": "answer", "text": "Cơ quan đã kiểm tra và nhắc nhở cán bộ."}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    deliver(&app, &channel);
    let mails = sink.messages();
    let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(mails.len(), 2, "{subjects:?}");
    let answer = mails
        .iter()
        .find(|m| m.subject.starts_with("Trả lời"))
        .unwrap_or_else(|| panic!("no answer in {subjects:?}"));
    assert_eq!(answer.to, "binh@example.vn");
    assert!(answer.text.contains(&code), "{}", answer.text);
    assert!(
        answer
            .text
            .contains("Cơ quan đã kiểm tra và nhắc nhở cán bộ."),
        "{}",
        answer.text
    );
    for m in &mails {
        assert!(
            pin.is_empty() || !m.text.contains(&pin),
            "no pin: {}",
            m.text
        );
        assert!(m.html.contains("lang=\"vi\""));
    }

    // The morning digest: an official with an e-mail and a dossier due soon.
    let official_email = "official.a@example.gov.vn";
    app.set_user_email(
        "official.a",
        Some(official_email),
        &motcua::service::accounts::cli_actor(),
        app.clock.now(),
    )
    .unwrap();
    let (s, r) = send(
        &svc,
        post(
            &login(&svc, "clerk.a").await,
            "/api/v1/dossiers",
            json!({
                "procedure_code": HOUSEHOLD, "channel": "counter",
                "applicant": {"full_name": "Lý Thị Mai", "id_number": "001095002222"},
                "papers": [{"name": "Giấy đề nghị đăng ký hộ kinh doanh theo mẫu", "kind": "original"}]
            }),
        ),
    )
    .await;
    assert_eq!(s, 201, "{r}");
    let dossier = r["code"].as_str().unwrap().to_string();
    let (s, b) = event(
        &svc,
        &login(&svc, "leader.a").await,
        &dossier,
        json!({"type": "assign", "user": "official.a"}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    // Received Thursday 12/3 10:00, three working days: due Tuesday 17/3. That morning
    // at 07:30 it is due within the working day.
    app.clock.set(local("2026-03-17T07:30"));
    assert!(app.prepare_digests(app.clock.now()).unwrap() >= 1);
    deliver(&app, &channel);
    let digest: Vec<Mail> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == official_email)
        .collect();
    assert_eq!(digest.len(), 1, "one digest");
    assert!(digest[0].text.contains(&dossier), "{}", digest[0].text);
    assert!(!digest[0].text.contains("001095002222"), "no ID number");
    // Once a day, even if prepared again (another process, a restart).
    assert_eq!(app.prepare_digests(app.clock.now()).unwrap(), 0);
    assert_eq!(deliver(&app, &channel), 0);
}
