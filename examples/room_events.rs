//! One stream per room: each room's events go to its own task, never to another room's.
//!
//! With `WECHATY_PUPPET_SERVICE_TOKEN` set it follows every room of that service until Ctrl-C.
//! Without it, it starts the embedded mock service, follows its two demo rooms, makes things
//! happen in both, prints what each room's stream saw and exits.
//!
//! ```sh
//! cargo run --example room_events
//! ```

use std::time::Duration;

use anyhow::Result;
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockPuppetService, MockWorld};
use wechaty_client::{Room, RoomEvent, RoomQuery, Wechaty, WechatyBuilder, ENV_TOKEN};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    if std::env::var(ENV_TOKEN).is_ok_and(|token| !token.is_empty()) {
        let bot = WechatyBuilder::from_env().build().await?;
        bot.start().await?;
        follow_every_room(&bot).await?;
        tokio::signal::ctrl_c().await?;
        bot.stop();
        return Ok(());
    }

    let server = MockPuppetService::builder()
        .world(MockWorld::demo())
        .serve()
        .await?;
    println!(
        "no {ENV_TOKEN} set: using the embedded mock service at {}",
        server.endpoint()
    );
    let bot = server.bot_builder().build().await?;
    bot.start().await?;
    follow_every_room(&bot).await?;

    // Things happen in both rooms; each stream sees only its own.
    let team = bot.room("r1@chatroom");
    let weekend = bot.room("r2@chatroom");
    team.add(&bot.contact("dan")).await?;
    weekend.set_topic("Long Weekend").await?;
    server
        .world()
        .receive_text("ann", Some("r1@chatroom"), "hello team");
    team.remove(&bot.contact("dan")).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    bot.stop();
    Ok(())
}

/// A task per room, printing that room's events.
async fn follow_every_room(bot: &Wechaty) -> Result<()> {
    for room in bot.rooms().find_all(RoomQuery::All).await? {
        let topic = room.topic().await?;
        println!("following {} ({topic})", room.id());
        tokio::spawn(follow(room, topic));
    }
    Ok(())
}

async fn follow(room: Room, topic: String) {
    let mut events = room.events();
    while let Some(event) = events.next().await {
        let what = match event {
            RoomEvent::Join(join) => format!("{} joined", names(&join.invitee_ids)),
            RoomEvent::Leave(leave) => format!("{} left", names(&leave.removee_ids)),
            RoomEvent::Topic(change) => {
                format!("topic {:?} -> {:?}", change.old_topic, change.new_topic)
            }
            RoomEvent::Announce(change) => format!("announcement {:?}", change.new_announce),
            RoomEvent::Message(message) => match message.payload().await {
                Ok(payload) => format!("message {:?}", payload.text.unwrap_or_default()),
                Err(error) => format!("a message I could not read: {error}"),
            },
            RoomEvent::Reconnected => "reconnected".into(),
            RoomEvent::Lagged { missed } => format!("missed {missed} events"),
            _ => continue,
        };
        println!("[{topic}] {what}");
    }
}

fn names(ids: &[wechaty_client::ContactId]) -> String {
    ids.iter()
        .map(|id| id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
