//! [`ContactSelf`]: the logged-in account (`bot.current_user()`), a [`Contact`] that can also
//! change its own name, signature and avatar and show its QR code.

use std::ops::Deref;

use super::Contact;
use crate::error::{Error, Result};
use crate::file_box::FileBox;
use crate::generated::wechaty::puppet as pb;
use crate::wechaty::Wechaty;

/// The logged-in account. Everything a [`Contact`] does (it derefs to one), plus what only
/// the account itself may change.
///
/// ```no_run
/// # async fn demo(bot: wechaty_client::Wechaty) -> wechaty_client::Result<()> {
/// if let Some(me) = bot.current_user() {
///     println!("logged in as {}", me.name().await?);
///     me.set_signature("a Rust bot").await?;
///     println!("add me: {}", me.qr_code().await?);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactSelf {
    contact: Contact,
}

impl Deref for ContactSelf {
    type Target = Contact;

    fn deref(&self) -> &Contact {
        &self.contact
    }
}

impl From<ContactSelf> for Contact {
    fn from(me: ContactSelf) -> Self {
        me.contact
    }
}

impl Wechaty {
    /// The logged-in account as a handle (`None` before the first `login` event, and after a
    /// `logout`).
    pub fn current_user(&self) -> Option<ContactSelf> {
        self.current_user_id()
            .map(|id| ContactSelf::of(self.contact(id)))
    }
}

impl ContactSelf {
    /// The logged-in account's handle (a `login` event's contact).
    pub(crate) fn of(contact: Contact) -> Self {
        Self { contact }
    }

    /// The account as a plain [`Contact`].
    pub fn contact(&self) -> &Contact {
        &self.contact
    }

    /// The content of the account's QR code (`ContactSelfQRCode`): what others scan to add
    /// it; render it with any QR library.
    pub async fn qr_code(&self) -> Result<String> {
        let response = self
            .bot
            .transport()?
            .unary(
                "ContactSelfQRCode",
                pb::ContactSelfQrCodeRequest {},
                |mut c, r| async move { c.contact_self_qr_code(r).await },
            )
            .await?;
        if response.qrcode.is_empty() {
            return Err(Error::invalid_data(
                "ContactSelfQRCode answer",
                "the service sent no QR code",
            ));
        }
        Ok(response.qrcode)
    }

    /// Changes the account's own name (`ContactSelfName`).
    pub async fn set_name(&self, name: &str) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidArgument(
                "the account's name cannot be empty".into(),
            ));
        }
        let request = pb::ContactSelfNameRequest {
            name: name.to_owned(),
        };
        self.edit("ContactSelfName", request, |mut c, r| async move {
            c.contact_self_name(r).await
        })
        .await
    }

    /// Changes the account's signature line (`ContactSelfSignature`; `""` clears it).
    pub async fn set_signature(&self, signature: &str) -> Result<()> {
        let request = pb::ContactSelfSignatureRequest {
            signature: signature.to_owned(),
        };
        self.edit("ContactSelfSignature", request, |mut c, r| async move {
            c.contact_self_signature(r).await
        })
        .await
    }

    /// Changes the account's avatar (`ContactAvatar` with the box set). Bytes and local files
    /// go inline up to the inline limit, bigger ones are uploaded first, as `say` does.
    #[allow(deprecated)] // the wrapper, for servers before the optional field existed
    pub async fn set_avatar(&self, avatar: FileBox) -> Result<()> {
        let bot = self.bot();
        let ready = avatar.prepare(bot, bot.inline_file_limit()).await?;
        let json = ready.to_json()?;
        let request = pb::ContactAvatarRequest {
            id: self.id().to_string(),
            filebox_string_value_deprecated: Some(json.clone()),
            file_box: Some(json),
        };
        self.edit("ContactAvatar", request, |mut c, r| async move {
            c.contact_avatar(r).await
        })
        .await
    }
}
