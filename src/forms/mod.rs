//! Declarative PDF renderer for the statutory one-stop-shop forms
//! (TT 03/2025 Appendix I: 01 receipt, 02 supplement request, 03 refusal, …).
//!
//! One TOML template per form lives in `forms/*.toml`; [`render`] binds a
//! [`FormData`] into it and returns PDF bytes. Text is set in Liberation Serif
//! (metric-compatible with Times New Roman, full Vietnamese coverage), embedded
//! as a subset, so a one-page form stays small. The layout follows NĐ 30/2020:
//! A4, margins 20–25 / 20–25 / 30–35 / 15–20 mm, 13 pt body, agency block on
//! the left and national heading on the right.
//!
//! Text must be precomposed (NFC): there is no shaping. Bound values are
//! normalised to NFC anyway; template text should already be NFC.
//!
//! # Template format
//!
//! ```toml
//! [form]
//! id = "01"
//! title = "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"   # PDF metadata title
//!
//! [page]                      # every key optional; defaults shown
//! size = "A4"                 # "A4", "A5" or "custom" (+ width_mm, height_mm)
//! margin_top_mm = 20
//! margin_bottom_mm = 20
//! margin_left_mm = 30
//! margin_right_mm = 15
//! font_size = 13              # body size in pt
//! line_height = 1.2           # multiple of the font size
//! paragraph_spacing_pt = 3    # after paragraphs, fields and rows
//! page_numbers = true         # from page 2, centred in the top margin
//!
//! [[block]]                   # blocks are laid out top to bottom
//! type = "…"
//! ```
//!
//! Keys every block accepts: `if = "key"` (print only when the value is present
//! and non-blank, or a non-empty row list), `unless = "key"` (the opposite),
//! `space_before_pt`, `space_after_pt`.
//!
//! ## Text, placeholders and markup
//! Every text (except table cells, which print data as is) may contain
//! `{key}` — replaced by the [`Value::Text`] bound to `key`; missing, blank
//! or `Rows` values print nothing — or `{key|default}` which prints `default`
//! instead. `{{` and `}}` print braces. Inline markup: `**bold**`, `*italic*`,
//! `\*` for a star (markup is read from the template only, never from data).
//! A newline in the text or in a value forces a line break. Lines wrap at
//! spaces to the available width (measured from the font's advance widths);
//! a word longer than the line is split between characters.
//!
//! Text style keys (where listed): `size` (pt), `bold`, `italic`, `upper`
//! (upper-case after substitution), `align` = "left" | "center" | "right" |
//! "justify" (both edges; the last line of a paragraph and lines ended by a
//! hard break stay left-aligned, and so does a line whose gaps would grow
//! past three spaces).
//!
//! ## Block types
//! - `heading` — the NĐ 30/2020 two-column top block.
//!   `left_width_mm` (default 42 % of the text width), `left = [line, …]`,
//!   `right = [line, …]` (defaults to "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" bold
//!   12 pt / "Độc lập - Tự do - Hạnh phúc" bold 13 pt with a rule under it),
//!   `left_after` / `right_after` — lines that start on a common baseline below
//!   both columns ("Số: …" and "…, ngày … tháng … năm …"). A line is
//!   `{ text, size, bold, italic, upper, align (default center), rule, rule_ratio }`;
//!   `rule = true` draws a short rule under it, `rule_ratio` of its width.
//! - `title` — centred bold 14 pt paragraph, kept with the next lines:
//!   `text`, `size`, `align`, `upper`, `italic`.
//! - `paragraph` — `text`, style keys (`align` defaults to "justify", as
//!   NĐ 30/2020 wants body text), `indent_mm` (first line), `left_mm`.
//! - `field` — label/value line: `label`, `value`, `bold_label`, `bold_value`,
//!   `size`, `left_mm`, `label_width_mm` (value in its own column, wrapped
//!   under itself; without it label and value flow as one justified
//!   paragraph).
//! - `row` — cells side by side: `cells = [{ text, width_mm, align, bold,
//!   italic }, …]` (cells without a width share the rest), `size`, `left_mm`.
//! - `table` — ruled table bound to a [`Value::Rows`]: `rows = "key"`,
//!   `columns = [{ header, width_mm, align, number }, …]` (a column with
//!   `number = true` prints 1, 2, … and takes no data cell; the others take
//!   the row's cells in order; columns without `width_mm` share the rest),
//!   `size`, `padding_mm` (1.2), `header_bold` (true), `min_rows` (blank rows
//!   for handwriting), `left_mm`. Cells wrap; rows that do not fit move to the
//!   next page and the header row is repeated; a row taller than a page is
//!   split.
//! - `signatures` — `columns = [{ above, title, hint, name, width_mm }, …]`:
//!   per column an italic `above` line (e.g. date), bold `title`, italic
//!   `hint` ("(Ký, ghi rõ họ tên)"), `space_mm` of blank space (22), bold
//!   `name`. Kept on one page; sections line up across columns.
//! - `qr` — QR code (error correction M, vector squares): `value` (template
//!   text, e.g. "{status_url}"), `size_mm` (25, including a 4-module quiet
//!   zone), `caption` (small italic, under the code), `border`. Placed in the
//!   flow with `align` (right by default) and an optional `text` paragraph
//!   beside it, or absolutely with `x_mm` + `y_mm` (box's top-left corner from
//!   the page's top-left, on the current page; the flow does not move).
//!   Nothing is drawn when the value is empty.
//! - `spacer` — `height_mm`.
//! - `page_break`.
//!
//! Parse errors name the line and key (template line 12, key `size`: …) or
//! the block (template line 40, block #4 (type = "table"): key `colums`: unknown field …).

pub mod library;
pub use library::Forms;
mod html;
pub use html::render_html;
mod layout;
mod template;
mod text;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_notices;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use printpdf::{Mm, ParsedFont, PdfDocument, PdfPage, PdfSaveOptions};

pub use template::Align;
use template::{BlockKind, Parsed};
use text::{Face, Metrics};

/// A value bound into a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Substituted for `{key}` placeholders.
    Text(String),
    /// Body rows of a table (cells in column order, without the number column).
    Rows(Vec<Vec<String>>),
}

/// The values bound into a template, by placeholder name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormData(pub BTreeMap<String, Value>);

impl FormData {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bind `key` to text (builder style).
    pub fn with_text(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.insert(key.to_string(), Value::Text(value.into()));
        self
    }

    /// Bind `key` to table rows (builder style).
    pub fn with_rows(mut self, key: &str, rows: Vec<Vec<String>>) -> Self {
        self.0.insert(key.to_string(), Value::Rows(rows));
        self
    }
}

/// A parsed form template.
#[derive(Debug, Clone)]
pub struct FormTemplate {
    parsed: Parsed,
}

impl FormTemplate {
    /// Parse TOML template text. The error names the line and key, or the block.
    pub fn parse(toml_text: &str) -> Result<Self, String> {
        template::parse(toml_text).map(|parsed| FormTemplate { parsed })
    }

    /// `[form] id`.
    pub fn id(&self) -> &str {
        &self.parsed.form.id
    }

    /// `[form] title`.
    pub fn title(&self) -> &str {
        &self.parsed.form.title
    }

    /// Every data key the template refers to: `{placeholders}`, table `rows`
    /// and `if` / `unless` conditions.
    pub fn keys(&self) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        let mut add = |s: &str| collect_keys(s, &mut keys);
        for b in &self.parsed.blocks {
            let mut texts: Vec<&str> = Vec::new();
            match &b.kind {
                BlockKind::Heading(h) => {
                    let right = h.right.iter().flatten();
                    for l in h
                        .left
                        .iter()
                        .chain(right)
                        .chain(&h.left_after)
                        .chain(&h.right_after)
                    {
                        texts.push(&l.text);
                    }
                }
                BlockKind::Title(p) | BlockKind::Paragraph(p) => texts.push(&p.text),
                BlockKind::Field(f) => texts.extend([f.label.as_str(), f.value.as_str()]),
                BlockKind::Row(r) => texts.extend(r.cells.iter().map(|c| c.text.as_str())),
                BlockKind::Table(t) => {
                    texts.extend(t.columns.iter().map(|c| c.header.as_str()));
                    add(&format!("{{{}}}", t.rows));
                }
                BlockKind::Signatures(s) => {
                    for c in &s.columns {
                        texts.extend([
                            c.above.as_str(),
                            c.title.as_str(),
                            c.hint.as_str(),
                            c.name.as_str(),
                        ]);
                    }
                }
                BlockKind::Qr(q) => {
                    texts.extend([q.value.as_str(), q.text.as_str(), q.caption.as_str()])
                }
                BlockKind::Spacer(_) | BlockKind::PageBreak => {}
            }
            for k in b.if_present.iter().chain(&b.unless_present) {
                add(&format!("{{{k}}}"));
            }
            for t in texts {
                add(t);
            }
        }
        keys
    }
}

fn collect_keys(s: &str, keys: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(p) = rest.find('{') {
        let after = &rest[p..];
        if let Some(stripped) = after.strip_prefix("{{") {
            rest = stripped;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                let inner = &after[1..end];
                let key = inner.split('|').next().unwrap_or("").trim();
                if !key.is_empty() {
                    keys.insert(key.to_string());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
}

/// File names of the three faces inside the fonts directory.
pub const FONT_FILES: [&str; 3] = [
    "LiberationSerif-Regular.ttf",
    "LiberationSerif-Bold.ttf",
    "LiberationSerif-Italic.ttf",
];

/// The three Liberation Serif faces, parsed once and shared by every render.
pub struct Fonts {
    regular: Metrics,
    bold: Metrics,
    italic: Metrics,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fonts(Liberation Serif regular, bold, italic)")
    }
}

impl Fonts {
    /// Load [`FONT_FILES`] from `dir` (normally `forms/fonts`).
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let read = |name: &str| std::fs::read(dir.join(name));
        Self::from_bytes(
            &read(FONT_FILES[0])?,
            &read(FONT_FILES[1])?,
            &read(FONT_FILES[2])?,
        )
    }

    /// Build from TTF bytes (e.g. `include_bytes!`).
    pub fn from_bytes(regular: &[u8], bold: &[u8], italic: &[u8]) -> std::io::Result<Self> {
        let parse = |bytes: &[u8], which: &str| -> std::io::Result<Metrics> {
            let font = ParsedFont::from_bytes(bytes, 0, &mut Vec::new()).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{which} font: not a usable TrueType font"),
                )
            })?;
            for c in ['Ạ', 'ễ', 'Đ', 'ư', 'ợ'] {
                if font.lookup_glyph_index(c as u32).unwrap_or(0) == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "{which} font: no Vietnamese glyphs (missing U+{:04X})",
                            c as u32
                        ),
                    ));
                }
            }
            Ok(Metrics::new(font))
        };
        Ok(Fonts {
            regular: parse(regular, "regular")?,
            bold: parse(bold, "bold")?,
            italic: parse(italic, "italic")?,
        })
    }

    fn face(&self, f: Face) -> &Metrics {
        match f {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Italic => &self.italic,
        }
    }
}

/// Render `t` with `data` into PDF bytes. Does no I/O.
pub fn render(t: &FormTemplate, data: &FormData, fonts: &Fonts) -> Result<Vec<u8>, String> {
    let p = &t.parsed;
    let title = if p.form.title.is_empty() {
        p.form.id.as_str()
    } else {
        p.form.title.as_str()
    };
    let mut doc = PdfDocument::new(title);
    let ids = [
        doc.add_font(&fonts.regular.font),
        doc.add_font(&fonts.bold.font),
        doc.add_font(&fonts.italic.font),
    ];
    let mut lay = layout::Layout::new(&p.page, fonts, data, &ids)?;
    for b in &p.blocks {
        lay.block(b)?;
    }
    let (w, h) = layout::page_size_mm(&p.page);
    let pages = lay
        .finish()
        .into_iter()
        .map(|ops| PdfPage::new(Mm(w), Mm(h), ops))
        .collect();
    let opts = PdfSaveOptions {
        optimize: true,
        subset_fonts: true,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let bytes = doc.with_pages(pages).save(&opts, &mut warnings);
    if !bytes.starts_with(b"%PDF-") {
        return Err("pdf: serialisation produced no document".into());
    }
    Ok(bytes)
}
