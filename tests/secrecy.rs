//! The token never shows: not in errors, `Debug` output or logs. Alone in its test binary:
//! the log capture is a thread-local subscriber, and tests running beside it on other threads
//! could make tracing cache their call sites as disabled before it is installed.

mod common;

use common::capture::Captured;

use wechaty_client::mock::MockWorld;
use wechaty_client::Error;

// current_thread: every task runs on this thread, under the thread-local log subscriber.
#[tokio::test(flavor = "current_thread")]
async fn a_wrong_token_is_a_typed_error_that_never_shows_the_token() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = common::serve("insecure_right-token", MockWorld::demo()).await;
    let secret = "insecure_wrong-s3cret";
    let bot = server.bot_builder().token(secret).build().await.unwrap();

    let error = bot.version().await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated), "{error:?}");
    let stream_error = bot.start().await.unwrap_err();
    assert!(
        matches!(stream_error, Error::Unauthenticated),
        "{stream_error:?}"
    );

    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{bot:?}"),
        format!("{:?}", server.bot_builder().token(secret)),
    ] {
        assert!(!shown.contains("s3cret"), "token leaked: {shown}");
    }
    assert!(error.to_string().contains("WECHATY_PUPPET_SERVICE_TOKEN"));
    let logs = logs.text();
    assert!(!logs.is_empty(), "the subscriber captured nothing");
    assert!(
        !logs.contains("s3cret"),
        "token leaked into the logs:\n{logs}"
    );
}
