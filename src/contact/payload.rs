//! What the service says of a contact ([`ContactPayload`]), from its wire form, and how it is
//! read: from the cache, else with `ContactPayload`.

use std::sync::Arc;

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::{non_empty, weight_of_text, ContactId};
use crate::transport::Transport;

/// The contact payloads a bot keeps.
pub(crate) type ContactCache = Cache<ContactId, Arc<ContactPayload>>;

/// The payload of `id`: cached, else `ContactPayload` (and cached unless the contact was
/// invalidated meanwhile). `transport` is asked for only on a miss: a warm read is one lookup.
pub(crate) async fn load_contact(
    cache: &ContactCache,
    transport: impl FnOnce() -> Result<Transport>,
    id: &ContactId,
) -> Result<Arc<ContactPayload>> {
    cache
        .read_through(id, || async {
            let request = pb::ContactPayloadRequest { id: id.to_string() };
            let response = transport()?
                .unary("ContactPayload", request, |mut c, r| async move {
                    c.contact_payload(r).await
                })
                .await?;
            let mut payload = ContactPayload::from_wire(response)?;
            // One copy of the id: the cache's key and the payload's id share it.
            if payload.id == *id {
                payload.id = id.clone();
            }
            Ok(Arc::new(payload))
        })
        .await
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
    /// About how many bytes the payload holds (for the cache's byte bound).
    pub(crate) fn weight(&self) -> usize {
        let texts = [
            &self.name,
            &self.avatar,
            &self.address,
            &self.alias,
            &self.city,
            &self.province,
            &self.signature,
            &self.handle,
            &self.corporation,
            &self.title,
            &self.description,
        ];
        std::mem::size_of::<Self>()
            + self.id.weight()
            + texts.into_iter().map(weight_of_text).sum::<usize>()
            + self
                .phones
                .iter()
                .map(|phone| phone.len() + std::mem::size_of::<String>())
                .sum::<usize>()
    }
}

impl ContactPayload {
    pub(crate) fn from_wire(response: pb::ContactPayloadResponse) -> Result<Self> {
        let id = non_empty(response.id)
            .ok_or_else(|| Error::invalid_data("contact payload", "the contact id is empty"))?;
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
