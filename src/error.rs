//! The one error type of the use cases, with a stable machine-readable code and a
//! Vietnamese message for people. The HTTP layer maps its kind to a status; CLI commands
//! print the message.
//!
//! Policy: validation → `Invalid` (422) or `BadRequest` (400, malformed input); store
//! `NotFound` → 404; `Conflict` → 409; an unavailable database → 503; anything unexpected
//! is logged and becomes `Internal` (500) without details.

use serde_json::Value;

use crate::store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Invalid,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooManyRequests,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// The thing existed but was removed for good (content past retention).
    Gone,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone)]
pub struct AppError {
    pub kind: ErrorKind,
    /// Stable code, e.g. `invalid_id_number`.
    pub error: &'static str,
    /// Vietnamese text for people.
    pub message: String,
    /// Extra machine-readable data (e.g. the missing papers).
    pub details: Option<Value>,
    /// Seconds after which a retry makes sense (`Retry-After` on 429 and 503); `None`:
    /// the process default for 503 ([`default_retry_after`]), 60 for 429.
    pub retry_after: Option<u32>,
}

static DEFAULT_RETRY_AFTER_S: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(5);

/// Sets the `Retry-After` of a 503 without its own (the `[server] retry_after_s` setting).
pub fn set_default_retry_after(seconds: u32) {
    DEFAULT_RETRY_AFTER_S.store(seconds.max(1), std::sync::atomic::Ordering::Relaxed);
}

/// The `Retry-After` of a 503 without its own.
pub fn default_retry_after() -> u32 {
    DEFAULT_RETRY_AFTER_S.load(std::sync::atomic::Ordering::Relaxed)
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            error,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
    pub fn bad_request(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, error, message)
    }
    pub fn invalid(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, error, message)
    }
    pub fn unauthorized(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, error, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, "forbidden", message)
    }
    pub fn not_found() -> Self {
        Self::new(ErrorKind::NotFound, "not_found", "Không tìm thấy")
    }
    pub fn conflict(error: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, error, message)
    }
    pub fn too_many() -> Self {
        Self::new(
            ErrorKind::TooManyRequests,
            "too_many_attempts",
            "Quá nhiều lần thử không thành công, vui lòng thử lại sau",
        )
    }
    pub fn internal() -> Self {
        Self::new(
            ErrorKind::Internal,
            "internal_error",
            "Lỗi hệ thống, vui lòng thử lại sau",
        )
    }
    pub fn unavailable() -> Self {
        Self::new(
            ErrorKind::Unavailable,
            "database_unavailable",
            "Cơ sở dữ liệu tạm thời không sẵn sàng, vui lòng thử lại sau",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

impl std::error::Error for AppError {}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found(),
            StoreError::Conflict(m) => AppError::conflict("conflict", m),
            StoreError::Unavailable(m) => {
                tracing::error!(error = %m, "database unavailable");
                AppError::unavailable()
            }
            // A text the input rule should have stopped (PostgreSQL refuses NUL in text):
            // the caller's mistake, not the system's.
            StoreError::Database(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("invalid byte sequence") =>
            {
                tracing::warn!("a value with a NUL byte reached the database");
                AppError::bad_request(
                    "invalid_text",
                    "Dữ liệu chứa ký tự điều khiển không được phép",
                )
            }
            other => {
                tracing::error!(error = %other, "store error");
                AppError::internal()
            }
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}
