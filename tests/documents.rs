//! Digitised papers and results over HTTP: scans attached at intake, a result registered
//! at approval with its electronic copy, the applicant data store, reuse by a second
//! dossier with no file copied, hostile uploads refused leaving nothing behind, orphan
//! content swept, and content past retention removed.

mod common;

use std::path::Path;
use std::sync::Arc;

use actix_http::Request;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::test;
use common::http::{event, get, login, post, send, send_raw, service, users};
use common::local;
use diesel::prelude::*;
use motcua::app::App;
use motcua::service::Role;
use serde_json::{json, Value};

const COMMUNE: &str = "000.00.51.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";
/// Chứng thực bản sao từ bản chính: 5-year retention, one required paper.
const COPY: &str = "2.000815.000.00.00.H26";
const APPLICANT: &str = "001095006789";

fn pdf(extra: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {extra}\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
        .into_bytes()
}

fn jpeg() -> Vec<u8> {
    let mut b = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    b.extend_from_slice(&[0x42; 200]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

const BOUNDARY: &str = "----motcua-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with the given parts `(field name, file name, bytes)`.
fn multipart(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, file, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_req(token: &str, uri: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("authorization", format!("Bearer {token}")))
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(body)
}

async fn upload<S>(
    svc: &S,
    token: &str,
    code: &str,
    target: &str,
    name: &str,
    bytes: &[u8],
) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    send(
        svc,
        upload_req(
            token,
            &format!("/api/v1/dossiers/{code}/files?{target}"),
            multipart(&[("file", name, bytes)]),
        ),
    )
    .await
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn count(app: &App, sql_table: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.store.conn().unwrap();
    diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {sql_table}"))
        .get_result::<N>(&mut *conn)
        .unwrap()
        .n
}

fn birth_intake(id_number: &str) -> Value {
    json!({
        "procedure_code": BIRTH, "channel": "counter",
        "applicant": {"full_name": "Đỗ Minh Khoa", "id_number": id_number},
        "papers": [
            {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
            {"name": "Giấy chứng sinh", "kind": "original"}
        ]
    })
}

async fn receive<S>(svc: &S, token: &str, body: Value) -> (u16, Value)
where
    S: Service<Request, Response = ServiceResponse, Error = actix_web::Error>,
{
    send(svc, post(token, "/api/v1/dossiers", body)).await
}

fn start(db: &common::TestDb, max_upload: Option<u64>) -> Arc<App> {
    let mut app = common::app_at(db, local("2026-11-02T07:00"));
    if let Some(m) = max_upload {
        Arc::get_mut(&mut app).unwrap().settings.max_upload_bytes = m;
    }
    users(
        &app,
        &[
            ("clerk1", Role::Clerk, COMMUNE),
            ("leader1", Role::Leader, COMMUNE),
            ("clerk2", Role::Clerk, "000.00.52.H26"),
        ],
    );
    app.clock.set(local("2026-11-02T08:00"));
    app
}

async fn reuse_without_copying(db: common::TestDb) {
    let app = start(&db, None);
    let svc = service(&app).await;
    let objects = db.dir.path().join("files/objects");
    let clerk = login(&svc, "clerk1").await;

    // The first dossier: both papers scanned at the counter.
    let (status, r) = receive(&svc, &clerk, birth_intake(APPLICANT)).await;
    assert_eq!(status, 201, "{r}");
    let first = r["code"].as_str().unwrap().to_string();
    let pin = r["pin"].as_str().unwrap().to_string();
    let (status, f1) = upload(
        &svc,
        &clerk,
        &first,
        "paper=1",
        "To khai.pdf",
        &pdf("tờ khai"),
    )
    .await;
    assert_eq!(status, 201, "{f1}");
    assert_eq!(f1["media_type"], "application/pdf");
    assert_eq!(f1["document_id"], format!("{first}-TP1"));
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{first}"))).await;
    assert_eq!(d["digitised"], false, "one paper of two has a file");
    let (status, f2) = upload(
        &svc,
        &clerk,
        &first,
        "paper=2",
        "Giấy chứng sinh.jpg",
        &jpeg(),
    )
    .await;
    assert_eq!(status, 201, "{f2}");
    assert_eq!(
        (f2["media_type"].as_str(), f2["file_name"].as_str()),
        (Some("image/jpeg"), Some("Giấy chứng sinh.jpg"))
    );
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{first}"))).await;
    assert_eq!(d["digitised"], true);
    // No result yet: nothing to attach a result file to.
    let (status, b) = upload(&svc, &clerk, &first, "result", "kq.pdf", &pdf("kq")).await;
    assert_eq!((status, b["error"].as_str()), (409, Some("no_result")));

    // Approved with a result: registered as <code>-KQ1, then its electronic copy.
    app.clock.set(local("2026-11-02T10:00"));
    let leader = login(&svc, "leader1").await;
    let (status, b) = event(
        &svc,
        &leader,
        &first,
        json!({"type": "decide", "outcome": "approved", "result": {"number": "125/2026/KS"}}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    let kq = format!("{first}-KQ1");
    let result_pdf = pdf("Giấy khai sinh bản điện tử");
    let (status, f3) = upload(
        &svc,
        &leader,
        &first,
        "result",
        "Giấy khai sinh.pdf",
        &result_pdf,
    )
    .await;
    assert_eq!(status, 201, "{f3}");
    assert_eq!(f3["document_id"], kq.as_str());
    app.clock.set(local("2026-11-02T10:30"));
    let clerk = login(&svc, "clerk1").await;
    let (status, _) = event(
        &svc,
        &clerk,
        &first,
        json!({"type": "return", "channel": "counter"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(files_under(&objects).len(), 3);

    // The applicant data store lists the result and the two scans, and each read is audited.
    let (status, b) = send(
        &svc,
        get(&clerk, &format!("/api/v1/applicants/{APPLICANT}/documents")),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    let docs = b["documents"].as_array().unwrap();
    let result = docs
        .iter()
        .find(|x| x["id"] == kq.as_str())
        .expect("result listed");
    assert_eq!(
        (
            result["kind"].as_str(),
            result["name"].as_str(),
            result["number"].as_str(),
            result["electronic"].as_bool(),
            result["issued_on"].as_str(),
            result["valid_until"].clone()
        ),
        (
            Some("result"),
            Some("Giấy khai sinh"),
            Some("125/2026/KS"),
            Some(true),
            Some("2026-11-02"),
            Value::Null
        )
    );
    assert_eq!(result["issuing_agency"]["code"], COMMUNE);
    assert_eq!(docs.iter().filter(|x| x["kind"] == "paper").count(), 2);
    let reads = {
        let mut conn = app.store.conn().unwrap();
        motcua::store::schema::audit_log::table
            .filter(motcua::store::schema::audit_log::action.eq("applicant.documents.read"))
            .filter(motcua::store::schema::audit_log::entity_id.eq(APPLICANT))
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap()
    };
    assert_eq!(reads, 1);

    // The citizen downloads the electronic result with code and pin; a wrong pin is the
    // lookup's 404.
    let public = |p: &str| {
        test::TestRequest::get().uri(&format!(
            "/api/v1/public/dossiers/{first}/results/{kq}?pin={p}"
        ))
    };
    let (status, ct, bytes) = send_raw(&svc, public(&pin)).await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert_eq!(bytes, result_pdf);
    assert_eq!(send_raw(&svc, public("AAAAAA")).await.0, 404);
    // The public lookup lists it, with where to download it (no pin in the address).
    let (status, b) = send(
        &svc,
        test::TestRequest::get().uri(&format!("/api/v1/public/dossiers/{first}?pin={pin}")),
    )
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        (
            b["results"][0]["id"].as_str(),
            b["results"][0]["number"].as_str(),
            b["results"][0]["download"].as_str()
        ),
        (
            Some(kq.as_str()),
            Some("125/2026/KS"),
            Some(format!("/api/v1/public/dossiers/{first}/results/{kq}").as_str())
        )
    );
    // And on the citizen's page: the result listed, downloaded with the pin in the form.
    let mut browser = common::http::Browser::default();
    let page = format!("/tra-cuu/{first}");
    let (status, html) = browser
        .page(&svc, test::TestRequest::get().uri(&page))
        .await;
    assert_eq!(status, 200);
    let csrf = common::http::hidden(&html, "csrf");
    let form_post = |uri: &str, body: String| {
        test::TestRequest::post()
            .uri(uri)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body)
    };
    let (status, html) = browser
        .page(
            &svc,
            form_post(&page, common::http::form(&[("csrf", &csrf), ("pin", &pin)])),
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Kết quả điện tử")
            && html.contains("Giấy khai sinh số 125/2026/KS")
            && html.contains(&format!("/tra-cuu/{first}/ket-qua/{kq}")),
        "{html}"
    );
    let download = format!("/tra-cuu/{first}/ket-qua/{kq}");
    let (status, ct, bytes) = browser
        .raw(
            &svc,
            form_post(
                &download,
                common::http::form(&[("csrf", &csrf), ("pin", &pin)]),
            ),
        )
        .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    assert_eq!(bytes, result_pdf);
    // A wrong pin: the lookup's answer, not the file; no token: refused.
    let (status, html) = browser
        .page(
            &svc,
            form_post(
                &download,
                common::http::form(&[("csrf", &csrf), ("pin", "AAAAAA")]),
            ),
        )
        .await;
    assert_eq!(status, 404);
    assert!(
        html.contains("Mã hồ sơ hoặc mã tra cứu không đúng"),
        "{html}"
    );
    let (status, _) = browser
        .page(
            &svc,
            form_post(&download, common::http::form(&[("pin", &pin)])),
        )
        .await;
    assert_eq!(status, 403);

    // A second dossier of the same applicant: its one paper is the result, by reference.
    let blobs_before = count(&app, "blobs");
    let reuse_body = |doc: &str, id: &str| {
        json!({
            "procedure_code": COPY, "channel": "counter",
            "applicant": {"full_name": "Đỗ Minh Khoa", "id_number": id},
            "papers": [{"name": "Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao",
                        "kind": "original", "reuse_document_id": doc}]
        })
    };
    // Refused: another applicant's document, an unknown one, a document without an
    // electronic copy.
    for (doc, id) in [(kq.as_str(), "001095000001"), ("KHONG-CO", APPLICANT)] {
        let (status, b) = receive(&svc, &clerk, reuse_body(doc, id)).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (422, Some("invalid_reuse")),
            "{doc} {id}: {b}"
        );
    }
    let (status, other) = receive(&svc, &clerk, birth_intake(APPLICANT)).await;
    assert_eq!(status, 201);
    let other = other["code"].as_str().unwrap().to_string();
    let leader = login(&svc, "leader1").await;
    event(
        &svc,
        &leader,
        &other,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    let (status, b) = receive(&svc, &clerk, reuse_body(&format!("{other}-KQ1"), APPLICANT)).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_reuse")),
        "no electronic copy: {b}"
    );

    let (status, r2) = receive(&svc, &clerk, reuse_body(&kq, APPLICANT)).await;
    assert_eq!(status, 201, "{r2}");
    let second = r2["code"].as_str().unwrap().to_string();
    let (_, d2) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{second}"))).await;
    assert_eq!(d2["papers"][0]["reuse_document_id"], kq.as_str());
    assert_eq!(
        (d2["reused"].as_bool(), d2["digitised"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(d2["files"], json!([]));
    assert_eq!(d2["events"][0]["data"]["reused"], json!([kq]));
    // No file copied: the same three objects, the same blob rows.
    assert_eq!(files_under(&objects).len(), 3);
    assert_eq!(count(&app, "blobs"), blobs_before);
    assert!(app
        .store
        .verify_audit_chain(&app.keys.audit)
        .unwrap()
        .problems
        .is_empty());
}

#[actix_rt::test]
async fn a_second_dossier_reuses_the_first_result_without_copying_on_sqlite() {
    reuse_without_copying(common::TestDb::sqlite()).await;
}

#[actix_rt::test]
#[ignore = "needs PostgreSQL"]
async fn a_second_dossier_reuses_the_first_result_without_copying_on_postgres() {
    reuse_without_copying(common::TestDb::postgres()).await;
}

#[actix_rt::test]
async fn hostile_uploads_are_refused_and_leave_nothing() {
    let db = common::TestDb::sqlite();
    let app = start(&db, Some(64 * 1024));
    let svc = service(&app).await;
    let clerk = login(&svc, "clerk1").await;
    let (_, r) = receive(&svc, &clerk, birth_intake(APPLICANT)).await;
    let code = r["code"].as_str().unwrap().to_string();
    let exe = {
        let mut b = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
        b.extend_from_slice(&[0u8; 500]);
        b
    };
    let truncated = {
        let p = pdf("cắt cụt");
        p[..p.len() - 12].to_vec()
    };
    let big = {
        let mut b = b"%PDF-1.4\n".to_vec();
        b.resize(200 * 1024, b'x');
        b.extend_from_slice(b"\n%%EOF\n");
        b
    };
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "wrong magic bytes",
            "scan.pdf",
            exe,
            415,
            "unsupported_file_type",
        ),
        (
            "HTML named .png",
            "anh.png",
            html,
            415,
            "unsupported_file_type",
        ),
        (
            "truncated PDF",
            "scan.pdf",
            truncated,
            422,
            "truncated_file",
        ),
        (
            "path traversal",
            "../../etc/passwd.pdf",
            pdf("x"),
            422,
            "invalid_file_name",
        ),
        (
            "a directory in the name",
            "ho-so/scan.pdf",
            pdf("x"),
            422,
            "invalid_file_name",
        ),
        // A control character breaks the part's headers before the name is even read.
        (
            "a control character",
            "scan\u{1}.pdf",
            pdf("x"),
            400,
            "invalid_multipart",
        ),
        ("zero bytes", "rong.pdf", Vec::new(), 422, "empty_file"),
        ("over the limit", "lon.pdf", big, 413, "file_too_large"),
    ];
    for (what, name, bytes, want_status, want_code) in cases {
        let (status, b) = upload(&svc, &clerk, &code, "paper=1", name, &bytes).await;
        assert_eq!(
            (status, b["error"].as_str()),
            (want_status, Some(want_code)),
            "{what}: {b}"
        );
        assert!(
            !b["message"].as_str().unwrap_or_default().is_empty(),
            "{what}: a message"
        );
    }
    // Malformed requests: a body with no part at all, a body cut in the middle of the
    // file, two files, an unknown part, no target, an unknown paper.
    let (status, b) = send(
        &svc,
        upload_req(
            &clerk,
            &format!("/api/v1/dossiers/{code}/files?paper=1"),
            format!("--{BOUNDARY}--\r\n").into_bytes(),
        ),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (400, Some("incomplete_upload")),
        "{b}"
    );
    let mut cut = multipart(&[("file", "a.pdf", &pdf("a"))]);
    cut.truncate(cut.len() - 60);
    let (status, b) = send(
        &svc,
        upload_req(
            &clerk,
            &format!("/api/v1/dossiers/{code}/files?paper=1"),
            cut,
        ),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (400, Some("incomplete_upload")),
        "{b}"
    );
    let two = multipart(&[("file", "a.pdf", &pdf("a")), ("file", "b.pdf", &pdf("b"))]);
    let (status, b) = send(
        &svc,
        upload_req(
            &clerk,
            &format!("/api/v1/dossiers/{code}/files?paper=1"),
            two,
        ),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (400, Some("too_many_files")),
        "{b}"
    );
    let odd = multipart(&[("note", "a.pdf", &pdf("a"))]);
    let (status, b) = send(
        &svc,
        upload_req(
            &clerk,
            &format!("/api/v1/dossiers/{code}/files?paper=1"),
            odd,
        ),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (400, Some("invalid_multipart")),
        "{b}"
    );
    let (status, b) = upload(&svc, &clerk, &code, "x=1", "a.pdf", &pdf("a")).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (400, Some("invalid_target")),
        "{b}"
    );
    let (status, b) = upload(&svc, &clerk, &code, "paper=9", "a.pdf", &pdf("a")).await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_paper")),
        "{b}"
    );
    // Another ward's clerk does not see the dossier at all.
    let other = login(&svc, "clerk2").await;
    let (status, _) = upload(&svc, &other, &code, "paper=1", "a.pdf", &pdf("a")).await;
    assert_eq!(status, 404);

    // Nothing on disk, nothing in the database.
    let root = db.dir.path().join("files");
    assert_eq!(files_under(&root), Vec::<std::path::PathBuf>::new());
    assert_eq!(
        (
            count(&app, "blobs"),
            count(&app, "dossier_files"),
            count(&app, "documents")
        ),
        (0, 0, 0)
    );
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(d["files"], json!([]));

    // And a good upload still works afterwards; the same content twice is stored once.
    let (status, a) = upload(&svc, &clerk, &code, "paper=1", "scan.pdf", &pdf("ok")).await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = upload(&svc, &clerk, &code, "paper=2", "scan-lai.pdf", &pdf("ok")).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(a["sha256"], b["sha256"]);
    assert_eq!(files_under(&root.join("objects")).len(), 1);
    assert_eq!((count(&app, "blobs"), count(&app, "dossier_files")), (1, 2));
    // Downloads carry the name and refuse to be sniffed into something else.
    let res = test::call_service(&svc, get(&clerk, a["url"].as_str().unwrap()).to_request()).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers().get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(res
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("scan.pdf"));
}

#[actix_rt::test]
async fn a_crash_between_writing_and_committing_leaves_an_orphan_that_is_swept() {
    let db = common::TestDb::sqlite();
    let app = start(&db, None);
    let svc = service(&app).await;
    let clerk = login(&svc, "clerk1").await;
    let (_, r) = receive(&svc, &clerk, birth_intake(APPLICANT)).await;
    let code = r["code"].as_str().unwrap().to_string();
    let (status, kept) = upload(&svc, &clerk, &code, "paper=1", "scan.pdf", &pdf("kept")).await;
    assert_eq!(status, 201);

    // The process writes the content, then dies before its transaction commits.
    let mut u = app.files.begin(app.settings.max_upload_bytes).unwrap();
    u.write(&pdf("written, never committed")).unwrap();
    let orphan = u.finish().unwrap();
    // Nothing refers to it: no row in the database, nothing in the dossier.
    assert_eq!(count(&app, "blobs"), 1);
    let (_, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(d["files"].as_array().unwrap().len(), 1);
    assert!(app.files.exists(&orphan.sha256).unwrap());

    // Within the grace period (an upload may be between writing and committing) the sweep
    // leaves it; after it, a dry run lists it and --apply removes it, keeping the rest.
    let now = chrono::Utc::now();
    let report = app.archive_sweep(false, now).unwrap();
    assert!(report.removals.is_empty(), "{report:?}");
    let later = now + chrono::Duration::hours(25);
    let report = app.archive_sweep(false, later).unwrap();
    let listed: Vec<(&str, &str)> = report
        .removals
        .iter()
        .map(|r| (r.sha256.as_str(), r.reason))
        .collect();
    assert_eq!(listed, [(orphan.sha256.as_str(), "orphan")]);
    assert!(
        app.files.exists(&orphan.sha256).unwrap(),
        "a dry run removes nothing"
    );
    let report = app.archive_sweep(true, later).unwrap();
    assert_eq!(report.removals.len(), 1);
    assert!(!app.files.exists(&orphan.sha256).unwrap());
    assert!(app.files.exists(kept["sha256"].as_str().unwrap()).unwrap());
    let (status, _, _) = send_raw(&svc, get(&clerk, kept["url"].as_str().unwrap())).await;
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn content_past_retention_is_removed_and_permanent_results_stay() {
    let db = common::TestDb::sqlite();
    let app = start(&db, None);
    let svc = service(&app).await;
    let clerk = login(&svc, "clerk1").await;
    // A certified copy (5 years) with its scan, finished; a birth registration (permanent)
    // with its electronic result.
    let (status, r) = receive(
        &svc,
        &clerk,
        json!({"procedure_code": COPY, "channel": "counter",
               "applicant": {"full_name": "Trần Văn Hùng", "id_number": "001080001234"},
               "papers": [{"name": "Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao", "kind": "original"}]}),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let copy = r["code"].as_str().unwrap().to_string();
    let (_, scan) = upload(
        &svc,
        &clerk,
        &copy,
        "paper=1",
        "ban-chinh.pdf",
        &pdf("bản chính"),
    )
    .await;
    let (_, r) = receive(&svc, &clerk, birth_intake(APPLICANT)).await;
    let birth = r["code"].as_str().unwrap().to_string();
    let leader = login(&svc, "leader1").await;
    for c in [&copy, &birth] {
        let (status, b) = event(
            &svc,
            &leader,
            c,
            json!({"type": "decide", "outcome": "approved"}),
        )
        .await;
        assert_eq!(status, 201, "{b}");
    }
    let (_, kq) = upload(
        &svc,
        &leader,
        &birth,
        "result",
        "khai-sinh.pdf",
        &pdf("khai sinh"),
    )
    .await;
    let (_, kq_copy) = upload(
        &svc,
        &leader,
        &copy,
        "result",
        "ban-sao.pdf",
        &pdf("bản sao"),
    )
    .await;
    for c in [&copy, &birth] {
        let (status, _) = event(
            &svc,
            &clerk,
            c,
            json!({"type": "return", "channel": "counter"}),
        )
        .await;
        assert_eq!(status, 201);
    }
    // Four years on nothing has expired; six years on the certified copy's scan and result
    // have (finished 02/11/2026 + 5 years < 2032), the birth certificate never does.
    let four = local("2030-11-02T08:00");
    assert!(app.archive_sweep(false, four).unwrap().removals.is_empty());
    let six = local("2032-11-03T08:00");
    let report = app.archive_sweep(true, six).unwrap();
    let mut removed: Vec<&str> = report.removals.iter().map(|r| r.sha256.as_str()).collect();
    removed.sort();
    let mut expected = vec![
        scan["sha256"].as_str().unwrap(),
        kq_copy["sha256"].as_str().unwrap(),
    ];
    expected.sort();
    assert_eq!(removed, expected);
    assert!(report.removals.iter().all(|r| r.reason == "expired"));
    assert!(app.files.exists(kq["sha256"].as_str().unwrap()).unwrap());
    // The removed content answers 410 Gone; the rows stay for the record.
    app.clock.set(six);
    let clerk = login(&svc, "clerk1").await;
    let (status, b) = send(&svc, get(&clerk, scan["url"].as_str().unwrap())).await;
    assert_eq!((status, b["error"].as_str()), (410, Some("file_removed")));
    let (status, _, _) = send_raw(&svc, get(&clerk, kq["url"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(count(&app, "dossier_files"), 3);
    let removals = {
        let mut conn = app.store.conn().unwrap();
        motcua::store::schema::audit_log::table
            .filter(motcua::store::schema::audit_log::action.eq("archive.remove"))
            .count()
            .get_result::<i64>(&mut *conn)
            .unwrap()
    };
    assert_eq!(removals, 2);
}
