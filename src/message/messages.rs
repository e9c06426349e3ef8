//! [`Messages`]: looking back at the messages this process has seen (python-wechaty's
//! `Message.find` / `Message.find_all`).
//!
//! There is no search RPC for messages: the bot remembers the ids of the last 10,000 `message`
//! events (the same bounded set that drops duplicates), and a search reads their payloads —
//! from the message cache, the missing ones fetched with the bot's lookup bound — and matches
//! them here.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use super::payload::{self, MessagePayload, MessageType};
use super::Message;
use crate::error::Result;
use crate::ids::MessageId;
use crate::listed::load_listed;
use crate::wechaty::Wechaty;

/// The messages a bot has seen: `bot.messages()`.
///
/// ```no_run
/// use wechaty_client::{MessageQuery, MessageQueryFilter, MessageType};
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let messages = bot.messages();
/// let ding = messages.find("ding").await?;                    // an id, or the exact text
/// let from_ann = messages
///     .find_all(MessageQueryFilter::default().talker_id("ann").kind(MessageType::Text))
///     .await?;
/// let questions = messages.find_all(regex::Regex::new(r"\?$").unwrap()).await?;
/// let long = messages
///     .find_all(MessageQuery::matching(|m| m.text.as_ref().is_some_and(|t| t.len() > 100)))
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Messages {
    bot: Wechaty,
}

/// Which messages to find.
#[derive(Clone)]
#[non_exhaustive]
pub enum MessageQuery {
    /// Every message seen.
    All,
    /// The message with this id, and messages whose text is exactly this.
    IdOrText(String),
    /// Every given field matches exactly.
    Filter(MessageQueryFilter),
    /// The text matches this regular expression.
    TextRegex(Regex),
    /// Your own test over the payload.
    Matching(Arc<dyn Fn(&MessagePayload) -> bool + Send + Sync>),
}

impl fmt::Debug for MessageQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("All"),
            Self::IdOrText(text) => f.debug_tuple("IdOrText").field(text).finish(),
            Self::Filter(filter) => f.debug_tuple("Filter").field(filter).finish(),
            Self::TextRegex(regex) => f.debug_tuple("TextRegex").field(&regex.as_str()).finish(),
            Self::Matching(_) => f.write_str("Matching(..)"),
        }
    }
}

impl MessageQuery {
    /// A query from a closure over the payload.
    pub fn matching(test: impl Fn(&MessagePayload) -> bool + Send + Sync + 'static) -> Self {
        Self::Matching(Arc::new(test))
    }

    /// Whether a message's payload matches.
    pub fn matches(&self, message: &MessagePayload) -> bool {
        let text = message.text.as_deref();
        match self {
            Self::All => true,
            Self::IdOrText(wanted) => {
                message.id.as_str() == wanted || text == Some(wanted.as_str())
            }
            Self::Filter(filter) => {
                let given = |wanted: &Option<String>, actual: Option<&str>| {
                    wanted
                        .as_deref()
                        .is_none_or(|wanted| actual == Some(wanted))
                };
                given(&filter.id, Some(message.id.as_str()))
                    && given(
                        &filter.talker_id,
                        message.talker_id.as_ref().map(|id| id.as_str()),
                    )
                    && given(
                        &filter.room_id,
                        message.room_id.as_ref().map(|id| id.as_str()),
                    )
                    && given(&filter.text, text)
                    && filter.kind.is_none_or(|kind| kind == message.kind)
            }
            Self::TextRegex(regex) => text.is_some_and(|text| regex.is_match(text)),
            Self::Matching(test) => test(message),
        }
    }

    /// The one id this query can match, when it names one: no other payload needs reading.
    fn only_id(&self) -> Option<&str> {
        match self {
            Self::Filter(filter) => filter.id.as_deref(),
            _ => None,
        }
    }
}

impl From<&str> for MessageQuery {
    fn from(text: &str) -> Self {
        Self::IdOrText(text.to_owned())
    }
}

impl From<String> for MessageQuery {
    fn from(text: String) -> Self {
        Self::IdOrText(text)
    }
}

impl From<MessageQueryFilter> for MessageQuery {
    fn from(filter: MessageQueryFilter) -> Self {
        Self::Filter(filter)
    }
}

impl From<Regex> for MessageQuery {
    fn from(regex: Regex) -> Self {
        Self::TextRegex(regex)
    }
}

/// Fields a message must match exactly; every given one must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageQueryFilter {
    /// The message id.
    pub id: Option<String>,
    /// Who sent it.
    pub talker_id: Option<String>,
    /// The room it was said in.
    pub room_id: Option<String>,
    /// Its whole text.
    pub text: Option<String>,
    /// Its kind.
    pub kind: Option<MessageType>,
}

impl MessageQueryFilter {
    /// With an id to match.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// With a talker to match.
    pub fn talker_id(mut self, talker: impl Into<String>) -> Self {
        self.talker_id = Some(talker.into());
        self
    }

    /// With a room to match.
    pub fn room_id(mut self, room: impl Into<String>) -> Self {
        self.room_id = Some(room.into());
        self
    }

    /// With a text to match exactly.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// With a kind to match.
    pub fn kind(mut self, kind: MessageType) -> Self {
        self.kind = Some(kind);
        self
    }
}

impl Wechaty {
    /// The messages this process has seen (the last 10,000 `message` events).
    pub fn messages(&self) -> Messages {
        Messages { bot: self.clone() }
    }
}

impl Messages {
    /// Every message seen that matches `query`, oldest first.
    pub async fn find_all(&self, query: impl Into<MessageQuery>) -> Result<Vec<Message>> {
        let query = query.into();
        Ok(self
            .matching(&query)
            .await?
            .into_iter()
            .map(|payload| Message::with_payload(payload, self.bot.clone()))
            .collect())
    }

    /// The most recent message seen that matches `query`.
    pub async fn find(&self, query: impl Into<MessageQuery>) -> Result<Option<Message>> {
        let query = query.into();
        Ok(self
            .matching(&query)
            .await?
            .pop()
            .map(|payload| Message::with_payload(payload, self.bot.clone())))
    }

    /// The payloads of the seen messages that match, oldest first. Messages the service cannot
    /// describe any more are skipped with a warning.
    async fn matching(&self, query: &MessageQuery) -> Result<Vec<Arc<MessagePayload>>> {
        let mut seen = self.bot.hub().seen_messages();
        if let Some(id) = query.only_id() {
            seen.retain(|seen| seen.as_str() == id);
        }
        let ids = seen.iter().map(ToString::to_string).collect();
        let (cache, transport) = (&self.bot.caches().messages, &self.bot.transport()?);
        let payloads = load_listed(
            ids,
            |ids: &[MessageId]| cache.read_many(ids, Arc::clone),
            self.bot.lookup_limit(),
            "message",
            |id: MessageId| async move {
                let payload =
                    payload::load_cached_message(cache, || Ok(transport.clone()), &id).await;
                (id, payload)
            },
        )
        .await?;
        Ok(payloads
            .into_iter()
            .filter(|payload| query.matches(payload))
            .collect())
    }
}
