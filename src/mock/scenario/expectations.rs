//! A scenario's expectations: what the bot should have done, checked against the world.

use serde::Deserialize;

use crate::ids::{ContactId, RoomId};
use crate::mock::world::{MockMessage, MockWorld};

/// What the bot should have done, within `within_ms` of the timeline's start.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The deadline, from the start of the timeline.
    pub within_ms: u64,
    /// The bot sent a text.
    #[serde(default)]
    pub said: Option<SaidExpectation>,
    /// The bot accepted the friend request of this contact.
    #[serde(default)]
    pub accepted_friendship: Option<AcceptedFriendshipExpectation>,
    /// The bot set a contact's alias.
    #[serde(default)]
    pub set_alias: Option<SetAliasExpectation>,
}

/// The bot accepted the friend request `from` sent.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AcceptedFriendshipExpectation {
    /// Who sent the request.
    pub from: String,
}

/// The bot set the alias of `contact` to `alias` (`""`: cleared it).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SetAliasExpectation {
    /// The contact.
    pub contact: String,
    /// The alias.
    pub alias: String,
}

impl Expectation {
    /// How many checks it holds (a valid expectation: exactly one).
    pub(super) fn checks(&self) -> usize {
        [
            self.said.is_some(),
            self.accepted_friendship.is_some(),
            self.set_alias.is_some(),
        ]
        .into_iter()
        .filter(|given| *given)
        .count()
    }

    /// Whether the world shows the bot did it.
    pub(super) fn is_met(&self, world: &MockWorld) -> bool {
        if let Some(said) = &self.said {
            return world
                .sent_messages()
                .iter()
                .any(|message| said.matches(message));
        }
        if let Some(accepted) = &self.accepted_friendship {
            return world.accepted_friendships().iter().any(|id| {
                world
                    .friendship(id)
                    .is_some_and(|friendship| friendship.contact_id.as_str() == accepted.from)
            });
        }
        if let Some(set) = &self.set_alias {
            return world
                .aliases_set()
                .iter()
                .any(|(contact, alias)| contact.as_str() == set.contact && *alias == set.alias);
        }
        false
    }

    /// What the bot should have done, as in "the bot never …".
    pub(super) fn describe(&self) -> String {
        if let Some(said) = &self.said {
            return said.describe();
        }
        if let Some(accepted) = &self.accepted_friendship {
            return format!("accepted the friendship of {}", accepted.from);
        }
        if let Some(set) = &self.set_alias {
            return format!("set the alias of {} to {:?}", set.contact, set.alias);
        }
        "did anything".into()
    }
}

/// The bot said something matching: in `room` or to contact `to`, exactly `text` or containing
/// `text_contains`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SaidExpectation {
    /// In this room.
    #[serde(default)]
    pub room: Option<String>,
    /// To this contact (a direct message).
    #[serde(default)]
    pub to: Option<String>,
    /// Exactly this text.
    #[serde(default)]
    pub text: Option<String>,
    /// A text containing this.
    #[serde(default)]
    pub text_contains: Option<String>,
}

impl SaidExpectation {
    fn matches(&self, message: &MockMessage) -> bool {
        let room = message.room_id.as_ref().map(RoomId::as_str);
        let to = message.listener_id.as_ref().map(ContactId::as_str);
        self.room
            .as_deref()
            .is_none_or(|wanted| room == Some(wanted))
            && self.to.as_deref().is_none_or(|wanted| to == Some(wanted))
            && self
                .text
                .as_deref()
                .is_none_or(|wanted| message.text == wanted)
            && self
                .text_contains
                .as_deref()
                .is_none_or(|part| message.text.contains(part))
    }

    fn describe(&self) -> String {
        let place = match (&self.room, &self.to) {
            (Some(room), _) => format!(" in {room}"),
            (None, Some(to)) => format!(" to {to}"),
            _ => String::new(),
        };
        match (&self.text, &self.text_contains) {
            (Some(text), _) => format!("said {text:?}{place}"),
            (None, Some(part)) => format!("said something containing {part:?}{place}"),
            _ => format!("said something{place}"),
        }
    }
}
