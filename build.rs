//! Lists the files under `static/` so the binary embeds them (`src/web/assets.rs`):
//! one binary stays the whole install.

use std::path::Path;

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("static/ is readable")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, root, out);
        } else {
            let rel = p.strip_prefix(root).expect("under static/");
            let rel = rel.to_string_lossy().replace('\\', "/");
            // Provenance notes and checksums stay in the repository, not in the binary.
            if rel.ends_with(".md") || rel.ends_with(".sha256") {
                continue;
            }
            out.push(rel);
        }
    }
}

fn main() {
    // The directory of this run, not `env!` (the directory this script was compiled in): a
    // build script binary reused from another checkout (a copied `target/`, a moved
    // repository) would otherwise list that checkout's files, and a file added here would
    // be missing from the binary ("no static file …").
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("static");
    println!("cargo:rerun-if-changed=static");
    println!("cargo:rerun-if-changed=templates");
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    let mut code = String::from("&[\n");
    for f in &files {
        code.push_str(&format!(
            "    ({f:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/static/{f}\"))),\n"
        ));
    }
    code.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("static_files.rs");
    std::fs::write(out, code).expect("writing static_files.rs");
}
