//! Flow layout: turns the template's blocks into printpdf operations, page by page.

use super::template::{
    Align, Block, BlockKind, FieldBlock, HeadingBlock, PageSpec, ParagraphBlock, QrBlock, RowBlock,
    SignaturesBlock, TableBlock, TextLine,
};
use super::text::{self, Face, Line, Run};
use super::{Fonts, FormData, Value};
use printpdf::{
    Color, FontId, Greyscale, LinePoint, Op, PaintMode, PdfFontHandle, Point, Pt, Rect, TextItem,
    TextMatrix,
};
use unicode_normalization::UnicodeNormalization;

pub const PT_PER_MM: f32 = 72.0 / 25.4;

fn mm(v: f32) -> f32 {
    v * PT_PER_MM
}

/// Page size in mm for a page spec.
pub fn page_size_mm(p: &PageSpec) -> (f32, f32) {
    match p.size.to_ascii_uppercase().as_str() {
        "A5" => (148.0, 210.0),
        "CUSTOM" => (p.width_mm.unwrap_or(210.0), p.height_mm.unwrap_or(297.0)),
        _ => (210.0, 297.0),
    }
}

const RULE_PT: f32 = 0.6;
const TABLE_RULE_PT: f32 = 0.5;

/// Layout state. Vertical positions are measured in pt from the page top.
pub struct Layout<'a> {
    fonts: &'a Fonts,
    data: &'a FormData,
    ids: &'a [FontId; 3],
    page_h: f32,
    left: f32,
    width: f32,
    top: f32,
    bottom: f32,
    size: f32,
    lh_factor: f32,
    para_space: f32,
    page_numbers: bool,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'a> Layout<'a> {
    pub fn new(
        page: &PageSpec,
        fonts: &'a Fonts,
        data: &'a FormData,
        ids: &'a [FontId; 3],
    ) -> Result<Self, String> {
        let (w, h) = page_size_mm(page);
        let width = mm(w - page.margin_left_mm - page.margin_right_mm);
        let body = mm(h - page.margin_top_mm - page.margin_bottom_mm);
        if width < mm(30.0) || body < mm(30.0) {
            return Err("page: margins leave less than 30 mm for the text".into());
        }
        let mut l = Layout {
            fonts,
            data,
            ids,
            page_h: mm(h),
            left: mm(page.margin_left_mm),
            width,
            top: mm(page.margin_top_mm),
            bottom: mm(h - page.margin_bottom_mm),
            size: page.font_size,
            lh_factor: page.line_height,
            para_space: page.paragraph_spacing_pt,
            page_numbers: page.page_numbers,
            pages: Vec::new(),
            y: 0.0,
        };
        l.new_page();
        Ok(l)
    }

    pub fn finish(self) -> Vec<Vec<Op>> {
        self.pages
    }

    // ----- primitives -------------------------------------------------------

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page is always open")
    }

    fn lh(&self, size: f32) -> f32 {
        size * self.lh_factor
    }

    fn at_top(&self) -> bool {
        self.y <= self.top + 0.01
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = self.top;
        let n = self.pages.len();
        if self.page_numbers && n >= 2 {
            let size = (self.size - 1.0).max(6.0);
            let num = n.to_string();
            let w = self.fonts.face(Face::Regular).width(&num, size);
            let line = Line {
                pieces: vec![text::Piece {
                    face: Face::Regular,
                    text: num,
                    width: w,
                }],
                width: w,
                last: true,
            };
            let y = (self.top - self.lh(size)) / 2.0;
            self.draw_line(
                &line,
                self.left,
                self.width,
                Align::Center,
                y.max(0.0),
                size,
            );
        }
    }

    /// Start a new page unless `h` pt still fit on this one (or we are at its top).
    fn ensure(&mut self, h: f32) {
        if self.y + h > self.bottom + 0.01 && !self.at_top() {
            self.new_page();
        }
    }

    fn space(&mut self, pt: f32) {
        if !self.at_top() {
            self.y = (self.y + pt).min(self.bottom);
        }
    }

    fn baseline(&self, top: f32, size: f32) -> f32 {
        let m = self.fonts.face(Face::Regular);
        let lh = self.lh(size);
        top + (lh - (m.ascent + m.descent) * size) / 2.0 + m.ascent * size
    }

    /// Draw one laid-out line whose box starts at `top`.
    fn draw_line(&mut self, line: &Line, x: f32, width: f32, align: Align, top: f32, size: f32) {
        if line.is_blank() {
            return;
        }
        // Justified lines stretch their spaces, unless that would open gaps
        // wider than three spaces.
        let mut per_space = 0.0;
        if align == Align::Justify && !line.last {
            let spaces: usize = line
                .pieces
                .iter()
                .map(|p| p.text.matches(' ').count())
                .sum();
            let space_w = self.fonts.face(Face::Regular).width(" ", size);
            if spaces > 0 {
                let per = (width - line.width) / spaces as f32;
                if per > 0.0 && per <= 2.0 * space_w {
                    per_space = per;
                }
            }
        }
        let mut cx = match align {
            Align::Left | Align::Justify => x,
            Align::Center => x + (width - line.width) / 2.0,
            Align::Right => x + width - line.width,
        };
        let base = self.page_h - self.baseline(top, size);
        let mut ops = vec![Op::StartTextSection];
        let mut current: Option<Face> = None;
        for p in &line.pieces {
            let spaces = p.text.matches(' ').count();
            if !p.text.trim().is_empty() {
                if current != Some(p.face) {
                    ops.push(Op::SetFont {
                        font: PdfFontHandle::External(self.id(p.face)),
                        size: Pt(size),
                    });
                    current = Some(p.face);
                }
                ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(Pt(round(cx)), Pt(round(base))),
                });
                let items = if per_space > 0.0 && spaces > 0 {
                    // TJ numbers are in 1/1000 em; negative moves right.
                    let adjust = round(-per_space / size * 1000.0);
                    let mut items = Vec::new();
                    let mut segs = p.text.split(' ').peekable();
                    while let Some(seg) = segs.next() {
                        if segs.peek().is_some() {
                            items.push(TextItem::Text(format!("{seg} ")));
                            items.push(TextItem::Offset(adjust));
                        } else if !seg.is_empty() {
                            items.push(TextItem::Text(seg.to_string()));
                        }
                    }
                    items
                } else {
                    vec![TextItem::Text(p.text.clone())]
                };
                ops.push(Op::ShowText { items });
            }
            cx += p.width + spaces as f32 * per_space;
        }
        ops.push(Op::EndTextSection);
        self.ops().extend(ops);
    }

    fn id(&self, f: Face) -> FontId {
        self.ids[match f {
            Face::Regular => 0,
            Face::Bold => 1,
            Face::Italic => 2,
        }]
        .clone()
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, thickness: f32) {
        let yy = Pt(round(self.page_h - y));
        let pt = |x: f32| LinePoint {
            p: Point {
                x: Pt(round(x)),
                y: yy,
            },
            bezier: false,
        };
        let ops = [
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: printpdf::Line {
                    points: vec![pt(x1), pt(x2)],
                    is_closed: false,
                },
            },
        ];
        self.ops().extend(ops);
    }

    fn rect(&mut self, x: f32, top: f32, w: f32, h: f32, mode: PaintMode) {
        let r = Rect {
            x: Pt(round(x)),
            y: Pt(round(self.page_h - top - h)),
            width: Pt(round(w)),
            height: Pt(round(h)),
            mode: Some(mode),
            winding_order: None,
        };
        self.ops().push(Op::DrawRectangle { rectangle: r });
    }

    fn wrap(&self, runs: &[Run], size: f32, first: f32, rest: f32) -> Vec<Line> {
        text::wrap(runs, self.fonts, size, first.max(1.0), rest.max(1.0))
    }

    fn runs(&self, tpl: &str, bold: bool, italic: bool, upper: bool) -> Vec<Run> {
        text::runs(tpl, self.data, bold, italic, upper)
    }

    /// Draw columns of lines side by side, line by line, breaking pages as needed.
    fn lockstep(&mut self, cols: &[(f32, f32, Align, Vec<Line>)], size: f32) {
        let lh = self.lh(size);
        let n = cols.iter().map(|c| c.3.len()).max().unwrap_or(0);
        for i in 0..n {
            self.ensure(lh);
            for (x, w, align, lines) in cols {
                if let Some(line) = lines.get(i) {
                    self.draw_line(line, *x, *w, *align, self.y, size);
                }
            }
            self.y += lh;
        }
    }

    // ----- blocks -----------------------------------------------------------

    pub fn block(&mut self, b: &Block) -> Result<(), String> {
        if let Some(k) = &b.if_present {
            if !self.data.is_present(k) {
                return Ok(());
            }
        }
        if let Some(k) = &b.unless_present {
            if self.data.is_present(k) {
                return Ok(());
            }
        }
        let (before, after) = match &b.kind {
            BlockKind::Heading(_) => (0.0, 14.0),
            BlockKind::Title(_) => (6.0, 6.0),
            BlockKind::Table(_) => (2.0, self.para_space + 3.0),
            BlockKind::Signatures(_) => (8.0, self.para_space),
            BlockKind::Qr(_) => (2.0, self.para_space),
            BlockKind::Spacer(_) | BlockKind::PageBreak => (0.0, 0.0),
            _ => (0.0, self.para_space),
        };
        self.space(b.space_before_pt.unwrap_or(before));
        match &b.kind {
            BlockKind::Heading(h) => self.heading(h),
            BlockKind::Title(p) => self.paragraph(p, true),
            BlockKind::Paragraph(p) => self.paragraph(p, false),
            BlockKind::Field(f) => self.field(f),
            BlockKind::Row(r) => self.row(r)?,
            BlockKind::Table(t) => self.table(t)?,
            BlockKind::Signatures(s) => self.signatures(s)?,
            BlockKind::Qr(q) => self.qr(q)?,
            BlockKind::Spacer(s) => {
                self.y += mm(s.height_mm);
                if self.y > self.bottom {
                    self.new_page();
                }
            }
            BlockKind::PageBreak => {
                if !self.at_top() {
                    self.new_page();
                }
            }
        }
        self.space(b.space_after_pt.unwrap_or(after));
        Ok(())
    }

    fn paragraph(&mut self, p: &ParagraphBlock, title: bool) {
        let size = p.size.unwrap_or(if title { 14.0 } else { self.size });
        let align = p
            .align
            .unwrap_or(if title { Align::Center } else { Align::Justify });
        let runs = self.runs(&p.text, p.bold || title, p.italic, p.upper);
        let x = self.left + mm(p.left_mm);
        let w = self.width - mm(p.left_mm);
        let indent = mm(p.indent_mm);
        let lines = self.wrap(&runs, size, w - indent, w);
        let lh = self.lh(size);
        if title {
            // Keep a title with the two lines that follow it.
            self.ensure(lh * (lines.len() as f32 + 2.0));
        }
        for (i, line) in lines.iter().enumerate() {
            self.ensure(lh);
            let (lx, lw) = if i == 0 {
                (x + indent, w - indent)
            } else {
                (x, w)
            };
            self.draw_line(line, lx, lw, align, self.y, size);
            self.y += lh;
        }
    }

    fn field(&mut self, f: &FieldBlock) {
        let size = f.size.unwrap_or(self.size);
        let x = self.left + mm(f.left_mm);
        let w = self.width - mm(f.left_mm);
        let label = self.runs(&f.label, f.bold_label, false, false);
        let value = self.runs(&f.value, f.bold_value, false, false);
        match f.label_width_mm {
            Some(lw) => {
                let lw = mm(lw).min(w * 0.8);
                let l = self.wrap(&label, size, lw - mm(2.0), lw - mm(2.0));
                let v = self.wrap(&value, size, w - lw, w - lw);
                self.lockstep(
                    &[(x, lw, Align::Left, l), (x + lw, w - lw, Align::Left, v)],
                    size,
                );
            }
            None => {
                let mut runs = label;
                runs.push(Run {
                    face: Face::Regular,
                    text: " ".into(),
                });
                runs.extend(value);
                let lines = self.wrap(&runs, size, w, w);
                self.lockstep(&[(x, w, Align::Justify, lines)], size);
            }
        }
    }

    /// Split `total` pt among items with optional fixed widths (in mm).
    fn share(&self, what: &str, total: f32, widths: &[Option<f32>]) -> Result<Vec<f32>, String> {
        let fixed: f32 = widths.iter().flatten().map(|w| mm(*w)).sum();
        let auto = widths.iter().filter(|w| w.is_none()).count();
        if fixed > total + 0.5 {
            return Err(format!(
                "{what}: widths add up to {:.1} mm, more than the {:.1} mm available",
                fixed / PT_PER_MM,
                total / PT_PER_MM
            ));
        }
        let each = if auto > 0 {
            (total - fixed) / auto as f32
        } else {
            0.0
        };
        if auto > 0 && each < mm(5.0) {
            return Err(format!(
                "{what}: less than 5 mm left for the columns without a width"
            ));
        }
        Ok(widths.iter().map(|w| w.map(mm).unwrap_or(each)).collect())
    }

    fn row(&mut self, r: &RowBlock) -> Result<(), String> {
        let size = r.size.unwrap_or(self.size);
        let x0 = self.left + mm(r.left_mm);
        let widths = self.share(
            "row",
            self.width - mm(r.left_mm),
            &r.cells.iter().map(|c| c.width_mm).collect::<Vec<_>>(),
        )?;
        let mut cols = Vec::new();
        let mut x = x0;
        for (c, w) in r.cells.iter().zip(widths) {
            let runs = self.runs(&c.text, c.bold, c.italic, false);
            let inner = (w - mm(2.0)).max(mm(5.0));
            cols.push((
                x,
                inner,
                c.align.unwrap_or(Align::Left),
                self.wrap(&runs, size, inner, inner),
            ));
            x += w;
        }
        self.lockstep(&cols, size);
        Ok(())
    }

    fn heading(&mut self, h: &HeadingBlock) {
        let lw = h
            .left_width_mm
            .map(mm)
            .unwrap_or(self.width * 0.42)
            .min(self.width - mm(20.0));
        let (lx, rx, rw) = (self.left, self.left + lw, self.width - lw);
        let default_right;
        let right = match &h.right {
            Some(r) => r,
            None => {
                default_right = national_heading();
                &default_right
            }
        };
        let top = self.y;
        let end_l = self.heading_column(&h.left, lx, lw, top);
        let end_r = self.heading_column(right, rx, rw, top);
        let mut y = end_l.max(end_r);
        if !h.left_after.is_empty() || !h.right_after.is_empty() {
            y += 2.0;
            let a = self.heading_column(&h.left_after, lx, lw, y);
            let b = self.heading_column(&h.right_after, rx, rw, y);
            y = a.max(b);
        }
        self.y = y;
    }

    /// Lay out heading lines centred in a column; returns the bottom.
    fn heading_column(&mut self, lines: &[TextLine], x: f32, w: f32, top: f32) -> f32 {
        let mut y = top;
        for tl in lines {
            let size = tl.size.unwrap_or(self.size);
            let runs = self.runs(&tl.text, tl.bold, tl.italic, tl.upper);
            let wrapped = self.wrap(&runs, size, w, w);
            let align = tl.align.unwrap_or(Align::Center);
            let lh = self.lh(size);
            let mut widest: f32 = 0.0;
            for line in &wrapped {
                self.draw_line(line, x, w, align, y, size);
                widest = widest.max(line.width);
                y += lh;
            }
            if tl.rule && widest > 0.0 {
                let rl = widest * tl.rule_ratio.unwrap_or(1.0).clamp(0.05, 1.0);
                let cx = match align {
                    Align::Left | Align::Justify => x + rl / 2.0,
                    Align::Center => x + w / 2.0,
                    Align::Right => x + w - rl / 2.0,
                };
                self.hline(cx - rl / 2.0, cx + rl / 2.0, y + 0.5, RULE_PT);
                y += 5.0;
            }
        }
        y
    }

    fn table(&mut self, t: &TableBlock) -> Result<(), String> {
        let size = t.size.unwrap_or(self.size);
        let lh = self.lh(size);
        let pad = mm(t.padding_mm);
        let x0 = self.left + mm(t.left_mm);
        let what = format!("table `{}`", t.rows);
        let widths = self.share(
            &what,
            self.width - mm(t.left_mm),
            &t.columns.iter().map(|c| c.width_mm).collect::<Vec<_>>(),
        )?;
        if widths.iter().any(|w| *w <= 2.0 * pad + 2.0) {
            return Err(format!("{what}: a column is narrower than its padding"));
        }
        let empty = Vec::new();
        let rows: &Vec<Vec<String>> = match self.data.0.get(&t.rows) {
            Some(Value::Rows(r)) => r,
            None => &empty,
            Some(Value::Text(s)) if s.trim().is_empty() => &empty,
            Some(Value::Text(_)) => return Err(format!("{what}: bound to text, expected rows")),
        };

        let geo = TableGeo {
            x0,
            widths: widths.clone(),
            pad,
            lh,
            size,
        };
        let header: Vec<Vec<Line>> = t
            .columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| {
                let runs = self.runs(&c.header, t.header_bold, false, false);
                self.wrap(&runs, size, w - 2.0 * pad, w - 2.0 * pad)
            })
            .collect();
        let header_aligns = vec![Align::Center; t.columns.len()];
        let aligns: Vec<Align> = t
            .columns
            .iter()
            .map(|c| {
                c.align
                    .unwrap_or(if c.number { Align::Center } else { Align::Left })
            })
            .collect();
        let header_h = geo.height(&header);

        let count = rows.len().max(t.min_rows);
        let mut body: Vec<Vec<Vec<Line>>> = Vec::with_capacity(count);
        for i in 0..count {
            let row = rows.get(i);
            let mut data_idx = 0;
            let mut cells = Vec::with_capacity(t.columns.len());
            for (c, w) in t.columns.iter().zip(&widths) {
                let txt: String = if c.number {
                    if row.is_some() {
                        (i + 1).to_string()
                    } else {
                        String::new()
                    }
                } else {
                    let v = row
                        .and_then(|r| r.get(data_idx))
                        .map(|s| s.nfc().collect())
                        .unwrap_or_default();
                    data_idx += 1;
                    v
                };
                let runs = [Run {
                    face: Face::Regular,
                    text: txt,
                }];
                cells.push(self.wrap(&runs, size, w - 2.0 * pad, w - 2.0 * pad));
            }
            body.push(cells);
        }

        // Keep the header with at least the first body line.
        let first_h = body
            .first()
            .map(|r| geo.height(r).min(lh + 2.0 * pad))
            .unwrap_or(0.0);
        self.ensure(header_h + first_h);
        self.table_cells(&geo, &header, &header_aligns, header_h);

        for mut cells in body {
            let mut fresh = false;
            loop {
                let h = geo.height(&cells);
                let avail = self.bottom - self.y;
                if h <= avail + 0.01 {
                    self.table_cells(&geo, &cells, &aligns, h);
                    break;
                }
                let fresh_avail = self.bottom - self.top - header_h;
                if h > fresh_avail + 0.01 || fresh {
                    // Taller than a page: print what fits here, continue below.
                    let mut k = ((avail - 2.0 * pad) / lh).floor().max(0.0) as usize;
                    if fresh {
                        k = k.max(1);
                    }
                    if k >= 1 {
                        let tail: Vec<Vec<Line>> = cells
                            .iter_mut()
                            .map(|c| {
                                if c.len() > k {
                                    c.split_off(k)
                                } else {
                                    Vec::new()
                                }
                            })
                            .collect();
                        let hh = geo.height(&cells);
                        self.table_cells(&geo, &cells, &aligns, hh);
                        cells = tail;
                        if cells.iter().all(|c| c.is_empty()) {
                            break;
                        }
                    }
                }
                self.new_page();
                self.table_cells(&geo, &header, &header_aligns, header_h);
                fresh = true;
            }
        }
        Ok(())
    }

    fn table_cells(&mut self, geo: &TableGeo, cells: &[Vec<Line>], aligns: &[Align], h: f32) {
        let mut x = geo.x0;
        let top = self.y;
        self.ops().push(Op::SetOutlineThickness {
            pt: Pt(TABLE_RULE_PT),
        });
        for ((lines, w), align) in cells.iter().zip(&geo.widths).zip(aligns) {
            self.rect(x, top, *w, h, PaintMode::Stroke);
            for (i, line) in lines.iter().enumerate() {
                self.draw_line(
                    line,
                    x + geo.pad,
                    w - 2.0 * geo.pad,
                    *align,
                    top + geo.pad + i as f32 * geo.lh,
                    geo.size,
                );
            }
            x += w;
        }
        self.y = top + h;
    }

    fn signatures(&mut self, s: &SignaturesBlock) -> Result<(), String> {
        let size = s.size.unwrap_or(self.size);
        let lh = self.lh(size);
        let widths = self.share(
            "signatures",
            self.width,
            &s.columns.iter().map(|c| c.width_mm).collect::<Vec<_>>(),
        )?;
        // Sections: above (italic), title (bold), hint (italic), space, name (bold).
        let mut cols = Vec::new();
        for (c, w) in s.columns.iter().zip(&widths) {
            let inner = w - mm(4.0);
            let sec = |tpl: &str, bold: bool, italic: bool| {
                let runs = self.runs(tpl, bold, italic, false);
                let lines = self.wrap(&runs, size, inner, inner);
                if lines.iter().all(|l| l.is_blank()) {
                    Vec::new()
                } else {
                    lines
                }
            };
            cols.push([
                sec(&c.above, false, true),
                sec(&c.title, true, false),
                sec(&c.hint, false, true),
                sec(&c.name, true, false),
            ]);
        }
        let n = |i: usize| cols.iter().map(|c| c[i].len()).max().unwrap_or(0) as f32;
        let space = mm(s.space_mm);
        let total = (n(0) + n(1) + n(2) + n(3)) * lh + space;
        self.ensure(total);
        let top = self.y;
        let starts = [
            top,
            top + n(0) * lh,
            top + (n(0) + n(1)) * lh,
            top + (n(0) + n(1) + n(2)) * lh + space,
        ];
        let mut x = self.left;
        for (c, w) in cols.iter().zip(&widths) {
            for (sec, start) in c.iter().zip(starts) {
                for (i, line) in sec.iter().enumerate() {
                    self.draw_line(
                        line,
                        x + mm(2.0),
                        w - mm(4.0),
                        Align::Center,
                        start + i as f32 * lh,
                        size,
                    );
                }
            }
            x += w;
        }
        self.y = top + total;
        Ok(())
    }

    fn qr(&mut self, q: &QrBlock) -> Result<(), String> {
        let value = text::substitute(&q.value, self.data);
        let side = mm(q.size_mm);
        let size = q.size.unwrap_or(self.size);
        let cap_size = (size - 2.0).max(6.0);
        let caption = self.runs(&q.caption, false, true, false);
        let cap_lines = self.wrap(&caption, cap_size, side + mm(10.0), side + mm(10.0));
        let cap_lines: Vec<Line> = if cap_lines.iter().all(|l| l.is_blank()) {
            Vec::new()
        } else {
            cap_lines
        };
        let cap_h = cap_lines.len() as f32 * self.lh(cap_size);

        if let (Some(x), Some(y)) = (q.x_mm, q.y_mm) {
            let (x, y) = (mm(x), mm(y));
            self.qr_box(&value, x, y, side, q.border)?;
            self.qr_caption(&cap_lines, x, y + side, side, cap_size);
            return Ok(());
        }

        let align = q.align.unwrap_or(Align::Right);
        let gap = mm(5.0);
        let text_w = self.width - side - gap;
        let runs = self.runs(&q.text, false, false, false);
        let lines = if q.text.trim().is_empty() || align == Align::Center {
            Vec::new()
        } else {
            self.wrap(&runs, size, text_w, text_w)
        };
        let text_h = lines.len() as f32 * self.lh(size);
        let h = text_h.max(side + cap_h);
        self.ensure(h);
        let top = self.y;
        let (qx, tx) = match align {
            Align::Right | Align::Justify => (self.left + self.width - side, self.left),
            Align::Left => (self.left, self.left + side + gap),
            Align::Center => (self.left + (self.width - side) / 2.0, self.left),
        };
        self.qr_box(&value, qx, top, side, q.border)?;
        self.qr_caption(&cap_lines, qx, top + side, side, cap_size);
        for (i, line) in lines.iter().enumerate() {
            self.draw_line(
                line,
                tx,
                text_w,
                Align::Justify,
                top + i as f32 * self.lh(size),
                size,
            );
        }
        self.y = top + h;
        Ok(())
    }

    /// Caption lines centred under the box, kept inside the text area.
    fn qr_caption(&mut self, lines: &[Line], qx: f32, top: f32, side: f32, size: f32) {
        let w = side + mm(10.0);
        let x = (qx + side / 2.0 - w / 2.0)
            .clamp(self.left, (self.left + self.width - w).max(self.left));
        for (i, line) in lines.iter().enumerate() {
            let t = top + i as f32 * self.lh(size);
            let cx = qx + side / 2.0;
            // Centre on the box when the line fits that way, else inside [x, x + w].
            let half = line.width / 2.0;
            if cx - half >= self.left && cx + half <= self.left + self.width {
                self.draw_line(line, cx - half, line.width, Align::Left, t, size);
            } else {
                self.draw_line(line, x, w, Align::Center, t, size);
            }
        }
    }

    /// A QR code drawn as filled squares (horizontal runs merged) with a
    /// four-module quiet zone inside the `side` × `side` box.
    fn qr_box(
        &mut self,
        value: &str,
        x: f32,
        top: f32,
        side: f32,
        border: bool,
    ) -> Result<(), String> {
        if border {
            self.ops().push(Op::SetOutlineThickness {
                pt: Pt(TABLE_RULE_PT),
            });
            self.rect(x, top, side, side, PaintMode::Stroke);
        }
        if value.is_empty() {
            return Ok(());
        }
        let code =
            qrcode::QrCode::with_error_correction_level(value.as_bytes(), qrcode::EcLevel::M)
                .map_err(|e| format!("qr: cannot encode the value ({e})"))?;
        let n = code.width();
        let colors = code.to_colors();
        const QUIET: usize = 4;
        let module = side / (n + 2 * QUIET) as f32;
        self.ops().push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale {
                percent: 0.0,
                icc_profile: None,
            }),
        });
        for r in 0..n {
            let mut c = 0;
            while c < n {
                if colors[r * n + c] == qrcode::Color::Dark {
                    let start = c;
                    while c < n && colors[r * n + c] == qrcode::Color::Dark {
                        c += 1;
                    }
                    let mx = x + (QUIET + start) as f32 * module;
                    let my = top + (QUIET + r) as f32 * module;
                    self.rect(mx, my, (c - start) as f32 * module, module, PaintMode::Fill);
                } else {
                    c += 1;
                }
            }
        }
        Ok(())
    }
}

struct TableGeo {
    x0: f32,
    widths: Vec<f32>,
    pad: f32,
    lh: f32,
    size: f32,
}

impl TableGeo {
    fn height(&self, cells: &[Vec<Line>]) -> f32 {
        let n = cells.iter().map(|c| c.len()).max().unwrap_or(0).max(1);
        n as f32 * self.lh + 2.0 * self.pad
    }
}

/// The standard national heading (NĐ 30/2020): bold name, bold motto with a
/// rule as long as the motto.
fn national_heading() -> Vec<TextLine> {
    vec![
        TextLine {
            text: "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM".into(),
            size: Some(12.0),
            bold: true,
            ..Default::default()
        },
        TextLine {
            text: "Độc lập - Tự do - Hạnh phúc".into(),
            size: Some(13.0),
            bold: true,
            rule: true,
            ..Default::default()
        },
    ]
}

/// Round to 1/100 pt: shorter content streams, no visible difference.
fn round(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}
