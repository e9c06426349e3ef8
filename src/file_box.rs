//! [`FileBox`]: a file as the Wechaty services exchange it, in the JSON form of file-box 1.x
//! (protocol.md §8): `type`/`boxType` 1 base64, 2 URL, 3 QR code, 7 UUID.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Default largest file [`FileBox::to_bytes`] and [`FileBox::to_file`] read (256 MiB); see
/// [`FileTransfers::max_size`](crate::FileTransfers::max_size).
pub const MAX_FILE_BOX_BYTES: usize = 256 * 1024 * 1024;

pub(crate) fn base64_engine() -> &'static base64::engine::GeneralPurpose {
    &base64::engine::general_purpose::STANDARD
}

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
    /// A local file, read when it is sent or its bytes are asked for.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Bytes),
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
#[derive(Debug, Clone)]
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
    /// Who made the box: a URL from the service is only fetched from public addresses.
    origin: Origin,
}

/// Where a box was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Origin {
    /// By this program: its URLs are its own choice.
    #[default]
    Caller,
    /// From the service's data (a message, an avatar): untrusted.
    Service,
}

/// Equal when name, bytes' location and metadata are; who made the box does not matter.
impl PartialEq for FileBox {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.source == other.source
            && self.size == other.size
            && self.md5 == other.md5
            && self.metadata == other.metadata
    }
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
    fn with(name: impl Into<String>, source: FileBoxSource, size: Option<u64>) -> Self {
        Self {
            name: name.into(),
            source,
            size,
            md5: None,
            metadata: Value::Object(Default::default()),
            origin: Origin::Caller,
        }
    }

    /// A file at a URL; named after the URL's last path segment.
    pub fn from_url(url: impl Into<String>) -> Self {
        let url = url.into();
        let name = url
            .split(['?', '#'])
            .next()
            .and_then(|path| path.rsplit('/').next())
            .filter(|name| !name.is_empty() && !name.contains(':'))
            .unwrap_or("file")
            .to_owned();
        Self::with(
            name,
            FileBoxSource::Url {
                url,
                headers: BTreeMap::new(),
            },
            None,
        )
    }

    /// A local file (read when sent; big files are uploaded in chunks, never held whole).
    pub fn from_file(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        let name = path.file_name().map_or_else(
            || "file".to_owned(),
            |name| name.to_string_lossy().into_owned(),
        );
        Self::with(name, FileBoxSource::File(path), None)
    }

    /// Bytes in memory, with a file name.
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        let size = bytes.len() as u64;
        Self::with(name, FileBoxSource::Bytes(bytes), Some(size))
    }

    /// Base64 text, with a file name.
    pub fn from_base64(name: impl Into<String>, base64: impl Into<String>) -> Self {
        Self::with(name, FileBoxSource::Base64(base64.into()), None)
    }

    /// A QR code's content.
    pub fn from_qr_code(content: impl Into<String>) -> Self {
        Self::with("qrcode.png", FileBoxSource::QrCode(content.into()), None)
    }

    /// A file stored on the service (what `Upload` returned).
    pub fn from_uuid(uuid: impl Into<String>, name: impl Into<String>) -> Self {
        Self::with(name, FileBoxSource::Uuid(uuid.into()), None)
    }

    /// Parses the JSON a service sends (`MessageFile`, `RoomAvatar`, …).
    pub fn from_json(json: &str) -> Result<Self> {
        let invalid = |message: String| Error::invalid_data("FileBox JSON", message);
        let wire: Wire = serde_json::from_str(json)
            .map_err(|error| Error::invalid_data_caused("FileBox JSON", error))?;
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
            origin: Origin::Caller,
        })
    }

    /// [`from_json`](Self::from_json) of what the service sent: its URLs are untrusted.
    pub(crate) fn from_service_json(json: &str) -> Result<Self> {
        let mut file = Self::from_json(json)?;
        file.origin = Origin::Service;
        Ok(file)
    }

    /// Whether the box came from the service's data.
    pub(crate) fn is_from_service(&self) -> bool {
        self.origin == Origin::Service
    }

    /// The JSON form, with both `type` and `boxType` as file-box 1.x writes them. Bytes go
    /// inline as base64; a local file cannot travel as JSON (send it with `say`, which
    /// uploads it, or read it into [`from_bytes`](Self::from_bytes)).
    pub fn to_json(&self) -> Result<String> {
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
            FileBoxSource::Bytes(bytes) => {
                wire.size = Some(bytes.len() as i64);
                wire.base64 = Some(base64_engine().encode(bytes));
                1
            }
            FileBoxSource::File(path) => {
                return Err(Error::InvalidArgument(format!(
                    "{} is a local file: it travels by upload, not as JSON",
                    path.display()
                )))
            }
        };
        wire.kind = Some(kind);
        wire.box_type = Some(kind);
        serde_json::to_string(&wire).map_err(|error| Error::invalid_data_caused("FileBox", error))
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
            assert_eq!(
                FileBox::from_json(&parsed.to_json().unwrap()).unwrap(),
                parsed
            );
        }
    }

    #[test]
    fn numbers_in_the_metadata_survive_a_round_trip() {
        // Found by the file_box_json fuzz target: serde_json's default reader is one ulp off
        // on these, so the box written back differed from the one read.
        let json = r#"{"type":1,"name":"voice.sil","base64":"AAAA","metadata":{"voiested":[0,-125e39,null,true,"s"],"x":1.0715660391465826e-75}}"#;
        let parsed = FileBox::from_json(json).unwrap();
        assert_eq!(parsed.metadata["voiested"][1].as_f64(), Some(-125e39));
        assert_eq!(parsed.metadata["x"].as_f64(), Some(1.0715660391465826e-75));
        let written = parsed.to_json().unwrap();
        assert_eq!(FileBox::from_json(&written).unwrap(), parsed, "{written}");
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
            .to_json()
            .unwrap();
        assert!(written.contains(r#""boxType":3"#) && written.contains(r#""type":3"#));
    }
}

#[cfg(test)]
mod constructor_tests {
    use super::*;

    #[test]
    fn names_and_sources() {
        assert_eq!(
            FileBox::from_url("https://x.example/a/b.pdf?sig=1").name,
            "b.pdf"
        );
        assert_eq!(FileBox::from_url("https://x.example/").name, "file");
        assert_eq!(FileBox::from_file("/tmp/report.txt").name, "report.txt");
        let bytes = FileBox::from_bytes("a.bin", vec![1u8, 2, 3]);
        assert_eq!(bytes.size, Some(3));
        let json = bytes.to_json().unwrap();
        assert!(json.contains(r#""base64":"AQID""#), "{json}");
        assert!(FileBox::from_file("/tmp/x").to_json().is_err());
        assert_eq!(
            FileBox::from_qr_code("hi").source,
            FileBoxSource::QrCode("hi".into())
        );
    }
}
