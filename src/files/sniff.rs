//! Recognising PDF, JPEG and PNG by their bytes — the file name and the
//! `Content-Type` a browser sends are never trusted.

use std::fmt;

use super::FileProblem;

/// How many leading bytes [`sniff`] needs to decide (the PNG signature is the longest).
pub const SNIFF_LEN: usize = 8;

/// How many trailing bytes [`check_complete`] looks at.
pub const TAIL_LEN: usize = 1024;

const PDF_MAGIC: &[u8] = b"%PDF-";
const PDF_EOF: &[u8] = b"%%EOF";
const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const JPEG_EOI: &[u8] = &[0xFF, 0xD9];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// The whole `IEND` chunk: zero length, type, CRC.
const PNG_IEND: &[u8] = &[
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The kinds of content accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
}

impl MediaType {
    /// The MIME type, for `Content-Type` and for storing in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }

    /// The usual file extension, without the dot (for download names).
    pub fn extension(self) -> &'static str {
        match self {
            MediaType::Pdf => "pdf",
            MediaType::Jpeg => "jpg",
            MediaType::Png => "png",
        }
    }

    /// The inverse of [`MediaType::as_str`] (ASCII case and surrounding blanks ignored).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        [MediaType::Pdf, MediaType::Jpeg, MediaType::Png]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The media type of content starting with `head`, or `None` when it is none of the
/// accepted ones (or `head` is too short to tell). The signature must be at offset 0.
pub fn sniff(head: &[u8]) -> Option<MediaType> {
    if head.starts_with(PDF_MAGIC) {
        Some(MediaType::Pdf)
    } else if head.starts_with(JPEG_MAGIC) {
        Some(MediaType::Jpeg)
    } else if head.starts_with(PNG_MAGIC) {
        Some(MediaType::Png)
    } else {
        None
    }
}

/// Checks that content of kind `kind` ends the way complete content does, given its
/// last bytes `tail` (only the last [`TAIL_LEN`] bytes are looked at; pass them all
/// when the content is shorter):
///
/// * PDF: `%%EOF` within the last 1024 bytes (what PDF readers require; whatever
///   follows it — usually a newline — is tolerated);
/// * JPEG: ends with the end-of-image marker `FF D9`, ignoring trailing `\0`, `\r`, `\n`;
/// * PNG: ends with the complete `IEND` chunk.
pub fn check_complete(kind: MediaType, tail: &[u8]) -> Result<(), FileProblem> {
    let tail = &tail[tail.len().saturating_sub(TAIL_LEN)..];
    let complete = match kind {
        MediaType::Pdf => tail.windows(PDF_EOF.len()).any(|w| w == PDF_EOF),
        MediaType::Jpeg => {
            let end = tail
                .iter()
                .rposition(|b| !matches!(b, b'\0' | b'\r' | b'\n'))
                .map_or(0, |i| i + 1);
            tail[..end].ends_with(JPEG_EOI)
        }
        MediaType::Png => tail.ends_with(PNG_IEND),
    };
    if complete {
        Ok(())
    } else {
        Err(FileProblem::Truncated)
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Minimal complete files, built in code.

    /// A tiny but well-formed one-page PDF.
    pub fn pdf() -> Vec<u8> {
        b"%PDF-1.4\n\
          1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
          2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
          3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >> endobj\n\
          trailer << /Root 1 0 R /Size 4 >>\n\
          %%EOF\n"
            .to_vec()
    }

    /// SOI, a JFIF APP0 segment, EOI.
    pub fn jpeg() -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        v.extend_from_slice(b"JFIF\0");
        v.extend_from_slice(&[0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    /// A real 1×1 RGBA PNG (signature, IHDR, IDAT, IEND).
    pub fn png() -> Vec<u8> {
        vec![
            0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
            0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
            0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78,
            0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00,
            0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{jpeg, pdf, png};
    use super::*;

    #[test]
    fn sniffs_pdf_jpeg_png() {
        assert_eq!(sniff(&pdf()), Some(MediaType::Pdf));
        assert_eq!(sniff(&jpeg()), Some(MediaType::Jpeg));
        assert_eq!(sniff(&png()), Some(MediaType::Png));
        // Only the first bytes are needed.
        assert_eq!(sniff(&png()[..SNIFF_LEN]), Some(MediaType::Png));
        assert_eq!(sniff(b"%PDF-"), Some(MediaType::Pdf));
    }

    #[test]
    fn sniff_refuses_other_content() {
        let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xFF\xFF";
        assert_eq!(sniff(exe), None);
        assert_eq!(
            sniff(b"<!DOCTYPE html><html><body>%PDF-</body></html>"),
            None
        );
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"PK\x03\x04\x14\x00\x06\x00"), None); // ZIP / DOCX
        assert_eq!(sniff(b"GIF89a\x01\x00"), None);
        // Signatures must be at offset 0 and complete.
        assert_eq!(sniff(b" %PDF-1.7"), None);
        assert_eq!(sniff(b"%PDF"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(&png()[..7]), None);
    }

    #[test]
    fn media_type_strings_round_trip() {
        for m in [MediaType::Pdf, MediaType::Jpeg, MediaType::Png] {
            assert_eq!(MediaType::parse(m.as_str()), Some(m));
            assert_eq!(m.to_string(), m.as_str());
        }
        assert_eq!(MediaType::Pdf.extension(), "pdf");
        assert_eq!(MediaType::Jpeg.extension(), "jpg");
        assert_eq!(MediaType::Png.extension(), "png");
        assert_eq!(MediaType::parse(" Image/PNG "), Some(MediaType::Png));
        assert_eq!(MediaType::parse("image/gif"), None);
        assert_eq!(MediaType::parse("pdf"), None);
        assert_eq!(MediaType::parse(""), None);
    }

    #[test]
    fn complete_fixtures_pass() {
        assert_eq!(check_complete(MediaType::Pdf, &pdf()), Ok(()));
        assert_eq!(check_complete(MediaType::Jpeg, &jpeg()), Ok(()));
        assert_eq!(check_complete(MediaType::Png, &png()), Ok(()));
    }

    #[test]
    fn pdf_without_eof_marker_is_truncated() {
        let full = pdf();
        let cut = &full[..full.len() - 7]; // loses "%%EOF\n"
        assert_eq!(
            check_complete(MediaType::Pdf, cut),
            Err(FileProblem::Truncated)
        );
        assert_eq!(
            check_complete(MediaType::Pdf, &full[..full.len() / 2]),
            Err(FileProblem::Truncated)
        );
    }

    #[test]
    fn pdf_eof_marker_tolerates_trailing_blanks_but_must_be_in_last_kib() {
        let mut p = pdf();
        p.extend_from_slice(b"\r\n\r\n  \0");
        assert_eq!(check_complete(MediaType::Pdf, &p), Ok(()));
        // %%EOF more than 1024 bytes from the end (e.g. an earlier revision followed by
        // a cut-off incremental update) does not count.
        let mut p = pdf();
        p.extend_from_slice(&[b'x'; TAIL_LEN]);
        assert_eq!(
            check_complete(MediaType::Pdf, &p),
            Err(FileProblem::Truncated)
        );
        // ... but exactly within the last 1024 bytes does.
        let mut p = pdf();
        p.extend_from_slice(&[b'\n'; TAIL_LEN - PDF_EOF.len() - 1]);
        assert_eq!(check_complete(MediaType::Pdf, &p), Ok(()));
    }

    #[test]
    fn truncated_jpeg_is_refused_and_padding_tolerated() {
        let full = jpeg();
        assert_eq!(
            check_complete(MediaType::Jpeg, &full[..full.len() - 1]),
            Err(FileProblem::Truncated)
        );
        assert_eq!(
            check_complete(MediaType::Jpeg, &full[..full.len() - 2]),
            Err(FileProblem::Truncated)
        );
        let mut padded = full.clone();
        padded.extend_from_slice(b"\0\0\r\n");
        assert_eq!(check_complete(MediaType::Jpeg, &padded), Ok(()));
        let mut garbage = full.clone();
        garbage.extend_from_slice(b" x");
        assert_eq!(
            check_complete(MediaType::Jpeg, &garbage),
            Err(FileProblem::Truncated)
        );
        assert_eq!(
            check_complete(MediaType::Jpeg, b"\0\0\n"),
            Err(FileProblem::Truncated)
        );
    }

    #[test]
    fn truncated_png_is_refused() {
        let full = png();
        assert_eq!(
            check_complete(MediaType::Png, &full[..full.len() - 1]),
            Err(FileProblem::Truncated)
        );
        assert_eq!(
            check_complete(MediaType::Png, &full[..full.len() - PNG_IEND.len()]),
            Err(FileProblem::Truncated)
        );
        let mut trailing = full.clone();
        trailing.push(b'\n');
        assert_eq!(
            check_complete(MediaType::Png, &trailing),
            Err(FileProblem::Truncated)
        );
    }

    #[test]
    fn empty_tail_is_truncated_for_every_kind() {
        for m in [MediaType::Pdf, MediaType::Jpeg, MediaType::Png] {
            assert_eq!(check_complete(m, b""), Err(FileProblem::Truncated));
        }
    }
}
