//! Placeholder substitution, inline markup, glyph measurement and line breaking.

use super::{Fonts, FormData, Value};
use printpdf::ParsedFont;
use unicode_normalization::UnicodeNormalization;

/// Which of the three embedded faces a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
    Italic,
}

impl Face {
    pub fn from_flags(bold: bool, italic: bool) -> Face {
        // No bold-italic face is shipped: bold wins.
        if bold {
            Face::Bold
        } else if italic {
            Face::Italic
        } else {
            Face::Regular
        }
    }
}

/// A parsed face with the metrics the layout needs.
pub struct Metrics {
    pub font: ParsedFont,
    units_per_em: f32,
    /// Ascender and descender (positive) as fractions of the em.
    pub ascent: f32,
    pub descent: f32,
}

impl Metrics {
    pub fn new(font: ParsedFont) -> Metrics {
        let m = &font.pdf_font_metrics;
        let upem = if m.units_per_em == 0 {
            1000.0
        } else {
            m.units_per_em as f32
        };
        let ascent = m.ascender as f32 / upem;
        let descent = (m.descender as f32).abs() / upem;
        Metrics {
            units_per_em: upem,
            ascent,
            descent,
            font,
        }
    }

    pub fn has_char(&self, c: char) -> bool {
        self.font
            .lookup_glyph_index(c as u32)
            .is_some_and(|g| g != 0)
    }

    /// Advance width of `s` at `size` pt, in pt.
    pub fn width(&self, s: &str, size: f32) -> f32 {
        let units: u32 = s
            .chars()
            .map(|c| {
                let gid = self.font.lookup_glyph_index(c as u32).unwrap_or(0);
                self.font.get_horizontal_advance(gid) as u32
            })
            .sum();
        units as f32 * size / self.units_per_em
    }
}

/// Substitute `{key}` / `{key|default}` in a template fragment.
/// `{{` and `}}` print literal braces; an unterminated `{` is printed as is.
/// Missing keys, empty values and `Rows` values give the default (or nothing).
pub fn substitute(tpl: &str, data: &FormData) -> String {
    let mut out = String::with_capacity(tpl.len() + 16);
    let mut rest = tpl;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(r) = after.strip_prefix("{{") {
            out.push('{');
            rest = r;
        } else if let Some(r) = after.strip_prefix("}}").or_else(|| after.strip_prefix('}')) {
            out.push('}');
            rest = r;
        } else if let Some(end) = after.find('}') {
            let inner = &after[1..end];
            let (key, default) = match inner.split_once('|') {
                Some((k, d)) => (k.trim(), Some(d)),
                None => (inner.trim(), None),
            };
            match data.text(key) {
                Some(v) if !v.trim().is_empty() => out.extend(v.nfc()),
                _ => out.push_str(default.unwrap_or("")),
            }
            rest = &after[end + 1..];
        } else {
            out.push_str(after);
            rest = "";
        }
    }
    out.push_str(rest);
    out
}

impl FormData {
    /// The text bound to `key`, if any.
    pub fn text(&self, key: &str) -> Option<&str> {
        match self.0.get(key) {
            Some(Value::Text(s)) => Some(s.as_str()),
            _ => None,
        }
    }

    /// Whether `key` is bound to non-blank text or to at least one row.
    pub fn is_present(&self, key: &str) -> bool {
        match self.0.get(key) {
            Some(Value::Text(s)) => !s.trim().is_empty(),
            Some(Value::Rows(r)) => !r.is_empty(),
            None => false,
        }
    }
}

/// A run of text in one face.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub face: Face,
    pub text: String,
}

/// Split template text into styled runs (`**bold**`, `*italic*`, `\*` for a
/// literal star) and substitute placeholders inside each run, so that star
/// characters in bound data are never taken as markup.
pub fn runs(
    tpl: &str,
    data: &FormData,
    base_bold: bool,
    base_italic: bool,
    upper: bool,
) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut bold = false;
    let mut italic = false;
    let mut buf = String::new();
    let flush = |buf: &mut String, bold: bool, italic: bool, out: &mut Vec<Run>| {
        if buf.is_empty() {
            return;
        }
        let mut text = substitute(buf, data);
        if upper {
            text = text.to_uppercase();
        }
        let face = Face::from_flags(base_bold || bold, base_italic || italic);
        match out.last_mut() {
            Some(last) if last.face == face => last.text.push_str(&text),
            _ => out.push(Run { face, text }),
        }
        buf.clear();
    };
    let mut chars = tpl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'*') => {
                chars.next();
                buf.push('*');
            }
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                flush(&mut buf, bold, italic, &mut out);
                bold = !bold;
            }
            '*' => {
                flush(&mut buf, bold, italic, &mut out);
                italic = !italic;
            }
            _ => buf.push(c),
        }
    }
    flush(&mut buf, bold, italic, &mut out);
    out
}

/// A piece of a laid-out line: text in one face with its measured width.
#[derive(Debug, Clone)]
pub struct Piece {
    pub face: Face,
    pub text: String,
    pub width: f32,
}

#[derive(Debug, Clone, Default)]
pub struct Line {
    pub pieces: Vec<Piece>,
    pub width: f32,
    /// Last line of a paragraph or ended by a hard break (never justified).
    pub last: bool,
}

impl Line {
    pub fn is_blank(&self) -> bool {
        self.pieces.iter().all(|p| p.text.trim().is_empty())
    }
}

/// Break styled runs into lines no wider than `first_width` (first line) and
/// `width` (the others). Hard line breaks (`\n`) are honoured; words longer
/// than a line are split between characters.
pub fn wrap(runs: &[Run], fonts: &Fonts, size: f32, first_width: f32, width: f32) -> Vec<Line> {
    let fonts = |f: Face| fonts.face(f);
    // Tokens: words (non-space), spaces, and newlines, each in one face.
    enum Tok {
        Word(Face, String),
        Space(Face),
        Newline,
    }
    let mut toks: Vec<Tok> = Vec::new();
    for run in runs {
        let mut word = String::new();
        for c in run.text.chars() {
            let c = sanitize(c, fonts(run.face));
            match c {
                '\n' => {
                    if !word.is_empty() {
                        toks.push(Tok::Word(run.face, std::mem::take(&mut word)));
                    }
                    toks.push(Tok::Newline);
                }
                ' ' => {
                    if !word.is_empty() {
                        toks.push(Tok::Word(run.face, std::mem::take(&mut word)));
                    }
                    toks.push(Tok::Space(run.face));
                }
                '\0' => {}
                _ => word.push(c),
            }
        }
        if !word.is_empty() {
            toks.push(Tok::Word(run.face, word));
        }
    }

    let mut lines: Vec<Line> = Vec::new();
    let mut cur = Line::default();
    let mut pending_space: Option<Face> = None;
    let limit = |lines: &Vec<Line>| if lines.is_empty() { first_width } else { width };

    fn push_text(line: &mut Line, face: Face, text: &str, w: f32) {
        line.width += w;
        match line.pieces.last_mut() {
            Some(p) if p.face == face => {
                p.text.push_str(text);
                p.width += w;
            }
            _ => line.pieces.push(Piece {
                face,
                text: text.to_string(),
                width: w,
            }),
        }
    }

    for tok in toks {
        match tok {
            Tok::Newline => {
                cur.last = true;
                lines.push(std::mem::take(&mut cur));
                pending_space = None;
            }
            Tok::Space(face) => {
                if !cur.pieces.is_empty() {
                    pending_space = Some(face);
                }
            }
            Tok::Word(face, word) => {
                let m = fonts(face);
                let ww = m.width(&word, size);
                let sw = pending_space
                    .map(|f| fonts(f).width(" ", size))
                    .unwrap_or(0.0);
                if cur.width + sw + ww <= limit(&lines) + 0.01 {
                    if let Some(f) = pending_space.take() {
                        push_text(&mut cur, f, " ", sw);
                    }
                    push_text(&mut cur, face, &word, ww);
                    continue;
                }
                // Does not fit: start a new line unless the current one is empty.
                pending_space = None;
                if !cur.pieces.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                }
                if ww <= limit(&lines) + 0.01 {
                    push_text(&mut cur, face, &word, ww);
                    continue;
                }
                // Longer than a whole line: split between characters.
                let mut chunk = String::new();
                let mut chunk_w = 0.0;
                for c in word.chars() {
                    let mut tmp = [0u8; 4];
                    let cw = m.width(c.encode_utf8(&mut tmp), size);
                    if chunk_w + cw > limit(&lines) + 0.01 && !chunk.is_empty() {
                        push_text(&mut cur, face, &chunk, chunk_w);
                        lines.push(std::mem::take(&mut cur));
                        chunk.clear();
                        chunk_w = 0.0;
                    }
                    chunk.push(c);
                    chunk_w += cw;
                }
                if !chunk.is_empty() {
                    push_text(&mut cur, face, &chunk, chunk_w);
                }
            }
        }
    }
    if !cur.pieces.is_empty() || lines.is_empty() {
        cur.last = true;
        lines.push(cur);
    }
    lines
}

/// Map characters the face cannot print: tabs and other whitespace become
/// spaces, control characters are dropped, missing glyphs become '?'.
fn sanitize(c: char, m: &Metrics) -> char {
    match c {
        '\n' | ' ' => c,
        '\r' => '\0',
        c if c.is_whitespace() => ' ',
        c if c.is_control() => '\0',
        c if m.has_char(c) => c,
        _ => '?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn data(pairs: &[(&str, &str)]) -> FormData {
        FormData(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::Text(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn substitution() {
        let d = data(&[("a", "X"), ("blank", "  ")]);
        assert_eq!(
            substitute("[{a}] [{missing}] [{blank|dflt}] {{a}} }", &d),
            "[X] [] [dflt] {a} }"
        );
        assert_eq!(substitute("open { brace", &d), "open { brace");
        assert_eq!(substitute("{ a }", &d), "X");
    }

    #[test]
    fn values_are_normalised_to_nfc() {
        let d = data(&[("n", "Nguye\u{302}\u{303}n")]);
        assert_eq!(substitute("{n}", &d), "Nguyễn");
    }

    #[test]
    fn markup_is_not_read_from_data() {
        let d = data(&[("v", "*not italic*")]);
        let r = runs("**Mã:** {v} \\* *it*", &d, false, false, false);
        assert_eq!(
            r,
            vec![
                Run {
                    face: Face::Bold,
                    text: "Mã:".into()
                },
                Run {
                    face: Face::Regular,
                    text: " *not italic* * ".into()
                },
                Run {
                    face: Face::Italic,
                    text: "it".into()
                },
            ]
        );
    }
}
