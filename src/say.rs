//! [`Sayable`]: what `say` can send.

/// Something to send with `say`. Text today; contact cards, files, links and mini programs join
/// as variants, each mapped to its own RPC.
///
/// ```
/// use wechaty_client::Sayable;
/// let text: Sayable = "hello".into();
/// assert_eq!(text, Sayable::Text("hello".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sayable {
    /// A text message (`MessageSendText`).
    Text(String),
}

impl From<&str> for Sayable {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Sayable {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&String> for Sayable {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}
