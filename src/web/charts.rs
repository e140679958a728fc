//! Charts drawn on the server as inline SVG (issue #16): the monthly public page and the
//! leaders' dashboard. Written by hand rather than with `plotters`: its SVG backend writes
//! colours as fixed `#RRGGBB` attributes (no class to restyle for print or contrast), has
//! no hook for `<title>`, `<desc>`, `role` or `aria-labelledby`, sizes the canvas in
//! pixels, and needs a font backend (a font file in the binary) only to measure labels.
//!
//! What every chart gives:
//! - `role="img"` and `aria-labelledby` naming its `<title>` and `<desc>`; the page puts
//!   the same figures in a table below it (the chart is never the only way to read them);
//! - a `viewBox` and no width: CSS (`.chart`, `static/app.css`) makes it as wide as its
//!   box, and print it on paper;
//! - colours only through classes (`s1`…`s4`, defined in CSS), never inline style (the
//!   page's CSP, `default-src 'self'`, refuses `style` attributes and `<style>`
//!   elements; presentation attributes such as `fill="url(#…)"` are allowed);
//! - meaning not carried by colour alone: bars get a hatch pattern per series and their
//!   value written at their end; lines get a marker shape and a dash per series;
//! - every text escaped.
//!
//! Numbers are written the Vietnamese way: `1.234` and `95,2 %`.

use std::fmt::Write as _;

/// What the values measure: how the axis and the labels are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole numbers, thousands with '.' ("1.234").
    Count,
    /// A percentage, 0 to 100, decimal comma ("95,2 %").
    Percent,
}

/// One series of values, one per category (`None`: nothing to show, e.g. a rate with
/// nothing to divide).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    /// The CSS class giving its colour, `s1` … `s4`.
    pub class: &'static str,
}

/// A chart: what it shows and how it is named for screen readers.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique on its page: prefixes the ids of `<title>`, `<desc>` and the patterns.
    pub id: String,
    pub title: String,
    pub description: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    pub unit: Unit,
    /// A target line and its label, e.g. `("Chỉ tiêu 95 %", 95.0)`.
    pub target: Option<(String, f64)>,
}

/// Width of every chart's coordinate system. Narrow on purpose: on a 360 px phone the
/// chart is drawn at about 0,85 of it, so 15-unit labels stay about 12,5 px.
pub const WIDTH: f64 = 400.0;
const FONT: f64 = 15.0;
const SMALL: f64 = 13.5;
/// Average advance of a character, in ems (Noto Sans, Vietnamese text), a little wide
/// on purpose so estimated labels never overflow.
const CHAR_EM: f64 = 0.58;
const PAD: f64 = 8.0;
/// Patterns drawn over the bars of series 2, 3, 4 (series 1 stays plain).
const PATTERNS: usize = 4;

/// Escapes text for SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0: dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// `1234567` → "1.234.567"; negative numbers keep their sign. Rounded to a whole number.
pub fn format_count(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(d);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `95.2` → "95,2 %" (no-break space before the sign), at most two decimals as the API
/// gives them, trailing zeros dropped: `23.08` → "23,08 %", `100.0` → "100 %".
pub fn format_percent(v: f64) -> String {
    format!("{}\u{a0}%", format_decimal(v))
}

/// `23.08` → "23,08", `90.0` → "90": two decimals at most, decimal comma.
pub fn format_decimal(v: f64) -> String {
    let s = format!("{:.2}", (v * 100.0).round() / 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    let s = if s == "-0" { "0" } else { s };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let int = format_count(int.parse::<f64>().unwrap_or(0.0));
    let int = if s.starts_with("-0") {
        format!("-{int}")
    } else {
        int
    };
    if frac.is_empty() {
        int
    } else {
        format!("{int},{frac}")
    }
}

impl Unit {
    /// A value as written on the chart and in the tables.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Count => format_count(v),
            Unit::Percent => format_percent(v),
        }
    }
}

/// Ticks from 0 to a round top at or above `max`: steps of 1, 2, 2.5 or 5 times a power of
/// ten, about five of them; whole steps for counts; 0–100 for percentages.
pub fn nice_ticks(max: f64, unit: Unit) -> Vec<f64> {
    if unit == Unit::Percent && max <= 100.0 {
        return vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0];
    }
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    // Counts step by whole numbers: 2.5 is skipped below 10, and 1 is the least.
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .filter(|s| unit != Unit::Count || (*s >= 1.0 && s.fract() == 0.0))
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(if unit == Unit::Count { 1.0 } else { 0.0 });
    let n = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// A text's estimated width at `size`.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * CHAR_EM
}

/// Words of `s` in lines no wider than `width` at `size`, at most `max_lines`; the last
/// line ends with "…" when the text was cut.
fn wrap(s: &str, width: f64, size: f64, max_lines: usize) -> Vec<String> {
    let per_line = ((width / (size * CHAR_EM)).floor() as usize).max(4);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        let word: String = if word.chars().count() > per_line {
            word.chars().take(per_line - 1).chain(['…']).collect()
        } else {
            word.to_string()
        };
        if line.is_empty() {
            line = word;
        } else if line.chars().count() + 1 + word.chars().count() <= per_line {
            line.push(' ');
            line.push_str(&word);
        } else {
            lines.push(std::mem::take(&mut line));
            line = word;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("max_lines > 0");
        let keep = per_line.saturating_sub(1).min(last.chars().count());
        *last = last
            .chars()
            .take(keep)
            .collect::<String>()
            .trim_end()
            .to_string()
            + "…";
    }
    lines
}

/// Coordinates with at most one decimal.
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The series' class, reduced to a safe CSS class name (`s1` when it is not one).
fn class_of(s: &Series) -> &'static str {
    let ok = !s.class.is_empty()
        && s.class
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        s.class
    } else {
        "s1"
    }
}

/// An id made safe for XML (letters, digits, `-`, `_`).
fn safe_id(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        "chart".into()
    } else {
        s
    }
}

/// The root element, `<title>`, `<desc>` and the hatch patterns.
fn open(out: &mut String, c: &Chart, kind: &str, height: f64) -> String {
    let id = safe_id(&c.id);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" focusable="false"><title id="{id}-t">{title}</title><desc id="{id}-d">{desc}</desc>"#,
        w = n(WIDTH),
        h = n(height),
        title = escape(&c.title),
        desc = escape(&c.description),
    );
    // Hatches in ink colour: they keep series apart in black and white.
    out.push_str("<defs>");
    let paths = ["", "M0 6L6 0", "M0 3H6", "M0 0L6 6M0 6L6 0"];
    for (i, d) in paths.iter().enumerate().skip(1).take(PATTERNS - 1) {
        let _ = write!(
            out,
            r#"<pattern id="{id}-p{k}" width="6" height="6" patternUnits="userSpaceOnUse"><path class="hatch" d="{d}"/></pattern>"#,
            k = i + 1,
        );
    }
    out.push_str("</defs>");
    id
}

/// The legend in rows across the top; its height. `mark` draws the key of series `i`
/// at (x, y-centre).
fn legend(
    out: &mut String,
    c: &Chart,
    top: f64,
    mark: &dyn Fn(&mut String, usize, f64, f64),
) -> f64 {
    if c.series.len() < 2 && c.target.is_none() {
        return 0.0;
    }
    let row = 20.0;
    let (mut x, mut y) = (PAD, top + row / 2.0);
    out.push_str(r#"<g class="legend">"#);
    for (i, s) in c.series.iter().enumerate() {
        let w = 20.0 + text_width(&s.name, SMALL) + 14.0;
        if x > PAD && x + w > WIDTH - PAD {
            x = PAD;
            y += row;
        }
        mark(out, i, x, y);
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="{}" dominant-baseline="central">{}</text>"#,
            n(x + 20.0),
            n(y),
            SMALL,
            escape(&s.name)
        );
        x += w;
    }
    out.push_str("</g>");
    y + row / 2.0 - top + 4.0
}

/// A bar (or its key in the legend) of series `i` over `(x, y, width, height)`: its
/// colour and its hatch.
fn bar_key(out: &mut String, id: &str, class: &str, i: usize, (x, y, w, h): (f64, f64, f64, f64)) {
    let _ = write!(
        out,
        r#"<rect class="bar {class}" x="{}" y="{}" width="{}" height="{}"/>"#,
        n(x),
        n(y),
        n(w),
        n(h)
    );
    let k = i % PATTERNS + 1;
    if k > 1 {
        let _ = write!(
            out,
            r#"<rect class="pat" fill="url(#{id}-p{k})" x="{}" y="{}" width="{}" height="{}"/>"#,
            n(x),
            n(y),
            n(w),
            n(h)
        );
    }
}

/// A chart with nothing to draw: its name and "Không có số liệu".
fn empty(c: &Chart, kind: &str) -> String {
    let mut out = String::new();
    open(&mut out, c, kind, 60.0);
    let _ = write!(
        out,
        r#"<text class="empty" x="{}" y="30" font-size="{FONT}" text-anchor="middle" dominant-baseline="central">Không có số liệu</text></svg>"#,
        n(WIDTH / 2.0)
    );
    out
}

fn has_values(c: &Chart) -> bool {
    !c.categories.is_empty()
        && c.series
            .iter()
            .any(|s| s.values.iter().any(|v| v.is_some()))
}

fn max_value(c: &Chart) -> f64 {
    c.series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .chain(c.target.as_ref().map(|t| &t.1))
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Grouped bars, drawn horizontally: each category's name on its own line(s) across the
/// whole width, then one bar per series with its value at its end. Long agency names stay
/// readable on a phone and many categories only make the chart taller. The value axis is
/// at the bottom, with gridlines; the target a dashed vertical line.
pub fn bar_chart(c: &Chart) -> String {
    if !has_values(c) {
        return empty(c, "bar");
    }
    let mut out = String::new();
    let id = open(&mut out, c, "bar", 0.0);
    let ticks = nice_ticks(max_value(c), c.unit);
    let top_value = *ticks.last().expect("at least two ticks");
    // Room on the right for a value label at the end of the longest bar.
    let label_room = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .map(|v| text_width(&c.unit.format(*v), SMALL))
        .fold(text_width("—", SMALL), f64::max)
        + 6.0;
    let x0 = PAD + 4.0;
    let x1 = WIDTH - PAD - label_room.max(text_width(&c.unit.format(top_value), SMALL) / 2.0);
    let x_of = |v: f64| x0 + (x1 - x0) * (v.clamp(0.0, top_value) / top_value);

    let legend_h = legend(&mut out, c, PAD, &|o, i, x, y| {
        bar_key(o, &id, class_of(&c.series[i]), i, (x, y - 6.0, 14.0, 12.0))
    });
    let mut y = PAD + legend_h;
    let target_label_h = if c.target.is_some() { 20.0 } else { 0.0 };
    y += target_label_h;
    let plot_top = y;
    let bar_h = 15.0;
    let bar_gap = 3.0;
    let mut body = String::new();
    for (ci, cat) in c.categories.iter().enumerate() {
        y += 4.0;
        let _ = write!(body, r#"<g class="group">"#);
        for line in wrap(cat, WIDTH - 2.0 * PAD, FONT, 3) {
            y += FONT + 3.0;
            let _ = write!(
                body,
                r#"<text class="cat" x="{}" y="{}" font-size="{FONT}">{}</text>"#,
                n(x0),
                n(y - 3.0),
                escape(&line)
            );
        }
        y += 3.0;
        for (si, s) in c.series.iter().enumerate() {
            let v = s
                .values
                .get(ci)
                .copied()
                .flatten()
                .filter(|v| v.is_finite());
            let yc = y + bar_h / 2.0;
            match v {
                Some(v) => {
                    let w = (x_of(v) - x0).max(if v > 0.0 { 1.5 } else { 0.0 });
                    if w > 0.0 {
                        bar_key(&mut body, &id, class_of(s), si, (x0, y, w, bar_h));
                    }
                    let _ = write!(
                        body,
                        r#"<text class="val" x="{}" y="{}" font-size="{SMALL}" dominant-baseline="central">{}</text>"#,
                        n(x0 + w + 4.0),
                        n(yc),
                        escape(&c.unit.format(v))
                    );
                }
                None => {
                    let _ = write!(
                        body,
                        r#"<text class="val na" x="{}" y="{}" font-size="{SMALL}" dominant-baseline="central">—</text>"#,
                        n(x0 + 4.0),
                        n(yc)
                    );
                }
            }
            y += bar_h + bar_gap;
        }
        body.push_str("</g>");
        y += 6.0;
    }
    let plot_bottom = y;
    // Gridlines and the axis under the bars.
    out.push_str(r#"<g class="axis">"#);
    for t in &ticks {
        let x = x_of(*t);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x}" y1="{}" x2="{x}" y2="{}"/>"#,
            n(plot_top),
            n(plot_bottom),
            x = n(x)
        );
        let _ = write!(
            out,
            r#"<text x="{}" y="{}" font-size="{SMALL}" text-anchor="middle">{}</text>"#,
            n(x),
            n(plot_bottom + 16.0),
            escape(&c.unit.format(*t))
        );
    }
    let _ = write!(
        out,
        r#"<line class="base" x1="{x}" y1="{}" x2="{x}" y2="{}"/></g>"#,
        n(plot_top),
        n(plot_bottom),
        x = n(x0)
    );
    out.push_str(&body);
    if let Some((label, v)) = &c.target {
        let x = x_of(*v);
        let anchor = if x > WIDTH * 0.6 { "end" } else { "start" };
        let tx = if anchor == "end" { x + 3.0 } else { x - 3.0 };
        let _ = write!(
            out,
            r#"<g class="target"><line x1="{x}" y1="{}" x2="{x}" y2="{}" stroke-dasharray="5 3"/><text x="{}" y="{}" font-size="{SMALL}" text-anchor="{anchor}">{}</text></g>"#,
            n(plot_top - 4.0),
            n(plot_bottom),
            n(tx.clamp(PAD, WIDTH - PAD)),
            n(plot_top - 7.0),
            escape(label),
            x = n(x)
        );
    }
    out.push_str("</svg>");
    let height = plot_bottom + 24.0;
    out.replacen(
        &format!("viewBox=\"0 0 {} 0\"", n(WIDTH)),
        &format!("viewBox=\"0 0 {} {}\"", n(WIDTH), n(height)),
        1,
    )
}

/// Dashes of the lines, by series: solid, dashed, dotted, dash-dot.
const DASHES: [&str; 4] = ["", "7 4", "2 3", "8 3 2 3"];

/// A series' marker centred on (x, y): circle, square, triangle, diamond.
fn marker(out: &mut String, class: &str, i: usize, x: f64, y: f64, tip: Option<&str>) {
    let r = 4.0;
    let shape = match i % 4 {
        0 => format!(r#"<circle cx="{}" cy="{}" r="{}""#, n(x), n(y), n(r)),
        1 => format!(
            r#"<rect x="{}" y="{}" width="{}" height="{}""#,
            n(x - r),
            n(y - r),
            n(2.0 * r),
            n(2.0 * r)
        ),
        2 => format!(
            r#"<path d="M{} {}L{} {}L{} {}Z""#,
            n(x),
            n(y - r - 1.0),
            n(x + r + 0.5),
            n(y + r),
            n(x - r - 0.5),
            n(y + r)
        ),
        _ => format!(
            r#"<path d="M{} {}L{} {}L{} {}L{} {}Z""#,
            n(x),
            n(y - r - 1.0),
            n(x + r + 1.0),
            n(y),
            n(x),
            n(y + r + 1.0),
            n(x - r - 1.0),
            n(y)
        ),
    };
    out.push_str(&shape);
    let _ = write!(out, r#" class="mark {class}""#);
    match tip {
        Some(t) => {
            let _ = write!(
                out,
                "><title>{}</title></{}>",
                escape(t),
                &shape[1..shape.find(' ').unwrap_or(2)]
            );
        }
        None => out.push_str("/>"),
    }
}

/// A monthly trend: one line per series across the categories (months), a marker on
/// each value, a gap where a value is `None`; the value axis on the left with nice ticks,
/// the target a dashed horizontal line.
pub fn line_chart(c: &Chart) -> String {
    if !has_values(c) {
        return empty(c, "line");
    }
    let mut out = String::new();
    open(&mut out, c, "line", 0.0);
    let ticks = nice_ticks(max_value(c), c.unit);
    let top_value = *ticks.last().expect("at least two ticks");
    let legend_h = legend(&mut out, c, PAD, &|o, i, x, y| {
        let class = class_of(&c.series[i]);
        let _ = write!(
            o,
            r#"<line class="line {class}" x1="{}" y1="{}" x2="{}" y2="{}"{}/>"#,
            n(x),
            n(y),
            n(x + 16.0),
            n(y),
            dash(i)
        );
        marker(o, class, i, x + 8.0, y, None);
    });
    let y0 = PAD + legend_h + 10.0;
    let y1 = y0 + 180.0;
    let left = ticks
        .iter()
        .map(|t| text_width(&c.unit.format(*t), SMALL))
        .fold(0.0, f64::max)
        + PAD
        + 6.0;
    let x0 = left + 6.0;
    let x1 = WIDTH - PAD - 10.0;
    let count = c.categories.len();
    let x_of = |i: usize| {
        if count == 1 {
            (x0 + x1) / 2.0
        } else {
            x0 + (x1 - x0) * i as f64 / (count - 1) as f64
        }
    };
    let y_of = |v: f64| y1 - (y1 - y0) * (v.clamp(0.0, top_value) / top_value);
    out.push_str(r#"<g class="axis">"#);
    for t in &ticks {
        let y = y_of(*t);
        let _ = write!(
            out,
            r#"<line class="{}" x1="{}" y1="{y}" x2="{}" y2="{y}"/><text x="{}" y="{y}" font-size="{SMALL}" text-anchor="end" dominant-baseline="central">{}</text>"#,
            if *t == 0.0 { "base" } else { "grid" },
            n(x0),
            n(x1),
            n(x0 - 6.0),
            escape(&c.unit.format(*t)),
            y = n(y)
        );
    }
    // Category labels, thinned so that they do not overlap.
    let widest = c
        .categories
        .iter()
        .map(|s| text_width(s, SMALL))
        .fold(0.0, f64::max)
        + 6.0;
    let room = if count > 1 {
        (x1 - x0) / (count - 1) as f64
    } else {
        x1 - x0
    };
    let every = ((widest / room).ceil() as usize).max(1);
    for (i, cat) in c.categories.iter().enumerate() {
        if i % every != 0 && i != count - 1 {
            continue;
        }
        if i != count - 1 && (count - 1 - i) < every && !(count - 1).is_multiple_of(every) {
            continue; // the last label is drawn; this one would touch it
        }
        let x = x_of(i);
        let anchor = if count > 1 && i == 0 && x - widest / 2.0 < PAD {
            "start"
        } else if count > 1 && i == count - 1 && x + widest / 2.0 > WIDTH - PAD {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r#"<line class="tick" x1="{x}" y1="{}" x2="{x}" y2="{}"/><text x="{x}" y="{}" font-size="{SMALL}" text-anchor="{anchor}">{}</text>"#,
            n(y1),
            n(y1 + 4.0),
            n(y1 + 18.0),
            escape(cat),
            x = n(x)
        );
    }
    out.push_str("</g>");
    for (si, s) in c.series.iter().enumerate() {
        let class = class_of(s);
        let points: Vec<Option<(f64, f64)>> = (0..count)
            .map(|i| {
                s.values
                    .get(i)
                    .copied()
                    .flatten()
                    .filter(|v| v.is_finite())
                    .map(|v| (x_of(i), y_of(v)))
            })
            .collect();
        // One path, a new subpath after each gap.
        let mut d = String::new();
        let mut pen = false;
        for p in &points {
            match p {
                Some((x, y)) => {
                    let _ = write!(d, "{}{} {}", if pen { "L" } else { "M" }, n(*x), n(*y));
                    pen = true;
                }
                None => pen = false,
            }
        }
        let _ = write!(out, r#"<g class="series">"#);
        if d.contains('L') {
            let _ = write!(out, r#"<path class="line {class}" d="{d}"{}/>"#, dash(si));
        }
        for (i, p) in points.iter().enumerate() {
            if let (Some((x, y)), Some(v)) = (p, s.values.get(i).copied().flatten()) {
                let tip = format!("{} · {}: {}", s.name, c.categories[i], c.unit.format(v));
                marker(&mut out, class, si, *x, *y, Some(&tip));
            }
        }
        out.push_str("</g>");
    }
    // The target last, its label over the lines.
    if let Some((label, v)) = &c.target {
        let y = y_of(*v);
        let _ = write!(
            out,
            r#"<g class="target"><line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke-dasharray="5 3"/><text x="{}" y="{}" font-size="{SMALL}" text-anchor="end">{}</text></g>"#,
            n(x0),
            n(x1),
            n(x1),
            n(y - 5.0),
            escape(label),
            y = n(y)
        );
    }
    out.push_str("</svg>");
    let height = y1 + 28.0;
    out.replacen(
        &format!("viewBox=\"0 0 {} 0\"", n(WIDTH)),
        &format!("viewBox=\"0 0 {} {}\"", n(WIDTH), n(height)),
        1,
    )
}

fn dash(i: usize) -> String {
    match DASHES[i % DASHES.len()] {
        "" => String::new(),
        d => format!(r#" stroke-dasharray="{d}""#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(unit: Unit, values: Vec<Vec<Option<f64>>>) -> Chart {
        Chart {
            id: "c1".into(),
            title: "Tỷ lệ đúng hạn".into(),
            description: "Theo cơ quan".into(),
            categories: (0..values.first().map_or(0, |v| v.len()))
                .map(|i| format!("Cơ quan {i}"))
                .collect(),
            series: values
                .into_iter()
                .enumerate()
                .map(|(i, values)| Series {
                    name: format!("Chuỗi {i}"),
                    values,
                    class: ["s1", "s2", "s3", "s4"][i % 4],
                })
                .collect(),
            unit,
            target: None,
        }
    }

    /// Well-formed XML, checked with a small tag balancer (no parser in the dependencies).
    fn assert_balanced(svg: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(at) = rest.find('<') {
            rest = &rest[at + 1..];
            let end = rest.find('>').expect("tag closed");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "in {svg}");
            } else if !tag.ends_with('/') {
                stack.push(tag.split_whitespace().next().unwrap().to_string());
            }
            assert!(!tag.contains('<'), "stray < in {tag}");
        }
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert!(!rest.contains('>'), "stray > after the last tag");
    }

    #[test]
    fn counts_are_written_with_dots_for_thousands() {
        assert_eq!(format_count(0.0), "0");
        assert_eq!(format_count(999.0), "999");
        assert_eq!(format_count(1234.0), "1.234");
        assert_eq!(format_count(1234567.0), "1.234.567");
        assert_eq!(format_count(-1234.0), "-1.234");
        assert_eq!(format_count(12.6), "13");
    }

    #[test]
    fn percentages_have_a_decimal_comma_and_a_no_break_space() {
        assert_eq!(format_percent(95.2), "95,2\u{a0}%");
        assert_eq!(format_percent(23.08), "23,08\u{a0}%");
        assert_eq!(format_percent(100.0), "100\u{a0}%");
        assert_eq!(format_percent(0.0), "0\u{a0}%");
        assert_eq!(format_percent(66.666), "66,67\u{a0}%");
        assert_eq!(format_percent(99.999), "100\u{a0}%");
        assert_eq!(format_decimal(1234.5), "1.234,5");
        assert_eq!(format_decimal(-0.001), "0");
        assert_eq!(Unit::Percent.format(50.0), "50\u{a0}%");
        assert_eq!(Unit::Count.format(5000.0), "5.000");
    }

    #[test]
    fn ticks_are_round_and_cover_the_largest_value() {
        assert_eq!(nice_ticks(13.0, Unit::Count), [0.0, 5.0, 10.0, 15.0]);
        assert_eq!(
            nice_ticks(10.0, Unit::Count),
            [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(3.0, Unit::Count), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(1.0, Unit::Count), [0.0, 1.0]);
        assert_eq!(nice_ticks(0.0, Unit::Count), [0.0, 1.0]);
        assert_eq!(nice_ticks(f64::NAN, Unit::Count), [0.0, 1.0]);
        assert_eq!(
            nice_ticks(1234.0, Unit::Count),
            [0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0]
        );
        assert_eq!(nice_ticks(47.0, Unit::Count).last(), Some(&50.0));
        assert_eq!(
            nice_ticks(95.2, Unit::Percent),
            [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        for max in [1.0, 7.0, 19.0, 99.0, 101.0, 4321.0, 1e6] {
            let t = nice_ticks(max, Unit::Count);
            assert!(*t.last().unwrap() >= max, "{max}: {t:?}");
            assert!(t.len() <= 7 && t.len() >= 2, "{max}: {t:?}");
            assert!(t.iter().all(|v| v.fract() == 0.0), "{max}: {t:?}");
        }
    }

    #[test]
    fn every_text_is_escaped() {
        let mut c = chart(Unit::Count, vec![vec![Some(1.0)]]);
        c.id = "x\" onload=\"alert(1)".into();
        c.title = "<script>alert('t')</script> & co".into();
        c.description = "a \"quoted\" <desc>".into();
        c.categories = vec!["Phòng <b>Tư pháp</b> & \"Hộ tịch\"".into()];
        c.series[0].name = "</text><script>".into();
        c.series[0].class = "s1\" style=\"fill:red";
        c.target = Some(("<target>".into(), 1.0));
        for svg in [bar_chart(&c), line_chart(&c)] {
            assert!(!svg.contains("<script"), "{svg}");
            assert!(!svg.contains("<b>"), "{svg}");
            assert!(!svg.contains("style="), "{svg}");
            assert!(!svg.contains("onload=\""), "{svg}");
            assert!(svg.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &amp; co"));
            assert!(svg.contains("&lt;target&gt;"));
            assert_balanced(&svg);
        }
    }

    #[test]
    fn a_chart_names_itself_for_screen_readers() {
        let svg = bar_chart(&chart(Unit::Count, vec![vec![Some(3.0), Some(5.0)]]));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="c1-t c1-d""#));
        assert!(svg.contains(r#"<title id="c1-t">Tỷ lệ đúng hạn</title>"#));
        assert!(svg.contains(r#"<desc id="c1-d">Theo cơ quan</desc>"#));
        assert!(!svg.contains(" width=\"100"), "the page sizes it: {svg}");
        assert!(!svg.contains("viewBox=\"0 0 400 0\""), "height filled in");
    }

    #[test]
    fn bars_carry_their_class_their_hatch_and_their_value() {
        let svg = bar_chart(&chart(
            Unit::Count,
            vec![vec![Some(1234.0), Some(5.0)], vec![Some(7.0), Some(0.0)]],
        ));
        assert_balanced(&svg);
        assert!(svg.contains(r#"class="bar s1""#));
        assert!(svg.contains(r#"class="bar s2""#));
        assert!(svg.contains(r#"fill="url(#c1-p2)""#), "series 2 hatched");
        assert!(svg.contains(r#"<pattern id="c1-p2""#));
        assert!(svg.contains(">1.234</text>"));
        assert!(svg.contains(">0</text>"), "a zero is written");
        assert!(svg.contains(">Cơ quan 1</text>"));
        assert!(svg.contains(">Chuỗi 1</text>"), "legend with two series");
        assert!(!svg.contains("style"), "no inline style");
    }

    #[test]
    fn missing_values_are_a_dash_in_bars_and_a_gap_in_lines() {
        let c = chart(
            Unit::Percent,
            vec![vec![Some(90.0), None, Some(80.0), Some(70.0)]],
        );
        let bars = bar_chart(&c);
        assert!(bars.contains(r#"class="val na""#));
        assert!(bars.contains(">—</text>"));
        assert_eq!(bars.matches(r#"class="bar s1""#).count(), 3);
        let lines = line_chart(&c);
        assert_balanced(&lines);
        let d = lines
            .split(r#"class="line s1" d=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(d.matches('M').count(), 2, "two runs: {d}");
        assert_eq!(
            d.matches('L').count(),
            1,
            "the first point stands alone: {d}"
        );
        assert_eq!(lines.matches("class=\"mark s1\"").count(), 3);
        assert!(lines.contains("<title>Chuỗi 0 · Cơ quan 0: 90\u{a0}%</title>"));
    }

    #[test]
    fn percent_axis_runs_to_100_with_vietnamese_labels() {
        let svg = bar_chart(&chart(Unit::Percent, vec![vec![Some(95.2), Some(23.08)]]));
        assert!(svg.contains(">100\u{a0}%</text>"));
        assert!(svg.contains(">95,2\u{a0}%</text>"));
        assert!(svg.contains(">23,08\u{a0}%</text>"));
        let svg = line_chart(&chart(Unit::Percent, vec![vec![Some(95.2), Some(23.08)]]));
        assert!(svg.contains(">60\u{a0}%</text>"));
    }

    #[test]
    fn empty_data_says_so() {
        let mut c = chart(Unit::Count, vec![]);
        for svg in [bar_chart(&c), line_chart(&c)] {
            assert!(svg.contains("Không có số liệu"), "{svg}");
            assert!(svg.contains(r#"role="img""#));
            assert_balanced(&svg);
        }
        c.categories = vec!["Tháng 1".into()];
        c.series = vec![Series {
            name: "Tiếp nhận".into(),
            values: vec![None],
            class: "s1",
        }];
        assert!(bar_chart(&c).contains("Không có số liệu"));
        assert!(line_chart(&c).contains("Không có số liệu"));
    }

    #[test]
    fn the_target_line_is_drawn_with_its_label() {
        let mut c = chart(Unit::Percent, vec![vec![Some(80.0), Some(99.0)]]);
        c.target = Some(("Chỉ tiêu 95 %".into(), 95.0));
        let bars = bar_chart(&c);
        assert!(bars.contains(r#"<g class="target">"#));
        assert!(bars.contains(">Chỉ tiêu 95 %</text>"));
        // Vertical in the bars: x1 = x2 at 95 % of the axis.
        let line = bars.split(r#"<g class="target"><line "#).nth(1).unwrap();
        let attr = |name: &str| -> f64 {
            line.split(&format!("{name}=\""))
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert_eq!(attr("x1"), attr("x2"));
        assert!(attr("x1") > WIDTH * 0.7 && attr("x1") < WIDTH);
        let lines = line_chart(&c);
        let line = lines.split(r#"<g class="target"><line "#).nth(1).unwrap();
        let y1: &str = line
            .split("y1=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let y2: &str = line
            .split("y2=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(y1, y2, "horizontal in the lines");
        // A count target beyond the data stretches the axis to show it.
        let mut c = chart(Unit::Count, vec![vec![Some(3.0)]]);
        c.target = Some(("Kế hoạch".into(), 12.0));
        assert!(bar_chart(&c).contains(">15</text>"));
    }

    #[test]
    fn long_names_wrap_and_are_cut_after_three_lines() {
        let lines = wrap(
            "Ủy ban nhân dân phường Hoàn Kiếm thành phố Hà Nội",
            200.0,
            FONT,
            3,
        );
        assert!(lines.len() >= 2, "{lines:?}");
        for l in &lines {
            assert!(text_width(l, FONT) <= 200.0 + 1e-9, "{l}");
        }
        let long = "một ".repeat(100);
        let cut = wrap(&long, 200.0, FONT, 3);
        assert_eq!(cut.len(), 3);
        assert!(cut[2].ends_with('…'));
        assert_eq!(wrap("", 200.0, FONT, 3), Vec::<String>::new());
    }

    #[test]
    fn month_labels_are_thinned_to_fit() {
        let mut c = chart(Unit::Count, vec![(0..24).map(|i| Some(i as f64)).collect()]);
        c.categories = (0..24).map(|i| format!("{:02}/2026", i % 12 + 1)).collect();
        let svg = line_chart(&c);
        assert_balanced(&svg);
        let shown = svg.matches("/2026</text>").count();
        assert!((4..24).contains(&shown), "{shown}");
        assert!(
            svg.contains(">12/2026</text>"),
            "the last month is labelled"
        );
    }
}
