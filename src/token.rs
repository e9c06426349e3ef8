//! The service token: a secret that is checked once, never printed, and turned into the
//! `authorization` metadata the official server expects.

use std::fmt;
use std::sync::Arc;

use tonic::metadata::{Ascii, MetadataValue};

use crate::env::ENV_TOKEN;
use crate::error::{Error, Result};

/// A validated puppet-service token. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(Arc<str>);

impl Token {
    /// Accepts tokens that can travel in an HTTP/2 header and a URI authority: visible ASCII
    /// without spaces (tokens in the wild are `[A-Za-z0-9_-]`).
    pub(crate) fn parse(raw: &str) -> Result<Self> {
        if raw.is_empty() {
            return Err(Error::config(format!(
                "the token is empty: set {ENV_TOKEN} (or call `WechatyBuilder::token`)"
            )));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::config(format!(
                "the token contains spaces or non-ASCII characters: check {ENV_TOKEN} (or what \
                 was given to `WechatyBuilder::token`)"
            )));
        }
        Ok(Token(raw.into()))
    }

    /// The token itself, for the places that must send or compare it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The server name the official client derives from a token: everything before the last
    /// `_`, lower-cased (`puppet_wxwork_abc` ⇒ `puppet_wxwork`). `None` without an `_`.
    pub(crate) fn server_name(&self) -> Option<String> {
        let (prefix, _) = self.0.rsplit_once('_')?;
        (!prefix.is_empty()).then(|| prefix.to_ascii_lowercase())
    }

    /// `authorization: Wechaty <token>`, marked sensitive so HTTP/2 never indexes it.
    pub(crate) fn authorization(&self) -> MetadataValue<Ascii> {
        let mut value: MetadataValue<Ascii> = format!("Wechaty {}", self.0)
            .parse()
            .expect("parse() admits only visible ASCII, which is a valid header value");
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let token = Token::parse("insecure_s3cret").unwrap();
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }

    #[test]
    fn server_name_is_the_lowercased_prefix_before_the_last_underscore() {
        let name = |raw: &str| Token::parse(raw).unwrap().server_name();
        assert_eq!(name("INSECURE_TOKEN").as_deref(), Some("insecure"));
        assert_eq!(name("puppet_wxwork_ID").as_deref(), Some("puppet_wxwork"));
        assert_eq!(name("TOKEN"), None);
        assert_eq!(name("_x"), None);
    }

    #[test]
    fn rejects_tokens_that_cannot_be_sent_without_quoting_them() {
        for bad in ["", "has space", "tab\there", "ümlaut"] {
            let error = Token::parse(bad).unwrap_err().to_string();
            assert!(error.contains("WECHATY_PUPPET_SERVICE_TOKEN"), "{error}");
            if !bad.is_empty() {
                assert!(!error.contains(bad), "{error}");
            }
        }
    }

    #[test]
    fn authorization_is_marked_sensitive() {
        let value = Token::parse("t_1").unwrap().authorization();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Wechaty t_1");
    }
}
