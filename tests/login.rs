//! Logging in by QR code against the mock: a logged-out puppet shows a QR code on `Start`, the
//! phone scans it, the bot logs in; a stream opened while the QR code shows gets it replayed.

mod common;

use std::time::Duration;

use common::{next, next_matching, WAIT};
use tokio::time::timeout;
use wechaty_client::mock::MockWorld;
use wechaty_client::{qr_code_text, qr_code_url, Event, Events, ScanStatus};

const TOKEN: &str = "insecure_login";
const QRCODE: &str = "https://login.weixin.qq.com/l/abc==";

/// The demo world, logged out, showing [`QRCODE`] on `Start`.
fn logged_out() -> MockWorld {
    let world = MockWorld::demo();
    world.require_scan(QRCODE);
    world
}

/// The next `scan` event's status and QR code, failing the test after [`WAIT`].
async fn next_scan(events: &mut Events) -> (ScanStatus, Option<String>) {
    match next_matching(events, |event| matches!(event, Event::Scan { .. })).await {
        Event::Scan { status, qrcode, .. } => (status, qrcode),
        _ => unreachable!("matched a scan"),
    }
}

/// Waits until the mock's Event stream slot is free again (the previous bot went away).
async fn until_the_stream_is_free(world: &MockWorld) {
    timeout(WAIT, async {
        while world.has_event_stream() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the stream slot frees in time");
}

#[tokio::test]
async fn a_logged_out_bot_gets_the_qr_code_on_start_and_logs_in_when_it_is_confirmed() {
    let server = common::serve(TOKEN, logged_out()).await;
    let bot = server.bot_builder().build().await.unwrap();
    let mut events = bot.events();
    bot.start().await.unwrap();

    let (status, qrcode) = next_scan(&mut events).await;
    assert_eq!(status, ScanStatus::Waiting);
    assert_eq!(qrcode.as_deref(), Some(QRCODE));
    assert!(!bot.is_logged_in());
    // What a bot shows for it.
    assert!(qr_code_text(QRCODE).unwrap().contains('█'));
    assert!(qr_code_url(QRCODE).ends_with("abc%3D%3D"));

    server.world().confirm_scan("bot");
    assert_eq!(
        next_scan(&mut events).await,
        (ScanStatus::Scanned, Some(QRCODE.to_owned()))
    );
    assert_eq!(next_scan(&mut events).await.0, ScanStatus::Confirmed);
    match next(&mut events).await {
        Event::Login { contact_id } => assert_eq!(contact_id.as_str(), "bot"),
        other => panic!("expected the login right after the confirmation, got {other:?}"),
    }
    assert!(bot.is_logged_in());
    assert_eq!(bot.current_user_id().unwrap().as_str(), "bot");
    assert_eq!(server.world().pending_scan(), None);
}

#[tokio::test]
async fn a_stream_opened_while_the_qr_code_shows_gets_it_replayed_until_the_login() {
    let server = common::serve(TOKEN, logged_out()).await;
    let world = server.world();
    let first = server.bot_builder().build().await.unwrap();
    let mut events = first.events();
    first.start().await.unwrap();
    assert_eq!(next_scan(&mut events).await.0, ScanStatus::Waiting);
    first.stop();
    until_the_stream_is_free(world).await;

    // A tool that only watches (no Start): heartbeat, then the QR code.
    let watcher = server.bot_builder().build().await.unwrap();
    let mut events = watcher.events();
    watcher.connect().await.unwrap();
    assert!(matches!(next(&mut events).await, Event::Heartbeat { .. }));
    assert_eq!(
        next(&mut events).await,
        Event::Scan {
            status: ScanStatus::Waiting,
            qrcode: Some(QRCODE.to_owned()),
            data: None
        }
    );
    // Starting again does not show a second QR code: the puppet already shows one.
    watcher.start().await.unwrap();
    world.confirm_scan("bot");
    assert_eq!(next_scan(&mut events).await.0, ScanStatus::Scanned);
    watcher.stop();
    until_the_stream_is_free(world).await;

    // After the login: heartbeat, login, ready; the scan is over.
    let later = server.bot_builder().build().await.unwrap();
    let mut events = later.events();
    later.connect().await.unwrap();
    let replay = replay_until_ready(&mut events).await;
    assert!(
        !replay
            .iter()
            .any(|event| matches!(event, Event::Scan { .. })),
        "{replay:?}"
    );
    assert!(later.is_logged_in());
}

/// The events of a fresh stream up to `ready`.
async fn replay_until_ready(events: &mut Events) -> Vec<Event> {
    let mut replay = Vec::new();
    loop {
        let event = next(events).await;
        let ready = matches!(event, Event::Ready { .. });
        replay.push(event);
        if ready {
            return replay;
        }
    }
}
