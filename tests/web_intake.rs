//! The intake page in process (issue #14, items 3–4), on both backends: the applicant's
//! valid documents offered for reuse with one tick and recorded on the paper; guidance
//! (form 02) and refusal (form 03) from the same page; errors shown next to their fields
//! with nothing stored; the same form sent twice gives one dossier.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use common::http::{self, PASSWORD};
use motcua::app::App;
use motcua::service::accounts::cli_actor;
use motcua::service::Role;
use serde_json::Value;

const WARD: &str = "000.00.51.H26";
/// The city's public administration centre: it receives ward-level procedures too.
const CENTRE: &str = "000.00.01.H26";
/// Đăng ký kết hôn: its second paper is a document the data store may hold.
const MARRIAGE: &str = "1.000894.000.00.00.H26";
const ID: &str = "001095006789";
/// A scanned earlier result (a small valid PDF).
const SCAN: &str = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

struct Page {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Page {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
    fn field(&self, name: &str) -> String {
        let t = self.text();
        let at = t
            .find(&format!("name=\"{name}\" value=\""))
            .unwrap_or_else(|| panic!("no {name} in\n{t}"));
        let v = &t[at + name.len() + 15..];
        v[..v.find('"').unwrap()].to_string()
    }
}

struct Clerk {
    cookie: String,
}

impl Clerk {
    async fn send<S>(&self, svc: &S, req: test::TestRequest) -> Page
    where
        S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        let res = test::call_service(
            svc,
            req.insert_header(("Cookie", self.cookie.clone()))
                .to_request(),
        )
        .await;
        let status = res.status().as_u16();
        let content_type = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = test::read_body(res).await.to_vec();
        Page {
            status,
            content_type,
            body,
        }
    }

    async fn post<S>(&self, svc: &S, form: &[(&str, &str)]) -> Page
    where
        S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
    {
        self.send(
            svc,
            test::TestRequest::post()
                .uri("/tiep-nhan")
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(serde_urlencoded::to_string(form).unwrap()),
        )
        .await
    }
}

/// Logs in through the login page; the session cookie.
async fn sign_in<S>(svc: &S, user: &str) -> Clerk
where
    S: Service<actix_http::Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    let res =
        test::call_service(svc, test::TestRequest::get().uri("/dang-nhap").to_request()).await;
    let pre = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let csrf = &body[at..at + body[at..].find('"').unwrap()];
    let form = serde_urlencoded::to_string([
        ("csrf", csrf),
        ("username", user),
        ("password", PASSWORD),
        ("next", "/"),
    ])
    .unwrap();
    let res = test::call_service(
        svc,
        test::TestRequest::post()
            .uri("/dang-nhap")
            .insert_header(("Cookie", pre))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(form)
            .to_request(),
    )
    .await;
    assert_eq!(res.status().as_u16(), 303);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("motcua_session="))
        .unwrap();
    Clerk { cookie }
}

fn start(db: &common::TestDb) -> Arc<App> {
    let app = common::app_at(db, common::local("2026-12-01T09:00"));
    http::users(
        &app,
        &[
            ("clerk1", Role::Clerk, WARD),
            ("centre1", Role::Clerk, CENTRE),
        ],
    );
    // A document of the applicant data store: an earlier result.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ket-qua.csv");
    std::fs::write(dir.path().join("xn.pdf"), SCAN).unwrap();
    std::fs::write(
        &csv,
        format!(
            "source_key,id_number,full_name,document_name,number,issuing_agency,issued_on,valid_until,procedure_code,file\n\
XN-2026-0001,{ID},Đỗ Minh Khoa,Giấy xác nhận tình trạng hôn nhân,77/2026,{WARD},01/10/2026,31/03/2027,1.004873.000.00.00.H26,xn.pdf\n\
XN-2026-0002,{ID},Đỗ Minh Khoa,Giấy xác nhận tình trạng hôn nhân,78/2026,{WARD},02/10/2026,31/03/2027,1.004873.000.00.00.H26,\n"
        ),
    )
    .unwrap();
    let report = app
        .import_results(&csv, &cli_actor(), app.clock.now(), &mut |_, _| {})
        .expect("import");
    assert_eq!(report.imported, 2, "{report:?}");
    app
}

async fn intake_page(db: common::TestDb) {
    let app = start(&db);
    let svc = http::service(&app).await;
    let clerk = sign_in(&svc, "clerk1").await;
    let form = clerk
        .send(
            &svc,
            test::TestRequest::get().uri(&format!("/tiep-nhan?thu-tuc={MARRIAGE}")),
        )
        .await;
    assert_eq!(form.status, 200);
    let csrf = form.field("csrf");
    let key = form.field("form_key");
    assert_eq!(key.len(), 64);
    // The competent agency is asked only when the procedure needs it: not at the ward
    // that decides it, but at the centre, with the wards to choose from.
    assert!(!form.text().contains("id=\"competent_agency\""));
    let centre = sign_in(&svc, "centre1").await;
    let at_centre = centre
        .send(
            &svc,
            test::TestRequest::get().uri(&format!("/tiep-nhan?thu-tuc={MARRIAGE}")),
        )
        .await;
    let t = at_centre.text();
    assert!(t.contains("id=\"competent_agency\""), "{t}");
    assert!(t.contains(&format!(
        "<option value=\"{WARD}\">Ủy ban nhân dân phường Hoàn Kiếm</option>"
    )));
    assert!(
        !t.contains("<option value=\"000.00.02.H26\">"),
        "only agencies of the competent level"
    );

    // The applicant by ID number: the valid document is offered on its paper.
    let base = vec![
        ("csrf", csrf.as_str()),
        ("form_key", key.as_str()),
        ("procedure", MARRIAGE),
        ("applicant_id_number", ID),
        ("applicant_full_name", "Đỗ Minh Khoa"),
    ];
    let mut lookup = base.clone();
    lookup.push(("action", "lookup"));
    let r = clerk.post(&svc, &lookup).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    assert!(t.contains("Kho dữ liệu có 2 giấy tờ còn hiệu lực"), "{t}");
    // Only the one with its electronic copy can stand for the paper.
    assert_eq!(t.matches("name=\"paper_reuse_1\"").count(), 1, "{t}");
    assert!(t.contains("chưa có bản điện tử: nhận bản giấy"));
    let needle = "name=\"paper_reuse_1\" value=\"";
    let at = t
        .find(needle)
        .expect("offered on the paper of the same name");
    let doc = &t[at + needle.len()..];
    let doc = doc[..doc.find('"').unwrap()].to_string();
    assert!(t.contains("Dùng lại bản điện tử: Giấy xác nhận tình trạng hôn nhân"));
    assert!(
        !t.contains("name=\"paper_reuse_0\""),
        "not offered on an unrelated paper"
    );
    // Typed values are kept across the lookup.
    assert!(t.contains("value=\"Đỗ Minh Khoa\""));

    // Errors: every problem at once, next to its field, nothing stored.
    let r = clerk
        .post(
            &svc,
            &[
                ("csrf", csrf.as_str()),
                ("form_key", key.as_str()),
                ("procedure", MARRIAGE),
                ("applicant_id_number", "123"),
                ("applicant_full_name", ""),
                ("applicant_phone", "12"),
                ("applicant_email", "khoa@"),
                ("action", "register"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    let t = r.text();
    for field in [
        "applicant_id_number",
        "applicant_full_name",
        "applicant_phone",
        "applicant_email",
        "paper_0",
    ] {
        assert!(
            t.contains(&format!("href=\"#{field}\"")),
            "summary links to {field}:\n{t}"
        );
    }
    assert!(t.contains("id=\"applicant_phone-error\""));
    assert!(t.contains("aria-invalid=\"true\""));
    let token = http::login(&svc, "clerk1").await;
    let (_, list) = http::send(&svc, http::get(&token, "/api/v1/dossiers")).await;
    assert_eq!(
        list["dossiers"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );

    // Registered with the reused document: one tick, recorded on the paper.
    let mut register = base.clone();
    register.extend([
        ("paper_given_0", "1"),
        ("paper_reuse_1", doc.as_str()),
        ("action", "register"),
    ]);
    let r = clerk.post(&svc, &register).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let t = r.text();
    let at = t.find("id=\"ma-ho-so\">").unwrap() + 14;
    let code = t[at..at + t[at..].find('<').unwrap()].to_string();
    let (_, d) = http::send(&svc, http::get(&token, &format!("/api/v1/dossiers/{code}"))).await;
    let papers: Vec<&Value> = d["papers"].as_array().unwrap().iter().collect();
    assert_eq!(papers.len(), 2, "{d}");
    assert_eq!(
        papers[1]["reuse_document_id"],
        Value::String(doc.clone()),
        "{d}"
    );
    assert_eq!(d["reused"], Value::Bool(true), "{d}");
    // The same form again (a refresh, a double click): the same receipt, one dossier.
    let again = clerk.post(&svc, &register).await;
    assert!(again.text().contains(&code));
    let (_, list) = http::send(&svc, http::get(&token, "/api/v1/dossiers")).await;
    assert_eq!(list["dossiers"].as_array().unwrap().len(), 1);

    // The search: by date range (dd/mm/yyyy as people write it), status, name.
    let found = clerk
        .send(
            &svc,
            test::TestRequest::get()
                .uri("/ho-so?q=do+minh&tu=01%2F12%2F2026&den=01%2F12%2F2026&trang-thai=received"),
        )
        .await;
    assert!(found.text().contains(&code), "{}", found.text());
    let none = clerk
        .send(
            &svc,
            test::TestRequest::get().uri("/ho-so?q=do+minh&tu=02%2F12%2F2026"),
        )
        .await;
    assert!(!none.text().contains(&code));
    assert!(none.text().contains("Không có hồ sơ nào khớp"));
    let bad = clerk
        .send(
            &svc,
            test::TestRequest::get().uri("/ho-so?tu=31%2F02%2F2026"),
        )
        .await;
    assert!(
        bad.text().contains("31/02/2026&#34; không hợp lệ"),
        "{}",
        bad.text()
    );
    assert!(
        !bad.text().contains("Không có hồ sơ nào khớp"),
        "an error, not an empty result"
    );

    // Guidance (form 02) from the same page: the items, one per line.
    let fresh = clerk
        .send(
            &svc,
            test::TestRequest::get().uri(&format!("/tiep-nhan?thu-tuc={MARRIAGE}")),
        )
        .await;
    let key2 = fresh.field("form_key");
    let mut guide = vec![
        ("csrf", csrf.as_str()),
        ("form_key", key2.as_str()),
        ("procedure", MARRIAGE),
        ("applicant_full_name", "Trần Văn Bình"),
        ("action", "guide"),
        ("guide_items", ""),
    ];
    let r = clerk.post(&svc, &guide).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("href=\"#guide_items\""));
    guide.pop();
    guide.push((
        "guide_items",
        "Tờ khai đăng ký kết hôn: chưa có chữ ký của hai bên\nGiấy xác nhận tình trạng hôn nhân",
    ));
    let r = clerk.post(&svc, &guide).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.content_type, "application/pdf");
    let text = http::pdf_text(&r.body);
    assert!(text.contains("chưa có chữ ký của hai bên"), "{text}");
    // Refusal (form 03): the reason is required.
    let mut refuse = vec![
        ("csrf", csrf.as_str()),
        ("form_key", key2.as_str()),
        ("procedure", MARRIAGE),
        ("applicant_full_name", "Trần Văn Bình"),
        ("action", "refuse"),
        ("refuse_reason", ""),
    ];
    let r = clerk.post(&svc, &refuse).await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("href=\"#refuse_reason\""), "{}", r.text());
    refuse.pop();
    refuse.push((
        "refuse_reason",
        "Hai bên chưa đủ tuổi kết hôn theo Luật Hôn nhân và gia đình",
    ));
    let r = clerk.post(&svc, &refuse).await;
    assert_eq!(r.content_type, "application/pdf");
    assert!(http::pdf_text(&r.body).contains("chưa đủ tuổi kết hôn"));
    let _ = HashMap::<(), ()>::new();
}

#[actix_rt::test]
async fn intake_page_on_sqlite() {
    intake_page(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn intake_page_on_postgres() {
    intake_page(common::TestDb::postgres()).await;
}
