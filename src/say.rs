//! Everything that sends: what `say` accepts ([`Sayable`]), where it can go
//! ([`Conversation`]), the `say` of rooms, contacts and messages (with mentions, replies and
//! forwards), and `Wechaty::send`, which maps each kind to its RPC.

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId};
use crate::location::Location;
use crate::mention::{shown_name, with_mentions};
use crate::message::Message;
use crate::mini_program::MiniProgram;
use crate::room::Room;
use crate::url_link::UrlLink;
use crate::wechaty::Wechaty;

/// Something to send with `say`, each kind through its own RPC.
///
/// ```
/// use wechaty_client::{FileBox, Sayable, UrlLink};
/// let text: Sayable = "hello".into();
/// let file: Sayable = FileBox::from_file("report.pdf").into();
/// let link: Sayable = UrlLink::create("", "", "Docs", "https://docs.rs").into();
/// assert!(matches!(text, Sayable::Text(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Sayable {
    /// A text message (`MessageSendText`).
    Text(String),
    /// A contact card (`MessageSendContact`).
    Contact(ContactId),
    /// A file (`MessageSendFile`; big files go through `Upload` first).
    File(FileBox),
    /// A link card (`MessageSendUrl`).
    UrlLink(UrlLink),
    /// A mini program card (`MessageSendMiniProgram`).
    MiniProgram(MiniProgram),
    /// A place on the map (`MessageSendLocation`).
    Location(Location),
}

impl From<&str> for Sayable {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Sayable {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&String> for Sayable {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}

impl From<&Contact> for Sayable {
    fn from(contact: &Contact) -> Self {
        Self::Contact(contact.id().clone())
    }
}

impl From<Contact> for Sayable {
    fn from(contact: Contact) -> Self {
        Self::Contact(contact.id().clone())
    }
}

impl From<FileBox> for Sayable {
    fn from(file: FileBox) -> Self {
        Self::File(file)
    }
}

impl From<UrlLink> for Sayable {
    fn from(link: UrlLink) -> Self {
        Self::UrlLink(link)
    }
}

impl From<MiniProgram> for Sayable {
    fn from(card: MiniProgram) -> Self {
        Self::MiniProgram(card)
    }
}

impl From<Location> for Sayable {
    fn from(place: Location) -> Self {
        Self::Location(place)
    }
}

/// Where messages go: a room or a contact (direct chat).
pub trait Conversation {
    /// The id a message is sent to.
    fn conversation_id(&self) -> &str;
}

impl Conversation for Room {
    fn conversation_id(&self) -> &str {
        self.id().as_str()
    }
}

impl Conversation for Contact {
    fn conversation_id(&self) -> &str {
        self.id().as_str()
    }
}

impl Room {
    /// Sends `something` into the room: text, a contact card, a [`FileBox`] (any size: big
    /// files are uploaded first), a [`UrlLink`] or a [`MiniProgram`]. Returns the sent
    /// message when the service reports its id.
    pub async fn say(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        self.bot().send(self.id().as_str(), something.into()).await
    }

    /// Sends `text` mentioning `contacts`: the text starts with `@` + (room alias, else name)
    /// of each, separated by U+2005, then a space; their ids travel in `mentional_ids`.
    pub async fn say_with_mentions(
        &self,
        text: &str,
        contacts: &[Contact],
    ) -> Result<Option<Message>> {
        if contacts.is_empty() {
            return self.say(text).await;
        }
        let mut names = Vec::with_capacity(contacts.len());
        for contact in contacts {
            names.push(shown_name(self, contact).await?);
        }
        let text = with_mentions(&names, text);
        let ids = contacts.iter().map(|c| c.id().to_string()).collect();
        self.bot().send_text(self.id().to_string(), text, ids).await
    }
}

impl Contact {
    /// Sends `something` (text, a card, a file, a link…) to this contact directly.
    pub async fn say(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        self.bot().send(self.id().as_str(), something.into()).await
    }
}

impl Message {
    /// Sends `something` (text, a card, a file, a link…) into this message's conversation.
    /// Returns the sent message when the service reports its id.
    pub async fn say(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        let conversation = self.conversation_id().await?;
        self.bot().send(&conversation, something.into()).await
    }

    /// The same as [`say`](Self::say): answers in the same conversation.
    pub async fn reply(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        self.say(something).await
    }

    /// Forwards this message to a room or contact (`MessageForward`).
    #[allow(deprecated)] // old servers answer in the wrapper
    pub async fn forward(&self, to: &impl Conversation) -> Result<Option<Message>> {
        self.bot().admit_send(to.conversation_id()).await?;
        let request = pb::MessageForwardRequest {
            message_id: self.id().to_string(),
            conversation_id: to.conversation_id().to_owned(),
        };
        let response = self
            .bot()
            .transport()?
            .unary("MessageForward", request, |mut c, r| async move {
                c.message_forward(r).await
            })
            .await?;
        Ok(sent_id(response.id, response.id_string_value_deprecated)
            .map(|id| self.bot().message(id)))
    }
}

/// New servers put a sent message's id in `id`, old ones only in the deprecated wrapper.
fn sent_id(id: String, wrapper: Option<String>) -> Option<String> {
    non_empty(id).or_else(|| wrapper.and_then(non_empty))
}

impl Wechaty {
    /// Sends `something` to a room or contact id, each kind through its RPC.
    #[allow(deprecated)] // the JSON fields too, for servers before the typed ones
    pub(crate) async fn send(
        &self,
        conversation_id: &str,
        something: Sayable,
    ) -> Result<Option<Message>> {
        let conversation_id = conversation_id.to_owned();
        let transport = self.transport()?;
        let id = match something {
            Sayable::Text(text) => return self.send_text(conversation_id, text, Vec::new()).await,
            Sayable::Contact(contact) => {
                self.admit_send(&conversation_id).await?;
                let request = pb::MessageSendContactRequest {
                    conversation_id,
                    contact_id: contact.to_string(),
                };
                let response = transport
                    .unary("MessageSendContact", request, |mut c, r| async move {
                        c.message_send_contact(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::File(file) => {
                // Uploaded first: a big file's upload takes no slot from other sends.
                let ready = file.prepare(self, self.inline_file_limit()).await?;
                self.admit_send(&conversation_id).await?;
                let request = pb::MessageSendFileRequest {
                    conversation_id,
                    file_box: ready.to_json()?,
                };
                let response = transport
                    .unary("MessageSendFile", request, |mut c, r| async move {
                        c.message_send_file(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::UrlLink(link) => {
                self.admit_send(&conversation_id).await?;
                let request = pb::MessageSendUrlRequest {
                    conversation_id,
                    url_link_deprecated: link.to_legacy_json(),
                    url_link: Some(link.to_wire()),
                };
                let response = transport
                    .unary("MessageSendUrl", request, |mut c, r| async move {
                        c.message_send_url(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::MiniProgram(card) => {
                self.admit_send(&conversation_id).await?;
                let request = pb::MessageSendMiniProgramRequest {
                    conversation_id,
                    mini_program_deprecated: card.to_json(),
                    mini_program: Some(card.to_wire()),
                };
                let response = transport
                    .unary("MessageSendMiniProgram", request, |mut c, r| async move {
                        c.message_send_mini_program(r).await
                    })
                    .await?;
                sent_id(response.id, response.id_string_value_deprecated)
            }
            Sayable::Location(place) => {
                if let Some(problem) = place.problem() {
                    return Err(Error::InvalidArgument(problem));
                }
                self.admit_send(&conversation_id).await?;
                let request = pb::MessageSendLocationRequest {
                    conversation_id,
                    location: Some(place.to_wire()),
                };
                let response = transport
                    .unary("MessageSendLocation", request, |mut c, r| async move {
                        c.message_send_location(r).await
                    })
                    .await?;
                // The one send answer without the old wrapper (protocol.md §4.6).
                non_empty(response.id)
            }
        };
        Ok(id.map(|id| self.message(id)))
    }

    /// `MessageSendText` into a room or direct chat; `mentions` go in `mentional_ids`.
    #[allow(deprecated)] // old servers answer in the wrapper
    pub(crate) async fn send_text(
        &self,
        conversation_id: String,
        text: String,
        mentions: Vec<String>,
    ) -> Result<Option<Message>> {
        self.admit_send(&conversation_id).await?;
        let request = pb::MessageSendTextRequest {
            conversation_id,
            text,
            mentional_ids: mentions,
        };
        let response = self
            .transport()?
            .unary("MessageSendText", request, |mut c, r| async move {
                c.message_send_text(r).await
            })
            .await?;
        Ok(sent_id(response.id, response.id_string_value_deprecated).map(|id| self.message(id)))
    }
}
