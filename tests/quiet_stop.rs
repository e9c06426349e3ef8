//! Stopping is quiet: the client's own shutdown is never logged as a failure of the Event
//! stream. Alone in its test binary: it installs the process-wide log subscriber, so that the
//! runtime's other threads log into the capture too.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use wechaty_client::mock::MockWorld;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
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
