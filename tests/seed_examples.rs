//! The seed page's examples in Rust: every ```python block of `../shared/seed/room-api.md`
//! (python-wechaty's Room API page), doing the same steps with this SDK against the mock, and
//! asserting what the python would have observed. One test per block, named after the method
//! it shows; each starts with the section heading and the python's key lines.
//!
//! The world is [`MockWorld::demo`] plus what the page's examples name: the contacts
//! `lijiarui`, `juxiaomi` and `master` (found by name: their ids differ), and the rooms
//! `wechaty`, `event-room`, `wechat` and `your room` (found by topic: their ids differ too).

mod common;

use std::future::Future;

use common::WAIT;
use tokio::sync::mpsc;
use tokio::time::timeout;
use wechaty_client::mock::{
    MockAttachment, MockContact, MockInvitation, MockRoom, MockServer, MockWorld,
};
use wechaty_client::{
    Contact, ContactId, FileBox, FileBoxSource, Message, MessageType, MiniProgram,
    RoomMemberQueryFilter, RoomQuery, UrlLink, Wechaty,
};

const LIJIARUI: &str = "wxid_lijiarui";
const JUXIAOMI: &str = "wxid_juxiaomi";
const MASTER: &str = "wxid_master";
/// Topic `wechaty`: bot, lijiarui, ann, ben, cora; owned by lijiarui.
const WECHATY: &str = "seed-wechaty@chatroom";
/// Topic `event-room`: bot, lijiarui, ann.
const EVENT_ROOM: &str = "seed-event@chatroom";
/// Topic `wechat`: bot, lijiarui, ben; owned by the bot.
const WECHAT: &str = "seed-wechat@chatroom";
/// Topic `your room`: bot, lijiarui (room alias "Jiarui"), dan; owned by the bot.
const YOUR_ROOM: &str = "seed-yours@chatroom";

/// The demo world with the page's contacts and rooms.
fn seed_world() -> MockWorld {
    let world = MockWorld::demo();
    world.add_contact(MockContact::new(LIJIARUI, "lijiarui"));
    world.add_contact(MockContact::new(JUXIAOMI, "juxiaomi"));
    world.add_contact(MockContact::new(MASTER, "master"));
    world.add_room(
        MockRoom::new(WECHATY, "wechaty")
            .members(["bot", LIJIARUI, "ann", "ben", "cora"])
            .owner(LIJIARUI),
    );
    world.add_room(MockRoom::new(EVENT_ROOM, "event-room").members(["bot", LIJIARUI, "ann"]));
    world.add_room(
        MockRoom::new(WECHAT, "wechat")
            .members(["bot", LIJIARUI, "ben"])
            .owner("bot"),
    );
    world.add_room(
        MockRoom::new(YOUR_ROOM, "your room")
            .members(["bot", LIJIARUI, "dan"])
            .owner("bot")
            .room_alias(LIJIARUI, "Jiarui"),
    );
    world
}

/// `world` served, and a bot started and past its login (python: "after logged in...").
async fn logged_in(world: MockWorld) -> (MockServer, Wechaty) {
    let server = common::serve("insecure_seed", world).await;
    let (bot, _events) = common::started(server.bot_builder()).await;
    (server, bot)
}

/// What a handler reports, failing the test after [`WAIT`].
async fn reported<T>(reports: &mut mpsc::UnboundedReceiver<T>) -> T {
    timeout(WAIT, reports.recv())
        .await
        .expect("the handler reports in time")
        .expect("the handler is still running")
}

/// python's `class MyBot(Wechaty): async def on_login(self, contact)`: `steps` run in a
/// `bot.on_login` handler when the bot starts and the service reports the login; what they
/// return comes back here.
async fn on_login<T, F, Fut>(server: &MockServer, steps: F) -> (Wechaty, T)
where
    T: Send + 'static,
    F: Fn(Wechaty, ContactId) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = wechaty_client::Result<T>> + Send + 'static,
{
    let bot = server.bot_builder().build().await.expect("valid settings");
    let (report, mut reports) = mpsc::unbounded_channel();
    bot.on_login(move |me| {
        let (report, steps) = (report.clone(), steps(me.bot().clone(), me.id().clone()));
        async move {
            let _ = report.send(steps.await);
            Ok(())
        }
    })
    .detach();
    bot.start().await.expect("the bot starts");
    let done = reported(&mut reports).await.expect("the steps succeed");
    (bot, done)
}

/// python's `class MyBot(Wechaty): async def on_message(self, msg)`: `steps` run in a
/// `bot.on_message` handler for every message; what they return comes back on the channel.
fn on_message<T, F, Fut>(bot: &Wechaty, steps: F) -> mpsc::UnboundedReceiver<T>
where
    T: Send + 'static,
    F: Fn(Message) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let (report, reports) = mpsc::unbounded_channel();
    bot.on_message(move |message| {
        let (report, steps) = (report.clone(), steps(message));
        async move {
            let _ = report.send(steps.await);
            Ok(())
        }
    })
    .detach();
    reports
}

fn ids(contacts: &[Contact]) -> Vec<&str> {
    contacts.iter().map(|c| c.id().as_str()).collect()
}

// ### async def ready(self, force_sync: bool = None) ⇒ None
//
//     await room.ready()
//
// The room is a handle made from its id (python's `bot.Room.load(id)`); `ready()` loads it.
#[tokio::test]
async fn room_ready() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot.room(WECHATY);
    assert_eq!(server.world().calls("RoomPayload"), 0);

    room.ready().await.unwrap();

    assert_eq!(server.world().calls("RoomPayload"), 1);
    assert_eq!(room.topic().await.unwrap(), "wechaty");
    assert_eq!(
        server.world().calls("RoomPayload"),
        1,
        "ready: the topic comes from the loaded payload"
    );
}

// ### async def say(self, some_thing, mention_ids) ⇒ Union[None, Message]
//
//     room = await bot.Room.find('wechaty')
//     await room.say('Hello world!')
//     file_box1 = FileBox.from_url(url='https://wechaty.github.io/wechaty/images/bot-qr-code.png', name='QRCode')
//     file_box2 = FileBox.from_file("./test.txt")
//     await room.say(file_box1); await room.say(file_box2)
//     contact_card = await self.Contact.find('master'); await room.say(contact_card)
//     members = await special_room.member_list()
//     some_members_id = [m.contact_id for m in members[:3]]
//     await room.say('Hello world!', some_members_id)
//     urlLink = UrlLink.create(description=…, thumbnail_url=…, title='Welcome to Wechaty', url=…)
//     await room.say(urlLink)
//     miniProgram = self.MiniProgram.create_from_json({"appid": 'gh_0aa444a25adc', …})
//     await room.say(mini_program)
//
// Mentions: `room.say_with_mentions(text, &contacts)` takes the contacts rather than their ids.
// The URL box is not fetched: `say` hands a URL file box to the service as it is (the service
// fetches it), so this runs offline. `special_room` and `mini_program` are typos in the page
// for `room` and `miniProgram`.
#[tokio::test]
async fn room_say() {
    const QR_URL: &str = "https://wechaty.github.io/wechaty/images/bot-qr-code.png";
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");
    assert_eq!(room.id().as_str(), WECHATY);

    // 1. text
    room.say("Hello world!").await.unwrap();

    // 2. files
    let mut file_box1 = FileBox::from_url(QR_URL);
    file_box1.name = "QRCode".into();
    let folder = std::env::temp_dir().join(format!("seed-examples-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let text_file = folder.join("test.txt");
    std::fs::write(&text_file, "a file that is not empty\n").unwrap();
    let file_box2 = FileBox::from_file(&text_file);
    room.say(file_box1).await.unwrap();
    let sent_file = room
        .say(file_box2)
        .await
        .unwrap()
        .expect("the mock reports ids");
    let echoed = sent_file.to_file_box().await.unwrap();
    assert_eq!(echoed.name, "test.txt");
    assert_eq!(
        echoed.to_bytes(&bot).await.unwrap(),
        b"a file that is not empty\n"
    );
    std::fs::remove_dir_all(&folder).unwrap();

    // 3. a contact card
    let contact_card = bot
        .contacts()
        .find("master")
        .await
        .unwrap()
        .expect("master");
    room.say(&contact_card).await.unwrap();

    // 4. mentions of the first three members
    let members = room
        .member_list(wechaty_client::MemberQuery::All)
        .await
        .unwrap();
    let some_members = &members[..3];
    room.say_with_mentions("Hello world!", some_members)
        .await
        .unwrap();

    // 5. a link card
    let url_link = UrlLink::create(
        "WeChat Bot SDK for Individual Account, Powered by TypeScript, Docker, and Love",
        "https://avatars0.githubusercontent.com/u/25162437?s=200&v=4",
        "Welcome to Wechaty",
        "https://github.com/wechaty/wechaty",
    );
    room.say(url_link.clone()).await.unwrap();

    // 6. a mini program
    let mini_program = MiniProgram::from_json(
        r#"{
            "appid": "gh_0aa444a25adc",
            "title": "我正在使用Authing认证身份，你也来试试吧",
            "pagePath": "routes/explore.html",
            "description": "身份管家",
            "thumbUrl": "30590201000452305002010002041092541302033d0af802040b30feb602045df0c2c5042b777875706c6f61645f31373533353339353230344063686174726f6f6d3131355f313537363035393538390204010400030201000400",
            "thumbKey": "42f8609e62817ae45cf7d8fefb532e83"
        }"#,
    )
    .unwrap();
    assert_eq!(mini_program.appid.as_deref(), Some("gh_0aa444a25adc"));
    room.say(mini_program.clone()).await.unwrap();

    let sent = server.world().sent_messages();
    assert_eq!(sent.len(), 7, "{sent:#?}");
    assert!(sent
        .iter()
        .all(|m| m.room_id.as_ref().map(|r| r.as_str()) == Some(WECHATY)));
    assert_eq!(
        (sent[0].kind, sent[0].text.as_str()),
        (MessageType::Text, "Hello world!")
    );
    match &sent[1].attachment {
        Some(MockAttachment::File(file)) => {
            assert_eq!(file.name, "QRCode");
            assert!(
                matches!(&file.source, FileBoxSource::Url { url, .. } if url == QR_URL),
                "the URL travels as it is: {:?}",
                file.source
            );
        }
        other => panic!("expected the URL file, got {other:?}"),
    }
    assert!(
        matches!(&sent[2].attachment, Some(MockAttachment::File(file)) if file.name == "test.txt")
    );
    assert_eq!(sent[3].kind, MessageType::Contact);
    assert_eq!(
        sent[3].attachment,
        Some(MockAttachment::Contact(ContactId::from(MASTER)))
    );
    // The first three members in member order: the bot, lijiarui, ann (by her name: she has
    // no room alias in this room).
    assert_eq!(ids(some_members), ["bot", LIJIARUI, "ann"]);
    assert_eq!(sent[4].kind, MessageType::Text);
    assert_eq!(
        sent[4].text,
        "@Wechaty Bot\u{2005}@lijiarui\u{2005}@Ann Hello world!"
    );
    let mentioned: Vec<&str> = sent[4].mention_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(mentioned, ["bot", LIJIARUI, "ann"]);
    assert_eq!(sent[5].attachment, Some(MockAttachment::UrlLink(url_link)));
    assert_eq!(
        sent[6].attachment,
        Some(MockAttachment::MiniProgram(mini_program))
    );
}

// ### def on(self, event_name: str, func: Callable) ⇒ None — 示例 (Event:join)
//
//     room = await bot.Room.find("event-room")
//     async def on_leave(leaver_list, remover): …
//     if room:
//         room.on('leave', on_leave)
//
// The page's join example registers a 'leave' listener: its body is a copy of the leave
// example (tested in `room_on_leave`). This test does what its heading says: a 'join'
// listener, `room.on_join(..)`, reporting who joined and who invited them.
#[tokio::test]
async fn room_on_join() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("event-room")
        .await
        .unwrap()
        .expect("found by topic");
    let (report, mut reports) = mpsc::unbounded_channel();
    room.on_join(move |join| {
        let report = report.clone();
        async move {
            // The handles come with their names loaded.
            let invitees: Vec<String> = join
                .invitees
                .iter()
                .filter_map(|c| c.cached_name())
                .collect();
            let inviter = join.inviter.and_then(|c| c.cached_name());
            let _ = report.send(format!(
                "Bot Room EVENT: join - \"{}\" join(inviter \"{}\")",
                invitees.join(","),
                inviter.as_deref().unwrap_or("unknown")
            ));
            Ok(())
        }
    })
    .detach();

    // Another room's join is not this room's event.
    server.world().join("r2@chatroom", &["cora"], Some("ben"));
    server.world().join(EVENT_ROOM, &[JUXIAOMI], Some(LIJIARUI));

    assert_eq!(
        reported(&mut reports).await,
        "Bot Room EVENT: join - \"juxiaomi\" join(inviter \"lijiarui\")"
    );
    assert!(room.has(&bot.contact(JUXIAOMI)).await.unwrap());
}

// ### def on(self, event_name: str, func: Callable) ⇒ None — 示例 (Event:leave)
//
//     room = await bot.Room.find("event-room")
//     async def on_leave(leaver_list, remover):
//         log.info('Bot' + '群聊事件: 离开 - "%s" leave(remover "%s"), bye bye' % (','.join(leaver_list), remover or 'unknown'))
//     if room:
//         room.on('leave', on_leave)
//
// `room.on_leave(..)`: the handler gets the leavers and the remover as contacts.
#[tokio::test]
async fn room_on_leave() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("event-room")
        .await
        .unwrap()
        .expect("found by topic");
    let (report, mut reports) = mpsc::unbounded_channel();
    room.on_leave(move |leave| {
        let report = report.clone();
        async move {
            let mut leavers = Vec::new();
            for leaver in &leave.leavers {
                leavers.push(leaver.name().await?);
            }
            let remover = match &leave.remover {
                Some(remover) => remover.name().await?,
                None => "unknown".to_owned(),
            };
            let _ = report.send(format!(
                "Bot群聊事件: 离开 - \"{}\" leave(remover \"{remover}\"), bye bye",
                leavers.join(",")
            ));
            Ok(())
        }
    })
    .detach();

    server.world().leave("r1@chatroom", &["cora"], Some("ann"));
    server.world().leave(EVENT_ROOM, &[LIJIARUI], Some("bot"));

    assert_eq!(
        reported(&mut reports).await,
        "Bot群聊事件: 离开 - \"lijiarui\" leave(remover \"Wechaty Bot\"), bye bye"
    );
    assert!(!room.has(&bot.contact(LIJIARUI)).await.unwrap());
}

// ### def on(self, event_name: str, func: Callable) ⇒ None — 示例 (Event:topic)
//
//     room = await bot.Room.find("wechaty")
//     async def on_topic(topic, old_topic, changer):
//         log.info('Bot' + 'Room EVENT: topic - changed from "%s" to "%s" by member "%s"' % (old_topic, topic, changer.name()))
//     if room:
//         room.on('topic', on_topic)
//
// `room.on_topic(..)`: the handler gets the new and old topic and the changer as a contact.
#[tokio::test]
async fn room_on_topic() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");
    let (report, mut reports) = mpsc::unbounded_channel();
    room.on_topic(move |change| {
        let report = report.clone();
        async move {
            let changer = match &change.changer {
                Some(changer) => changer.name().await?,
                None => "unknown".to_owned(),
            };
            let _ = report.send(format!(
                "Bot Room EVENT: topic - changed from \"{}\" to \"{}\" by member \"{changer}\"",
                change.old_topic, change.new_topic
            ));
            Ok(())
        }
    })
    .detach();

    server
        .world()
        .change_topic("r2@chatroom", "Long Weekend", Some("dan"));
    server
        .world()
        .change_topic(WECHATY, "wechaty (renamed)", Some(LIJIARUI));

    assert_eq!(
        reported(&mut reports).await,
        "Bot Room EVENT: topic - changed from \"wechaty\" to \"wechaty (renamed)\" by member \"lijiarui\""
    );
    assert_eq!(room.topic().await.unwrap(), "wechaty (renamed)");
}

// ### def on(self, event_name: str, func: Callable) ⇒ None — 示例 (Event:invite)
//
//     room = await bot.Room.find("wechaty")
//     async def on_invite(room_invitation):
//         room_invitation.accept()
//     if room:
//         room.on('invite', on_invite)
//
// A room has no 'invite' event here (an invitation is for a room the bot is not in yet, and
// python-wechaty's Room never emits one either): the SDK's counterpart is the bot's
// `bot.on_room_invite(..)`, whose invitation `accept()`s (awaited: the page forgets `await`).
#[tokio::test]
async fn room_on_invite() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot.rooms().find("wechaty").await.unwrap();
    assert!(room.is_some(), "if room:");
    let (report, mut reports) = mpsc::unbounded_channel();
    bot.on_room_invite(move |room_invitation| {
        let report = report.clone();
        async move {
            let _ = report.send(room_invitation.accept().await);
            Ok(())
        }
    })
    .detach();

    server.world().invite(MockInvitation::new(
        "invitation-1",
        LIJIARUI,
        "seed-invited@chatroom",
        "wechaty friends",
    ));

    reported(&mut reports).await.expect("accepted");
    assert_eq!(server.world().calls("RoomInvitationAccept"), 1);
    let invited = server.world().room("seed-invited@chatroom").unwrap();
    assert!(invited.member_ids.contains(&ContactId::from("bot")));
}

// ### async def add(self, contact: Contact) ⇒ None
//
//     contact = await bot.Contact.find('lijiarui')
//     room = await bot.Room.find('wechaty')
//     if room:
//         try:
//             await room.add(contact)
//
// Here lijiarui is not in `wechaty` yet.
#[tokio::test]
async fn room_add() {
    let world = seed_world();
    let mut wechaty = world.room(WECHATY).unwrap();
    wechaty.member_ids.retain(|id| id.as_str() != LIJIARUI);
    world.add_room(wechaty);
    let (server, bot) = logged_in(world).await;
    let contact = bot
        .contacts()
        .find("lijiarui")
        .await
        .unwrap()
        .expect("found by name");
    assert_eq!(contact.id().as_str(), LIJIARUI);
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");
    assert!(!room.has(&contact).await.unwrap());

    room.add(&contact).await.unwrap();

    assert_eq!(server.world().calls("RoomAdd"), 1);
    assert!(server
        .world()
        .room(WECHATY)
        .unwrap()
        .member_ids
        .contains(&ContactId::from(LIJIARUI)));
    assert!(room.has(&contact).await.unwrap());
}

// ### async def delete(self, contact: Contact) ⇒ None
//
//     room = await bot.Room.find('wechat')
//     contact = await bot.Contact.find('lijiarui')
//     if room:
//         try:
//             await room.delete(contact)
//
// `room.delete` is `room.remove` under python-wechaty's name.
#[tokio::test]
async fn room_delete() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechat")
        .await
        .unwrap()
        .expect("found by topic");
    assert_eq!(room.id().as_str(), WECHAT);
    let contact = bot
        .contacts()
        .find("lijiarui")
        .await
        .unwrap()
        .expect("found by name");
    assert!(room.has(&contact).await.unwrap());

    room.delete(&contact).await.unwrap();

    assert_eq!(server.world().calls("RoomDel"), 1);
    let members = server.world().room(WECHAT).unwrap().member_ids;
    assert!(!members.contains(&ContactId::from(LIJIARUI)), "{members:?}");
    assert!(!room.has(&contact).await.unwrap());
}

// ### async def quit(self) ⇒ None
//
//     await room.quit()
#[tokio::test]
async fn room_quit() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");
    let me = bot.contact(bot.current_user_id().expect("logged in"));
    assert!(room.has(&me).await.unwrap());

    room.quit().await.unwrap();

    assert_eq!(server.world().calls("RoomQuit"), 1);
    assert!(!server
        .world()
        .room(WECHATY)
        .unwrap()
        .member_ids
        .contains(me.id()));
    assert!(!room.has(&me).await.unwrap());
}

// ### async def topic(self, new_topic: str = None) ⇒ Optional[str]
// 示例 (当任意联系人在群聊内发送消息, 您都会得到该群聊的名称)
//
//     async def on_message(self, msg: Message) -> None:
//         room: "Room" = msg.room()
//         topic = await room.topic()
//         print(f'群聊名: {topic}')
//
// `msg.room()`: the message's room; a direct message has none.
#[tokio::test]
async fn room_topic_on_message() {
    let (server, bot) = logged_in(seed_world()).await;
    let mut topics = on_message(&bot, |msg| async move {
        let room = msg.room().await?.expect("a room message");
        let topic = room.topic().await?;
        Ok::<_, wechaty_client::Error>(format!("群聊名: {topic}"))
    });

    server
        .world()
        .receive_text(LIJIARUI, Some(WECHATY), "hi all");
    assert_eq!(reported(&mut topics).await.unwrap(), "群聊名: wechaty");
    server.world().receive_text("ben", Some(YOUR_ROOM), "hello");
    assert_eq!(reported(&mut topics).await.unwrap(), "群聊名: your room");
}

// ### async def topic(self, new_topic: str = None) ⇒ Optional[str]
// 示例 (每当机器人登陆账号时, 机器人都会改变群聊的名字.)
//
//     async def on_login(self, contact: Contact) -> None:
//         room = await bot.Room.find('your room')
//         old_topic = await room.topic()
//         new_topic = await room.topic('Wechaty!')
//         print(f'群聊名从{old_topic}改为{new_topic}')
//
// Setting is `room.set_topic(new)`, which returns nothing: the new topic is read back.
#[tokio::test]
async fn room_set_topic_on_login() {
    let server = common::serve("insecure_seed", seed_world()).await;
    let (_bot, printed) = on_login(&server, |bot, _me| async move {
        let room = bot
            .rooms()
            .find("your room")
            .await?
            .expect("found by topic");
        let old_topic = room.topic().await?;
        room.set_topic("Wechaty!").await?;
        let new_topic = room.topic().await?;
        Ok(format!("群聊名从{old_topic}改为{new_topic}"))
    })
    .await;

    assert_eq!(printed, "群聊名从your room改为Wechaty!");
    assert_eq!(server.world().room(YOUR_ROOM).unwrap().topic, "Wechaty!");
    assert_eq!(server.world().requests("RoomTopic").len(), 1);
}

// ### async def announce(self, announce_text: str = None) ⇒ Optional[str]
// 示例 (当群聊内的任意联系人发送消息时, 您都会在控制台收到群公告的内容)
//
//     async def on_message(self, msg: Message) -> None:
//         room: "Room" = msg.room()
//         announce = await room.announce()
//         print(f'群公告为: {announce}')
//
// `announce()` is `None` for a room without an announcement (python prints `None`).
#[tokio::test]
async fn room_announce_on_message() {
    let world = seed_world();
    let mut wechaty = world.room(WECHATY).unwrap();
    wechaty.announce = "Be kind to each other".into();
    world.add_room(wechaty);
    let (server, bot) = logged_in(world).await;
    let mut announcements = on_message(&bot, |msg| async move {
        let room = msg.room().await?.expect("a room message");
        let announce = room.announce().await?;
        Ok::<_, wechaty_client::Error>(format!("群公告为: {announce:?}"))
    });

    server
        .world()
        .receive_text(LIJIARUI, Some(WECHATY), "hi all");
    assert_eq!(
        reported(&mut announcements).await.unwrap(),
        "群公告为: Some(\"Be kind to each other\")"
    );
    server.world().receive_text("dan", Some(YOUR_ROOM), "hello");
    assert_eq!(
        reported(&mut announcements).await.unwrap(),
        "群公告为: None"
    );
}

// ### async def announce(self, announce_text: str = None) ⇒ Optional[str]
// 示例 (每当机器人登陆账号时, 都会改变群聊公告的内容)
//
//     async def on_login(self, contact: Contact) -> None:
//         room = await bot.Room.find('your room')
//         old_announce = await room.announce()
//         new_announce = await room.announce('改变为wechaty!')
//         print(f'群聊的公告从{old_announce}改变为{new_announce}')
//
// Setting is `room.set_announce(text)`, which returns nothing: the new one is read back.
#[tokio::test]
async fn room_set_announce_on_login() {
    let server = common::serve("insecure_seed", seed_world()).await;
    let (_bot, printed) = on_login(&server, |bot, _me| async move {
        let room = bot
            .rooms()
            .find("your room")
            .await?
            .expect("found by topic");
        let old_announce = room.announce().await?;
        room.set_announce("改变为wechaty!").await?;
        let new_announce = room.announce().await?;
        Ok(format!(
            "群聊的公告从{old_announce:?}改变为{new_announce:?}"
        ))
    })
    .await;

    assert_eq!(printed, "群聊的公告从None改变为Some(\"改变为wechaty!\")");
    assert_eq!(
        server.world().room(YOUR_ROOM).unwrap().announce,
        "改变为wechaty!"
    );
}

// ### async def alias(self, member: Contact) ⇒ Optional[str]
//
//     room = await bot.Room.find('your room')
//     contact = await bot.Contact.find('lijiarui')
//     alias = await room.alias(contact)
//     print(f'{contact.name()}的别名是{alias}')
#[tokio::test]
async fn room_alias() {
    let (_server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("your room")
        .await
        .unwrap()
        .expect("found by topic");
    let contact = bot
        .contacts()
        .find("lijiarui")
        .await
        .unwrap()
        .expect("found by name");

    let alias = room.alias(&contact).await.unwrap();

    assert_eq!(
        format!("{}的别名是{alias:?}", contact.name().await.unwrap()),
        "lijiarui的别名是Some(\"Jiarui\")"
    );
    // Without a room alias: None.
    assert_eq!(room.alias(&bot.contact("dan")).await.unwrap(), None);
}

// ### async def has(self, contact: Contact) ⇒ bool
// 示例 (检查好'lijiarui'是否在群聊'wechaty'内)
//
//     contact = await bot.Contact.find('lijiarui')
//     room = await bot.Room.find('wechaty')
//     if contact and room:
//         if await room.has(contact):
//             print(f'{contact.name()} 在群聊wechaty房间内!')
//         else:
//             print(f'{contact.name()} 不在群聊wechaty房间内!')
#[tokio::test]
async fn room_has() {
    let (_server, bot) = logged_in(seed_world()).await;
    let contact = bot
        .contacts()
        .find("lijiarui")
        .await
        .unwrap()
        .expect("found by name");
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");

    assert!(
        room.has(&contact).await.unwrap(),
        "lijiarui 在群聊wechaty房间内!"
    );
    // The other branch: juxiaomi is no member.
    let juxiaomi = bot
        .contacts()
        .find("juxiaomi")
        .await
        .unwrap()
        .expect("found by name");
    assert!(!room.has(&juxiaomi).await.unwrap());
}

// ### async def member_list(self, query: Union[str, RoomMemberQueryFilter] = None) ⇒ List[Contact]
//
//     member_list = await room.member_list()
//     member_contact_list = await room.member_list('abc')
//
// No query is `MemberQuery::All`; a string matches exactly the name, the room alias or the
// alias the bot gave: here one member of each.
#[tokio::test]
async fn room_member_list() {
    let world = seed_world();
    world.add_contact(MockContact::new("wxid_abc", "abc"));
    world.add_contact(MockContact::new("cora", "Cora").alias("abc"));
    let wechaty = world
        .room(WECHATY)
        .unwrap()
        .members(["bot", LIJIARUI, "ann", "ben", "cora", "wxid_abc"])
        .room_alias("ben", "abc");
    world.add_room(wechaty);
    let (_server, bot) = logged_in(world).await;
    let room = bot.room(WECHATY);

    let member_list = room
        .member_list(wechaty_client::MemberQuery::All)
        .await
        .unwrap();
    assert_eq!(
        ids(&member_list),
        ["bot", LIJIARUI, "ann", "ben", "cora", "wxid_abc"]
    );

    let member_contact_list = room.member_list("abc").await.unwrap();
    // ben by room alias, cora by the bot's alias, wxid_abc by name; in member order.
    assert_eq!(ids(&member_contact_list), ["ben", "cora", "wxid_abc"]);
}

// ### async def member(self, query: Union[str, RoomMemberQueryFilter] = None) ⇒ Optional[Contact]
// 示例 (通过名字寻找联系人)
//
//     room = await bot.Room.find('wechaty')
//     if room:
//         member = await room.member('lijiarui')
//         if member:
//             print(f'wechaty 群聊内找到了联系人: {member.name()}')
//         else:
//             print(f'wechaty群聊内找不到该联系人')
#[tokio::test]
async fn room_member() {
    let (_server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");

    let member = room.member("lijiarui").await.unwrap().expect("a member");
    assert_eq!(member.id().as_str(), LIJIARUI);
    assert_eq!(member.name().await.unwrap(), "lijiarui");
    // The other branch: no member of that name.
    assert!(room.member("juxiaomi").await.unwrap().is_none());
}

// ### async def member(self, query: Union[str, RoomMemberQueryFilter] = None) ⇒ Optional[Contact]
// 示例 (通过MemberQueryFilter类来查找)
//
//     async def on_message(self, msg: Message) -> None:
//         room: "Room" = msg.room()
//         if room:
//             member = await room.member(RoomMemberQueryFilter(name="lijiarui"))
//             if member:
//                 print(f'wechaty room got the member: {member.name}')
//             else:
//                 print(f'cannot get member in wechaty room!')
#[tokio::test]
async fn room_member_by_filter_on_message() {
    let (server, bot) = logged_in(seed_world()).await;
    let mut found = on_message(&bot, |msg| async move {
        let Some(room) = msg.room().await? else {
            return Ok(None);
        };
        let member = room
            .member(RoomMemberQueryFilter::default().name("lijiarui"))
            .await?;
        Ok::<_, wechaty_client::Error>(Some(match member {
            Some(member) => format!("wechaty room got the member: {}", member.name().await?),
            None => "cannot get member in wechaty room!".to_owned(),
        }))
    });

    server
        .world()
        .receive_text("ann", Some(WECHATY), "who is here?");
    assert_eq!(
        reported(&mut found).await.unwrap().as_deref(),
        Some("wechaty room got the member: lijiarui")
    );
    // In a room without lijiarui: the else branch.
    server
        .world()
        .receive_text("ben", Some("r2@chatroom"), "and here?");
    assert_eq!(
        reported(&mut found).await.unwrap().as_deref(),
        Some("cannot get member in wechaty room!")
    );
    // A direct message has no room: `if room:` is false.
    server.world().receive_text("ann", None, "psst");
    assert_eq!(reported(&mut found).await.unwrap(), None);
}

// ### async def owner(self) ⇒ Optional[Contact]
//
//     owner = await room.owner()
#[tokio::test]
async fn room_owner() {
    let (_server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");

    let owner = room
        .owner()
        .await
        .unwrap()
        .expect("the mock names the owner");

    assert_eq!(owner.id().as_str(), LIJIARUI);
    assert_eq!(owner.name().await.unwrap(), "lijiarui");
}

// ### async def avatar(self) ⇒ FileBox
//
//     owner = await room.avatar()
#[tokio::test]
async fn room_avatar() {
    let (server, bot) = logged_in(seed_world()).await;
    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");

    let avatar = room.avatar().await.unwrap();

    assert_eq!(server.world().calls("RoomAvatar"), 1);
    assert_eq!(avatar.name, format!("{WECHATY}.png"));
    let bytes = avatar.to_bytes(&bot).await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG image");
}

// ### @classmethod async def create(cls, contacts: List[Contact], topic: str) ⇒ Room
// 示例 (用联系人'lijiarui' 和 'juxiaomi'创建一个群聊, 群聊的名称为'ding - created')
//
//     helper_contact_a = await bot.Contact.find('lijiarui')
//     helper_contact_b = await bot.Contact.find('juxiaomi')
//     contact_list = [helper_contact_a, helper_contact_b]
//     room = await Room.create(contact_list, 'ding')
//     await room.topic('ding - created')
//     await room.say('ding - 创建完成')
//
// `Room.create` is `bot.rooms().create(&contacts, topic)`; `room.topic(new)` is `set_topic`.
#[tokio::test]
async fn room_create() {
    let (server, bot) = logged_in(seed_world()).await;
    let helper_contact_a = bot
        .contacts()
        .find("lijiarui")
        .await
        .unwrap()
        .expect("lijiarui");
    let helper_contact_b = bot
        .contacts()
        .find("juxiaomi")
        .await
        .unwrap()
        .expect("juxiaomi");
    let contact_list = [helper_contact_a, helper_contact_b];

    let room = bot.rooms().create(&contact_list, "ding").await.unwrap();
    assert_eq!(room.topic().await.unwrap(), "ding");
    room.set_topic("ding - created").await.unwrap();
    room.say("ding - 创建完成").await.unwrap();

    let created = server.world().room(room.id().as_str()).unwrap();
    assert_eq!(created.topic, "ding - created");
    let members: Vec<&str> = created.member_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(members, ["bot", LIJIARUI, JUXIAOMI]);
    let said = server.world().sent_messages().pop().unwrap();
    assert_eq!(said.room_id.as_ref(), Some(room.id()));
    assert_eq!(said.text, "ding - 创建完成");
    assert_eq!(room.topic().await.unwrap(), "ding - created");
}

// ### @classmethod async def find_all(cls, query = None) ⇒ List[Room]
//
//     room_list = await bot.Room.find_all()
//     room_list = await bot.Room.find_all('wechaty')
//
// No query is `RoomQuery::All`; a string matches the id or exactly the topic.
#[tokio::test]
async fn room_find_all() {
    let (_server, bot) = logged_in(seed_world()).await;

    let room_list = bot.rooms().find_all(RoomQuery::All).await.unwrap();
    let mut every: Vec<&str> = room_list.iter().map(|room| room.id().as_str()).collect();
    every.sort_unstable();
    assert_eq!(
        every,
        [
            "r1@chatroom",
            "r2@chatroom",
            EVENT_ROOM,
            WECHAT,
            WECHATY,
            YOUR_ROOM
        ]
    );

    let room_list = bot.rooms().find_all("wechaty").await.unwrap();
    assert_eq!(room_list.len(), 1, "exactly the topic: not `wechat`");
    assert_eq!(room_list[0].id().as_str(), WECHATY);
}

// ### @classmethod async def find(cls, query = None) ⇒ Optional[Room]
//
//     room_list = await bot.Room.find()
//     room_list = await bot.Room.find('wechaty')
//
// No query is `RoomQuery::All`: the first room in the service's order.
#[tokio::test]
async fn room_find() {
    let (_server, bot) = logged_in(seed_world()).await;

    let first = bot
        .rooms()
        .find(RoomQuery::All)
        .await
        .unwrap()
        .expect("a room");
    assert_eq!(
        Some(&first),
        bot.rooms().find_all(RoomQuery::All).await.unwrap().first()
    );

    let room = bot
        .rooms()
        .find("wechaty")
        .await
        .unwrap()
        .expect("found by topic");
    assert_eq!(room.id().as_str(), WECHATY);
    assert!(bot.rooms().find("no such room").await.unwrap().is_none());
}
