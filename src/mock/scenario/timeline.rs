//! A scenario's timeline: the steps that happen in its world, one action each.

use serde::{Deserialize, Deserializer};

use crate::event::ScanStatus;
use crate::ids::ContactId;
use crate::location::Location;
use crate::mock::world::{MockFriendship, MockInvitation, MockWorld};

/// One thing that happens, `after_ms` after the previous step.
#[derive(Debug, Clone, Deserialize, PartialEq)]
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
    /// Someone asks to become the bot's friend.
    #[serde(default)]
    pub friend_request: Option<FriendRequestStep>,
    /// The puppet reports login progress (a `scan` event).
    #[serde(default)]
    pub scan: Option<ScanStep>,
    /// The bot logs in.
    #[serde(default)]
    pub login: Option<LoginStep>,
    /// Someone shares a place.
    #[serde(default)]
    pub location: Option<LocationStep>,
    /// Someone takes back their last message (a recall notice follows).
    #[serde(default)]
    pub recall: Option<FromStep>,
    /// The service delivers someone's last message again (a duplicate `message` event).
    #[serde(default)]
    pub redeliver: Option<FromStep>,
}

/// `location`: `from` shares a place, in `room` or directly.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LocationStep {
    /// The talker.
    pub from: String,
    /// The room, for a room message.
    #[serde(default)]
    pub room: Option<String>,
    /// The place's name.
    pub name: String,
    /// Its address.
    #[serde(default)]
    pub address: String,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
}

/// `recall`, `redeliver`: the step acts on the last message `from` sent.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FromStep {
    /// The talker whose last message it is.
    pub from: String,
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
    /// Contacts @-mentioned (a room message): the text gets their `@name`s in front, as
    /// WeChat writes them, and their ids go in `mention_ids`.
    #[serde(default)]
    pub mentions: Vec<String>,
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

/// `friend_request`: `from` asks to become the bot's friend, saying `hello`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FriendRequestStep {
    /// The friendship id (what accepting it names).
    pub id: String,
    /// Who asks (a contact of the world, usually with `"friend": false`).
    pub from: String,
    /// Their greeting.
    #[serde(default)]
    pub hello: String,
}

/// `scan`: a `scan` event with `status`, showing `qrcode`; it stays pending (replayed to new
/// Event streams) until the login.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ScanStep {
    /// `"waiting"`, `"scanned"`, `"confirmed"`, `"timeout"`, `"cancel"`, `"unknown"`, or the
    /// wire number.
    #[serde(deserialize_with = "scan_status")]
    pub status: ScanStatus,
    /// The QR code content (default: the one on show: the last scan's, else the world's
    /// `login_qrcode`).
    #[serde(default)]
    pub qrcode: Option<String>,
}

/// `login`: the bot logs in (`login`, then `ready`), as `contact` (default: the world's
/// `self`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LoginStep {
    /// Who logs in.
    #[serde(default)]
    pub contact: Option<String>,
}

/// A scan status by name (as `ScanStatus::name` writes it) or by number.
fn scan_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ScanStatus, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Number(i64),
        Name(String),
    }
    match Given::deserialize(deserializer)? {
        Given::Number(number) => Ok(ScanStatus::from(number)),
        Given::Name(name) => (0..=5)
            .map(ScanStatus::from)
            .find(|status| status.name() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown scan status {name:?}: expected waiting, scanned, confirmed, \
                     timeout, cancel, unknown or a number"
                ))
            }),
    }
}

impl Step {
    /// How many actions the step holds (a valid step: exactly one).
    pub(super) fn actions(&self) -> usize {
        [
            self.say.is_some(),
            self.join.is_some(),
            self.leave.is_some(),
            self.topic.is_some(),
            self.invite.is_some(),
            self.friend_request.is_some(),
            self.scan.is_some(),
            self.login.is_some(),
            self.location.is_some(),
            self.recall.is_some(),
            self.redeliver.is_some(),
        ]
        .into_iter()
        .filter(|given| *given)
        .count()
    }

    /// Makes this step happen in `world`, now.
    pub(crate) fn apply(&self, world: &MockWorld) {
        if let Some(say) = &self.say {
            match (&say.room, say.mentions.is_empty()) {
                (Some(room), false) => {
                    let mentioned: Vec<&str> = say.mentions.iter().map(String::as_str).collect();
                    world.receive_mentioning(say.from.as_str(), room, &mentioned, &say.text);
                }
                _ => {
                    world.receive_text(say.from.as_str(), say.room.as_deref(), say.text.as_str());
                }
            }
        }
        if let Some(place) = &self.location {
            let location = Location::new(
                place.name.as_str(),
                place.address.as_str(),
                place.latitude,
                place.longitude,
            );
            world.receive_location(place.from.as_str(), place.room.as_deref(), location);
        }
        if let Some(recall) = &self.recall {
            match world.last_message_from(&recall.from) {
                Some(id) => {
                    world.recall_by_talker(id.as_str());
                }
                None => {
                    tracing::warn!(from = %recall.from, "a recall step found no message to take back")
                }
            }
        }
        if let Some(again) = &self.redeliver {
            match world.last_message_from(&again.from) {
                Some(id) => {
                    world.redeliver(id.as_str());
                }
                None => tracing::warn!(from = %again.from, "a redeliver step found no message"),
            }
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
        if let Some(request) = &self.friend_request {
            world.friend_request(MockFriendship::request(
                request.id.as_str(),
                request.from.as_str(),
                request.hello.as_str(),
            ));
        }
        if let Some(scan) = &self.scan {
            let qrcode = scan.qrcode.clone().unwrap_or_else(|| world.shown_qrcode());
            world.scan(scan.status, &qrcode);
        }
        if let Some(login) = &self.login {
            let contact = match &login.contact {
                Some(contact) => ContactId::from(contact.as_str()),
                None => world.state().self_id(),
            };
            world.login(contact);
        }
    }
}
