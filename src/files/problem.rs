//! Why an upload or a stored file was refused, with stable codes for the API and
//! Vietnamese messages for people.

use std::fmt;

/// A reason an uploaded file is refused, or a storage failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// The upload had no bytes at all.
    Empty,
    /// The upload went past the size limit (`limit`, in bytes).
    TooLarge { limit: u64 },
    /// The content is not PDF, JPEG or PNG (judged by its bytes, not its name).
    UnsupportedType,
    /// The content starts like a PDF/JPEG/PNG but does not end like one.
    Truncated,
    /// The file name sent by the browser is unusable.
    BadName,
    /// The storage failed; the detail is for logs, never for the user.
    Io(String),
}

impl FileProblem {
    /// A stable snake_case code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            FileProblem::Empty => "empty_file",
            FileProblem::TooLarge { .. } => "file_too_large",
            FileProblem::UnsupportedType => "unsupported_file_type",
            FileProblem::Truncated => "truncated_file",
            FileProblem::BadName => "invalid_file_name",
            FileProblem::Io(_) => "storage_error",
        }
    }

    /// A message for the person uploading, in Vietnamese. Never contains I/O details.
    pub fn message_vi(&self) -> String {
        match self {
            FileProblem::Empty => "Tệp rỗng (0 byte)".to_owned(),
            FileProblem::TooLarge { limit } => {
                format!("Tệp vượt quá dung lượng tối đa {}", human_size(*limit))
            }
            FileProblem::UnsupportedType => {
                "Chỉ nhận tệp PDF, JPEG hoặc PNG (nhận diện theo nội dung tệp)".to_owned()
            }
            FileProblem::Truncated => "Tệp PDF/ảnh bị cắt cụt hoặc hỏng".to_owned(),
            FileProblem::BadName => "Tên tệp không hợp lệ".to_owned(),
            FileProblem::Io(_) => "Lỗi lưu trữ tệp".to_owned(),
        }
    }
}

/// Developer-facing (code plus detail); show [`FileProblem::message_vi`] to users.
impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileProblem::TooLarge { limit } => write!(f, "file_too_large (limit {limit} bytes)"),
            FileProblem::Io(detail) => write!(f, "storage_error: {detail}"),
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for FileProblem {}

impl From<std::io::Error> for FileProblem {
    fn from(e: std::io::Error) -> Self {
        FileProblem::Io(e.to_string())
    }
}

/// `10485760` → `10 MB`, `1572864` → `1,5 MB` (Vietnamese decimal comma, rounded down
/// so the stated limit is never more than the real one), `2048` → `2 KB`, `10` → `10 byte`.
/// Units are binary (1 MB = 1024 × 1024 bytes), as file managers show them.
fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    let (unit, name) = if bytes >= MB {
        (MB, "MB")
    } else if bytes >= KB {
        (KB, "KB")
    } else {
        return format!("{bytes} byte");
    };
    let tenths = (u128::from(bytes) * 10 / u128::from(unit)) as u64;
    if tenths.is_multiple_of(10) {
        format!("{} {name}", tenths / 10)
    } else {
        format!("{},{} {name}", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let all = [
            (FileProblem::Empty, "empty_file"),
            (FileProblem::TooLarge { limit: 1 }, "file_too_large"),
            (FileProblem::UnsupportedType, "unsupported_file_type"),
            (FileProblem::Truncated, "truncated_file"),
            (FileProblem::BadName, "invalid_file_name"),
            (FileProblem::Io("x".into()), "storage_error"),
        ];
        for (p, code) in all {
            assert_eq!(p.code(), code);
            assert!(!p.message_vi().is_empty());
        }
    }

    #[test]
    fn messages_are_vietnamese_and_hide_io_detail() {
        assert_eq!(FileProblem::Empty.message_vi(), "Tệp rỗng (0 byte)");
        assert_eq!(
            FileProblem::TooLarge {
                limit: 10 * 1024 * 1024
            }
            .message_vi(),
            "Tệp vượt quá dung lượng tối đa 10 MB"
        );
        assert_eq!(
            FileProblem::TooLarge { limit: 1536 * 1024 }.message_vi(),
            "Tệp vượt quá dung lượng tối đa 1,5 MB"
        );
        assert_eq!(
            FileProblem::TooLarge { limit: 10 }.message_vi(),
            "Tệp vượt quá dung lượng tối đa 10 byte"
        );
        assert_eq!(
            FileProblem::TooLarge { limit: 512 * 1024 }.message_vi(),
            "Tệp vượt quá dung lượng tối đa 512 KB"
        );
        let io = FileProblem::Io("/secret/path: permission denied".into());
        assert_eq!(io.message_vi(), "Lỗi lưu trữ tệp");
        assert!(io.to_string().contains("permission denied"));
    }
}
