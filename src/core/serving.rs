//! How stored files are served back (`GET /v5/objects/{path}`, in R2 mode and
//! through an origin): never as active content of the worker's own origin.
//! Every answer carries `X-Content-Type-Options: nosniff` and
//! `Content-Security-Policy: sandbox`, and a type a browser would run or
//! render as a document (HTML, XML and SVG, JavaScript) is sent as an
//! attachment.

/// The headers added to a served file of media type `content_type`, named
/// `name` (its last path segment).
pub fn headers(content_type: &str, name: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("X-Content-Type-Options", "nosniff".to_string()),
        ("Content-Security-Policy", "sandbox".to_string()),
    ];
    if is_active(content_type) {
        out.push(("Content-Disposition", attachment(name)));
    }
    out
}

/// Whether a browser would run `content_type`, or render it as a document
/// that can run scripts.
pub fn is_active(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    // No media type a browser could know: served as an attachment.
    let Some((kind, sub)) = essence.split_once('/') else {
        return true;
    };
    matches!(
        essence.as_str(),
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/xsl"
            | "application/xslt+xml"
            | "text/javascript"
            | "application/javascript"
            | "application/x-javascript"
            | "text/ecmascript"
            | "application/ecmascript"
            | "text/jscript"
            | "application/wasm"
            | "multipart/x-mixed-replace"
    ) || sub.ends_with("+xml")
        || kind.is_empty()
        || sub.is_empty()
}

/// `attachment; filename="…"` with the name's unsafe characters replaced,
/// and the name in full as `filename*` (RFC 6266, RFC 8187).
fn attachment(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let encoded: String =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_types_are_attachments() {
        for t in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "text/xml",
            "application/rss+xml",
            "text/javascript",
            "application/javascript",
            "",
            "garbage",
        ] {
            assert!(is_active(t), "{t:?}");
            let h = headers(t, "a.html");
            assert!(
                h.iter()
                    .any(|(k, v)| *k == "Content-Disposition" && v.starts_with("attachment"))
            );
        }
        for t in [
            "image/png",
            "image/jpeg",
            "text/plain",
            "application/pdf",
            "video/mp4",
            "application/json",
        ] {
            assert!(!is_active(t), "{t}");
            let h = headers(t, "a.png");
            assert_eq!(h.len(), 2);
            assert!(h.contains(&("X-Content-Type-Options", "nosniff".into())));
            assert!(h.contains(&("Content-Security-Policy", "sandbox".into())));
        }
    }

    #[test]
    fn the_file_name_cannot_break_the_header() {
        assert_eq!(
            attachment("é \"x\".svg"),
            "attachment; filename=\"_ _x_.svg\"; filename*=UTF-8''%C3%A9%20%22x%22%2Esvg"
        );
    }
}
