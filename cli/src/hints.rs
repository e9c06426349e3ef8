//! What to type: the library's errors name environment variables and builder methods; on the
//! command line the same setting is a flag, and this says which.

use wechaty_client::{
    Error, ENV_AUTHORITY, ENV_ENDPOINT, ENV_NO_TLS, ENV_TLS_CA_CERT, ENV_TLS_SERVER_NAME, ENV_TOKEN,
};

/// The flags for the settings an error of the SDK (anywhere in `error`'s chain) points at.
pub fn for_error(error: &anyhow::Error) -> Option<String> {
    let sdk = error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Error>())?;
    let flags = match sdk {
        Error::Unauthenticated => "--token TOKEN".to_owned(),
        Error::TlsNameMismatch { presented, .. } => format!(
            "--tls-server-name {}",
            presented.first().map_or("NAME", String::as_str)
        ),
        Error::TlsUntrusted { .. } => "--tls-ca-cert PEM-OR-PATH".to_owned(),
        Error::NotTls { .. } => "--no-tls".to_owned(),
        Error::Transport { message, .. } if message.contains(ENV_NO_TLS) => {
            "leave out --no-tls".to_owned()
        }
        Error::Transport { .. } | Error::TokenNotInService { .. } => {
            "--endpoint HOST:PORT".to_owned()
        }
        Error::Discovery { .. } => "--endpoint HOST:PORT, or --authority HOST".to_owned(),
        _ => return for_text(&sdk.to_string()),
    };
    Some(format!("(on the command line: {flags})"))
}

/// The flags for the environment variables `text` names (a settings error, a doctor's hint).
pub fn for_text(text: &str) -> Option<String> {
    let flags: Vec<&str> = [
        (ENV_TLS_SERVER_NAME, "--tls-server-name NAME"),
        (ENV_TLS_CA_CERT, "--tls-ca-cert PEM-OR-PATH"),
        (ENV_NO_TLS, "--no-tls"),
        (ENV_ENDPOINT, "--endpoint HOST:PORT"),
        (ENV_AUTHORITY, "--authority HOST"),
        (ENV_TOKEN, "--token TOKEN"),
    ]
    .iter()
    .filter(|(variable, _)| names(text, variable))
    .map(|(_, flag)| *flag)
    .collect();
    (!flags.is_empty()).then(|| format!("(on the command line: {})", flags.join(", or ")))
}

/// Whether `text` names `variable` itself, not a longer name that starts with it (as
/// `…_TOKEN_FILE` starts with `…_TOKEN`).
fn names(text: &str, variable: &str) -> bool {
    text.match_indices(variable).any(|(at, _)| {
        text[at + variable.len()..]
            .chars()
            .next()
            .is_none_or(|next| !(next.is_ascii_alphanumeric() || next == '_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_become_flags() {
        let text = format!("set {ENV_TLS_SERVER_NAME} (or …), or {ENV_NO_TLS}=true");
        assert_eq!(
            for_text(&text).unwrap(),
            "(on the command line: --tls-server-name NAME, or --no-tls)"
        );
        assert_eq!(
            for_text(&format!("check {ENV_TOKEN}")).unwrap(),
            "(on the command line: --token TOKEN)"
        );
        assert_eq!(for_text(&format!("set {ENV_TOKEN}_FILE")), None);
        assert_eq!(for_text("nothing to set"), None);
    }

    #[test]
    fn typed_errors_name_their_flag() {
        let mismatch = anyhow::Error::new(Error::TlsNameMismatch {
            endpoint: "h:1".into(),
            expected: "wrong".into(),
            presented: vec!["insecure".into()],
            derived_from_token: true,
        });
        assert_eq!(
            for_error(&mismatch).unwrap(),
            "(on the command line: --tls-server-name insecure)"
        );
        assert_eq!(for_error(&anyhow::anyhow!("plain")), None);
    }
}
