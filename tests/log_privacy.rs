//! Personal data never reaches a log line (issue #19, item 6). Every server the test suite
//! runs, and every command built by `common::process::motcua`, writes its whole log as
//! JSON lines into `target/test-server-logs/` (`MOTCUA_LOG_FILE`, at `info` and this
//! crate's `debug`). After the whole suite, `.ci/run` runs the ignored test here, which
//! reads them all and fails with every line that holds:
//! - an ID number or a phone number: a run of 9 to 12 digits (CMND 9, CCCD 12, phones 10
//!   or 11), not part of a longer word (a hash) or a decimal fraction (a duration);
//! - an e-mail address (but the server's own sender, `…@motcua.invalid`);
//! - a token: `Bearer …`, or a JWT (`eyJ…`);
//! - a pin: `pin=` (a query string), `"pin":` (a body);
//! - a literal secret of the tests' sources: the passwords, server secrets, portal
//!   secrets, ID numbers, phones and e-mail addresses they send (the fuzzer's seeding,
//!   `tests/schemathesis/seed.py`, included: its server logs there too).
//!
//! `the_scanner_finds_each_kind_of_leak` proves the scanner fails on a leaking line.

mod common;

use std::path::Path;

/// What in `line` is personal data: one description per finding, empty when none.
fn leaks(line: &str, literals: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    // Digit runs: ID numbers and phone numbers.
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run == 0 {
            i += 1;
            continue;
        }
        let before = i.checked_sub(1).map(|k| chars[k]);
        let after = chars.get(i + run).copied();
        let in_word = before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            || after.is_some_and(|c| c.is_alphanumeric() || c == '_');
        let fraction = before == Some('.') && i >= 2 && chars[i - 2].is_ascii_digit();
        if (9..=12).contains(&run) && !in_word && !fraction {
            found.push(format!(
                "an ID or phone number ({run} digits): {}",
                chars[i..i + run].iter().collect::<String>()
            ));
        }
        i += run;
    }
    // E-mail addresses.
    let local = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    for at in (0..chars.len()).filter(|&k| chars[k] == '@') {
        let user: String = chars[..at]
            .iter()
            .rev()
            .take_while(|c| local(**c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let domain: String = chars[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
            .collect();
        let domain = domain.trim_end_matches('.');
        let tld_ok = domain
            .rsplit_once('.')
            .is_some_and(|(_, tld)| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !user.is_empty() && tld_ok && domain != "motcua.invalid" {
            found.push(format!("an e-mail address: {user}@{domain}"));
        }
    }
    let lower = line.to_lowercase();
    if lower.contains("bearer ") {
        found.push("a bearer token".into());
    }
    if let Some(k) = line.find("eyJ") {
        let tail: String = line[k..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if tail.len() >= 20 && tail.contains('.') {
            found.push("a JWT".into());
        }
    }
    for pin in ["pin=", "\"pin\":", "\\\"pin\\\":"] {
        let hit = lower.match_indices(pin).any(|(k, _)| {
            !lower[..k]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        if hit {
            found.push(format!("a pin ({pin})"));
        }
    }
    for l in literals {
        if line.contains(l.as_str()) {
            found.push(format!("a secret the tests send: {l}"));
        }
    }
    found
}

/// The literal secrets and personal data in the tests' sources (the Rust tests', and the
/// fuzzer's seeding in Python, whose dict literals open the same way): the string after
/// each of these openings, if at least 6 characters long.
fn literals_of_tests() -> Vec<String> {
    const OPENINGS: [&str; 10] = [
        "\"password\": \"",
        "PASSWORD: &str = \"",
        "SECRET: &str = \"",
        "\"MOTCUA_SECRET\", \"",
        "\"client_secret\": \"",
        "\"id_number\": \"",
        "\"phone\": \"",
        "\"email\": \"",
        "\"pin\": \"",
        "secret = \\\"",
    ];
    let mut found = std::collections::BTreeSet::new();
    for dir in ["tests", "tests/common", "tests/schemathesis"] {
        let dir = Path::new(common::process::crate_root()).join(dir);
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "rs" && x != "py") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for opening in OPENINGS {
                for (k, _) in text.match_indices(opening) {
                    let rest = &text[k + opening.len()..];
                    let value: String = rest
                        .chars()
                        .take_while(|c| *c != '"' && *c != '\\')
                        .collect();
                    if value.chars().count() >= 6 {
                        found.insert(value);
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

#[test]
fn the_scanner_finds_each_kind_of_leak() {
    let literals = vec!["mat-khau-du-dai".to_string()];
    let clean = [
        r#"{"timestamp":"2026-12-01T03:28:00.123456Z","level":"INFO","message":"request","method":"GET","path":"/api/v1/dossiers/000.00.51.H26-261201-0001","client":"203.0.113.9","status":200,"elapsed_ms":0.123456789012,"target":"motcua::http","span":{"request_id":"4f7c2a9e0b1d3c5e","name":"request"}}"#,
        r#"{"message":"archive sweep removed stored content","sha256":"3a5b000000000000000000000000000000123456789012f00000000000000000"}"#,
        r#"{"message":"starting","database":"postgres://motcua:***@127.0.0.1:5432/motcua_t_1234_5_678901234"}"#,
        r#"{"message":"notification parked","error":"550 5.1.1 <***@example.vn>: rejected","from":"khong-tra-loi@motcua.invalid"}"#,
        r#"{"message":"request","path":"/api/v1/applicants/{id_number}/documents","spinner":"pin"}"#,
    ];
    for line in clean {
        assert_eq!(leaks(line, &literals), Vec::<String>::new(), "{line}");
    }
    for (line, kind) in [
        (
            r#"{"message":"request","path":"/api/v1/applicants/001203004567/documents"}"#,
            "ID or phone",
        ),
        (r#"{"message":"x","phone":"0912345678"}"#, "ID or phone"),
        (r#"{"message":"x","id":"123456789"}"#, "ID or phone"),
        (
            r#"{"message":"parked","error":"550 <lan.pham@example.vn> rejected"}"#,
            "e-mail",
        ),
        (
            r#"{"message":"x","authorization":"Bearer abc.def.ghi"}"#,
            "bearer",
        ),
        (
            r#"{"message":"x","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"}"#,
            "JWT",
        ),
        (
            r#"{"message":"request","path":"/api/v1/public/dossiers/X?pin=123456"}"#,
            "pin",
        ),
        (r#"{"message":"x","body":{"pin":"123456"}}"#, "pin"),
        (r#"{"message":"x","password":"mat-khau-du-dai"}"#, "secret"),
    ] {
        let found = leaks(line, &literals);
        assert!(
            found.iter().any(|f| f.contains(kind)),
            "{kind} not found in {line}: {found:?}"
        );
    }
    // The tests' sources give their secrets.
    let lits = literals_of_tests();
    assert!(
        lits.iter().any(|l| l == "mat-khau-du-dai"),
        "the shared test password: {lits:?}"
    );
    assert!(
        lits.iter().any(|l| l == "fuzz-mat-khau-du-dai-7"),
        "the fuzzer's seeded password (tests/schemathesis/seed.py): {lits:?}"
    );
}

#[test]
#[ignore = "run by .ci/run after the suite"]
fn no_server_log_holds_personal_data() {
    let dir = common::process::server_log_dir();
    let literals = literals_of_tests();
    let mut files = 0;
    let mut lines = 0;
    let mut request_lines = 0;
    let mut offending = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; run the test suite first", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            lines += 1;
            if line.contains(r#""message":"request""#) {
                request_lines += 1;
                if !line.contains(r#""request_id":"#) {
                    offending.push(format!(
                        "{}:{}: a request line without its id: {line}",
                        path.display(),
                        n + 1
                    ));
                }
            }
            let found = leaks(line, &literals);
            if !found.is_empty() {
                let shown: String = line.chars().take(400).collect();
                offending.push(format!(
                    "{}:{}: {}\n    {shown}",
                    path.display(),
                    n + 1,
                    found.join("; ")
                ));
            }
        }
    }
    println!(
        "{files} log files, {lines} lines ({request_lines} request lines) read, {} patterns of the tests' own secrets",
        literals.len()
    );
    assert!(
        files > 0 && request_lines > 0,
        "no server log in {}: run the test suite first",
        dir.display()
    );
    assert!(
        offending.is_empty(),
        "{} log lines hold personal data:\n{}",
        offending.len(),
        offending
            .iter()
            .take(100)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
