//! TLS against the mock: the stock v1 leaf, standard v3 chains, and each way it can go wrong.
//! Certificates: `tests/fixtures/tls/` (made by its `make.sh`).

use wechaty_client::mock::{MockPuppetService, MockServer, MockTls};
use wechaty_client::{Error, Wechaty, WechatyBuilder, ENV_TLS_CA_CERT, ENV_TOKEN};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
const TOKEN: &str = "insecure_tls-test";

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

async fn tls_mock(cert: &str) -> MockServer {
    let tls = MockTls::from_files(&fixture(cert), &fixture("leaf.key")).unwrap();
    MockPuppetService::builder()
        .token(TOKEN)
        .tls(tls)
        .heartbeat_interval(None)
        .serve()
        .await
        .unwrap()
}

/// A client trusting the test CA (given as a path).
async fn client(server: &MockServer, token: &str) -> Wechaty {
    server
        .bot_builder()
        .token(token)
        .tls_ca_cert(fixture("ca.pem"))
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_v1_leaf_signed_by_the_trusted_ca_is_accepted() {
    let server = tls_mock("v1-insecure.pem").await;
    // The server name comes from the token: `insecure_…` ⇒ `insecure`, the leaf's CN.
    let version = client(&server, TOKEN).await.version().await.unwrap();
    assert!(version.starts_with("wechaty-client-mock/"));
}

#[tokio::test]
async fn the_stock_gateway_certificate_works_with_default_settings() {
    let server = MockPuppetService::builder()
        .token(TOKEN)
        .tls(MockTls::stock())
        .serve()
        .await
        .unwrap();
    // No CA configured: the public Wechaty root CA shipped with the crate is trusted.
    let bot = server.bot_builder().build().await.unwrap();
    bot.version().await.unwrap();
    bot.connect().await.unwrap();
    bot.ding_dong("over tls", std::time::Duration::from_secs(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_wrong_name_is_rejected_naming_the_server_name_setting() {
    let server = tls_mock("v1-insecure.pem").await;
    // Two underscores: the derived name is `puppet_foo`, which the CN `insecure` is not.
    let bot = client(&server, "puppet_foo_0123").await;
    let error = bot.version().await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::TlsNameMismatch {
                endpoint,
                expected,
                presented,
                derived_from_token: true,
            } if *endpoint == server.endpoint() && expected == "puppet_foo" && presented == &["insecure"]
        ),
        "{error:?}"
    );
    let message = error.to_string();
    // Where the expected name came from, and both ways to fix it: the token, or the name.
    assert!(message.contains("derived from the token"), "{message}");
    assert!(
        message.contains("WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME=insecure"),
        "{message}"
    );
    assert!(
        message.contains("WechatyBuilder::tls_server_name"),
        "{message}"
    );
    assert!(!message.contains("0123"), "{message}");

    // Setting the name fixes it, whatever the token.
    let fixed = server
        .bot_builder()
        .token("puppet_foo_0123")
        .tls_ca_cert(fixture("ca.pem"))
        .tls_server_name("insecure")
        .build()
        .await
        .unwrap();
    let error = fixed.version().await.unwrap_err();
    assert!(matches!(error, Error::Unauthenticated), "{error:?}");
}

#[tokio::test]
async fn a_leaf_from_another_ca_is_rejected_naming_the_ca_setting() {
    let server = tls_mock("v1-other-ca.pem").await;
    let error = client(&server, TOKEN).await.version().await.unwrap_err();
    assert!(
        matches!(&error, Error::TlsUntrusted { endpoint } if *endpoint == server.endpoint()),
        "{error:?}"
    );
    assert!(error.to_string().contains(ENV_TLS_CA_CERT));
}

#[tokio::test]
async fn an_expired_leaf_is_rejected_with_its_date() {
    let server = tls_mock("v1-expired.pem").await;
    let error = client(&server, TOKEN).await.version().await.unwrap_err();
    assert!(
        matches!(
            &error,
            Error::TlsExpired { endpoint, not_after }
                if *endpoint == server.endpoint() && not_after == "2021-01-01 00:00:00 UTC"
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("expired"));
}

#[tokio::test]
async fn a_v3_leaf_with_a_subject_alt_name_goes_through_webpki() {
    let server = tls_mock("v3-san.pem").await;
    let named = |name: &'static str| {
        server
            .bot_builder()
            .tls_ca_cert(fixture("ca.pem"))
            .tls_server_name(name)
            .build()
    };
    named("puppet.example")
        .await
        .unwrap()
        .version()
        .await
        .unwrap();
    let error = named("other.example")
        .await
        .unwrap()
        .version()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::TlsNameMismatch { expected, .. } if expected == "other.example"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_tls_client_against_a_plaintext_service_says_to_turn_tls_off() {
    let server = MockPuppetService::builder()
        .token(TOKEN)
        .serve()
        .await
        .unwrap();
    let bot = server.bot_builder().no_tls(false).build().await.unwrap();
    let error = bot.version().await.unwrap_err();
    assert!(
        matches!(&error, Error::NotTls { endpoint } if *endpoint == server.endpoint()),
        "{error:?}"
    );
    assert!(error
        .to_string()
        .contains("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT=true"));
}

#[tokio::test]
async fn a_plaintext_client_against_a_tls_service_is_told_to_check_tls() {
    let server = tls_mock("v1-insecure.pem").await;
    let bot = server.bot_builder().no_tls(true).build().await.unwrap();
    let error = bot.version().await.unwrap_err();
    let Error::Transport { message, .. } = &error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert!(
        message.contains("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT"),
        "{message}"
    );
}

#[tokio::test]
async fn a_plaintext_client_whose_connection_breaks_is_told_about_tls_only_by_a_tls_service() {
    // A service going away: it accepts connections and drops them at once, as a dying
    // server does. The connection breaks, as a TLS server hearing plaintext breaks it, but
    // nothing here speaks TLS, so the error must not say so.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            drop(tcp);
        }
    });
    let bot = WechatyBuilder::new()
        .endpoint(endpoint)
        .token(TOKEN)
        .no_tls(true)
        .build()
        .await
        .unwrap();
    let error = bot.version().await.unwrap_err();
    let Error::Transport { message, .. } = &error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert!(!message.contains("TLS"), "{message}");
    assert!(error.is_retryable());

    // One that was stopped: refused, and not about TLS either.
    let server = MockPuppetService::builder()
        .token(TOKEN)
        .heartbeat_interval(None)
        .serve()
        .await
        .unwrap();
    let bot = server.bot_builder().build().await.unwrap();
    bot.version().await.unwrap();
    server.shutdown().await;
    let error = bot.version().await.unwrap_err();
    assert!(!error.to_string().contains("TLS"), "{error}");
}

#[tokio::test]
async fn the_ca_setting_takes_pem_text_with_escaped_newlines_or_a_path() {
    let server = tls_mock("v1-insecure.pem").await;
    let pem = std::fs::read_to_string(fixture("ca.pem")).unwrap();
    // As an env var usually holds it: one line, `\n` written out.
    let one_line = pem.trim().replace('\n', "\\n");
    for value in [one_line, fixture("ca.pem")] {
        let builder = WechatyBuilder::from_lookup(|name| match name {
            ENV_TOKEN => Some(TOKEN.into()),
            ENV_TLS_CA_CERT => Some(value.clone()),
            _ => None,
        });
        let bot = builder.endpoint(server.endpoint()).build().await.unwrap();
        bot.version().await.unwrap();
    }
}

#[tokio::test]
async fn a_leaf_without_a_san_is_refused_if_it_is_a_ca_or_for_another_purpose() {
    // The legacy path (no subjectAltName) judges what webpki judges in any leaf.
    let accepted = tls_mock("v3-nosan-server.pem").await;
    client(&accepted, TOKEN).await.version().await.unwrap();
    for (cert, said) in [
        ("v3-nosan-ca.pem", "not one of a TLS server"),
        ("v3-nosan-client.pem", "not one of a TLS server"),
        ("v3-nosan-critical.pem", "critical extension"),
    ] {
        let server = tls_mock(cert).await;
        let error = client(&server, TOKEN).await.version().await.unwrap_err();
        assert!(
            matches!(&error, Error::Tls { message, .. } if message.contains(said)),
            "{cert}: {error:?}"
        );
    }
}
