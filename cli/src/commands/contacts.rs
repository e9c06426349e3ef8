//! Contacts: `contacts [QUERY]`, `contact QUERY <verb>`, and how a QUERY names a contact
//! (`resolve_contact`, shared with `friendship add` and `tag NAME add|remove`).

use anyhow::{bail, Result};
use serde_json::{json, Map, Value};
use wechaty_client::{Contact, ContactQuery, Wechaty, WechatyBuilder};

use crate::args::ContactVerb;
use crate::json::{contact_info_fields, contact_json, human_contact, human_fields};
use crate::output::{with_progress, Output};

/// `contacts [QUERY]`: every contact, or those whose id, exact name or exact alias is QUERY.
pub async fn contacts(builder: WechatyBuilder, query: Option<String>, out: &Output) -> Result<()> {
    let bot = builder.build().await?;
    let query = query.map(ContactQuery::from).unwrap_or(ContactQuery::All);
    let payloads = with_progress("loading contacts", bot.contacts().payloads()).await?;
    for payload in payloads.iter().filter(|payload| query.matches(payload)) {
        out.line(&contact_json(payload), &human_contact(payload));
    }
    Ok(())
}

/// `contact QUERY <verb>`.
pub async fn contact(
    builder: WechatyBuilder,
    query: &str,
    verb: ContactVerb,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let contact = resolve_contact(&bot, query).await?;
    contact_verb(&bot, &contact, verb, out).await
}

/// `shared/cli.md`'s resolution: an exact contact id first, else the contacts whose name or
/// alias is exactly QUERY; none or several is an error.
pub async fn resolve_contact(bot: &Wechaty, query: &str) -> Result<Contact> {
    let payloads = with_progress("loading contacts", bot.contacts().payloads()).await?;
    if payloads.iter().any(|payload| payload.id.as_str() == query) {
        return Ok(bot.contact(query));
    }
    let query_text = Some(query);
    let matching: Vec<&str> = payloads
        .iter()
        .filter(|payload| {
            payload.name.as_deref() == query_text || payload.alias.as_deref() == query_text
        })
        .map(|payload| payload.id.as_str())
        .collect();
    match matching.as_slice() {
        [id] => Ok(bot.contact(*id)),
        [] => {
            // A service may leave strangers (a search's result, a requester) out of its list:
            // try the id directly.
            let contact = bot.contact(query);
            match contact.payload().await {
                Ok(_) => Ok(contact),
                Err(_) => bail!("no contact has the id, exact name or exact alias {query:?}"),
            }
        }
        several => bail!(
            "{} contacts have the name or alias {query:?}: use an id ({})",
            several.len(),
            several.join(", ")
        ),
    }
}

/// One verb of `contact QUERY`.
async fn contact_verb(
    bot: &Wechaty,
    contact: &Contact,
    verb: ContactVerb,
    out: &Output,
) -> Result<()> {
    match verb {
        ContactVerb::Info => {
            let payload = contact.payload().await?;
            let fields = contact_info_fields(&payload);
            let human = human_fields(&fields);
            let human: Vec<&str> = human.iter().map(String::as_str).collect();
            let json: Map<String, Value> = fields
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            out.lines(&Value::Object(json), &human);
        }
        ContactVerb::Alias { new: Some(new) } => {
            // `""` clears, as cli.md says and the service reads an empty alias.
            let alias = Some(new.as_str()).filter(|alias| !alias.is_empty());
            contact.set_alias(alias).await?;
            out.line(&json!({ "alias": alias }), alias.unwrap_or("(none)"));
        }
        ContactVerb::Alias { new: None } => {
            let alias = contact.alias().await?;
            out.line(
                &json!({ "alias": alias }),
                alias.as_deref().unwrap_or("(none)"),
            );
        }
        ContactVerb::Say { text } => {
            let sent = contact.say(text.as_str()).await?;
            let id = sent.as_ref().map(|message| message.id().to_string());
            out.line(
                &json!({ "message_id": id }),
                &format!("sent{}", id.map(|id| format!(" {id}")).unwrap_or_default()),
            );
        }
        ContactVerb::Tags => {
            for tag in contact.tags().await? {
                out.line(&json!({ "id": tag.id(), "name": tag.name() }), tag.name());
            }
        }
        ContactVerb::Avatar { output } => {
            let avatar = contact.avatar().await?;
            avatar.to_file(bot, &output).await?;
            out.line(
                &json!({ "avatar": output.display().to_string(), "name": avatar.name }),
                &format!("saved {} to {}", avatar.name, output.display()),
            );
        }
    }
    Ok(())
}
