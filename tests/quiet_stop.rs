//! Stopping is quiet: the client's own shutdown is never logged as a failure of the Event
//! stream. Alone in its test binary: it installs the process-wide log subscriber, so that the
//! runtime's other threads log into the capture too.

mod common;

use common::capture::Captured;

use wechaty_client::mock::MockWorld;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_and_dropping_a_bot_log_no_stream_failure() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    for round in 0..50 {
        let server = common::serve("insecure_quiet", MockWorld::demo()).await;
        let bot = server.bot_builder().build().await.unwrap();
        bot.connect().await.unwrap();
        // Every way a bot ends: stopped, then its service gone; or dropped while connected.
        if round % 2 == 0 {
            bot.stop();
            server.shutdown().await;
        } else {
            drop(bot);
            drop(server);
        }
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let logs = logs.text();
    for noise in [
        "the Event stream failed",
        "ended the Event stream",
        "reconnecting",
    ] {
        assert!(
            !logs.contains(noise),
            "{noise:?} logged on a clean stop:\n{logs}"
        );
    }
}
