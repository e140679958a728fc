//! Forms 04 (apology and extension), 05 (stop notice) and 06 (process-control
//! slip): they parse, render with realistic data into small PDFs, and use
//! exactly the data keys documented in their header comments.
//!
//! Set `FORMS_PREVIEW_DIR` to a directory to keep the rendered PDFs there.

use super::*;
use std::path::PathBuf;
use std::sync::OnceLock;

const RECEIPT: &str = include_str!("../../forms/01-receipt.toml");
const SUPPLEMENT: &str = include_str!("../../forms/02-supplement.toml");
const REFUSAL: &str = include_str!("../../forms/03-refusal.toml");
const DELAY: &str = include_str!("../../forms/04-delay.toml");
const STOP: &str = include_str!("../../forms/05-stop.toml");
const CONTROL: &str = include_str!("../../forms/06-control.toml");

const MAX_PDF_BYTES: usize = 60 * 1024;

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("forms/fonts");
        Fonts::load(&dir).expect("fonts in forms/fonts")
    })
}

fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-") && bytes.windows(5).rev().take(64).any(|w| w == b"%%EOF")
}

fn page_count(bytes: &[u8]) -> usize {
    // Page objects: "/Type /Page" not followed by "s".
    let count = |p: &[u8]| {
        bytes
            .windows(p.len() + 1)
            .filter(|w| &w[..p.len()] == p && w[p.len()] != b's')
            .count()
    };
    count(b"/Type/Page") + count(b"/Type /Page")
}

/// Keep a copy of the PDF for eyeballing when `FORMS_PREVIEW_DIR` is set.
fn preview(name: &str, pdf: &[u8]) {
    if let Some(dir) = std::env::var_os("FORMS_PREVIEW_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("preview dir");
        std::fs::write(dir.join(name), pdf).expect("write preview");
    }
}

/// The data keys listed in a template's header comment: after the
/// "# Data keys" line, each line indented by exactly three spaces starts with
/// one or more keys separated by ", " (anything after a key that is not
/// followed by ", key" is description).
fn documented_keys(src: &str) -> BTreeSet<String> {
    let is_key_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    let mut keys = BTreeSet::new();
    let mut in_keys = false;
    for line in src.lines() {
        let Some(comment) = line.strip_prefix('#') else {
            break; // end of the header comment
        };
        if comment.trim_start().starts_with("Data keys") {
            in_keys = true;
            continue;
        }
        let Some(rest) = comment.strip_prefix("   ") else {
            continue;
        };
        if !in_keys || rest.starts_with(' ') {
            continue; // continuation line
        }
        let mut rest = rest;
        loop {
            let end = rest.find(|c| !is_key_char(c)).unwrap_or(rest.len());
            if end == 0 {
                break;
            }
            keys.insert(rest[..end].to_string());
            rest = &rest[end..];
            match rest.strip_prefix(", ") {
                Some(r) if r.starts_with(is_key_char) => rest = r,
                _ => break,
            }
        }
    }
    keys
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

const DELAY_KEYS: &[&str] = &[
    "agency_parent",
    "agency_name",
    "notice_number",
    "place",
    "day",
    "month",
    "year",
    "receiving_agency",
    "applicant_name",
    "applicant_id_number",
    "code",
    "procedure_name",
    "received_at",
    "due_at",
    "reason",
    "new_due_at",
    "delaying_agency",
    "signer_title",
    "signer_name",
];

const STOP_KEYS: &[&str] = &[
    "agency_parent",
    "agency_name",
    "notice_number",
    "place",
    "day",
    "month",
    "year",
    "receiving_agency",
    "code",
    "applicant_name",
    "applicant_id_number",
    "procedure_name",
    "received_at",
    "reason",
    "stopped_at",
    "staff_name",
];

const CONTROL_KEYS: &[&str] = &[
    "agency_parent",
    "agency_name",
    "place",
    "day",
    "month",
    "year",
    "code",
    "applicant_name",
    "applicant_address",
    "applicant_phone",
    "procedure_name",
    "lead_agency",
    "coordinating_agencies",
    "received_at",
    "due_at",
    "reappointed_at",
    "handovers",
];

const CODE: &str = "000.00.19.H29-261102-0042";
const APPLICANT: &str = "Nguyễn Thị Hồng Nhung";
const DUE_AT: &str = "16 giờ 30 phút, ngày 09/11/2026";
const NEW_DUE_AT: &str = "10 giờ 00 phút, ngày 16/11/2026";

fn delay_data() -> FormData {
    FormData::new()
        .with_text(
            "agency_parent",
            "Văn phòng đăng ký đất đai Thành phố Hồ Chí Minh",
        )
        .with_text("agency_name", "Chi nhánh khu vực Sài Gòn")
        .with_text("notice_number", "09/PXL-CNSG")
        .with_text("place", "TP. Hồ Chí Minh")
        .with_text("day", "09")
        .with_text("month", "11")
        .with_text("year", "2026")
        .with_text(
            "receiving_agency",
            "Bộ phận Một cửa Ủy ban nhân dân phường Sài Gòn",
        )
        .with_text("applicant_name", APPLICANT)
        .with_text("applicant_id_number", "079190001234")
        .with_text("code", CODE)
        .with_text(
            "procedure_name",
            "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do chuyển nhượng",
        )
        .with_text("received_at", "08 giờ 30 phút, ngày 02/11/2026")
        .with_text("due_at", DUE_AT)
        .with_text(
            "reason",
            "Hồ sơ cần xác minh thêm nguồn gốc sử dụng đất với Ủy ban nhân dân phường Sài Gòn; \
             kết quả đo đạc thửa đất có sai lệch so với bản đồ địa chính, phải đo đạc chỉnh lý.",
        )
        .with_text("new_due_at", NEW_DUE_AT)
        .with_text(
            "delaying_agency",
            "Chi nhánh Văn phòng đăng ký đất đai khu vực Sài Gòn",
        )
        .with_text("signer_title", "GIÁM ĐỐC")
        .with_text("signer_name", "Lê Quang Vũ")
}

fn stop_data() -> FormData {
    FormData::new()
        .with_text("agency_parent", "Ủy ban nhân dân phường Sài Gòn")
        .with_text("agency_name", "Bộ phận Một cửa")
        .with_text("notice_number", "03/TB-DGQ")
        .with_text("place", "Sài Gòn")
        .with_text("day", "04")
        .with_text("month", "11")
        .with_text("year", "2026")
        .with_text(
            "receiving_agency",
            "Bộ phận Một cửa Ủy ban nhân dân phường Sài Gòn",
        )
        .with_text("code", CODE)
        .with_text("applicant_name", "Trần Văn Đức")
        .with_text("applicant_id_number", "079085004321")
        .with_text(
            "procedure_name",
            "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản",
        )
        .with_text("received_at", "14 giờ 10 phút, ngày 02/11/2026")
        .with_text(
            "reason",
            "Các bên thỏa thuận hủy bỏ giao dịch, không tiếp tục ký kết hợp đồng mua bán xe ô tô.",
        )
        .with_text("stopped_at", "09 giờ 45 phút, ngày 04/11/2026")
        .with_text("staff_name", "Phạm Thị Thu Hương")
}

fn handover(i: usize) -> Vec<String> {
    let (from, to) = match i % 3 {
        0 => (
            "Bộ phận Một cửa – Nguyễn Văn An",
            "Văn phòng đăng ký đất đai – Trần Thị Bích",
        ),
        1 => (
            "Văn phòng đăng ký đất đai – Trần Thị Bích",
            "Phòng Kinh tế phường Sài Gòn – Hoàng Minh Tuấn",
        ),
        _ => (
            "Phòng Kinh tế phường Sài Gòn – Hoàng Minh Tuấn",
            "Bộ phận Một cửa – Nguyễn Văn An",
        ),
    };
    let result = ["Trước hạn", "Đúng hạn", "Quá hạn", ""][i % 4];
    let note = if i % 4 == 2 {
        "Chờ ý kiến cơ quan thuế"
    } else {
        ""
    };
    vec![
        format!("1. Giao: {from}\n2. Nhận: {to}"),
        format!(
            "{:02} giờ {:02} phút, ngày {:02}/11/2026",
            8 + i % 9,
            (i * 7) % 60,
            2 + i / 4
        ),
        result.to_string(),
        note.to_string(),
    ]
}

fn control_data(handovers: usize) -> FormData {
    FormData::new()
        .with_text("agency_parent", "Ủy ban nhân dân phường Sài Gòn")
        .with_text("agency_name", "Bộ phận Một cửa")
        .with_text("place", "Sài Gòn")
        .with_text("day", "02")
        .with_text("month", "11")
        .with_text("year", "2026")
        .with_text("code", CODE)
        .with_text("applicant_name", APPLICANT)
        .with_text(
            "applicant_address",
            "Số 12 đường Lê Lợi, phường Sài Gòn, Thành phố Hồ Chí Minh",
        )
        .with_text("applicant_phone", "0903 123 456")
        .with_text(
            "procedure_name",
            "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do chuyển nhượng",
        )
        .with_text(
            "lead_agency",
            "Chi nhánh Văn phòng đăng ký đất đai khu vực Sài Gòn",
        )
        .with_text(
            "coordinating_agencies",
            "Thuế cơ sở 1 Thành phố Hồ Chí Minh; Phòng Kinh tế phường Sài Gòn",
        )
        .with_text("received_at", "08 giờ 30 phút, ngày 02/11/2026")
        .with_text("due_at", DUE_AT)
        .with_text("reappointed_at", NEW_DUE_AT)
        .with_rows("handovers", (0..handovers).map(handover).collect())
}

fn render_checked(src: &str, id: &str, data: &FormData, preview_name: &str) -> Vec<u8> {
    let t = FormTemplate::parse(src).unwrap_or_else(|e| panic!("form {id} parses: {e}"));
    assert_eq!(t.id(), id);
    assert!(!t.title().is_empty());
    let pdf = render(&t, data, fonts()).unwrap_or_else(|e| panic!("form {id} renders: {e}"));
    preview(preview_name, &pdf);
    assert!(is_pdf(&pdf), "form {id}: not a PDF");
    assert!(
        pdf.len() < MAX_PDF_BYTES,
        "form {id} is {} bytes",
        pdf.len()
    );
    pdf
}

#[test]
fn delay_notice_renders_small_valid_pdf() {
    let pdf = render_checked(DELAY, "04", &delay_data(), "04-delay.pdf");
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn stop_notice_renders_small_valid_pdf() {
    let pdf = render_checked(STOP, "05", &stop_data(), "05-stop.pdf");
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn control_slip_renders_small_valid_pdf() {
    let pdf = render_checked(CONTROL, "06", &control_data(3), "06-control.pdf");
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn control_slip_with_40_handovers_flows_onto_more_pages() {
    let pdf = render_checked(CONTROL, "06", &control_data(40), "06-control-40.pdf");
    assert!(page_count(&pdf) > 1, "pages: {}", page_count(&pdf));
}

#[test]
fn notice_templates_render_without_data() {
    for (src, id) in [(DELAY, "04"), (STOP, "05"), (CONTROL, "06")] {
        let pdf = render_checked(src, id, &FormData::new(), &format!("{id}-blank.pdf"));
        assert_eq!(page_count(&pdf), 1, "form {id}");
    }
    // The control slip without the optional date line and re-appointment.
    let mut data = control_data(2);
    for k in ["place", "day", "month", "year", "reappointed_at"] {
        data.0.remove(k);
    }
    let pdf = render_checked(CONTROL, "06", &data, "06-control-nodate.pdf");
    assert_eq!(page_count(&pdf), 1);
}

#[test]
fn notice_templates_use_exactly_the_documented_keys() {
    for (src, id, expected) in [
        (DELAY, "04", DELAY_KEYS),
        (STOP, "05", STOP_KEYS),
        (CONTROL, "06", CONTROL_KEYS),
    ] {
        let documented = documented_keys(src);
        assert_eq!(
            documented,
            set(expected),
            "form {id}: header comment documents other keys than expected"
        );
        let used = FormTemplate::parse(src).unwrap().keys();
        let unused: Vec<_> = documented.difference(&used).collect();
        assert!(
            unused.is_empty(),
            "form {id} documents unused keys {unused:?}"
        );
        let undocumented: Vec<_> = used.difference(&documented).collect();
        assert!(
            undocumented.is_empty(),
            "form {id} uses undocumented keys {undocumented:?}"
        );
    }
    // Forms 01–03: every documented key is used too.
    for (src, id) in [(RECEIPT, "01"), (SUPPLEMENT, "02"), (REFUSAL, "03")] {
        let documented = documented_keys(src);
        assert!(documented.len() >= 10, "form {id}: {documented:?}");
        let used = FormTemplate::parse(src).unwrap().keys();
        let unused: Vec<_> = documented.difference(&used).collect();
        assert!(
            unused.is_empty(),
            "form {id} documents unused keys {unused:?}"
        );
    }
}

#[test]
fn notice_templates_text_is_nfc() {
    use unicode_normalization::UnicodeNormalization;
    for (src, id) in [(DELAY, "04"), (STOP, "05"), (CONTROL, "06")] {
        let nfc: String = src.nfc().collect();
        assert!(nfc == src, "form {id}: template text is not NFC");
    }
}

#[test]
#[ignore = "needs poppler-utils"]
fn delay_notice_text_extracts_with_pdftotext() {
    use unicode_normalization::UnicodeNormalization;
    let t = FormTemplate::parse(DELAY).unwrap();
    let pdf = render(&t, &delay_data(), fonts()).unwrap();
    let path = std::env::temp_dir().join(format!("motcua-04-delay-{}.pdf", std::process::id()));
    std::fs::write(&path, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output();
    let _ = std::fs::remove_file(&path);
    let out = out.expect("pdftotext on PATH (poppler-utils)");
    assert!(out.status.success(), "pdftotext failed: {out:?}");
    // NFC, whitespace collapsed (layout mode pads and wraps).
    let text: String = String::from_utf8(out.stdout).unwrap().nfc().collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [CODE, APPLICANT, DUE_AT, NEW_DUE_AT] {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
    assert!(text.contains("VĂN BẢN XIN LỖI"), "{text}");
}
