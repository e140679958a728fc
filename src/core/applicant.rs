//! Who asks: the applicant (*người nộp hồ sơ, tổ chức, cá nhân*) and their identifiers,
//! checked before anything is stored. Pure.

use serde::{Deserialize, Serialize};

/// The kind of identifier an applicant gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// Số định danh cá nhân: 12 digits (Law on Identification 2023; the citizen ID card number).
    #[default]
    PersonalId,
    /// Hộ chiếu: a passport number, for foreigners and Vietnamese abroad.
    Passport,
    /// Mã số thuế / mã số doanh nghiệp: 10 digits, or 10 + "-" + 3 for a branch.
    TaxCode,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::PersonalId => "personal_id",
            IdKind::Passport => "passport",
            IdKind::TaxCode => "tax_code",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "personal_id" => Some(IdKind::PersonalId),
            "passport" => Some(IdKind::Passport),
            "tax_code" => Some(IdKind::TaxCode),
            _ => None,
        }
    }
}

/// Checks and normalises an identifier of `kind`; the error is the Vietnamese reason.
pub fn check_id_number(kind: IdKind, raw: &str) -> Result<String, &'static str> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    match kind {
        IdKind::PersonalId => {
            if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
                Ok(s)
            } else {
                Err("số định danh cá nhân phải gồm đúng 12 chữ số (hộ chiếu hoặc mã số thuế cần ghi rõ id_kind)")
            }
        }
        IdKind::Passport => {
            let s = s.to_ascii_uppercase();
            if (6..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(s)
            } else {
                Err("số hộ chiếu phải gồm 6–20 chữ cái hoặc chữ số")
            }
        }
        IdKind::TaxCode => {
            let ok = match s.split_once('-') {
                None => s.len() == 10 && s.bytes().all(|b| b.is_ascii_digit()),
                Some((a, b)) => {
                    a.len() == 10
                        && b.len() == 3
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                }
            };
            if ok {
                Ok(s)
            } else {
                Err("mã số thuế phải gồm 10 chữ số, hoặc 10 chữ số, dấu '-' và 3 chữ số")
            }
        }
    }
}

/// Normalises a Vietnamese phone number to its national form (`0` + 9–10 digits);
/// accepts spaces, dots, dashes and the `+84` / `84` prefix.
pub fn check_phone(raw: &str) -> Result<String, &'static str> {
    let mut digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    if let Some(rest) = digits.strip_prefix("+84") {
        digits = format!("0{rest}");
    } else if digits.starts_with("84") && digits.len() == 11 {
        digits = format!("0{}", &digits[2..]);
    }
    if digits.starts_with('0')
        && (10..=11).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        Ok(digits)
    } else {
        Err("số điện thoại không hợp lệ (ví dụ 0912 345 678 hoặc +84 912 345 678)")
    }
}

/// Checks an e-mail address (one `@`, a dotted domain, no spaces); the domain is lowercased.
pub fn check_email(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    let err = "địa chỉ thư điện tử không hợp lệ (ví dụ ten@example.vn)";
    let (local, domain) = s.split_once('@').ok_or(err)?;
    let valid_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if local.is_empty()
        || local.len() > 64
        || s.len() > 254
        || local.contains(char::is_whitespace)
        || local.contains(char::is_control)
        || local.contains('@')
        || !valid_domain
    {
        return Err(err);
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// The applicant's name as shown publicly: the family name whole, every other part as an
/// initial (`Nguyễn Văn An` → `Nguyễn V. A.`).
pub fn mask_name(name: &str) -> String {
    let mut parts = name.split_whitespace();
    let Some(first) = parts.next() else {
        return String::new();
    };
    let mut out = first.to_string();
    for p in parts {
        // The part's first letter: punctuation or a stray mark is no initial.
        if let Some(c) = p.chars().find(|c| c.is_alphabetic()) {
            out.push(' ');
            out.extend(c.to_uppercase());
            out.push('.');
        }
    }
    out
}

#[cfg(test)]
mod masking_tests {
    use super::mask_name;
    use crate::core::text::{name, TextError};

    /// Names are cleaned by the text rule before they are stored; what reaches the mask
    /// is what the rule lets through.
    #[test]
    fn masks_of_hostile_names() {
        let masked = |raw: &str| name(raw, 100).map(|n| n.map(|n| mask_name(&n)));
        assert_eq!(
            masked("Nguy\u{200B}ễn Văn\u{FEFF} An"),
            Ok(Some("Nguyễn V. A.".into()))
        );
        // Decomposed Vietnamese is composed first.
        assert_eq!(
            masked("Nguye\u{0302}\u{0303}n Thi\u{0323} Ho\u{0302}\u{0300}ng Nhung"),
            Ok(Some("Nguyễn T. H. N.".into()))
        );
        assert!(matches!(masked("An\u{0}Bình"), Err(TextError::Control(_))));
        assert!(matches!(
            masked("\u{202E}nA nễyugN"),
            Err(TextError::Bidi(_))
        ));
        assert_eq!(masked("\u{200B}"), Ok(None));
        assert_eq!(masked("1 2 3"), Err(TextError::NoLetter));
        // A part without a letter gives no initial.
        assert_eq!(mask_name("Lê - Văn (Tư)"), "Lê V. T.");
        assert_eq!(mask_name("An"), "An");
        assert_eq!(mask_name(""), "");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_ids_have_twelve_digits() {
        assert_eq!(
            check_id_number(IdKind::PersonalId, "001 090 012345").unwrap(),
            "001090012345"
        );
        assert!(check_id_number(IdKind::PersonalId, "00109001234").is_err());
        assert!(check_id_number(IdKind::PersonalId, "00109001234X").is_err());
        assert_eq!(
            check_id_number(IdKind::Passport, "c1234567").unwrap(),
            "C1234567"
        );
        assert!(check_id_number(IdKind::TaxCode, "0101234567-001").is_ok());
        assert!(check_id_number(IdKind::TaxCode, "010123456").is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(check_phone("0912 345 678").unwrap(), "0912345678");
        assert_eq!(check_phone("+84 912.345.678").unwrap(), "0912345678");
        assert_eq!(check_phone("024 3825 3536").unwrap(), "02438253536");
        assert!(check_phone("12345").is_err());
        assert!(check_phone("09123456789012").is_err());
        assert!(check_phone("09a2345678").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            check_email("An.Nguyen@Example.VN").unwrap(),
            "An.Nguyen@example.vn"
        );
        for bad in [
            "an", "an@", "@x.vn", "a n@x.vn", "an@x", "an@x..vn", "an@@x.vn",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("Nguyễn Văn An"), "Nguyễn V. A.");
        assert_eq!(mask_name("Nguyễn Thị Hồng Nhung"), "Nguyễn T. H. N.");
        assert_eq!(mask_name("Đặng"), "Đặng");
        assert_eq!(mask_name("lê ánh"), "lê Á.");
    }
}
