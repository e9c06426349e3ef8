//! Typed events decoded from the `Event` stream.
//!
//! Each `EventResponse` carries an event type number and a JSON payload (camelCase keys,
//! protocol.md §7.2). Decoding is lenient: unknown keys are ignored, unknown types become
//! [`Event::Unknown`], and a payload that cannot be decoded is reported by [`decode`] as an
//! error for the caller to count and skip; it never ends the stream.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::ids::{ContactId, MessageId, RoomId};

mod payload;

pub(crate) use payload::decode;

/// One event from the puppet service (or from this client, for the markers).
///
/// ```
/// use wechaty_client::Event;
///
/// fn describe(event: &Event) -> String {
///     match event {
///         Event::Message { message_id } => format!("message {message_id}"),
///         Event::RoomJoin(join) => format!("{} joined {}", join.invitee_ids.len(), join.room_id),
///         Event::Dong { data } => format!("dong {}", data.as_deref().unwrap_or("")),
///         other => other.name().to_string(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The service is alive (type 1). The first event of every stream.
    Heartbeat {
        /// Free text.
        data: Option<String>,
    },
    /// A message arrived or was sent (type 2); fetch it with its id.
    Message {
        /// The message id.
        message_id: MessageId,
    },
    /// The answer to a `ding` (type 3), echoing its data.
    Dong {
        /// The data sent with `ding`.
        data: Option<String>,
    },
    /// A post (moment) event (type 4).
    Post {
        /// The post id.
        post_id: String,
    },
    /// The puppet reported an error (type 16).
    Error(ServiceError),
    /// A friendship request or confirmation (type 17).
    Friendship {
        /// The friendship id.
        friendship_id: String,
    },
    /// The bot was invited into a room (type 18).
    RoomInvite {
        /// The invitation id.
        room_invitation_id: String,
    },
    /// Members joined a room (type 19). Shared: every subscriber gets the same one.
    RoomJoin(Arc<RoomJoin>),
    /// Members left or were removed from a room (type 20).
    RoomLeave(Arc<RoomLeave>),
    /// A room's topic changed (type 21).
    RoomTopic(Arc<RoomTopic>),
    /// A room's announcement changed (type 32; newer servers only).
    RoomAnnounce(Arc<RoomAnnounce>),
    /// Login QR code progress (type 22).
    Scan {
        /// Where the login stands.
        status: ScanStatus,
        /// The QR code content to show, when there is one.
        qrcode: Option<String>,
        /// Free text.
        data: Option<String>,
    },
    /// The puppet finished loading its data (type 23).
    Ready {
        /// Free text.
        data: Option<String>,
    },
    /// The puppet reset (type 24; the official server never forwards it).
    Reset {
        /// Free text.
        data: Option<String>,
    },
    /// The account logged in (type 25); replayed at the start of every stream.
    Login {
        /// The bot's own contact id.
        contact_id: ContactId,
    },
    /// The account logged out (type 26).
    Logout {
        /// The contact that logged out.
        contact_id: ContactId,
        /// The reason, when given.
        data: Option<String>,
    },
    /// A cached payload is stale (type 27).
    Dirty {
        /// What kind of payload.
        payload_type: PayloadType,
        /// Its id (for room members: the room id).
        payload_id: String,
    },
    /// An event type this client does not know; kept as it came.
    Unknown {
        /// The event type number.
        kind: i32,
        /// The raw JSON payload.
        payload: String,
    },
    /// Marker: this subscriber fell behind and `missed` events were dropped for it; it
    /// continues with the newest events.
    Lagged {
        /// How many events this subscriber missed.
        missed: u64,
    },
    /// Marker: the Event stream broke and was reopened. Events fired on the service in between
    /// were lost (the service does not queue them); caches were refreshed.
    Reconnected,
    /// Marker: the service sent an event this client could not decode (it was skipped and
    /// counted; see `Wechaty::malformed_events`).
    Malformed {
        /// The event type number.
        kind: i32,
        /// What was wrong with it.
        reason: String,
    },
}

/// How long a `sync()` waits for the service to echo its `DirtyPayload` as a `dirty` event
/// (some services never do; the refresh goes ahead anyway).
pub(crate) const SYNC_ECHO_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// `Event::Malformed`'s place in [`EVENT_NAMES`].
pub(crate) const MALFORMED_ORDINAL: usize = 20;

/// The names of the events, in the order of `Event::ordinal`.
pub(crate) const EVENT_NAMES: [&str; 21] = [
    "heartbeat",
    "message",
    "dong",
    "post",
    "error",
    "friendship",
    "room-invite",
    "room-join",
    "room-leave",
    "room-topic",
    "room-announce",
    "scan",
    "ready",
    "reset",
    "login",
    "logout",
    "dirty",
    "unknown",
    "lagged",
    "reconnected",
    "malformed",
];

impl Event {
    /// The wire name of the event (`"room-join"`, `"message"`, …), or a marker's name
    /// (`"lagged"`, `"reconnected"`, `"malformed"`).
    pub fn name(&self) -> &'static str {
        EVENT_NAMES[self.ordinal()]
    }

    /// The room a room event (join, leave, topic, announce) is about; `None` for the others
    /// (a message names its room only in its payload).
    #[cfg(feature = "nats")]
    pub(crate) fn room_id(&self) -> Option<&RoomId> {
        match self {
            Event::RoomJoin(join) => Some(&join.room_id),
            Event::RoomLeave(leave) => Some(&leave.room_id),
            Event::RoomTopic(topic) => Some(&topic.room_id),
            Event::RoomAnnounce(announce) => Some(&announce.room_id),
            _ => None,
        }
    }

    /// The event's place in [`EVENT_NAMES`].
    pub(crate) fn ordinal(&self) -> usize {
        match self {
            Event::Heartbeat { .. } => 0,
            Event::Message { .. } => 1,
            Event::Dong { .. } => 2,
            Event::Post { .. } => 3,
            Event::Error(_) => 4,
            Event::Friendship { .. } => 5,
            Event::RoomInvite { .. } => 6,
            Event::RoomJoin(_) => 7,
            Event::RoomLeave(_) => 8,
            Event::RoomTopic(_) => 9,
            Event::RoomAnnounce(_) => 10,
            Event::Scan { .. } => 11,
            Event::Ready { .. } => 12,
            Event::Reset { .. } => 13,
            Event::Login { .. } => 14,
            Event::Logout { .. } => 15,
            Event::Dirty { .. } => 16,
            Event::Unknown { .. } => 17,
            Event::Lagged { .. } => 18,
            Event::Reconnected => 19,
            Event::Malformed { .. } => 20,
        }
    }
}

/// Members joined a room.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomJoin {
    /// The room.
    pub room_id: RoomId,
    /// Who joined.
    pub invitee_ids: Vec<ContactId>,
    /// Who invited them, when known.
    pub inviter_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// Members left or were removed from a room.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomLeave {
    /// The room.
    pub room_id: RoomId,
    /// Who left.
    pub removee_ids: Vec<ContactId>,
    /// Who removed them (the leaver themself when they quit), when known.
    pub remover_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// A room's topic changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomTopic {
    /// The room.
    pub room_id: RoomId,
    /// The topic now.
    pub new_topic: String,
    /// The topic before.
    pub old_topic: String,
    /// Who changed it, when known.
    pub changer_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// A room's announcement changed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomAnnounce {
    /// The room.
    pub room_id: RoomId,
    /// The announcement now.
    pub new_announce: String,
    /// The announcement before, when the service says.
    pub old_announce: Option<String>,
    /// Who changed it, when known.
    pub changer_id: Option<ContactId>,
    /// When it happened.
    pub date: SystemTime,
}

/// Where a login stands, as `on_scan` handlers receive it.
///
/// ```no_run
/// # fn demo(bot: wechaty_client::Wechaty) {
/// bot.on_scan(|scan| async move {
///     if let Some(qr_code) = &scan.qr_code {
///         println!("scan to log in ({}): {qr_code}", scan.status.name());
///     }
///     Ok(())
/// })
/// .detach();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scan {
    /// Where the login stands.
    pub status: ScanStatus,
    /// The QR code content to show, when there is one.
    pub qr_code: Option<String>,
    /// Free text.
    pub data: Option<String>,
}

impl Scan {
    /// The scan an [`Event::Scan`] carries.
    pub fn from_event(event: &Event) -> Option<Self> {
        match event {
            Event::Scan {
                status,
                qrcode,
                data,
            } => Some(Self {
                status: *status,
                qr_code: qrcode.clone(),
                data: data.clone(),
            }),
            _ => None,
        }
    }
}

/// What a person at a terminal needs: while the code waits to be scanned, the QR code drawn
/// with [`qr_code_text`](crate::qr_code_text) and the page that shows it
/// ([`qr_code_url`](crate::qr_code_url), for a terminal where the drawing does not scan);
/// later, how the login goes. Lines end in `\n`.
///
/// ```
/// use wechaty_client::{Event, Scan, ScanStatus};
/// let event = Event::Scan { status: ScanStatus::Scanned, qrcode: None, data: None };
/// assert_eq!(Scan::from_event(&event).unwrap().to_string(), "login: scanned\n");
/// ```
impl fmt::Display for Scan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.qr_code {
            Some(qr_code) if self.status == ScanStatus::Waiting => {
                // A code too long to draw still has its page.
                if let Ok(drawn) = crate::qr_code::qr_code_text(qr_code) {
                    f.write_str(&drawn)?;
                }
                writeln!(
                    f,
                    "scan the QR code with WeChat, or open {}",
                    crate::qr_code::qr_code_url(qr_code)
                )
            }
            _ => writeln!(f, "login: {}", self.status.name()),
        }
    }
}

/// An error the puppet reported on the stream (the `gerror` JSON of the official server).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceError {
    /// The gRPC-style code, when given.
    pub code: Option<i64>,
    /// The error's first line.
    pub message: String,
}

/// Where a QR-code login stands (`scan` events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanStatus {
    /// 0
    Unknown,
    /// 1
    Cancel,
    /// 2: waiting for a scan.
    Waiting,
    /// 3: scanned, waiting for confirmation on the phone.
    Scanned,
    /// 4
    Confirmed,
    /// 5
    Timeout,
    /// A number this client does not know.
    Other(i64),
}

impl ScanStatus {
    /// Its name in kebab-case: `"waiting"`, `"scanned"`, `"confirmed"`, `"timeout"`,
    /// `"cancel"`; `"unknown"` for 0 and for numbers this client does not know (see
    /// [`number`](Self::number)).
    ///
    /// ```
    /// use wechaty_client::ScanStatus;
    /// assert_eq!(ScanStatus::from(2).name(), "waiting");
    /// assert_eq!(ScanStatus::from(7).name(), "unknown");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Self::Unknown | Self::Other(_) => "unknown",
            Self::Cancel => "cancel",
            Self::Waiting => "waiting",
            Self::Scanned => "scanned",
            Self::Confirmed => "confirmed",
            Self::Timeout => "timeout",
        }
    }

    /// The wire number.
    pub fn number(self) -> i64 {
        match self {
            Self::Unknown => 0,
            Self::Cancel => 1,
            Self::Waiting => 2,
            Self::Scanned => 3,
            Self::Confirmed => 4,
            Self::Timeout => 5,
            Self::Other(other) => other,
        }
    }
}

impl From<i64> for ScanStatus {
    fn from(value: i64) -> Self {
        match value {
            0 => Self::Unknown,
            1 => Self::Cancel,
            2 => Self::Waiting,
            3 => Self::Scanned,
            4 => Self::Confirmed,
            5 => Self::Timeout,
            other => Self::Other(other),
        }
    }
}

/// The kind of payload a `dirty` event invalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadType {
    /// 0
    Unspecified,
    /// 1
    Message,
    /// 2
    Contact,
    /// 3
    Room,
    /// 4: all members of the room whose id is the payload id.
    RoomMember,
    /// 5
    Friendship,
    /// 6 (event JSON only)
    Post,
    /// A number this client does not know.
    Other(i64),
}

impl From<i64> for PayloadType {
    fn from(value: i64) -> Self {
        match value {
            0 => Self::Unspecified,
            1 => Self::Message,
            2 => Self::Contact,
            3 => Self::Room,
            4 => Self::RoomMember,
            5 => Self::Friendship,
            6 => Self::Post,
            other => Self::Other(other),
        }
    }
}

impl PayloadType {
    /// The wire number.
    pub fn number(self) -> i64 {
        match self {
            Self::Unspecified => 0,
            Self::Message => 1,
            Self::Contact => 2,
            Self::Room => 3,
            Self::RoomMember => 4,
            Self::Friendship => 5,
            Self::Post => 6,
            Self::Other(other) => other,
        }
    }
}

/// How long ago `date` was (zero when unknown or in the future): the `age()` of messages and
/// invitations.
pub(crate) fn age_of(date: Option<SystemTime>) -> Duration {
    date.and_then(|date| SystemTime::now().duration_since(date).ok())
        .unwrap_or_default()
}

/// Converts a service timestamp to a time: values below 1e11 are seconds, others milliseconds
/// (the rule of the official stack, since puppets report either). `None` for values that are
/// negative, not finite or out of range.
pub fn timestamp_to_time(value: f64) -> Option<SystemTime> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let millis = if value < 1e11 { value * 1000.0 } else { value };
    if millis >= u64::MAX as f64 {
        return None;
    }
    // Whole milliseconds exactly; f64 seconds would lose the last millisecond of today's dates.
    let whole = Duration::from_millis(millis.trunc() as u64);
    let fraction = Duration::from_nanos((millis.fract() * 1e6).round() as u64);
    UNIX_EPOCH.checked_add(whole + fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A time `value` milliseconds after the epoch (also used by `payload`'s tests).
    pub(super) fn ms(value: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(value)
    }

    #[test]
    fn seconds_and_milliseconds() {
        assert_eq!(
            timestamp_to_time(1_795_626_223.0),
            Some(ms(1_795_626_223_000))
        );
        assert_eq!(
            timestamp_to_time(1_795_626_223_867.0),
            Some(ms(1_795_626_223_867))
        );
        assert_eq!(timestamp_to_time(-1.0), None);
        assert_eq!(timestamp_to_time(f64::NAN), None);
        assert_eq!(timestamp_to_time(f64::MAX), None);
    }
}
