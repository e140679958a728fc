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

#[test]
fn no_two_modules_give_one_schema_name_two_meanings() {
    let mut seen: std::collections::BTreeMap<String, Value> = Default::default();
    let mut clashes = vec![];
    for part in motcua::http::openapi::parts() {
        let Some(schemas) = part["components"]["schemas"].as_object() else {
            continue;
        };
        for (name, schema) in schemas {
            match seen.get(name) {
                Some(first) if first != schema => clashes.push(name.clone()),
                Some(_) => {}
                None => {
                    seen.insert(name.clone(), schema.clone());
                }
            }
        }
    }
    // The parts do carry their schemas (utoipa collects those their paths name).
    assert!(seen.len() > 40, "only {} schemas in the parts", seen.len());
    assert!(
        clashes.is_empty(),
        "schema names defined differently by two modules (rename one): {clashes:?}"
    );
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

/// Every value of attribute `name` in `html` (double-quoted), in order.
fn attribute_values<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').expect("closing quote")]
        })
        .collect()
}

/// `GET /api/docs` (issue #19, item 1): a Vietnamese page that loads nothing but files of
/// this server (Redoc and the fonts vendored under `static/`, its own style sheet) and the
/// description; every one of them is served; its own content-security policy, without
/// `'unsafe-inline'` or `'unsafe-eval'`. The rendering itself is `tests/ui.rs`'s
/// `the_api_reference_renders_from_this_server_alone`.
#[actix_web::test]
async fn the_reference_page_loads_only_files_of_this_server() {
    use actix_web::test::{call_service, read_body, TestRequest};
    let db = common::TestDb::sqlite();
    let app = common::app_for(&db);
    let svc = common::http::service(&app).await;

    let res = call_service(&svc, TestRequest::get().uri("/api/docs").to_request()).await;
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let ctype = header("content-type");
    assert!(ctype.starts_with("text/html"), "{ctype}");
    let csp = header("content-security-policy");
    assert_eq!(csp, motcua::web::api_docs::CSP);
    for bad in ["'unsafe-inline'", "'unsafe-eval'", "http:", "https:", "*"] {
        assert!(!csp.contains(bad), "the page's CSP allows {bad}: {csp}");
    }
    for must in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(must), "the page's CSP lacks {must}: {csp}");
    }
    // The other pages keep theirs.
    assert_ne!(csp, motcua::web::CSP);
    assert_eq!(header("x-content-type-options"), "nosniff");
    let html = String::from_utf8(read_body(res).await.to_vec()).unwrap();

    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    assert!(
        html.contains("<title>Tài liệu API — motcua</title>"),
        "{html}"
    );
    // Nothing names another host: no scheme, no protocol-relative URL.
    for bad in ["http:", "https:", "\"//", "'//"] {
        assert!(
            !html.contains(bad),
            "the page names another host ({bad}):\n{html}"
        );
    }
    // The JSON is linked for download, also without script.
    let noscript = &html[html.find("<noscript>").expect("a <noscript>")
        ..html.find("</noscript>").expect("</noscript>")];
    assert!(noscript.contains("JavaScript"), "{noscript}");
    assert!(
        noscript.contains("href=\"/api/v1/openapi.json\""),
        "{noscript}"
    );
    assert!(attribute_values(&html, "href").contains(&"/api/v1/openapi.json"));
    assert_eq!(
        attribute_values(&html, "spec-url"),
        vec!["/api/v1/openapi.json"]
    );

    // Scripts and style sheets: files under /static/ only, and Redoc among them.
    let scripts = attribute_values(&html, "src");
    let sheets: Vec<&str> = html
        .match_indices("<link ")
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()])
        .map(|tag| attribute_values(tag, "href")[0])
        .collect();
    assert!(
        scripts
            .iter()
            .any(|s| s.starts_with("/static/vendor/redoc.standalone.")),
        "{scripts:?}"
    );
    assert_eq!(sheets.len(), 2, "{sheets:?}");
    let mut assets: Vec<String> = scripts
        .iter()
        .chain(&sheets)
        .map(|s| s.to_string())
        .collect();
    for a in &assets {
        assert!(
            a.starts_with("/static/"),
            "the page loads {a}, not a /static/ file"
        );
    }
    // Every link of the page stays on this server.
    for h in attribute_values(&html, "href") {
        assert!(
            (h.starts_with('/') && !h.starts_with("//")) || h.starts_with('#'),
            "link {h} leaves the server"
        );
    }

    // Each is served; the style sheets' url(...)s (the fonts) too, from /static/.
    let mut i = 0;
    while i < assets.len() {
        let url = assets[i].clone();
        let res = call_service(&svc, TestRequest::get().uri(&url).to_request()).await;
        assert_eq!(res.status(), 200, "{url}");
        let ctype = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = read_body(res).await;
        assert!(!body.is_empty(), "{url} is empty");
        if url.ends_with(".css") {
            assert!(ctype.starts_with("text/css"), "{url}: {ctype}");
            let css = String::from_utf8(body.to_vec()).unwrap();
            for part in css.split("url(").skip(1) {
                let u = part[..part.find(')').unwrap()].trim_matches(['"', '\'']);
                assert!(u.starts_with("/static/"), "{url} refers to {u}");
                assets.push(u.to_string());
            }
        } else if url.ends_with(".js") {
            assert!(ctype.starts_with("text/javascript"), "{url}: {ctype}");
        }
        i += 1;
    }
    assert!(
        assets.iter().any(|a| a.ends_with(".woff2")),
        "no font reached: {assets:?}"
    );

    // And the description it renders.
    let (status, ctype, body) =
        common::http::send_raw(&svc, TestRequest::get().uri("/api/v1/openapi.json")).await;
    assert_eq!(status, 200);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(doc["info"]["title"], "motcua API");
}
