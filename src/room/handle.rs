//! The [`Room`] handle itself: an id and the bot, no I/O. Its verbs are in `mod.rs`, its
//! members in `members.rs`, its events in `events.rs`, sending in `say.rs`.

use std::fmt;

use crate::error::Result;
use crate::ids::RoomId;
use crate::message::Message;
use crate::wechaty::Wechaty;

/// A room (group chat). Creating the handle does no I/O; payloads are fetched on demand and
/// cached until the service says they changed.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let room = bot.rooms().find("Team Room").await?.expect("the room exists");
/// println!("{} has {} members", room.topic().await?, room.members().await?.len());
/// let ann = bot.contact("ann");
/// room.say_with_mentions("welcome!", &[ann]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Room {
    pub(super) id: RoomId,
    pub(super) bot: Wechaty,
}

impl fmt::Debug for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Room").field(&self.id).finish()
    }
}

impl PartialEq for Room {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Room {}

impl Wechaty {
    /// A handle to a room. No I/O until you use it.
    pub fn room(&self, id: impl Into<RoomId>) -> Room {
        Room {
            id: id.into(),
            bot: self.clone(),
        }
    }
}

impl Message {
    /// The room it was sent in (`None` for a direct message), from the payload read once.
    pub async fn room(&self) -> Result<Option<Room>> {
        let payload = self.loaded().await?;
        Ok(payload.room_id.clone().map(|id| self.bot().room(id)))
    }
}

impl Room {
    /// The room id.
    pub fn id(&self) -> &RoomId {
        &self.id
    }

    /// The bot this handle belongs to.
    pub fn bot(&self) -> &Wechaty {
        &self.bot
    }
}
