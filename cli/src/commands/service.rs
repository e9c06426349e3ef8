//! The service itself: `version`, `ding`, `doctor`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use serde_json::json;
use wechaty_client::{Outcome, WechatyBuilder};

use crate::hints;
use crate::output::Output;

/// How long `ding` waits for its `dong`.
const DING_TIMEOUT: Duration = Duration::from_secs(10);

/// `version`: the service's version string.
pub async fn version(builder: WechatyBuilder, out: &Output) -> Result<()> {
    let bot = builder.build().await?;
    let version = bot.version().await?;
    out.value("version", &version, &version);
    Ok(())
}

/// `ding [DATA]`: a `Ding` and the round trip to its `dong` (the CLI never calls Start or Stop).
pub async fn ding(builder: WechatyBuilder, data: Option<String>, out: &Output) -> Result<()> {
    let bot = builder.build().await?;
    let data = data.unwrap_or_else(nonce);
    bot.connect().await?;
    let round_trip = bot.ding_dong(&data, DING_TIMEOUT).await;
    bot.stop();
    let ms = round_trip?.as_secs_f64() * 1000.0;
    out.line(
        &json!({ "data": data, "round_trip_ms": ms }),
        &format!("dong {data} in {ms:.1} ms"),
    );
    Ok(())
}

/// `doctor`: every step of a connection, PASS, FAIL or SKIP; exit 1 when one fails.
pub async fn doctor(builder: WechatyBuilder, out: &Output) -> Result<()> {
    let checks = builder.doctor().await;
    let mut failed = false;
    for check in &checks {
        let status = match check.outcome {
            Outcome::Pass => "PASS",
            Outcome::Fail => {
                failed = true;
                "FAIL"
            }
            _ => "SKIP",
        };
        // The library's hint names variables and builder methods; add the flags.
        let hint = check.hint.as_ref().map(|hint| match hints::for_text(hint) {
            Some(flags) => format!("{hint} {flags}"),
            None => hint.clone(),
        });
        let json =
            json!({ "step": check.step, "status": status, "detail": check.detail, "hint": hint });
        let line = format!("{status} {}: {}", check.step, check.detail);
        match &hint {
            Some(hint) => out.lines(&json, &[&line, &format!("     hint: {hint}")]),
            None => out.line(&json, &line),
        }
    }
    if failed {
        bail!("a step failed (see above)");
    }
    Ok(())
}

/// A random-enough nonce without a random-number dependency.
fn nonce() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0);
    format!("ding-{:x}{:x}", nanos, std::process::id())
}
