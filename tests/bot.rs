//! The `Bot` trait and its runner, and the closure handlers: order within a conversation,
//! concurrency across conversations, survival of failing and panicking handlers, a late
//! handler hearing the current login, handles with names, a clean stop.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::WAIT;
use tokio::sync::mpsc;
use tokio::time::timeout;
use wechaty_client::mock::MockWorld;
use wechaty_client::{
    Bot, ContactSelf, HandlerResult, Message, RoomJoined, RoomTopicChanged, Wechaty,
};

/// Records what it handled, in the order the calls ended; "slow" (a message, or a topic
/// starting so) takes 300 ms, "boom" panics, "fail" returns an error.
struct Recorder {
    done: mpsc::UnboundedSender<String>,
    running: Arc<Mutex<Vec<String>>>,
}

impl Bot for Recorder {
    const MAX_CONCURRENT_HANDLERS: usize = 4;

    async fn on_login(&self, user: ContactSelf) -> HandlerResult {
        let _ = self.done.send(format!("login {}", user.id()));
        Ok(())
    }

    async fn on_message(&self, message: Message) -> HandlerResult {
        if message.is_self().await? {
            return Ok(());
        }
        let text = message.text().await?;
        let conversation = message.conversation_id().await?;
        {
            let mut running = self.running.lock().unwrap();
            assert!(
                !running.contains(&conversation),
                "two calls at once in {conversation}"
            );
            running.push(conversation.clone());
        }
        match text.as_str() {
            "slow" => tokio::time::sleep(Duration::from_millis(300)).await,
            "boom" => {
                self.running.lock().unwrap().retain(|c| c != &conversation);
                panic!("a handler bug");
            }
            "fail" => {
                self.running.lock().unwrap().retain(|c| c != &conversation);
                return Err("a handler error".into());
            }
            _ => {}
        }
        self.running.lock().unwrap().retain(|c| c != &conversation);
        let _ = self.done.send(format!("{conversation}: {text}"));
        Ok(())
    }

    async fn on_room_join(&self, join: RoomJoined) -> HandlerResult {
        let names: Vec<String> = join
            .invitees
            .iter()
            .map(|c| c.cached_name().unwrap_or_else(|| "?".into()))
            .collect();
        let inviter = join.inviter.as_ref().and_then(|c| c.cached_name());
        let _ = self.done.send(format!(
            "join {} {} by {}",
            join.room.id(),
            names.join(","),
            inviter.as_deref().unwrap_or("?")
        ));
        Ok(())
    }

    async fn on_room_topic(&self, topic: RoomTopicChanged) -> HandlerResult {
        if topic.new_topic.starts_with("slow") {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let changer = match &topic.changer {
            Some(changer) => changer.name().await?,
            None => "?".into(),
        };
        let _ = self
            .done
            .send(format!("topic {} by {changer}", topic.new_topic));
        Ok(())
    }
}

fn recorder() -> (Recorder, mpsc::UnboundedReceiver<String>) {
    let (done, reports) = mpsc::unbounded_channel();
    let running = Arc::new(Mutex::new(Vec::new()));
    (Recorder { done, running }, reports)
}

async fn report(reports: &mut mpsc::UnboundedReceiver<String>) -> String {
    timeout(WAIT, reports.recv())
        .await
        .expect("a handler reports in time")
        .expect("the bot runs")
}

/// `bot` running `Recorder` in a task, past its login.
async fn running(
    bot: &Wechaty,
) -> (
    tokio::task::JoinHandle<wechaty_client::Result<()>>,
    mpsc::UnboundedReceiver<String>,
) {
    let (recorder, mut reports) = recorder();
    let runner = tokio::spawn({
        let bot = bot.clone();
        async move { bot.run(recorder).await }
    });
    assert_eq!(report(&mut reports).await, "login bot");
    (runner, reports)
}

#[tokio::test]
async fn calls_keep_their_order_within_a_conversation_and_overlap_across() {
    let server = common::serve("insecure_bot_order", MockWorld::demo()).await;
    let world = server.world();
    let bot = server.bot_builder().build().await.unwrap();
    let (runner, mut reports) = running(&bot).await;

    world.receive_text("ann", Some("r1@chatroom"), "slow");
    world.receive_text("ann", Some("r1@chatroom"), "after slow");
    world.receive_text("ben", Some("r2@chatroom"), "meanwhile");
    world.receive_text("ben", None, "direct");

    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(report(&mut reports).await);
    }
    // r2 and ben's direct chat did not wait behind r1's slow call; r1 kept its order.
    let position = |wanted: &str| order.iter().position(|line| line == wanted).unwrap();
    assert!(position("r1@chatroom: slow") < position("r1@chatroom: after slow"));
    assert!(position("r2@chatroom: meanwhile") < position("r1@chatroom: slow"));
    assert!(position("ben: direct") < position("r1@chatroom: slow"));

    bot.stop();
    timeout(WAIT, runner).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_call_that_waits_holds_its_room_and_not_the_others() {
    // Room events whose people are cached start in the runner itself; one that then waits
    // moves to a worker, still running in its room, while later rooms' calls go on.
    let server = common::serve("insecure_bot_inline", MockWorld::demo()).await;
    let world = server.world();
    let bot = server.bot_builder().build().await.unwrap();
    let (runner, mut reports) = running(&bot).await;
    world.change_topic("r1@chatroom", "warm", Some("ben"));
    assert_eq!(report(&mut reports).await, "topic warm by Ben");

    world.change_topic("r1@chatroom", "slow one", Some("ben"));
    world.change_topic("r1@chatroom", "after it", Some("ben"));
    world.change_topic("r2@chatroom", "meanwhile", Some("ben"));
    let mut order = Vec::new();
    for _ in 0..3 {
        order.push(report(&mut reports).await);
    }
    assert_eq!(
        order,
        [
            "topic meanwhile by Ben",
            "topic slow one by Ben",
            "topic after it by Ben"
        ]
    );
    // Idle again, the next call starts in the runner as the first did.
    world.change_topic("r2@chatroom", "quick", Some("ben"));
    assert_eq!(report(&mut reports).await, "topic quick by Ben");

    bot.stop();
    timeout(WAIT, runner).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_failing_or_panicking_handler_is_logged_and_the_bot_goes_on() {
    let server = common::serve("insecure_bot_panic", MockWorld::demo()).await;
    let world = server.world();
    let bot = server.bot_builder().build().await.unwrap();
    let (runner, mut reports) = running(&bot).await;

    world.receive_text("ann", Some("r1@chatroom"), "boom");
    world.receive_text("ann", Some("r1@chatroom"), "fail");
    world.receive_text("ann", Some("r1@chatroom"), "still here");
    assert_eq!(report(&mut reports).await, "r1@chatroom: still here");
    assert!(!runner.is_finished());

    bot.stop();
    timeout(WAIT, runner).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn room_events_come_with_handles_and_names() {
    let server = common::serve("insecure_bot_rooms", MockWorld::demo()).await;
    let world = server.world();
    let bot = server.bot_builder().build().await.unwrap();
    let (runner, mut reports) = running(&bot).await;

    world.join("r1@chatroom", &["dan"], Some("ann"));
    assert_eq!(
        report(&mut reports).await,
        "join r1@chatroom Dan by Ann",
        "names loaded before the call"
    );
    world.change_topic("r1@chatroom", "Renamed", Some("ben"));
    assert_eq!(report(&mut reports).await, "topic Renamed by Ben");
    // A contact whose payload is cached answers its name without an RPC.
    let before = world.calls("ContactPayload");
    assert_eq!(bot.contact("dan").cached_name().as_deref(), Some("Dan"));
    assert_eq!(bot.contact("dan").name().await.unwrap(), "Dan");
    assert_eq!(world.calls("ContactPayload"), before);
    assert_eq!(bot.contact("nobody").cached_name(), None);

    // A change whose people are all cached is handed on at once, yet still after an earlier
    // one of the same room that waits for a name (Cora's).
    world.join("r1@chatroom", &["cora"], Some("ann"));
    world.change_topic("r1@chatroom", "Again", Some("ben"));
    assert_eq!(report(&mut reports).await, "join r1@chatroom Cora by Ann");
    assert_eq!(report(&mut reports).await, "topic Again by Ben");
    assert_eq!(world.calls("ContactPayload"), before + 1, "Cora's alone");

    bot.stop();
    timeout(WAIT, runner).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_stop_lets_the_running_call_finish() {
    let server = common::serve("insecure_bot_stop", MockWorld::demo()).await;
    let world = server.world();
    let bot = server.bot_builder().build().await.unwrap();
    let (runner, mut reports) = running(&bot).await;

    world.receive_text("ann", None, "slow");
    // The slow call is running: give the runner time to start it, then stop.
    tokio::time::sleep(Duration::from_millis(100)).await;
    bot.stop();
    let ended = timeout(WAIT, runner).await.expect("run returns").unwrap();
    assert!(ended.is_ok(), "a stop is Ok: {ended:?}");
    assert_eq!(report(&mut reports).await, "ann: slow", "it finished");
}

#[tokio::test]
async fn running_a_bot_that_is_logged_in_already_hears_the_login_once() {
    let server = common::serve("insecure_bot_late", MockWorld::demo()).await;
    let (bot, _events) = common::started(server.bot_builder()).await;
    let (recorder, mut reports) = recorder();
    let runner = tokio::spawn({
        let bot = bot.clone();
        async move { bot.run(recorder).await }
    });
    assert_eq!(report(&mut reports).await, "login bot");
    server.world().receive_text("ann", None, "hi");
    assert_eq!(
        report(&mut reports).await,
        "ann: hi",
        "no second login before"
    );
    bot.stop();
    timeout(WAIT, runner).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_rejected_token_is_run_s_error() {
    let server = common::serve("insecure_bot_token", MockWorld::demo()).await;
    let bot = wechaty_client::WechatyBuilder::new()
        .endpoint(server.endpoint())
        .token("insecure_wrong")
        .no_tls(true)
        .build()
        .await
        .unwrap();
    let (recorder, _reports) = recorder();
    let error = timeout(WAIT, bot.run(recorder)).await.unwrap().unwrap_err();
    assert!(
        matches!(error, wechaty_client::Error::Unauthenticated),
        "{error}"
    );
}

#[tokio::test]
async fn closures_return_results_survive_panics_and_hear_the_current_login() {
    let server = common::serve("insecure_closures", MockWorld::demo()).await;
    let world = server.world();
    let (bot, _events) = common::started(server.bot_builder()).await;
    let (done, mut reports) = mpsc::unbounded_channel();

    // Registered after the login: told at once.
    let logins = done.clone();
    bot.on_login(move |user| {
        let logins = logins.clone();
        async move {
            let _ = logins.send(format!("login {}", user.name().await?));
            Ok(())
        }
    })
    .detach();
    assert_eq!(report(&mut reports).await, "login Wechaty Bot");

    let messages = done.clone();
    bot.on_message(move |message| {
        let messages = messages.clone();
        async move {
            match message.text().await?.as_str() {
                "boom" => panic!("a handler bug"),
                "fail" => Err("a handler error".into()),
                text => {
                    let _ = messages.send(text.to_owned());
                    Ok(())
                }
            }
        }
    })
    .detach();
    world.receive_text("ann", None, "boom");
    world.receive_text("ann", None, "fail");
    world.receive_text("ann", None, "fine");
    assert_eq!(report(&mut reports).await, "fine");
}
