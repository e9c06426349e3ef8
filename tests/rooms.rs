//! The Room API against the mock: every method, the wire fields, caches and invalidation.

mod common;

use std::time::Duration;

use common::WAIT;
use serde_json::json;
use tokio::time::timeout;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockContact, MockInvitation, MockRoom, MockServer, MockWorld};
use wechaty_client::{
    ContactId, Error, Event, FileBoxSource, MemberQuery, RoomEvent, RoomMemberQueryFilter,
    RoomQuery, RoomQueryFilter, Wechaty,
};

/// The demo world served, and a started bot past its login.
async fn setup() -> (MockServer, Wechaty) {
    let server = common::serve("insecure_rooms", MockWorld::demo()).await;
    let (bot, _events) = common::started(server.bot_builder()).await;
    (server, bot)
}

fn ids(contacts: &[wechaty_client::Contact]) -> Vec<&str> {
    contacts.iter().map(|c| c.id().as_str()).collect()
}

#[tokio::test]
async fn find_by_id_topic_filter_regex_and_closure_without_loading_members() {
    let (server, bot) = setup().await;
    let rooms = bot.rooms();
    let world = server.world();

    let all = rooms.find_all(RoomQuery::All).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(world.calls("RoomList"), 1);
    assert_eq!(world.calls("RoomPayload"), 2);

    let by_id = rooms.find("r2@chatroom").await.unwrap().unwrap();
    assert_eq!(by_id.id().as_str(), "r2@chatroom");
    let by_topic = rooms.find("Team Room").await.unwrap().unwrap();
    assert_eq!(by_topic.id().as_str(), "r1@chatroom");
    assert!(
        rooms.find("Team").await.unwrap().is_none(),
        "topics match exactly"
    );

    let filter = RoomQueryFilter::default()
        .id("r1@chatroom")
        .topic("Team Room");
    assert_eq!(rooms.find_all(filter).await.unwrap().len(), 1);
    let mismatch = RoomQueryFilter::default()
        .id("r1@chatroom")
        .topic("Weekend");
    assert!(rooms.find_all(mismatch).await.unwrap().is_empty());

    let regex = regex::Regex::new("^(Team|Week)").unwrap();
    assert_eq!(rooms.find_all(regex).await.unwrap().len(), 2);
    let small = rooms
        .find_all(RoomQuery::matching(|room| room.member_ids.len() < 4))
        .await
        .unwrap();
    assert_eq!(small.len(), 1);
    assert_eq!(small[0].id().as_str(), "r2@chatroom");

    // Payloads came from the cache after the first listing; members were never loaded.
    assert_eq!(world.calls("RoomPayload"), 2);
    assert_eq!(world.calls("RoomMemberList"), 0);
    assert_eq!(world.calls("RoomMemberPayload"), 0);
}

#[tokio::test]
async fn create_needs_two_contacts_and_returns_a_ready_room() {
    let (server, bot) = setup().await;
    let rooms = bot.rooms();
    let error = rooms
        .create(&[bot.contact("ann")], "Solo")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert!(error.to_string().contains("at least 2"));
    assert_eq!(server.world().calls("RoomCreate"), 0);

    let room = rooms
        .create(&[bot.contact("ann"), bot.contact("ben")], "Fresh")
        .await
        .unwrap();
    let calls = server.world().calls("RoomPayload");
    assert_eq!(room.topic().await.unwrap(), "Fresh");
    assert_eq!(
        server.world().calls("RoomPayload"),
        calls,
        "ready means loaded"
    );
    assert_eq!(ids(&room.members().await.unwrap()), ["bot", "ann", "ben"]);
    let unknown = rooms
        .create(&[bot.contact("ann"), bot.contact("nobody")], "x")
        .await
        .unwrap_err();
    assert!(matches!(unknown, Error::Rpc { .. }), "{unknown:?}");
}

#[tokio::test]
async fn say_with_mentions_writes_the_visible_names_and_the_ids() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    let sent = room
        .say("plain")
        .await
        .unwrap()
        .expect("the mock reports ids");
    assert_eq!(sent.payload().await.unwrap().text.as_deref(), Some("plain"));

    room.say_with_mentions("hello", &[bot.contact("ann"), bot.contact("ben")])
        .await
        .unwrap();
    let last = server.world().sent_messages().pop().unwrap();
    // ann has a room alias; ben does not, so his name is used.
    assert_eq!(last.text, "@Ali (room nick)\u{2005}@Ben hello");
    assert_eq!(
        last.mention_ids,
        [ContactId::from("ann"), ContactId::from("ben")]
    );
    assert_eq!(last.room_id.unwrap().as_str(), "r1@chatroom");
}

#[tokio::test]
async fn add_and_remove_fill_both_member_fields_and_stream_their_events() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    let mut events = room.events();
    assert!(!room.has(&bot.contact("dan")).await.unwrap());

    room.add(&bot.contact("dan")).await.unwrap();
    let add = server.world().requests("RoomAdd").pop().unwrap();
    assert!(add.contains(r#"contact_id: "dan""#), "{add}");
    assert!(add.contains(r#"contact_ids: ["dan"]"#), "{add}");
    let RoomEvent::Join(join) = timeout(WAIT, events.next()).await.unwrap().unwrap() else {
        panic!("expected a join")
    };
    assert_eq!(join.invitee_ids, [ContactId::from("dan")]);
    assert_eq!(join.inviter_id, Some(ContactId::from("bot")));
    assert!(room.has(&bot.contact("dan")).await.unwrap());

    room.delete(&bot.contact("dan")).await.unwrap();
    let del = server.world().requests("RoomDel").pop().unwrap();
    assert!(
        del.contains(r#"contact_id: "dan""#) && del.contains(r#"contact_ids: ["dan"]"#),
        "{del}"
    );
    assert!(matches!(
        timeout(WAIT, events.next()).await.unwrap().unwrap(),
        RoomEvent::Leave(_)
    ));
    assert!(!room.has(&bot.contact("dan")).await.unwrap());

    // Removing a non-member is the service's error, cut to its first line.
    let error = room.remove(&bot.contact("dan")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "RoomDel failed (Unknown): contact(dan) is not in the Room(r1@chatroom)"
    );

    room.quit().await.unwrap();
    assert!(!server
        .world()
        .room("r1@chatroom")
        .unwrap()
        .member_ids
        .contains(&ContactId::from("bot")));
}

#[tokio::test]
async fn topic_is_cached_and_set_topic_sends_the_field_even_when_empty() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    let mut events = bot.events();
    assert_eq!(room.topic().await.unwrap(), "Team Room");
    assert_eq!(room.topic().await.unwrap(), "Team Room");
    assert_eq!(
        server.world().calls("RoomPayload"),
        1,
        "the second read is cached"
    );
    assert_eq!(server.world().calls("RoomTopic"), 0);

    room.set_topic("Renamed").await.unwrap();
    let request = server.world().requests("RoomTopic").pop().unwrap();
    assert!(request.contains(r#"topic: Some("Renamed")"#), "{request}");
    // A real puppet's side effects: room-topic, then dirty.
    let topic_event = timeout(WAIT, async {
        loop {
            if let Some(Event::RoomTopic(topic)) = events.next().await {
                return topic;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(
        (
            topic_event.old_topic.as_str(),
            topic_event.new_topic.as_str()
        ),
        ("Team Room", "Renamed")
    );
    assert_eq!(room.topic().await.unwrap(), "Renamed");

    room.set_topic("").await.unwrap();
    let request = server.world().requests("RoomTopic").pop().unwrap();
    assert!(request.contains(r#"topic: Some("")"#), "{request}");
}

#[tokio::test]
async fn announce_get_leaves_the_field_out_and_set_sends_it() {
    let (server, bot) = setup().await;
    let room = bot.room("r2@chatroom");
    assert_eq!(room.announce().await.unwrap(), None);
    let get = server.world().requests("RoomAnnounce").pop().unwrap();
    assert!(get.contains("text: None"), "{get}");

    room.set_announce("Bring snacks").await.unwrap();
    assert_eq!(
        room.announce().await.unwrap().as_deref(),
        Some("Bring snacks")
    );
    room.set_announce("").await.unwrap();
    let set = server.world().requests("RoomAnnounce").pop().unwrap();
    assert!(set.contains(r#"text: Some("")"#), "{set}");
    assert_eq!(room.announce().await.unwrap(), None);
}

#[tokio::test]
async fn qr_code_owner_avatar_alias() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    assert!(room.qr_code().await.unwrap().contains("r1@chatroom"));
    assert_eq!(room.owner().await.unwrap().unwrap().id().as_str(), "ann");
    let avatar = room.avatar().await.unwrap();
    assert!(matches!(avatar.source, FileBoxSource::Base64(_)));
    assert_eq!(avatar.name, "r1@chatroom.png");
    let png = avatar.to_bytes(&bot).await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    assert_eq!(avatar.size, Some(png.len() as u64));
    assert_eq!(
        room.alias(&bot.contact("ann")).await.unwrap().as_deref(),
        Some("Ali (room nick)")
    );
    assert_eq!(room.alias(&bot.contact("ben")).await.unwrap(), None);
    assert!(
        room.alias(&bot.contact("dan")).await.is_err(),
        "dan is not a member"
    );

    // A QR code longer than any QR code can hold is refused.
    let long_id = format!("{}@chatroom", "x".repeat(7100));
    server
        .world()
        .add_room(MockRoom::new(long_id.as_str(), "Long"));
    let error = bot.room(long_id).qr_code().await.unwrap_err();
    assert!(matches!(error, Error::InvalidData { .. }), "{error:?}");
}

#[tokio::test]
async fn member_queries_by_each_field_with_two_payload_kinds_and_a_free_repeat() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    let world = server.world();
    assert_eq!(
        ids(&room.members().await.unwrap()),
        ["bot", "ann", "ben", "cora"]
    );
    assert_eq!(world.calls("RoomMemberList"), 1);
    assert_eq!(
        world.calls("RoomMemberPayload"),
        0,
        "plain members need no payloads"
    );

    // A string matches name, room alias or contact alias exactly.
    assert_eq!(ids(&room.member_list("Ben").await.unwrap()), ["ben"]);
    assert_eq!(world.calls("RoomMemberPayload"), 4);
    assert_eq!(world.calls("ContactPayload"), 4);
    assert_eq!(
        ids(&room.member_list("Ali (room nick)").await.unwrap()),
        ["ann"]
    );
    assert_eq!(
        ids(&room.member_list("Ann (alias)").await.unwrap()),
        ["ann"]
    );
    assert!(room.member_list("Al").await.unwrap().is_empty());
    assert_eq!(
        room.member("Cora").await.unwrap().unwrap().id().as_str(),
        "cora"
    );
    // Repeats cost nothing.
    assert_eq!(world.calls("RoomMemberList"), 1);
    assert_eq!(world.calls("RoomMemberPayload"), 4);
    assert_eq!(world.calls("ContactPayload"), 4);

    // A filter needs every given field.
    let both = RoomMemberQueryFilter::default()
        .name("Ann")
        .room_alias("Ali (room nick)");
    assert_eq!(ids(&room.member_list(both).await.unwrap()), ["ann"]);
    let wrong = RoomMemberQueryFilter::default()
        .name("Ann")
        .room_alias("Nope");
    assert!(room.member_list(wrong).await.unwrap().is_empty());
    let alias = RoomMemberQueryFilter::default().contact_alias("Ann (alias)");
    assert_eq!(ids(&room.member_list(alias).await.unwrap()), ["ann"]);

    let details = room
        .member_details(wechaty_client::MemberQuery::All)
        .await
        .unwrap();
    let ann = details
        .iter()
        .find(|m| m.contact.id().as_str() == "ann")
        .unwrap();
    assert_eq!(ann.name(), Some("Ann"));
    assert_eq!(ann.room_alias(), Some("Ali (room nick)"));
    assert_eq!(ann.contact_alias(), Some("Ann (alias)"));
}

#[tokio::test]
async fn member_list_of_everyone_loads_contacts_only_then_names_are_warm() {
    let (server, bot) = setup().await;
    let world = server.world();
    let members = bot
        .room("r1@chatroom")
        .member_list(wechaty_client::MemberQuery::All)
        .await
        .unwrap();
    assert_eq!(ids(&members), ["bot", "ann", "ben", "cora"]);
    assert_eq!(world.calls("ContactPayload"), 4);
    assert_eq!(
        world.calls("RoomMemberPayload"),
        0,
        "nothing to match, no member payloads"
    );
    assert_eq!(members[2].name().await.unwrap(), "Ben");
    assert_eq!(
        world.calls("ContactPayload"),
        4,
        "names come from the cache"
    );
}

/// Waits until the bot has seen `count` dirty events (their invalidation runs first).
async fn dirty_seen(events: &mut wechaty_client::Events, count: usize) {
    timeout(WAIT, async {
        let mut seen = 0;
        while seen < count {
            if let Some(Event::Dirty { .. }) = events.next().await {
                seen += 1;
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_repeated_member_listing_is_free_until_a_contact_or_the_members_change() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    let world = server.world();
    let ann = |members: &[wechaty_client::RoomMember]| {
        let ann = members.iter().find(|m| m.contact.id().as_str() == "ann");
        let ann = ann.expect("ann is a member");
        (
            ann.name().map(str::to_owned),
            ann.room_alias().map(str::to_owned),
        )
    };
    let all = || room.member_details(wechaty_client::MemberQuery::All);
    let first = all().await.unwrap();
    assert_eq!(
        ann(&first),
        (Some("Ann".into()), Some("Ali (room nick)".into()))
    );
    let calls = || {
        (
            world.calls("ContactPayload"),
            world.calls("RoomMemberPayload"),
        )
    };
    assert_eq!(calls(), (4, 4));
    assert_eq!(all().await.unwrap(), first);
    // The richer listing also serves the contact-only list.
    assert_eq!(
        room.member_list(wechaty_client::MemberQuery::All)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(calls(), (4, 4), "repeats answer from the listing");

    // Ann renames herself: only her contact payload is fetched again.
    world.add_contact(MockContact::new("ann", "Annie").alias("Ann (alias)"));
    let mut events = bot.events();
    world.emit_json(27, json!({"payloadType": 2, "payloadId": "ann"}));
    dirty_seen(&mut events, 1).await;
    assert_eq!(ann(&all().await.unwrap()).0.as_deref(), Some("Annie"));
    assert_eq!(ids(&room.member_list("Annie").await.unwrap()), ["ann"]);
    assert_eq!(calls(), (5, 4));

    // A new room alias, told by a room-member dirty (the room's id).
    let changed = world
        .room("r1@chatroom")
        .unwrap()
        .room_alias("ann", "Queen Ann");
    world.add_room(changed);
    world.emit_json(27, json!({"payloadType": 4, "payloadId": "r1@chatroom"}));
    dirty_seen(&mut events, 1).await;
    assert_eq!(ann(&all().await.unwrap()).1.as_deref(), Some("Queen Ann"));
    assert_eq!(
        calls(),
        (5, 8),
        "every member payload again, contacts still cached"
    );
}

#[tokio::test]
async fn listings_stay_cached_while_other_rooms_and_contacts_change() {
    let (server, bot) = setup().await;
    let world = server.world();
    let room = bot.room("r1@chatroom");
    let all = || room.member_details(wechaty_client::MemberQuery::All);
    let calls = || {
        (
            world.calls("RoomMemberList"),
            world.calls("RoomMemberPayload"),
            world.calls("ContactPayload"),
        )
    };
    // Another room's joins, leaves and topic changes, and dirties of a contact who is no member
    // of r1: what a busy account sends all the time.
    let flood = |rounds: u64| async move {
        for round in 0..rounds {
            world.emit_json(19, json!({"roomId": "r2@chatroom", "inviteeIdList": ["cora"], "inviterId": "bot", "timestamp": round}));
            world.emit_json(20, json!({"roomId": "r2@chatroom", "removeeIdList": ["cora"], "removerId": "bot", "timestamp": round}));
            world.emit_json(21, json!({"roomId": "r2@chatroom", "newTopic": format!("W{round}"), "oldTopic": "", "timestamp": round}));
            world.emit_json(27, json!({"payloadType": 2, "payloadId": "dan"}));
            world.emit_json(27, json!({"payloadType": 4, "payloadId": "r2@chatroom"}));
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    // A slow cold listing, the flood going on while its lookups are in flight.
    server
        .faults()
        .delay("RoomMemberPayload", Duration::from_millis(40));
    let (first, ()) = tokio::join!(all(), flood(100));
    let first = first.unwrap();
    assert_eq!(first.len(), 4);
    let cold = calls();
    assert_eq!(cold, (1, 4, 4), "one lookup per member");
    // Repeated under the flood: the listing holds, no RPC at all.
    for _ in 0..20 {
        let (again, ()) = tokio::join!(all(), flood(5));
        assert_eq!(again.unwrap(), first);
    }
    assert_eq!(calls(), cold, "another room's events void nothing of r1");

    // A member's own dirty does void it: that contact alone is asked for again.
    let mut events = bot.events();
    world.emit_json(27, json!({"payloadType": 2, "payloadId": "ben"}));
    dirty_seen(&mut events, 1).await;
    all().await.unwrap();
    assert_eq!(calls(), (cold.0, cold.1, cold.2 + 1));
}

#[tokio::test]
async fn a_member_the_service_cannot_describe_is_skipped_and_asked_for_again() {
    let (server, bot) = setup().await;
    let world = server.world();
    world.add_room(MockRoom::new("ghost@chatroom", "Ghosts").members(["ann", "casper"]));
    let room = bot.room("ghost@chatroom");
    let all = || room.member_details(wechaty_client::MemberQuery::All);
    let listed: Vec<String> = all()
        .await
        .unwrap()
        .iter()
        .map(|m| m.contact.id().to_string())
        .collect();
    assert_eq!(listed, ["ann"], "casper is no contact of the world");
    let contact_calls = world.calls("ContactPayload");
    assert_eq!(all().await.unwrap().len(), 1);
    assert_eq!(
        world.calls("ContactPayload"),
        contact_calls + 1,
        "an incomplete listing is not kept: only casper is asked for again"
    );
}

#[tokio::test]
async fn an_unnamed_room_is_called_by_three_other_members() {
    let (server, bot) = setup().await;
    server.world().add_room(
        MockRoom::new("nameless@chatroom", "").members(["bot", "ann", "ben", "cora", "dan"]),
    );
    let room = bot.room("nameless@chatroom");
    assert_eq!(room.topic().await.unwrap(), "Ann,Ben,Cora");
    assert_eq!(room.payload().await.unwrap().topic, None);
}

#[tokio::test]
async fn dirty_events_and_room_events_invalidate_before_subscribers_see_them() {
    let (server, bot) = setup().await;
    let room = bot.room("r2@chatroom");
    let world = server.world();
    assert_eq!(room.topic().await.unwrap(), "Weekend");
    assert_eq!(room.members().await.unwrap().len(), 3);

    // The world changes behind the client's back; only a dirty event tells.
    let mut changed = world.room("r2@chatroom").unwrap();
    changed.topic = "Quiet change".into();
    changed.member_ids.push("cora".into());
    world.add_room(changed);
    assert_eq!(room.topic().await.unwrap(), "Weekend", "still cached");
    let mut events = bot.events();
    world.emit_json(27, json!({"payloadType": 3, "payloadId": "r2@chatroom"}));
    world.emit_json(27, json!({"payloadType": 4, "payloadId": "r2@chatroom"}));
    timeout(WAIT, async {
        let mut dirty = 0;
        while dirty < 2 {
            if let Some(Event::Dirty { .. }) = events.next().await {
                dirty += 1;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(room.topic().await.unwrap(), "Quiet change");
    assert_eq!(room.members().await.unwrap().len(), 4);

    // A join is applied to the caches before the room's subscribers hear of it.
    let mut room_events = room.events();
    room.add(&bot.contact("ann")).await.unwrap();
    let RoomEvent::Join(_) = timeout(WAIT, room_events.next()).await.unwrap().unwrap() else {
        panic!("expected the join")
    };
    assert!(room.has(&bot.contact("ann")).await.unwrap());
}

#[tokio::test]
async fn sync_really_refreshes() {
    let (server, bot) = setup().await;
    let room = bot.room("r1@chatroom");
    assert_eq!(room.topic().await.unwrap(), "Team Room");
    let mut changed = server.world().room("r1@chatroom").unwrap();
    changed.topic = "Synced".into();
    server.world().add_room(changed);
    room.sync().await.unwrap();
    assert_eq!(server.world().calls("DirtyPayload"), 2);
    let dirty = server.world().requests("DirtyPayload");
    assert!(
        dirty[0].contains("r#type: Room,") && dirty[1].contains("r#type: RoomMember,"),
        "{dirty:?}"
    );
    assert_eq!(room.topic().await.unwrap(), "Synced");
}

#[tokio::test]
async fn unknown_ids_are_clear_errors() {
    let (_server, bot) = setup().await;
    let error = bot.room("nope@chatroom").topic().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "RoomPayload failed (Unknown): no payload found for id nope@chatroom"
    );
    assert!(bot.room("nope@chatroom").members().await.is_err());
    assert!(bot
        .room("r1@chatroom")
        .add(&bot.contact("nobody"))
        .await
        .is_err());
    assert!(bot.contact("nobody").name().await.is_err());
}

#[tokio::test]
async fn an_invitation_is_ready_to_use_and_survives_a_json_round_trip() {
    let (server, bot) = setup().await;
    server.world().add_contact(MockContact::new("eve", "Eve"));
    let (invites_tx, mut invites) = tokio::sync::mpsc::unbounded_channel();
    bot.on_room_invite(move |invitation| {
        let invites_tx = invites_tx.clone();
        async move {
            let _ = invites_tx.send(invitation);
            Ok(())
        }
    })
    .detach();
    let mut sent = MockInvitation::new("inv-1", "eve", "new@chatroom", "Eve's Room");
    sent.member_ids = vec!["eve".into(), "ann".into()];
    sent.member_count = 2;
    server.world().invite(sent);

    let invitation = timeout(WAIT, invites.recv()).await.unwrap().unwrap();
    assert_eq!(invitation.id(), "inv-1");
    assert_eq!(
        invitation.inviter().await.unwrap().unwrap().id().as_str(),
        "eve"
    );
    assert_eq!(invitation.topic().await.unwrap(), "Eve's Room");
    assert_eq!(invitation.member_count().await.unwrap(), 2);
    assert_eq!(ids(&invitation.members().await.unwrap()), ["eve", "ann"]);
    assert!(invitation.date().await.unwrap().is_some());
    assert!(invitation.age().await.unwrap() < Duration::from_secs(60));

    let saved = invitation.to_json().await.unwrap();
    assert!(saved.contains(r#""inviterId":"eve""#), "{saved}");
    let restored = wechaty_client::RoomInvitation::from_json(&bot, &saved)
        .await
        .unwrap();
    assert!(server
        .world()
        .requests("RoomInvitationPayload")
        .last()
        .unwrap()
        .contains("payload: \"{"));
    assert_eq!(restored.topic().await.unwrap(), "Eve's Room");

    let mut events = bot.room("new@chatroom").events();
    restored.accept().await.unwrap();
    let RoomEvent::Join(join) = timeout(WAIT, events.next()).await.unwrap().unwrap() else {
        panic!("expected the bot's join")
    };
    assert_eq!(join.invitee_ids, [ContactId::from("bot")]);
    assert!(bot
        .room("new@chatroom")
        .has(&bot.contact("bot"))
        .await
        .unwrap());
    assert!(wechaty_client::RoomInvitation::from_json(&bot, "{}")
        .await
        .is_err());
}

#[tokio::test]
async fn the_mock_world_makes_others_join_leave_and_rename_in_one_call() {
    let (server, bot) = setup().await;
    let world = server.world();
    let room = bot.room("r2@chatroom");
    let mut events = room.events();
    world.join("r2@chatroom", &["ann", "cora"], Some("ben"));
    let RoomEvent::Join(join) = common::next_room(&mut events).await else {
        panic!("a join first");
    };
    assert_eq!(
        join.invitee_ids,
        [ContactId::from("ann"), ContactId::from("cora")]
    );
    assert_eq!(join.inviter_id, Some(ContactId::from("ben")));
    assert!(room.has(&bot.contact("cora")).await.unwrap());

    world.leave("r2@chatroom", &["cora"], None);
    let RoomEvent::Leave(leave) = common::next_room(&mut events).await else {
        panic!("then a leave");
    };
    assert_eq!(leave.removee_ids, [ContactId::from("cora")]);
    assert_eq!(leave.remover_id, None);
    assert!(!room.has(&bot.contact("cora")).await.unwrap());

    world.change_topic("r2@chatroom", "Long Weekend", Some("dan"));
    let RoomEvent::Topic(topic) = common::next_room(&mut events).await else {
        panic!("then a topic change");
    };
    assert_eq!(
        (topic.old_topic.as_str(), topic.new_topic.as_str()),
        ("Weekend", "Long Weekend")
    );
    assert_eq!(topic.changer_id, Some(ContactId::from("dan")));
    assert_eq!(room.topic().await.unwrap(), "Long Weekend");
}

#[tokio::test]
async fn a_member_list_longer_than_any_room_is_refused() {
    let (server, bot) = setup().await;
    let members: Vec<String> = (0..10_001).map(|i| format!("m{i}")).collect();
    server
        .world()
        .add_room(MockRoom::new("huge@chatroom", "Huge").members(members));
    let room = bot.room("huge@chatroom");
    for error in [
        room.member_list(MemberQuery::All).await.unwrap_err(),
        room.payload().await.unwrap_err(),
    ] {
        assert!(matches!(error, Error::InvalidData { .. }), "{error:?}");
        assert!(error.to_string().contains("10001 members"), "{error}");
    }
}
