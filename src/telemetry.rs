//! Logging with `tracing`: an `EnvFilter` (`RUST_LOG`, else the configured filter) and
//! logs go to standard error (command output stays on standard output); JSON lines when `MOTCUA_LOG_FORMAT=json` (or `[log] format = "json"`).

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once; later calls are ignored (tests).
pub fn init(default_filter: &str, format: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(default_filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("MOTCUA_LOG_FORMAT")
        .map(|v| v.eq_ignore_ascii_case("json"))
        .unwrap_or(format == "json");
    use std::io::IsTerminal;
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
