//! The file name a browser sends: kept only as a label (display, download name),
//! never used to build a path.

use unicode_normalization::UnicodeNormalization;

use super::FileProblem;

/// The longest accepted name, in characters (Unicode scalar values, after NFC).
pub const MAX_NAME_CHARS: usize = 200;

/// NFC-normalises and trims `raw`, then refuses ([`FileProblem::BadName`]) a name that
/// is empty, longer than [`MAX_NAME_CHARS`] characters, equal to `.` or starting with
/// `..`, or containing `/`, `\` (so `C:\fakepath\scan.pdf` too), a control character
/// (NUL, CR, LF, …; checked before trimming, so `"x.pdf\n"` is refused rather than
/// silently fixed) or a bidirectional override/isolate (U+202A–U+202E, U+2066–U+2069,
/// which can make `hoso<U+202E>fdp.exe` display as `hosoexe.pdf`).
pub fn clean_file_name(raw: &str) -> Result<String, FileProblem> {
    let nfc: String = raw.nfc().collect();
    if nfc.chars().any(forbidden) {
        return Err(FileProblem::BadName);
    }
    let name = nfc.trim();
    if name.is_empty()
        || name == "."
        || name.starts_with("..")
        || name.chars().count() > MAX_NAME_CHARS
    {
        return Err(FileProblem::BadName);
    }
    Ok(name.to_owned())
}

fn forbidden(c: char) -> bool {
    matches!(c, '/' | '\\' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') || c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(raw: &str) {
        assert_eq!(clean_file_name(raw), Err(FileProblem::BadName), "{raw:?}");
    }

    #[test]
    fn refuses_traversal_and_separators() {
        bad("../../etc/passwd");
        bad("..");
        bad(".");
        bad("...pdf");
        bad("..hidden.pdf");
        bad(" ../x.pdf");
        bad("a/b.pdf");
        bad("/etc/passwd");
        bad("C:\\fakepath\\x.pdf");
        bad("..\\..\\windows\\win.ini");
    }

    #[test]
    fn refuses_control_and_bidi_characters() {
        bad("\u{0}x.pdf");
        bad("x.pdf\u{0}.exe");
        bad("a\nb.pdf");
        bad("x.pdf\r\n");
        bad("tab\there.pdf");
        bad("del\u{7f}.pdf");
        bad("c1\u{85}.pdf");
        bad("hoso\u{202E}fdp.exe");
        bad("hoso\u{2067}x.pdf");
    }

    #[test]
    fn refuses_empty_and_blank() {
        bad("");
        bad("   ");
        bad("\u{3000}");
    }

    #[test]
    fn trims_and_normalises_to_nfc() {
        assert_eq!(
            clean_file_name("  Giấy khai sinh.pdf ").unwrap(),
            "Giấy khai sinh.pdf"
        );
        // "Giấy" typed with combining marks (a + circumflex + acute): becomes precomposed.
        let decomposed = "Gia\u{0302}\u{0301}y khai sinh.pdf";
        assert_ne!(decomposed, "Giấy khai sinh.pdf");
        assert_eq!(clean_file_name(decomposed).unwrap(), "Giấy khai sinh.pdf");
        // Ordinary names pass unchanged, dots inside included.
        assert_eq!(clean_file_name("scan.v2.pdf").unwrap(), "scan.v2.pdf");
        assert_eq!(clean_file_name(".hidden.pdf").unwrap(), ".hidden.pdf");
        assert_eq!(clean_file_name("a..b.pdf").unwrap(), "a..b.pdf");
    }

    #[test]
    fn length_is_counted_in_characters_after_trimming() {
        let ok = "a".repeat(MAX_NAME_CHARS);
        assert_eq!(clean_file_name(&ok).unwrap(), ok);
        assert_eq!(clean_file_name(&format!("  {ok}  ")).unwrap(), ok);
        bad(&"a".repeat(MAX_NAME_CHARS + 1));
        // 200 Vietnamese letters are 400+ bytes but still 200 characters.
        let viet = "ữ".repeat(MAX_NAME_CHARS);
        assert_eq!(clean_file_name(&viet).unwrap(), viet);
        // Decomposed, the same 200 letters are 600 chars before NFC: NFC counts.
        let viet_nfd = "u\u{031B}\u{0303}".repeat(MAX_NAME_CHARS);
        assert_eq!(clean_file_name(&viet_nfd).unwrap(), viet);
        bad(&"ữ".repeat(MAX_NAME_CHARS + 1));
    }
}
