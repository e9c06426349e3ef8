//! [`FileBox`]: a file as the Wechaty services exchange it, in the JSON form of file-box 1.x
//! (protocol.md §8): `type`/`boxType` 1 base64, 2 URL, 3 QR code, 7 UUID.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use base64::Engine as _;

use crate::error::{Error, Result};
use crate::http::{self, WebUrl};
use crate::proto::wechaty::puppet as pb;
use crate::wechaty::Wechaty;

/// Largest file [`FileBox::to_bytes`] reads into memory (256 MiB).
pub const MAX_FILE_BOX_BYTES: usize = 256 * 1024 * 1024;

/// Where a file box's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileBoxSource {
    /// The bytes, base64-encoded, inline.
    Base64(String),
    /// A URL to fetch, with optional HTTP headers.
    Url {
        /// The address.
        url: String,
        /// Headers to send when fetching it.
        headers: BTreeMap<String, String>,
    },
    /// A QR code's content (the bytes are its image, rendered by whoever needs it).
    QrCode(String),
    /// A file stored on the service under this id (`Upload` / `Download`).
    Uuid(String),
}

/// A file: its name, where its bytes are, and metadata.
///
/// ```
/// use wechaty_client::{FileBox, FileBoxSource};
/// let avatar = FileBox::from_json(
///     r#"{"type":2,"boxType":2,"name":"ann.jpg","url":"https://example.invalid/ann.jpg","size":-1,"metadata":{}}"#,
/// ).unwrap();
/// assert_eq!(avatar.name, "ann.jpg");
/// assert!(matches!(avatar.source, FileBoxSource::Url { .. }));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FileBox {
    /// The file name, with its extension.
    pub name: String,
    /// Where the bytes are.
    pub source: FileBoxSource,
    /// Size in bytes, when known (`-1` and absent mean unknown).
    pub size: Option<u64>,
    /// MD5, when given.
    pub md5: Option<String>,
    /// Free-form metadata.
    pub metadata: Value,
}

/// The wire form, lenient: either `type` or the legacy `boxType`, `remoteUrl` for old URL boxes.
#[derive(Default, Deserialize, Serialize)]
#[serde(default, rename_all = "camelCase")]
struct Wire {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    box_type: Option<i64>,
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(skip_serializing)]
    remote_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qr_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
}

impl FileBox {
    /// Parses the JSON a service sends (`MessageFile`, `RoomAvatar`, …).
    pub fn from_json(json: &str) -> Result<Self> {
        let invalid = |message: String| Error::InvalidData {
            what: "FileBox JSON",
            message,
        };
        let wire: Wire = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        let missing = |key: &str| invalid(format!("a box of this type needs `{key}`"));
        let source = match wire.kind.or(wire.box_type) {
            Some(1) => FileBoxSource::Base64(wire.base64.ok_or_else(|| missing("base64"))?),
            Some(2) => FileBoxSource::Url {
                url: wire
                    .url
                    .or(wire.remote_url)
                    .filter(|url| !url.is_empty())
                    .ok_or_else(|| missing("url"))?,
                headers: wire.headers.unwrap_or_default(),
            },
            Some(3) => FileBoxSource::QrCode(wire.qr_code.ok_or_else(|| missing("qrCode"))?),
            Some(7) => FileBoxSource::Uuid(
                wire.uuid
                    .filter(|uuid| !uuid.is_empty())
                    .ok_or_else(|| missing("uuid"))?,
            ),
            Some(other) => return Err(invalid(format!("type {other} cannot travel as JSON"))),
            None => return Err(invalid("no `type` or `boxType`".into())),
        };
        Ok(Self {
            name: wire.name.unwrap_or_default(),
            source,
            size: wire.size.and_then(|size| u64::try_from(size).ok()),
            md5: wire.md5,
            metadata: wire.metadata.unwrap_or(Value::Object(Default::default())),
        })
    }

    /// The file's bytes: decoded (base64), fetched (URL, over HTTP(S) with the public web
    /// roots) or downloaded from the service (UUID, `Download`). At most
    /// [`MAX_FILE_BOX_BYTES`]. A QR-code box has no bytes of its own: render its content.
    pub async fn to_bytes(&self, bot: &Wechaty) -> Result<Vec<u8>> {
        let too_big = || Error::InvalidData {
            what: "file",
            message: format!("{} is larger than {MAX_FILE_BOX_BYTES} bytes", self.name),
        };
        match &self.source {
            FileBoxSource::Base64(data) => base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|error| Error::InvalidData {
                    what: "base64 file",
                    message: error.to_string(),
                }),
            FileBoxSource::Url { url, headers } => {
                let parsed = WebUrl::parse(url).ok_or_else(|| Error::InvalidData {
                    what: "file URL",
                    message: format!("{url:?} is not an http(s) URL"),
                })?;
                let fetch_failed = |message: String| Error::FetchFile {
                    name: self.name.clone(),
                    message,
                };
                let (status, body) = http::get(&parsed, headers, MAX_FILE_BOX_BYTES)
                    .await
                    .map_err(fetch_failed)?;
                if !status.is_success() {
                    return Err(fetch_failed(format!("the server answered {status}")));
                }
                Ok(body.to_vec())
            }
            FileBoxSource::QrCode(_) => Err(Error::InvalidArgument(format!(
                "{} is a QR code: it has content to render, not bytes to fetch",
                self.name
            ))),
            FileBoxSource::Uuid(uuid) => {
                let transport = bot.transport()?;
                let request = pb::DownloadRequest { id: uuid.clone() };
                let mut stream = transport
                    .puppet()
                    .download(request)
                    .await
                    .map_err(|status| transport.error("Download", &status))?
                    .into_inner();
                let mut bytes = Vec::new();
                while let Some(chunk) = stream
                    .message()
                    .await
                    .map_err(|status| transport.error("Download", &status))?
                {
                    if bytes.len() + chunk.chunk.len() > MAX_FILE_BOX_BYTES {
                        return Err(too_big());
                    }
                    bytes.extend_from_slice(&chunk.chunk);
                }
                Ok(bytes)
            }
        }
    }

    /// Writes the file's bytes to `path` (see [`to_bytes`](Self::to_bytes)).
    pub async fn to_file(&self, bot: &Wechaty, path: impl AsRef<std::path::Path>) -> Result<()> {
        let bytes = self.to_bytes(bot).await?;
        let path = path.as_ref();
        tokio::fs::write(path, bytes).await.map_err(|error| {
            Error::InvalidArgument(format!("cannot write {}: {error}", path.display()))
        })
    }

    /// The JSON form, with both `type` and `boxType` as file-box 1.x writes them.
    pub fn to_json(&self) -> String {
        let mut wire = Wire {
            name: Some(self.name.clone()),
            size: Some(self.size.map_or(-1, |size| size as i64)),
            md5: self.md5.clone(),
            metadata: Some(self.metadata.clone()),
            ..Wire::default()
        };
        let kind = match &self.source {
            FileBoxSource::Base64(data) => {
                wire.base64 = Some(data.clone());
                1
            }
            FileBoxSource::Url { url, headers } => {
                wire.url = Some(url.clone());
                if !headers.is_empty() {
                    wire.headers = Some(headers.clone());
                }
                2
            }
            FileBoxSource::QrCode(code) => {
                wire.qr_code = Some(code.clone());
                3
            }
            FileBoxSource::Uuid(uuid) => {
                wire.uuid = Some(uuid.clone());
                7
            }
        };
        wire.kind = Some(kind);
        wire.box_type = Some(kind);
        serde_json::to_string(&wire).expect("a FileBox always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_serialisable_kind_round_trips() {
        for json in [
            r#"{"type":1,"name":"a.txt","base64":"aGk="}"#,
            r#"{"type":2,"name":"a.jpg","url":"https://x/a.jpg","headers":{"k":"v"}}"#,
            r#"{"type":3,"name":"qr.png","qrCode":"hello"}"#,
            r#"{"type":7,"name":"big.bin","uuid":"83bf5e20-5d53-4645-b305-e92d4990a218","size":5}"#,
        ] {
            let parsed = FileBox::from_json(json).unwrap();
            assert_eq!(FileBox::from_json(&parsed.to_json()).unwrap(), parsed);
        }
    }

    #[test]
    fn legacy_keys_and_bad_input() {
        let old = FileBox::from_json(r#"{"boxType":2,"name":"a","remoteUrl":"http://x"}"#).unwrap();
        assert!(matches!(old.source, FileBoxSource::Url { ref url, .. } if url == "http://x"));
        for bad in [
            "not json",
            "{}",
            r#"{"type":6}"#,
            r#"{"type":7,"uuid":""}"#,
            r#"{"type":2}"#,
        ] {
            assert!(FileBox::from_json(bad).is_err(), "{bad}");
        }
        let written = FileBox::from_json(r#"{"type":3,"name":"q","qrCode":"c"}"#)
            .unwrap()
            .to_json();
        assert!(written.contains(r#""boxType":3"#) && written.contains(r#""type":3"#));
    }
}
