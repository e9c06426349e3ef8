//! The login QR code of a `scan` event, for people: drawn as terminal text, and as the web
//! page every Wechaty getting-started prints beside it.

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

use crate::error::{Error, Result};

/// Light modules around the code. The standard asks for 4; scanners read 2 well, and a
/// terminal has little room.
const QUIET_ZONE: usize = 2;

/// The page that shows a QR code's content as an image (wechaty.js.org).
const QR_CODE_PAGE: &str = "https://wechaty.js.org/qrcode/";

/// The QR code of `content` as terminal text: Unicode half blocks, two modules per character
/// row (`█` `▀` `▄` and space), a quiet zone of 2 modules all around, each line ending in
/// `\n`. Print it as it is (with `print!`, not through something that escapes non-ASCII).
///
/// Light modules are drawn as blocks, dark ones as spaces, as qrcode-terminal (what the
/// official Wechaty examples use) draws its small codes: most terminals are light text on a
/// dark background, where this shows the code as printed on paper, dark on light, with the
/// light quiet zone scanners need around it. On a light terminal the code comes out inverted
/// (light on dark), which only some scanners read (zbar does not): show [`qr_code_url`] beside
/// it, the page that draws the code as an image.
///
/// Fails with [`Error::InvalidArgument`] when `content` is too long for a QR code (more than
/// 2,953 bytes).
///
/// ```
/// use wechaty_client::qr_code_text;
///
/// let text = qr_code_text("https://login.weixin.qq.com/l/abc==")?;
/// print!("{text}");
/// assert!(text.ends_with('\n'));
/// assert!(text.chars().all(|c| matches!(c, '█' | '▀' | '▄' | ' ' | '\n')));
/// assert!(qr_code_text(&"x".repeat(10_000)).is_err());
/// # Ok::<(), wechaty_client::Error>(())
/// ```
pub fn qr_code_text(content: &str) -> Result<String> {
    // Error correction L, the lowest: a terminal does not smudge, and the fewer modules the
    // larger each one is for the phone's camera.
    let code =
        QrCode::with_error_correction_level(content.as_bytes(), EcLevel::L).map_err(|error| {
            Error::InvalidArgument(format!(
                "cannot draw a QR code of {} bytes: {error}",
                content.len()
            ))
        })?;
    Ok(draw(code.width(), &code.to_colors()))
}

/// Draws a `width` × `width` matrix of modules (row by row) with the quiet zone around it.
fn draw(width: usize, modules: &[Color]) -> String {
    let size = width + 2 * QUIET_ZONE;
    // Outside the matrix (the quiet zone) is light.
    let light = |x: usize, y: usize| {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return true;
        };
        x >= width || y >= width || modules[y * width + x] == Color::Light
    };
    let mut text = String::with_capacity((size + 1) * size.div_ceil(2) * 3);
    for top in (0..size).step_by(2) {
        for x in 0..size {
            // An odd last row has nothing below it: the terminal's own background.
            let bottom = top + 1 < size && light(x, top + 1);
            text.push(match (light(x, top), bottom) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        text.push('\n');
    }
    text
}

/// `https://wechaty.js.org/qrcode/` followed by `content` percent-encoded as JavaScript's
/// `encodeURIComponent` does it: the page that shows the QR code as an image, which every
/// official Wechaty getting-started prints beside the terminal drawing (open it when the
/// terminal's code does not scan).
///
/// ```
/// use wechaty_client::qr_code_url;
///
/// assert_eq!(
///     qr_code_url("https://login.weixin.qq.com/l/abc=="),
///     "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fabc%3D%3D",
/// );
/// ```
pub fn qr_code_url(content: &str) -> String {
    let mut url = String::with_capacity(QR_CODE_PAGE.len() + content.len() * 3);
    url.push_str(QR_CODE_PAGE);
    for byte in content.bytes() {
        // encodeURIComponent keeps ASCII letters, digits and `-_.!~*'()`; every other byte of
        // the UTF-8 text becomes %XX.
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the drawing back: whether each module (quiet zone included) is light, by row.
    fn read_back(text: &str) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in text.lines() {
            let (top, bottom): (Vec<bool>, Vec<bool>) = line
                .chars()
                .map(|c| match c {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    ' ' => (false, false),
                    other => panic!("unexpected {other:?}"),
                })
                .unzip();
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn the_drawing_reads_back_as_the_codes_modules_inside_a_light_quiet_zone() {
        for content in ["https://login.weixin.qq.com/l/abc==", "微信 登录", "x", ""] {
            let text = qr_code_text(content).unwrap();
            assert!(text.ends_with('\n'));
            let code = QrCode::with_error_correction_level(content, EcLevel::L).unwrap();
            let width = code.width();
            let colors = code.to_colors();
            let size = width + 2 * QUIET_ZONE;
            let rows = read_back(&text);
            // An odd number of rows: the last character row's bottom half is background.
            assert_eq!(rows.len(), size + 1, "{content:?}");
            assert!(rows[size].iter().all(|light| !light));
            for (y, row) in rows.iter().take(size).enumerate() {
                assert_eq!(row.len(), size, "{content:?} row {y}");
                for (x, &light) in row.iter().enumerate() {
                    let inside = (QUIET_ZONE..QUIET_ZONE + width).contains(&x)
                        && (QUIET_ZONE..QUIET_ZONE + width).contains(&y);
                    let expected = !inside
                        || colors[(y - QUIET_ZONE) * width + (x - QUIET_ZONE)] == Color::Light;
                    assert_eq!(light, expected, "{content:?} module ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn the_quiet_zone_is_two_light_modules_and_the_finder_pattern_is_dark_inside_it() {
        let text = qr_code_text("https://login.weixin.qq.com/l/abc==").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // Rows 0 and 1: quiet zone, light both halves.
        assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
        // Rows 2 and 3: the finder pattern's dark top edge starts after two light columns.
        let row: Vec<char> = lines[1].chars().collect();
        assert_eq!(&row[..3], &['█', '█', ' ']);
        assert_eq!(row[row.len() - 1], '█');
    }

    #[test]
    fn content_too_long_for_a_qr_code_is_an_error_not_a_panic() {
        let error = qr_code_text(&"a".repeat(2_954)).unwrap_err();
        assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
        assert!(error.to_string().contains("2954 bytes"), "{error}");
        assert!(qr_code_text(&"a".repeat(2_953)).is_ok());
    }

    #[test]
    fn the_url_encodes_as_encode_uri_component() {
        // Expected strings from node: `encodeURIComponent(…)`.
        assert_eq!(
            qr_code_url("https://login.weixin.qq.com/l/abc=="),
            "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fabc%3D%3D"
        );
        assert_eq!(
            qr_code_url("微信 登录 😀!~*()'-_."),
            "https://wechaty.js.org/qrcode/%E5%BE%AE%E4%BF%A1%20%E7%99%BB%E5%BD%95%20%F0%9F%98%80!~*()'-_."
        );
        assert_eq!(
            qr_code_url("a+b&c?d#e"),
            "https://wechaty.js.org/qrcode/a%2Bb%26c%3Fd%23e"
        );
        assert_eq!(qr_code_url(""), "https://wechaty.js.org/qrcode/");
    }
}
