//! A bot author's scenario test, as the `testing` docs describe it: passes when the bot does
//! what the scenario expects, fails (naming what was missed) when it does not.

use tokio_stream::StreamExt;
use wechaty_client::mock::Scenario;
use wechaty_client::testing::ScenarioRun;
use wechaty_client::{Error, Event, MessageType, Wechaty};

const SCENARIO: &str = r#"{
  "world": {
    "self": "bot",
    "contacts": [{"id": "bot", "name": "Bot"}, {"id": "ann", "name": "Ann"}],
    "rooms": [{"id": "r1@chatroom", "topic": "Team", "members": ["bot", "ann"]}]
  },
  "timeline": [{"after_ms": 50, "say": {"from": "ann", "room": "r1@chatroom", "text": "ding"}}],
  "expect": [{"within_ms": 1500, "said": {"room": "r1@chatroom", "text": "dong"}}]
}"#;

/// The bot under test.
async fn ding_dong(bot: Wechaty, answer: &'static str) -> wechaty_client::Result<()> {
    let mut events = bot.events();
    bot.start().await?;
    while let Some(event) = events.next().await {
        if let Event::Message { message_id } = event {
            let message = bot.message(message_id);
            if message.payload().await?.text.as_deref() == Some("ding") {
                message.reply(answer).await?;
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_bot_that_answers_passes() {
    let run = ScenarioRun::start(Scenario::from_json(SCENARIO).unwrap())
        .await
        .unwrap();
    let bot = run.bot_builder().build().await.unwrap();
    tokio::spawn(ding_dong(bot, "dong"));
    run.play_and_verify().await.unwrap();
}

#[tokio::test]
async fn a_bot_that_answers_wrong_fails_with_what_it_missed() {
    let run = ScenarioRun::start(Scenario::from_json(SCENARIO).unwrap())
        .await
        .unwrap();
    let bot = run.bot_builder().build().await.unwrap();
    tokio::spawn(ding_dong(bot, "pong"));
    let error = run.play_and_verify().await.unwrap_err();
    let Error::ScenarioFailed(unmet) = &error else {
        panic!("expected a scenario failure, got {error:?}")
    };
    assert_eq!(unmet.len(), 1);
    assert!(
        unmet[0].contains(r#"said "dong" in r1@chatroom"#),
        "{}",
        unmet[0]
    );
}

#[tokio::test]
async fn no_bot_at_all_is_reported() {
    let scenario = Scenario::from_json(SCENARIO).unwrap();
    let run = ScenarioRun::start(scenario).await.unwrap();
    tokio::time::pause();
    let error = run.play_and_verify().await.unwrap_err();
    assert!(
        error.to_string().contains("no bot opened the Event stream"),
        "{error}"
    );
}

#[tokio::test]
async fn the_shipped_room_bot_scenario_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/room_bot.json");
    let scenario = Scenario::from_file(path).unwrap();
    let world = scenario.world();
    assert_eq!(world.current_user().unwrap().as_str(), "bot");
    assert_eq!(world.room("r1@chatroom").unwrap().topic, "Team Room");
    assert!(Scenario::from_file("/no/such/scenario.json").is_err());
}

/// A bot that accepts friend requests saying "ding", gives the new friend an alias and
/// greets them: what `scenarios/friend_bot.json` expects.
async fn friend_bot(bot: Wechaty, alias_suffix: &'static str) -> wechaty_client::Result<()> {
    let mut friendships = bot.friendships().events();
    bot.start().await?;
    while let Some(friendship) = friendships.next().await {
        if friendship.kind() == wechaty_client::FriendshipKind::Receive
            && friendship.hello() == "ding"
        {
            friendship.accept().await?;
            let contact = friendship.contact();
            let name = contact.name().await?;
            contact
                .set_alias(Some(&format!("{name}{alias_suffix}")))
                .await?;
            contact.say(format!("welcome, {name}")).await?;
        }
    }
    Ok(())
}

#[tokio::test]
async fn the_friend_bot_scenario_passes_and_names_what_a_wrong_bot_missed() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/friend_bot.json");
    let scenario = Scenario::from_file(path).unwrap();
    let world = scenario.world();
    assert_eq!(world.tags_of("ann"), ["team"]);
    let erin = world.contact("erin").unwrap();
    assert!(!erin.friend);
    assert_eq!(erin.handle.as_deref(), Some("erin_w"));
    assert_eq!(world.contact("ann").unwrap().phones, ["13800000001"]);

    let run = ScenarioRun::start(scenario.clone()).await.unwrap();
    let bot = run.bot_builder().build().await.unwrap();
    tokio::spawn(friend_bot(bot, " (via bot)"));
    run.play_and_verify().await.unwrap();

    let run = ScenarioRun::start(scenario).await.unwrap();
    let bot = run.bot_builder().build().await.unwrap();
    tokio::spawn(friend_bot(bot, " (wrong)"));
    let error = run.play_and_verify().await.unwrap_err();
    let Error::ScenarioFailed(unmet) = &error else {
        panic!("expected a scenario failure, got {error:?}")
    };
    assert_eq!(
        unmet,
        &[r#"the bot never set the alias of erin to "Erin (via bot)" within 3000 ms"#]
    );
}

#[tokio::test]
async fn a_bot_that_ignores_friend_requests_is_told_so() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/friend_bot.json");
    let run = ScenarioRun::start(Scenario::from_file(path).unwrap())
        .await
        .unwrap();
    let bot = run.bot_builder().build().await.unwrap();
    bot.start().await.unwrap();
    let error = run.play_and_verify().await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the bot never accepted the friendship of erin within 3000 ms"),
        "{error}"
    );
}

#[test]
fn an_expectation_needs_exactly_one_check() {
    let none =
        Scenario::from_json(r#"{"world":{"self":"b"},"expect":[{"within_ms":1}]}"#).unwrap_err();
    assert!(none.to_string().contains("exactly one of said"), "{none}");
}

/// Mentions, a location, a recall and a duplicate delivery, as scenario steps: a bot that
/// answers a mention with its mention text, and tells what it sees of the rest.
#[tokio::test]
async fn mentions_locations_recalls_and_duplicates_as_steps() {
    const STEPS: &str = r#"{
      "world": {
        "self": "bot",
        "contacts": [{ "id": "bot", "name": "Bot" }, { "id": "ann", "name": "Ann" }],
        "rooms": [{ "id": "r1@chatroom", "topic": "Team", "members": ["bot", "ann"] }]
      },
      "timeline": [
        { "after_ms": 100, "say": { "from": "ann", "room": "r1@chatroom", "text": "weather?", "mentions": ["bot"] } },
        { "after_ms": 100, "redeliver": { "from": "ann" } },
        { "after_ms": 100, "location": { "from": "ann", "name": "Office", "latitude": 48.85, "longitude": 2.35 } },
        { "after_ms": 100, "recall": { "from": "ann" } }
      ],
      "expect": [
        { "within_ms": 3000, "said": { "room": "r1@chatroom", "text": "you asked: weather?" } },
        { "within_ms": 3000, "said": { "to": "ann", "text": "Office at 48.85, 2.35" } },
        { "within_ms": 3000, "said": { "to": "ann", "text": "you took back a Location message" } }
      ]
    }"#;
    let run = ScenarioRun::start(Scenario::from_json(STEPS).unwrap())
        .await
        .unwrap();
    let bot = run.bot_builder().build().await.unwrap();
    bot.on_message(|message| async move {
        if message.is_self().await? {
            return Ok(());
        }
        match message.kind().await? {
            MessageType::Text if message.mention_self().await? => {
                let question = message.mention_text().await?;
                message.reply(format!("you asked: {question}")).await?;
            }
            MessageType::Location => {
                let place = message.to_location().await?;
                let answer = format!("{} at {}, {}", place.name, place.latitude, place.longitude);
                message.reply(answer).await?;
            }
            MessageType::Recalled => {
                if let Some(original) = message.to_recalled().await? {
                    let kind = original.kind().await?;
                    message
                        .reply(format!("you took back a {kind:?} message"))
                        .await?;
                }
            }
            _ => {}
        }
        Ok(())
    })
    .detach();
    bot.start().await.unwrap();
    run.play_and_verify().await.unwrap();
    // The duplicate reached no handler: one answer to the mention.
    let answers = run
        .server()
        .world()
        .sent_messages()
        .into_iter()
        .filter(|m| m.text == "you asked: weather?")
        .count();
    assert_eq!(answers, 1);
    assert_eq!(bot.statistics().duplicate_messages, 1);
}
