//! Connection settings: the [`WechatyBuilder`] and the environment variables it reads.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::token::Token;
use crate::transport::Transport;
use crate::wechaty::Wechaty;

/// Environment variable holding the service token.
pub const ENV_TOKEN: &str = "WECHATY_PUPPET_SERVICE_TOKEN";
/// Environment variable holding `HOST:PORT` of the service (skips discovery).
pub const ENV_ENDPOINT: &str = "WECHATY_PUPPET_SERVICE_ENDPOINT";
/// Environment variable holding the discovery authority (default `api.chatie.io`).
pub const ENV_AUTHORITY: &str = "WECHATY_PUPPET_SERVICE_AUTHORITY";
/// Environment variable that turns TLS off when set to `true`.
pub const ENV_NO_TLS: &str = "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT";
/// Environment variable holding the trusted root CA (PEM text or a path).
pub const ENV_TLS_CA_CERT: &str = "WECHATY_PUPPET_SERVICE_TLS_CA_CERT";
/// Environment variable holding the TLS server name to verify.
pub const ENV_TLS_SERVER_NAME: &str = "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME";

/// Legacy names the official client still honours.
const ENV_TOKEN_LEGACY: &str = "WECHATY_PUPPET_HOSTIE_TOKEN";
const ENV_ENDPOINT_LEGACY: &str = "WECHATY_PUPPET_HOSTIE_ENDPOINT";

/// Default deadline of a unary call.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time allowed to open the TCP connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on calls in flight over the one HTTP/2 connection.
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: usize = 100;

/// Builds a [`Wechaty`] bot handle: where the service is, the token, and how to talk to it.
///
/// Start from [`Wechaty::builder()`] (nothing set) or [`WechatyBuilder::from_env()`] (the
/// `WECHATY_PUPPET_SERVICE_*` variables), override what you need, then [`build`](Self::build).
///
/// ```no_run
/// # async fn demo() -> wechaty_client::Result<()> {
/// use std::time::Duration;
/// use wechaty_client::Wechaty;
///
/// let bot = Wechaty::builder()
///     .endpoint("127.0.0.1:8788")
///     .token("insecure_0123")
///     .no_tls(true)
///     .call_timeout(Duration::from_secs(10))
///     .build()
///     .await?;
/// println!("{}", bot.version().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WechatyBuilder {
    pub(crate) token: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) authority: Option<String>,
    pub(crate) no_tls: bool,
    pub(crate) tls_ca_cert: Option<String>,
    pub(crate) tls_server_name: Option<String>,
    pub(crate) call_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_calls_in_flight: usize,
    /// A setting from the environment that could not be read; reported by `build()`.
    pub(crate) env_error: Option<String>,
}

impl Default for WechatyBuilder {
    fn default() -> Self {
        Self {
            token: None,
            endpoint: None,
            authority: None,
            no_tls: false,
            tls_ca_cert: None,
            tls_server_name: None,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_calls_in_flight: DEFAULT_MAX_CALLS_IN_FLIGHT,
            env_error: None,
        }
    }
}

impl fmt::Debug for WechatyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WechatyBuilder")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("endpoint", &self.endpoint)
            .field("authority", &self.authority)
            .field("no_tls", &self.no_tls)
            .field("tls_ca_cert", &self.tls_ca_cert.as_ref().map(|_| "<set>"))
            .field("tls_server_name", &self.tls_server_name)
            .field("call_timeout", &self.call_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_calls_in_flight", &self.max_calls_in_flight)
            .finish()
    }
}

impl WechatyBuilder {
    /// A builder with nothing set: TLS on, default timeouts.
    pub fn new() -> Self {
        Self::default()
    }

    /// A builder from the environment, as the official clients read it:
    /// `WECHATY_PUPPET_SERVICE_TOKEN`, `_ENDPOINT`, `_AUTHORITY`, `_NO_TLS_INSECURE_CLIENT`,
    /// `_TLS_CA_CERT`, `_TLS_SERVER_NAME` (and the legacy `WECHATY_PUPPET_HOSTIE_TOKEN` /
    /// `_ENDPOINT`). Empty variables count as unset. Later builder calls override these.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables (tests, config files).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let token = get(ENV_TOKEN).or_else(|| {
            let legacy = get(ENV_TOKEN_LEGACY);
            if legacy.is_some() {
                tracing::warn!("{ENV_TOKEN_LEGACY} is deprecated: use {ENV_TOKEN}");
            }
            legacy
        });
        let mut builder = Self {
            token,
            endpoint: get(ENV_ENDPOINT).or_else(|| get(ENV_ENDPOINT_LEGACY)),
            authority: get(ENV_AUTHORITY),
            tls_ca_cert: get(ENV_TLS_CA_CERT),
            tls_server_name: get(ENV_TLS_SERVER_NAME),
            ..Self::default()
        };
        if let Some(value) = get(ENV_NO_TLS) {
            match parse_bool(&value) {
                Some(no_tls) => builder.no_tls = no_tls,
                None => {
                    builder.env_error = Some(format!(
                        "{ENV_NO_TLS} must be `true` or `false`, not {value:?}"
                    ))
                }
            }
        }
        builder
    }

    /// The service token. Required; never logged or shown in errors.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// `HOST:PORT` of the puppet service. Without it the endpoint is discovered from the token.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// The discovery authority (default `api.chatie.io`).
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// `true` for plaintext HTTP/2 (the service must have TLS off too). TLS is on by default.
    pub fn no_tls(mut self, no_tls: bool) -> Self {
        self.no_tls = no_tls;
        self
    }

    /// The root CA to trust: PEM text or a path to a PEM file.
    pub fn tls_ca_cert(mut self, pem_or_path: impl Into<String>) -> Self {
        self.tls_ca_cert = Some(pem_or_path.into());
        self
    }

    /// The name the server certificate must carry (default: derived from the token).
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// Deadline of each unary call (default 30 s). Streams are not subject to it.
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Time allowed to open the TCP connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Cap on calls in flight over the one HTTP/2 connection (default 100); further calls wait
    /// for a free slot. Thousands of concurrent calls can make a server end the connection.
    pub fn max_calls_in_flight(mut self, limit: usize) -> Self {
        self.max_calls_in_flight = limit;
        self
    }

    /// Validates the settings and prepares the connection. No network I/O happens yet: the
    /// connection opens on the first call, and re-opens by itself if it breaks.
    pub async fn build(self) -> Result<Wechaty> {
        if let Some(message) = self.env_error {
            return Err(Error::Config(message));
        }
        let token = Token::parse(self.token.as_deref().ok_or_else(|| {
            Error::Config(format!(
                "no token: set {ENV_TOKEN} (or call `.token(..)` / pass --token)"
            ))
        })?)?;
        if !self.no_tls {
            return Err(Error::Config(format!(
                "TLS is not supported by this version yet: set {ENV_NO_TLS}=true \
                 (or `.no_tls(true)` / --no-tls) and connect to a service with TLS off"
            )));
        }
        let endpoint = self.endpoint.as_deref().ok_or_else(|| {
            Error::Config(format!(
                "no endpoint: set {ENV_ENDPOINT}=HOST:PORT (or `.endpoint(..)` / --endpoint); \
                 discovering the endpoint from the token is not supported by this version yet"
            ))
        })?;
        let endpoint = parse_endpoint(endpoint)?;
        if self.max_calls_in_flight == 0 {
            return Err(Error::Config(
                "max_calls_in_flight must be at least 1".into(),
            ));
        }
        let transport = Transport::plaintext(&endpoint, token, &self)?;
        Ok(Wechaty::from_transport(transport))
    }
}

/// `HOST:PORT`, with an optional `http://` or `grpc://` in front and `/` behind.
pub(crate) fn parse_endpoint(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let without_scheme = ["http://", "grpc://"]
        .iter()
        .find_map(|scheme| trimmed.strip_prefix(scheme))
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    let invalid = || {
        Error::Config(format!(
            "endpoint {raw:?} is not HOST:PORT: check {ENV_ENDPOINT} (or --endpoint)"
        ))
    };
    let (host, port) = without_scheme.rsplit_once(':').ok_or_else(invalid)?;
    if host.is_empty() || host.contains('/') || port.parse::<u16>().is_err() {
        return Err(invalid());
    }
    Ok(without_scheme.to_owned())
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> WechatyBuilder {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WechatyBuilder::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_the_official_variables() {
        let builder = from(&[
            (ENV_TOKEN, "insecure_abc"),
            (ENV_ENDPOINT, "127.0.0.1:8788"),
            (ENV_NO_TLS, "true"),
            (ENV_TLS_SERVER_NAME, "insecure"),
        ]);
        assert_eq!(builder.token.as_deref(), Some("insecure_abc"));
        assert_eq!(builder.endpoint.as_deref(), Some("127.0.0.1:8788"));
        assert!(builder.no_tls);
        assert_eq!(builder.tls_server_name.as_deref(), Some("insecure"));
    }

    #[test]
    fn legacy_names_and_empty_values() {
        let builder = from(&[(ENV_TOKEN, " "), (ENV_TOKEN_LEGACY, "old_token")]);
        assert_eq!(builder.token.as_deref(), Some("old_token"));
    }

    #[test]
    fn debug_redacts_the_token() {
        let shown = format!("{:?}", WechatyBuilder::new().token("insecure_s3cret"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[tokio::test]
    async fn missing_or_bad_settings_name_the_variable() {
        let error = |b: WechatyBuilder| async move { b.build().await.unwrap_err().to_string() };
        assert!(error(WechatyBuilder::new()).await.contains(ENV_TOKEN));
        assert!(error(from(&[(ENV_NO_TLS, "maybe")]))
            .await
            .contains(ENV_NO_TLS));
        let no_endpoint = WechatyBuilder::new().token("t_1").no_tls(true);
        assert!(error(no_endpoint).await.contains(ENV_ENDPOINT));
        let bad_endpoint = WechatyBuilder::new()
            .token("t_1")
            .no_tls(true)
            .endpoint("nonsense");
        assert!(error(bad_endpoint).await.contains(ENV_ENDPOINT));
        let tls = WechatyBuilder::new().token("t_1").endpoint("h:1");
        assert!(error(tls).await.contains(ENV_NO_TLS));
    }

    #[test]
    fn endpoints() {
        assert_eq!(parse_endpoint("h:1").unwrap(), "h:1");
        assert_eq!(parse_endpoint("http://h:1/").unwrap(), "h:1");
        assert_eq!(parse_endpoint("[::1]:80").unwrap(), "[::1]:80");
        assert!(parse_endpoint("h").is_err());
        assert!(parse_endpoint(":1").is_err());
        assert!(parse_endpoint("h:port").is_err());
    }
}
