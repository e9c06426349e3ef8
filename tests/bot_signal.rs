//! A running `Bot` stops cleanly on SIGTERM (what `docker stop` sends): the running call
//! finishes, `run` returns `Ok`. Alone in its test binary, since the signal goes to the whole
//! process.

#![cfg(unix)]

mod common;

use std::time::Duration;

use common::WAIT;
use tokio::sync::mpsc;
use tokio::time::timeout;
use wechaty_client::mock::MockWorld;
use wechaty_client::{Bot, ContactSelf, HandlerResult, Message};

struct Slow {
    done: mpsc::UnboundedSender<String>,
}

impl Bot for Slow {
    async fn on_login(&self, _user: ContactSelf) -> HandlerResult {
        let _ = self.done.send("login".into());
        Ok(())
    }

    async fn on_message(&self, message: Message) -> HandlerResult {
        let _ = self.done.send("started".into());
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = self
            .done
            .send(format!("finished {}", message.text().await?));
        Ok(())
    }
}

#[tokio::test]
async fn sigterm_stops_a_running_bot_cleanly() {
    let server = common::serve("insecure_bot_sigterm", MockWorld::demo()).await;
    let bot = server.bot_builder().build().await.unwrap();
    let (done, mut reports) = mpsc::unbounded_channel();
    let runner = tokio::spawn({
        let bot = bot.clone();
        async move { bot.run(Slow { done }).await }
    });
    assert_eq!(next(&mut reports).await, "login");
    server.world().receive_text("ann", None, "work");
    assert_eq!(next(&mut reports).await, "started");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());

    let ended = timeout(WAIT, runner).await.expect("run returns").unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    assert_eq!(
        next(&mut reports).await,
        "finished work",
        "the running call finished"
    );
    assert!(bot.start().await.is_err(), "the bot was stopped");
}

async fn next(reports: &mut mpsc::UnboundedReceiver<String>) -> String {
    timeout(WAIT, reports.recv()).await.unwrap().unwrap()
}
