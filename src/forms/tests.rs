use super::*;
use std::path::PathBuf;
use std::sync::OnceLock;

const RECEIPT: &str = include_str!("../../forms/01-receipt.toml");
const SUPPLEMENT: &str = include_str!("../../forms/02-supplement.toml");
const REFUSAL: &str = include_str!("../../forms/03-refusal.toml");

fn fonts() -> &'static Fonts {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    FONTS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("forms/fonts");
        Fonts::load(&dir).expect("fonts in forms/fonts")
    })
}

fn receipt_data() -> FormData {
    FormData::new()
        .with_text("agency_parent", "Ủy ban nhân dân quận 1")
        .with_text("agency_name", "Bộ phận Một cửa phường Bến Nghé")
        .with_text("receipt_number", "125/TNHS")
        .with_text("place", "Bến Nghé")
        .with_text("day", "05")
        .with_text("month", "03")
        .with_text("year", "2026")
        .with_text("code", "000.00.19.H29-260305-0001")
        .with_text("book_volume", "01")
        .with_text("book_line", "125")
        .with_text(
            "receiving_agency",
            "Bộ phận Một cửa Ủy ban nhân dân phường Bến Nghé",
        )
        .with_text("applicant_name", "Nguyễn Thị Hồng Nhung")
        .with_text("applicant_id_number", "079190001234")
        .with_text(
            "applicant_address",
            "Số 12 đường Lê Lợi, phường Bến Nghé, quận 1, Thành phố Hồ Chí Minh",
        )
        .with_text("applicant_phone", "0903 123 456")
        .with_text("applicant_email", "nhung.nguyen@example.vn")
        .with_text("procedure_name", "Đăng ký khai sinh")
        .with_rows(
            "papers",
            vec![
                vec![
                    "Tờ khai đăng ký khai sinh".into(),
                    "Bản chính".into(),
                    "01".into(),
                ],
                vec!["Giấy chứng sinh".into(), "Bản chính".into(), "01".into()],
                vec![
                    "Giấy chứng nhận kết hôn của cha mẹ".into(),
                    "Bản sao có chứng thực".into(),
                    "01".into(),
                ],
            ],
        )
        .with_text("statutory_time", "01 ngày làm việc")
        .with_text("received_at", "09 giờ 15 phút, ngày 05/03/2026")
        .with_text("due_at", "09 giờ 15 phút, ngày 06/03/2026")
        .with_text(
            "return_place",
            "Bộ phận Một cửa Ủy ban nhân dân phường Bến Nghé, số 29 Nguyễn Huệ",
        )
        .with_text(
            "status_url",
            "https://motcua.example.vn/tra-cuu/000.00.19.H29-260305-0001",
        )
        .with_text("pin", "482915")
        .with_text("receiver_name", "Trần Văn Minh")
}

fn is_pdf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"%PDF-") && bytes.windows(5).rev().take(64).any(|w| w == b"%%EOF")
}

fn page_count(bytes: &[u8]) -> usize {
    // Count page objects: "/Type /Page" not followed by "s".
    let pat = b"/Type/Page";
    let pat2 = b"/Type /Page";
    let count = |p: &[u8]| {
        bytes
            .windows(p.len() + 1)
            .filter(|w| &w[..p.len()] == p && w[p.len()] != b's')
            .count()
    };
    count(pat) + count(pat2)
}

#[test]
fn receipt_renders_small_valid_pdf() {
    let t = FormTemplate::parse(RECEIPT).expect("receipt template parses");
    assert_eq!(t.id(), "01");
    let pdf = render(&t, &receipt_data(), fonts()).expect("renders");
    assert!(is_pdf(&pdf), "not a PDF");
    assert!(pdf.len() <= 60 * 1024, "receipt is {} bytes", pdf.len());
    assert_eq!(page_count(&pdf), 1);
    // The fonts are embedded as subsets, not whole (each TTF is > 350 KB).
    assert!(pdf.len() < 100_000);
}

#[test]
fn many_rows_break_onto_a_second_page() {
    let t = FormTemplate::parse(RECEIPT).unwrap();
    let rows = (1..=60)
        .map(|i| {
            vec![
                format!("Giấy tờ kèm theo số {i} — bản kê chi tiết"),
                "Bản sao".into(),
                "01".into(),
            ]
        })
        .collect();
    let data = receipt_data().with_rows("papers", rows);
    let pdf = render(&t, &data, fonts()).unwrap();
    assert!(is_pdf(&pdf));
    assert!(page_count(&pdf) >= 2, "pages: {}", page_count(&pdf));
}

#[test]
fn long_paragraph_breaks_onto_a_second_page() {
    let t = FormTemplate::parse(
        "[[block]]\ntype = \"paragraph\"\ntext = \"{long}\"\n[[block]]\ntype = \"paragraph\"\ntext = \"end\"\n",
    )
    .unwrap();
    let long = "Lời văn dài được ngắt dòng tự động theo chiều rộng trang giấy. ".repeat(200);
    let pdf = render(&t, &FormData::new().with_text("long", long), fonts()).unwrap();
    assert!(page_count(&pdf) >= 2);
}

#[test]
fn missing_placeholders_render_empty() {
    for src in [RECEIPT, SUPPLEMENT, REFUSAL] {
        let t = FormTemplate::parse(src).unwrap();
        let pdf = render(&t, &FormData::new(), fonts()).expect("renders without data");
        assert!(is_pdf(&pdf));
        assert_eq!(page_count(&pdf), 1);
    }
    // A key bound to rows used as text, odd characters, empty QR value.
    let data = FormData::new()
        .with_rows("applicant_name", vec![vec!["x".into()]])
        .with_text(
            "applicant_address",
            "tab\there\u{7}bell \u{1F600} emoji\r\nnext line",
        )
        .with_text("status_url", "");
    let pdf = render(&FormTemplate::parse(RECEIPT).unwrap(), &data, fonts()).unwrap();
    assert!(is_pdf(&pdf));
}

#[test]
fn syntax_error_names_the_key() {
    let err = FormTemplate::parse("[page]\nfont_size = = 13\n").unwrap_err();
    assert!(err.contains("font_size"), "{err}");
    assert!(err.contains("line 2"), "{err}");

    let err = FormTemplate::parse("[page]\nmargin_left_mm = \"thirty\"\n").unwrap_err();
    assert!(err.contains("margin_left_mm"), "{err}");

    let err = FormTemplate::parse("[page]\nfont_siz = 13\n").unwrap_err();
    assert!(err.contains("font_siz"), "{err}");

    let err = FormTemplate::parse("[[block]]\ntype = \"table\"\nrows = \"papers\"\ncolums = []\n")
        .unwrap_err();
    assert!(err.contains("colums") && err.contains("block #1"), "{err}");

    let err = FormTemplate::parse("[[block]]\ntype = \"tabel\"\n").unwrap_err();
    assert!(err.contains("tabel"), "{err}");

    let err = FormTemplate::parse("[[block]]\ntext = \"x\"\n").unwrap_err();
    assert!(err.contains("type"), "{err}");
}

#[test]
fn render_errors_are_plain_ascii() {
    let t = FormTemplate::parse(
        "[[block]]\ntype = \"table\"\nrows = \"r\"\ncolumns = [{ header = \"A\", width_mm = 200 }]\n",
    )
    .unwrap();
    let err = render(&t, &FormData::new(), fonts()).unwrap_err();
    assert!(err.contains("table `r`") && err.is_ascii(), "{err}");
}

#[test]
fn templates_name_the_documented_keys() {
    let keys = FormTemplate::parse(RECEIPT).unwrap().keys();
    for k in [
        "code",
        "book_volume",
        "book_line",
        "receiving_agency",
        "applicant_name",
        "applicant_id_number",
        "applicant_address",
        "applicant_phone",
        "applicant_email",
        "proxy_line",
        "procedure_name",
        "papers",
        "statutory_time",
        "received_at",
        "due_at",
        "return_place",
        "status_url",
        "pin",
        "receiver_name",
        "agency_parent",
        "agency_name",
    ] {
        assert!(keys.contains(k), "receipt lacks {k}");
    }
    let keys = FormTemplate::parse(SUPPLEMENT).unwrap().keys();
    for k in [
        "applicant_name",
        "procedure_name",
        "items",
        "contact_name",
        "guide_name",
    ] {
        assert!(keys.contains(k), "supplement lacks {k}");
    }
    let keys = FormTemplate::parse(REFUSAL).unwrap().keys();
    for k in [
        "applicant_name",
        "applicant_id_number",
        "code",
        "procedure_name",
        "refusal_reason",
    ] {
        assert!(keys.contains(k), "refusal lacks {k}");
    }
}

#[test]
fn fonts_and_renders_are_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Fonts>();
    assert_send_sync::<FormTemplate>();
}

#[test]
fn pathological_inputs_do_not_panic() {
    let t = FormTemplate::parse(RECEIPT).unwrap();
    let huge_word = "X".repeat(3000);
    let tall_cell = (1..=150)
        .map(|i| format!("dòng {i}"))
        .collect::<Vec<_>>()
        .join("\n");
    let data = receipt_data()
        .with_text("applicant_address", huge_word.clone())
        .with_text(
            "status_url",
            format!("https://motcua.example.vn/{}", "a".repeat(200)),
        )
        .with_rows(
            "papers",
            vec![
                vec![huge_word.clone(), huge_word.clone(), huge_word],
                vec![tall_cell, "Bản chính".into()],
                vec![],
            ],
        );
    let pdf = render(&t, &data, fonts()).expect("renders");
    assert!(is_pdf(&pdf));
    assert!(page_count(&pdf) >= 3);

    // A value too long for any QR code gives an error, not a panic.
    let data = receipt_data().with_text("status_url", "x".repeat(5000));
    let err = render(&t, &data, fonts()).unwrap_err();
    assert!(err.starts_with("qr:"), "{err}");

    // Text bound where rows are expected is an operator error.
    let data = receipt_data().with_text("papers", "not rows");
    assert!(render(&t, &data, fonts()).unwrap_err().contains("papers"));
}

#[test]
fn qr_absolute_and_heading_defaults() {
    let src = r#"
[page]
page_numbers = false
[[block]]
type = "heading"
left = [{ text = "{agency_name}", bold = true, rule = true, rule_ratio = 0.3 }]
[[block]]
type = "qr"
value = "{status_url}"
x_mm = 170
y_mm = 250
size_mm = 20
border = true
caption = "Mã QR"
[[block]]
type = "page_break"
[[block]]
type = "paragraph"
text = "Trang hai"
"#;
    let t = FormTemplate::parse(src).unwrap();
    let pdf = render(&t, &receipt_data(), fonts()).unwrap();
    assert_eq!(page_count(&pdf), 2);
}
