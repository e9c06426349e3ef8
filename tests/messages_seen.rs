//! The messages a bot has seen: a message delivered twice is handled once, and
//! `bot.messages()` looks back over what came.

mod common;

use common::WAIT;
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::MockWorld;
use wechaty_client::{Event, MessageQuery, MessageQueryFilter, MessageType, Regex};

#[tokio::test]
async fn a_message_delivered_twice_reaches_subscribers_once() {
    let server = common::serve("insecure_seen", MockWorld::demo()).await;
    let world = server.world();
    let (bot, mut events) = common::started(server.bot_builder()).await;
    let mut room = bot.room("r1@chatroom").events();
    let mut markers = bot.events();

    let first = world.receive_text("ann", Some("r1@chatroom"), "once");
    assert!(world.redeliver(first.as_str()));
    let second = world.receive_text("ann", Some("r1@chatroom"), "twice");
    // Around a reconnect too: the service's resend after the new stream is still a duplicate.
    world.end_event_stream();
    common::next_matching(&mut markers, |e| matches!(e, Event::Reconnected)).await;
    assert!(world.redeliver(second.as_str()));
    let third = world.receive_text("ann", Some("r1@chatroom"), "thrice");

    let mut delivered = Vec::new();
    while delivered.len() < 3 {
        if let Event::Message { message_id } = common::next(&mut events).await {
            delivered.push(message_id);
        }
    }
    assert_eq!(delivered, [first.clone(), second.clone(), third.clone()]);
    // The room's stream too (its lookups come after the dedup).
    let mut in_room = Vec::new();
    while in_room.len() < 3 {
        if let wechaty_client::RoomEvent::Message(message) = common::next_room(&mut room).await {
            in_room.push(message.id().clone());
        }
    }
    assert_eq!(in_room, [first, second, third]);
    // Nothing else is on its way.
    let ding = bot.ding("after").await;
    assert!(ding.is_ok());
    let more = timeout(WAIT, async {
        loop {
            match events.next().await {
                Some(Event::Dong { .. }) | None => return None,
                Some(Event::Message { message_id }) => return Some(message_id),
                Some(_) => {}
            }
        }
    })
    .await
    .expect("the dong arrives");
    assert_eq!(more, None, "no duplicate came after");
    let stats = bot.statistics();
    assert_eq!(stats.duplicate_messages, 2);
    assert_eq!(stats.events.get("message"), Some(&5), "counted as received");
}

#[tokio::test]
async fn messages_find_looks_back_over_what_came() {
    let server = common::serve("insecure_find_messages", MockWorld::demo()).await;
    let world = server.world();
    let (bot, mut events) = common::started(server.bot_builder()).await;
    let hello = world.receive_text("ann", Some("r1@chatroom"), "hello");
    let question = world.receive_text("ben", None, "are you there?");
    let again = world.receive_text("ann", None, "hello");
    for _ in 0..3 {
        common::next_matching(&mut events, |e| matches!(e, Event::Message { .. })).await;
    }
    let messages = bot.messages();
    let ids = |found: Vec<wechaty_client::Message>| -> Vec<String> {
        found.iter().map(|m| m.id().to_string()).collect()
    };

    // A text matches exactly; `find` gives the latest, `find_all` every one, oldest first.
    assert_eq!(messages.find("hello").await.unwrap().unwrap().id(), &again);
    assert_eq!(
        ids(messages.find_all("hello").await.unwrap()),
        [hello.to_string(), again.to_string()]
    );
    assert_eq!(
        messages
            .find(question.as_str())
            .await
            .unwrap()
            .unwrap()
            .id(),
        &question,
        "an id matches too"
    );
    let from_ann_in_room = MessageQueryFilter::default()
        .talker_id("ann")
        .room_id("r1@chatroom")
        .kind(MessageType::Text);
    assert_eq!(
        ids(messages.find_all(from_ann_in_room).await.unwrap()),
        [hello.to_string()]
    );
    let questions = messages
        .find_all(Regex::new(r"\?$").unwrap())
        .await
        .unwrap();
    assert_eq!(ids(questions), [question.to_string()]);
    let direct = messages
        .find_all(MessageQuery::matching(|m| m.room_id.is_none()))
        .await
        .unwrap();
    assert_eq!(direct.len(), 2);
    assert!(messages.find("never said").await.unwrap().is_none());
    // The payloads were read once, and handles found carry theirs.
    let before = world.calls("MessagePayload");
    let found = messages.find_all(MessageQuery::All).await.unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].text().await.unwrap(), "hello");
    assert_eq!(world.calls("MessagePayload"), before, "all from the cache");
    // By id alone, only that one payload is looked at.
    bot.clear_caches();
    let by_id = messages
        .find(MessageQueryFilter::default().id(question.as_str()))
        .await
        .unwrap();
    assert!(by_id.is_some());
    assert_eq!(world.calls("MessagePayload"), before + 1);
}
