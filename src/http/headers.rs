//! Which of a URL box's headers go out with the request. A box carries headers for the file
//! host (a cookie, an authorization); the ones that shape the connection itself are the
//! client's business, and a box from the service must not be able to smuggle them in.

use std::collections::BTreeMap;

/// At most this many headers of a box are sent.
pub(crate) const MAX_HEADERS: usize = 32;
/// At most this many bytes of a box's header names and values are sent.
pub(crate) const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Headers the client sets or that change how the connection is framed or routed.
const CLIENT_OWNED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
];

/// The headers of `headers` that may be sent: valid, not owned by the client, within
/// [`MAX_HEADERS`] and [`MAX_HEADER_BYTES`]. Each one left out is logged (name only: the
/// value may be a credential).
pub(crate) fn forwardable(
    headers: &BTreeMap<String, String>,
) -> Vec<(http::HeaderName, http::HeaderValue)> {
    let mut kept = Vec::new();
    let mut bytes = 0;
    for (name, value) in headers {
        let parsed = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        );
        let (Ok(header), Ok(value)) = parsed else {
            tracing::warn!(header = %name.escape_debug(), "a file box header is not a valid HTTP header; not sent");
            continue;
        };
        if CLIENT_OWNED.contains(&header.as_str()) {
            tracing::warn!(header = %header, "a file box may not set this header; not sent");
            continue;
        }
        bytes += header.as_str().len() + value.len();
        if kept.len() == MAX_HEADERS || bytes > MAX_HEADER_BYTES {
            tracing::warn!(
                headers = headers.len(),
                "a file box has more than {MAX_HEADERS} headers or {MAX_HEADER_BYTES} bytes of them; the rest are not sent"
            );
            break;
        }
        kept.push((header, value));
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(headers: &[(http::HeaderName, http::HeaderValue)]) -> Vec<&str> {
        headers.iter().map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn connection_headers_and_invalid_ones_are_left_out() {
        let headers: BTreeMap<String, String> = [
            ("Authorization", "Bearer x"),
            ("Host", "169.254.169.254"),
            ("Transfer-Encoding", "chunked"),
            ("Content-Length", "0"),
            ("Connection", "upgrade"),
            ("bad name", "x"),
            ("X-Newline", "a\r\nInjected: yes"),
            ("Cookie", "k=v"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        assert_eq!(
            names(&forwardable(&headers)),
            vec!["authorization", "cookie"]
        );
    }

    #[test]
    fn at_most_so_many_headers_and_bytes() {
        let many: BTreeMap<String, String> = (0..100)
            .map(|i| (format!("x-{i:03}"), "v".to_owned()))
            .collect();
        assert_eq!(forwardable(&many).len(), MAX_HEADERS);
        let big: BTreeMap<String, String> = (0..4)
            .map(|i| (format!("x-{i}"), "v".repeat(3000)))
            .collect();
        assert_eq!(forwardable(&big).len(), 2);
    }
}
