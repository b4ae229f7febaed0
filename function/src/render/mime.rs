//! The email as one MIME message (RFC 5322 / 2045): multipart/mixed holding a
//! multipart/alternative (text, HTML) and the CSV attachment. The Lambda sends exactly these
//! bytes through SES; the local run writes them to `email.eml`.

use base64::Engine;

pub struct Message<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub date_unix: i64,
    /// Unique per message; also seeds the boundaries.
    pub message_id: &'a str,
    /// A `mailto:` or `https:` URL.
    pub unsubscribe: &'a str,
    pub text: &'a str,
    pub html: &'a str,
    pub attachment: Option<(&'a str, &'a str)>,
    pub extra_headers: &'a [(&'a str, &'a str)],
}

/// Removes anything that could end a header line.
fn header_value(v: &str) -> String {
    v.chars().filter(|c| !c.is_control()).collect()
}

/// RFC 2047 encoded-word when the value is not plain ASCII.
fn encode_subject(s: &str) -> String {
    let clean = header_value(s);
    if clean.is_ascii() {
        clean
    } else {
        format!("=?utf-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(clean.as_bytes()))
    }
}

fn b64_lines(data: &[u8]) -> String {
    let enc = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = String::with_capacity(enc.len() + enc.len() / 76 * 2 + 2);
    for chunk in enc.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

/// `Sat, 28 Nov 2026 13:05:09 +0000`
pub fn rfc5322_date(unix: i64) -> String {
    crate::domain::time::rfc5322(unix)
}

pub fn build(m: &Message<'_>) -> Vec<u8> {
    let tag: String = m.message_id.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let outer = format!("=_mixed_{tag}");
    let inner = format!("=_alt_{tag}");
    let mut s = String::new();
    let mut header = |k: &str, v: &str| {
        s.push_str(k);
        s.push_str(": ");
        s.push_str(&header_value(v));
        s.push_str("\r\n");
    };
    header("From", &format!("stockpicks <{}>", m.from));
    header("To", m.to);
    header("Date", &rfc5322_date(m.date_unix));
    header("Message-ID", &format!("<{}>", m.message_id));
    header("MIME-Version", "1.0");
    let unsub = if m.unsubscribe.starts_with("https:") {
        format!("<{}>, <mailto:{}?subject=unsubscribe>", m.unsubscribe, m.from)
    } else {
        format!("<{}>", m.unsubscribe)
    };
    header("List-Unsubscribe", &unsub);
    if m.unsubscribe.starts_with("https:") {
        header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    }
    for (k, v) in m.extra_headers {
        header(k, v);
    }
    s.push_str(&format!("Subject: {}\r\n", encode_subject(m.subject)));
    s.push_str(&format!("Content-Type: multipart/mixed; boundary=\"{outer}\"\r\n\r\n"));
    s.push_str("This is a multi-part message in MIME format.\r\n");
    s.push_str(&format!("--{outer}\r\nContent-Type: multipart/alternative; boundary=\"{inner}\"\r\n\r\n"));
    for (ctype, body) in [("text/plain", m.text), ("text/html", m.html)] {
        s.push_str(&format!("--{inner}\r\nContent-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"));
        s.push_str(&b64_lines(body.as_bytes()));
    }
    s.push_str(&format!("--{inner}--\r\n"));
    if let Some((name, csv)) = m.attachment {
        let name = header_value(name).replace('"', "");
        s.push_str(&format!(
            "--{outer}\r\nContent-Type: text/csv; charset=utf-8; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        ));
        s.push_str(&b64_lines(csv.as_bytes()));
    }
    s.push_str(&format!("--{outer}--\r\n"));
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<'a>(subject: &'a str, to: &'a str) -> Message<'a> {
        Message {
            from: "s@example.com",
            to,
            subject,
            date_unix: 1_795_863_909,
            message_id: "run-1.0@stockpicks",
            unsubscribe: "mailto:s@example.com?subject=unsubscribe",
            text: "hello",
            html: "<p>hello</p>",
            attachment: Some(("top25.csv", "rank,symbol\n1,AAPL\n")),
            extra_headers: &[],
        }
    }

    #[test]
    fn structure_and_headers() {
        let out = String::from_utf8(build(&msg("Top picks", "r@example.com"))).unwrap();
        assert!(out.contains("Date: Sat, 28 Nov 2026 11:05:09 +0000\r\n"), "{out}");
        assert!(out.contains("List-Unsubscribe: <mailto:s@example.com?subject=unsubscribe>\r\n"));
        assert!(out.contains("multipart/alternative"));
        assert!(out.contains("Content-Disposition: attachment; filename=\"top25.csv\""));
        assert!(out.lines().all(|l| l.len() <= 998));
    }

    #[test]
    fn header_injection_is_impossible() {
        let out = String::from_utf8(build(&msg("Hi\r\nBcc: evil@x.com", "r@example.com\r\nBcc: evil@x.com"))).unwrap();
        assert!(!out.contains("\r\nBcc:"), "{out}");
        let utf = String::from_utf8(build(&msg("Größe", "r@example.com"))).unwrap();
        assert!(utf.contains("Subject: =?utf-8?B?"));
    }
}
