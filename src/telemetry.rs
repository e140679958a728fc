//! Logging with `tracing`: an `EnvFilter` (`RUST_LOG`, else the configured filter) and
//! logs go to standard error (command output stays on standard output); JSON lines when
//! `MOTCUA_LOG_FORMAT=json` (or `[log] format = "json"`).
//!
//! `MOTCUA_LOG_FILE=PATH` also appends every line as JSON to PATH, under a filter of its
//! own (`MOTCUA_LOG_FILE_FILTER`, default `info`): the test suite keeps each server's log
//! there and greps them all for personal data (`tests/log_privacy.rs`).
//!
//! A request's lines carry its id (the span `request`, field `request_id`; see
//! [`crate::http::log_requests`]). Personal data — ID numbers, phone numbers, e-mail
//! addresses, pins, tokens, passwords — is never logged; text from outside that may hold
//! some (a path, an SMTP server's answer) goes through [`redact`] first.

use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

/// Installs the global subscriber once; later calls are ignored (tests).
pub fn init(default_filter: &str, format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("MOTCUA_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(format == "json");
    use std::io::IsTerminal;
    let stderr = fmt::layer()
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let stderr: Box<dyn Layer<Registry> + Send + Sync> = if json {
        stderr
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .boxed()
    } else {
        stderr.boxed()
    };
    let file = log_file().map(|(file, filter)| {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .with_target(true)
            .with_ansi(false)
            .with_writer(Mutex::new(file))
            .with_filter(filter)
    });
    let _ = tracing_subscriber::registry()
        .with(stderr.with_filter(filter))
        .with(file)
        .try_init();
}

/// `MOTCUA_LOG_FILE`, opened for appending, and its filter; a file that cannot be opened
/// is said on standard error and left out.
fn log_file() -> Option<(std::fs::File, EnvFilter)> {
    let path = std::env::var_os("MOTCUA_LOG_FILE").filter(|p| !p.is_empty())?;
    let filter = std::env::var("MOTCUA_LOG_FILE_FILTER")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        Ok(f) => Some((f, filter)),
        Err(e) => {
            eprintln!(
                "motcua: không mở được tệp nhật ký MOTCUA_LOG_FILE {}: {e}",
                std::path::Path::new(&path).display()
            );
            None
        }
    }
}

/// `text` with what may be personal data masked as `***`: every run of 9 digits or more
/// (ID numbers have 9 or 12, phone numbers 10 or 11) and the part before `@` of an e-mail
/// address (`***@example.vn`).
pub fn redact(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut hide = vec![false; chars.len()];
    let local = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    for at in (0..chars.len()).filter(|&i| chars[i] == '@') {
        let start = (0..at).rev().take_while(|&k| local(chars[k])).last();
        if let Some(start) = start {
            if domain_follows(&chars[at + 1..]) {
                hide[start..at].iter_mut().for_each(|h| *h = true);
            }
        }
    }
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run >= 9 {
            hide[i..i + run].iter_mut().for_each(|h| *h = true);
        }
        i += run.max(1);
    }
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match (hide[i], i > 0 && hide[i - 1]) {
            (true, false) => out.push_str("***"),
            (true, true) => {}
            (false, _) => out.push(c),
        }
    }
    out
}

/// Whether `rest` starts with a domain name: labels of letters, digits and `-`, at least
/// two, the last all letters.
fn domain_follows(rest: &[char]) -> bool {
    let domain: String = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        .collect();
    let domain = domain.trim_end_matches('.');
    match domain.rsplit_once('.') {
        Some((head, tld)) => {
            !head.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn personal_data_is_masked_and_the_rest_kept() {
        assert_eq!(
            redact("/api/v1/applicants/001203004567/documents"),
            "/api/v1/applicants/***/documents"
        );
        assert_eq!(redact("/tra-cuu/0912345678"), "/tra-cuu/***");
        assert_eq!(redact("/x/ab0912345678"), "/x/ab***");
        assert_eq!(
            redact("550 5.1.1 <nguoi.nhan+a@example.vn>: Recipient address rejected"),
            "550 5.1.1 <***@example.vn>: Recipient address rejected"
        );
        assert_eq!(
            redact("RCPT TO:<an@mail.gov.vn> và 0912345678"),
            "RCPT TO:<***@mail.gov.vn> và ***"
        );
        // What is not personal stays: dossier codes, addresses of machines, short numbers.
        for kept in [
            "/api/v1/dossiers/000.00.51.H26-261201-0001",
            "postgres://motcua:***@127.0.0.1:5432/motcua",
            "user@localhost",
            "@example.vn",
            "12345678",
            "Hồ sơ số 12/2026 — ổn",
        ] {
            assert_eq!(redact(kept), kept);
        }
    }
}
