//! `mock`: the SDK's mock puppet service on a port, with the demo world, a scenario's world
//! and timeline, or the benchmark world.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use wechaty_bench::WorldSize;
use wechaty_client::mock::{
    MockContact, MockFriendship, MockPuppetService, MockTls, MockWorld, Scenario, DEFAULT_TOKEN,
};
use wechaty_client::{Location, ScanStatus, ENV_TOKEN, ENV_TOKEN_FILE};

/// What `mock` serves, from its options.
pub struct MockOptions {
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port (0: any free one).
    pub port: u16,
    /// Serve TLS.
    pub tls: bool,
    /// With TLS: this certificate chain and key instead of the stock one.
    pub tls_files: Option<(String, String)>,
    /// A scenario file to serve.
    pub scenario: Option<String>,
    /// Serve the benchmark world.
    pub bench_world: bool,
    /// Serve the demo world logged out, logging in a moment after each QR code shows.
    pub logged_out: bool,
}

/// The QR code the logged-out demo world shows (a reserved documentation domain: scanning it
/// logs nobody in anywhere).
const DEMO_QRCODE: &str = "https://example.com/wechaty-mock/login";

/// How long after the QR code shows the logged-out demo world's phone scans it.
const DEMO_SCAN_DELAY: Duration = Duration::from_secs(3);

/// `mock [--port P] [--tls] [--scenario FILE] [--bench-world] [--logged-out]`.
pub async fn mock(token: Option<&str>, options: MockOptions) -> Result<()> {
    let scenario = options.scenario.map(Scenario::from_file).transpose()?;
    let world = match (&scenario, options.bench_world) {
        (Some(scenario), _) => scenario.world(),
        (None, true) => wechaty_bench::bench_world(&WorldSize::default()),
        (None, false) => demo_world(),
    };
    if options.logged_out {
        world.require_scan(DEMO_QRCODE);
        tokio::spawn(scan_each_qr_code(world.clone()));
    }
    let tls = match (options.tls, options.tls_files) {
        (false, _) => None,
        (true, Some((cert, key))) => Some(MockTls::from_files(&cert, &key)?),
        (true, None) => Some(MockTls::stock()),
    };
    serve(token, options.bind, options.port, tls, world, scenario).await
}

/// The demo world, plus what the message, contact, friendship and tag commands can show out
/// of the box (README): two messages to read (`msg-1`, Ann in Team Room @-mentioning the
/// bot; `msg-2`, a location Ben shared with the bot), `erin`, a stranger with a phone number
/// and a handle, whose friend request `f-erin` waits to be accepted, and the tag `vip` on
/// `ann`.
fn demo_world() -> MockWorld {
    let world = MockWorld::demo();
    // First, so their ids are the mock's first two (`msg-1`, `msg-2`); no Event stream is
    // open yet, so their events are not sent.
    world.receive_mentioning("ann", "r1@chatroom", &["bot"], "standup at 10?");
    world.receive_location(
        "ben",
        None,
        Location::new("Office", "1 Main St", 39.9042, 116.4074).accuracy(15.0),
    );
    world.add_contact(
        MockContact::new("erin", "Erin")
            .stranger()
            .phone("13800000005")
            .handle("erin_w"),
    );
    // No Event stream is open yet: the request is stored, its event not sent.
    world.friend_request(MockFriendship::request("f-erin", "erin", "Hi, it's Erin"));
    world.tag_contact("vip", "ann");
    world
}

/// Serves until Ctrl-C; prints `listening on ADDR` once ready.
async fn serve(
    token: Option<&str>,
    bind: std::net::IpAddr,
    port: u16,
    tls: Option<MockTls>,
    world: MockWorld,
    scenario: Option<Scenario>,
) -> Result<()> {
    let from_file = || {
        let path = std::env::var(ENV_TOKEN_FILE).ok()?;
        Some(std::fs::read_to_string(path).ok()?.trim().to_owned())
    };
    let token = match token
        .map(str::to_owned)
        .or_else(|| std::env::var(ENV_TOKEN).ok())
        .or_else(from_file)
    {
        Some(token) if !token.is_empty() => token,
        _ => {
            eprintln!(
                "no --token or {ENV_TOKEN} given: the mock accepts the token {DEFAULT_TOKEN:?}"
            );
            DEFAULT_TOKEN.to_owned()
        }
    };
    let mut builder = MockPuppetService::builder()
        .token(token)
        .host(bind)
        .port(port)
        .world(world.clone());
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let server = builder.serve().await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", server.addr())?;
    stdout.flush()?;
    if let Some(scenario) = scenario {
        // Plays when a bot opens the Event stream, and again for each new one.
        tokio::spawn(play_for_each_bot(scenario, world));
    }
    tokio::signal::ctrl_c()
        .await
        .context("cannot wait for Ctrl-C")?;
    server.shutdown().await;
    Ok(())
}

/// The logged-out demo world's phone: a few seconds after a QR code shows (`Start`), scans it
/// and confirms, and the bot logs in; again after each `Stop` and `Start`.
async fn scan_each_qr_code(world: MockWorld) {
    loop {
        while world
            .pending_scan()
            .is_none_or(|scan| scan.status != ScanStatus::Waiting)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!(
            "mock: the login QR code shows; a phone scans it in {} s",
            DEMO_SCAN_DELAY.as_secs()
        );
        tokio::time::sleep(DEMO_SCAN_DELAY).await;
        world.confirm_scan("bot");
        eprintln!("mock: logged in as bot");
    }
}

/// Plays the scenario's timeline each time a bot connects; reports its expectations on stderr.
async fn play_for_each_bot(scenario: Scenario, world: MockWorld) {
    loop {
        while !world.has_event_stream() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        eprintln!("scenario: a bot connected, playing the timeline");
        let started = tokio::time::Instant::now();
        scenario.play(&world).await;
        let unmet = scenario.unmet(&world, started).await;
        if unmet.is_empty() {
            eprintln!(
                "scenario: PASS ({} expectations met)",
                scenario.expect.len()
            );
        }
        for failure in unmet {
            eprintln!("scenario: FAIL {failure}");
        }
        while world.has_event_stream() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechaty_client::MessageType;

    #[test]
    fn the_demo_messages_have_the_ids_the_readme_gives() {
        let world = demo_world();
        let mention = world.message("msg-1").unwrap();
        assert_eq!(mention.kind, MessageType::Text);
        assert_eq!(mention.talker_id.as_str(), "ann");
        assert_eq!(mention.mention_ids.len(), 1);
        let place = world.message("msg-2").unwrap();
        assert_eq!(place.kind, MessageType::Location);
        assert_eq!(place.talker_id.as_str(), "ben");
    }
}
