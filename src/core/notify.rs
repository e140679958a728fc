//! Notifications (*thông báo*), the pure part: which messages a dossier's event sends to
//! the applicant, how long a failed sending waits before the next attempt, and how a
//! template's placeholders are filled. No I/O, no clock.
//!
//! The law asks the applicant to be told when an online dossier is received or must be
//! corrected (NĐ 118/2025/NĐ-CP Art. 17(2)(c)), of a supplement request (Art. 19(5)) and of
//! a re-appointment with its apology (Art. 19(6): "đồng thời gửi thông báo đến tổ chức, cá
//! nhân qua thư điện tử…"); the other messages follow the dossier's life so that the
//! applicant never has to ask.

use std::collections::BTreeMap;

/// The templates (`config/templates/<name>.toml`) that every installation must have: the
/// ones the code sends.
pub const REQUIRED_TEMPLATES: &[&str] = &[
    "dossier_received",
    "correction_requested",
    "intake_refused",
    "supplement_requested",
    "supplement_received",
    "paused",
    "resumed",
    "reappointed",
    "decided",
    "stopped",
    "result_ready",
    "returned",
    "closed",
    "rating_invitation",
    "test_message",
];

/// What an event recorded on a dossier means for the applicant: the templates of the
/// messages it sends, in order (none for internal steps: hand-overs, assignments, …).
///
/// - `kind`: the event's kind as stored (`receive`, `request_supplement`, …);
/// - `status_after`: the dossier's status after it;
/// - `at_receiving_desk`: after it the dossier is at the desk that received it.
///
/// The result is ready for the applicant when a decided dossier is back at the receiving
/// desk (an `accept` there, or decided there); an electronic copy attached sends `result_ready` too, and the
/// message's key makes it one message per dossier whichever comes first.
pub fn templates_for(
    kind: &str,
    status_after: &str,
    at_receiving_desk: bool,
) -> &'static [&'static str] {
    match kind {
        // At the counter, or an online dossier received officially (Art. 17(2)(c)).
        "receive" => &["dossier_received"],
        "request_correction" => &["correction_requested"],
        "refuse" => &["intake_refused"],
        "request_supplement" => &["supplement_requested"],
        "supplement_received" => &["supplement_received"],
        "pause" => &["paused"],
        "resume" => &["resumed"],
        "delay" => &["reappointed"],
        // Decided where it was received: the result waits at that desk at once.
        "decide" if at_receiving_desk => &["decided", "result_ready"],
        "decide" => &["decided"],
        "stop" => &["stopped"],
        "accept" if at_receiving_desk && matches!(status_after, "approved" | "refused") => {
            &["result_ready"]
        }
        "return" => &["returned", "rating_invitation"],
        "close" => &["closed"],
        _ => &[],
    }
}

/// The key that makes a message unique: one per dossier for `result_ready` (whether the
/// paper comes back to the desk or the electronic copy is attached first), otherwise one
/// per event and template.
pub fn message_key(code: &str, seq: i32, template: &str) -> String {
    if template == "result_ready" {
        format!("{code}:result_ready")
    } else {
        format!("{code}:{seq}:{template}")
    }
}

/// Seconds to wait after failed attempt number `attempt` (1, 2, …): `base_s`, then twice
/// as long each time, at most `max_s`.
pub fn retry_delay_s(attempt: i32, base_s: u32, max_s: u32) -> i64 {
    let exp = attempt.clamp(1, 31) as u32 - 1;
    let delay = (base_s as u64).saturating_mul(1u64 << exp.min(40));
    delay.min(max_s as u64) as i64
}

/// A template's text with its placeholders filled: `{{name}}` by the variable `name`
/// (HTML-escaped when `html`), `{{{name}}}` by the variable as it is (a fragment the code
/// built and escaped itself). A placeholder without its variable is an error naming it,
/// as is a `{{` that is not closed.
pub fn fill(template: &str, vars: &BTreeMap<String, String>, html: bool) -> Result<String, String> {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (raw, open, close) = if after.starts_with("{{{") {
            (true, 3, "}}}")
        } else {
            (false, 2, "}}")
        };
        let Some(end) = after[open..].find(close) else {
            return Err(format!("\"{{{{\" không đóng ở \"{}\"", excerpt(after)));
        };
        let name = after[open..open + end].trim();
        let Some(value) = vars.get(name) else {
            return Err(format!("thiếu biến \"{name}\""));
        };
        if html && !raw {
            out.push_str(&crate::core::text::escape_html(value));
        } else {
            out.push_str(value);
        }
        rest = &after[open + end + close.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The names of the placeholders in a template, in order, each once.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start..];
        let (open, close) = if after.starts_with("{{{") {
            (3, "}}}")
        } else {
            (2, "}}")
        };
        let Some(end) = after[open..].find(close) else {
            break;
        };
        let name = after[open..open + end].trim().to_string();
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &after[open + end + close.len()..];
    }
    names
}

fn excerpt(s: &str) -> String {
    s.chars().take(20).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_sends_what_the_applicant_must_know() {
        let table: &[(&str, &str, bool, &[&str])] = &[
            ("receive", "received", true, &["dossier_received"]),
            ("submit", "submitted", true, &[]),
            (
                "request_correction",
                "needs_correction",
                true,
                &["correction_requested"],
            ),
            ("refuse", "refused_at_intake", true, &["intake_refused"]),
            ("handover", "received", false, &[]),
            ("accept", "in_progress", false, &[]),
            ("assign", "in_progress", false, &[]),
            ("propose", "in_progress", false, &[]),
            (
                "request_supplement",
                "supplement_requested",
                false,
                &["supplement_requested"],
            ),
            (
                "supplement_received",
                "in_progress",
                false,
                &["supplement_received"],
            ),
            ("pause", "paused", false, &["paused"]),
            ("resume", "in_progress", false, &["resumed"]),
            ("delay", "in_progress", false, &["reappointed"]),
            ("decide", "approved", false, &["decided"]),
            ("decide", "refused", true, &["decided", "result_ready"]),
            ("handover", "approved", false, &[]),
            // Back at a desk that is not the receiving one: not yet for the applicant.
            ("accept", "approved", false, &[]),
            ("accept", "approved", true, &["result_ready"]),
            ("accept", "refused", true, &["result_ready"]),
            ("accept", "in_progress", true, &[]),
            ("stop", "stopped", false, &["stopped"]),
            (
                "return",
                "returned",
                true,
                &["returned", "rating_invitation"],
            ),
            ("close", "closed", true, &["closed"]),
            ("payment", "received", true, &[]),
            ("rate", "returned", true, &[]),
        ];
        for (kind, status, desk, want) in table {
            assert_eq!(
                templates_for(kind, status, *desk),
                *want,
                "{kind} {status} {desk}"
            );
        }
        for (_, _, _, want) in table {
            for t in *want {
                assert!(REQUIRED_TEMPLATES.contains(t), "{t} is not required");
            }
        }
    }

    #[test]
    fn the_result_is_announced_once_per_dossier() {
        assert_eq!(message_key("X-1", 7, "result_ready"), "X-1:result_ready");
        assert_eq!(message_key("X-1", 9, "result_ready"), "X-1:result_ready");
        assert_eq!(message_key("X-1", 7, "returned"), "X-1:7:returned");
        assert_ne!(
            message_key("X-1", 7, "returned"),
            message_key("X-1", 7, "rating_invitation")
        );
    }

    #[test]
    fn retries_wait_twice_as_long_up_to_the_ceiling() {
        let table = [
            (1, 30),
            (2, 60),
            (3, 120),
            (4, 240),
            (7, 1920),
            (8, 3600),
            (30, 3600),
            (0, 30),
            (-5, 30),
        ];
        for (attempt, want) in table {
            assert_eq!(retry_delay_s(attempt, 30, 3600), want, "attempt {attempt}");
        }
        assert_eq!(retry_delay_s(1000, u32::MAX, u32::MAX), u32::MAX as i64);
    }

    #[test]
    fn placeholders_are_filled_and_escaped_in_html() {
        let vars: BTreeMap<String, String> = [
            ("code", "000.00.51.H26-260310-0001"),
            ("name", "Nguyễn <Văn> & \"A\""),
            ("list", "<li>a</li>"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            fill("Hồ sơ {{code}} của {{ name }}", &vars, false).unwrap(),
            "Hồ sơ 000.00.51.H26-260310-0001 của Nguyễn <Văn> & \"A\""
        );
        assert_eq!(
            fill("<p>{{name}}</p><ul>{{{list}}}</ul>", &vars, true).unwrap(),
            "<p>Nguyễn &lt;Văn&gt; &amp; &quot;A&quot;</p><ul><li>a</li></ul>"
        );
        assert_eq!(
            fill("no placeholder {", &vars, true).unwrap(),
            "no placeholder {"
        );
        assert_eq!(
            fill("{{missing}}", &vars, false).unwrap_err(),
            "thiếu biến \"missing\""
        );
        assert!(fill("{{code", &vars, false).is_err());
        assert_eq!(placeholders("{{a}} {{{b}}} {{ a }}"), vec!["a", "b"]);
    }
}
