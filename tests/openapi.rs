//! The API's published description (issue #19, item 1): OpenAPI 3.1 generated from the
//! code, held to the routes actually served. A route without its description fails here,
//! and so does a description of a route that is not served.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// The routes outside `/api/v1` that the description covers too.
const OTHER_ROUTES: &[(&str, &str)] = &[("GET", "/healthz")];

fn routes() -> BTreeSet<(String, String)> {
    let mut r: BTreeSet<_> = motcua::http::api_route_list().into_iter().collect();
    r.extend(
        OTHER_ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string())),
    );
    r
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = vec![];
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                ops.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    ops
}

/// Resolves a `$ref` inside the document.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => v,
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
}

#[test]
fn every_route_is_described_and_every_description_is_a_route() {
    let doc = motcua::http::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let described: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let served = routes();
    let missing: Vec<_> = served.difference(&described).collect();
    let ghosts: Vec<_> = described.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes served without a description (add #[utoipa::path] to the handler and its \
         module's Doc): {missing:#?}"
    );
    assert!(ghosts.is_empty(), "described but not served: {ghosts:#?}");
}

#[test]
fn every_operation_says_what_it_does_takes_and_answers() {
    let doc = motcua::http::openapi::document();
    let mut faults = vec![];
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let at = format!("{method} {path}");
        if text(op, "summary").is_empty() {
            faults.push(format!("{at}: no summary (the handler's doc comment)"));
        }
        if text(op, "description").is_empty() {
            faults.push(format!(
                "{at}: no description (a paragraph after the summary)"
            ));
        }
        if op["tags"].as_array().is_none_or(|t| t.is_empty()) {
            faults.push(format!("{at}: no tag"));
        }
        let id = text(op, "operationId").to_string();
        if !ids.insert(id.clone()) {
            faults.push(format!("{at}: operationId {id} used twice"));
        }
        // Every `{name}` of the template is a declared path parameter, and back.
        let in_template: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n.to_string()))
            .collect();
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|a| a.iter().map(|p| resolve(&doc, p)).collect())
            .unwrap_or_default();
        let declared: BTreeSet<String> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| text(p, "name").to_string())
            .collect();
        if in_template != declared {
            faults.push(format!(
                "{at}: path parameters {in_template:?} but declared {declared:?}"
            ));
        }
        for p in &params {
            if text(p, "description").is_empty() {
                faults.push(format!(
                    "{at}: parameter {} without a description",
                    p["name"]
                ));
            }
        }
        if method == "POST"
            && op.get("requestBody").is_none()
            && !text(op, "description").contains("no body")
        {
            faults.push(format!(
                "{at}: a POST without a requestBody (or 'no body' in its description)"
            ));
        }
        let responses = op["responses"].as_object().expect("responses");
        if !responses.keys().any(|s| s.starts_with('2')) {
            faults.push(format!("{at}: no success answer"));
        }
        for (status, r) in responses {
            let r = resolve(&doc, r);
            if text(r, "description").is_empty() {
                faults.push(format!("{at} {status}: no description"));
            }
            if status != "204" && status != "304" && r.get("content").is_none() {
                faults.push(format!("{at} {status}: no content type or schema"));
            }
            // An error answer names its error codes (`code`), as the API's errors do.
            if (status.starts_with('4') || status.starts_with('5'))
                && !text(r, "description").contains('`')
            {
                faults.push(format!("{at} {status}: no error code in its description"));
            }
        }
        for s in ["400", "500", "503"] {
            if path.starts_with("/api/v1/") && !responses.contains_key(s) {
                faults.push(format!("{at}: {s} not documented"));
            }
        }
        let secured = op["security"].as_array().is_some_and(|s| {
            s.iter()
                .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
        });
        if secured && !responses.contains_key("401") {
            faults.push(format!("{at}: needs a token but documents no 401"));
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn every_reference_resolves_and_the_security_schemes_are_there() {
    let doc = motcua::http::openapi::document();
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r);
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut refs = vec![];
    walk(&doc, &mut refs);
    for r in refs {
        assert!(
            doc.pointer(r.trim_start_matches('#')).is_some(),
            "dangling $ref {r}"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    for s in ["staff_token", "portal_token"] {
        assert_eq!(schemes[s]["type"], "http", "{s}");
        assert_eq!(schemes[s]["scheme"], "bearer", "{s}");
    }
    // Every requirement names a declared scheme.
    for (method, path, op) in operations(&doc) {
        for req in op["security"].as_array().into_iter().flatten() {
            for name in req.as_object().unwrap().keys() {
                assert!(
                    schemes.get(name).is_some(),
                    "{method} {path}: unknown security scheme {name}"
                );
            }
        }
    }
}

#[actix_web::test]
async fn the_description_is_served_as_json() {
    let db = common::TestDb::sqlite();
    let app = common::app_for(&db);
    let svc = common::http::service(&app).await;
    let (status, ctype, body) = common::http::send_raw(
        &svc,
        actix_web::test::TestRequest::get().uri("/api/v1/openapi.json"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served, motcua::http::openapi::document());
    assert_eq!(served["info"]["title"], "motcua API");
}
