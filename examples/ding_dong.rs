//! The classic first bot: answers `ding` with `dong`.
//!
//! With `WECHATY_PUPPET_SERVICE_TOKEN` set it connects to that puppet service (the other
//! `WECHATY_PUPPET_SERVICE_*` variables apply) and runs until Ctrl-C; when the account is not
//! logged in yet it prints the QR code to scan with WeChat. Without it, it starts the embedded
//! mock service logged out, shows the mock's QR code, has the mock "scan" it, then has a
//! contact send the bot `ding`, prints the exchange and exits.
//!
//! ```sh
//! cargo run --example ding_dong
//! ```

use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio_stream::StreamExt;
use wechaty_client::mock::{MockPuppetService, MockWorld};
use wechaty_client::{ContactId, Event, Events, Scan, Wechaty, WechatyBuilder, ENV_TOKEN};

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
        let events = bot.events();
        bot.start().await?;
        println!(
            "connected to {}; send `ding` to the bot (Ctrl-C to quit)",
            bot.endpoint()
        );
        tokio::select! {
            result = answer_dings(bot.clone(), events, None) => result?,
            _ = tokio::signal::ctrl_c() => println!("bye"),
        }
        bot.stop();
        return Ok(());
    }

    // Logged out: `start()` gets a QR code, as from a real service before the first login.
    let world = MockWorld::demo();
    world.require_scan("https://example.com/wechaty-mock/login");
    let server = MockPuppetService::builder().world(world).serve().await?;
    println!(
        "no {ENV_TOKEN} set: using the embedded mock puppet service at {}",
        server.endpoint()
    );
    let bot = server.bot_builder().build().await?;
    let events = bot.events();
    bot.start().await?;

    let (replied_tx, mut replied_rx) = tokio::sync::mpsc::channel(1);
    let handler = tokio::spawn(answer_dings(bot.clone(), events, Some(replied_tx)));
    // The mock's phone scans the QR code once it shows, and the bot logs in.
    tokio::time::timeout(Duration::from_secs(10), async {
        while !bot.is_logged_in() {
            if server.world().pending_scan().is_some() {
                server.world().confirm_scan("bot");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .context("the bot did not log in within 10 s")?;
    server.world().receive_text("ann", None, "ding");
    tokio::time::timeout(Duration::from_secs(10), replied_rx.recv())
        .await
        .context("the bot did not answer within 10 s")?;

    let sent = server.world().sent_messages();
    match sent.first() {
        Some(reply) if reply.text == "dong" => {
            println!("the mock recorded the reply: {:?}", reply.text)
        }
        other => bail!("expected the bot to send `dong`, the mock recorded {other:?}"),
    }
    handler.abort();
    bot.stop();
    server.shutdown().await;
    Ok(())
}

/// The bot: every `ding` from someone else gets a `dong` in the same conversation.
async fn answer_dings(
    bot: Wechaty,
    mut events: Events,
    replied: Option<tokio::sync::mpsc::Sender<()>>,
) -> Result<()> {
    let mut me: Option<ContactId> = None;
    while let Some(event) = events.next().await {
        match event {
            // The QR code drawn in the terminal, and its page.
            Event::Scan { .. } => print!("{}", Scan::from_event(&event).expect("a scan")),
            Event::Login { contact_id } => {
                println!("logged in as {contact_id}");
                me = Some(contact_id);
            }
            Event::Message { message_id } => {
                let message = bot.message(message_id);
                let payload = message.payload().await?;
                let talker = payload.talker_id.clone();
                if talker.is_none() || talker == me || payload.text.as_deref() != Some("ding") {
                    continue;
                }
                let talker = talker.map(|id| id.to_string()).unwrap_or_default();
                println!("{talker} -> bot: ding");
                message.reply("dong").await?;
                println!("bot -> {talker}: dong");
                if let Some(replied) = &replied {
                    let _ = replied.send(()).await;
                }
            }
            Event::Lagged { missed } => eprintln!("warning: missed {missed} events"),
            _ => {}
        }
    }
    Ok(())
}
