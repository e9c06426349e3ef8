//! Workers (`WechatyBuilder::events_from_nats`) against the mock service, a relay and a real
//! nats-server (skipped, with a message, when nats-server is not installed): each event
//! handled once per group and in order per room with several workers, a killed worker's
//! events handled by another, nothing lost while no worker runs or across a nats-server
//! restart.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::nats::{unique_stream, NatsServer};
use common::{serve, WAIT};
use tokio::time::timeout;
use wechaty_client::mock::{MockRoom, MockServer, MockWorld};
use wechaty_client::relay::{Relay, RelayOptions, RelayState, WorkerOptions};
use wechaty_client::{Bot, ContactSelf, HandlerResult, Message, Wechaty, WechatyBuilder};

const ROOMS: usize = 6;

/// The mock service (with [`ROOMS`] rooms `w0@chatroom` …) and a relay of its Event stream.
struct Relaying {
    world: MockWorld,
    server: MockServer,
    _relay_bot: Wechaty,
    relay: Relay,
    stream: String,
    url: String,
}

async fn relaying(nats: &NatsServer, name: &str) -> Relaying {
    // `RUST_LOG=wechaty_client=debug` shows what the relay and the workers did.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let world = MockWorld::demo();
    for room in 0..ROOMS {
        world.add_room(
            MockRoom::new(format!("w{room}@chatroom"), format!("Room {room}"))
                .members(["bot", "ann", "ben"]),
        );
    }
    let server = serve("worker-token", world.clone()).await;
    let relay_bot = server.bot_builder().build().await.expect("valid settings");
    let stream = unique_stream(name);
    let relay = Relay::start(&relay_bot, RelayOptions::new(nats.url()).stream(&stream))
        .await
        .expect("the relay starts");
    timeout(
        WAIT,
        relay
            .state()
            .wait_for(|state| *state == RelayState::Relaying),
    )
    .await
    .expect("the relay relays")
    .expect("the relay runs");
    Relaying {
        world,
        server,
        _relay_bot: relay_bot,
        relay,
        stream,
        url: nats.url(),
    }
}

impl Relaying {
    /// A worker of `group`, quick to lapse and to redeliver.
    fn worker(&self, group: &str, name: &str) -> WechatyBuilder {
        self.server.bot_builder().worker(
            WorkerOptions::new(&self.url, group)
                .stream(&self.stream)
                .name(name)
                .lease(Duration::from_millis(900))
                .ack_wait(Duration::from_secs(2)),
        )
    }

    /// `count` messages, spread over the rooms in turn: `w{room} #{n}`, `n` counting per room.
    fn send(&self, from: usize, count: usize) {
        for n in from..from + count {
            let room = n % ROOMS;
            self.world.receive_text(
                "ann",
                Some(&format!("w{room}@chatroom")),
                format!("w{room} #{}", n / ROOMS),
            );
        }
    }
}

/// What the workers handled: (worker, text), in the order they handled it.
#[derive(Clone, Default)]
struct Handled(Arc<Mutex<Vec<(String, String)>>>);

impl Handled {
    fn all(&self) -> Vec<(String, String)> {
        self.0.lock().unwrap().clone()
    }

    /// The messages handled (not the logins).
    fn messages(&self) -> Vec<(String, String)> {
        let mut all = self.all();
        all.retain(|(_, text)| !text.starts_with("login "));
        all
    }

    fn logins(&self) -> Vec<(String, String)> {
        let mut all = self.all();
        all.retain(|(_, text)| text.starts_with("login "));
        all
    }

    /// Waits until `count` messages were handled.
    async fn reach(&self, count: usize) {
        let reached = timeout(Duration::from_secs(30), async {
            while self.messages().len() < count {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        let handled = self.messages().len();
        assert!(reached.is_ok(), "only {handled} of {count} events handled");
    }

    /// Each text once, and each room's in order.
    fn assert_once_and_in_order(&self, expected: usize) {
        let handled = self.messages();
        let texts: Vec<&str> = handled.iter().map(|(_, text)| text.as_str()).collect();
        let unique: HashSet<&str> = texts.iter().copied().collect();
        assert_eq!(unique.len(), texts.len(), "handled twice: {texts:?}");
        assert_eq!(texts.len(), expected, "{texts:?}");
        let mut last: BTreeMap<&str, i64> = BTreeMap::new();
        for text in texts {
            let (room, n) = text.split_once(" #").expect("w{room} #{n}");
            let n: i64 = n.parse().expect("a number");
            let before = last.insert(room, n).unwrap_or(-1);
            assert!(n > before, "{room}: #{n} after #{before}");
        }
    }

    fn workers(&self) -> HashSet<String> {
        self.messages()
            .into_iter()
            .map(|(worker, _)| worker)
            .collect()
    }
}

/// Records each message it handles, after a moment's work (so that events overlap).
struct Recorder {
    name: String,
    handled: Handled,
    /// Never returns from a handler (a worker that hangs, then dies).
    hang: bool,
}

impl Bot for Recorder {
    async fn on_login(&self, user: ContactSelf) -> HandlerResult {
        let text = format!("login {}", user.id());
        self.handled
            .0
            .lock()
            .unwrap()
            .push((self.name.clone(), text));
        Ok(())
    }

    async fn on_message(&self, message: Message) -> HandlerResult {
        let text = message.text().await?;
        self.handled
            .0
            .lock()
            .unwrap()
            .push((self.name.clone(), text));
        if self.hang {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
        Ok(())
    }
}

/// Runs `builder` as a worker with a [`Recorder`] until the returned bot is stopped.
async fn run_worker(builder: WechatyBuilder, name: &str, handled: &Handled) -> Wechaty {
    let bot = builder.build().await.expect("valid settings");
    let recorder = Recorder {
        name: name.into(),
        handled: handled.clone(),
        hang: false,
    };
    let running = bot.clone();
    tokio::spawn(async move { running.run(recorder).await });
    bot
}

async fn stop(bot: Wechaty) {
    bot.stop();
    timeout(WAIT, bot.stopped())
        .await
        .expect("the worker leaves its group in time");
}

#[tokio::test]
async fn each_event_reaches_one_worker_of_each_group_in_room_order() {
    let Some(nats) = NatsServer::shared("each_event_reaches_one_worker") else {
        return;
    };
    let relaying = relaying(&nats, "GROUPS").await;
    let handled = Handled::default();
    let mut workers = Vec::new();
    for name in ["a", "b", "c"] {
        workers.push(run_worker(relaying.worker("room-bots", name), name, &handled).await);
    }
    // Another group hears every event too.
    let audit = Handled::default();
    let auditor = run_worker(relaying.worker("audit", "auditor"), "auditor", &audit).await;
    // The first worker took every partition; the others get theirs as it hands them back.
    tokio::time::sleep(Duration::from_secs(3)).await;

    relaying.send(0, 240);
    handled.reach(240).await;
    audit.reach(240).await;
    // Anything handled twice would come within the redelivery time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    handled.assert_once_and_in_order(240);
    audit.assert_once_and_in_order(240);
    let busy = handled.workers();
    assert!(busy.len() >= 2, "the group shared the work: {busy:?}");
    assert_eq!(audit.workers().len(), 1);
    // The login: handled by one worker of each group, known to every worker.
    assert_eq!(handled.logins().len(), 1, "{:?}", handled.logins());
    assert_eq!(audit.logins().len(), 1, "{:?}", audit.logins());
    for worker in &workers {
        assert_eq!(
            worker.current_user_id().as_ref().map(|id| id.as_str()),
            Some("bot")
        );
    }

    for worker in workers {
        stop(worker).await;
    }
    stop(auditor).await;
    drop(relaying.relay);
}

#[tokio::test]
async fn a_killed_workers_events_are_handled_by_another_in_order() {
    let Some(nats) = NatsServer::shared("a_killed_workers_events") else {
        return;
    };
    let relaying = relaying(&nats, "KILLED").await;
    let handled = Handled::default();

    // The first worker runs in a runtime of its own, so that it can die at once: no
    // acknowledgement, no goodbye. Its handlers hang, so every event it took stays out.
    let doomed = relaying.worker("room-bots", "doomed");
    let doomed_handled = handled.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (kill_tx, kill_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let bot = doomed.build().await.expect("valid settings");
            let recorder = Recorder {
                name: "doomed".into(),
                handled: doomed_handled,
                hang: true,
            };
            tokio::spawn(async move { bot.run(recorder).await });
            ready_tx.send(()).expect("the test waits");
        });
        kill_rx.recv().expect("the test kills it");
        runtime.shutdown_background();
    });
    ready_rx.recv().expect("the doomed worker started");
    tokio::time::sleep(Duration::from_secs(1)).await;

    relaying.send(0, 60);
    // One hanging handler per room: it has six events at hand, the rest wait behind them.
    handled.reach(ROOMS).await;
    kill_tx.send(()).expect("the worker runs");
    thread.join().expect("the runtime shut down");
    let seen_by_the_dead: Vec<String> = handled
        .messages()
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    handled.0.lock().unwrap().clear();

    let survivor = run_worker(
        relaying.worker("room-bots", "survivor"),
        "survivor",
        &handled,
    )
    .await;
    // After the dead worker's leases lapse and its events' acknowledgement time passes.
    handled.reach(60).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    handled.assert_once_and_in_order(60);
    for text in &seen_by_the_dead {
        assert!(
            handled
                .messages()
                .iter()
                .any(|(_, handled)| handled == text),
            "{text} came back"
        );
    }
    stop(survivor).await;
}

#[tokio::test]
async fn events_published_while_no_worker_runs_come_when_one_does() {
    let Some(nats) = NatsServer::shared("events_published_while_no_worker_runs") else {
        return;
    };
    let relaying = relaying(&nats, "RESTART").await;
    let handled = Handled::default();
    let first = run_worker(relaying.worker("room-bots", "first"), "first", &handled).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    relaying.send(0, 30);
    handled.reach(30).await;
    stop(first).await;

    // A deploy: nobody runs while these come.
    relaying.send(30, 30);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second = run_worker(relaying.worker("room-bots", "second"), "second", &handled).await;
    handled.reach(60).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    handled.assert_once_and_in_order(60);
    let by_second = handled
        .messages()
        .iter()
        .filter(|(worker, _)| worker == "second")
        .count();
    assert_eq!(
        by_second, 30,
        "the second worker got what came while none ran"
    );
    stop(second).await;
}

#[tokio::test]
async fn nothing_is_lost_across_a_nats_server_restart() {
    // A server of this test's own: it is killed and started again.
    let Some(mut nats) = NatsServer::start("nothing_is_lost_across_a_nats_server_restart") else {
        return;
    };
    let relaying = relaying(&nats, "NATSRESTART").await;
    let handled = Handled::default();
    let worker = run_worker(relaying.worker("room-bots", "only"), "only", &handled).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    relaying.send(0, 30);
    handled.reach(30).await;

    nats.stop();
    // Published while NATS is away: the relay holds them, then JetStream has them.
    relaying.send(30, 30);
    tokio::time::sleep(Duration::from_secs(1)).await;
    nats.restart();
    handled.reach(60).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    handled.assert_once_and_in_order(60);
    stop(worker).await;
}

#[tokio::test]
async fn the_login_the_service_replays_to_a_reconnecting_relay_calls_no_handler() {
    let Some(nats) = NatsServer::shared("the_login_the_service_replays") else {
        return;
    };
    let mut relaying = relaying(&nats, "REPLAY").await;
    let handled = Handled::default();
    let worker = run_worker(relaying.worker("room-bots", "only"), "only", &handled).await;
    relaying.send(0, 6);
    handled.reach(6).await;
    assert_eq!(handled.logins().len(), 1, "{:?}", handled.all());

    // The service goes and comes back: the relay's new stream starts with the service's
    // replay of login and ready.
    let port = relaying.server.addr().port();
    let world = relaying.world.clone();
    let relayed = relaying.relay.statistics().relayed;
    relaying.server.shutdown().await;
    relaying.server = common::serve_on(port, "worker-token", world).await;
    // Once the relay has the new stream's first events (the service drops what comes before).
    timeout(WAIT, async {
        while relaying.relay.statistics().relayed < relayed + 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the relay reconnects");
    relaying.send(6, 6);
    handled.reach(12).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(handled.logins().len(), 1, "{:?}", handled.all());
    handled.assert_once_and_in_order(12);
    stop(worker).await;
}
