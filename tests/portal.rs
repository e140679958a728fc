//! Online dossiers from a portal: submitted, then received officially by the one-stop desk
//! (NĐ 118/2025 Art. 17(2)–(3)), then the same machine as at the counter; the portal reads
//! the statuses of the dossiers it submitted (and only those) and reports online payments.

mod common;

use common::http::{event, get, login, portal_token, post, send, service, users};
use common::local;
use motcua::service::Role;
use serde_json::{json, Value};

const CITY: &str = "000.00.00.H26";
const COMMUNE: &str = "000.00.51.H26";
const BIRTH: &str = "1.001193.000.00.00.H26";

#[actix_rt::test]
async fn a_portal_follows_the_statuses_of_its_dossiers() {
    let db = common::TestDb::sqlite();
    let app = common::app_at(&db, local("2026-11-01T07:00"));
    users(
        &app,
        &[
            ("portal.dvc", Role::Portal, CITY),
            ("portal.other", Role::Portal, CITY),
            ("clerk1", Role::Clerk, COMMUNE),
            ("leader1", Role::Leader, COMMUNE),
        ],
    );
    let svc = service(&app).await;

    // Submitted online on Sunday evening: not received yet; the desk answers within 8
    // working hours, by Monday 17:00. No statutory due moment until then.
    app.clock.set(local("2026-11-01T20:15"));
    let portal = portal_token(&svc, "portal.dvc").await;
    let (status, r) = send(
        &svc,
        post(
            &portal,
            "/api/v1/dossiers",
            json!({
                "procedure_code": BIRTH, "channel": "online", "receiving_agency": COMMUNE,
                "applicant": {"full_name": "Vũ Hải Yến", "id_number": "001195001122"},
                "papers": [
                    {"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                    {"name": "Giấy chứng sinh", "kind": "original"}
                ]
            }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    let code = r["code"].as_str().unwrap().to_string();
    // Submitted to the ward's counter: the ward's code, the ward competent.
    assert!(code.starts_with(COMMUNE), "{code}");
    assert_eq!(r["competent_agency"], COMMUNE);
    assert_eq!(
        (
            r["status"].as_str(),
            r["submitted_at"].as_str(),
            r["acknowledge_by"].as_str(),
        ),
        (
            Some("submitted"),
            Some("2026-11-01T20:15:00+07:00"),
            Some("2026-11-02T17:00:00+07:00")
        )
    );
    assert!(r["received_at"].is_null() && r["due_at"].is_null(), "{r}");

    let changes = |tok: String, cursor: Option<String>| {
        let uri = match cursor {
            Some(c) => format!("/api/v1/portal/changes?cursor={c}"),
            None => "/api/v1/portal/changes".to_string(),
        };
        get(&tok, &uri)
    };
    let (status, b) = send(&svc, changes(portal.clone(), None)).await;
    assert_eq!(status, 200, "{b}");
    let items = b["changes"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["code"].as_str(), items[0]["status"].as_str()),
        (Some(code.as_str()), Some("submitted"))
    );
    assert!(items[0]["due_at"].is_null(), "{b}");
    let cursor = b["cursor"].as_str().unwrap().to_string();
    // Nothing new since.
    let (_, b) = send(&svc, changes(portal.clone(), Some(cursor.clone()))).await;
    assert_eq!(b["changes"], json!([]));
    assert_eq!(b["cursor"], cursor.as_str());

    // The portal reports the online payment of the fee.
    app.clock.set(local("2026-11-01T20:20"));
    let (status, b) = event(
        &svc,
        &portal,
        &code,
        json!({"type": "payment", "amount": 8000, "method": "online", "reference": "PAYGOV-2026-000778"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    // A portal records nothing else.
    let (status, _) = event(&svc, &portal, &code, json!({"type": "accept"})).await;
    assert_eq!(status, 403);

    // Staff of the competent ward see it; the ward's clerk receives it officially Monday
    // 08:05, within the 8 working hours: the same-day time runs from now, due 17:00.
    app.clock.set(local("2026-11-02T08:05"));
    let clerk = login(&svc, "clerk1").await;
    let (status, b) = event(&svc, &clerk, &code, json!({"type": "receive"})).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(
        (
            b["dossier"]["status"].as_str(),
            b["dossier"]["received_at"].as_str(),
            b["dossier"]["due_at"].as_str(),
        ),
        (
            Some("received"),
            Some("2026-11-02T08:05:00+07:00"),
            Some("2026-11-02T17:00:00+07:00")
        )
    );
    let portal = portal_token(&svc, "portal.dvc").await;
    let (_, b) = send(&svc, changes(portal.clone(), Some(cursor.clone()))).await;
    assert_eq!(
        (
            b["changes"][0]["status"].as_str(),
            b["changes"][0]["due_at"].as_str()
        ),
        (Some("received"), Some("2026-11-02T17:00:00+07:00")),
        "the feed reports the receipt and the due moment: {b}"
    );
    let (status, d) = send(&svc, get(&clerk, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(status, 200, "{d}");
    let payments: Vec<&Value> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "payment")
        .collect();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["data"]["method"], "online");
    assert_eq!(payments[0]["actor"], "portal.dvc");

    // Another portal sees neither the dossier nor its changes; staff cannot use the feed.
    let other = portal_token(&svc, "portal.other").await;
    let (status, _) = send(&svc, get(&other, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!(status, 404);
    let (_, b) = send(&svc, changes(other, None)).await;
    assert_eq!(b["changes"], json!([]));
    let (status, b) = send(&svc, changes(clerk.clone(), None)).await;
    assert_eq!((status, b["error"].as_str()), (403, Some("forbidden")));
    let portal = portal_token(&svc, "portal.dvc").await;
    let (status, b) = send(&svc, changes(portal.clone(), Some("garbage".into()))).await;
    assert_eq!((status, b["error"].as_str()), (400, Some("invalid_cursor")));

    // The ward decides and returns online; the portal reads its own dossier, and its
    // change feed resumes exactly from the cursor.
    app.clock.set(local("2026-11-02T09:00"));
    let leader = login(&svc, "leader1").await;
    let (status, b) = event(
        &svc,
        &leader,
        &code,
        json!({"type": "decide", "outcome": "approved"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    app.clock.set(local("2026-11-02T09:30"));
    let clerk = login(&svc, "clerk1").await;
    let (status, b) = event(
        &svc,
        &clerk,
        &code,
        json!({"type": "return", "channel": "online"}),
    )
    .await;
    assert_eq!(status, 201, "{b}");
    let portal = portal_token(&svc, "portal.dvc").await;
    let (status, d) = send(&svc, get(&portal, &format!("/api/v1/dossiers/{code}"))).await;
    assert_eq!((status, d["status"].as_str()), (200, Some("returned")));
    let (_, b) = send(&svc, changes(portal.clone(), Some(cursor))).await;
    let items = b["changes"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{b}");
    assert_eq!(
        (
            items[0]["code"].as_str(),
            items[0]["status"].as_str(),
            items[0]["outcome"].as_str(),
            items[0]["finished_at"].as_str(),
            items[0]["result_ready"].as_bool(),
        ),
        (
            Some(code.as_str()),
            Some("returned"),
            Some("on_time"),
            Some("2026-11-02T09:30:00+07:00"),
            Some(true)
        )
    );
    // A clerk cannot receive for another agency.
    let (status, b) = send(
        &svc,
        post(
            &clerk,
            "/api/v1/dossiers",
            json!({"procedure_code": BIRTH, "channel": "counter", "receiving_agency": CITY,
                   "applicant": {"full_name": "Vũ Hải Yến", "id_number": "001195001122"},
                   "papers": [{"name": "Tờ khai đăng ký khai sinh theo mẫu", "kind": "original"},
                              {"name": "Giấy chứng sinh", "kind": "original"}]}),
        ),
    )
    .await;
    assert_eq!(
        (status, b["error"].as_str()),
        (422, Some("invalid_receiving_agency"))
    );
}
