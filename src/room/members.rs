//! The members of a room: who they are, finding them by name, room alias or contact alias
//! ([`MemberQuery`], [`RoomMemberQueryFilter`]), and what was loaded to find them
//! ([`RoomMember`]). The caches and RPCs behind it are in `listing.rs`.

use super::handle::Room;
use super::listing::{MemberPayloads, PayloadKinds, RoomMembers};
use crate::contact::Contact;
use crate::error::Result;

impl Room {
    /// What listing this room's members reads and calls.
    pub(crate) fn members_of(&self) -> Result<RoomMembers<'_>> {
        let caches = self.bot.caches();
        Ok(RoomMembers {
            room: &self.id,
            members: &caches.members,
            contacts: &caches.contacts,
            transport: self.bot.transport()?,
            lookup_limit: self.bot.lookup_limit(),
        })
    }

    /// The member's room alias (group nickname), if they set one.
    pub async fn alias(&self, member: &Contact) -> Result<Option<String>> {
        Ok(self
            .members_of()?
            .payload(member.id())
            .await?
            .room_alias
            .clone())
    }

    /// Whether `contact` is a member.
    pub async fn has(&self, contact: &Contact) -> Result<bool> {
        Ok(self.members_of()?.ids().await?.contains(contact.id()))
    }

    /// All members (one `RoomMemberList`, cached; no payloads are loaded).
    pub async fn members(&self) -> Result<Vec<Contact>> {
        let ids = self.members_of()?.ids().await?;
        Ok(ids.iter().map(|id| self.bot.contact(id.clone())).collect())
    }

    /// Members matching `query`: a string matches exactly the name, room alias or contact alias
    /// (the union, in member order); a [`RoomMemberQueryFilter`] needs every given field to
    /// match.
    ///
    /// [`MemberQuery::All`] loads the contact payloads only (as python-wechaty's `member_list()`
    /// readies each contact): afterwards `contact.name()` of every member answers from the
    /// cache.
    pub async fn member_list(&self, query: impl Into<MemberQuery>) -> Result<Vec<Contact>> {
        let query = query.into();
        let kinds = match query {
            MemberQuery::All => PayloadKinds::CONTACT,
            _ => query.needs(),
        };
        let listing = self.members_of()?.listing(kinds).await?;
        Ok(listing
            .iter()
            .filter(|(_, payloads)| query.matches(payloads))
            .map(|(id, _)| self.bot.contact(id.clone()))
            .collect())
    }

    /// The first member matching `query`.
    pub async fn member(&self, query: impl Into<MemberQuery>) -> Result<Option<Contact>> {
        Ok(self.member_list(query).await?.into_iter().next())
    }

    /// Members matching `query`, with what was loaded to match them. [`MemberQuery::All`]
    /// loads names, room aliases and contact aliases of everyone (both payload kinds,
    /// concurrently with a bound, cached).
    pub async fn member_details(&self, query: impl Into<MemberQuery>) -> Result<Vec<RoomMember>> {
        let query = query.into();
        let listing = self.members_of()?.listing(query.needs()).await?;
        Ok(listing
            .iter()
            .filter(|(_, payloads)| query.matches(payloads))
            .map(|(id, payloads)| RoomMember {
                contact: self.bot.contact(id.clone()),
                payloads: payloads.clone(),
            })
            .collect())
    }
}

/// A member as [`Room::member_details`] found them. It shares the cached payloads (cloning
/// one copies no text).
///
/// ```no_run
/// # async fn demo(room: wechaty_client::Room) -> wechaty_client::Result<()> {
/// for member in room.member_details(wechaty_client::MemberQuery::All).await? {
///     let shown = member.room_alias().or(member.name()).unwrap_or("?");
///     println!("{} {shown}", member.contact.id());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomMember {
    /// The contact.
    pub contact: Contact,
    /// What the query needed of them.
    payloads: MemberPayloads,
}

impl RoomMember {
    /// Their name (when it was needed and known): the contact's, else the one the room knows.
    pub fn name(&self) -> Option<&str> {
        self.payloads.name()
    }

    /// Their room alias (when it was needed and set).
    pub fn room_alias(&self) -> Option<&str> {
        self.payloads.room_alias()
    }

    /// The alias the bot gave them (when it was needed and set).
    pub fn contact_alias(&self) -> Option<&str> {
        self.payloads.contact_alias()
    }
}

/// Fields a member must match; every given one must match exactly.
///
/// ```
/// use wechaty_client::RoomMemberQueryFilter;
/// let filter = RoomMemberQueryFilter::default().room_alias("Ali (room nick)");
/// assert_eq!(filter.room_alias.as_deref(), Some("Ali (room nick)"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomMemberQueryFilter {
    /// The member's own name.
    pub name: Option<String>,
    /// Their room alias.
    pub room_alias: Option<String>,
    /// The alias the bot gave them.
    pub contact_alias: Option<String>,
}

impl RoomMemberQueryFilter {
    /// With a name to match.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With a room alias to match.
    pub fn room_alias(mut self, alias: impl Into<String>) -> Self {
        self.room_alias = Some(alias.into());
        self
    }

    /// With a contact alias to match.
    pub fn contact_alias(mut self, alias: impl Into<String>) -> Self {
        self.contact_alias = Some(alias.into());
        self
    }
}

/// Which members [`Room::member_list`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemberQuery {
    /// Everyone.
    All,
    /// Exactly this name, room alias or contact alias (any of them).
    Text(String),
    /// Every given field matches.
    Filter(RoomMemberQueryFilter),
}

impl From<&str> for MemberQuery {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for MemberQuery {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<RoomMemberQueryFilter> for MemberQuery {
    fn from(filter: RoomMemberQueryFilter) -> Self {
        Self::Filter(filter)
    }
}

impl MemberQuery {
    /// Which payload kinds matching needs.
    fn needs(&self) -> PayloadKinds {
        match self {
            Self::All | Self::Text(_) => PayloadKinds::BOTH,
            Self::Filter(filter) => PayloadKinds {
                member: filter.name.is_some() || filter.room_alias.is_some(),
                contact: filter.contact_alias.is_some(),
            },
        }
    }

    fn matches(&self, member: &MemberPayloads) -> bool {
        let is = |field: Option<&str>, wanted: &str| field == Some(wanted);
        match self {
            Self::All => true,
            Self::Text(text) => {
                is(member.name(), text)
                    || is(member.room_alias(), text)
                    || is(member.contact_alias(), text)
            }
            Self::Filter(filter) => {
                filter
                    .name
                    .as_deref()
                    .is_none_or(|name| is(member.name(), name))
                    && filter
                        .room_alias
                        .as_deref()
                        .is_none_or(|alias| is(member.room_alias(), alias))
                    && filter
                        .contact_alias
                        .as_deref()
                        .is_none_or(|alias| is(member.contact_alias(), alias))
            }
        }
    }
}
