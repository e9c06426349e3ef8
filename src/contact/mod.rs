//! [`Contact`]: a handle to one contact. Its data is [`ContactPayload`] (`payload.rs`);
//! finding contacts is [`Contacts`] (`contacts.rs`).

mod contacts;
pub(crate) mod payload;

use std::fmt;
use std::sync::Arc;

use crate::error::Result;
use crate::ids::ContactId;
use crate::wechaty::Wechaty;

pub use contacts::{ContactQuery, ContactQueryFilter, Contacts};
pub use payload::{ContactGender, ContactPayload, ContactType};

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

impl Wechaty {
    /// A handle to a contact. No I/O until you use it.
    pub fn contact(&self, id: impl Into<ContactId>) -> Contact {
        Contact {
            id: id.into(),
            bot: self.clone(),
        }
    }
}

impl Contact {
    /// The contact id.
    pub fn id(&self) -> &ContactId {
        &self.id
    }

    /// The bot this handle belongs to.
    pub fn bot(&self) -> &Wechaty {
        &self.bot
    }

    /// The payload: from the cache, else `ContactPayload`.
    pub async fn payload(&self) -> Result<Arc<ContactPayload>> {
        payload::load_contact(
            &self.bot.caches().contacts,
            || self.bot.transport(),
            &self.id,
        )
        .await
    }

    /// The contact's own name (`""` when the service has none).
    pub async fn name(&self) -> Result<String> {
        Ok(self.payload().await?.name.clone().unwrap_or_default())
    }

    /// The alias the bot gave this contact.
    pub async fn alias(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.alias.clone())
    }

    /// Whether this is the logged-in account.
    pub fn is_self(&self) -> bool {
        self.bot.current_user().as_ref() == Some(&self.id)
    }
}
