//! Mentions: the `@name` text the official framework writes in front of a room message
//! (`Room::say_with_mentions`), and takes off again (`Message::mention_text`).
//!
//! The ids travel in `mentional_ids` / `mention_ids`; the visible text is the client's job
//! (protocol.md §6.6): `"@" + (room alias, else name)` per contact, joined by U+2005, then one
//! ASCII space, then the text (wechaty@1.20.2 `room.ts` `say()`).

use crate::contact::Contact;
use crate::error::Result;
use crate::message::Message;
use crate::room::Room;

/// Separates mentions in a message text, as the official clients write it.
pub(crate) const MENTION_SEPARATOR: char = '\u{2005}';

/// How a mentioned member is shown: its room alias, else its name (an empty alias counts as
/// none, as the official `alias || name`).
pub(crate) async fn shown_name(room: &Room, contact: &Contact) -> Result<String> {
    match room.alias(contact).await.ok().flatten() {
        Some(alias) if !alias.is_empty() => Ok(alias),
        _ => contact.name().await,
    }
}

/// `text` with `@name` written in front for each of `names`.
pub(crate) fn with_mentions(names: &[String], text: &str) -> String {
    let mentions: Vec<String> = names.iter().map(|name| format!("@{name}")).collect();
    format!("{} {text}", mentions.join(&MENTION_SEPARATOR.to_string()))
}

/// `text` without the mentions of `names`: for each name in turn, its first `@name` followed
/// by U+2005, a space or the end is cut (with that separator), then the text is trimmed:
/// wechaty@1.20.2 `message.ts` `mentionText()`, which does the same with a regular expression.
pub(crate) fn without_mentions(text: &str, names: &[String]) -> String {
    let mut text = text.to_owned();
    for name in names {
        let needle = format!("@{name}");
        let cut = text.match_indices(&needle).find_map(|(start, _)| {
            let end = start + needle.len();
            match text[end..].chars().next() {
                None => Some(start..end),
                Some(next @ (MENTION_SEPARATOR | ' ')) => Some(start..end + next.len_utf8()),
                Some(_) => None,
            }
        });
        if let Some(range) = cut {
            text.replace_range(range, "");
        }
    }
    text.trim().to_owned()
}

impl Message {
    /// The text without the @-mentions of [`mention_list`](Self::mention_list), as the
    /// official framework derives it: each mentioned member's `@` + room alias (else name) is
    /// cut where it is followed by U+2005, a space or the end, then the text is trimmed. A
    /// direct message, or one without mentions, gives [`text`](Self::text) unchanged.
    ///
    /// ```no_run
    /// # async fn demo(message: wechaty_client::Message) -> wechaty_client::Result<()> {
    /// // "@bot\u{2005}weather in Paris" → "weather in Paris"
    /// if message.mention_self().await? {
    ///     let question = message.mention_text().await?;
    ///     message.reply(format!("you asked: {question}")).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn mention_text(&self) -> Result<String> {
        let text = self.text().await?;
        let mentioned = self.mention_list().await?;
        let room = match self.room().await? {
            Some(room) if !mentioned.is_empty() => room,
            _ => return Ok(text),
        };
        let mut names = Vec::with_capacity(mentioned.len());
        for contact in &mentioned {
            names.push(shown_name(&room, contact).await?);
        }
        Ok(without_mentions(&text, &names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn what_say_with_mentions_writes_mention_text_takes_off() {
        let mentioned = names(&["Ann", "Bob (ops)"]);
        let text = with_mentions(&mentioned, "standup in 5");
        assert_eq!(text, "@Ann\u{2005}@Bob (ops) standup in 5");
        assert_eq!(without_mentions(&text, &mentioned), "standup in 5");
    }

    #[test]
    fn a_mention_is_cut_only_before_a_separator_or_the_end() {
        // "@Anna" is not a mention of "Ann"; the real one comes later.
        let text = "@Anna says hi @Ann";
        assert_eq!(without_mentions(text, &names(&["Ann"])), "@Anna says hi");
        // In the middle, with a plain space after it.
        assert_eq!(
            without_mentions("ping @Ann now", &names(&["Ann"])),
            "ping now"
        );
        // A name not in the text leaves it as it was (trimmed).
        assert_eq!(without_mentions(" hi ", &names(&["Zed"])), "hi");
    }

    #[test]
    fn only_the_first_mention_of_each_name_is_cut() {
        let text = "@Ann\u{2005}tell @Ann hello";
        assert_eq!(without_mentions(text, &names(&["Ann"])), "tell @Ann hello");
    }
}
