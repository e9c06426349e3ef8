//! A room's changes as handlers receive them: the room and the people as handles, their names
//! loaded ([`RoomJoined`], [`RoomLeft`], [`RoomTopicChanged`], [`RoomAnnounceChanged`]), made
//! from the events' ids.

use std::time::SystemTime;

use futures_util::stream::{self as futures_stream, StreamExt as _};

use super::handle::Room;
use crate::contact::Contact;
use crate::event::{RoomAnnounce, RoomJoin, RoomLeave, RoomTopic};
use crate::ids::ContactId;
use crate::wechaty::Wechaty;

/// Members joined a room: python-wechaty's `on_room_join(room, invitees, inviter, date)`.
///
/// ```no_run
/// # fn demo(bot: wechaty_client::Wechaty) {
/// bot.on_room_join(|join| async move {
///     let names: Vec<String> = join.invitees.iter().filter_map(|c| c.cached_name()).collect();
///     join.room.say(format!("welcome, {}!", names.join(", "))).await?;
///     Ok(())
/// })
/// .detach();
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RoomJoined {
    /// The room.
    pub room: Room,
    /// Who joined.
    pub invitees: Vec<Contact>,
    /// Who invited them, when known.
    pub inviter: Option<Contact>,
    /// When it happened.
    pub date: SystemTime,
}

/// Members left or were removed from a room.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RoomLeft {
    /// The room.
    pub room: Room,
    /// Who left.
    pub leavers: Vec<Contact>,
    /// Who removed them (the leaver themself when they quit), when known.
    pub remover: Option<Contact>,
    /// When it happened.
    pub date: SystemTime,
}

/// A room's topic changed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RoomTopicChanged {
    /// The room.
    pub room: Room,
    /// The topic now.
    pub new_topic: String,
    /// The topic before.
    pub old_topic: String,
    /// Who changed it, when known.
    pub changer: Option<Contact>,
    /// When it happened.
    pub date: SystemTime,
}

/// A room's announcement changed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RoomAnnounceChanged {
    /// The room.
    pub room: Room,
    /// The announcement now.
    pub new_announce: String,
    /// The announcement before, when the service says.
    pub old_announce: Option<String>,
    /// Who changed it, when known.
    pub changer: Option<Contact>,
    /// When it happened.
    pub date: SystemTime,
}

// Each change has `load` (the people's payloads loaded first) and `cached`, the same at once
// when every one of them is cached already, `None` otherwise: the runner hands the usual
// case on without a future (`bot/runner.rs`).

impl RoomJoined {
    pub(crate) async fn load(bot: &Wechaty, join: &RoomJoin) -> Self {
        let people = load_people(
            bot,
            people(bot, &join.invitee_ids, join.inviter_id.as_ref()),
        )
        .await;
        Self::with(bot, join, people)
    }

    pub(crate) fn cached(bot: &Wechaty, join: &RoomJoin) -> Option<Self> {
        cached_people(bot, &join.invitee_ids, join.inviter_id.as_ref())
            .map(|people| Self::with(bot, join, people))
    }

    fn with(bot: &Wechaty, join: &RoomJoin, (invitees, inviter): People) -> Self {
        Self {
            room: bot.room(join.room_id.clone()),
            invitees,
            inviter,
            date: join.date,
        }
    }
}

impl RoomLeft {
    pub(crate) async fn load(bot: &Wechaty, leave: &RoomLeave) -> Self {
        let people = load_people(
            bot,
            people(bot, &leave.removee_ids, leave.remover_id.as_ref()),
        )
        .await;
        Self::with(bot, leave, people)
    }

    pub(crate) fn cached(bot: &Wechaty, leave: &RoomLeave) -> Option<Self> {
        cached_people(bot, &leave.removee_ids, leave.remover_id.as_ref())
            .map(|people| Self::with(bot, leave, people))
    }

    fn with(bot: &Wechaty, leave: &RoomLeave, (leavers, remover): People) -> Self {
        Self {
            room: bot.room(leave.room_id.clone()),
            leavers,
            remover,
            date: leave.date,
        }
    }
}

impl RoomTopicChanged {
    pub(crate) async fn load(bot: &Wechaty, topic: &RoomTopic) -> Self {
        let people = load_people(bot, people(bot, &[], topic.changer_id.as_ref())).await;
        Self::with(bot, topic, people)
    }

    pub(crate) fn cached(bot: &Wechaty, topic: &RoomTopic) -> Option<Self> {
        cached_people(bot, &[], topic.changer_id.as_ref())
            .map(|people| Self::with(bot, topic, people))
    }

    fn with(bot: &Wechaty, topic: &RoomTopic, (_, changer): People) -> Self {
        Self {
            room: bot.room(topic.room_id.clone()),
            new_topic: topic.new_topic.clone(),
            old_topic: topic.old_topic.clone(),
            changer,
            date: topic.date,
        }
    }
}

impl RoomAnnounceChanged {
    pub(crate) async fn load(bot: &Wechaty, announce: &RoomAnnounce) -> Self {
        let people = load_people(bot, people(bot, &[], announce.changer_id.as_ref())).await;
        Self::with(bot, announce, people)
    }

    pub(crate) fn cached(bot: &Wechaty, announce: &RoomAnnounce) -> Option<Self> {
        cached_people(bot, &[], announce.changer_id.as_ref())
            .map(|people| Self::with(bot, announce, people))
    }

    fn with(bot: &Wechaty, announce: &RoomAnnounce, (_, changer): People) -> Self {
        Self {
            room: bot.room(announce.room_id.clone()),
            new_announce: announce.new_announce.clone(),
            old_announce: announce.old_announce.clone(),
            changer,
            date: announce.date,
        }
    }
}

/// The people of a change: the many (invitees, leavers) and the one (inviter, remover, changer).
type People = (Vec<Contact>, Option<Contact>);

/// Handles for `many` and `one`.
fn people(bot: &Wechaty, many: &[ContactId], one: Option<&ContactId>) -> People {
    let many: Vec<Contact> = many.iter().map(|id| bot.contact(id.clone())).collect();
    let one = one.map(|id| bot.contact(id.clone()));
    (many, one)
}

/// Handles for `many` and `one` if every one's payload is cached (checked on the ids, before
/// any handle is made).
fn cached_people(bot: &Wechaty, many: &[ContactId], one: Option<&ContactId>) -> Option<People> {
    all_cached(bot, many.iter().chain(one)).then(|| people(bot, many, one))
}

/// Whether every one of `ids` has its payload cached (one look at the cache).
fn all_cached<'a>(bot: &Wechaty, ids: impl IntoIterator<Item = &'a ContactId>) -> bool {
    bot.caches().contacts.has_all(ids)
}

/// `people`, their payloads loaded into the contact cache (a bounded number at once), so
/// `Contact::cached_name` answers at once. A name the service cannot give is left to load
/// later: the event is delivered all the same.
async fn load_people(bot: &Wechaty, people: People) -> People {
    // The usual case, every name cached already, takes no future per contact.
    let (many, one) = &people;
    if all_cached(bot, many.iter().chain(one.as_ref()).map(Contact::id)) {
        return people;
    }
    futures_stream::iter(many.iter().chain(one.as_ref()))
        .for_each_concurrent(bot.lookup_limit(), |contact| async move {
            if let Err(error) = contact.payload().await {
                tracing::debug!(id = %contact.id(), %error, "a name in a room event could not be loaded");
            }
        })
        .await;
    people
}
