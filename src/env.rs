//! The environment variables the SDK reads, as the official clients name them. Every message
//! that tells the user which variable to set names it from here.

/// The service token.
pub const ENV_TOKEN: &str = "WECHATY_PUPPET_SERVICE_TOKEN";
/// A file holding the service token (read when no token is given), so that the token need not
/// sit in the environment or a process list.
pub const ENV_TOKEN_FILE: &str = "WECHATY_PUPPET_SERVICE_TOKEN_FILE";
/// `HOST:PORT` of the service (skips discovery).
pub const ENV_ENDPOINT: &str = "WECHATY_PUPPET_SERVICE_ENDPOINT";
/// The discovery authority (default `api.chatie.io`).
pub const ENV_AUTHORITY: &str = "WECHATY_PUPPET_SERVICE_AUTHORITY";
/// Turns TLS off when set to `true`.
pub const ENV_NO_TLS: &str = "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT";
/// The trusted root CA (PEM text or a path).
pub const ENV_TLS_CA_CERT: &str = "WECHATY_PUPPET_SERVICE_TLS_CA_CERT";
/// The TLS server name to verify.
pub const ENV_TLS_SERVER_NAME: &str = "WECHATY_PUPPET_SERVICE_TLS_SERVER_NAME";

/// The token under its old name, which the official client still honours.
pub(crate) const ENV_TOKEN_LEGACY: &str = "WECHATY_PUPPET_HOSTIE_TOKEN";
/// The endpoint under its old name.
pub(crate) const ENV_ENDPOINT_LEGACY: &str = "WECHATY_PUPPET_HOSTIE_ENDPOINT";
