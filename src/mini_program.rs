//! [`MiniProgram`]: a WeChat mini program card.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;

/// A mini program card. Build one from the JSON a puppet gave you with
/// [`from_json`](Self::from_json).
///
/// ```
/// use wechaty_client::MiniProgram;
/// let card = MiniProgram::from_json(r#"{"appid":"wx123","title":"Shop","pagePath":"pages/index"}"#).unwrap();
/// assert_eq!(card.page_path.as_deref(), Some("pages/index"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct MiniProgram {
    /// The app id.
    pub appid: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The page it opens.
    pub page_path: Option<String>,
    /// Icon URL.
    pub icon_url: Option<String>,
    /// Share id.
    pub share_id: Option<String>,
    /// Thumbnail URL.
    pub thumb_url: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// The mini program's user name.
    pub username: Option<String>,
    /// Thumbnail key.
    pub thumb_key: Option<String>,
}

fn optional(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

impl MiniProgram {
    /// Parses wechaty-puppet's camelCase JSON (`appid`, `pagePath`, `iconUrl`, …).
    pub fn from_json(json: &str) -> Result<Self> {
        serde_json::from_str(json)
            .map_err(|error| Error::InvalidArgument(format!("not a mini program's JSON: {error}")))
    }

    /// The camelCase JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub(crate) fn to_wire(&self) -> pb::MiniProgramPayload {
        let text = |value: &Option<String>| value.clone().unwrap_or_default();
        pb::MiniProgramPayload {
            appid: text(&self.appid),
            description: text(&self.description),
            page_path: text(&self.page_path),
            icon_url: text(&self.icon_url),
            share_id: text(&self.share_id),
            thumb_url: text(&self.thumb_url),
            title: text(&self.title),
            username: text(&self.username),
            thumb_key: text(&self.thumb_key),
        }
    }

    /// The card of a `MessageMiniProgram` answer: the payload, or the JSON old servers send in
    /// the deprecated field.
    #[allow(deprecated)] // old servers answer with JSON in the deprecated field
    pub(crate) fn from_response(response: pb::MessageMiniProgramResponse) -> Result<Self> {
        match response.mini_program {
            Some(card) if card != pb::MiniProgramPayload::default() => Ok(Self::from_wire(card)),
            _ => Self::from_json(&response.mini_program_deprecated),
        }
    }

    pub(crate) fn from_wire(payload: pb::MiniProgramPayload) -> Self {
        Self {
            appid: optional(payload.appid),
            description: optional(payload.description),
            page_path: optional(payload.page_path),
            icon_url: optional(payload.icon_url),
            share_id: optional(payload.share_id),
            thumb_url: optional(payload.thumb_url),
            title: optional(payload.title),
            username: optional(payload.username),
            thumb_key: optional(payload.thumb_key),
        }
    }
}
