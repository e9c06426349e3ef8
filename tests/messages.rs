//! Messages and files against the mock: every kind of `say`, receiving every kind, files both
//! ways (inline and uploaded), forward and mentions.

mod common;

use common::WAIT;
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockAttachment, MockServer, MockWorld};
use wechaty_client::{
    ContactId, Error, Event, FileBox, FileBoxSource, Location, MessageType, MiniProgram, UrlLink,
    Wechaty,
};

/// The demo world served, and a started bot past its login.
async fn setup() -> (MockServer, Wechaty) {
    let server = common::serve("insecure_messages", MockWorld::demo()).await;
    let (bot, _events) = common::started(server.bot_builder().inline_file_limit(1024)).await;
    (server, bot)
}

#[tokio::test]
async fn every_kind_of_say_uses_its_rpc() {
    let (server, bot) = setup().await;
    let world = server.world();
    let room = bot.room("r1@chatroom");

    room.say("text").await.unwrap();
    assert!(world
        .requests("MessageSendText")
        .pop()
        .unwrap()
        .contains(r#"text: "text""#));

    room.say(&bot.contact("ben")).await.unwrap();
    let card = world.requests("MessageSendContact").pop().unwrap();
    assert!(card.contains(r#"contact_id: "ben""#), "{card}");

    let link = UrlLink::create(
        "An SDK",
        "https://x.example/t.png",
        "wechaty-client",
        "https://x.example",
    );
    room.say(link.clone()).await.unwrap();
    let url = world.requests("MessageSendUrl").pop().unwrap();
    assert!(url.contains(r#"title: "wechaty-client""#), "{url}");
    assert!(
        url.contains(r#"url_link_deprecated: "{"#),
        "both fields: {url}"
    );

    let mini =
        MiniProgram::from_json(r#"{"appid":"wx1","title":"Shop","pagePath":"pages/i"}"#).unwrap();
    room.say(mini).await.unwrap();
    let sent = world.requests("MessageSendMiniProgram").pop().unwrap();
    assert!(sent.contains(r#"page_path: "pages/i""#), "{sent}");

    // A small in-memory file goes inline; a URL box passes through.
    room.say(FileBox::from_bytes("hi.txt", &b"hello"[..]))
        .await
        .unwrap();
    let inline = world.requests("MessageSendFile").pop().unwrap();
    assert!(
        inline.contains(r#"\"type\":1"#) && inline.contains("aGVsbG8="),
        "{inline}"
    );
    room.say(FileBox::from_url("https://x.example/a.pdf"))
        .await
        .unwrap();
    let passed = world.requests("MessageSendFile").pop().unwrap();
    assert!(passed.contains(r#"\"type\":2"#), "{passed}");
    assert_eq!(world.calls("Upload"), 0);

    // Bigger than the inline limit (1 KiB here): uploaded, then sent as a UUID box.
    let big: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let sent = bot
        .contact("ann")
        .say(FileBox::from_bytes("big.bin", big.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(world.calls("Upload"), 1);
    let by_uuid = world.requests("MessageSendFile").pop().unwrap();
    assert!(by_uuid.contains(r#"\"type\":7"#), "{by_uuid}");
    let file = sent.to_file_box().await.unwrap();
    let FileBoxSource::Uuid(uuid) = &file.source else {
        panic!("expected a UUID box, got {file:?}")
    };
    assert_eq!(world.uploaded(uuid).unwrap(), big);
    assert_eq!(file.to_bytes(&bot).await.unwrap(), big);
    assert_eq!(sent.payload().await.unwrap().kind, MessageType::Attachment);
}

#[tokio::test]
async fn every_kind_of_message_can_be_read() {
    let (server, bot) = setup().await;
    let world = server.world();
    let mut events = bot.events();
    let png = b"\x89PNG pretend".to_vec();
    world.receive(
        "ann",
        Some("r1@chatroom"),
        MessageType::Image,
        "",
        Some(MockAttachment::File(FileBox::from_bytes(
            "cat.png",
            png.clone(),
        ))),
    );
    world.receive(
        "ann",
        None,
        MessageType::Contact,
        "",
        Some(MockAttachment::Contact("ben".into())),
    );
    let link = UrlLink::create("d", "", "t", "https://x.example");
    world.receive(
        "ann",
        None,
        MessageType::Url,
        "",
        Some(MockAttachment::UrlLink(link.clone())),
    );
    let mini = MiniProgram::from_json(r#"{"appid":"wx1","title":"Shop"}"#).unwrap();
    world.receive(
        "ann",
        None,
        MessageType::MiniProgram,
        "",
        Some(MockAttachment::MiniProgram(mini.clone())),
    );
    world.receive("ann", None, MessageType::Other(99), "future", None);

    let mut messages = Vec::new();
    while messages.len() < 5 {
        if let Some(Event::Message { message_id }) = timeout(WAIT, events.next()).await.unwrap() {
            messages.push(bot.message(message_id));
        }
    }
    let image = &messages[0];
    assert_eq!(image.payload().await.unwrap().kind, MessageType::Image);
    assert_eq!(
        image.payload().await.unwrap().filename.as_deref(),
        Some("cat.png")
    );
    let file = image.to_file_box().await.unwrap();
    assert_eq!(file.to_bytes(&bot).await.unwrap(), png);
    let path = std::env::temp_dir().join(format!("wechaty-msg-{}.png", std::process::id()));
    assert_eq!(file.to_file(&bot, &path).await.unwrap(), png.len() as u64);
    assert_eq!(std::fs::read(&path).unwrap(), png);
    let _ = std::fs::remove_file(&path);

    assert_eq!(messages[1].to_contact().await.unwrap().id().as_str(), "ben");
    assert_eq!(messages[2].to_url_link().await.unwrap(), link);
    assert_eq!(messages[3].to_mini_program().await.unwrap(), mini);
    assert_eq!(
        messages[4].payload().await.unwrap().kind,
        MessageType::Other(99)
    );
    // Asking a text for a file is the service's error.
    assert!(messages[4].to_file_box().await.is_err());
}

#[tokio::test]
async fn a_malformed_file_box_from_the_service_is_a_clear_error() {
    let (server, bot) = setup().await;
    let mut events = bot.events();
    // A URL box without a URL.
    server.world().receive(
        "ann",
        None,
        MessageType::Attachment,
        "",
        Some(MockAttachment::File(FileBox::from_url(""))),
    );
    let Some(Event::Message { message_id }) = timeout(WAIT, events.next()).await.unwrap() else {
        panic!("expected the message")
    };
    let error = bot.message(message_id).to_file_box().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidData {
                what: "FileBox JSON",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("url"), "{error}");
}

#[tokio::test]
async fn forward_reply_and_mentions() {
    let (server, bot) = setup().await;
    let world = server.world();
    let original = world.receive_text("ann", None, "pass it on");
    let message = bot.message(original);
    let forwarded = message
        .forward(&bot.room("r2@chatroom"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        forwarded.payload().await.unwrap().room_id.unwrap().as_str(),
        "r2@chatroom"
    );
    assert!(world
        .requests("MessageForward")
        .pop()
        .unwrap()
        .contains(r#"conversation_id: "r2@chatroom""#));

    // A reply to a direct message goes to the talker; to the bot's own, to the listener.
    let reply = message.reply("got it").await.unwrap().unwrap();
    assert_eq!(
        reply.payload().await.unwrap().listener_id,
        Some(ContactId::from("ann"))
    );
    let again = reply.say("and again").await.unwrap().unwrap();
    assert_eq!(
        again.payload().await.unwrap().listener_id,
        Some(ContactId::from("ann"))
    );

    let room = bot.room("r1@chatroom");
    let mention = room
        .say_with_mentions("hey me", &[bot.contact("bot")])
        .await
        .unwrap()
        .unwrap();
    assert!(mention.mention_self().await.unwrap());
    assert!(!reply.mention_self().await.unwrap());
}

#[tokio::test]
async fn a_messages_accessors_read_its_payload_once_until_a_dirty() {
    let (server, bot) = setup().await;
    let world = server.world();
    let id = world.receive_text("ann", Some("r1@chatroom"), "hello @Ben");
    let message = bot.message(id.clone());
    let before = world.calls("MessagePayload");

    assert_eq!(message.text().await.unwrap(), "hello @Ben");
    assert_eq!(message.talker().await.unwrap().id().as_str(), "ann");
    assert_eq!(message.kind().await.unwrap(), MessageType::Text);
    assert_eq!(
        message
            .room()
            .await
            .unwrap()
            .map(|room| room.id().to_string()),
        Some("r1@chatroom".to_owned())
    );
    assert_eq!(message.listener().await.unwrap(), None);
    assert!(!message.is_self().await.unwrap());
    assert!(message.date().await.unwrap().is_some());
    assert!(message.age().await.unwrap() < std::time::Duration::from_secs(60));
    assert!(message.mention_list().await.unwrap().is_empty());
    assert!(!message.mention_self().await.unwrap());
    // Another handle to the same message shares the cache.
    assert_eq!(bot.message(id.clone()).text().await.unwrap(), "hello @Ben");
    assert_eq!(
        world.calls("MessagePayload") - before,
        1,
        "one payload for every accessor"
    );

    // A message dirty drops it: the next read asks again.
    let mut events = bot.events();
    world.emit_json(
        27,
        serde_json::json!({ "payloadType": 1, "payloadId": id.as_str() }),
    );
    common::next_matching(&mut events, |event| matches!(event, Event::Dirty { .. })).await;
    assert_eq!(message.text().await.unwrap(), "hello @Ben");
    assert_eq!(world.calls("MessagePayload") - before, 2);
    assert_eq!(bot.statistics().caches.messages.hits, 10);

    let direct = bot.message(world.receive_text("ben", None, "hi"));
    assert_eq!(
        direct.listener().await.unwrap().map(|c| c.id().to_string()),
        Some("bot".to_owned())
    );
    assert_eq!(direct.room().await.unwrap(), None);
    let unknown = bot.message("nope").talker().await.unwrap_err();
    assert!(
        unknown.to_string().contains("no payload found for id nope"),
        "{unknown}"
    );
}

#[tokio::test]
async fn recall_and_recall_notices() {
    let (server, bot) = setup().await;
    let world = server.world();

    // The bot takes back its own message; the service refuses to recall someone else's.
    let sent = bot.room("r1@chatroom").say("oops").await.unwrap().unwrap();
    assert!(sent.recall().await.unwrap());
    assert_eq!(world.recalled(), vec![sent.id().clone()]);
    assert!(world
        .requests("MessageRecall")
        .pop()
        .unwrap()
        .contains(&format!("id: {:?}", sent.id().as_str())));
    let theirs = bot.message(world.receive_text("ann", None, "mine"));
    assert!(!theirs.recall().await.unwrap());

    // Ann takes back what she said: the notice names the original.
    let original = world.receive_text("ann", Some("r1@chatroom"), "never mind");
    let notice = bot.message(world.recall_by_talker(original.as_str()).unwrap());
    assert_eq!(notice.kind().await.unwrap(), MessageType::Recalled);
    let recalled = notice.to_recalled().await.unwrap().unwrap();
    assert_eq!(recalled.id(), &original);
    assert_eq!(recalled.text().await.unwrap(), "never mind");

    // Anything but a recall notice is refused, without a guess.
    let error = recalled.to_recalled().await.unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error}");
    assert!(error.to_string().contains("kind()"), "{error}");
    // A notice for a message the service forgot: nothing to give back.
    let gone = world.receive(
        "ann",
        None,
        MessageType::Recalled,
        "msg-does-not-exist",
        None,
    );
    assert!(bot.message(gone).to_recalled().await.unwrap().is_none());
}

#[tokio::test]
async fn locations_both_ways() {
    let (server, bot) = setup().await;
    let world = server.world();
    let office = Location::new("Office", "1 Main St", 39.9042, 116.4074).accuracy(15.0);

    let shared = bot.message(world.receive_location("ann", None, office.clone()));
    assert_eq!(shared.kind().await.unwrap(), MessageType::Location);
    assert_eq!(shared.to_location().await.unwrap(), office);

    let sent = bot
        .room("r1@chatroom")
        .say(office.clone())
        .await
        .unwrap()
        .expect("the mock reports the id");
    let request = world.requests("MessageSendLocation").pop().unwrap();
    assert!(request.contains("latitude: 39.9042"), "{request}");
    assert!(
        request.contains(r#"conversation_id: "r1@chatroom""#),
        "{request}"
    );
    assert_eq!(sent.to_location().await.unwrap(), office);

    // A text message has no place; impossible coordinates are not sent at all.
    let text = bot.message(world.receive_text("ann", None, "hi"));
    assert!(text.to_location().await.is_err());
    let nowhere = Location::new("?", "?", 123.0, 0.0);
    let error = bot.room("r1@chatroom").say(nowhere).await.unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error}");
    assert_eq!(world.requests("MessageSendLocation").len(), 1);
}

#[tokio::test]
async fn mention_text_takes_off_what_mentions_put_on() {
    let (server, bot) = setup().await;
    let world = server.world();
    // Ann has a room alias there: the mention shows it, and mention_text takes it off.
    let id = world.receive_mentioning("cora", "r1@chatroom", &["ann", "bot"], "standup in 5?");
    let message = bot.message(id);
    let text = message.text().await.unwrap();
    assert!(
        text.starts_with("@Ali (room nick)\u{2005}@Wechaty Bot "),
        "{text}"
    );
    assert_eq!(message.mention_text().await.unwrap(), "standup in 5?");
    assert!(message.mention_self().await.unwrap());
    let mentioned: Vec<String> = message
        .mention_list()
        .await
        .unwrap()
        .iter()
        .map(|contact| contact.id().to_string())
        .collect();
    assert_eq!(mentioned, ["ann", "bot"]);

    // What say_with_mentions writes, mention_text reads back.
    let room = bot.room("r1@chatroom");
    let said = room
        .say_with_mentions("lunch?", &[bot.contact("ben"), bot.contact("ann")])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(said.mention_text().await.unwrap(), "lunch?");
    // A direct message keeps its text.
    let direct = bot.message(world.receive_text("ann", None, "@Ben hi"));
    assert_eq!(direct.mention_text().await.unwrap(), "@Ben hi");
}

#[tokio::test]
async fn an_emoticon_is_read_as_a_file() {
    let (server, bot) = setup().await;
    let world = server.world();
    let gif = FileBox::from_bytes("smile.gif", &b"GIF89a..."[..]);
    let id = world.receive(
        "ann",
        None,
        MessageType::Emoticon,
        "",
        Some(MockAttachment::File(gif)),
    );
    let file = bot.message(id).to_file_box().await.unwrap();
    assert_eq!(file.name, "smile.gif");
    assert_eq!(&file.to_bytes(&bot).await.unwrap()[..], b"GIF89a...");
}
