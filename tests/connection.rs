//! Connection, authentication, deadlines and lifecycle against the mock over loopback TCP.

mod common;

use std::time::Duration;

use common::{next_matching, WAIT};
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockContact, MockServer, MockWorld};
use wechaty_client::{ContactId, Error, Event, Wechaty};

async fn mock(world: MockWorld) -> MockServer {
    common::serve("insecure_right-token", world).await
}

async fn bot(server: &MockServer) -> Wechaty {
    server.bot_builder().build().await.expect("valid settings")
}

#[tokio::test]
async fn the_right_token_gets_answers() {
    let server = mock(MockWorld::new()).await;
    let version = bot(&server).await.version().await.unwrap();
    assert!(version.starts_with("wechaty-client-mock/"), "{version}");
    assert_eq!(server.world().calls("Version"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_ends_at_its_deadline() {
    let server = mock(MockWorld::new()).await;
    server.faults().delay("Version", Duration::from_secs(60));
    let bot = server
        .bot_builder()
        .call_timeout(Duration::from_millis(300))
        .build()
        .await
        .unwrap();
    let error = bot.version().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::DeadlineExceeded {
                rpc: "Version",
                timeout,
            } if timeout == Duration::from_millis(300)
        ),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(error.to_string().contains("call_timeout"));
}

#[tokio::test]
async fn a_second_event_stream_is_refused_until_the_first_goes_away() {
    let server = mock(MockWorld::demo()).await;
    let first = bot(&server).await;
    let second = bot(&server).await;
    first.connect().await.unwrap();
    let error = second.connect().await.unwrap_err();
    assert!(matches!(error, Error::EventStreamTaken), "{error:?}");
    assert!(Error::EventStreamTaken
        .to_string()
        .contains("another client"));

    first.stop();
    // The server frees the slot once it sees the cancellation.
    timeout(WAIT, async {
        while second.connect().await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the slot is freed after stop()");
    assert!(second.is_connected());
}

#[tokio::test]
async fn ding_is_answered_by_a_dong_event() {
    let server = mock(MockWorld::new()).await;
    let bot = bot(&server).await;
    let error = bot.ding_dong("x", WAIT).await.unwrap_err();
    assert!(matches!(error, Error::NotConnected), "{error:?}");
    bot.connect().await.unwrap();
    let round_trip = bot.ding_dong("hello", WAIT).await.unwrap();
    assert!(round_trip < WAIT);
    assert_eq!(server.world().calls("Ding"), 1);
}

#[tokio::test]
async fn connecting_replays_heartbeat_login_ready() {
    let server = mock(MockWorld::demo()).await;
    let bot = bot(&server).await;
    let mut events = bot.events();
    bot.connect().await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = timeout(WAIT, events.next()).await.unwrap().unwrap();
        seen.push(event);
    }
    assert_eq!(
        seen[0],
        Event::Heartbeat {
            data: Some("Wechaty Puppet gRPC stream connect successfully".into())
        }
    );
    assert_eq!(
        seen[1],
        Event::Login {
            contact_id: ContactId::from("bot")
        }
    );
    assert!(matches!(seen[2], Event::Ready { .. }), "{:?}", seen[2]);
}

#[tokio::test]
async fn start_calls_start_and_stop_does_not_call_stop() {
    let world = MockWorld::new();
    world.add_contact(MockContact::new("bot", "Bot"));
    world.login("bot");
    world.logout("test setup"); // known to the world, logged out
    let server = mock(world).await;
    let bot = bot(&server).await;
    let mut events = bot.events();
    bot.start().await.unwrap();
    next_matching(&mut events, |e| matches!(e, Event::Login { .. })).await;
    assert_eq!(server.world().calls("Start"), 1);
    assert_eq!(server.world().current_user(), Some(ContactId::from("bot")));

    bot.stop();
    let error = bot.version().await.unwrap_err();
    assert!(matches!(error, Error::Stopped), "{error:?}");
    timeout(WAIT, async {
        while server.world().has_event_stream() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("stop() cancels the Event stream");
    assert_eq!(server.world().calls("Stop"), 0);
    assert_eq!(server.world().current_user(), Some(ContactId::from("bot")));
}

#[tokio::test]
async fn stop_service_stops_the_puppet_for_everyone() {
    let server = mock(MockWorld::demo()).await;
    let bot = bot(&server).await;
    bot.start().await.unwrap();
    bot.stop_service().await.unwrap();
    assert_eq!(server.world().calls("Stop"), 1);
    assert_eq!(server.world().current_user(), None);
    let error = bot.version().await.unwrap_err();
    assert!(matches!(error, Error::Stopped), "{error:?}");
}

#[tokio::test]
async fn logout_streams_a_logout_event() {
    let server = mock(MockWorld::demo()).await;
    let bot = bot(&server).await;
    let mut events = bot.events();
    bot.connect().await.unwrap();
    bot.logout().await.unwrap();
    let event = next_matching(&mut events, |e| matches!(e, Event::Logout { .. })).await;
    assert_eq!(
        event,
        Event::Logout {
            contact_id: "bot".into(),
            data: Some("logout()".into())
        }
    );
}

#[tokio::test]
async fn an_unreachable_service_is_a_transport_error_naming_the_endpoint() {
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bot = Wechaty::builder()
        .endpoint(format!("127.0.0.1:{port}"))
        .token("insecure_x")
        .no_tls(true)
        .build()
        .await
        .unwrap();
    let error = bot.version().await.unwrap_err();
    let Error::Transport {
        endpoint, message, ..
    } = &error
    else {
        panic!("expected a transport error, got {error:?}");
    };
    assert_eq!(endpoint, &format!("127.0.0.1:{port}"));
    assert!(!message.is_empty());
    assert!(error
        .to_string()
        .contains("WECHATY_PUPPET_SERVICE_ENDPOINT"));
}

#[tokio::test]
async fn server_errors_are_cut_to_their_first_line() {
    let server = mock(MockWorld::new()).await;
    let bot = bot(&server).await;
    let error = bot.message("no-such-message").payload().await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Rpc {
                rpc: "MessagePayload",
                code: wechaty_client::Code::Unknown,
                message,
            } if message == "no payload found for id no-such-message"
        ),
        "{error:?}"
    );
    assert_eq!(error.code(), Some(wechaty_client::Code::Unknown));
    server
        .faults()
        .fail_next("Ding", wechaty_client::Code::NotFound, "gone\nstack");
    let error = bot.ding("x").await.unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { rpc: "Ding", message } if message == "gone"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_bot_replies_in_the_conversation_of_the_message() {
    let server = mock(MockWorld::demo()).await;
    let bot = bot(&server).await;
    let mut events = bot.events();
    bot.start().await.unwrap();
    let incoming = server
        .world()
        .receive_text("ann", Some("r1@chatroom"), "ding");
    let Event::Message { message_id } =
        next_matching(&mut events, |e| matches!(e, Event::Message { .. })).await
    else {
        unreachable!()
    };
    assert_eq!(message_id, incoming);
    let message = bot.message(message_id);
    let payload = message.payload().await.unwrap();
    assert_eq!(payload.text.as_deref(), Some("ding"));
    assert_eq!(payload.talker_id, Some("ann".into()));
    let sent = message
        .reply("dong")
        .await
        .unwrap()
        .expect("the mock reports ids");
    let sent_payload = sent.payload().await.unwrap();
    assert_eq!(sent_payload.text.as_deref(), Some("dong"));
    assert_eq!(sent_payload.room_id, Some("r1@chatroom".into()));
    assert_eq!(sent_payload.talker_id, Some("bot".into()));
    assert_eq!(server.world().sent_messages().len(), 1);
}
