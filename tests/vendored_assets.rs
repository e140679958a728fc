//! Vendored browser assets (static/VENDORED.md, tests/vendor/README.md): every file pinned in
//! `static/vendor.sha256` still has its recorded SHA-256, the manifest covers what the pages and
//! the accessibility checks rely on, each licence travels with its files, and the font CSS
//! points only at local files. No network.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(hex, path)` pairs from `static/vendor.sha256`, in `sha256sum` format: 64 lower-case hex
/// digits, two spaces (or a space and `*`), then a path relative to the repository root.
fn manifest() -> Vec<(String, String)> {
    let path = root().join("static/vendor.sha256");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (hash, rest) = line
            .split_at_checked(64)
            .unwrap_or_else(|| panic!("static/vendor.sha256 line {}: too short: {line:?}", n + 1));
        assert!(
            hash.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "static/vendor.sha256 line {}: not a lower-case hex SHA-256: {line:?}",
            n + 1
        );
        let file = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .unwrap_or_else(|| {
                panic!(
                    "static/vendor.sha256 line {}: expected two spaces after the hash: {line:?}",
                    n + 1
                )
            });
        assert!(
            !file.is_empty()
                && !file.starts_with('/')
                && Path::new(file)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
            "static/vendor.sha256 line {}: path must be relative to the repository root: {file:?}",
            n + 1
        );
        entries.push((hash.to_string(), file.to_string()));
    }
    entries
}

#[test]
fn every_vendored_file_matches_its_pinned_sha256() {
    let entries = manifest();
    assert!(!entries.is_empty(), "static/vendor.sha256 lists no files");
    let mut mismatches = Vec::new();
    for (expected, file) in &entries {
        let path = root().join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{file} is listed in static/vendor.sha256 but cannot be read: {e}")
        });
        let actual = hex::encode(Sha256::digest(&bytes));
        if &actual != expected {
            mismatches.push(format!(
                "{file}: manifest says {expected}, file has {actual}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "vendored files differ from static/vendor.sha256 (re-vendor as static/VENDORED.md says, \
         or fix the manifest):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn manifest_covers_htmx_redoc_fonts_and_axe() {
    let files: Vec<String> = manifest().into_iter().map(|(_, f)| f).collect();
    let has = |pred: &dyn Fn(&str) -> bool, what: &str| {
        assert!(
            files.iter().any(|f| pred(f)),
            "static/vendor.sha256 lists no {what}; it lists: {files:?}"
        );
    };
    has(
        &|f| f == "static/vendor/htmx.min.js",
        "static/vendor/htmx.min.js",
    );
    has(
        &|f| f == "static/vendor/redoc.standalone.js",
        "static/vendor/redoc.standalone.js (the /api/docs page)",
    );
    has(
        &|f| f.starts_with("static/fonts/") && f.contains("-vietnamese-") && f.ends_with(".woff2"),
        "vietnamese woff2 under static/fonts/",
    );
    has(
        &|f| f.starts_with("static/fonts/") && f.contains("-latin-") && f.ends_with(".woff2"),
        "latin woff2 under static/fonts/",
    );
    has(
        &|f| f == "tests/vendor/axe.min.js",
        "tests/vendor/axe.min.js",
    );
}

#[test]
fn licence_files_exist_and_are_not_empty() {
    for file in [
        "static/vendor/htmx.LICENSE",
        "static/vendor/redoc.LICENSE",
        "static/vendor/redoc.standalone.js.LICENSE.txt",
        "static/vendor/redoc.worker.LICENSE.txt",
        "static/fonts/OFL.txt",
        "tests/vendor/axe-core.LICENSE",
        "tests/vendor/axe-core.LICENSE-3RD-PARTY.txt",
        "static/VENDORED.md",
    ] {
        let meta = std::fs::metadata(root().join(file))
            .unwrap_or_else(|e| panic!("licence/provenance file {file} is missing: {e}"));
        assert!(
            meta.is_file() && meta.len() > 0,
            "licence/provenance file {file} is empty"
        );
    }
}

#[test]
fn font_css_uses_only_local_vendored_files() {
    let css_path = root().join("static/fonts/fonts.css");
    let css = std::fs::read_to_string(&css_path)
        .unwrap_or_else(|e| panic!("cannot read static/fonts/fonts.css: {e}"));
    assert!(
        !css.contains("http"),
        "static/fonts/fonts.css must not reference any http(s) URL (no CDN): fonts are vendored"
    );
    let pinned: Vec<String> = manifest().into_iter().map(|(_, f)| f).collect();
    let mut urls = 0;
    for chunk in css.split("url(").skip(1) {
        let end = chunk
            .find(')')
            .unwrap_or_else(|| panic!("static/fonts/fonts.css: unterminated url(: {chunk:.40}"));
        let url = chunk[..end].trim().trim_matches(|c| c == '"' || c == '\'');
        assert!(
            !url.is_empty() && !url.contains('/') && !url.contains(':') && url.ends_with(".woff2"),
            "static/fonts/fonts.css: url({url}) must name a .woff2 file beside the CSS"
        );
        let file = format!("static/fonts/{url}");
        assert!(
            pinned.contains(&file),
            "static/fonts/fonts.css uses {file}, which static/vendor.sha256 does not pin"
        );
        urls += 1;
    }
    assert!(urls > 0, "static/fonts/fonts.css has no url(...)");
    assert!(
        css.contains("font-display: swap"),
        "static/fonts/fonts.css: @font-face rules should use font-display: swap"
    );
}
