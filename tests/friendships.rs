//! Friendships against the mock: requests arrive ready, accepting makes a friend (with the
//! confirm and the dirty a real puppet sends), JSON round trips, searches and requests sent.

mod common;

use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockContact, MockFriendship, MockServer, MockWorld};
use wechaty_client::{
    Event, Events, Friendship, FriendshipKind, FriendshipScene, PayloadType, Wechaty,
};

/// The demo world, plus Erin, a stranger with a phone number and a handle.
async fn setup() -> (MockServer, Wechaty, Events) {
    let world = MockWorld::demo();
    world.add_contact(
        MockContact::new("erin", "Erin")
            .stranger()
            .phone("13800000000")
            .handle("erin_w"),
    );
    let server = common::serve("insecure_friendships", world).await;
    let (bot, events) = common::started(server.bot_builder()).await;
    (server, bot, events)
}

async fn next_friendship(friendships: &mut wechaty_client::FriendshipEvents) -> Friendship {
    timeout(common::WAIT, friendships.next())
        .await
        .expect("a friendship in time")
        .expect("the stream goes on")
}

#[tokio::test]
async fn a_request_arrives_ready_and_accepting_makes_a_friend() {
    let (server, bot, mut events) = setup().await;
    let world = server.world();
    let mut friendships = bot.friendships().events();
    let erin = bot.contact("erin");
    assert!(!erin.is_friend().await.unwrap(), "cached as a stranger");

    world.friend_request(MockFriendship::request("f1", "erin", "hi, it's Erin"));
    let request = next_friendship(&mut friendships).await;
    assert_eq!(request.id(), "f1");
    assert_eq!(request.kind(), FriendshipKind::Receive);
    assert_eq!(request.hello(), "hi, it's Erin");
    assert_eq!(request.scene(), FriendshipScene::Phone);
    assert_eq!(request.contact(), erin);
    let loads = world.calls("FriendshipPayload");
    let _ = (request.kind(), request.hello(), request.contact());
    assert_eq!(
        world.calls("FriendshipPayload"),
        loads,
        "ready: no more RPCs"
    );

    request.accept().await.unwrap();
    assert_eq!(world.accepted_friendships(), ["f1"]);
    // As a real puppet: the contact's dirty, then a confirmation.
    common::next_matching(&mut events, |event| {
        matches!(event, Event::Dirty { payload_type: PayloadType::Contact, payload_id } if payload_id == "erin")
    })
    .await;
    let confirm = next_friendship(&mut friendships).await;
    assert_eq!(confirm.kind(), FriendshipKind::Confirm);
    assert_eq!(confirm.contact(), erin);
    assert!(erin.is_friend().await.unwrap(), "the cache was dropped");

    let error = confirm.accept().await.unwrap_err();
    assert!(
        error.to_string().contains("not a received request"),
        "{error}"
    );
}

#[tokio::test]
async fn on_friendship_hands_ready_friendships_and_skips_unreadable_ones() {
    let (server, bot, _events) = setup().await;
    let world = server.world();
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    bot.on_friendship(move |friendship| {
        let sender = sender.clone();
        async move {
            let _ = sender.send((friendship.id().to_owned(), friendship.hello().to_owned()));
            Ok(())
        }
    })
    .detach();
    // The handler subscribed when it was registered: no wait is needed before the events.
    // An id the service has no payload for: skipped (with a warning), the handler goes on.
    world.emit_json(17, serde_json::json!({ "friendshipId": "ghost" }));
    world.friend_request(MockFriendship::request("f2", "erin", "second try"));
    let got = timeout(common::WAIT, received.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, ("f2".to_owned(), "second try".to_owned()));
}

#[tokio::test]
async fn a_friendship_survives_a_json_round_trip() {
    let (server, bot, _events) = setup().await;
    let world = server.world();
    world.friend_request(MockFriendship::request("f3", "erin", "hello"));
    let friendship = bot.friendships().load("f3").await.unwrap();
    let json = friendship.to_json().unwrap();
    assert_eq!(
        json,
        r#"{"id":"f3","contactId":"erin","hello":"hello","type":2,"ticket":"mock-ticket:f3","scene":15}"#
    );

    // Another process (here: a fresh world) gets it back and accepts it.
    let other = common::serve("insecure_friendships", MockWorld::demo()).await;
    other
        .world()
        .add_contact(MockContact::new("erin", "Erin").stranger());
    let bot2 = other.bot_builder().build().await.unwrap();
    let restored = Friendship::from_json(&bot2, &json).await.unwrap();
    assert_eq!(restored.payload(), friendship.payload());
    restored.accept().await.unwrap();
    assert_eq!(other.world().accepted_friendships(), ["f3"]);

    let garbage = Friendship::from_json(&bot2, "{}").await.unwrap_err();
    assert!(
        garbage.to_string().contains("not a saved friendship"),
        "{garbage}"
    );
    assert!(bot.friendships().load("nobody").await.is_err());
    assert!(bot.friendships().load("").await.is_err());
}

#[tokio::test]
async fn search_by_phone_and_handle_then_add() {
    let (server, bot, _events) = setup().await;
    let world = server.world();
    let friendships = bot.friendships();
    let erin = friendships.search_phone("13800000000").await.unwrap();
    assert_eq!(erin.as_ref().map(|c| c.id().as_str()), Some("erin"));
    assert_eq!(
        friendships.search_handle("erin_w").await.unwrap(),
        erin,
        "the same contact by handle"
    );
    assert_eq!(friendships.search_phone("000").await.unwrap(), None);
    assert_eq!(friendships.search_handle("nobody").await.unwrap(), None);
    assert!(
        friendships.search_phone(" ").await.is_err(),
        "nothing to search"
    );

    let erin = erin.unwrap();
    friendships.add(&erin, "Hi, I'm a bot").await.unwrap();
    assert_eq!(
        world.friend_requests_sent(),
        [("erin".into(), "Hi, I'm a bot".to_owned())]
    );
    let error = friendships
        .add(&bot.contact("nobody"), "hi")
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("no payload found for id nobody"),
        "{error}"
    );
}
