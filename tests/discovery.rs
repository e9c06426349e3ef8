//! Discovery of the endpoint from the token, against a local HTTP stub of the directory.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wechaty_client::mock::MockPuppetService;
use wechaty_client::{DiscoveryRetry, Error, WechatyBuilder};

const TOKEN: &str = "insecure_discovery-s3cret";

/// A directory that answers each request with the next canned response (the last one repeats)
/// and records the request lines.
struct Directory {
    authority: String,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn directory(responses: Vec<(u16, String)>) -> Directory {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let authority = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    tokio::spawn(async move {
        let mut answered = 0;
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buffer = vec![0; 4096];
            let read = socket.read(&mut buffer).await.unwrap();
            let request = String::from_utf8_lossy(&buffer[..read]).into_owned();
            seen.lock()
                .unwrap()
                .push(request.lines().next().unwrap_or("").to_owned());
            let (status, body) = &responses[answered.min(responses.len() - 1)];
            answered += 1;
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(reply.as_bytes()).await;
        }
    });
    Directory {
        authority,
        requests,
    }
}

fn builder(authority: &str) -> WechatyBuilder {
    WechatyBuilder::new()
        .token(TOKEN)
        .no_tls(true)
        .authority(authority)
        .discovery_retry(DiscoveryRetry {
            attempts: 3,
            first_backoff: Duration::from_millis(10),
        })
}

#[tokio::test]
async fn host_and_port_lead_to_the_service() {
    let server = MockPuppetService::builder()
        .token(TOKEN)
        .serve()
        .await
        .unwrap();
    let port = server.addr().port();
    let stub = directory(vec![(
        200,
        format!(r#"{{"host":"127.0.0.1","port":{port}}}"#),
    )])
    .await;
    let bot = builder(&stub.authority).build().await.unwrap();
    assert_eq!(bot.endpoint(), server.endpoint());
    bot.version().await.unwrap();
    assert_eq!(
        stub.requests.lock().unwrap().as_slice(),
        [format!("GET /v0/hosties/{TOKEN} HTTP/1.1")]
    );
}

#[tokio::test]
async fn the_older_ip_key_is_accepted() {
    let stub = directory(vec![(200, r#"{"ip":"10.1.2.3","port":8788}"#.into())]).await;
    let bot = builder(&stub.authority).build().await.unwrap();
    assert_eq!(bot.endpoint(), "10.1.2.3:8788");
}

#[tokio::test]
async fn port_zero_or_404_mean_the_token_is_not_in_service() {
    for (status, body) in [
        (200, r#"{"host":"1.2.3.4","port":0}"#),
        (200, r#"{"ip":"0.0.0.0","port":8788}"#),
        (200, r#"{}"#),
        (404, r#"{"error":"not found"}"#),
    ] {
        let stub = directory(vec![(status, body.into())]).await;
        let error = builder(&stub.authority).build().await.unwrap_err();
        assert!(
            matches!(error, Error::TokenNotInService { .. }),
            "{status} {body}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("WECHATY_PUPPET_SERVICE_TOKEN"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
        // A final answer is not retried.
        assert_eq!(stub.requests.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn server_errors_are_retried() {
    let stub = directory(vec![
        (503, "busy".into()),
        (500, "oops".into()),
        (200, r#"{"host":"h.example","port":1}"#.into()),
    ])
    .await;
    let bot = builder(&stub.authority).build().await.unwrap();
    assert_eq!(bot.endpoint(), "h.example:1");
    assert_eq!(stub.requests.lock().unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_directory_fails_after_bounded_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = builder(&format!("http://127.0.0.1:{port}"))
        .discovery_retry(DiscoveryRetry {
            attempts: 4,
            first_backoff: Duration::from_secs(1),
        })
        .build()
        .await
        .unwrap_err();
    let Error::Discovery {
        attempts, message, ..
    } = &error
    else {
        panic!("expected a discovery error, got {error:?}");
    };
    assert_eq!(*attempts, 4);
    assert!(!message.is_empty());
    let shown = error.to_string();
    assert!(shown.contains("WECHATY_PUPPET_SERVICE_ENDPOINT"), "{shown}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[tokio::test]
async fn an_answer_that_is_not_a_host_is_refused_without_showing_the_token() {
    for host in [
        format!("127.0.0.1/evil/v0/hosties/{TOKEN}"),
        "host name with spaces".to_owned(),
        "user@host".to_owned(),
        "-bad-.example".to_owned(),
    ] {
        let body = serde_json::json!({ "host": host, "port": 18999 }).to_string();
        let stub = directory(vec![(200, body)]).await;
        let error = builder(&stub.authority).build().await.unwrap_err();
        assert!(
            matches!(error, Error::Discovery { .. }),
            "{host}: {error:?}"
        );
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
        }
        // Final: a malformed answer is not asked again.
        assert_eq!(stub.requests.lock().unwrap().len(), 1);
    }
    // IP literals and names still work.
    let stub = directory(vec![(200, r#"{"host":"::1","port":8788}"#.into())]).await;
    assert_eq!(
        builder(&stub.authority).build().await.unwrap().endpoint(),
        "[::1]:8788"
    );
}
