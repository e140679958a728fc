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

/// Cleans `s` and checks its length in characters: `Ok(None)` when empty.
pub fn bounded(s: &str, max_chars: usize) -> Result<Option<String>, usize> {
    let c = clean(s);
    let n = c.chars().count();
    if n > max_chars {
        Err(n)
    } else if n == 0 {
        Ok(None)
    } else {
        Ok(Some(c))
    }
}

/// A search key: lower case, Vietnamese diacritics removed (`Nguyễn Văn Đức` →
/// `nguyen van duc`), so that a clerk can type either.
pub fn fold(s: &str) -> String {
    clean(s)
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod fold_tests {
    #[test]
    fn diacritics_fold_away() {
        assert_eq!(super::fold("Nguyễn Văn  Đức"), "nguyen van duc");
        assert_eq!(super::fold("Ủy ban nhân dân"), "uy ban nhan dan");
    }
}
