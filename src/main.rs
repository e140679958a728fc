//! The `motcua` binary: `serve` (the default), `migrate`, `check-config`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use motcua::app::App;
use motcua::config::{redact_url, Config, Overrides, Settings};
use motcua::store::{Store, StoreOptions};

#[derive(Parser)]
#[command(
    name = "motcua",
    version,
    about = "Một cửa, một cửa liên thông — hệ thống tiếp nhận và giải quyết hồ sơ"
)]
struct Cli {
    /// Configuration directory (same layout as config/).
    #[arg(
        long,
        env = "MOTCUA_CONFIG_DIR",
        default_value = "config",
        global = true
    )]
    config_dir: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Read and check the whole configuration directory, then exit.
    CheckConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = Overrides::from_env();
    // Logging needs the settings; a broken settings file is reported on stderr.
    let settings = match Settings::load(&cli.config_dir, &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("motcua: cấu hình lỗi: {e}");
            return ExitCode::from(2);
        }
    };
    motcua::telemetry::init(&settings.log_filter, &settings.log_format);
    let config = match Config::load(&cli.config_dir, &overrides) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cấu hình lỗi");
            eprintln!("motcua: cấu hình lỗi: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config.settings),
        Command::CheckConfig => {
            println!(
                "ok: {} cơ quan, {} thủ tục, lịch các năm {:?}",
                config.agencies.agencies.len(),
                config.catalogue.len(),
                config.calendar.configured_years().collect::<Vec<_>>()
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "stopped");
            eprintln!("motcua: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    tracing::info!(
        database = %redact_url(&config.settings.database_url),
        config_dir = %config.settings.config_dir.display(),
        "starting"
    );
    let app = App::start(config, chrono::Utc::now())?;
    actix_web::rt::System::new().block_on(motcua::http::serve(app))?;
    Ok(())
}

fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let store = Store::open(&settings.database_url, &StoreOptions::default())?;
    let applied = store.migrate()?;
    if applied.is_empty() {
        println!("cơ sở dữ liệu đã ở phiên bản mới nhất");
    }
    for v in applied {
        println!("đã áp dụng {v}");
    }
    Ok(())
}
