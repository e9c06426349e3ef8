//! Every unary RPC runs in a DEBUG span with its method, status code and duration, under
//! OpenTelemetry's RPC field names. Alone in its test binary: the log capture is a
//! thread-local subscriber, and tests running beside it on other threads could make tracing
//! cache the span's call site as disabled before it is installed.

mod common;

use common::capture::Captured;
use wechaty_client::mock::MockWorld;
use wechaty_client::Code;

const TOKEN: &str = "insecure_spans";

#[tokio::test]
async fn every_unary_call_has_a_debug_span_with_method_code_and_duration() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    // This test's thread only (a current-thread runtime): other tests log elsewhere.
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = common::serve(TOKEN, MockWorld::demo()).await;
    let bot = server.bot_builder().build().await.unwrap();
    bot.version().await.unwrap();
    server.faults().fail_next("Version", Code::NotFound, "gone");
    assert!(bot.version().await.is_err());
    drop(_guard);

    let logs = logs.text();
    let closed: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("rpc{") && line.contains("close"))
        .collect();
    assert_eq!(closed.len(), 2, "{logs}");
    for line in &closed {
        for field in [
            "rpc.system=\"grpc\"",
            "rpc.service=\"wechaty.Puppet\"",
            "rpc.method=\"Version\"",
            "rpc.client.duration_ms=",
        ] {
            assert!(line.contains(field), "{field} in {line}");
        }
    }
    assert!(
        closed[0].contains("rpc.grpc.status_code=0"),
        "{}",
        closed[0]
    );
    assert!(
        closed[1].contains("rpc.grpc.status_code=5"),
        "{}",
        closed[1]
    );
    assert!(!logs.contains(TOKEN), "the token is never logged");
}
