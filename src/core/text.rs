//! Text hygiene for everything people type: Unicode NFC (Vietnamese has two encodings
//! of the same letters; printpdf and comparisons need precomposed ones), trimmed,
//! length-bounded, and one rule for the characters nobody types on purpose:
//!
//! - C0 and C1 control characters (NUL included, and DEL) are refused — except tab and
//!   line feed in multi-line text (reasons, notes, comments), where a carriage return is
//!   read as a line break;
//! - bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make
//!   a name or a reason read differently from what is stored, are refused;
//! - zero-width characters (U+200B–U+200D, U+2060, U+FEFF) are removed from names, and a
//!   name must contain at least one letter.

use unicode_normalization::UnicodeNormalization;

/// Why a text is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Longer than allowed, in characters (after cleaning).
    TooLong(usize),
    /// A control character (where a line break is not allowed, tab and line feed too).
    Control(char),
    /// A bidirectional override or isolate.
    Bidi(char),
    /// A name without a single letter.
    NoLetter,
}

impl TextError {
    /// The stable code of the refusal: `text_too_long` or `invalid_text`.
    pub fn code(self) -> &'static str {
        match self {
            TextError::TooLong(_) => "text_too_long",
            _ => "invalid_text",
        }
    }

    /// What is wrong with the text `what` (Vietnamese, for people).
    pub fn message(self, what: &str, max: usize) -> String {
        match self {
            TextError::TooLong(_) => format!("{what} quá dài (tối đa {max} ký tự)"),
            TextError::Control(c) => format!(
                "{what} chứa ký tự điều khiển không được phép (U+{:04X})",
                u32::from(c)
            ),
            TextError::Bidi(c) => format!(
                "{what} chứa ký tự đảo chiều văn bản không được phép (U+{:04X})",
                u32::from(c)
            ),
            TextError::NoLetter => format!("{what} phải có ít nhất một chữ cái"),
        }
    }
}

/// Whether `c` is a bidirectional override or isolate.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` is a zero-width character (removed from names).
fn is_zero_width(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// The first character of `s` the rule refuses, if any; `multiline` allows tab, line
/// feed and carriage return.
pub fn refused_char(s: &str, multiline: bool) -> Option<TextError> {
    s.chars().find_map(|c| {
        if is_bidi_control(c) {
            Some(TextError::Bidi(c))
        } else if c.is_control() && !(multiline && matches!(c, '\t' | '\n' | '\r')) {
            Some(TextError::Control(c))
        } else {
            None
        }
    })
}

/// A single-line value used as a key or a parameter (a code, a username, a query): it
/// passes when no character is refused; nothing is changed.
pub fn check_key(s: &str) -> Result<&str, TextError> {
    match refused_char(s, false) {
        Some(e) => Err(e),
        None => Ok(s),
    }
}

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

/// Escapes text for HTML content and attribute values (`&`, `<`, `>`, `"`, `'`): what a
/// notification's HTML fragment built by the code needs before it is inserted raw.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

/// Checks a single-line text by the rule, cleans it and checks its length in characters:
/// `Ok(None)` when empty.
pub fn bounded(s: &str, max_chars: usize) -> Result<Option<String>, TextError> {
    if let Some(e) = refused_char(s, false) {
        return Err(e);
    }
    within(clean(s), max_chars)
}

/// [`bounded`] for multi-line text (reasons, notes, comments): line breaks and tabs are
/// allowed; each line is cleaned, blank lines at either end dropped.
pub fn bounded_multiline(s: &str, max_chars: usize) -> Result<Option<String>, TextError> {
    if let Some(e) = refused_char(s, true) {
        return Err(e);
    }
    let nfc: String = s.nfc().collect();
    let lines: Vec<String> = nfc
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .split('\n')
        .map(clean)
        .collect();
    let first = lines.iter().position(|l| !l.is_empty());
    let last = lines.iter().rposition(|l| !l.is_empty());
    let text = match (first, last) {
        (Some(a), Some(b)) => lines[a..=b].join("\n"),
        _ => String::new(),
    };
    within(text, max_chars)
}

/// A person's or an organisation's name: single-line text by the rule, zero-width
/// characters removed, at least one letter.
pub fn name(s: &str, max_chars: usize) -> Result<Option<String>, TextError> {
    let stripped: String = s.chars().filter(|c| !is_zero_width(*c)).collect();
    let n = bounded(&stripped, max_chars)?;
    match &n {
        Some(v) if !v.chars().any(char::is_alphabetic) => Err(TextError::NoLetter),
        _ => Ok(n),
    }
}

fn within(c: String, max_chars: usize) -> Result<Option<String>, TextError> {
    let n = c.chars().count();
    if n > max_chars {
        Err(TextError::TooLong(n))
    } else if n == 0 {
        Ok(None)
    } else {
        Ok(Some(c))
    }
}

#[cfg(test)]
mod rule_tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_refused() {
        for bad in [
            "a\u{0}b",
            "a\u{7}",
            "\u{1b}[31m",
            "a\u{7f}",
            "a\u{85}b",
            "a\u{9b}",
        ] {
            assert!(
                matches!(bounded(bad, 100), Err(TextError::Control(_))),
                "{bad:?}"
            );
            assert!(
                matches!(bounded_multiline(bad, 100), Err(TextError::Control(_))),
                "{bad:?}"
            );
        }
        for bad in ["\u{202E}gnp.exe", "a\u{2066}b", "a\u{202A}"] {
            assert!(
                matches!(bounded(bad, 100), Err(TextError::Bidi(_))),
                "{bad:?}"
            );
            assert!(matches!(
                bounded_multiline(bad, 100),
                Err(TextError::Bidi(_))
            ));
        }
        // Line breaks and tabs: only in multi-line text.
        assert!(matches!(
            bounded("a\nb", 100),
            Err(TextError::Control('\n'))
        ));
        assert!(matches!(
            bounded("a\tb", 100),
            Err(TextError::Control('\t'))
        ));
        assert_eq!(
            bounded_multiline("\n  Dòng một\t nữa \r\n\r\nDòng  ba\n\n", 100).unwrap(),
            Some("Dòng một nữa\n\nDòng ba".into())
        );
        assert_eq!(
            check_key("000.00.51.H26-261102-0001"),
            Ok("000.00.51.H26-261102-0001")
        );
        assert!(check_key("000.00.51.H26\u{0}").is_err());
        assert_eq!(
            bounded("x".repeat(5).as_str(), 4),
            Err(TextError::TooLong(5))
        );
    }

    #[test]
    fn names_lose_zero_width_characters_and_need_a_letter() {
        assert_eq!(
            name("Nguy\u{200B}ễn Thị\u{FEFF} Hồng", 100).unwrap(),
            Some("Nguyễn Thị Hồng".into())
        );
        for bad in ["12345", "---", "\u{200B}1", "..."] {
            assert_eq!(name(bad, 100), Err(TextError::NoLetter), "{bad:?}");
        }
        assert!(matches!(name("An\u{0}", 100), Err(TextError::Control(_))));
        assert_eq!(name("   ", 100), Ok(None));
        // A name in any script passes.
        assert_eq!(
            name("Đặng Thị Ánh", 100).unwrap(),
            Some("Đặng Thị Ánh".into())
        );
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

/// The keys a folded name is found by in the staff search: the name from each of its
/// words on (`nguyen thi hong nhung` → itself, `thi hong nhung`, `hong nhung`, `nhung`),
/// so that any text starting at a word of the name is a prefix of one key.
pub fn word_starts(folded: &str) -> Vec<&str> {
    let mut keys = vec![folded];
    keys.extend(
        folded
            .char_indices()
            .filter(|(_, c)| *c == ' ')
            .map(|(i, _)| &folded[i + 1..])
            .filter(|k| !k.is_empty()),
    );
    keys.dedup();
    keys
}

#[cfg(test)]
mod fold_tests {
    #[test]
    fn a_name_is_found_from_each_word() {
        assert_eq!(
            super::word_starts("nguyen thi hong nhung"),
            [
                "nguyen thi hong nhung",
                "thi hong nhung",
                "hong nhung",
                "nhung"
            ]
        );
        assert_eq!(super::word_starts("an"), ["an"]);
        assert_eq!(super::word_starts(""), [""]);
    }

    #[test]
    fn diacritics_fold_away() {
        assert_eq!(super::fold("Nguyễn Văn  Đức"), "nguyen van duc");
        assert_eq!(super::fold("Ủy ban nhân dân"), "uy ban nhan dan");
    }
}
