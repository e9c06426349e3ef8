//! A room bot, the Rust counterpart of python-wechaty's room bot example:
//!
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
use tokio_stream::StreamExt;
use wechaty_client::mock::Scenario;
use wechaty_client::testing::ScenarioRun;
use wechaty_client::{ContactId, Event, Message, Wechaty, WechatyBuilder, ENV_TOKEN};

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
        let bot = WechatyBuilder::from_env().build().await?;
        println!("connecting to the puppet service; Ctrl-C to stop");
        tokio::select! {
            result = run(bot.clone()) => result?,
            () = shutdown() => println!("bye"),
        }
        bot.stop();
        return Ok(());
    }

    let scenario = Scenario::from_json(include_str!("../scenarios/room_bot.json"))?;
    let run_ = ScenarioRun::start(scenario).await?;
    println!(
        "no {ENV_TOKEN} set: playing scenarios/room_bot.json on the embedded mock service at {}",
        run_.server().endpoint()
    );
    let bot = run_.bot_builder().build().await?;
    let running = tokio::spawn(run(bot.clone()));
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
        shutdown().await;
    }
    running.abort();
    bot.stop();
    verdict.context("the room bot did not do what the scenario expects")
}

/// Ctrl-C, or SIGTERM (what `docker stop` sends).
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// The bot itself: only the public API, as in production.
async fn run(bot: Wechaty) -> Result<()> {
    let mut events = bot.events();
    bot.start().await?;
    let mut me: Option<ContactId> = None;
    while let Some(event) = events.next().await {
        match event {
            Event::Login { contact_id } => {
                println!("logged in as {contact_id}");
                me = Some(contact_id);
            }
            Event::Message { message_id } => {
                let message = bot.message(message_id);
                if let Err(error) = on_message(&bot, &message, me.as_ref()).await {
                    eprintln!("could not handle a message: {error}");
                }
            }
            Event::RoomJoin(join) => {
                let room = bot.room(join.room_id.clone());
                let newcomers: Vec<_> = join
                    .invitee_ids
                    .iter()
                    .filter(|id| Some(*id) != me.as_ref())
                    .map(|id| bot.contact(id.clone()))
                    .collect();
                if !newcomers.is_empty() {
                    println!("{}: {} joined", join.room_id, list(&join.invitee_ids));
                    room.say_with_mentions("welcome to the room!", &newcomers)
                        .await?;
                }
            }
            Event::RoomLeave(leave) => {
                println!("{}: {} left", leave.room_id, list(&leave.removee_ids));
            }
            Event::RoomTopic(topic) => {
                println!(
                    "{}: topic {:?} -> {:?}",
                    topic.room_id, topic.old_topic, topic.new_topic
                );
            }
            Event::Reconnected => println!("reconnected to the puppet service"),
            _ => {}
        }
    }
    Ok(())
}

async fn on_message(bot: &Wechaty, message: &Message, me: Option<&ContactId>) -> Result<()> {
    let payload = message.payload().await?;
    if payload.talker_id.as_ref() == me {
        return Ok(()); // our own messages come back as events too
    }
    let text = payload.text.unwrap_or_default();
    let from = payload
        .talker_id
        .map(|id| id.to_string())
        .unwrap_or_default();
    if text == "ding" {
        println!("{from}: ding -> dong");
        message.reply("dong").await?;
        return Ok(());
    }
    let Some(room_id) = payload.room_id else {
        return Ok(());
    };
    let room = bot.room(room_id.clone());
    if let Some(topic) = text.strip_prefix("/topic ") {
        room.set_topic(topic).await?;
        println!("{room_id}: {from} asked for the topic {topic:?}");
        room.say(format!("the topic is now {topic}")).await?;
    } else if text == "/members" {
        let members = room
            .member_details(wechaty_client::MemberQuery::All)
            .await?;
        let names: Vec<String> = members
            .iter()
            .map(|member| {
                member
                    .room_alias()
                    .or(member.name())
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        println!("{room_id}: {} members", members.len());
        room.say(format!("{} members: {}", members.len(), names.join(", ")))
            .await?;
    } else if let Some(announcement) = text.strip_prefix("/announce ") {
        room.set_announce(announcement).await?;
        println!("{room_id}: announcement set");
        room.say(format!("announcement: {announcement}")).await?;
    }
    Ok(())
}

fn list(ids: &[ContactId]) -> String {
    ids.iter()
        .map(ContactId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}
