//! `message ID [download --output FILE | recall | forward CONVERSATION-ID]`.

use std::time::SystemTime;

use anyhow::Result;
use serde_json::json;
use wechaty_client::{Message, Wechaty, WechatyBuilder};

use crate::args::MessageAction;
use crate::json::{human_message, message_json};
use crate::output::Output;

/// Prints a message's payload, or recalls, forwards or downloads it.
pub async fn message(
    builder: WechatyBuilder,
    id: &str,
    action: Option<MessageAction>,
    out: &Output,
) -> Result<()> {
    let bot = builder.build().await?;
    let message = bot.message(id);
    match action {
        None => {
            let payload = message.payload().await?;
            let human = human_message(&payload, SystemTime::now());
            let human: Vec<&str> = human.iter().map(String::as_str).collect();
            out.lines(&message_json(&payload), &human);
        }
        Some(MessageAction::Download { output }) => {
            let file = message.to_file_box().await?;
            let bytes = file.to_file(&bot, &output).await?;
            out.line(
                &json!({ "output": output.display().to_string(), "name": file.name, "bytes": bytes }),
                &format!("saved {} ({bytes} bytes) to {}", file.name, output.display()),
            );
        }
        Some(MessageAction::Recall) => {
            // Either answer is an answer (exit 0), as `{"has":false}` is; an RPC error is not.
            let recalled = message.recall().await?;
            out.line(
                &json!({ "recalled": recalled }),
                if recalled {
                    "recalled"
                } else {
                    "the service did not recall it (too old, or not the bot's)"
                },
            );
        }
        Some(MessageAction::Forward { conversation }) => {
            let sent = forward(&bot, &message, &conversation).await?;
            let id = sent.as_ref().map(|sent| sent.id().to_string());
            let human = match &id {
                Some(id) => format!("forwarded as {id}"),
                None => "forwarded (the service did not say the new message's id)".to_owned(),
            };
            out.line(&json!({ "message_id": id }), &human);
        }
    }
    Ok(())
}

/// Forwards `message` into `conversation`: a room when the id is a room id (`…@chatroom`),
/// else a contact's direct chat. The id is passed on as it is (no lookup): the service
/// knows its conversations, and an unknown one is its error.
async fn forward(bot: &Wechaty, message: &Message, conversation: &str) -> Result<Option<Message>> {
    Ok(if conversation.ends_with("@chatroom") {
        message.forward(&bot.room(conversation)).await?
    } else {
        message.forward(&bot.contact(conversation)).await?
    })
}
