//! [`Contacts`]: finding contacts (python-wechaty's `Contact.find` / `Contact.find_all`).
//!
//! There is no search RPC: finding lists the contact ids (`ContactList`), then reads the
//! payloads — cached, the missing ones fetched concurrently with a bound — and matches them
//! here. Unlike rooms, that listing is reused while nothing says contacts changed
//! (`directory.rs`): a contact list can be 50,000 ids.

use std::fmt;
use std::sync::Arc;

use regex::Regex;

use super::directory::{ContactListing, Listing};
use super::payload::{self, ContactPayload};
use super::Contact;
use crate::error::Result;
use crate::generated::wechaty::puppet as pb;
use crate::ids::ContactId;
use crate::listed::load_listed;
use crate::wechaty::Wechaty;

/// The contacts of a bot: `bot.contacts()`.
///
/// ```no_run
/// use wechaty_client::{ContactQuery, ContactQueryFilter};
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let contacts = bot.contacts();
/// let ann = contacts.find("Ann").await?;                  // id, exact name or exact alias
/// let all = contacts.find_all(ContactQuery::All).await?;
/// let friends = contacts
///     .find_all(ContactQuery::matching(|contact| contact.friend))
///     .await?;
/// let by_regex = contacts.find_all(regex::Regex::new("^B").unwrap()).await?;
/// let by_filter = contacts.find(ContactQueryFilter::default().alias("Ann (alias)")).await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Contacts {
    bot: Wechaty,
}

/// Which contacts to find.
#[derive(Clone)]
#[non_exhaustive]
pub enum ContactQuery {
    /// Every contact.
    All,
    /// The contact with this id, and contacts whose name or alias (the remark the bot set) is
    /// exactly this.
    IdNameOrAlias(String),
    /// Every given field matches exactly.
    Filter(ContactQueryFilter),
    /// The name matches this regular expression.
    NameRegex(Regex),
    /// Your own test over the payload.
    Matching(Arc<dyn Fn(&ContactPayload) -> bool + Send + Sync>),
}

impl fmt::Debug for ContactQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("All"),
            Self::IdNameOrAlias(text) => f.debug_tuple("IdNameOrAlias").field(text).finish(),
            Self::Filter(filter) => f.debug_tuple("Filter").field(filter).finish(),
            Self::NameRegex(regex) => f.debug_tuple("NameRegex").field(&regex.as_str()).finish(),
            Self::Matching(_) => f.write_str("Matching(..)"),
        }
    }
}

impl ContactQuery {
    /// A query from a closure over the payload.
    pub fn matching(test: impl Fn(&ContactPayload) -> bool + Send + Sync + 'static) -> Self {
        Self::Matching(Arc::new(test))
    }

    /// Whether a contact's payload matches.
    pub fn matches(&self, contact: &ContactPayload) -> bool {
        let name = contact.name.as_deref();
        let alias = contact.alias.as_deref();
        match self {
            Self::All => true,
            Self::IdNameOrAlias(text) => {
                let text = Some(text.as_str());
                Some(contact.id.as_str()) == text || name == text || alias == text
            }
            Self::Filter(filter) => {
                let given = |wanted: &Option<String>, actual: Option<&str>| {
                    wanted
                        .as_deref()
                        .is_none_or(|wanted| actual == Some(wanted))
                };
                given(&filter.id, Some(contact.id.as_str()))
                    && given(&filter.name, name)
                    && given(&filter.alias, alias)
                    && given(&filter.weixin, contact.handle.as_deref())
            }
            Self::NameRegex(regex) => name.is_some_and(|name| regex.is_match(name)),
            Self::Matching(test) => test(contact),
        }
    }
}

impl From<&str> for ContactQuery {
    fn from(text: &str) -> Self {
        Self::IdNameOrAlias(text.to_owned())
    }
}

impl From<String> for ContactQuery {
    fn from(text: String) -> Self {
        Self::IdNameOrAlias(text)
    }
}

impl From<ContactQueryFilter> for ContactQuery {
    fn from(filter: ContactQueryFilter) -> Self {
        Self::Filter(filter)
    }
}

impl From<Regex> for ContactQuery {
    fn from(regex: Regex) -> Self {
        Self::NameRegex(regex)
    }
}

/// Fields a contact must match exactly; every given one must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContactQueryFilter {
    /// The contact id.
    pub id: Option<String>,
    /// The contact's own name.
    pub name: Option<String>,
    /// The alias (remark) the bot set for the contact.
    pub alias: Option<String>,
    /// The WeChat handle (`ContactPayload::handle`, the wire field `weixin`).
    pub weixin: Option<String>,
}

impl ContactQueryFilter {
    /// With an id to match.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// With a name to match.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With an alias to match.
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// With a WeChat handle to match.
    pub fn weixin(mut self, weixin: impl Into<String>) -> Self {
        self.weixin = Some(weixin.into());
        self
    }
}

impl Wechaty {
    /// Finding contacts.
    pub fn contacts(&self) -> Contacts {
        Contacts { bot: self.clone() }
    }
}

impl Contacts {
    /// Every contact matching `query`, in the service's order.
    pub async fn find_all(&self, query: impl Into<ContactQuery>) -> Result<Vec<Contact>> {
        let query = query.into();
        let listing = self.listing().await?;
        Ok(matching(&listing, &query)
            .map(|payload| self.bot.contact(payload.id.clone()))
            .collect())
    }

    /// The first contact matching `query`.
    pub async fn find(&self, query: impl Into<ContactQuery>) -> Result<Option<Contact>> {
        let query = query.into();
        let listing = self.listing().await?;
        let found = matching(&listing, &query)
            .next()
            .map(|payload| self.bot.contact(payload.id.clone()));
        Ok(found)
    }

    /// Every contact's payload, in the service's order: the last listing while it holds (see
    /// [`CacheLimits::contact_list_ttl`](crate::CacheLimits::contact_list_ttl)), else
    /// `ContactList` and the payloads (cached ones without an RPC). Contacts the service
    /// cannot describe any more are skipped with a warning.
    pub async fn payloads(&self) -> Result<Vec<Arc<ContactPayload>>> {
        Ok(self.listing().await?.payloads().to_vec())
    }

    async fn listing(&self) -> Result<Listing> {
        let caches = self.bot.caches();
        let directory = &caches.contact_list;
        if let Some(listing) = directory.current(caches.contacts.epoch()) {
            return Ok(listing);
        }
        // Stamped before asking: a change while the listing is taken voids it.
        let stamp = directory.stamp(caches.contacts.epoch());
        let response = self
            .bot
            .transport()?
            .unary(
                "ContactList",
                pb::ContactListRequest {},
                |mut c, r| async move { c.contact_list(r).await },
            )
            .await?;
        let (cache, transport) = (&caches.contacts, &self.bot.transport()?);
        let payloads = load_listed(
            response.ids,
            // The cached payloads a batch at a time; only the rest read through one by one.
            |ids: &[ContactId]| cache.read_many(ids, Arc::clone),
            self.bot.lookup_limit(),
            "contact",
            |id: ContactId| async move {
                let payload = payload::load_contact(cache, || Ok(transport.clone()), &id).await;
                (id, payload)
            },
        )
        .await?;
        let listing = Arc::new(ContactListing::new(payloads));
        directory.store(stamp, Arc::clone(&listing));
        Ok(listing)
    }
}

/// The contacts of `listing` that match `query`, in order. A query for an exact id, name or
/// alias looks its text up in the listing's index instead of reading every payload.
fn matching<'a>(
    listing: &'a ContactListing,
    query: &'a ContactQuery,
) -> Box<dyn Iterator<Item = &'a Arc<ContactPayload>> + 'a> {
    let text = match query {
        ContactQuery::IdNameOrAlias(text) => Some(text),
        ContactQuery::Filter(filter) => filter
            .id
            .as_ref()
            .or(filter.name.as_ref())
            .or(filter.alias.as_ref()),
        _ => None,
    };
    let candidates: Box<dyn Iterator<Item = &'a Arc<ContactPayload>>> = match text {
        Some(text) => Box::new(listing.with_text(text)),
        None => Box::new(listing.payloads().iter()),
    };
    Box::new(candidates.filter(move |payload| query.matches(payload)))
}
