//! `message ID [download --output FILE]`.

use std::time::SystemTime;

use anyhow::Result;
use serde_json::json;
use wechaty_client::WechatyBuilder;

use crate::args::MessageAction;
use crate::json::{human_message, message_json};
use crate::output::Output;

/// Prints a message's payload, or saves its file.
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
    }
    Ok(())
}
