//! Template model: the TOML text is parsed into these structs. See the module
//! documentation in `mod.rs` for the format.

use serde::de::DeserializeOwned;
use serde::Deserialize;

/// Horizontal alignment of a line inside its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
    /// Both edges aligned (last line of a paragraph left-aligned).
    Justify,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FormMeta {
    /// Short identifier, e.g. "01".
    #[serde(default)]
    pub id: String,
    /// Document title written into the PDF metadata.
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PageSpec {
    /// "A4" (default), "A5" or "custom" (then width_mm / height_mm are used).
    pub size: String,
    pub width_mm: Option<f32>,
    pub height_mm: Option<f32>,
    pub margin_top_mm: f32,
    pub margin_bottom_mm: f32,
    pub margin_left_mm: f32,
    pub margin_right_mm: f32,
    /// Body font size in pt (NĐ 30/2020: 13–14).
    pub font_size: f32,
    /// Line height as a multiple of the font size.
    pub line_height: f32,
    /// Space after paragraphs, fields and rows, in pt.
    pub paragraph_spacing_pt: f32,
    /// Print page numbers (from page 2, centred in the top margin, NĐ 30/2020).
    pub page_numbers: bool,
}

impl Default for PageSpec {
    fn default() -> Self {
        PageSpec {
            size: "A4".into(),
            width_mm: None,
            height_mm: None,
            margin_top_mm: 20.0,
            margin_bottom_mm: 20.0,
            margin_left_mm: 30.0,
            margin_right_mm: 15.0,
            font_size: 13.0,
            line_height: 1.2,
            paragraph_spacing_pt: 3.0,
            page_numbers: true,
        }
    }
}

/// Text style shared by every element that prints text.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TextLine {
    pub text: String,
    #[serde(default)]
    pub size: Option<f32>,
    #[serde(default)]
    pub bold: bool,
    #[serde(default)]
    pub italic: bool,
    /// Upper-case the line after substitution.
    #[serde(default)]
    pub upper: bool,
    /// Draw a short rule under the line.
    #[serde(default)]
    pub rule: bool,
    /// Rule length as a fraction of the printed line's width (default 1.0).
    #[serde(default)]
    pub rule_ratio: Option<f32>,
    /// Alignment inside the column (heading lines default to centre).
    #[serde(default)]
    pub align: Option<Align>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadingBlock {
    /// Width of the left (agency) column; the right column takes the rest.
    #[serde(default)]
    pub left_width_mm: Option<f32>,
    #[serde(default)]
    pub left: Vec<TextLine>,
    /// Defaults to the national heading when omitted.
    #[serde(default)]
    pub right: Option<Vec<TextLine>>,
    /// Lines printed below both columns, on a common baseline
    /// (e.g. "Số: …" on the left and "…, ngày … tháng … năm …" on the right).
    #[serde(default)]
    pub left_after: Vec<TextLine>,
    #[serde(default)]
    pub right_after: Vec<TextLine>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParagraphBlock {
    pub text: String,
    #[serde(default)]
    pub size: Option<f32>,
    #[serde(default)]
    pub bold: bool,
    #[serde(default)]
    pub italic: bool,
    #[serde(default)]
    pub upper: bool,
    #[serde(default)]
    pub align: Option<Align>,
    /// First-line indent.
    #[serde(default)]
    pub indent_mm: f32,
    /// Indent of the whole paragraph from the left margin.
    #[serde(default)]
    pub left_mm: f32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldBlock {
    pub label: String,
    pub value: String,
    /// When set, the value starts at this offset and wraps under itself;
    /// otherwise label and value flow as one paragraph.
    #[serde(default)]
    pub label_width_mm: Option<f32>,
    #[serde(default)]
    pub size: Option<f32>,
    #[serde(default)]
    pub bold_label: bool,
    #[serde(default)]
    pub bold_value: bool,
    #[serde(default)]
    pub left_mm: f32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowCell {
    pub text: String,
    #[serde(default)]
    pub width_mm: Option<f32>,
    #[serde(default)]
    pub align: Option<Align>,
    #[serde(default)]
    pub bold: bool,
    #[serde(default)]
    pub italic: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowBlock {
    pub cells: Vec<RowCell>,
    #[serde(default)]
    pub size: Option<f32>,
    #[serde(default)]
    pub left_mm: f32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub header: String,
    #[serde(default)]
    pub width_mm: Option<f32>,
    #[serde(default)]
    pub align: Option<Align>,
    /// Print the row number (1, 2, …) instead of consuming a data cell.
    #[serde(default)]
    pub number: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableBlock {
    /// Name of the `Value::Rows` item bound to the table body.
    pub rows: String,
    pub columns: Vec<Column>,
    #[serde(default)]
    pub size: Option<f32>,
    /// Draw at least this many body rows (blank ones for handwriting).
    #[serde(default)]
    pub min_rows: usize,
    #[serde(default = "default_padding")]
    pub padding_mm: f32,
    #[serde(default = "default_true")]
    pub header_bold: bool,
    #[serde(default)]
    pub left_mm: f32,
}

fn default_padding() -> f32 {
    1.2
}
fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureColumn {
    pub title: String,
    #[serde(default)]
    pub hint: String,
    #[serde(default)]
    pub name: String,
    /// Optional italic line above the title (e.g. place and date).
    #[serde(default)]
    pub above: String,
    #[serde(default)]
    pub width_mm: Option<f32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignaturesBlock {
    pub columns: Vec<SignatureColumn>,
    /// Blank space for the handwritten signature (and seal).
    #[serde(default = "default_sign_space")]
    pub space_mm: f32,
    #[serde(default)]
    pub size: Option<f32>,
}

fn default_sign_space() -> f32 {
    22.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrBlock {
    /// Template text encoded in the code, e.g. "{status_url}".
    pub value: String,
    #[serde(default = "default_qr_size")]
    pub size_mm: f32,
    /// Absolute position of the box's top-left corner, from the page's
    /// top-left corner, on the current page; the flow is not moved.
    #[serde(default)]
    pub x_mm: Option<f32>,
    #[serde(default)]
    pub y_mm: Option<f32>,
    /// In-flow placement of the box (default right).
    #[serde(default)]
    pub align: Option<Align>,
    /// In-flow only: paragraph printed beside the box.
    #[serde(default)]
    pub text: String,
    /// Small italic caption under the box.
    #[serde(default)]
    pub caption: String,
    /// Draw a thin frame around the box.
    #[serde(default)]
    pub border: bool,
    #[serde(default)]
    pub size: Option<f32>,
}

fn default_qr_size() -> f32 {
    25.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpacerBlock {
    pub height_mm: f32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmptyBlock {}

#[derive(Debug, Clone)]
pub enum BlockKind {
    Heading(HeadingBlock),
    Title(ParagraphBlock),
    Paragraph(ParagraphBlock),
    Field(FieldBlock),
    Row(RowBlock),
    Table(TableBlock),
    Signatures(SignaturesBlock),
    Qr(QrBlock),
    Spacer(SpacerBlock),
    PageBreak,
}

/// One `[[block]]` entry: the common keys plus the type-specific ones.
#[derive(Debug, Clone)]
pub struct Block {
    pub kind: BlockKind,
    /// Print the block only when this value is present and non-empty.
    pub if_present: Option<String>,
    /// Print the block only when this value is missing or empty.
    pub unless_present: Option<String>,
    pub space_before_pt: Option<f32>,
    pub space_after_pt: Option<f32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    #[serde(default)]
    form: FormMeta,
    #[serde(default)]
    page: PageSpec,
    #[serde(default)]
    block: Vec<toml::Spanned<toml::Table>>,
}

#[derive(Debug, Clone)]
pub struct Parsed {
    pub form: FormMeta,
    pub page: PageSpec,
    pub blocks: Vec<Block>,
}

/// Parse template text; error strings name the offending key and line.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let raw: RawTemplate = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    validate_page(&raw.page)?;
    let mut blocks = Vec::with_capacity(raw.block.len());
    for (i, spanned) in raw.block.into_iter().enumerate() {
        let start = spanned.span().start.min(text.len());
        let line = text[..start].matches('\n').count() + 1;
        blocks.push(parse_block(i + 1, line, spanned.into_inner())?);
    }
    Ok(Parsed {
        form: raw.form,
        page: raw.page,
        blocks,
    })
}

fn validate_page(p: &PageSpec) -> Result<(), String> {
    match p.size.to_ascii_uppercase().as_str() {
        "A4" | "A5" => {}
        "CUSTOM" => {
            if p.width_mm.is_none() || p.height_mm.is_none() {
                return Err("page.size = \"custom\" needs page.width_mm and page.height_mm".into());
            }
        }
        other => {
            return Err(format!(
                "page.size: unknown page size `{other}` (A4, A5 or custom)"
            ))
        }
    }
    let checks = [
        ("page.font_size", p.font_size, 4.0, 40.0),
        ("page.line_height", p.line_height, 0.8, 3.0),
        ("page.margin_top_mm", p.margin_top_mm, 0.0, 100.0),
        ("page.margin_bottom_mm", p.margin_bottom_mm, 0.0, 100.0),
        ("page.margin_left_mm", p.margin_left_mm, 0.0, 100.0),
        ("page.margin_right_mm", p.margin_right_mm, 0.0, 100.0),
        (
            "page.paragraph_spacing_pt",
            p.paragraph_spacing_pt,
            0.0,
            100.0,
        ),
    ];
    for (key, v, lo, hi) in checks {
        if !(lo..=hi).contains(&v) {
            return Err(format!("{key}: {v} is out of range ({lo}..{hi})"));
        }
    }
    Ok(())
}

fn parse_block(index: usize, line: usize, mut t: toml::Table) -> Result<Block, String> {
    let ctx = |msg: String| format!("template line {line}, block #{index}: {msg}");
    let ty = match t.remove("type") {
        Some(toml::Value::String(s)) => s,
        Some(_) => return Err(ctx("key `type` must be a string".into())),
        None => return Err(ctx("missing key `type`".into())),
    };
    let ctx =
        |msg: String| format!("template line {line}, block #{index} (type = \"{ty}\"): {msg}");
    let take_str = |t: &mut toml::Table, key: &str| -> Result<Option<String>, String> {
        match t.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ctx(format!("key `{key}` must be a string"))),
        }
    };
    let take_num = |t: &mut toml::Table, key: &str| -> Result<Option<f32>, String> {
        match t.remove(key) {
            None => Ok(None),
            Some(toml::Value::Float(f)) => Ok(Some(f as f32)),
            Some(toml::Value::Integer(i)) => Ok(Some(i as f32)),
            Some(_) => Err(ctx(format!("key `{key}` must be a number"))),
        }
    };
    let if_present = take_str(&mut t, "if")?;
    let unless_present = take_str(&mut t, "unless")?;
    let space_before_pt = take_num(&mut t, "space_before_pt")?;
    let space_after_pt = take_num(&mut t, "space_after_pt")?;

    fn de<T: DeserializeOwned>(t: toml::Table) -> Result<T, String> {
        serde_path_to_error::deserialize(toml::Value::Table(t)).map_err(|e| {
            let path = e.path().to_string();
            let msg = e.inner().message().trim().replace('\n', " ");
            if path == "." || path.is_empty() {
                msg
            } else {
                format!("key `{path}`: {msg}")
            }
        })
    }
    let kind = match ty.as_str() {
        "heading" => BlockKind::Heading(de(t).map_err(ctx)?),
        "title" => BlockKind::Title(de(t).map_err(ctx)?),
        "paragraph" => BlockKind::Paragraph(de(t).map_err(ctx)?),
        "field" => BlockKind::Field(de(t).map_err(ctx)?),
        "row" => BlockKind::Row(de(t).map_err(ctx)?),
        "table" => BlockKind::Table(de(t).map_err(ctx)?),
        "signatures" => BlockKind::Signatures(de(t).map_err(ctx)?),
        "qr" => BlockKind::Qr(de(t).map_err(ctx)?),
        "spacer" => BlockKind::Spacer(de(t).map_err(ctx)?),
        "page_break" => {
            let _: EmptyBlock = de(t).map_err(ctx)?;
            BlockKind::PageBreak
        }
        other => {
            return Err(ctx(format!(
                "unknown block type `{other}` (heading, title, paragraph, field, row, table, \
                 signatures, qr, spacer, page_break)"
            )))
        }
    };
    if let BlockKind::Table(tb) = &kind {
        if tb.columns.is_empty() {
            return Err(ctx("key `columns` must list at least one column".into()));
        }
    }
    if let BlockKind::Signatures(sb) = &kind {
        if sb.columns.is_empty() {
            return Err(ctx("key `columns` must list at least one column".into()));
        }
    }
    if let BlockKind::Row(rb) = &kind {
        if rb.cells.is_empty() {
            return Err(ctx("key `cells` must list at least one cell".into()));
        }
    }
    if let BlockKind::Qr(q) = &kind {
        if !(5.0..=100.0).contains(&q.size_mm) {
            return Err(ctx(format!(
                "key `size_mm`: {} is out of range (5..100)",
                q.size_mm
            )));
        }
        if q.x_mm.is_some() != q.y_mm.is_some() {
            return Err(ctx("keys `x_mm` and `y_mm` must be given together".into()));
        }
    }
    Ok(Block {
        kind,
        if_present,
        unless_present,
        space_before_pt,
        space_after_pt,
    })
}

/// Turn a TOML error into a one-line operator message naming line and key.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    let Some(span) = e.span() else {
        return format!("template: {msg}");
    };
    let start = span.start.min(text.len());
    let line_no = text[..start].matches('\n').count() + 1;
    let line_start = text[..start].rfind('\n').map(|p| p + 1).unwrap_or(0);
    let line_end = text[start..]
        .find('\n')
        .map(|p| start + p)
        .unwrap_or(text.len());
    let line = text[line_start..line_end].trim();
    let key = line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('['))
        .or_else(|| {
            // A table header such as `[page]` or `[[block]]`.
            let k = line.trim_matches(|c| c == '[' || c == ']').trim();
            (!k.is_empty()).then_some(k)
        });
    match key {
        Some(k) => format!("template line {line_no}, key `{k}`: {msg}"),
        None => format!("template line {line_no}: {msg}"),
    }
}
