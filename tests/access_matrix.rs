//! Access control as a table: every row of `tests/access_matrix.csv` names an endpoint, a
//! role, where the caller's agency stands to the dossier (own, other, parent, pending,
//! consulted) and the answer the policy expects. The fixtures are built once per backend,
//! each row is sent in-process, and every cell that differs is collected: the test fails
//! once, with the list. Besides the status it checks that a 2xx staff read is never cached
//! (`Cache-Control: no-store`) and that no answer outside the caller's scope (nor any raw
//! export) carries the applicant's ID number, phone or address. On both backends.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test::{self, TestRequest};
use common::http::{login, portal_token, service, users};
use common::local;
use motcua::service::Role;
use serde_json::{json, Value};

/// The ward that receives and holds the dossiers (`own`).
const OWN: &str = "000.00.51.H26";
/// An unrelated ward (`other`).
const OTHER: &str = "000.00.53.H26";
/// The city above both wards (`parent`).
const PARENT: &str = "000.00.00.H26";
/// The ward a hand-over is only pending to (`pending`).
const PENDING: &str = "000.00.52.H26";
/// The ward that accepted a hand-over and handed the dossier back (`consulted`).
const CONSULTED: &str = "000.00.54.H26";
/// Where the `event_handover` rows hand their dossier.
const ELSEWHERE: &str = "000.00.55.H26";

/// Đăng ký khai sinh: same day, online in full (MAIN, ONLINE and online submissions).
const BIRTH: &str = "1.001193.000.00.00.H26";
/// Đăng ký kết hôn cần xác minh: 5 working days (APPROVED and the fresh counter dossiers).
const MARRIAGE: &str = "1.090894.000.00.00.H26";

/// The applicant of every fixture: none of this may leave the caller's scope.
const ID_NUMBER: &str = "079190012345";
const PHONE: &str = "0987654321";
const ADDRESS: &str = "17 Ngo Kiem Thu, Hang Bac";

/// The day the matrix runs (local), and the reports' period.
const DAY: &str = "2026-11-18";

// ---------------------------------------------------------------------------------------
// The table

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Agency {
    Own,
    Other,
    Parent,
    Pending,
    Consulted,
}

impl Agency {
    const ALL: [Agency; 5] = [
        Agency::Own,
        Agency::Other,
        Agency::Parent,
        Agency::Pending,
        Agency::Consulted,
    ];

    fn name(self) -> &'static str {
        match self {
            Agency::Own => "own",
            Agency::Other => "other",
            Agency::Parent => "parent",
            Agency::Pending => "pending",
            Agency::Consulted => "consulted",
        }
    }

    fn code(self) -> &'static str {
        match self {
            Agency::Own => OWN,
            Agency::Other => OTHER,
            Agency::Parent => PARENT,
            Agency::Pending => PENDING,
            Agency::Consulted => CONSULTED,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Agency::ALL.into_iter().find(|a| a.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    Clerk,
    Official,
    Leader,
    Admin,
    Inspector,
    Portal,
    Anonymous,
}

impl Who {
    const STAFF: [Who; 5] = [
        Who::Clerk,
        Who::Official,
        Who::Leader,
        Who::Admin,
        Who::Inspector,
    ];

    fn name(self) -> &'static str {
        match self {
            Who::Clerk => "clerk",
            Who::Official => "official",
            Who::Leader => "leader",
            Who::Admin => "admin",
            Who::Inspector => "inspector",
            Who::Portal => "portal",
            Who::Anonymous => "anonymous",
        }
    }

    fn role(self) -> Option<Role> {
        match self {
            Who::Clerk => Some(Role::Clerk),
            Who::Official => Some(Role::Official),
            Who::Leader => Some(Role::Leader),
            Who::Admin => Some(Role::Admin),
            Who::Inspector => Some(Role::Inspector),
            Who::Portal => Some(Role::Portal),
            Who::Anonymous => None,
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Who::STAFF
            .into_iter()
            .chain([Who::Portal, Who::Anonymous])
            .find(|w| w.name() == s)
    }
}

/// The state a fresh dossier is brought to before its row's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// An online submission to own, not received yet.
    Submitted,
    /// An online submission own's desk sent back for correction.
    NeedsCorrection,
    Received,
    SupplementRequested,
    /// Supplement requested 16 days before the matrix runs: the desk may close it.
    CloseReady,
    Paused,
    Approved,
    Returned,
}

impl Stage {
    fn online(self) -> bool {
        matches!(self, Stage::Submitted | Stage::NeedsCorrection)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ev {
    Receive,
    RequestCorrection,
    Refuse,
    Handover,
    Accept,
    Assign,
    RequestSupplement,
    SupplementReceived,
    Pause,
    Resume,
    Delay,
    Stop,
    Decide,
    Return,
    Rate,
    Close,
}

impl Ev {
    fn stage(self) -> Stage {
        match self {
            Ev::Receive | Ev::RequestCorrection | Ev::Refuse => Stage::Submitted,
            Ev::SupplementReceived => Stage::SupplementRequested,
            Ev::Resume => Stage::Paused,
            Ev::Return => Stage::Approved,
            Ev::Rate => Stage::Returned,
            Ev::Close => Stage::CloseReady,
            Ev::Handover
            | Ev::Accept
            | Ev::Assign
            | Ev::RequestSupplement
            | Ev::Pause
            | Ev::Delay
            | Ev::Stop
            | Ev::Decide => Stage::Received,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Read,
    List,
    ReceiptPdf,
    FormControl,
    DownloadFile,
    Payment,
    PaymentOnlineRef,
    PaymentOnlineNoref,
    UploadScan,
    UploadResult,
    ReadOnline,
    ListOnline,
    ReceiptPdfOnline,
    DownloadFileOnline,
    PortalPayment,
    Resubmit,
    PortalChanges,
    Event(Ev),
    Queue,
    Indicators,
    IndicatorsXlsx,
    IndicatorsCsv,
    IndicatorsPdf,
    TrackingBook,
    RawDossiersCsv,
    RawHandoversCsv,
    RawDeadlineActsCsv,
    ApplicantDocuments,
    Intake,
    Guidance,
    RefusalForm,
}

/// Every endpoint name the table may use.
const ENDPOINTS: &[(&str, Endpoint)] = &[
    ("read", Endpoint::Read),
    ("list", Endpoint::List),
    ("receipt_pdf", Endpoint::ReceiptPdf),
    ("form_control", Endpoint::FormControl),
    ("download_file", Endpoint::DownloadFile),
    ("payment", Endpoint::Payment),
    ("payment_online_ref", Endpoint::PaymentOnlineRef),
    ("payment_online_noref", Endpoint::PaymentOnlineNoref),
    ("upload_scan", Endpoint::UploadScan),
    ("upload_result", Endpoint::UploadResult),
    ("read_online", Endpoint::ReadOnline),
    ("list_online", Endpoint::ListOnline),
    ("receipt_pdf_online", Endpoint::ReceiptPdfOnline),
    ("download_file_online", Endpoint::DownloadFileOnline),
    ("portal_payment", Endpoint::PortalPayment),
    ("resubmit", Endpoint::Resubmit),
    ("portal_changes", Endpoint::PortalChanges),
    ("event_receive", Endpoint::Event(Ev::Receive)),
    (
        "event_request_correction",
        Endpoint::Event(Ev::RequestCorrection),
    ),
    ("event_refuse", Endpoint::Event(Ev::Refuse)),
    ("event_handover", Endpoint::Event(Ev::Handover)),
    ("event_accept", Endpoint::Event(Ev::Accept)),
    ("event_assign", Endpoint::Event(Ev::Assign)),
    (
        "event_request_supplement",
        Endpoint::Event(Ev::RequestSupplement),
    ),
    (
        "event_supplement_received",
        Endpoint::Event(Ev::SupplementReceived),
    ),
    ("event_pause", Endpoint::Event(Ev::Pause)),
    ("event_resume", Endpoint::Event(Ev::Resume)),
    ("event_delay", Endpoint::Event(Ev::Delay)),
    ("event_stop", Endpoint::Event(Ev::Stop)),
    ("event_decide", Endpoint::Event(Ev::Decide)),
    ("event_return", Endpoint::Event(Ev::Return)),
    ("event_rate", Endpoint::Event(Ev::Rate)),
    ("event_close", Endpoint::Event(Ev::Close)),
    ("queue", Endpoint::Queue),
    ("indicators", Endpoint::Indicators),
    ("indicators_xlsx", Endpoint::IndicatorsXlsx),
    ("indicators_csv", Endpoint::IndicatorsCsv),
    ("indicators_pdf", Endpoint::IndicatorsPdf),
    ("tracking_book", Endpoint::TrackingBook),
    ("raw_dossiers_csv", Endpoint::RawDossiersCsv),
    ("raw_handovers_csv", Endpoint::RawHandoversCsv),
    ("raw_deadline_acts_csv", Endpoint::RawDeadlineActsCsv),
    ("applicant_documents", Endpoint::ApplicantDocuments),
    ("intake", Endpoint::Intake),
    ("guidance", Endpoint::Guidance),
    ("refusal_form", Endpoint::RefusalForm),
];

/// The dossier a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Main,
    Approved,
    Online,
    /// A dossier of its own, brought to this stage.
    Fresh(Stage),
    /// None (reports of an agency, intake).
    Nothing,
}

impl Endpoint {
    fn parse(s: &str) -> Option<Self> {
        ENDPOINTS.iter().find(|(n, _)| *n == s).map(|(_, e)| *e)
    }

    fn target(self) -> Target {
        use Endpoint::*;
        match self {
            Read | List | ReceiptPdf | FormControl | DownloadFile | Payment | PaymentOnlineRef
            | PaymentOnlineNoref | UploadScan | Queue | RawDossiersCsv | RawHandoversCsv
            | ApplicantDocuments => Target::Main,
            UploadResult => Target::Approved,
            ReadOnline | ListOnline | ReceiptPdfOnline | DownloadFileOnline | PortalPayment
            | PortalChanges | RawDeadlineActsCsv => Target::Online,
            Resubmit => Target::Fresh(Stage::NeedsCorrection),
            Event(e) => Target::Fresh(e.stage()),
            Indicators | IndicatorsXlsx | IndicatorsCsv | IndicatorsPdf | TrackingBook | Intake
            | Guidance | RefusalForm => Target::Nothing,
        }
    }

    /// Answers with a list in which the target dossier is seen or not.
    fn lists(self) -> bool {
        use Endpoint::*;
        matches!(
            self,
            List | ListOnline
                | Queue
                | PortalChanges
                | RawDossiersCsv
                | RawHandoversCsv
                | RawDeadlineActsCsv
                | ApplicantDocuments
        )
    }

    /// The raw exports promise no personal data to anyone.
    fn raw(self) -> bool {
        matches!(
            self,
            Endpoint::RawDossiersCsv | Endpoint::RawHandoversCsv | Endpoint::RawDeadlineActsCsv
        )
    }

    /// The staff read: never cached.
    fn staff_read(self) -> bool {
        matches!(self, Endpoint::Read | Endpoint::ReadOnline)
    }

    /// Whether the table may name `agency` for this endpoint and caller.
    fn admits(self, who: Who, agency: Agency) -> Result<(), &'static str> {
        match (who, agency) {
            (Who::Anonymous, Agency::Own) => {}
            (Who::Anonymous, _) => return Err("anonymous rows name the agency own only"),
            (Who::Portal, Agency::Own | Agency::Other) => {}
            (Who::Portal, _) => return Err("portal rows name own or other only"),
            _ => {}
        }
        let related = matches!(agency, Agency::Pending | Agency::Consulted);
        match self.target() {
            Target::Online | Target::Fresh(Stage::Submitted | Stage::NeedsCorrection)
                if related =>
            {
                Err("the online dossiers have no pending or consulted agency")
            }
            Target::Fresh(Stage::Returned) if agency == Agency::Pending => {
                Err("no hand-over can wait on a returned dossier")
            }
            Target::Nothing
                if matches!(
                    self,
                    Endpoint::Intake | Endpoint::Guidance | Endpoint::RefusalForm
                ) && agency != Agency::Own =>
            {
                Err("intake rows name the agency own only")
            }
            _ => Ok(()),
        }
    }
}

/// An expected answer: the status, and for a list whether the target dossier is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    status: u16,
    sees: Option<bool>,
}

impl Expect {
    fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split_whitespace();
        let status: u16 = parts.next()?.parse().ok()?;
        if !(100..600).contains(&status) {
            return None;
        }
        let sees = match parts.next() {
            None => None,
            Some("sees") => Some(true),
            Some("hidden") => Some(false),
            Some(_) => return None,
        };
        parts.next().is_none().then_some(Expect { status, sees })
    }

    fn text(self) -> String {
        match self.sees {
            None => self.status.to_string(),
            Some(true) => format!("{} sees", self.status),
            Some(false) => format!("{} hidden", self.status),
        }
    }
}

#[derive(Debug, Clone)]
struct Row {
    line: usize,
    endpoint_name: String,
    endpoint: Endpoint,
    who: Who,
    agency: Agency,
    expect: Expect,
}

/// The fields of one CSV line: comma-separated, `"…"` quoting with `""` for a quote.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field).trim().to_string());
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    fields.push(field.trim().to_string());
    Ok(fields)
}

/// Reads and checks the table; panics with every problem found.
fn load_matrix() -> Vec<Row> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/access_matrix.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut header = false;
    let mut seen = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields = match csv_fields(trimmed) {
            Ok(f) => f,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        if !header {
            let names: Vec<&str> = fields.iter().map(String::as_str).collect();
            if names != ["endpoint", "role", "agency", "expect"]
                && names != ["endpoint", "role", "agency", "expect", "note"]
            {
                problems.push(format!(
                    "line {line}: the header must be endpoint,role,agency,expect[,note], not {trimmed}"
                ));
            }
            header = true;
            continue;
        }
        if !(4..=5).contains(&fields.len()) {
            problems.push(format!(
                "line {line}: {} fields, expected 4 or 5: {trimmed}",
                fields.len()
            ));
            continue;
        }
        let endpoint = Endpoint::parse(&fields[0]);
        let who = Who::parse(&fields[1]);
        let agency = Agency::parse(&fields[2]);
        let expect = Expect::parse(&fields[3]);
        if endpoint.is_none() {
            problems.push(format!("line {line}: unknown endpoint {:?}", fields[0]));
        }
        if who.is_none() {
            problems.push(format!("line {line}: unknown role {:?}", fields[1]));
        }
        if agency.is_none() {
            problems.push(format!("line {line}: unknown agency {:?}", fields[2]));
        }
        if expect.is_none() {
            problems.push(format!(
                "line {line}: expect must be a status, optionally followed by sees or hidden: {:?}",
                fields[3]
            ));
        }
        let (Some(endpoint), Some(who), Some(agency), Some(expect)) =
            (endpoint, who, agency, expect)
        else {
            continue;
        };
        if let Err(why) = endpoint.admits(who, agency) {
            problems.push(format!("line {line}: {}: {why}", fields[0]));
        }
        let success = (200..300).contains(&expect.status);
        if endpoint.lists() && success && expect.sees.is_none() {
            problems.push(format!(
                "line {line}: {} lists: write '{} sees' or '{} hidden'",
                fields[0], expect.status, expect.status
            ));
        }
        if expect.sees.is_some() && !(endpoint.lists() && success) {
            problems.push(format!(
                "line {line}: sees/hidden only for a 2xx of a list endpoint"
            ));
        }
        if !seen.insert((fields[0].clone(), who, agency)) {
            problems.push(format!(
                "line {line}: {} / {} / {} appears twice",
                fields[0], fields[1], fields[2]
            ));
        }
        rows.push(Row {
            line,
            endpoint_name: fields[0].clone(),
            endpoint,
            who,
            agency,
            expect,
        });
    }
    if !header {
        problems.push("no header line".into());
    }
    assert!(
        problems.is_empty(),
        "tests/access_matrix.csv is not a valid matrix:\n{}",
        problems.join("\n")
    );
    rows
}

// ---------------------------------------------------------------------------------------
// Calling the API

trait Api: Service<Request, Response = ServiceResponse, Error = actix_web::Error> {}
impl<T: Service<Request, Response = ServiceResponse, Error = actix_web::Error>> Api for T {}

struct Answer {
    status: u16,
    content_type: String,
    cache_control: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The start of the body, for a report.
    fn excerpt(&self) -> String {
        let textual = self.content_type.is_empty()
            || self.content_type.starts_with("application/json")
            || self.content_type.starts_with("text/");
        if !textual {
            return format!("<{} bytes of {}>", self.body.len(), self.content_type);
        }
        let text = self.text();
        let short: String = text.chars().take(200).collect();
        if short.len() < text.len() {
            format!("{short}…")
        } else {
            short
        }
    }
}

async fn call<S: Api>(svc: &S, req: TestRequest) -> Answer {
    let res = test::call_service(svc, req.to_request()).await;
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let status = res.status().as_u16();
    let content_type = header("content-type").unwrap_or_default();
    let cache_control = header("cache-control");
    let body = test::read_body(res).await.to_vec();
    Answer {
        status,
        content_type,
        cache_control,
        body,
    }
}

fn with_token(req: TestRequest, token: Option<&str>) -> TestRequest {
    match token {
        Some(t) => req.insert_header(("authorization", format!("Bearer {t}"))),
        None => req,
    }
}

fn get(token: Option<&str>, uri: &str) -> TestRequest {
    with_token(TestRequest::get().uri(uri), token)
}

fn post(token: Option<&str>, uri: &str, body: Value) -> TestRequest {
    with_token(TestRequest::post().uri(uri).set_json(body), token)
}

/// A one-page PDF as multipart/form-data, to `uri`.
fn upload(token: Option<&str>, uri: &str) -> TestRequest {
    let (content_type, body) = common::http::pdf_multipart();
    with_token(
        TestRequest::post()
            .uri(uri)
            .insert_header(("content-type", content_type))
            .set_payload(body),
        token,
    )
}

/// Sends a fixture request that must answer `status`; its JSON body.
async fn must<S: Api>(svc: &S, req: TestRequest, status: u16, what: &str) -> Result<Value, String> {
    let a = call(svc, req).await;
    if a.status == status {
        Ok(a.json())
    } else {
        Err(format!(
            "fixture step {what}: expected {status}, got {}: {}",
            a.status,
            a.excerpt()
        ))
    }
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// Bearer tokens by role and agency (portals: own and other).
struct Tokens(HashMap<(Who, Agency), String>);

impl Tokens {
    fn of(&self, who: Who, agency: Agency) -> Option<&str> {
        if who == Who::Anonymous {
            return None;
        }
        Some(
            self.0
                .get(&(who, agency))
                .unwrap_or_else(|| panic!("no account {}.{}", who.name(), agency.name())),
        )
    }

    fn own(&self, who: Who) -> Option<&str> {
        self.of(who, Agency::Own)
    }

    async fn login<S: Api>(svc: &S, accounts: &[(Who, Agency)]) -> Self {
        let mut map = HashMap::new();
        for &(who, agency) in accounts {
            let name = account(who, agency);
            let token = if who == Who::Portal {
                portal_token(svc, &name).await
            } else {
                login(svc, &name).await
            };
            map.insert((who, agency), token);
        }
        Tokens(map)
    }
}

fn account(who: Who, agency: Agency) -> String {
    format!("{}.{}", who.name(), agency.name())
}

/// Every account of the matrix: each staff role at each agency, a portal at own and other.
fn accounts() -> Vec<(Who, Agency)> {
    let mut list: Vec<(Who, Agency)> = Who::STAFF
        .into_iter()
        .flat_map(|w| Agency::ALL.into_iter().map(move |a| (w, a)))
        .collect();
    list.push((Who::Portal, Agency::Own));
    list.push((Who::Portal, Agency::Other));
    list
}

#[derive(Debug, Clone)]
struct Dossier {
    code: String,
    pin: String,
    due_at: Option<String>,
}

impl Dossier {
    fn of(r: &Value) -> Result<Self, String> {
        Ok(Dossier {
            code: r["code"]
                .as_str()
                .ok_or_else(|| format!("no code in {r}"))?
                .to_string(),
            pin: r["pin"].as_str().unwrap_or_default().to_string(),
            due_at: r["due_at"].as_str().map(String::from),
        })
    }
}

fn applicant(name: &str) -> Value {
    json!({"full_name": name, "id_number": ID_NUMBER, "phone": PHONE, "address": ADDRESS})
}

fn birth_papers() -> Value {
    json!([{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
           {"name": "Giấy chứng sinh", "kind": "original"}])
}

/// A counter intake of the marriage procedure (5 working days).
fn counter_body() -> Value {
    json!({"procedure_code": MARRIAGE, "channel": "counter",
           "applicant": applicant("Trần Thị Ma Trận"),
           "papers": [{"name": "Tờ khai đăng ký kết hôn theo mẫu", "kind": "original"}]})
}

/// An online submission of a birth registration to own.
fn online_body() -> Value {
    json!({"procedure_code": BIRTH, "channel": "online", "receiving_agency": OWN,
           "applicant": applicant("Trần Thị Ma Trận"), "papers": birth_papers()})
}

async fn event<S: Api>(
    svc: &S,
    token: Option<&str>,
    code: &str,
    body: Value,
) -> Result<Value, String> {
    let what = format!("{} on {code}", body["type"]);
    must(
        svc,
        post(token, &format!("/api/v1/dossiers/{code}/events"), body),
        201,
        &what,
    )
    .await
}

/// The dossier goes to consulted, which accepts it and hands it back; own accepts.
async fn consult<S: Api>(svc: &S, t: &Tokens, code: &str) -> Result<(), String> {
    let to = |agency: &str| json!({"type": "handover", "to_agency": agency, "electronic": true});
    event(svc, t.own(Who::Clerk), code, to(CONSULTED)).await?;
    let consulted = t.of(Who::Official, Agency::Consulted);
    event(svc, consulted, code, json!({"type": "accept"})).await?;
    event(svc, consulted, code, to(OWN)).await?;
    event(svc, t.own(Who::Official), code, json!({"type": "accept"})).await?;
    Ok(())
}

/// A dossier received by own (or submitted to it), brought to `stage`; first consulted
/// when `consulted`, and with a hand-over to pending waiting when `pending`.
async fn fresh<S: Api>(
    svc: &S,
    t: &Tokens,
    stage: Stage,
    consulted: bool,
    pending: bool,
) -> Result<Dossier, String> {
    if stage.online() {
        let r = must(
            svc,
            post(t.own(Who::Portal), "/api/v1/dossiers", online_body()),
            201,
            "online submission",
        )
        .await?;
        let d = Dossier::of(&r)?;
        if stage == Stage::NeedsCorrection {
            event(
                svc,
                t.own(Who::Clerk),
                &d.code,
                json!({"type": "request_correction", "items": ["Giấy chứng sinh bản chụp rõ nét"],
                       "reason": "Ảnh chụp không đọc được"}),
            )
            .await?;
        }
        return Ok(d);
    }
    let r = must(
        svc,
        post(t.own(Who::Clerk), "/api/v1/dossiers", counter_body()),
        201,
        "counter intake",
    )
    .await?;
    let d = Dossier::of(&r)?;
    if consulted {
        consult(svc, t, &d.code).await?;
    }
    let official = t.own(Who::Official);
    match stage {
        Stage::SupplementRequested | Stage::CloseReady => {
            event(
                svc,
                official,
                &d.code,
                json!({"type": "request_supplement", "items": ["Giấy xác nhận tình trạng hôn nhân"],
                       "reason": "Thiếu giấy tờ"}),
            )
            .await?;
        }
        Stage::Paused => {
            event(
                svc,
                official,
                &d.code,
                json!({"type": "pause", "reason": "Chờ kết quả xác minh",
                       "legal_basis": "Điều 19 Nghị định 118/2025/NĐ-CP"}),
            )
            .await?;
        }
        Stage::Approved | Stage::Returned => {
            event(
                svc,
                t.own(Who::Leader),
                &d.code,
                json!({"type": "decide", "outcome": "approved"}),
            )
            .await?;
            if stage == Stage::Returned {
                event(
                    svc,
                    t.own(Who::Clerk),
                    &d.code,
                    json!({"type": "return", "channel": "counter"}),
                )
                .await?;
            }
        }
        Stage::Received | Stage::Submitted | Stage::NeedsCorrection => {}
    }
    if pending {
        event(
            svc,
            t.own(Who::Clerk),
            &d.code,
            json!({"type": "handover", "to_agency": PENDING, "electronic": true}),
        )
        .await?;
    }
    Ok(d)
}

/// The shared fixtures.
struct World {
    tokens: Tokens,
    main: Dossier,
    main_file: String,
    approved: Dossier,
    online: Dossier,
    online_file: String,
    /// The dossiers of the `event_close` rows, by line, made 16 days earlier.
    close: HashMap<usize, Dossier>,
}

/// What a row's request needs from its fresh dossier.
fn fresh_shape(row: &Row) -> (bool, bool) {
    let accept = row.endpoint == Endpoint::Event(Ev::Accept);
    (
        row.agency == Agency::Consulted,
        row.agency == Agency::Pending || accept,
    )
}

async fn build_world<S: Api>(svc: &S, app: &motcua::app::App, rows: &[Row]) -> World {
    // 16 days before the matrix runs: the dossiers the close rows close, their supplement
    // requested and never received.
    app.clock.set(local("2026-11-02T08:30"));
    let early = Tokens::login(
        svc,
        &[
            (Who::Clerk, Agency::Own),
            (Who::Official, Agency::Own),
            (Who::Official, Agency::Consulted),
        ],
    )
    .await;
    let mut close = HashMap::new();
    for row in rows
        .iter()
        .filter(|r| r.endpoint == Endpoint::Event(Ev::Close))
    {
        let (consulted, pending) = fresh_shape(row);
        let d = fresh(svc, &early, Stage::CloseReady, consulted, pending)
            .await
            .unwrap_or_else(|e| panic!("line {}: {e}", row.line));
        close.insert(row.line, d);
    }

    app.clock.set(local(&format!("{DAY}T08:30")));
    let t = Tokens::login(svc, &accounts()).await;
    let fail = |e: String| -> ! { panic!("shared fixture: {e}") };

    // MAIN: received by own, a scan, consulted and back, a hand-over to pending waiting.
    let r = must(
        svc,
        post(
            t.own(Who::Clerk),
            "/api/v1/dossiers",
            json!({"procedure_code": BIRTH, "channel": "counter",
                   "applicant": applicant("Trần Văn Ma Trận"), "papers": birth_papers()}),
        ),
        201,
        "MAIN intake",
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let main = Dossier::of(&r).unwrap_or_else(|e| fail(e));
    let f = must(
        svc,
        upload(
            t.own(Who::Clerk),
            &format!("/api/v1/dossiers/{}/files?paper=1", main.code),
        ),
        201,
        "MAIN scan",
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let main_file = f["id"].as_str().expect("file id").to_string();
    consult(svc, &t, &main.code)
        .await
        .unwrap_or_else(|e| fail(e));
    event(
        svc,
        t.own(Who::Official),
        &main.code,
        json!({"type": "handover", "to_agency": PENDING, "electronic": true}),
    )
    .await
    .unwrap_or_else(|e| fail(e));

    // APPROVED: consulted, approved by own, a hand-over to pending waiting.
    let approved = fresh(svc, &t, Stage::Approved, true, true)
        .await
        .unwrap_or_else(|e| fail(e));

    // ONLINE: submitted by the portal of own, received by own's desk, a scan.
    let online = fresh(svc, &t, Stage::Submitted, false, false)
        .await
        .unwrap_or_else(|e| fail(e));
    event(
        svc,
        t.own(Who::Clerk),
        &online.code,
        json!({"type": "receive"}),
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let f = must(
        svc,
        upload(
            t.own(Who::Clerk),
            &format!("/api/v1/dossiers/{}/files?paper=1", online.code),
        ),
        201,
        "ONLINE scan",
    )
    .await
    .unwrap_or_else(|e| fail(e));
    let online_file = f["id"].as_str().expect("file id").to_string();

    World {
        tokens: t,
        main,
        main_file,
        approved,
        online,
        online_file,
        close,
    }
}

// ---------------------------------------------------------------------------------------
// The rows

/// `uri` with the dossier's pin for an anonymous caller: a citizen holds code and pin,
/// and neither opens a staff endpoint.
fn with_pin(uri: String, d: &Dossier, who: Who) -> String {
    if who != Who::Anonymous || d.pin.is_empty() {
        return uri;
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}pin={}", d.pin)
}

fn event_body(ev: Ev, row: &Row, d: &Dossier) -> Result<Value, String> {
    Ok(match ev {
        Ev::Receive => json!({"type": "receive"}),
        Ev::RequestCorrection => json!({"type": "request_correction",
            "items": ["Giấy chứng sinh bản chụp rõ nét"], "reason": "Ảnh chụp không đọc được"}),
        Ev::Refuse => json!({"type": "refuse", "reason": "Không thuộc thẩm quyền giải quyết"}),
        Ev::Handover => json!({"type": "handover", "to_agency": ELSEWHERE, "electronic": true}),
        Ev::Accept => json!({"type": "accept"}),
        // An official of the caller's own agency: the assignee is checked before the scope.
        Ev::Assign => {
            let agency = match row.who {
                Who::Portal | Who::Anonymous => Agency::Own,
                _ => row.agency,
            };
            json!({"type": "assign", "user": account(Who::Official, agency)})
        }
        Ev::RequestSupplement => json!({"type": "request_supplement",
            "items": ["Giấy xác nhận tình trạng hôn nhân"], "reason": "Thiếu giấy tờ"}),
        Ev::SupplementReceived => json!({"type": "supplement_received"}),
        Ev::Pause => json!({"type": "pause", "reason": "Chờ kết quả xác minh",
            "legal_basis": "Điều 19 Nghị định 118/2025/NĐ-CP"}),
        Ev::Resume => json!({"type": "resume"}),
        Ev::Delay => {
            let due = d
                .due_at
                .as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .ok_or_else(|| format!("no due moment on {}", d.code))?;
            json!({"type": "delay", "reason": "Cần thêm thời gian xác minh",
                   "new_due_at": (due + chrono::Duration::days(1)).to_rfc3339()})
        }
        Ev::Stop => json!({"type": "stop", "reason": "Người nộp xin dừng giải quyết"}),
        Ev::Decide => json!({"type": "decide", "outcome": "approved"}),
        Ev::Return => json!({"type": "return", "channel": "counter"}),
        Ev::Rate => json!({"type": "rate", "score": "satisfied"}),
        Ev::Close => json!({"type": "close", "reason": "Quá 15 ngày không nhận đủ hồ sơ bổ sung"}),
    })
}

/// The request of a row, and the text whose presence means "sees" for a list.
async fn request<S: Api>(svc: &S, w: &World, row: &Row) -> Result<(TestRequest, String), String> {
    use Endpoint::*;
    let token = w.tokens.of(row.who, row.agency);
    let (main, online) = (&w.main, &w.online);
    let period = format!("from={DAY}&to={DAY}");
    let dossier_get = |d: &Dossier, path: &str| get(token, &with_pin(path.to_string(), d, row.who));
    let pay =
        |code: &str, body: Value| post(token, &format!("/api/v1/dossiers/{code}/events"), body);
    let cash = json!({"type": "payment", "amount": 8000, "method": "cash"});
    let online_ref = json!({"type": "payment", "amount": 8000, "method": "online", "reference": "PAYGOV-000991"});
    let online_noref = json!({"type": "payment", "amount": 8000, "method": "online"});
    let m = &main.code;
    let o = &online.code;
    Ok(match row.endpoint {
        Read => (
            dossier_get(main, &format!("/api/v1/dossiers/{m}")),
            m.clone(),
        ),
        List => (get(token, &format!("/api/v1/dossiers?q={m}")), m.clone()),
        ReceiptPdf => (
            dossier_get(main, &format!("/api/v1/dossiers/{m}/forms/receipt.pdf")),
            m.clone(),
        ),
        FormControl => (
            dossier_get(main, &format!("/api/v1/dossiers/{m}/forms/control.pdf")),
            m.clone(),
        ),
        DownloadFile => (
            dossier_get(main, &format!("/api/v1/dossiers/{m}/files/{}", w.main_file)),
            m.clone(),
        ),
        Payment => (pay(m, cash), m.clone()),
        PaymentOnlineRef => (pay(m, online_ref), m.clone()),
        PaymentOnlineNoref => (pay(m, online_noref), m.clone()),
        UploadScan => (
            upload(token, &format!("/api/v1/dossiers/{m}/files?paper=1")),
            m.clone(),
        ),
        UploadResult => (
            upload(
                token,
                &format!("/api/v1/dossiers/{}/files?result", w.approved.code),
            ),
            w.approved.code.clone(),
        ),
        ReadOnline => (
            dossier_get(online, &format!("/api/v1/dossiers/{o}")),
            o.clone(),
        ),
        ListOnline => (get(token, &format!("/api/v1/dossiers?q={o}")), o.clone()),
        ReceiptPdfOnline => (
            dossier_get(online, &format!("/api/v1/dossiers/{o}/forms/receipt.pdf")),
            o.clone(),
        ),
        DownloadFileOnline => (
            dossier_get(
                online,
                &format!("/api/v1/dossiers/{o}/files/{}", w.online_file),
            ),
            o.clone(),
        ),
        PortalPayment => (pay(o, online_ref), o.clone()),
        PortalChanges => (get(token, "/api/v1/portal/changes?limit=200"), o.clone()),
        Resubmit => {
            let d = fresh(svc, &w.tokens, Stage::NeedsCorrection, false, false).await?;
            (
                post(
                    token,
                    &format!("/api/v1/dossiers/{}/resubmit", d.code),
                    json!({"note": "Đã gửi ảnh chụp rõ nét"}),
                ),
                d.code,
            )
        }
        Event(ev) => {
            let d = if ev == Ev::Close {
                w.close
                    .get(&row.line)
                    .cloned()
                    .ok_or("no dossier made for this close row")?
            } else {
                let (consulted, pending) = fresh_shape(row);
                fresh(svc, &w.tokens, ev.stage(), consulted, pending).await?
            };
            let body = event_body(ev, row, &d)?;
            let uri = with_pin(format!("/api/v1/dossiers/{}/events", d.code), &d, row.who);
            (post(token, &uri, body), d.code)
        }
        Queue => (
            get(token, &format!("/api/v1/queue?procedure={BIRTH}&limit=200")),
            m.clone(),
        ),
        Indicators => (
            get(
                token,
                &format!("/api/v1/reports/indicators?agency={OWN}&{period}"),
            ),
            String::new(),
        ),
        IndicatorsXlsx => (
            get(
                token,
                &format!("/api/v1/reports/indicators.xlsx?agency={OWN}&{period}"),
            ),
            String::new(),
        ),
        IndicatorsCsv => (
            get(
                token,
                &format!("/api/v1/reports/indicators.csv?agency={OWN}&{period}"),
            ),
            String::new(),
        ),
        IndicatorsPdf => (
            get(
                token,
                &format!("/api/v1/reports/indicators.pdf?agency={OWN}&{period}"),
            ),
            String::new(),
        ),
        TrackingBook => (
            get(
                token,
                &format!("/api/v1/reports/tracking-book.xlsx?agency={OWN}&{period}"),
            ),
            String::new(),
        ),
        RawDossiersCsv => (
            get(token, &format!("/api/v1/reports/raw/dossiers.csv?{period}")),
            m.clone(),
        ),
        RawHandoversCsv => (
            get(
                token,
                &format!("/api/v1/reports/raw/handovers.csv?{period}"),
            ),
            m.clone(),
        ),
        RawDeadlineActsCsv => (
            get(
                token,
                &format!("/api/v1/reports/raw/deadline_acts.csv?{period}"),
            ),
            o.clone(),
        ),
        ApplicantDocuments => (
            get(token, &format!("/api/v1/applicants/{ID_NUMBER}/documents")),
            m.clone(),
        ),
        Intake => {
            let body = if row.who == Who::Portal {
                online_body()
            } else {
                counter_body()
            };
            (post(token, "/api/v1/dossiers", body), String::new())
        }
        Guidance => (
            post(
                token,
                "/api/v1/intake/guidance",
                json!({"procedure_code": BIRTH, "applicant": {"full_name": "Lê Thị Hướng Dẫn"},
                       "items": [{"name": "Giấy chứng sinh", "reason": "Chưa có bản chính"}]}),
            ),
            String::new(),
        ),
        RefusalForm => (
            post(
                token,
                "/api/v1/intake/refusal",
                json!({"applicant": {"full_name": "Lê Thị Từ Chối"},
                       "reason": "Không thuộc thẩm quyền giải quyết"}),
            ),
            String::new(),
        ),
    })
}

/// Whether the caller of a row stands inside the target dossier's scope: not for another
/// or pending ward (unless its row is the accept that makes it the holder), nobody without
/// a token, and a portal only on what it submitted.
fn in_scope(row: &Row) -> bool {
    if row.endpoint == Endpoint::Event(Ev::Accept) && row.agency == Agency::Pending {
        return true;
    }
    match (row.who, row.agency) {
        (Who::Anonymous, _) | (_, Agency::Other | Agency::Pending) => false,
        (Who::Portal, agency) => {
            agency == Agency::Own
                && match row.endpoint.target() {
                    Target::Online | Target::Nothing => true,
                    Target::Fresh(stage) => stage.online(),
                    Target::Main | Target::Approved => false,
                }
        }
        _ => true,
    }
}

async fn access_matrix(db: common::TestDb, backend: &str) {
    let rows = load_matrix();
    let app = common::app_at(&db, local("2026-11-02T07:00"));
    let list: Vec<(String, Role, &str)> = accounts()
        .into_iter()
        .map(|(who, agency)| {
            (
                account(who, agency),
                who.role().expect("an account"),
                agency.code(),
            )
        })
        .collect();
    let list: Vec<(&str, Role, &str)> = list.iter().map(|(u, r, a)| (u.as_str(), *r, *a)).collect();
    users(&app, &list);
    let svc = service(&app).await;
    let world = build_world(&svc, &app, &rows).await;

    let mut problems = Vec::new();
    for row in &rows {
        let cell = format!(
            "line {}: {} / {} / {}",
            row.line,
            row.endpoint_name,
            row.who.name(),
            row.agency.name()
        );
        let (req, target) = match request(&svc, &world, row).await {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{cell}: {e}"));
                continue;
            }
        };
        let answer = call(&svc, req).await;
        let success = (200..300).contains(&answer.status);
        let mut issues = Vec::new();
        let got = Expect {
            status: answer.status,
            sees: (row.endpoint.lists() && success).then(|| answer.text().contains(&target)),
        };
        if got != row.expect {
            issues.push(format!(
                "expected {}, got {}",
                row.expect.text(),
                got.text()
            ));
        }
        if row.endpoint.staff_read()
            && success
            && !answer
                .cache_control
                .as_deref()
                .is_some_and(|c| c.contains("no-store"))
        {
            issues.push(format!(
                "a staff read without Cache-Control: no-store (got {:?})",
                answer.cache_control
            ));
        }
        if !success || !in_scope(row) || row.endpoint.raw() {
            let text = answer.text();
            let leaked: Vec<&str> = [
                ("ID number", ID_NUMBER),
                ("phone", PHONE),
                ("address", ADDRESS),
            ]
            .into_iter()
            .filter(|(_, value)| text.contains(value))
            .map(|(what, _)| what)
            .collect();
            if !leaked.is_empty() {
                issues.push(format!(
                    "the {} answer carries the applicant's {}",
                    answer.status,
                    leaked.join(", ")
                ));
            }
        }
        if !issues.is_empty() {
            problems.push(format!(
                "{cell}: {} — {}",
                issues.join("; "),
                answer.excerpt()
            ));
        }
    }
    eprintln!(
        "{backend}: {} cells of tests/access_matrix.csv checked, {} problems",
        rows.len(),
        problems.len()
    );
    assert!(
        problems.is_empty(),
        "{backend}: {} of {} cells differ from tests/access_matrix.csv:\n{}",
        problems.len(),
        rows.len(),
        problems.join("\n")
    );
}

#[actix_rt::test]
async fn access_matrix_on_sqlite() {
    access_matrix(common::TestDb::sqlite(), "SQLite").await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn access_matrix_on_postgres() {
    access_matrix(common::TestDb::postgres(), "PostgreSQL").await;
}
