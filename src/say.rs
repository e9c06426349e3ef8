//! [`Sayable`]: what `say` can send, and [`Conversation`]: where it can go.

use crate::contact::Contact;
use crate::file_box::FileBox;
use crate::ids::ContactId;
use crate::mini_program::MiniProgram;
use crate::room::Room;
use crate::url_link::UrlLink;

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
