//! [`Rooms`]: finding and creating rooms (python-wechaty's class methods of `Room`).
//!
//! There is no search RPC: finding lists the room ids (`RoomList`), then reads the payloads —
//! cached, the missing ones fetched concurrently with a bound — and matches them here. Finding
//! never loads members.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use super::handle::Room;
use super::payload::{self, RoomPayload};
use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::RoomId;
use crate::listed::load_listed;
use crate::wechaty::Wechaty;

/// The rooms of a bot: `bot.rooms()`.
///
/// ```no_run
/// use wechaty_client::{RoomQuery, RoomQueryFilter};
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let rooms = bot.rooms();
/// let team = rooms.find("Team Room").await?;                 // id or exact topic
/// let all = rooms.find_all(RoomQuery::All).await?;
/// let big = rooms
///     .find_all(RoomQuery::matching(|room| room.member_ids.len() > 100))
///     .await?;
/// let by_regex = rooms.find_all(regex::Regex::new("^Team").unwrap()).await?;
/// let by_filter = rooms.find(RoomQueryFilter::default().topic("Weekend")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Rooms {
    bot: Wechaty,
}

/// Which rooms to find.
#[derive(Clone)]
#[non_exhaustive]
pub enum RoomQuery {
    /// Every room.
    All,
    /// The room with this id, and rooms whose topic is exactly this.
    IdOrTopic(String),
    /// Every given field matches exactly.
    Filter(RoomQueryFilter),
    /// The topic matches this regular expression.
    TopicRegex(Regex),
    /// Your own test over the payload.
    Matching(Arc<dyn Fn(&RoomPayload) -> bool + Send + Sync>),
}

impl fmt::Debug for RoomQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("All"),
            Self::IdOrTopic(text) => f.debug_tuple("IdOrTopic").field(text).finish(),
            Self::Filter(filter) => f.debug_tuple("Filter").field(filter).finish(),
            Self::TopicRegex(regex) => f.debug_tuple("TopicRegex").field(&regex.as_str()).finish(),
            Self::Matching(_) => f.write_str("Matching(..)"),
        }
    }
}

impl RoomQuery {
    /// A query from a closure over the payload.
    pub fn matching(test: impl Fn(&RoomPayload) -> bool + Send + Sync + 'static) -> Self {
        Self::Matching(Arc::new(test))
    }

    /// Whether a room's payload matches.
    pub fn matches(&self, room: &RoomPayload) -> bool {
        let topic = room.topic.as_deref();
        match self {
            Self::All => true,
            Self::IdOrTopic(text) => room.id.as_str() == text || topic == Some(text.as_str()),
            Self::Filter(filter) => {
                filter.id.as_deref().is_none_or(|id| room.id.as_str() == id)
                    && filter
                        .topic
                        .as_deref()
                        .is_none_or(|wanted| topic == Some(wanted))
            }
            Self::TopicRegex(regex) => topic.is_some_and(|topic| regex.is_match(topic)),
            Self::Matching(test) => test(room),
        }
    }
}

impl From<&str> for RoomQuery {
    fn from(text: &str) -> Self {
        Self::IdOrTopic(text.to_owned())
    }
}

impl From<String> for RoomQuery {
    fn from(text: String) -> Self {
        Self::IdOrTopic(text)
    }
}

impl From<RoomQueryFilter> for RoomQuery {
    fn from(filter: RoomQueryFilter) -> Self {
        Self::Filter(filter)
    }
}

impl From<Regex> for RoomQuery {
    fn from(regex: Regex) -> Self {
        Self::TopicRegex(regex)
    }
}

/// Fields a room must match exactly; every given one must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomQueryFilter {
    /// The room id.
    pub id: Option<String>,
    /// The topic.
    pub topic: Option<String>,
}

impl RoomQueryFilter {
    /// With an id to match.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// With a topic to match.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }
}

impl Wechaty {
    /// Finding and creating rooms.
    pub fn rooms(&self) -> Rooms {
        Rooms { bot: self.clone() }
    }
}

impl Rooms {
    /// Every room matching `query`, in the service's order.
    pub async fn find_all(&self, query: impl Into<RoomQuery>) -> Result<Vec<Room>> {
        let query = query.into();
        let payloads = self.payloads().await?;
        Ok(payloads
            .into_iter()
            .filter(|payload| query.matches(payload))
            .map(|payload| self.bot.room(payload.id.clone()))
            .collect())
    }

    /// The first room matching `query`.
    pub async fn find(&self, query: impl Into<RoomQuery>) -> Result<Option<Room>> {
        Ok(self.find_all(query).await?.into_iter().next())
    }

    /// Every room's payload: `RoomList`, then the payloads (cached ones without an RPC).
    /// Rooms the service cannot describe any more are skipped with a warning.
    pub async fn payloads(&self) -> Result<Vec<Arc<RoomPayload>>> {
        let response = self
            .bot
            .transport()?
            .unary("RoomList", pb::RoomListRequest {}, |mut c, r| async move {
                c.room_list(r).await
            })
            .await?;
        let (cache, transport) = (&self.bot.caches().rooms, &self.bot.transport()?);
        load_listed(
            response.ids,
            // The cached payloads a batch at a time, as contacts are; only the rest one by one.
            |ids: &[RoomId]| cache.read_many(ids, Arc::clone),
            self.bot.lookup_limit(),
            "room",
            |id: RoomId| async move {
                let payload = payload::load_room(cache, || Ok(transport.clone()), &id).await;
                (id, payload)
            },
        )
        .await
    }

    /// Creates a room with `contacts` (at least two besides the bot, as WeChat requires) and a
    /// topic; returns it loaded.
    pub async fn create(&self, contacts: &[Contact], topic: &str) -> Result<Room> {
        if contacts.len() < 2 {
            return Err(Error::InvalidArgument(format!(
                "creating a room needs at least 2 contacts besides the bot, got {}",
                contacts.len()
            )));
        }
        let request = pb::RoomCreateRequest {
            contact_ids: contacts.iter().map(|c| c.id().to_string()).collect(),
            topic: topic.to_owned(),
        };
        let response = self
            .bot
            .transport()?
            .unary("RoomCreate", request, |mut c, r| async move {
                c.room_create(r).await
            })
            .await?;
        if response.id.is_empty() {
            return Err(Error::invalid_data(
                "RoomCreate answer",
                "the service returned no room id",
            ));
        }
        let room = self.bot.room(response.id);
        room.ready().await?;
        Ok(room)
    }
}
