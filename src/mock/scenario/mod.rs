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

mod expectations;
mod timeline;

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use super::world::{MockContact, MockRoom, MockWorld};
use crate::error::{Error, Result};
use crate::ids::ContactId;

pub use expectations::{
    AcceptedFriendshipExpectation, Expectation, SaidExpectation, SetAliasExpectation,
};
pub use timeline::{
    FriendRequestStep, FromStep, InviteStep, JoinStep, LeaveStep, LocationStep, LoginStep, SayStep,
    ScanStep, Step, TopicStep,
};

/// A parsed scenario.
#[derive(Debug, Clone, Deserialize, PartialEq)]
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
    /// The bot's contact id (logged in from the start, unless `login_qrcode` is given).
    #[serde(rename = "self")]
    pub self_id: String,
    /// The bot starts logged out and logs in by QR code: `Start` shows this one (a `scan`,
    /// waiting) and the timeline's `login` step logs the bot in (see
    /// [`MockWorld::require_scan`]).
    #[serde(default)]
    pub login_qrcode: Option<String>,
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
    /// Whether it is the bot's friend (default: yes).
    #[serde(default = "yes")]
    pub friend: bool,
    /// Its WeChat handle.
    #[serde(default)]
    pub handle: Option<String>,
    /// Phone numbers the bot noted (a phone search finds it by them).
    #[serde(default)]
    pub phones: Vec<String>,
    /// The corporation remark the bot noted.
    #[serde(default)]
    pub corporation: Option<String>,
    /// The description the bot noted.
    #[serde(default)]
    pub description: Option<String>,
    /// The tags it has.
    #[serde(default)]
    pub tags: Vec<String>,
}

fn yes() -> bool {
    true
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

impl Scenario {
    /// Parses a scenario; errors say what is wrong and where.
    pub fn from_json(json: &str) -> Result<Self> {
        let scenario: Self = serde_json::from_str(json)
            .map_err(|error| Error::InvalidArgument(format!("invalid scenario: {error}")))?;
        for (index, step) in scenario.timeline.iter().enumerate() {
            if step.actions() != 1 {
                return Err(Error::InvalidArgument(format!(
                    "invalid scenario: timeline step {index} needs exactly one of say, join, \
                     leave, topic, invite, friend_request, scan, login"
                )));
            }
        }
        for (index, expectation) in scenario.expect.iter().enumerate() {
            if expectation.checks() != 1 {
                return Err(Error::InvalidArgument(format!(
                    "invalid scenario: expectation {index} needs exactly one of said, \
                     accepted_friendship, set_alias"
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

    /// The world, logged in as its `self` (or, with `login_qrcode`, logged out until the
    /// timeline logs it in).
    pub fn world(&self) -> MockWorld {
        let world = MockWorld::new();
        for contact in &self.world.contacts {
            let mut mock = MockContact::new(contact.id.as_str(), contact.name.as_str());
            mock.alias = contact.alias.clone();
            mock.friend = contact.friend;
            mock.handle = contact.handle.clone();
            mock.phones = contact.phones.clone();
            mock.corporation = contact.corporation.clone();
            mock.description = contact.description.clone();
            world.add_contact(mock);
            for tag in &contact.tags {
                world.tag_contact(tag, contact.id.as_str());
            }
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
        match &self.world.login_qrcode {
            None => world.login(self.world.self_id.as_str()),
            Some(qrcode) => {
                // Who logs in later, when a `login` step names nobody.
                world.state().self_id = Some(ContactId::from(self.world.self_id.as_str()));
                world.require_scan(qrcode.as_str());
            }
        }
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
                if expectation.is_met(world) {
                    break;
                }
                if tokio::time::Instant::now() >= deadline {
                    unmet.push(format!(
                        "the bot never {} within {} ms",
                        expectation.describe(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ScanStatus;

    #[test]
    fn the_shipped_scenario_parses() {
        let scenario =
            Scenario::from_json(include_str!("../../../scenarios/room_bot.json")).unwrap();
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
        let status = Scenario::from_json(
            r#"{"world":{"self":"b"},"timeline":[{"scan":{"status":"waitin"}}]}"#,
        )
        .unwrap_err();
        assert!(status.to_string().contains("waitin"), "{status}");
    }

    #[test]
    fn a_world_with_a_login_qrcode_starts_logged_out_and_the_timeline_logs_it_in() {
        let scenario = Scenario::from_json(
            r#"{"world":{"self":"bot","login_qrcode":"qr-1","contacts":[{"id":"bot","name":"Bot"}]},
                "timeline":[{"scan":{"status":"scanned"}},{"scan":{"status":4,"qrcode":"qr-2"}},
                            {"login":{}}]}"#,
        )
        .unwrap();
        let world = scenario.world();
        assert_eq!(world.current_user(), None);
        // What `Start` does: the QR code shows.
        world.start_puppet();
        let waiting = world.pending_scan().unwrap();
        assert_eq!(
            (waiting.status, waiting.qrcode.as_str()),
            (ScanStatus::Waiting, "qr-1")
        );
        scenario.timeline[0].apply(&world);
        let scanned = world.pending_scan().unwrap();
        assert_eq!(
            (scanned.status, scanned.qrcode.as_str()),
            (ScanStatus::Scanned, "qr-1")
        );
        scenario.timeline[1].apply(&world);
        assert_eq!(world.pending_scan().unwrap().qrcode, "qr-2");
        scenario.timeline[2].apply(&world);
        assert_eq!(world.current_user().unwrap().as_str(), "bot");
        assert_eq!(world.pending_scan(), None);
        // Without `login_qrcode`, logged in from the start, as before.
        let logged_in = Scenario::from_json(r#"{"world":{"self":"bot"}}"#).unwrap();
        assert_eq!(logged_in.world().current_user().unwrap().as_str(), "bot");
    }
}
