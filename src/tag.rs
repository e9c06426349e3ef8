//! [`Tag`]: the labels a bot puts on contacts, as far as the service's Tag RPCs go
//! (`TagContactAdd`, `TagContactRemove`, `TagContactDelete`, `TagContactList`).
//!
//! The service knows a tag only by its id, which is its name: a tag exists once a contact
//! has it, and there is no RPC to rename one or to list a tag's contacts.

use std::fmt;

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;
use crate::ids::non_empty;
use crate::wechaty::Wechaty;

/// A tag. Creating the handle does no I/O; [`add`](Self::add) brings the tag into being.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// let vip = bot.tag("vip");
/// if let Some(ann) = bot.contacts().find("Ann").await? {
///     vip.add(&ann).await?;
///     for tag in ann.tags().await? {
///         println!("ann is tagged {}", tag.name());
///     }
/// }
/// println!("{} tags in all", bot.tags().await?.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tag {
    id: String,
    bot: Wechaty,
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tag").field(&self.id).finish()
    }
}

impl PartialEq for Tag {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Tag {}

impl Wechaty {
    /// A handle to the tag `id` (its name). No I/O until you use it.
    pub fn tag(&self, id: impl Into<String>) -> Tag {
        Tag {
            id: id.into(),
            bot: self.clone(),
        }
    }

    /// Every tag of the account (`TagContactList` without a contact).
    pub async fn tags(&self) -> Result<Vec<Tag>> {
        list(self, pb::TagContactListRequest::default()).await
    }
}

impl Contact {
    /// The tags this contact has (`TagContactList` for the contact).
    ///
    /// The official TypeScript server up to puppet-service 1.19.9 answers this with an empty
    /// list whatever the tags are (it fills a response and sends another); the SDK cannot tell
    /// that apart from "no tags".
    #[allow(deprecated)] // the wrapper too, which servers before the plain field read
    pub async fn tags(&self) -> Result<Vec<Tag>> {
        let request = pb::TagContactListRequest {
            contact_id_string_value_deprecated: Some(self.id().to_string()),
            contact_id: self.id().to_string(),
        };
        list(self.bot(), request).await
    }
}

async fn list(bot: &Wechaty, request: pb::TagContactListRequest) -> Result<Vec<Tag>> {
    let response = bot
        .transport()?
        .unary("TagContactList", request, |mut c, r| async move {
            c.tag_contact_list(r).await
        })
        .await?;
    Ok(response
        .ids
        .into_iter()
        .filter_map(non_empty)
        .map(|id| bot.tag(id))
        .collect())
}

impl Tag {
    /// The tag id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The tag's name: on the puppet service, the same as its id.
    pub fn name(&self) -> &str {
        &self.id
    }

    /// Puts the tag on `contact` (`TagContactAdd`; the tag is created if new).
    pub async fn add(&self, contact: &Contact) -> Result<()> {
        self.check()?;
        let request = pb::TagContactAddRequest {
            id: self.id.clone(),
            contact_id: contact.id().to_string(),
        };
        self.bot
            .transport()?
            .unary("TagContactAdd", request, |mut c, r| async move {
                c.tag_contact_add(r).await
            })
            .await
            .map(drop)
    }

    /// Takes the tag off `contact` (`TagContactRemove`).
    pub async fn remove(&self, contact: &Contact) -> Result<()> {
        self.check()?;
        let request = pb::TagContactRemoveRequest {
            id: self.id.clone(),
            contact_id: contact.id().to_string(),
        };
        self.bot
            .transport()?
            .unary("TagContactRemove", request, |mut c, r| async move {
                c.tag_contact_remove(r).await
            })
            .await
            .map(drop)
    }

    /// Deletes the tag from the account: every contact loses it (`TagContactDelete`).
    pub async fn delete(&self) -> Result<()> {
        self.check()?;
        let request = pb::TagContactDeleteRequest {
            id: self.id.clone(),
        };
        self.bot
            .transport()?
            .unary("TagContactDelete", request, |mut c, r| async move {
                c.tag_contact_delete(r).await
            })
            .await
            .map(drop)
    }

    fn check(&self) -> Result<()> {
        if self.id.is_empty() {
            return Err(Error::InvalidArgument(
                "a tag's name cannot be empty".into(),
            ));
        }
        Ok(())
    }
}
