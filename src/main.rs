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
    /// Staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Portal clients (client credentials for online submissions).
    #[command(subcommand)]
    Portal(PortalCommand),
    /// The audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Bring earlier results into the applicant data store.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Notifications: the outbox and its sending.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Stored files past their retention.
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// The staff digest (early warning, cảnh báo sớm): prepare the morning's for everyone
    /// into the outbox (on a working day, from `[mail] digest_at`), or print them.
    Digest {
        /// Print every digest that would be sent now; enqueue nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print this account's digest now (enqueues nothing).
        #[arg(long)]
        user: Option<String>,
    },
    /// Back up the database and the stored files into a new directory, while the server
    /// runs (SQLite: its online backup API; PostgreSQL: pg_dump).
    Backup {
        /// The directory to create (absent or empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into the configured database and data directory, both empty.
    Restore {
        /// A directory made by `motcua backup`.
        #[arg(long)]
        from: PathBuf,
    },
    /// Generate N synthetic dossiers with their events and rollups (load tests only:
    /// never on a production database).
    SeedLoad {
        n: usize,
        /// The year the dossiers are received in.
        #[arg(long, default_value_t = 2025)]
        year: i32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import results from a CSV file (idempotent; each rejected row reported with its
    /// reason; exit 1 when any row was rejected). Columns: source_key, id_number,
    /// full_name, document_name, number, issuing_agency, issued_on, valid_until,
    /// procedure_code, file.
    Results { file: PathBuf },
}

#[derive(Subcommand)]
enum ArchiveCommand {
    /// List stored content past retention that nothing needs any more, and content no row
    /// records; with --apply remove it (each removal logged and audited).
    Sweep {
        /// Remove for real (the default is a dry run).
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Subcommand)]
enum MailCommand {
    /// Queue test messages to an address (checks the [mail] settings end to end: a
    /// running server sends them, or `mail send` here).
    Test {
        /// The recipient.
        #[arg(long)]
        to: String,
        /// How many messages (each with its own key), 1 to 1000.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
        count: u32,
    },
    /// Send what is due now from this process, until nothing is left that can be sent.
    Send,
    /// The outbox's rows by state, and the parked ones.
    Status,
    /// Send a parked message again (audited).
    Resend { id: i64 },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain: reports any edited, inserted or deleted record (exit 1).
    Verify,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        full_name: String,
        /// clerk, official, leader, admin or inspector.
        #[arg(long)]
        role: String,
        /// The agency's code (config/agencies.toml).
        #[arg(long)]
        agency: String,
        /// Where the morning digest of the account's dossiers is sent (optional).
        #[arg(long)]
        email: Option<String>,
    },
    /// Set the e-mail address the morning digest is sent to; without ADDRESS, remove it.
    Email {
        username: String,
        address: Option<String>,
    },
    /// Set a new password, read from standard input.
    Passwd { username: String },
    /// Disable an account (it can no longer log in).
    Disable { username: String },
    /// Enable a disabled account again.
    Enable { username: String },
}

#[derive(Subcommand)]
enum PortalCommand {
    /// Register a portal client; prints its generated secret once.
    Add {
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        name: String,
        /// The receiving agency of its dossiers.
        #[arg(long)]
        agency: String,
    },
    /// Replace a portal client's secret; prints the new one once. Tokens issued with the
    /// old one stop working (within `auth.account_cache_s` on every process).
    Rotate {
        #[arg(long)]
        client_id: String,
    },
}

/// glibc's allocator raises its threshold for mapping a block apart to the size of the
/// largest block freed so far: after the first login (argon2 works in 19 MiB) every such
/// block came from the threads' arenas, which keep what they once held — a server grew to
/// 500 MiB under load while it needed 40. A fixed threshold keeps large blocks mapped apart
/// and gives them back when freed; four arenas bound what the blocking pool's many threads
/// keep.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only changes the allocator's parameters; called before any thread
    // starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
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
    if let Err(e) = set_clock() {
        eprintln!("motcua: cấu hình lỗi: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => migrate(&config.settings),
        Command::Backup { to } => backup(&config.settings, &to),
        Command::Restore { from } => restore(&config.settings, &from),
        Command::User(cmd) => user(config, cmd),
        Command::Portal(cmd) => portal(config, cmd),
        Command::Audit(AuditCommand::Verify) => match audit_verify(&config) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Import(ImportCommand::Results { file }) => match import_results(config, &file) {
            Ok(0) => Ok(()),
            Ok(_) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Archive(ArchiveCommand::Sweep { apply }) => archive_sweep(config, apply),
        Command::Mail(cmd) => mail(config, cmd),
        Command::SeedLoad { n, year, seed } => seed_load(config, n, year, seed),
        Command::Digest { dry_run, user } => digest(config, dry_run, user),
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
    let app = App::start_with_clock(config, clock().clone(), now())?;
    actix_web::rt::System::new().block_on(motcua::http::serve(app))?;
    // The server has drained what it could within `shutdown_drain_s`. Threads still stuck
    // on a silent database would hold the runtime's drop for ever: leave now.
    tracing::info!("stopped");
    std::process::exit(0);
}

/// Where every command reads "now": the system clock, or from `MOTCUA_CLOCK_START`
/// (RFC 3339) a clock that starts at that moment and runs on (drills and tests only).
static CLOCK: std::sync::OnceLock<motcua::clock::Clock> = std::sync::OnceLock::new();

fn clock() -> &'static motcua::clock::Clock {
    CLOCK.get_or_init(motcua::clock::Clock::default)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    clock().now()
}

/// Reads `MOTCUA_CLOCK_START` into [`CLOCK`].
fn set_clock() -> anyhow::Result<()> {
    let clock = match std::env::var("MOTCUA_CLOCK_START") {
        Ok(v) if !v.trim().is_empty() => {
            let start = chrono::DateTime::parse_from_rfc3339(v.trim())
                .map_err(|e| {
                    anyhow::anyhow!("MOTCUA_CLOCK_START {v:?} không phải thời điểm RFC 3339: {e}")
                })?
                .to_utc();
            tracing::warn!(
                start = %start.to_rfc3339(),
                "MOTCUA_CLOCK_START: the clock runs from this moment, not the real one \
                 (drills and tests only)"
            );
            motcua::clock::Clock::starting_at(start, chrono::Utc::now())
        }
        _ => motcua::clock::Clock::System,
    };
    let _ = CLOCK.set(clock);
    Ok(())
}

/// Imports legacy results; the number of rejected rows.
fn import_results(config: Config, file: &std::path::Path) -> anyhow::Result<usize> {
    let app = App::start_with_clock(config, clock().clone(), now())?;
    let bar = indicatif::ProgressBar::new(0).with_style(indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} dòng ({per_sec}, còn {eta})",
    )?);
    let actor = motcua::service::accounts::cli_actor();
    let report = app.import_results(file, &actor, now(), &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    for r in &report.rejected {
        println!("dòng {}: {}: {}", r.line, r.source_key, r.reason);
    }
    println!(
        "{} dòng: {} đã nhập, {} đã có từ trước, {} bị từ chối",
        report.rows,
        report.imported,
        report.already_present,
        report.rejected.len()
    );
    Ok(report.rejected.len())
}

fn seed_load(mut config: Config, n: usize, year: i32, seed: u64) -> anyhow::Result<()> {
    // A million dossiers' indexes do not fit SQLite's usual page cache: writing them
    // through a small one turns every insert into disk reads.
    config.settings.sqlite_cache_mb = config.settings.sqlite_cache_mb.max(1024);
    let app = App::start_with_clock(config, clock().clone(), now())?;
    let bar =
        indicatif::ProgressBar::new(n as u64).with_style(indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} hồ sơ ({per_sec}, còn {eta})",
        )?);
    let started = std::time::Instant::now();
    let done = app.seed_load(n, year, seed, &mut |d| bar.set_position(d as u64))?;
    bar.finish_and_clear();
    println!(
        "{done} hồ sơ thử nghiệm năm {year} trong {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn mail(config: Config, cmd: MailCommand) -> anyhow::Result<()> {
    let app = App::start_with_clock(config, clock().clone(), now())?;
    match cmd {
        MailCommand::Test { to, count } => {
            let address = to.trim().to_string();
            motcua::core::applicant::check_email(&address)
                .map_err(|m| anyhow::anyhow!("--to: {m}"))?;
            let at = now();
            let written = app.queue_test_messages(&address, count, at)?;
            println!("{written} thư thử đã xếp vào hàng đợi gửi tới {address}");
        }
        MailCommand::Send => {
            let channel = motcua::mail::EmailChannel::new(&app.settings.mail)?
                .ok_or_else(|| anyhow::anyhow!("[mail] transport = \"off\": không gửi"))?;
            let delivery = motcua::mail::delivery(&app);
            let worker = motcua::mail::worker_id();
            let (mut sent, mut retried, mut parked) = (0, 0, 0);
            loop {
                let r = app.deliver_due(&app.templates, &channel, &delivery, &worker, &now)?;
                sent += r.sent;
                retried += r.retried;
                parked += r.parked;
                if r.claimed == 0 {
                    break;
                }
            }
            println!("đã gửi {sent}, sẽ gửi lại {retried}, chuyển chờ xử lý {parked}");
        }
        MailCommand::Status => {
            // Everything written: from a century before to a day after now.
            let c = app.outbox_counts(
                now() - chrono::Duration::days(36_525),
                now() + chrono::Duration::days(1),
            )?;
            println!(
                "đã gửi {}, chờ gửi {}, chờ xử lý (gửi lỗi) {}, không có địa chỉ {}",
                c.sent, c.pending, c.parked, c.unreachable
            );
            for n in app.parked_notifications(100)? {
                println!(
                    "#{} {} {} {} lần: {}",
                    n.id,
                    n.template,
                    n.dossier_code.as_deref().unwrap_or("-"),
                    n.attempts,
                    n.last_error.as_deref().unwrap_or("")
                );
            }
        }
        MailCommand::Resend { id } => {
            app.resend_parked(&motcua::service::accounts::cli_actor(), id, now())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("thư #{id} sẽ được gửi lại");
        }
    }
    Ok(())
}

fn digest(config: Config, dry_run: bool, user: Option<String>) -> anyhow::Result<()> {
    let app = App::start_with_clock(config, clock().clone(), now())?;
    let now = now();
    let print = |view: &motcua::service::digest::DigestView| {
        let vars = app.digest_vars(view);
        println!(
            "== {} ({}, {}) <{}>: {}",
            view.username,
            view.full_name,
            view.agency_name,
            view.email.as_deref().unwrap_or("chưa có thư điện tử"),
            vars["summary"]
        );
        println!(
            "Quá hạn ({}):\n{}",
            view.overdue.len(),
            vars["overdue_text"]
        );
        println!(
            "Sắp đến hạn, đến {} ({}):\n{}",
            vars["due_soon_until"],
            view.due_soon.len(),
            vars["due_soon_text"]
        );
        if view.role == motcua::service::Role::Leader {
            print!("{}", vars["at_risk_text"]);
        }
    };
    if let Some(u) = user {
        print(&app.digest_for(&u, now)?);
        return Ok(());
    }
    if dry_run {
        if !app.digest_time(now) {
            println!(
                "(chạy thử) bây giờ chưa đến giờ gửi: bản tin chỉ gửi vào ngày làm việc, từ {}",
                app.settings.digest_at.format("%H:%M")
            );
        }
        let views = app.pending_digests(now)?;
        for view in &views {
            print(view);
        }
        println!(
            "(chạy thử) {} bản tin sẽ được gửi; không ghi gì",
            views.len()
        );
        return Ok(());
    }
    let n = app.prepare_digests(now)?;
    println!("{n} bản tin cảnh báo sớm đã đưa vào hàng gửi");
    Ok(())
}

fn archive_sweep(config: Config, apply: bool) -> anyhow::Result<()> {
    let app = App::start_with_clock(config, clock().clone(), now())?;
    let report = app.archive_sweep(apply, now())?;
    for r in &report.removals {
        println!(
            "{} {} {} ({} byte)",
            if apply { "đã hủy" } else { "sẽ hủy" },
            r.sha256,
            match r.reason {
                "orphan" => "không bản ghi nào tham chiếu",
                _ => "hết thời hạn lưu trữ",
            },
            r.size
        );
    }
    println!(
        "{} tệp đã xét, {} tệp {}{}",
        report.examined,
        report.removals.len(),
        if apply {
            "đã hủy"
        } else {
            "sẽ hủy (chạy thử; thêm --apply để hủy)"
        },
        if apply {
            format!(", {} tệp tải lên dở dang đã xóa", report.temporary_removed)
        } else {
            String::new()
        }
    );
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

/// Reads a password: hidden prompt (twice) on a terminal, one line otherwise.
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("Mật khẩu: ")?;
        let b = rpassword::prompt_password("Nhập lại mật khẩu: ")?;
        anyhow::ensure!(a == b, "hai lần nhập mật khẩu không khớp");
        Ok(a)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

fn user(config: Config, cmd: UserCommand) -> anyhow::Result<()> {
    use motcua::service::accounts::{cli_actor, NewUser};
    use motcua::service::Role;
    let app = App::start_with_clock(config, clock().clone(), now())?;
    let actor = cli_actor();
    let now = now();
    match cmd {
        UserCommand::Add {
            username,
            full_name,
            role,
            agency,
            email,
        } => {
            let role = Role::parse(&role)
                .filter(|r| Role::STAFF.contains(r))
                .ok_or_else(|| {
                    anyhow::anyhow!("vai trò phải là clerk, official, leader, admin hoặc inspector")
                })?;
            let password = read_password()?;
            app.create_user(
                &NewUser {
                    username: &username,
                    full_name: &full_name,
                    role,
                    agency: &agency,
                    password: &password,
                    email: email.as_deref(),
                },
                &actor,
                now,
            )?;
            println!("đã tạo tài khoản {username} ({}, {agency})", role.as_str());
        }
        UserCommand::Email { username, address } => {
            let changed = app.set_user_email(&username, address.as_deref(), &actor, now)?;
            match (
                changed,
                address.as_deref().map(str::trim).filter(|a| !a.is_empty()),
            ) {
                (false, _) => println!("thư điện tử của {username} không thay đổi"),
                (true, Some(_)) => println!("đã đặt thư điện tử của {username}"),
                (true, None) => println!("đã xóa thư điện tử của {username}"),
            }
        }
        UserCommand::Passwd { username } => {
            let password = read_password()?;
            app.set_user_password(&username, &password, &actor, now)?;
            println!("đã đổi mật khẩu của {username}");
        }
        UserCommand::Disable { username } => {
            app.set_user_disabled(&username, true, &actor, now)?;
            println!("đã khóa tài khoản {username}");
        }
        UserCommand::Enable { username } => {
            app.set_user_disabled(&username, false, &actor, now)?;
            println!("đã mở khóa tài khoản {username}");
        }
    }
    Ok(())
}

fn portal(config: Config, cmd: PortalCommand) -> anyhow::Result<()> {
    use motcua::service::accounts::{cli_actor, NewUser};
    use motcua::service::Role;
    let app = App::start_with_clock(config, clock().clone(), now())?;
    match cmd {
        PortalCommand::Add {
            client_id,
            name,
            agency,
        } => {
            let secret = motcua::service::accounts::generate_client_secret()?;
            app.create_user(
                &NewUser {
                    username: &client_id,
                    full_name: &name,
                    role: Role::Portal,
                    agency: &agency,
                    password: &secret,
                    email: None,
                },
                &cli_actor(),
                now(),
            )?;
            println!("client_id: {client_id}");
            println!("client_secret: {secret}");
            println!("(khóa bí mật chỉ hiển thị một lần)");
        }
        PortalCommand::Rotate { client_id } => {
            let secret = app.rotate_portal_secret(&client_id, &cli_actor(), now())?;
            println!("client_id: {client_id}");
            println!("client_secret: {secret}");
            println!("(khóa bí mật mới chỉ hiển thị một lần; khóa cũ và các mã truy cập đã cấp hết hiệu lực)");
        }
    }
    Ok(())
}

/// `motcua audit verify`: walks every stream and the checkpoints (docs/audit.md); false
/// when something is wrong.
fn backup(settings: &Settings, to: &std::path::Path) -> anyhow::Result<()> {
    let m = motcua::backup::backup(settings, to)?;
    tracing::info!(to = %to.display(), backend = %m.backend, files = m.files, "backup taken");
    println!(
        "ok: {} ({} bytes, SHA-256 {}) and {} stored files ({} bytes) in {}, taken at {}{}",
        m.database_file,
        m.database_bytes,
        m.database_sha256,
        m.files,
        m.files_bytes,
        to.display(),
        m.taken_at,
        if m.secret_key {
            "; with the data directory's secret.key: keep the backup private"
        } else {
            "; no secret.key in the data directory (the server's secret is MOTCUA_SECRET): keep that secret with the backup"
        }
    );
    Ok(())
}

fn restore(settings: &Settings, from: &std::path::Path) -> anyhow::Result<()> {
    let m = motcua::backup::restore(settings, from)?;
    tracing::info!(from = %from.display(), backend = %m.backend, files = m.files, "backup restored");
    println!(
        "ok: the backup taken at {} restored ({}, {} stored files); check it with `motcua audit verify`",
        m.taken_at, m.database_file, m.files
    );
    Ok(())
}

fn audit_verify(config: &Config) -> anyhow::Result<bool> {
    let settings = &config.settings;
    let store = Store::open(&settings.database_url, &StoreOptions::default())?;
    store.migrate()?;
    let secret = motcua::app::server_secret(settings)?;
    if !store.agree_on_fact(
        "secret_fingerprint",
        &motcua::app::secret_fingerprint(&secret),
    )? {
        anyhow::bail!(
            "this process's server secret differs from the one this database was set up with: \
             the checkpoints cannot be checked (give it the server's MOTCUA_SECRET or {}/secret.key)",
            settings.data_dir.display()
        );
    }
    let keys = motcua::app::Keys::derive(&secret);
    let report = store.verify_audit_chain(&keys.audit)?;
    // The verdict first (scripts read the first line), then what it rests on.
    if report.problems.is_empty() {
        println!(
            "ok: {} bản ghi nhật ký, chuỗi băm toàn vẹn; {} điểm niêm phong đúng chữ ký",
            report.records, report.checkpoints
        );
    } else {
        for p in &report.problems {
            println!("bản ghi {}: {}", p.id, p.problem);
        }
    }
    match &report.last_checkpoint {
        Some(c) => println!(
            "điểm niêm phong cuối: số {} lúc {} ({} bản ghi đã niêm phong), mã {}",
            c.seq,
            motcua::store::from_db(c.at)
                .with_timezone(&settings.offset)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            c.last_seal,
            c.chain_hash
        ),
        None => println!("chưa có điểm niêm phong nào"),
    }
    if report.unsealed > 0 {
        println!(
            "{} bản ghi chưa niêm phong (mới ghi, hoặc máy chủ không chạy): được bảo vệ bởi chuỗi của từng đối tượng",
            report.unsealed
        );
    }
    if report.problems.is_empty() {
        Ok(true)
    } else {
        println!(
            "LỖI: {} vấn đề trong {} bản ghi nhật ký",
            report.problems.len(),
            report.records
        );
        Ok(false)
    }
}
