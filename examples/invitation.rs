//! Accepting room invitations: each `room-invite` arrives as a ready-to-use `RoomInvitation`.
//!
//! With `WECHATY_PUPPET_SERVICE_TOKEN` set it accepts every invitation of that service until
//! Ctrl-C. Without it, the embedded mock service sends the bot an invitation; the bot prints it,
//! accepts it, sees itself join the room and exits.
//!
//! ```sh
//! cargo run --example invitation
//! ```

use std::time::Duration;

use anyhow::{Context, Result};
use wechaty_client::mock::{MockContact, MockInvitation, MockPuppetService, MockWorld};
use wechaty_client::{RoomInvitation, WechatyBuilder, ENV_TOKEN};

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
        bot.on_room_invite(|invitation| async move {
            accept(&invitation).await?; // an error is logged, and the bot goes on
            Ok(())
        })
        .detach();
        bot.start().await?;
        println!("accepting every room invitation; Ctrl-C to stop");
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
    let (accepted_tx, mut accepted) = tokio::sync::mpsc::channel(1);
    bot.on_room_invite(move |invitation| {
        let accepted_tx = accepted_tx.clone();
        async move {
            accept(&invitation).await?;
            let _ = accepted_tx.send(()).await;
            Ok(())
        }
    })
    .detach();
    let mut joins = bot.room("party@chatroom").events();
    bot.start().await?;

    server.world().add_contact(MockContact::new("eve", "Eve"));
    let mut invitation = MockInvitation::new("inv-1", "eve", "party@chatroom", "Eve's Party");
    invitation.member_ids = vec!["eve".into(), "ann".into()];
    invitation.member_count = 2;
    server.world().invite(invitation);

    tokio::time::timeout(Duration::from_secs(10), accepted.recv())
        .await
        .context("no invitation arrived")?;
    let joined = tokio::time::timeout(
        Duration::from_secs(10),
        tokio_stream::StreamExt::next(&mut joins),
    )
    .await
    .context("the bot did not join")?;
    if let Some(wechaty_client::RoomEvent::Join(join)) = joined {
        println!(
            "the bot joined {} (invited by {})",
            join.room_id,
            join.inviter_id
                .as_ref()
                .map(|id| id.to_string())
                .unwrap_or_default()
        );
    }
    bot.stop();
    Ok(())
}

async fn accept(invitation: &RoomInvitation) -> wechaty_client::Result<()> {
    let inviter = match invitation.inviter().await? {
        Some(inviter) => inviter.name().await?,
        None => "someone".into(),
    };
    println!(
        "{inviter} invites the bot to {:?} ({} members)",
        invitation.topic().await?,
        invitation.member_count().await?
    );
    invitation.accept().await?;
    println!("accepted");
    Ok(())
}
