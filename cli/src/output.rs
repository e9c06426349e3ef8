//! What the commands print: human text, or one JSON object per line with `--json`
//! (`shared/cli.md`), and a progress indicator on stderr while something takes a moment.

use std::time::Duration;

use serde_json::{json, Value};

/// Human text or one JSON object per line.
pub struct Output {
    /// `--json` was given.
    pub json: bool,
}

impl Output {
    /// One result: `json` with `--json`, else `human`.
    pub fn line(&self, json: &Value, human: &str) {
        if self.json {
            println!("{json}");
        } else {
            println!("{human}");
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
