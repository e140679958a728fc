//! The e-mail channel (lettre) and the outbox worker that runs in every server process
//! (issue #17). What is sent, and when, is decided in [`crate::service::notify`]; this
//! module only delivers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::PoolConfig;
use lettre::{FileTransport, Message, SmtpTransport, Transport};

use crate::app::App;
use crate::config::{MailSettings, MailTransport};
use crate::service::notify::{Channel, Delivery, Envelope, SendError};

/// Selects rustls' provider for the process (ring, which lettre's TLS is built with), once.
/// With a second provider compiled in (the browser tests' HTTP client brings aws-lc-rs),
/// rustls could not choose one by itself and would refuse to make a TLS connection.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// E-mail through SMTP (STARTTLS, implicit TLS, or plain for a local relay; pooled
/// connections) or into `.eml` files.
pub struct EmailChannel {
    from: Mailbox,
    transport: Transport_,
}

enum Transport_ {
    Smtp(SmtpTransport),
    File(FileTransport),
}

impl EmailChannel {
    /// The channel of `[mail]`; `None` when `transport = "off"`.
    pub fn new(settings: &MailSettings) -> anyhow::Result<Option<Self>> {
        install_crypto_provider();
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("[mail] from: {e}"))?;
        let transport = match &settings.transport {
            MailTransport::Off => return Ok(None),
            MailTransport::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("[mail] file_dir {}: {e}", dir.display()))?;
                Transport_::File(FileTransport::new(dir))
            }
            MailTransport::Smtp(s) => {
                let builder = match s.security.as_str() {
                    "tls" => SmtpTransport::relay(&s.host)?,
                    "starttls" => SmtpTransport::starttls_relay(&s.host)?,
                    _ => SmtpTransport::builder_dangerous(&s.host),
                };
                let mut builder = builder
                    .port(s.port)
                    .timeout(Some(Duration::from_secs(u64::from(s.timeout_s))))
                    .pool_config(PoolConfig::new().max_size(s.pool_size));
                if !s.username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        s.username.clone(),
                        s.password.clone().unwrap_or_default(),
                    ));
                }
                Transport_::Smtp(builder.build())
            }
        };
        Ok(Some(Self { from, transport }))
    }

    fn message(&self, envelope: &Envelope<'_>) -> Result<Message, SendError> {
        let to: Mailbox = envelope
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("địa chỉ nhận không hợp lệ: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(envelope.message.subject.clone())
            .message_id(Some(envelope.message_id.clone()))
            // RFC 3834: sent by a program; auto-responders should not answer.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                envelope.message.text.clone(),
                envelope.message.html.clone(),
            ))
            .map_err(|e| SendError::Permanent(format!("không dựng được thư: {e}")))
    }
}

impl Channel for EmailChannel {
    fn name(&self) -> &'static str {
        "email"
    }

    fn send(&self, envelope: &Envelope<'_>) -> Result<(), SendError> {
        let message = self.message(envelope)?;
        match &self.transport {
            Transport_::Smtp(t) => t.send(&message).map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    SendError::Permanent(e.to_string())
                } else {
                    SendError::Transient(e.to_string())
                }
            }),
            Transport_::File(t) => t
                .send(&message)
                .map(|_| ())
                .map_err(|e| SendError::Transient(e.to_string())),
        }
    }
}

/// The worker's settings from `[mail]` and the public address.
pub fn delivery(app: &App) -> Delivery {
    let m = &app.settings.mail;
    let domain = app
        .settings
        .public_base_url
        .split("://")
        .nth(1)
        .unwrap_or("motcua.invalid")
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("motcua.invalid")
        .to_string();
    Delivery {
        batch_size: m.batch_size,
        max_attempts: m.max_attempts,
        retry_base_s: m.retry_base_s,
        retry_max_s: m.retry_max_s,
        lease_s: m.lease_s,
        send_timeout_s: match &m.transport {
            MailTransport::Smtp(s) => s.timeout_s,
            _ => 5,
        },
        domain,
    }
}

/// This process's name among the workers: host, process id and a random suffix.
pub fn worker_id() -> String {
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    format!(
        "{}:{}:{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "motcua".into()),
        std::process::id(),
        hex::encode(r)
    )
}

/// Starts the outbox worker on a thread of its own; it stops when `stop` is set. Each
/// turn it prepares the staff digests when their morning has come (`[mail] digest_at`),
/// then sends a batch. Nothing starts when `[mail] transport = "off"`.
pub fn start_worker(app: Arc<App>, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    let Some(channel) = EmailChannel::new(&app.settings.mail)? else {
        tracing::info!(
            "notifications: [mail] transport = \"off\"; the outbox is kept, nothing is sent"
        );
        return Ok(());
    };
    let delivery = delivery(&app);
    let worker = worker_id();
    let poll = Duration::from_millis(app.settings.mail.poll_interval_ms);
    tracing::info!(%worker, "notifications: outbox worker started");
    std::thread::Builder::new()
        .name("motcua-outbox".into())
        .spawn(move || {
            let mut failing = false;
            while !stop.load(Ordering::Relaxed) {
                let now = || app.clock.now();
                // Each working morning, the staff digests (once per person and day on
                // every process: their outbox keys are per person and day).
                match app.prepare_digests(now()) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(digests = n, "notifications: staff digests prepared"),
                    Err(e) => tracing::warn!(error = %e, "notifications: the staff digests could not be prepared"),
                }
                match app.deliver_due(&app.templates, &channel, &delivery, &worker, &now) {
                    Ok(report) => {
                        failing = false;
                        if report.claimed > 0 {
                            tracing::info!(
                                sent = report.sent,
                                retried = report.retried,
                                parked = report.parked,
                                released = report.released,
                                "notifications: batch"
                            );
                        }
                        if report.claimed as u32 >= delivery.batch_size {
                            continue;
                        }
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "notifications: the outbox cannot be read; trying again");
                        }
                        failing = true;
                    }
                }
                std::thread::sleep(poll);
            }
        })?;
    Ok(())
}
