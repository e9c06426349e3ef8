//! What the commands print: human text, or one JSON object per line with `--json`
//! (`shared/cli.md`), and a progress indicator on stderr while something takes a moment.
//! Human text never passes control characters to the terminal: names, topics and texts come
//! from the service, and an escape sequence in them could rewrite the screen.

use std::borrow::Cow;
use std::time::Duration;

use serde_json::{json, Value};

/// Human text or one JSON object per line.
pub struct Output {
    /// `--json` was given.
    pub json: bool,
}

impl Output {
    /// One result: `json` with `--json`, else `human` (escaped).
    pub fn line(&self, json: &Value, human: &str) {
        if self.json {
            println!("{json}");
        } else {
            println!("{}", escaped(human));
        }
    }

    /// One result that people read on several lines (each escaped); one object with `--json`.
    pub fn lines(&self, json: &Value, human: &[&str]) {
        if self.json {
            println!("{json}");
        } else {
            for line in human {
                println!("{}", escaped(line));
            }
        }
    }

    /// A single named value: `{"key": value}` with `--json`.
    pub fn value(&self, key: &str, value: &str, human: &str) {
        self.line(&json!({ key: value }), human);
    }
}

/// Runs `work`, showing `what` and the seconds elapsed on stderr while it takes more than a
/// moment — only when stderr is a terminal, so scripts and pipes see nothing.
pub async fn with_progress<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return work.await;
    }
    tokio::pin!(work);
    let started = tokio::time::Instant::now();
    let mut ticks = tokio::time::interval_at(
        started + Duration::from_millis(300),
        Duration::from_millis(250),
    );
    let mut shown = false;
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            _ = ticks.tick() => {
                shown = true;
                eprint!("\r{what}… {:.1} s", started.elapsed().as_secs_f64());
            }
        }
    };
    if shown {
        eprint!("\r\x1b[2K");
    }
    result
}

/// A line of progress for people (`connecting…`, `waiting for …`) on stderr, only when stderr
/// is a terminal: scripts and pipes see nothing.
pub fn progress_line(text: &str) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        eprintln!("{}", escaped(text));
    }
}

/// `text` with every control character (escape, newline, carriage return, …) and every
/// bidirectional override written out as `\u{…}`, so that it shows as text and cannot move the
/// cursor, recolour the terminal or reorder what follows.
pub fn escaped(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

#[cfg(test)]
mod tests {
    use super::escaped;

    #[test]
    fn control_characters_and_overrides_show_as_text() {
        assert_eq!(escaped("Team Room"), "Team Room");
        assert_eq!(escaped("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escaped("one\ntwo\r"), "one\\u{a}two\\u{d}");
        assert_eq!(escaped("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(escaped("名前 😀"), "名前 😀");
    }
}
