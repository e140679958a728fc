//! Text hygiene for everything people type: Unicode NFC (Vietnamese has two encodings
//! of the same letters; printpdf and comparisons need precomposed ones), trimmed,
//! length-bounded.

use unicode_normalization::UnicodeNormalization;

/// NFC-normalises and trims `s`, folding runs of white space to one space.
pub fn clean(s: &str) -> String {
    let nfc: String = s.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// NFC-normalises a whole document (configuration files, templates) without touching
/// its layout.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_vietnamese_becomes_precomposed() {
        // "Nguyễn" with combining marks (e + circumflex + tilde).
        let decomposed = "Nguye\u{0302}\u{0303}n  Va\u{0306}n\tA ";
        assert_eq!(clean(decomposed), "Nguyễn Văn A");
    }
}
