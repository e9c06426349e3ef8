//! A room bot, the Rust counterpart of python-wechaty's room bot example:
//!
//! - written as a `Bot` (one method per event), run by `WechatyBuilder::run`;
//! - answers `ding` with `dong`, in rooms and direct chats;
//! - welcomes new members with a mention, and logs topic changes and leaves;
//! - in rooms, understands `/topic NEW`, `/members` and `/announce TEXT`.
//!
//! With `WECHATY_PUPPET_SERVICE_TOKEN` set it connects to that service and runs until Ctrl-C.
//! Without it, it plays `scenarios/room_bot.json` on the embedded mock service, prints what
//! happens, checks the scenario's expectations and exits (0 when all are met). Pass
//! `--forever` to keep it running after the scenario.
//!
//! ```sh
//! cargo run --example room_bot
//! ```

use anyhow::{Context, Result};
use wechaty_client::mock::Scenario;
use wechaty_client::testing::ScenarioRun;
use wechaty_client::{
    Bot, ContactSelf, HandlerResult, MemberQuery, Message, RoomJoined, RoomLeft, RoomTopicChanged,
    Scan, WechatyBuilder, ENV_TOKEN,
};

/// The bot: one method per event it cares about, python-wechaty's `class MyBot(Wechaty)`.
/// The runner calls them concurrently, in order within each room or chat, and logs what fails.
struct RoomBot;

impl Bot for RoomBot {
    async fn on_scan(&self, scan: Scan) -> HandlerResult {
        print!("{scan}"); // the QR code drawn in the terminal, and its page
        Ok(())
    }

    async fn on_login(&self, user: ContactSelf) -> HandlerResult {
        println!("logged in as {} ({})", user.name().await?, user.id());
        Ok(())
    }

    async fn on_message(&self, message: Message) -> HandlerResult {
        if message.is_self().await? {
            return Ok(()); // our own messages come back as events too
        }
        let text = message.text().await?;
        let from = message.talker().await?.name().await?;
        if text == "ding" {
            println!("{from}: ding -> dong");
            message.reply("dong").await?;
            return Ok(());
        }
        let Some(room) = message.room().await? else {
            return Ok(());
        };
        let topic = room.topic().await?;
        if let Some(new_topic) = text.strip_prefix("/topic ") {
            room.set_topic(new_topic).await?;
            println!("{topic}: {from} asked for the topic {new_topic:?}");
            room.say(format!("the topic is now {new_topic}")).await?;
        } else if text == "/members" {
            let members = room.member_details(MemberQuery::All).await?;
            let names: Vec<&str> = members
                .iter()
                .map(|member| member.room_alias().or(member.name()).unwrap_or_default())
                .collect();
            println!("{topic}: {} members", members.len());
            room.say(format!("{} members: {}", members.len(), names.join(", ")))
                .await?;
        } else if let Some(announcement) = text.strip_prefix("/announce ") {
            room.set_announce(announcement).await?;
            println!("{topic}: announcement set");
            room.say(format!("announcement: {announcement}")).await?;
        }
        Ok(())
    }

    async fn on_room_join(&self, join: RoomJoined) -> HandlerResult {
        let me = join.room.bot().current_user_id();
        let newcomers: Vec<_> = join
            .invitees
            .into_iter()
            .filter(|contact| Some(contact.id()) != me.as_ref())
            .collect();
        if !newcomers.is_empty() {
            println!("{}: {} joined", join.room.id(), names(&newcomers));
            join.room
                .say_with_mentions("welcome to the room!", &newcomers)
                .await?;
        }
        Ok(())
    }

    async fn on_room_leave(&self, leave: RoomLeft) -> HandlerResult {
        println!("{}: {} left", leave.room.id(), names(&leave.leavers));
        Ok(())
    }

    async fn on_room_topic(&self, topic: RoomTopicChanged) -> HandlerResult {
        println!(
            "{}: topic {:?} -> {:?}",
            topic.room.id(),
            topic.old_topic,
            topic.new_topic
        );
        Ok(())
    }
}

/// The names of people a room event brought: loaded with the event, so no I/O here.
fn names(contacts: &[wechaty_client::Contact]) -> String {
    contacts
        .iter()
        .map(|contact| {
            contact
                .cached_name()
                .unwrap_or_else(|| contact.id().to_string())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let forever = std::env::args().any(|arg| arg == "--forever");

    if std::env::var(ENV_TOKEN).is_ok_and(|token| !token.is_empty()) {
        println!("connecting to the puppet service; Ctrl-C to stop");
        // Connects, starts, runs until Ctrl-C or SIGTERM (what `docker stop` sends).
        WechatyBuilder::from_env().run(RoomBot).await?;
        println!("bye");
        return Ok(());
    }

    let scenario = Scenario::from_json(include_str!("../scenarios/room_bot.json"))?;
    let run_ = ScenarioRun::start(scenario).await?;
    println!(
        "no {ENV_TOKEN} set: playing scenarios/room_bot.json on the embedded mock service at {}",
        run_.server().endpoint()
    );
    let bot = run_.bot_builder().build().await?;
    let running = tokio::spawn({
        let bot = bot.clone();
        async move { bot.run(RoomBot).await }
    });
    let verdict = run_.play_and_verify().await;
    // Let the bot print its reaction to the last step.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    match &verdict {
        Ok(()) => println!("scenario: every expectation met"),
        Err(error) => println!("scenario: {error}"),
    }
    if forever {
        println!(
            "--forever: still running against {}; Ctrl-C to stop",
            run_.server().endpoint()
        );
        // The runner stops on Ctrl-C or SIGTERM by itself.
        running.await??;
    } else {
        bot.stop();
        running.await??;
    }
    verdict.context("the room bot did not do what the scenario expects")
}
