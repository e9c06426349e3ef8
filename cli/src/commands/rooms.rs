//! Rooms: `rooms [QUERY]`, `room QUERY <verb>`, `room-create`, and how a QUERY names a room
//! (`resolve_room`, shared with `events --room`) or a member.

use anyhow::{bail, Result};
use serde_json::json;
use wechaty_client::{
    Contact, FileBox, MemberQuery, Room, RoomQuery, UrlLink, Wechaty, WechatyBuilder,
};

use crate::args::RoomVerb;
use crate::output::{with_progress, Output};

/// `rooms [QUERY]`: every room, or those whose id or exact topic is QUERY.
pub async fn rooms(builder: WechatyBuilder, query: Option<String>, out: &Output) -> Result<()> {
    let bot = builder.build().await?;
    let query = query.map(RoomQuery::from).unwrap_or(RoomQuery::All);
    let payloads = bot.rooms().payloads().await?;
    for payload in payloads.iter().filter(|payload| query.matches(payload)) {
        out.line(
            &json!({
                "id": payload.id,
                "topic": payload.topic,
                "member_count": payload.member_ids.len(),
                "owner_id": payload.owner_id,
            }),
            &format!(
                "{}  {}  ({} members)",
                payload.id,
                payload.topic.as_deref().unwrap_or("(no topic)"),
                payload.member_ids.len()
            ),
        );
    }
    Ok(())
}

/// `room QUERY <verb>`.
pub async fn room(
    builder: WechatyBuilder,
    query: &str,
    verb: RoomVerb,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let room = resolve_room(&bot, query).await?;
    room_verb(&bot, &room, verb, out).await
}

/// `room-create --topic TOPIC ID ID…`.
pub async fn room_create(
    builder: WechatyBuilder,
    topic: &str,
    ids: Vec<String>,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let contacts: Vec<Contact> = ids.into_iter().map(|id| bot.contact(id)).collect();
    let room = bot.rooms().create(&contacts, topic).await?;
    out.value("room_id", room.id().as_str(), room.id().as_str());
    Ok(())
}

/// `shared/cli.md`'s resolution: an exact room id first, else the rooms whose raw topic is
/// exactly QUERY; none or several is an error.
pub async fn resolve_room(bot: &Wechaty, query: &str) -> Result<Room> {
    let payloads = bot.rooms().payloads().await?;
    if payloads.iter().any(|payload| payload.id.as_str() == query) {
        return Ok(bot.room(query));
    }
    let matching: Vec<&str> = payloads
        .iter()
        .filter(|payload| payload.topic.as_deref() == Some(query))
        .map(|payload| payload.id.as_str())
        .collect();
    match matching.as_slice() {
        [id] => Ok(bot.room(*id)),
        [] => {
            // Some services list only part of their rooms: try the id directly.
            let room = bot.room(query);
            match room.payload().await {
                Ok(_) => Ok(room),
                Err(_) => bail!("no room has the id or the exact topic {query:?}"),
            }
        }
        several => bail!(
            "{} rooms have the topic {query:?}: use an id ({})",
            several.len(),
            several.join(", ")
        ),
    }
}

/// A member of `room` by QUERY: an exact member id first, else the one member whose name, room
/// alias or contact alias is exactly QUERY (as `members QUERY` finds them); none or several is
/// an error.
async fn resolve_member(room: &Room, query: &str) -> Result<Contact> {
    let bot = room.bot();
    let id = bot.contact(query);
    if room.has(&id).await? {
        return Ok(id);
    }
    let matching = room.member_list(query).await?;
    match matching.as_slice() {
        [member] => Ok(member.clone()),
        [] => bail!(
            "no member of {} has the id, name, room alias or contact alias {query:?}",
            room.id()
        ),
        several => bail!(
            "{} members of {} are called {query:?}: use an id ({})",
            several.len(),
            room.id(),
            several
                .iter()
                .map(|member| member.id().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One verb of `room QUERY`.
async fn room_verb(bot: &Wechaty, room: &Room, verb: RoomVerb, out: &Output) -> Result<()> {
    match verb {
        RoomVerb::Topic { new: Some(new) } => {
            room.set_topic(&new).await?;
            out.value("topic", &new, &new);
        }
        RoomVerb::Topic { new: None } => {
            let topic = room.topic().await?;
            out.value("topic", &topic, &topic);
        }
        RoomVerb::Announce { text: Some(text) } => {
            room.set_announce(&text).await?;
            out.value("announce", &text, &text);
        }
        RoomVerb::Announce { text: None } => {
            let text = room.announce().await?;
            out.line(&json!({ "announce": text }), text.as_deref().unwrap_or(""));
        }
        RoomVerb::Say {
            text,
            mentions,
            file,
            url_link,
            description,
            thumbnail,
            contact,
        } => {
            let sent = match (text, file, url_link, contact) {
                (Some(text), ..) => {
                    let mut contacts = Vec::with_capacity(mentions.len());
                    for query in &mentions {
                        contacts.push(resolve_member(room, query).await?);
                    }
                    room.say_with_mentions(&text, &contacts).await?
                }
                (_, Some(path), ..) => room.say(FileBox::from_file(path)).await?,
                (_, _, Some(link), _) => {
                    let (title, url) = (link[0].clone(), link[1].clone());
                    let card = UrlLink::create(
                        description.unwrap_or_default(),
                        thumbnail.unwrap_or_default(),
                        title,
                        url,
                    );
                    room.say(card).await?
                }
                (_, _, _, Some(id)) => room.say(&bot.contact(id)).await?,
                _ => bail!("say needs TEXT, --file, --url-link or --contact"),
            };
            let id = sent.as_ref().map(|message| message.id().to_string());
            out.line(
                &json!({ "message_id": id }),
                &format!("sent{}", id.map(|id| format!(" {id}")).unwrap_or_default()),
            );
        }
        RoomVerb::Members { query } => {
            let query = query.map(MemberQuery::from).unwrap_or(MemberQuery::All);
            let members = with_progress("loading members", room.member_details(query)).await?;
            for member in members {
                out.line(
                    &json!({
                        "id": member.contact.id(),
                        "name": member.name(),
                        "room_alias": member.room_alias(),
                        "contact_alias": member.contact_alias(),
                    }),
                    &format!(
                        "{}  {}{}",
                        member.contact.id(),
                        member.name().unwrap_or(""),
                        member
                            .room_alias()
                            .map(|alias| format!(" ({alias})"))
                            .unwrap_or_default()
                    ),
                );
            }
        }
        RoomVerb::Add { id } => {
            room.add(&bot.contact(id.as_str())).await?;
            out.value("added", &id, &format!("added {id}"));
        }
        RoomVerb::Remove { id } => {
            room.remove(&bot.contact(id.as_str())).await?;
            out.value("removed", &id, &format!("removed {id}"));
        }
        RoomVerb::Quit => {
            room.quit().await?;
            out.value("quit", room.id().as_str(), &format!("left {}", room.id()));
        }
        RoomVerb::QrCode => {
            let code = room.qr_code().await?;
            out.value("qr_code", &code, &code);
        }
        RoomVerb::Owner => {
            let owner = room.owner().await?.map(|owner| owner.id().to_string());
            out.line(
                &json!({ "owner_id": owner }),
                owner.as_deref().unwrap_or("(unknown)"),
            );
        }
        RoomVerb::Alias { id } => {
            let alias = room.alias(&bot.contact(id)).await?;
            out.line(
                &json!({ "alias": alias }),
                alias.as_deref().unwrap_or("(none)"),
            );
        }
        RoomVerb::Has { id } => {
            let has = room.has(&bot.contact(id)).await?;
            out.line(&json!({ "has": has }), if has { "yes" } else { "no" });
        }
        RoomVerb::Avatar { output } => {
            let avatar = room.avatar().await?;
            avatar.to_file(bot, &output).await?;
            out.line(
                &json!({ "avatar": output.display().to_string(), "name": avatar.name }),
                &format!("saved {} to {}", avatar.name, output.display()),
            );
        }
    }
    Ok(())
}
