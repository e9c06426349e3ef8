//! `login`: from a terminal, log the account in by QR code and say who logged in.

use std::time::Duration;

use anyhow::{bail, Result};
use serde_json::{json, Value};
use tokio_stream::StreamExt;
use wechaty_client::{ContactId, Event, Events, Wechaty, WechatyBuilder};

use crate::json::{event_json, qr_code_lines, wants_a_scan};
use crate::output::{progress_line, Output};

/// The replay at the start of a stream (heartbeat, the login or the pending scan, ready) is
/// over once the stream has been quiet this long, or at the latest after [`REPLAY_MAX`].
const REPLAY_QUIET: Duration = Duration::from_millis(500);
const REPLAY_MAX: Duration = Duration::from_secs(3);

/// `login [--timeout SECS]`: connects; when the replay says nobody is logged in and no QR code
/// shows yet, calls Start (the one command that does: logging in needs the puppet running);
/// prints every scan, then who logged in. Exit 1 when nobody did within `timeout`.
pub async fn login(builder: WechatyBuilder, timeout: Duration, out: &Output) -> Result<()> {
    let bot = builder.build().await?;
    let mut events = bot.events();
    progress_line("connecting…");
    let logged_in = match tokio::time::timeout(timeout, until_login(&bot, &mut events, out)).await {
        Ok(logged_in) => logged_in,
        Err(_) => {
            bot.stop();
            bail!(
                "nobody logged in within {} s (--timeout): was the QR code scanned and the \
                 login confirmed on the phone?",
                timeout.as_secs_f64()
            );
        }
    };
    let contact_id = match logged_in {
        Ok(contact_id) => contact_id,
        Err(error) => {
            bot.stop();
            return Err(error);
        }
    };
    // The name is a nicety: the login happened even when the payload cannot be had.
    let name = bot.contact(contact_id.clone()).name().await.ok();
    bot.stop();
    let human = match &name {
        Some(name) => format!("logged in as {name} ({contact_id})"),
        None => format!("logged in as {contact_id}"),
    };
    out.line(&json!({ "contact_id": contact_id, "name": name }), &human);
    Ok(())
}

/// Prints the scans until the `login`; calls Start when the replay shows the puppet idle.
async fn until_login(bot: &Wechaty, events: &mut Events, out: &Output) -> Result<ContactId> {
    bot.connect().await?;
    let mut scanning = false;
    // The replay first: a logged-in account says so at once, a login in progress shows its
    // QR code again.
    let replay_over = tokio::time::Instant::now() + REPLAY_MAX;
    loop {
        let quiet_until = (tokio::time::Instant::now() + REPLAY_QUIET).min(replay_over);
        let Ok(event) = tokio::time::timeout_at(quiet_until, events.next()).await else {
            break;
        };
        match seen(event, out)? {
            Seen::Login(contact_id) => return Ok(contact_id),
            Seen::Scan => scanning = true,
            Seen::Other => {}
        }
    }
    if !scanning {
        progress_line("starting the puppet…");
        bot.start().await?;
    }
    progress_line("waiting for the login: scan the QR code with WeChat…");
    loop {
        if let Seen::Login(contact_id) = seen(events.next().await, out)? {
            return Ok(contact_id);
        }
    }
}

/// What an event means here.
enum Seen {
    Login(ContactId),
    Scan,
    Other,
}

/// Prints a scan; says what the event was. The end of the stream is an error: the bot stopped.
fn seen(event: Option<Event>, out: &Output) -> Result<Seen> {
    match event {
        None => bail!("the Event stream ended before the login"),
        Some(Event::Login { contact_id }) => Ok(Seen::Login(contact_id)),
        Some(scan @ Event::Scan { .. }) => {
            print_scan(&event_json(&scan), out);
            Ok(Seen::Scan)
        }
        Some(_) => Ok(Seen::Other),
    }
}

/// `{"type":"scan","status","qrcode","url"}` with `--json`; for people the QR code drawn and
/// the page that shows it while it waits for a scan, then the status.
fn print_scan(event: &Value, out: &Output) {
    let status = event["status"].as_str().unwrap_or("unknown");
    let json = json!({
        "type": "scan",
        "status": status,
        "qrcode": event["qrcode"],
        "url": event["url"],
    });
    let mut human = Vec::new();
    if let (Some(qrcode), Some(url)) = (event["qrcode"].as_str(), event["url"].as_str()) {
        if wants_a_scan(&event["status"]) {
            human = qr_code_lines(qrcode);
            human.push(format!("or open {url}"));
        }
    }
    human.push(match status {
        "waiting" => "scan: waiting (scan the QR code with WeChat)".to_owned(),
        "scanned" => "scan: scanned (confirm the login on the phone)".to_owned(),
        "timeout" => "scan: timeout (the QR code expired)".to_owned(),
        "cancel" => "scan: cancel (the login was cancelled on the phone)".to_owned(),
        other => format!("scan: {other}"),
    });
    out.lines(&json, &human.iter().map(String::as_str).collect::<Vec<_>>());
}
