//! `friendship accept ID`, `friendship add CONTACT-QUERY [--hello TEXT]`,
//! `friendship search --phone P | --handle H`.

use anyhow::{bail, Result};
use serde_json::json;
use wechaty_client::WechatyBuilder;

use super::contacts::resolve_contact;
use crate::args::FriendshipAction;
use crate::json::{contact_json, human_contact};
use crate::output::Output;

/// One `friendship` action.
pub async fn friendship(
    builder: WechatyBuilder,
    action: FriendshipAction,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let friendships = bot.friendships();
    match action {
        FriendshipAction::Accept { id } => {
            let friendship = friendships.load(&id).await?;
            friendship.accept().await?;
            let contact = friendship.contact();
            out.line(
                &json!({ "accepted": id, "contact_id": contact.id() }),
                &format!("accepted {id}: {} is a friend now", contact.id()),
            );
        }
        FriendshipAction::Add { contact, hello } => {
            let contact = resolve_contact(&bot, &contact).await?;
            friendships.add(&contact, &hello).await?;
            let id = contact.id().as_str();
            out.value("requested", id, &format!("sent a friend request to {id}"));
        }
        FriendshipAction::Search { phone, handle } => {
            let found = match (&phone, &handle) {
                (Some(phone), _) => friendships.search_phone(phone).await?,
                (_, Some(handle)) => friendships.search_handle(handle).await?,
                _ => bail!("search needs --phone or --handle"),
            };
            let Some(contact) = found else {
                match (phone, handle) {
                    (Some(phone), _) => bail!("no contact has the phone number {phone:?}"),
                    (_, handle) => bail!(
                        "no contact has the WeChat handle {:?}",
                        handle.unwrap_or_default()
                    ),
                }
            };
            let payload = contact.payload().await?;
            out.line(&contact_json(&payload), &human_contact(&payload));
        }
    }
    Ok(())
}
