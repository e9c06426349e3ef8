//! [`Contact`]: a handle to one contact, and its [`ContactPayload`].

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, ContactId};
use crate::message::Message;
use crate::say::Sayable;
use crate::wechaty::Wechaty;

/// A contact (a WeChat user or account). Creating the handle does no I/O; the payload is
/// fetched once and cached.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let ann = bot.contact("ann");
/// println!("{} (alias {:?})", ann.name().await?, ann.alias().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Contact {
    id: ContactId,
    bot: Wechaty,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Contact").field(&self.id).finish()
    }
}

impl PartialEq for Contact {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Contact {}

impl Contact {
    pub(crate) fn new(id: ContactId, bot: Wechaty) -> Self {
        Self { id, bot }
    }

    /// The contact id.
    pub fn id(&self) -> &ContactId {
        &self.id
    }

    /// The payload: from the cache, else `ContactPayload`.
    pub async fn payload(&self) -> Result<Arc<ContactPayload>> {
        let caches = self.bot.caches();
        if let Some(payload) = caches.contact(&self.id) {
            return Ok(payload);
        }
        let generation = caches.generation();
        let request = pb::ContactPayloadRequest {
            id: self.id.to_string(),
        };
        let response = self
            .bot
            .transport()?
            .unary("ContactPayload", request, |mut c, r| async move {
                c.contact_payload(r).await
            })
            .await?;
        let payload = Arc::new(ContactPayload::from_wire(response)?);
        caches.store_contact(Arc::clone(&payload), generation);
        Ok(payload)
    }

    /// The contact's own name (`""` when the service has none).
    pub async fn name(&self) -> Result<String> {
        Ok(self.payload().await?.name.clone().unwrap_or_default())
    }

    /// The alias the bot gave this contact.
    pub async fn alias(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.alias.clone())
    }

    /// Sends `something` (text, a card, a file, a link…) to this contact directly.
    pub async fn say(&self, something: impl Into<Sayable>) -> Result<Option<Message>> {
        self.bot.send(self.id.as_str(), something.into()).await
    }

    /// Whether this is the logged-in account.
    pub fn is_self(&self) -> bool {
        self.bot.current_user().as_ref() == Some(&self.id)
    }
}

/// A contact's gender, as the service reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContactGender {
    /// 0
    Unknown,
    /// 1
    Male,
    /// 2
    Female,
}

/// What kind of account a contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContactType {
    /// 0
    Unknown,
    /// 1: a person.
    Individual,
    /// 2: an official account.
    Official,
    /// 3: a WeCom (corporation) account.
    Corporation,
}

/// The data of a contact. `None` where the service sent `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContactPayload {
    /// The id.
    pub id: ContactId,
    /// Gender.
    pub gender: ContactGender,
    /// Account kind.
    pub kind: ContactType,
    /// The contact's own name.
    pub name: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// The alias the bot gave this contact.
    pub alias: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Province.
    pub province: Option<String>,
    /// Whether the contact is the bot's friend.
    pub friend: bool,
    /// Whether the bot starred the contact.
    pub star: bool,
    /// Signature line.
    pub signature: Option<String>,
    /// The WeChat handle (the wire field `weixin`).
    pub handle: Option<String>,
    /// Corporation (WeCom).
    pub corporation: Option<String>,
    /// Title (WeCom).
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Whether the contact is a coworker (WeCom).
    pub coworker: bool,
    /// Phone numbers.
    pub phones: Vec<String>,
}

impl ContactPayload {
    pub(crate) fn from_wire(response: pb::ContactPayloadResponse) -> Result<Self> {
        let id = non_empty(response.id).ok_or_else(|| Error::InvalidData {
            what: "contact payload",
            message: "the contact id is empty".into(),
        })?;
        Ok(Self {
            id: ContactId::from(id),
            gender: match response.gender {
                1 => ContactGender::Male,
                2 => ContactGender::Female,
                _ => ContactGender::Unknown,
            },
            kind: match response.r#type {
                1 => ContactType::Individual,
                2 => ContactType::Official,
                3 => ContactType::Corporation,
                _ => ContactType::Unknown,
            },
            name: non_empty(response.name),
            avatar: non_empty(response.avatar),
            address: non_empty(response.address),
            alias: non_empty(response.alias),
            city: non_empty(response.city),
            province: non_empty(response.province),
            friend: response.friend,
            star: response.star,
            signature: non_empty(response.signature),
            handle: non_empty(response.weixin),
            corporation: non_empty(response.corporation),
            title: non_empty(response.title),
            description: non_empty(response.description),
            coworker: response.coworker,
            phones: response
                .phones
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect(),
        })
    }
}
