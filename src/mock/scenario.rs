//! Scenarios: a world, a timeline of things that happen in it, and what the bot should do.
//!
//! A scenario is JSON (documented in `scenarios/README.md`):
//!
//! ```json
//! {
//!   "world": {
//!     "self": "bot",
//!     "contacts": [{"id": "bot", "name": "Bot"}, {"id": "ann", "name": "Ann", "alias": "Annie"}],
//!     "rooms": [{"id": "r1@chatroom", "topic": "Team", "owner": "ann",
//!                "members": ["bot", "ann"], "room_aliases": {"ann": "Ali"}}]
//!   },
//!   "timeline": [
//!     {"after_ms": 300, "say": {"from": "ann", "room": "r1@chatroom", "text": "ding"}},
//!     {"after_ms": 300, "join": {"room": "r1@chatroom", "contacts": ["dan"], "inviter": "ann"}}
//!   ],
//!   "expect": [
//!     {"within_ms": 2000, "said": {"room": "r1@chatroom", "text": "dong"}}
//!   ]
//! }
//! ```

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use super::world::{MockContact, MockInvitation, MockMessage, MockRoom, MockWorld};
use crate::error::{Error, Result};
use crate::ids::{ContactId, RoomId};

/// A parsed scenario.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Who and what exists.
    pub world: WorldSpec,
    /// What happens, in order.
    #[serde(default)]
    pub timeline: Vec<Step>,
    /// What the bot should have done.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// The world of a scenario.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    /// The bot's contact id (logged in from the start).
    #[serde(rename = "self")]
    pub self_id: String,
    /// Contacts, the bot included.
    #[serde(default)]
    pub contacts: Vec<ContactSpec>,
    /// Rooms.
    #[serde(default)]
    pub rooms: Vec<RoomSpec>,
}

/// A contact of a scenario's world.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ContactSpec {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The alias the bot gave it.
    #[serde(default)]
    pub alias: Option<String>,
}

/// A room of a scenario's world.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RoomSpec {
    /// Its id.
    pub id: String,
    /// Its topic.
    #[serde(default)]
    pub topic: String,
    /// Its owner.
    #[serde(default)]
    pub owner: Option<String>,
    /// Its members, in order.
    #[serde(default)]
    pub members: Vec<String>,
    /// Room aliases by member.
    #[serde(default)]
    pub room_aliases: HashMap<String, String>,
}

/// One thing that happens, `after_ms` after the previous step.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Wait before this step, in milliseconds.
    #[serde(default)]
    pub after_ms: u64,
    /// Someone sends a text.
    #[serde(default)]
    pub say: Option<SayStep>,
    /// Contacts join a room.
    #[serde(default)]
    pub join: Option<JoinStep>,
    /// Members leave a room.
    #[serde(default)]
    pub leave: Option<LeaveStep>,
    /// Someone changes a room's topic.
    #[serde(default)]
    pub topic: Option<TopicStep>,
    /// Someone invites the bot into a room.
    #[serde(default)]
    pub invite: Option<InviteStep>,
}

/// `say`: `from` sends `text` into `room`, or directly to the bot.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SayStep {
    /// The talker.
    pub from: String,
    /// The room, for a room message.
    #[serde(default)]
    pub room: Option<String>,
    /// The text.
    pub text: String,
}

/// `join`: `contacts` join `room`, invited by `inviter`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct JoinStep {
    /// The room.
    pub room: String,
    /// Who joins.
    pub contacts: Vec<String>,
    /// Who invited them.
    #[serde(default)]
    pub inviter: Option<String>,
}

/// `leave`: `contacts` leave `room`, removed by `remover`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LeaveStep {
    /// The room.
    pub room: String,
    /// Who leaves.
    pub contacts: Vec<String>,
    /// Who removed them.
    #[serde(default)]
    pub remover: Option<String>,
}

/// `topic`: `changer` renames `room` to `topic`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TopicStep {
    /// The room.
    pub room: String,
    /// The new topic.
    pub topic: String,
    /// Who changed it.
    #[serde(default)]
    pub changer: Option<String>,
}

/// `invite`: `inviter` invites the bot into `room`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InviteStep {
    /// The invitation id.
    pub id: String,
    /// Who invites.
    pub inviter: String,
    /// The room (created when the bot accepts).
    pub room: String,
    /// The room's topic.
    #[serde(default)]
    pub topic: String,
}

/// What the bot should have done, within `within_ms` of the timeline's start.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The deadline, from the start of the timeline.
    pub within_ms: u64,
    /// The bot sent a text.
    pub said: SaidExpectation,
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

impl Scenario {
    /// Parses a scenario; errors say what is wrong and where.
    pub fn from_json(json: &str) -> Result<Self> {
        let scenario: Self = serde_json::from_str(json)
            .map_err(|error| Error::InvalidArgument(format!("invalid scenario: {error}")))?;
        for (index, step) in scenario.timeline.iter().enumerate() {
            let actions = [
                step.say.is_some(),
                step.join.is_some(),
                step.leave.is_some(),
                step.topic.is_some(),
                step.invite.is_some(),
            ];
            if actions.iter().filter(|given| **given).count() != 1 {
                return Err(Error::InvalidArgument(format!(
                    "invalid scenario: timeline step {index} needs exactly one of say, join, \
                     leave, topic, invite"
                )));
            }
        }
        Ok(scenario)
    }

    /// Reads and parses a scenario file.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let json = std::fs::read_to_string(path).map_err(|error| {
            Error::InvalidArgument(format!(
                "cannot read the scenario {}: {error}",
                path.display()
            ))
        })?;
        Self::from_json(&json)
    }

    /// The world, logged in as its `self`.
    pub fn world(&self) -> MockWorld {
        let world = MockWorld::new();
        for contact in &self.world.contacts {
            let mut mock = MockContact::new(contact.id.as_str(), contact.name.as_str());
            mock.alias = contact.alias.clone();
            world.add_contact(mock);
        }
        for room in &self.world.rooms {
            let mut mock = MockRoom::new(room.id.as_str(), room.topic.as_str())
                .members(room.members.iter().map(String::as_str));
            mock.owner_id = room.owner.as_deref().map(ContactId::from);
            for (member, alias) in &room.room_aliases {
                mock = mock.room_alias(member.as_str(), alias.as_str());
            }
            world.add_room(mock);
        }
        world.login(self.world.self_id.as_str());
        world
    }

    /// Plays the timeline on `world`, waiting between steps.
    pub async fn play(&self, world: &MockWorld) {
        for step in &self.timeline {
            tokio::time::sleep(Duration::from_millis(step.after_ms)).await;
            step.apply(world);
        }
    }

    /// Waits for every expectation, each until its deadline measured from `started`; returns
    /// the descriptions of those that failed.
    pub async fn unmet(&self, world: &MockWorld, started: tokio::time::Instant) -> Vec<String> {
        let mut unmet = Vec::new();
        for expectation in &self.expect {
            let deadline = started + Duration::from_millis(expectation.within_ms);
            loop {
                if world
                    .sent_messages()
                    .iter()
                    .any(|message| expectation.said.matches(message))
                {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    unmet.push(format!(
                        "the bot never {} within {} ms",
                        expectation.said.describe(),
                        expectation.within_ms
                    ));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        unmet
    }
}

impl Step {
    /// Makes this step happen in `world`, now.
    pub(crate) fn apply(&self, world: &MockWorld) {
        if let Some(say) = &self.say {
            world.receive_text(say.from.as_str(), say.room.as_deref(), say.text.as_str());
        }
        if let Some(join) = &self.join {
            let invitees: Vec<&str> = join.contacts.iter().map(String::as_str).collect();
            world.join(&join.room, &invitees, join.inviter.as_deref());
        }
        if let Some(leave) = &self.leave {
            let leavers: Vec<&str> = leave.contacts.iter().map(String::as_str).collect();
            world.leave(&leave.room, &leavers, leave.remover.as_deref());
        }
        if let Some(topic) = &self.topic {
            world.change_topic(&topic.room, &topic.topic, topic.changer.as_deref());
        }
        if let Some(invite) = &self.invite {
            world.invite(MockInvitation::new(
                invite.id.as_str(),
                invite.inviter.as_str(),
                invite.room.as_str(),
                invite.topic.as_str(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_scenario_parses() {
        let scenario = Scenario::from_json(include_str!("../../scenarios/room_bot.json")).unwrap();
        assert!(!scenario.timeline.is_empty());
        assert!(!scenario.expect.is_empty());
    }

    #[test]
    fn mistakes_are_named() {
        let unknown = Scenario::from_json(r#"{"world":{"self":"b"},"timline":[]}"#).unwrap_err();
        assert!(unknown.to_string().contains("timline"), "{unknown}");
        let two = Scenario::from_json(
            r#"{"world":{"self":"b"},"timeline":[{"say":{"from":"a","text":"x"},"topic":{"room":"r","topic":"t"}}]}"#,
        )
        .unwrap_err();
        assert!(two.to_string().contains("exactly one"), "{two}");
    }
}
