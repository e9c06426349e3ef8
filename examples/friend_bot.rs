//! A friend bot, the Rust counterpart of python-wechaty's friendship example:
//!
//! - accepts friend requests that say `ding`, and only those;
//! - gives each new friend an alias (their name, then " (via bot)") and a welcome;
//! - tags them `via-bot`, and prints every friendship event it sees;
//! - prints the QR code to scan with WeChat when the account is not logged in yet.
//!
//! With `WECHATY_PUPPET_SERVICE_TOKEN` set it connects to that service and runs until Ctrl-C.
//! Without it, it plays `scenarios/friend_bot.json` on the embedded mock service, checks the
//! scenario's expectations and exits (0 when all are met).
//!
//! ```sh
//! cargo run --example friend_bot
//! ```

use anyhow::{Context, Result};
use tokio_stream::StreamExt;
use wechaty_client::mock::Scenario;
use wechaty_client::testing::ScenarioRun;
use wechaty_client::{Event, Friendship, FriendshipKind, Scan, Wechaty, WechatyBuilder, ENV_TOKEN};

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
        println!("connecting to the puppet service; Ctrl-C to stop");
        tokio::select! {
            result = run(bot.clone()) => result?,
            _ = tokio::signal::ctrl_c() => println!("bye"),
        }
        bot.stop();
        return Ok(());
    }

    let scenario = Scenario::from_json(include_str!("../scenarios/friend_bot.json"))?;
    let scenario_run = ScenarioRun::start(scenario).await?;
    println!(
        "no {ENV_TOKEN} set: playing scenarios/friend_bot.json on the embedded mock service at {}",
        scenario_run.server().endpoint()
    );
    let bot = scenario_run.bot_builder().build().await?;
    let running = tokio::spawn(run(bot.clone()));
    let verdict = scenario_run.play_and_verify().await;
    match &verdict {
        Ok(()) => println!("scenario: every expectation met"),
        Err(error) => println!("scenario: {error}"),
    }
    running.abort();
    bot.stop();
    verdict.context("the friend bot did not do what the scenario expects")
}

/// The bot itself: only the public API, as in production.
async fn run(bot: Wechaty) -> Result<()> {
    // Both streams before start(): what it brings (a QR code, a request) is not missed.
    let mut friendships = bot.friendships().events();
    let mut events = bot.events();
    bot.start().await?;
    loop {
        tokio::select! {
            friendship = friendships.next() => {
                let Some(friendship) = friendship else { break };
                if let Err(error) = on_friendship(&bot, &friendship).await {
                    eprintln!("could not handle friendship {}: {error}", friendship.id());
                }
            }
            event = events.next() => match event {
                // The QR code drawn in the terminal, and its page.
                Some(event @ Event::Scan { .. }) => print!("{}", Scan::from_event(&event).expect("a scan")),
                Some(Event::Login { contact_id }) => println!("logged in as {contact_id}"),
                Some(_) => {}
                None => break,
            },
        }
    }
    Ok(())
}

async fn on_friendship(bot: &Wechaty, friendship: &Friendship) -> Result<()> {
    let contact = friendship.contact();
    let name = contact.name().await?;
    println!(
        "friendship {}: {} from {name} ({}), saying {:?}",
        friendship.id(),
        friendship.kind(),
        contact.id(),
        friendship.hello()
    );
    match friendship.kind() {
        FriendshipKind::Receive if friendship.hello() == "ding" => {
            friendship.accept().await?;
            println!("accepted {name}");
        }
        FriendshipKind::Receive => println!("not accepted: the request did not say ding"),
        FriendshipKind::Confirm => {
            // Now a friend (accepted by us, or they accepted our request).
            contact
                .set_alias(Some(&format!("{name} (via bot)")))
                .await?;
            contact.say(format!("welcome, {name}")).await?;
            bot.tag("via-bot").add(&contact).await?;
            println!("{name} is a friend now: alias set, welcomed, tagged");
        }
        _ => {}
    }
    Ok(())
}
