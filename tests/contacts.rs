//! Finding contacts against the mock: every kind of query, and the RPCs a lookup costs.

mod common;

use wechaty_client::mock::{MockContact, MockServer, MockWorld};
use wechaty_client::{Contact, ContactQuery, ContactQueryFilter, Wechaty};

/// The demo world, plus a contact with a WeChat handle and one who is not a friend.
async fn setup() -> (MockServer, Wechaty) {
    let world = MockWorld::demo();
    world.add_contact(MockContact::new("erin", "Erin").handle("erin_w"));
    let mut stranger = MockContact::new("finn", "Finn");
    stranger.friend = false;
    world.add_contact(stranger);
    let server = common::serve("insecure_contacts", world).await;
    let (bot, _events) = common::started(server.bot_builder()).await;
    (server, bot)
}

fn ids(contacts: &[Contact]) -> Vec<&str> {
    let mut ids: Vec<_> = contacts.iter().map(|c| c.id().as_str()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn find_by_id_name_alias_filter_regex_and_closure() {
    let (_server, bot) = setup().await;
    let contacts = bot.contacts();
    let found = |query: &str| {
        let contacts = contacts.clone();
        let query = query.to_owned();
        async move {
            contacts
                .find(query.as_str())
                .await
                .unwrap()
                .map(|c| c.id().to_string())
        }
    };
    assert_eq!(found("ben").await.as_deref(), Some("ben"), "by id");
    assert_eq!(found("Cora").await.as_deref(), Some("cora"), "by name");
    assert_eq!(
        found("Ann (alias)").await.as_deref(),
        Some("ann"),
        "by alias"
    );
    assert_eq!(
        found("ann (alias)").await,
        None,
        "exactly, not ignoring case"
    );
    assert_eq!(found("Ann (al").await, None, "exactly, not a prefix");
    assert_eq!(found("nobody").await, None);

    let all = contacts.find_all(ContactQuery::All).await.unwrap();
    assert_eq!(
        ids(&all),
        ["ann", "ben", "bot", "cora", "dan", "erin", "finn"]
    );

    let filter = ContactQueryFilter::default()
        .name("Ann")
        .alias("Ann (alias)");
    assert_eq!(ids(&contacts.find_all(filter).await.unwrap()), ["ann"]);
    let mismatch = ContactQueryFilter::default()
        .name("Ann")
        .alias("something else");
    assert!(
        contacts.find_all(mismatch).await.unwrap().is_empty(),
        "every field must match"
    );
    let by_id = ContactQueryFilter::default().id("cora");
    assert_eq!(ids(&contacts.find_all(by_id).await.unwrap()), ["cora"]);
    let by_alias = ContactQueryFilter::default().alias("Ann (alias)");
    assert_eq!(ids(&contacts.find_all(by_alias).await.unwrap()), ["ann"]);
    let by_name = ContactQueryFilter::default().name("Dan");
    assert_eq!(ids(&contacts.find_all(by_name).await.unwrap()), ["dan"]);
    let weixin = ContactQueryFilter::default().weixin("erin_w");
    assert_eq!(ids(&contacts.find_all(weixin).await.unwrap()), ["erin"]);

    let regex = regex::Regex::new("^(B|D)").unwrap();
    assert_eq!(
        ids(&contacts.find_all(regex).await.unwrap()),
        ["ben", "dan"]
    );

    let strangers = ContactQuery::matching(|contact| !contact.friend);
    assert_eq!(ids(&contacts.find_all(strangers).await.unwrap()), ["finn"]);
}

#[tokio::test]
async fn finding_reuses_the_listing_until_something_says_contacts_changed() {
    let (server, bot) = setup().await;
    let world = server.world();
    let lists = || world.calls("ContactList");
    let (before, payloads) = (lists(), world.calls("ContactPayload"));
    let all = bot.contacts().find_all(ContactQuery::All).await.unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(lists() - before, 1);
    let fetched = world.calls("ContactPayload") - payloads;
    assert!(
        (6..=7).contains(&fetched),
        "{fetched} payload RPCs for 7 contacts (the bot's own may be cached)"
    );

    // Again: the listing is reused, no RPC at all.
    let ann = bot.contacts().find("Ann").await.unwrap().unwrap();
    assert_eq!(ann.name().await.unwrap(), "Ann");
    assert_eq!(lists() - before, 1);
    assert_eq!(world.calls("ContactPayload") - payloads, fetched);

    // An edit (its dirty, and the bot's own forget) makes the next find ask again; the other
    // payloads still come from the cache.
    bot.contact("ben").set_alias(Some("Benny")).await.unwrap();
    let benny = bot.contacts().find("Benny").await.unwrap().unwrap();
    assert_eq!(benny.id().as_str(), "ben");
    assert_eq!(lists() - before, 2);
    assert_eq!(world.calls("ContactPayload") - payloads, fetched + 1);

    // A friendship may add a contact, which no dirty tells: asked again.
    world.add_contact(MockContact::new("gwen", "Gwen"));
    assert!(
        bot.contacts().find("Gwen").await.unwrap().is_none(),
        "not told yet"
    );
    let mut events = bot.events();
    world.friend_request(wechaty_client::mock::MockFriendship::request(
        "f1", "gwen", "hi",
    ));
    common::next_matching(&mut events, |e| {
        matches!(e, wechaty_client::Event::Friendship { .. })
    })
    .await;
    assert!(bot.contacts().find("Gwen").await.unwrap().is_some());
    assert_eq!(lists() - before, 3);
}

#[tokio::test]
async fn a_zero_list_ttl_asks_the_service_every_time() {
    let world = MockWorld::demo();
    let server = common::serve("insecure_contacts", world).await;
    let limits = wechaty_client::CacheLimits {
        contact_list_ttl: std::time::Duration::ZERO,
        ..Default::default()
    };
    let bot = server
        .bot_builder()
        .cache_limits(limits)
        .build()
        .await
        .unwrap();
    let world = server.world();
    bot.contacts().find("Ann").await.unwrap().unwrap();
    world.add_contact(MockContact::new("gwen", "Gwen"));
    assert!(bot.contacts().find("Gwen").await.unwrap().is_some());
    assert_eq!(world.calls("ContactList"), 2);
}

#[tokio::test]
async fn a_listing_fetches_only_the_payloads_it_lacks_in_the_services_order() {
    let (server, _) = setup().await;
    // Listed every time, so the second listing sees what appeared without a notice.
    let limits = wechaty_client::CacheLimits {
        contact_list_ttl: std::time::Duration::ZERO,
        ..Default::default()
    };
    let (bot, _events) = common::started(server.bot_builder().cache_limits(limits)).await;
    let world = server.world();
    bot.contacts().find_all(ContactQuery::All).await.unwrap();
    // Two contacts appear (without a notice, as on the official protocol): one listed among
    // the cached ones, one after them.
    world.add_contact(MockContact::new("bea", "Bea"));
    world.add_contact(MockContact::new("zoe", "Zoe"));
    let payloads = world.calls("ContactPayload");
    let all = bot.contacts().find_all(ContactQuery::All).await.unwrap();
    assert_eq!(world.calls("ContactPayload") - payloads, 2);
    let listed: Vec<&str> = all.iter().map(|c| c.id().as_str()).collect();
    assert_eq!(
        listed,
        ["ann", "bea", "ben", "bot", "cora", "dan", "erin", "finn", "zoe"]
    );
    assert_eq!(
        bot.contacts()
            .find("Bea")
            .await
            .unwrap()
            .unwrap()
            .id()
            .as_str(),
        "bea"
    );
}

#[tokio::test]
async fn getters_read_the_payload_once() {
    let (server, bot) = setup().await;
    let world = server.world();
    let erin = bot.contact("erin");
    let before = world.calls("ContactPayload");
    assert_eq!(erin.weixin().await.unwrap().as_deref(), Some("erin_w"));
    assert!(erin.is_friend().await.unwrap());
    assert!(!erin.star().await.unwrap());
    assert_eq!(
        erin.kind().await.unwrap(),
        wechaty_client::ContactType::Individual
    );
    assert_eq!(erin.city().await.unwrap(), None);
    assert!(erin.phone().await.unwrap().is_empty());
    assert_eq!(
        world.calls("ContactPayload") - before,
        1,
        "one payload for every getter"
    );
    assert!(!bot.contact("finn").is_friend().await.unwrap());
}

#[tokio::test]
async fn set_alias_sets_and_clears_and_the_next_read_sees_it() {
    let (server, bot) = setup().await;
    let world = server.world();
    let ben = bot.contact("ben");
    assert_eq!(ben.alias().await.unwrap(), None);

    ben.set_alias(Some("Benny")).await.unwrap();
    let sent = world.requests("ContactAlias");
    assert!(
        sent.last().unwrap().contains("alias: Some(\"Benny\")"),
        "{sent:?}"
    );
    assert_eq!(ben.alias().await.unwrap().as_deref(), Some("Benny"));
    let found = bot.contacts().find("Benny").await.unwrap().unwrap();
    assert_eq!(found.id().as_str(), "ben");

    ben.set_alias(None).await.unwrap();
    assert_eq!(ben.alias().await.unwrap(), None);
    assert!(bot.contacts().find("Benny").await.unwrap().is_none());

    let error = bot
        .contact("nobody")
        .set_alias(Some("x"))
        .await
        .unwrap_err();
    // As the official service answers an unknown id.
    assert_eq!(
        error.to_string(),
        "ContactAlias failed (Unknown): no payload found for id nobody"
    );
}

#[tokio::test]
async fn sync_really_refreshes() {
    let (server, bot) = setup().await;
    let world = server.world();
    let ann = bot.contact("ann");
    assert_eq!(ann.name().await.unwrap(), "Ann");
    let before = world.calls("ContactPayload");
    // A change behind the bot's back, with no event: only a sync can see it.
    let mut renamed = MockContact::new("ann", "Annie").alias("Ann (alias)");
    renamed.friend = true;
    world.add_contact(renamed);
    assert_eq!(ann.name().await.unwrap(), "Ann", "cached");
    ann.sync().await.unwrap();
    assert_eq!(world.calls("DirtyPayload"), 1);
    assert_eq!(world.calls("ContactPayload") - before, 1);
    assert_eq!(ann.name().await.unwrap(), "Annie");
}

#[tokio::test]
async fn phone_corporation_and_description_both_ways() {
    let (server, bot) = setup().await;
    let world = server.world();
    let dan = bot.contact("dan");
    dan.set_phone(&["+86 10 1234", "+86 21 5678"])
        .await
        .unwrap();
    dan.set_corporation(Some("Acme")).await.unwrap();
    dan.set_description(Some("met at the meetup"))
        .await
        .unwrap();
    assert_eq!(dan.phone().await.unwrap(), ["+86 10 1234", "+86 21 5678"]);
    assert_eq!(dan.corporation().await.unwrap().as_deref(), Some("Acme"));
    assert_eq!(
        dan.description().await.unwrap().as_deref(),
        Some("met at the meetup")
    );
    let sent = world.requests("ContactCorporationRemark");
    assert!(sent[0].contains("corporation_remark: \"Acme\""), "{sent:?}");

    dan.set_phone(&[]).await.unwrap();
    dan.set_corporation(None).await.unwrap();
    dan.set_description(None).await.unwrap();
    assert!(dan.phone().await.unwrap().is_empty());
    assert_eq!(dan.corporation().await.unwrap(), None);
    assert_eq!(dan.description().await.unwrap(), None);
    assert!(bot.contact("nobody").set_phone(&["1"]).await.is_err());
}

#[tokio::test]
async fn the_logged_in_account_changes_itself() {
    let (server, bot) = setup().await;
    let world = server.world();
    let me = bot.current_user().expect("logged in");
    assert_eq!(me.id().as_str(), "bot");
    assert!(me.is_self());
    assert!(!bot.contact("ann").is_self());
    assert_eq!(me.name().await.unwrap(), "Wechaty Bot");

    me.set_name("Rusty").await.unwrap();
    assert_eq!(me.name().await.unwrap(), "Rusty", "the cache was dropped");
    me.set_signature("a Rust bot").await.unwrap();
    assert_eq!(me.signature().await.unwrap().as_deref(), Some("a Rust bot"));
    me.set_signature("").await.unwrap();
    assert_eq!(me.signature().await.unwrap(), None);
    assert!(me.set_name("").await.is_err(), "a name cannot be empty");
    assert_eq!(me.qr_code().await.unwrap(), "https://u.wechat.com/mock-bot");

    // The avatar: the mock's PNG until the bot sets one, then what it set.
    let png = me.avatar().await.unwrap().to_bytes(&bot).await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    me.set_avatar(wechaty_client::FileBox::from_bytes(
        "me.png",
        &b"new avatar"[..],
    ))
    .await
    .unwrap();
    let avatar = me.avatar().await.unwrap();
    assert_eq!(avatar.name, "me.png");
    assert_eq!(&avatar.to_bytes(&bot).await.unwrap()[..], b"new avatar");
    assert_eq!(world.calls("ContactAvatar"), 3);
    assert!(bot.contact("nobody").avatar().await.is_err());
}

#[tokio::test]
async fn a_contact_avatar_url_comes_as_a_url_box() {
    let world = MockWorld::demo();
    let mut gail = MockContact::new("gail", "Gail");
    gail.avatar = Some("https://example.com/gail.jpg".into());
    world.add_contact(gail);
    let server = common::serve("insecure_contacts", world).await;
    let bot = server.bot_builder().build().await.unwrap();
    let avatar = bot.contact("gail").avatar().await.unwrap();
    assert!(
        matches!(&avatar.source, wechaty_client::FileBoxSource::Url { url, .. } if url == "https://example.com/gail.jpg"),
        "{avatar:?}"
    );
}

#[tokio::test]
async fn a_contacts_events_are_its_direct_chat_and_its_friendships() {
    use tokio_stream::StreamExt;
    use wechaty_client::mock::MockFriendship;
    use wechaty_client::ContactEvent;

    let (server, bot) = setup().await;
    let world = server.world();
    let mut ann = bot.contact("ann").events();
    world.receive_text("ann", Some("r1@chatroom"), "in a room: not hers alone");
    world.receive_text("ben", None, "ben's chat");
    world.receive_text("ann", None, "to the bot");
    bot.contact("ann").say("to ann").await.unwrap();
    world.friend_request(MockFriendship::request("f-ben", "ben", "not ann"));
    world.friend_request(MockFriendship::request("f-ann", "ann", "again?"));

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(common::WAIT, ann.next())
            .await
            .expect("ann's events in time")
            .expect("the stream goes on");
        seen.push(match event {
            ContactEvent::Message(message) => message.text().await.unwrap(),
            ContactEvent::Friendship(friendship) => format!("friendship {}", friendship.id()),
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(seen, ["to the bot", "to ann", "friendship f-ann"]);
}
