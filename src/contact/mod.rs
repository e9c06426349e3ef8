//! [`Contact`]: a handle to one contact. Its data is [`ContactPayload`] (`payload.rs`);
//! finding contacts is [`Contacts`] (`contacts.rs`).

mod contact_self;
mod contacts;
pub(crate) mod directory;
pub(crate) mod payload;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::error::Result;
use crate::event::PayloadType;
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::ids::ContactId;
use crate::transport::Puppet;
use crate::wechaty::Wechaty;

pub use contact_self::ContactSelf;
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

    /// The payload if the cache holds it: no I/O, no error. Contacts handed to handlers
    /// (a room event's people, a message's talker) have theirs loaded.
    pub fn cached(&self) -> Option<Arc<ContactPayload>> {
        self.bot.caches().contacts.read(&self.id, Arc::clone)
    }

    /// The name if the payload is cached (see [`cached`](Self::cached)), like
    /// [`RoomMember::name`](crate::RoomMember::name); [`name`](Self::name) loads it.
    ///
    /// ```no_run
    /// # fn demo(join: wechaty_client::RoomJoined) {
    /// for contact in &join.invitees {
    ///     println!("{} joined", contact.cached_name().unwrap_or_else(|| contact.id().to_string()));
    /// }
    /// # }
    /// ```
    pub fn cached_name(&self) -> Option<String> {
        self.bot
            .caches()
            .contacts
            .read(&self.id, |payload| payload.name.clone().unwrap_or_default())
    }

    /// The contact's own name (`""` when the service has none).
    pub async fn name(&self) -> Result<String> {
        Ok(self.payload().await?.name.clone().unwrap_or_default())
    }

    /// The alias the bot gave this contact.
    pub async fn alias(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.alias.clone())
    }

    /// Sets (`Some`) or clears (`None`) the alias the bot gives this contact (`ContactAlias`).
    /// The cached payload is dropped, so the next read sees the new alias.
    #[allow(deprecated)] // the wrapper field, for servers before the optional one existed
    pub async fn set_alias(&self, alias: Option<&str>) -> Result<()> {
        // As the official client: `""` clears, in the field and in the old wrapper.
        let alias = alias.unwrap_or_default().to_owned();
        let request = pb::ContactAliasRequest {
            id: self.id.to_string(),
            alias_string_value_deprecated: Some(alias.clone()),
            alias: Some(alias),
        };
        self.edit("ContactAlias", request, |mut c, r| async move {
            c.contact_alias(r).await
        })
        .await
    }

    /// Sends an edit of this contact, then drops its cached payload so the next read sees it
    /// (the service's `dirty` follows, but a caller reading at once must not see the old one).
    async fn edit<Req, Resp, Call, Fut>(
        &self,
        rpc: &'static str,
        request: Req,
        call: Call,
    ) -> Result<()>
    where
        Call: FnOnce(Puppet, tonic::Request<Req>) -> Fut,
        Fut: Future<Output = std::result::Result<tonic::Response<Resp>, tonic::Status>>,
    {
        self.bot.transport()?.unary(rpc, request, call).await?;
        self.bot.caches().forget_contact(&self.id);
        Ok(())
    }

    /// The contact's gender, as the service reports it.
    pub async fn gender(&self) -> Result<ContactGender> {
        Ok(self.payload().await?.gender)
    }

    /// What kind of account it is (personal, official, corporation, …).
    pub async fn kind(&self) -> Result<ContactType> {
        Ok(self.payload().await?.kind)
    }

    /// Whether the contact is the bot's friend.
    pub async fn is_friend(&self) -> Result<bool> {
        Ok(self.payload().await?.friend)
    }

    /// Whether the bot starred the contact.
    pub async fn star(&self) -> Result<bool> {
        Ok(self.payload().await?.star)
    }

    /// The province the contact gives.
    pub async fn province(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.province.clone())
    }

    /// The city the contact gives.
    pub async fn city(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.city.clone())
    }

    /// The contact's WeChat handle (the wire field `weixin`).
    pub async fn weixin(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.handle.clone())
    }

    /// The phone numbers the bot noted for the contact.
    pub async fn phone(&self) -> Result<Vec<String>> {
        Ok(self.payload().await?.phones.clone())
    }

    /// Replaces the phone numbers the bot notes for the contact (`ContactPhone`; empty clears).
    pub async fn set_phone(&self, phones: &[&str]) -> Result<()> {
        let request = pb::ContactPhoneRequest {
            contact_id: self.id.to_string(),
            phones: phones.iter().map(|phone| (*phone).to_owned()).collect(),
        };
        self.edit("ContactPhone", request, |mut c, r| async move {
            c.contact_phone(r).await
        })
        .await
    }

    /// Sets (`Some`) or clears (`None`) the corporation remark (`ContactCorporationRemark`).
    #[allow(deprecated)] // the wrapper field, for servers before the plain one existed
    pub async fn set_corporation(&self, remark: Option<&str>) -> Result<()> {
        // As the official client: the wrapper only for a value.
        let request = pb::ContactCorporationRemarkRequest {
            contact_id: self.id.to_string(),
            corporation_remark_string_value_deprecated: remark.map(str::to_owned),
            corporation_remark: remark.unwrap_or_default().to_owned(),
        };
        self.edit("ContactCorporationRemark", request, |mut c, r| async move {
            c.contact_corporation_remark(r).await
        })
        .await
    }

    /// Sets (`Some`) or clears (`None`) the description (`ContactDescription`).
    #[allow(deprecated)] // the wrapper field, for servers before the plain one existed
    pub async fn set_description(&self, description: Option<&str>) -> Result<()> {
        let request = pb::ContactDescriptionRequest {
            contact_id: self.id.to_string(),
            description_string_value_deprecated: description.map(str::to_owned),
            description: description.unwrap_or_default().to_owned(),
        };
        self.edit("ContactDescription", request, |mut c, r| async move {
            c.contact_description(r).await
        })
        .await
    }

    /// Title (WeCom).
    pub async fn title(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.title.clone())
    }

    /// Corporation (WeCom).
    pub async fn corporation(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.corporation.clone())
    }

    /// The description the bot noted for the contact.
    pub async fn description(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.description.clone())
    }

    /// The signature line the contact shows.
    pub async fn signature(&self) -> Result<Option<String>> {
        Ok(self.payload().await?.signature.clone())
    }

    /// The contact's avatar (`ContactAvatar`): usually a URL box, fetched when you read it.
    #[allow(deprecated)] // the wrapper, from servers before the plain field existed
    pub async fn avatar(&self) -> Result<FileBox> {
        let request = pb::ContactAvatarRequest {
            id: self.id.to_string(),
            ..Default::default()
        };
        let response = self
            .bot
            .transport()?
            .unary("ContactAvatar", request, |mut c, r| async move {
                c.contact_avatar(r).await
            })
            .await?;
        let json = if response.file_box.is_empty() {
            response.filebox_string_value_deprecated.unwrap_or_default()
        } else {
            response.file_box
        };
        FileBox::from_service_json(&json)
    }

    /// Really refreshes the contact: asks the service to drop its own copy (`DirtyPayload`),
    /// waits (briefly) for its `dirty` echo, drops the cached payload and loads it again.
    pub async fn sync(&self) -> Result<()> {
        self.bot
            .dirty_and_await_echo(&[PayloadType::Contact], self.id.as_str())
            .await?;
        self.bot.caches().forget_contact(&self.id);
        self.payload().await.map(drop)
    }

    /// Whether this is the logged-in account.
    pub fn is_self(&self) -> bool {
        self.bot.current_user_id().as_ref() == Some(&self.id)
    }
}
