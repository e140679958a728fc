//! How errors travel over HTTP: JSON `{"error": "<stable_code>", "message": "<Vietnamese
//! text>"}` (plus `details` when there are some) with the status of the error's kind.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

pub use crate::error::{AppError as ApiError, ErrorKind};

pub type ApiResult<T> = Result<T, ApiError>;

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorKind::Gone => StatusCode::GONE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.kind)
    }
    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "error": self.error, "message": self.message });
        if let Some(d) = &self.details {
            body["details"] = d.clone();
        }
        let mut res = HttpResponse::build(self.status_code());
        if self.kind == ErrorKind::Unauthorized {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        // Every 429 and every 503 says when to come back.
        let retry_after = match self.kind {
            ErrorKind::Unavailable => Some(
                self.retry_after
                    .unwrap_or_else(crate::error::default_retry_after),
            ),
            ErrorKind::TooManyRequests => Some(self.retry_after.unwrap_or(60)),
            _ => None,
        };
        if let Some(s) = retry_after {
            res.insert_header(("Retry-After", s.to_string()));
        }
        res.json(body)
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task failed");
        ApiError::internal()
    }
}
