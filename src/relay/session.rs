//! What a relay knows of the session, to tell a `login` or `ready` the service replays (on
//! every new Event stream) from a new one, and mark it ([`HEADER_REPLAY`]) so that workers
//! call no handler for it. A relay that starts (or takes over) learns the session from the
//! last `login`, `logout` and `ready` its stream holds.

use async_nats::jetstream;

use super::envelope::{partition, HEADER_TYPE, SESSION};
use crate::event::{self, Event};
use crate::ids::ContactId;

#[cfg(doc)]
use super::envelope::HEADER_REPLAY;

#[derive(Debug, Default)]
pub(crate) struct Session {
    user: Option<ContactId>,
    ready: bool,
    /// A new stream, until its first event that is not a replay.
    replaying: bool,
}

impl Session {
    /// The session as the last `login`, `logout` and `ready` in `stream` tell it.
    pub(crate) async fn from_stream(
        context: &jetstream::Context,
        stream: &str,
        account: &str,
    ) -> Self {
        let mut session = Self::default();
        let Ok(handle) = context.get_stream(stream).await else {
            return session;
        };
        let last = |name: &str| {
            let subject = format!("{stream}.{account}.state.{name}._.p{}", partition(SESSION));
            let request = handle.raw_message_builder().last_by_subject(subject);
            async move { request.send().await.ok() }
        };
        let (login, logout, ready) = (
            last("login").await,
            last("logout").await,
            last("ready").await,
        );
        let sequence = |message: &Option<jetstream::message::StreamMessage>| {
            message.as_ref().map_or(0, |message| message.sequence)
        };
        let (login_at, logout_at, ready_at) =
            (sequence(&login), sequence(&logout), sequence(&ready));
        if let Some(login) = login.filter(|_| login_at > logout_at) {
            let kind = login
                .headers
                .get(HEADER_TYPE)
                .and_then(|kind| kind.as_str().parse::<i32>().ok());
            let payload = std::str::from_utf8(&login.payload).ok();
            if let (Some(kind), Some(payload)) = (kind, payload) {
                if let Ok(Event::Login { contact_id }) = event::decode(kind, payload) {
                    session.user = Some(contact_id);
                    session.ready = ready_at > login_at;
                }
            }
        }
        session
    }

    /// A new Event stream opened: the service replays the session first.
    pub(crate) fn new_stream(&mut self) {
        self.replaying = true;
    }

    /// Follows `event`; `true` when it is a replay of what the session already is.
    pub(crate) fn is_replay(&mut self, event: &Event) -> bool {
        match event {
            Event::Heartbeat { .. } | Event::Scan { .. } => false,
            Event::Login { contact_id } => {
                let same = self.user.as_ref() == Some(contact_id);
                if !same {
                    self.ready = false;
                }
                self.user = Some(contact_id.clone());
                self.replaying && same
            }
            Event::Ready { .. } => {
                let was_ready = std::mem::replace(&mut self.ready, true);
                self.replaying && was_ready
            }
            Event::Logout { .. } => {
                *self = Self::default();
                false
            }
            _ => {
                self.replaying = false;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(id: &str) -> Event {
        Event::Login {
            contact_id: ContactId::from(id),
        }
    }

    #[test]
    fn a_login_again_on_a_new_stream_is_a_replay_until_something_else_comes() {
        let mut session = Session::default();
        session.new_stream();
        assert!(!session.is_replay(&login("bob")), "the first login is new");
        assert!(!session.is_replay(&Event::Ready { data: None }));
        session.new_stream();
        assert!(session.is_replay(&login("bob")));
        assert!(session.is_replay(&Event::Ready { data: None }));
        assert!(!session.is_replay(&Event::Message {
            message_id: "m".into()
        }));
        // Past the replay, a login is news (the service would not send one otherwise).
        assert!(!session.is_replay(&login("bob")));
        session.new_stream();
        assert!(!session.is_replay(&login("alice")), "another account");
        session.is_replay(&Event::Logout {
            contact_id: ContactId::from("alice"),
            data: None,
        });
        session.new_stream();
        assert!(!session.is_replay(&login("alice")), "logged out in between");
    }
}
