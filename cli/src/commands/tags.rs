//! `tags`, `tag NAME add|remove CONTACT-QUERY`, `tag NAME delete`. A tag is known by its
//! name only (on the puppet service its id is its name), so NAME needs no resolving.

use anyhow::Result;
use serde_json::json;
use wechaty_client::WechatyBuilder;

use super::contacts::resolve_contact;
use crate::args::TagAction;
use crate::output::Output;

/// `tags`: every tag of the account, `{"id","name"}` per line.
pub async fn tags(builder: WechatyBuilder, out: &Output) -> Result<()> {
    let bot = builder.build().await?;
    for tag in bot.tags().await? {
        out.line(&json!({ "id": tag.id(), "name": tag.name() }), tag.name());
    }
    Ok(())
}

/// `tag NAME <action>`.
pub async fn tag(
    builder: WechatyBuilder,
    name: &str,
    action: TagAction,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let tag = bot.tag(name);
    match action {
        TagAction::Add { contact } => {
            let contact = resolve_contact(&bot, &contact).await?;
            tag.add(&contact).await?;
            let id = contact.id();
            out.line(
                &json!({ "added": id, "tag": name }),
                &format!("tagged {id} with {name}"),
            );
        }
        TagAction::Remove { contact } => {
            let contact = resolve_contact(&bot, &contact).await?;
            tag.remove(&contact).await?;
            let id = contact.id();
            out.line(
                &json!({ "removed": id, "tag": name }),
                &format!("took the tag {name} off {id}"),
            );
        }
        TagAction::Delete => {
            tag.delete().await?;
            out.value("deleted", name, &format!("deleted the tag {name}"));
        }
    }
    Ok(())
}
