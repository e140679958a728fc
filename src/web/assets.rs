//! Static files (styles, scripts, fonts), embedded in the binary at build time and served
//! under a name that carries a hash of their content, e.g.
//! `/static/app.3f2a91c0d4.css`, with a one-year immutable cache lifetime: a new release
//! changes the name, so a browser never keeps an old file. Style sheets have their
//! `url("…")` references rewritten to the hashed names at start.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

const FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/static_files.rs"));

/// One served file.
pub struct Asset {
    /// The path under `static/`, e.g. `fonts/fonts.css`.
    pub path: &'static str,
    /// The URL with the content hash, e.g. `/static/fonts/fonts.0a1b2c3d4e.css`.
    pub url: String,
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

pub struct Assets {
    by_path: HashMap<&'static str, usize>,
    by_url: HashMap<String, usize>,
    files: Vec<Asset>,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "woff2" => "font/woff2",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "LICENSE" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hashed_url(path: &str, bytes: &[u8]) -> String {
    let hash = hex::encode(&Sha256::digest(bytes)[..5]);
    match path.rfind('.') {
        Some(dot) if !path[dot..].contains('/') => {
            format!("/static/{}.{hash}{}", &path[..dot], &path[dot..])
        }
        _ => format!("/static/{path}.{hash}"),
    }
}

/// Rewrites `url("name")` in a style sheet at `dir` to the hashed URL of `dir/name`.
fn rewrite_css(css: &str, dir: &str, urls: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("url(\"") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let end = rest.find('"').unwrap_or(rest.len());
        let name = &rest[..end];
        let full = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        match urls.get(&full) {
            Some(u) => out.push_str(u),
            None => out.push_str(name),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl Assets {
    fn build() -> Self {
        // Non-CSS files first: style sheets refer to them.
        let mut urls: HashMap<String, String> = HashMap::new();
        let mut files = Vec::new();
        for (path, bytes) in FILES.iter().filter(|(p, _)| !p.ends_with(".css")) {
            let url = hashed_url(path, bytes);
            urls.insert(path.to_string(), url.clone());
            files.push(Asset {
                path,
                url,
                bytes: bytes.to_vec(),
                content_type: content_type(path),
            });
        }
        for (path, bytes) in FILES.iter().filter(|(p, _)| p.ends_with(".css")) {
            let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            let css = rewrite_css(&String::from_utf8_lossy(bytes), dir, &urls);
            let url = hashed_url(path, css.as_bytes());
            files.push(Asset {
                path,
                url,
                bytes: css.into_bytes(),
                content_type: content_type(path),
            });
        }
        let by_path = files.iter().enumerate().map(|(i, a)| (a.path, i)).collect();
        let by_url = files
            .iter()
            .enumerate()
            .map(|(i, a)| (a.url.clone(), i))
            .collect();
        Assets {
            by_path,
            by_url,
            files,
        }
    }

    /// The URL of a file under `static/`. Panics on a name that is not there: templates
    /// name their assets literally, and a test renders every page.
    pub fn url(&self, path: &str) -> &str {
        match self.by_path.get(path) {
            Some(&i) => &self.files[i].url,
            None => panic!("no static file {path}"),
        }
    }

    pub fn by_url(&self, url: &str) -> Option<&Asset> {
        self.by_url.get(url).map(|&i| &self.files[i])
    }

    pub fn all(&self) -> &[Asset] {
        &self.files
    }
}

/// The embedded files, built once.
pub fn assets() -> &'static Assets {
    static ASSETS: OnceLock<Assets> = OnceLock::new();
    ASSETS.get_or_init(Assets::build)
}

/// The hashed URL of a static file, for templates: `{{ asset("app.css") }}`.
pub fn asset(path: &str) -> &'static str {
    assets().url(path)
}

/// `GET /static/{tail}`: a file by its hashed URL, cached for a year.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    match assets().by_url(req.path()) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(a.bytes.clone()),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .insert_header(("Cache-Control", "no-store"))
            .body("Không tìm thấy tệp"),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{tail:.*}", web::get().to(serve));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_keep_the_extension() {
        let u = hashed_url("fonts/a.woff2", b"x");
        assert!(u.starts_with("/static/fonts/a."), "{u}");
        assert!(u.ends_with(".woff2"), "{u}");
    }

    #[test]
    fn style_sheets_point_at_hashed_fonts() {
        let a = assets();
        let css = a.by_url(a.url("fonts/fonts.css")).expect("served");
        let text = String::from_utf8_lossy(&css.bytes);
        assert!(text.contains("url(\"/static/fonts/noto-sans-vietnamese-400-normal."));
        assert!(!text.contains("url(\"noto-sans"));
        // Every URL in every style sheet is served.
        for f in a.all().iter().filter(|f| f.path.ends_with(".css")) {
            let text = String::from_utf8_lossy(&f.bytes);
            for part in text.split("url(\"").skip(1) {
                let u = &part[..part.find('"').unwrap()];
                assert!(a.by_url(u).is_some(), "{} refers to {u}", f.path);
            }
        }
    }
}
