//! [`UrlLink`]: a link card (title, description, thumbnail, URL).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generated::wechaty::puppet as pb;

/// A link card, as sent with `say` and read with `Message::to_url_link`.
///
/// ```
/// use wechaty_client::UrlLink;
/// let link = UrlLink::create("A Rust SDK", "https://x.example/t.png", "wechaty-client", "https://x.example");
/// assert_eq!(link.title, "wechaty-client");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UrlLink {
    /// The card's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The card's picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// The card's title.
    pub title: String,
    /// Where it leads.
    pub url: String,
}

impl UrlLink {
    /// A card, in the argument order of python-wechaty's `UrlLink.create`.
    pub fn create(
        description: impl Into<String>,
        thumbnail_url: impl Into<String>,
        title: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        let optional = |text: String| (!text.is_empty()).then_some(text);
        Self {
            description: optional(description.into()),
            thumbnail_url: optional(thumbnail_url.into()),
            title: title.into(),
            url: url.into(),
        }
    }

    pub(crate) fn to_wire(&self) -> pb::UrlLinkPayload {
        pb::UrlLinkPayload {
            description: self.description.clone().unwrap_or_default(),
            thumbnail_url: self.thumbnail_url.clone().unwrap_or_default(),
            title: self.title.clone(),
            url: self.url.clone(),
        }
    }

    pub(crate) fn from_wire(payload: pb::UrlLinkPayload) -> Self {
        Self::create(
            payload.description,
            payload.thumbnail_url,
            payload.title,
            payload.url,
        )
    }

    /// The link of a `MessageUrl` answer: the payload, or the JSON old servers send in the
    /// deprecated field.
    #[allow(deprecated)] // old servers answer with JSON in the deprecated field
    pub(crate) fn from_response(response: pb::MessageUrlResponse) -> Result<Self> {
        match response.url_link {
            Some(link) if !link.url.is_empty() => Ok(Self::from_wire(link)),
            _ => serde_json::from_str(&response.url_link_deprecated)
                .map_err(|error| Error::invalid_data_caused("URL link", error)),
        }
    }

    /// The camelCase JSON old servers read (`url_link_deprecated`).
    pub(crate) fn to_legacy_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
