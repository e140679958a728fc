//! The same templates rendered as HTML, for reading a form inside a page before printing
//! it (issue #15: forms 02–06 previewed on the dossier page). One template, two
//! renderings: the blocks, placeholders, `if` / `unless` conditions and markup are those
//! of the PDF; the page's stylesheet sets the sheet (`.giay*` classes: no inline style, the
//! pages' Content-Security-Policy forbids it). Sizes and widths in millimetres are the
//! PDF's business: here the text flows, cells share the width, font sizes are rounded to
//! a class (`fs-12` …).
//!
//! Pure: no I/O.

use std::fmt::Write as _;

use super::template::{Align, BlockKind, TextLine};
use super::text::{runs, substitute, Face};
use super::{FormData, FormTemplate, Value};

/// HTML-escapes `s` (text and attribute values).
fn esc(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
}

/// Template text with its placeholders and `**bold**` / `*italic*` markup, as HTML.
fn inline(tpl: &str, data: &FormData, bold: bool, italic: bool, upper: bool) -> String {
    let mut out = String::new();
    for r in runs(tpl, data, bold, italic, upper) {
        let (open, close) = match r.face {
            Face::Bold => ("<strong>", "</strong>"),
            Face::Italic => ("<em>", "</em>"),
            Face::Regular => ("", ""),
        };
        out.push_str(open);
        esc(&r.text, &mut out);
        out.push_str(close);
    }
    out
}

fn align_class(a: Option<Align>, default: Align) -> &'static str {
    match a.unwrap_or(default) {
        Align::Left => "a-left",
        Align::Center => "a-center",
        Align::Right => "a-right",
        Align::Justify => "a-justify",
    }
}

/// The font-size class of `size` pt (`fs-10` … `fs-16`), none at the body size.
fn size_class(size: Option<f32>, body: f32) -> String {
    match size {
        Some(s) if (s - body).abs() >= 0.5 => {
            format!(" fs-{}", (s.round() as i32).clamp(10, 16))
        }
        _ => String::new(),
    }
}

fn lines(ls: &[TextLine], data: &FormData, body: f32, out: &mut String) {
    for l in ls {
        let text = inline(&l.text, data, l.bold, l.italic, l.upper);
        let _ = write!(
            out,
            "<p class=\"{}{}{}\">{text}</p>",
            align_class(l.align, Align::Center),
            size_class(l.size, body),
            if l.rule { " rule" } else { "" },
        );
    }
}

/// The national heading the PDF prints when a heading has no right column.
fn national(out: &mut String) {
    out.push_str(
        "<p class=\"a-center fs-12\"><strong>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</strong></p>\
         <p class=\"a-center rule\"><strong>Độc lập - Tự do - Hạnh phúc</strong></p>",
    );
}

/// A QR code as SVG squares (error correction M, as on the PDF), or nothing.
fn qr_svg(value: &str, label: &str) -> String {
    let Ok(code) =
        qrcode::QrCode::with_error_correction_level(value.as_bytes(), qrcode::EcLevel::M)
    else {
        return String::new();
    };
    let n = code.width();
    let colors = code.to_colors();
    let mut d = String::new();
    for r in 0..n {
        for c in 0..n {
            if colors[r * n + c] == qrcode::Color::Dark {
                let _ = write!(d, "M{} {}h1v1h-1z", c + 4, r + 4);
            }
        }
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"giay-qr\" viewBox=\"0 0 {s} {s}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>",
        s = n + 8
    );
    esc(label, &mut out);
    let _ = write!(
        out,
        "</title><rect width=\"{s}\" height=\"{s}\" fill=\"#fff\"/><path d=\"{d}\" fill=\"#000\"/></svg>",
        s = n + 8
    );
    out
}

/// Renders `t` with `data` as an HTML fragment: one `<div class="giay">` sheet.
pub fn render_html(t: &FormTemplate, data: &FormData) -> String {
    let p = &t.parsed;
    let body = p.page.font_size;
    let mut out = String::with_capacity(4096);
    out.push_str("<div class=\"giay\">");
    for b in &p.blocks {
        if b.if_present.as_ref().is_some_and(|k| !data.is_present(k))
            || b.unless_present
                .as_ref()
                .is_some_and(|k| data.is_present(k))
        {
            continue;
        }
        match &b.kind {
            BlockKind::Heading(h) => {
                out.push_str("<div class=\"giay-heading\"><div class=\"giay-col giay-left\">");
                lines(&h.left, data, body, &mut out);
                out.push_str("</div><div class=\"giay-col giay-right\">");
                match &h.right {
                    Some(r) => lines(r, data, body, &mut out),
                    None => national(&mut out),
                }
                out.push_str("</div></div>");
                if !h.left_after.is_empty() || !h.right_after.is_empty() {
                    out.push_str(
                        "<div class=\"giay-heading giay-after\"><div class=\"giay-col giay-left\">",
                    );
                    lines(&h.left_after, data, body, &mut out);
                    out.push_str("</div><div class=\"giay-col giay-right\">");
                    lines(&h.right_after, data, body, &mut out);
                    out.push_str("</div></div>");
                }
            }
            BlockKind::Title(t) => {
                let _ = write!(
                    out,
                    "<p class=\"giay-title {}{}\">{}</p>",
                    align_class(t.align, Align::Center),
                    size_class(t.size, 14.0),
                    inline(&t.text, data, true, t.italic, t.upper)
                );
            }
            BlockKind::Paragraph(t) => {
                let _ = write!(
                    out,
                    "<p class=\"giay-p {}{}{}{}\">{}</p>",
                    align_class(t.align, Align::Justify),
                    size_class(t.size, body),
                    if t.indent_mm > 0.0 { " indent" } else { "" },
                    if t.left_mm > 0.0 { " inset" } else { "" },
                    inline(&t.text, data, t.bold, t.italic, t.upper)
                );
            }
            BlockKind::Field(f) => {
                let _ = write!(
                    out,
                    "<p class=\"giay-field{}{}{}\"><span class=\"giay-label\">{}</span> <span class=\"giay-value\">{}</span></p>",
                    size_class(f.size, body),
                    if f.left_mm > 0.0 { " inset" } else { "" },
                    if f.label_width_mm.is_some() { " columns" } else { "" },
                    inline(&f.label, data, f.bold_label, false, false),
                    inline(&f.value, data, f.bold_value, false, false)
                );
            }
            BlockKind::Row(r) => {
                let _ = write!(
                    out,
                    "<div class=\"giay-row{}{}\">",
                    size_class(r.size, body),
                    if r.left_mm > 0.0 { " inset" } else { "" }
                );
                for c in &r.cells {
                    let _ = write!(
                        out,
                        "<p class=\"{}\">{}</p>",
                        align_class(c.align, Align::Left),
                        inline(&c.text, data, c.bold, c.italic, false)
                    );
                }
                out.push_str("</div>");
            }
            BlockKind::Table(t) => {
                let _ = write!(
                    out,
                    "<div class=\"giay-table-wrap\"><table class=\"giay-table{}\"><thead><tr>",
                    size_class(t.size, body)
                );
                for c in &t.columns {
                    out.push_str(if c.number {
                        "<th scope=\"col\" class=\"num\">"
                    } else {
                        "<th scope=\"col\">"
                    });
                    out.push_str(&inline(&c.header, data, t.header_bold, false, false));
                    out.push_str("</th>");
                }
                out.push_str("</tr></thead><tbody>");
                let rows: &[Vec<String>] = match data.0.get(&t.rows) {
                    Some(Value::Rows(r)) => r,
                    _ => &[],
                };
                let total = rows.len().max(t.min_rows);
                for i in 0..total {
                    out.push_str("<tr>");
                    let mut cells = rows.get(i).map(|r| r.iter());
                    for c in &t.columns {
                        let _ = write!(out, "<td class=\"{}\">", align_class(c.align, Align::Left));
                        if c.number {
                            if i < rows.len() {
                                let _ = write!(out, "{}", i + 1);
                            }
                        } else if let Some(cell) = cells.as_mut().and_then(|it| it.next()) {
                            // Cells print data as is (no markup, no placeholders).
                            esc(cell, &mut out);
                        }
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody></table></div>");
            }
            BlockKind::Signatures(s) => {
                let _ = write!(
                    out,
                    "<div class=\"giay-signs{}\">",
                    size_class(s.size, body)
                );
                for c in &s.columns {
                    out.push_str("<div class=\"giay-sign\">");
                    for (text, class, bold, italic) in [
                        (&c.above, "i", false, true),
                        (&c.title, "b", true, false),
                        (&c.hint, "i", false, true),
                    ] {
                        let _ = write!(
                            out,
                            "<p class=\"{class}\">{}</p>",
                            inline(text, data, bold, italic, false)
                        );
                    }
                    out.push_str("<div class=\"giay-sign-space\"></div>");
                    let _ = write!(
                        out,
                        "<p class=\"b\">{}</p></div>",
                        inline(&c.name, data, true, false, false)
                    );
                }
                out.push_str("</div>");
            }
            BlockKind::Qr(q) => {
                let value = substitute(&q.value, data);
                if value.trim().is_empty() {
                    continue;
                }
                out.push_str("<div class=\"giay-qr-box\">");
                if !q.text.is_empty() {
                    let _ = write!(
                        out,
                        "<p class=\"giay-p a-justify\">{}</p>",
                        inline(&q.text, data, false, false, false)
                    );
                }
                out.push_str("<figure>");
                out.push_str(&qr_svg(&value, "Mã QR tra cứu hồ sơ"));
                if !q.caption.is_empty() {
                    let _ = write!(
                        out,
                        "<figcaption>{}</figcaption>",
                        inline(&q.caption, data, false, true, false)
                    );
                }
                out.push_str("</figure></div>");
            }
            BlockKind::Spacer(_) => out.push_str("<div class=\"giay-spacer\"></div>"),
            BlockKind::PageBreak => out.push_str("<hr class=\"giay-break\">"),
        }
    }
    out.push_str("</div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(blocks: &str) -> FormTemplate {
        FormTemplate::parse(&format!("[form]\nid = \"99\"\n{blocks}")).unwrap()
    }

    #[test]
    fn placeholders_markup_and_escaping() {
        let t = template(
            "[[block]]\ntype = \"paragraph\"\ntext = \"Ông/bà **{name}** ở *{place|……}*\"\n",
        );
        let html = render_html(&t, &FormData::new().with_text("name", "<Lê & Vũ>"));
        assert!(
            html.contains("Ông/bà <strong>&lt;Lê &amp; Vũ&gt;</strong> ở <em>……</em>"),
            "{html}"
        );
    }

    #[test]
    fn conditions_and_tables_follow_the_pdf() {
        let t = template(
            "[[block]]\ntype = \"paragraph\"\nif = \"code\"\ntext = \"Mã: {code}\"\n\
             [[block]]\ntype = \"paragraph\"\nunless = \"code\"\ntext = \"Chưa có mã\"\n\
             [[block]]\ntype = \"table\"\nrows = \"items\"\nmin_rows = 3\n\
             columns = [{ header = \"STT\", number = true }, { header = \"Nội dung\" }]\n",
        );
        let html = render_html(
            &t,
            &FormData::new().with_rows("items", vec![vec!["Bản sao *giấy* khai sinh".into()]]),
        );
        assert!(
            html.contains("Chưa có mã") && !html.contains("Mã:"),
            "{html}"
        );
        // Data in cells is printed as is; blank rows for handwriting up to min_rows.
        assert!(
            html.contains(
                "<td class=\"a-left\">1</td><td class=\"a-left\">Bản sao *giấy* khai sinh</td>"
            ),
            "{html}"
        );
        assert_eq!(html.matches("<tr>").count(), 4, "{html}");
        let html = render_html(
            &t,
            &FormData::new().with_text("code", "000.00.51.H26-261102-0001"),
        );
        assert!(html.contains("Mã: 000.00.51.H26-261102-0001") && !html.contains("Chưa có mã"));
    }

    #[test]
    fn a_heading_without_a_right_column_has_the_national_heading() {
        let t = template(
            "[[block]]\ntype = \"heading\"\nleft = [{ text = \"{agency}\", upper = true }]\n",
        );
        let html = render_html(
            &t,
            &FormData::new().with_text("agency", "Ủy ban nhân dân phường"),
        );
        assert!(html.contains("ỦY BAN NHÂN DÂN PHƯỜNG"), "{html}");
        assert!(html.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert!(
            !html.contains("style="),
            "no inline style under the pages' CSP"
        );
    }

    #[test]
    fn every_shipped_form_renders_every_value_it_names() {
        let mut seen = 0;
        for entry in std::fs::read_dir("forms").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let t = FormTemplate::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let mut data = FormData::new();
            for k in t.keys() {
                data = data.with_text(&k, format!("«{k}»"));
            }
            let html = render_html(&t, &data);
            assert!(
                !html.contains('{'),
                "{}: a placeholder left: {html}",
                path.display()
            );
            assert_eq!(
                html.matches("<div").count(),
                html.matches("</div>").count(),
                "{}",
                path.display()
            );
            assert!(!html.contains("style="), "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 6, "forms 01–06 at least: {seen}");
    }
}
