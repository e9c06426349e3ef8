//! What clients send, read as the official server reads it (protocol.md §8 and §4.6) — with
//! the mock's own expectations, not the client's codecs, so that a bug in `FileBox::to_json`
//! or `UrlLink::to_wire` cannot round-trip through the mock unnoticed.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::file_box::{FileBox, FileBoxSource};
use crate::generated::wechaty::puppet as pb;
use crate::mini_program::MiniProgram;
use crate::url_link::UrlLink;

/// A `MessageSendFileRequest.file_box`: `JSON.stringify(FileBox)` of file-box 1.x. `Err`
/// says what is wrong with it.
pub(super) fn file_box(json: &str) -> Result<FileBox, String> {
    let value: Value = serde_json::from_str(json).map_err(|error| format!("not JSON: {error}"))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let kind = object
        .get("type")
        .or_else(|| object.get("boxType"))
        .and_then(Value::as_i64)
        .ok_or("no numeric `type`")?;
    // file-box 1.x writes both; a client that writes them differently has a bug.
    if let (Some(kind), Some(box_type)) = (object.get("type"), object.get("boxType")) {
        if kind != box_type {
            return Err(format!("`type` {kind} and `boxType` {box_type} differ"));
        }
    }
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .ok_or("no `name`")?;
    let text = |key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .filter(|text| !text.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("a box of type {kind} needs `{key}`"))
    };
    let source = match kind {
        1 => {
            let data = text("base64")?;
            base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .map_err(|error| format!("`base64` is not base64: {error}"))?;
            FileBoxSource::Base64(data)
        }
        2 => FileBoxSource::Url {
            url: text("url")?,
            headers: headers(object)?,
        },
        3 => FileBoxSource::QrCode(text("qrCode")?),
        7 => FileBoxSource::Uuid(text("uuid")?),
        other => return Err(format!("type {other} cannot travel as JSON")),
    };
    let size = match object.get("size") {
        None | Some(Value::Null) => None,
        // -1: the size is not known.
        Some(size) => match size.as_i64() {
            Some(-1) => None,
            Some(bytes) if bytes >= 0 => Some(bytes as u64),
            _ => return Err(format!("`size` {size} is not a byte count")),
        },
    };
    let metadata = match object.get("metadata") {
        None => Value::Object(Map::new()),
        Some(metadata @ Value::Object(_)) => metadata.clone(),
        Some(other) => return Err(format!("`metadata` {other} is not an object")),
    };
    let mut file = FileBox::from_uuid("", name);
    file.source = source;
    file.size = size;
    file.md5 = object.get("md5").and_then(Value::as_str).map(str::to_owned);
    file.metadata = metadata;
    Ok(file)
}

fn headers(object: &Map<String, Value>) -> Result<BTreeMap<String, String>, String> {
    match object.get("headers") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(headers)) => headers
            .iter()
            .map(|(name, value)| match value.as_str() {
                Some(value) => Ok((name.clone(), value.to_owned())),
                None => Err(format!("header {name} is not a string")),
            })
            .collect(),
        Some(other) => Err(format!("`headers` {other} is not an object")),
    }
}

/// A `MessageSendUrlRequest`: the typed field as new servers read it; the JSON of old servers
/// (`{title,url,description?,thumbnailUrl?}`) when it is alone, and checked against the typed
/// field when a client sends both, as official clients do.
pub(super) fn url_link(
    typed: Option<pb::UrlLinkPayload>,
    legacy_json: &str,
) -> Result<UrlLink, String> {
    let invalid = |why: String| format!("invalid url link: {why}");
    let legacy = (!legacy_json.is_empty())
        .then(|| legacy_object(legacy_json))
        .transpose()
        .map_err(invalid)?;
    let field = |object: &Map<String, Value>, key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let link = match (typed, &legacy) {
        (Some(typed), _) => typed,
        (None, Some(object)) => pb::UrlLinkPayload {
            description: field(object, "description"),
            thumbnail_url: field(object, "thumbnailUrl"),
            title: field(object, "title"),
            url: field(object, "url"),
        },
        (None, None) => return Err(invalid("neither `url_link` nor its JSON".into())),
    };
    if link.url.is_empty() || link.title.is_empty() {
        return Err(invalid("a link needs a title and a url".into()));
    }
    if let Some(object) = &legacy {
        for (key, typed) in [
            ("title", &link.title),
            ("url", &link.url),
            ("description", &link.description),
            ("thumbnailUrl", &link.thumbnail_url),
        ] {
            if field(object, key) != *typed {
                return Err(invalid(format!(
                    "the JSON's `{key}` {:?} is not the field's {typed:?}",
                    field(object, key)
                )));
            }
        }
    }
    Ok(UrlLink::create(
        link.description,
        link.thumbnail_url,
        link.title,
        link.url,
    ))
}

/// A `MessageSendMiniProgramRequest`, read as [`url_link`] is, with the camelCase keys
/// `{appid,description,pagePath,iconUrl,shareId,thumbUrl,title,username,thumbKey}`.
pub(super) fn mini_program(
    typed: Option<pb::MiniProgramPayload>,
    legacy_json: &str,
) -> Result<MiniProgram, String> {
    let invalid = |why: String| format!("invalid mini program: {why}");
    let legacy = (!legacy_json.is_empty())
        .then(|| legacy_object(legacy_json))
        .transpose()
        .map_err(invalid)?;
    let text = |object: &Map<String, Value>, key: &str| {
        object
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let card = match (typed, &legacy) {
        (Some(typed), _) => typed,
        (None, Some(object)) => pb::MiniProgramPayload {
            appid: text(object, "appid"),
            description: text(object, "description"),
            page_path: text(object, "pagePath"),
            icon_url: text(object, "iconUrl"),
            share_id: text(object, "shareId"),
            thumb_url: text(object, "thumbUrl"),
            title: text(object, "title"),
            username: text(object, "username"),
            thumb_key: text(object, "thumbKey"),
        },
        (None, None) => return Err(invalid("neither `mini_program` nor its JSON".into())),
    };
    let fields = [
        ("appid", &card.appid),
        ("description", &card.description),
        ("pagePath", &card.page_path),
        ("iconUrl", &card.icon_url),
        ("shareId", &card.share_id),
        ("thumbUrl", &card.thumb_url),
        ("title", &card.title),
        ("username", &card.username),
        ("thumbKey", &card.thumb_key),
    ];
    if let Some(object) = &legacy {
        for (key, typed) in fields {
            if text(object, key) != *typed {
                return Err(invalid(format!(
                    "the JSON's `{key}` {:?} is not the field's {typed:?}",
                    text(object, key)
                )));
            }
        }
    }
    let optional = |text: String| (!text.is_empty()).then_some(text);
    Ok(MiniProgram {
        appid: optional(card.appid),
        description: optional(card.description),
        page_path: optional(card.page_path),
        icon_url: optional(card.icon_url),
        share_id: optional(card.share_id),
        thumb_url: optional(card.thumb_url),
        title: optional(card.title),
        username: optional(card.username),
        thumb_key: optional(card.thumb_key),
    })
}

fn legacy_object(json: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(json) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(format!("the JSON {other} is not an object")),
        Err(error) => Err(format!("not JSON: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_boxes_as_file_box_writes_them_and_as_it_does_not() {
        let good = r#"{"type":7,"boxType":7,"name":"a.bin","uuid":"u-1","size":5,"md5":"x","metadata":{}}"#;
        let file = file_box(good).unwrap();
        assert_eq!(file.source, FileBoxSource::Uuid("u-1".into()));
        assert_eq!((file.name.as_str(), file.size), ("a.bin", Some(5)));
        assert_eq!(
            file_box(r#"{"type":1,"name":"a","base64":"aGk=","size":-1}"#)
                .unwrap()
                .size,
            None
        );
        for bad in [
            r#"{"type":7,"boxType":1,"name":"a","uuid":"u"}"#,
            r#"{"type":7,"uuid":"u"}"#,
            r#"{"type":1,"name":"a","base64":"not base64!"}"#,
            r#"{"type":2,"name":"a","url":"https://x","headers":{"k":1}}"#,
            r#"{"type":3,"name":"a","qrCode":""}"#,
            r#"{"type":5,"name":"a"}"#,
            r#"{"type":7,"name":"a","uuid":"u","size":"5"}"#,
            r#"{"type":7,"name":"a","uuid":"u","metadata":[]}"#,
            r#"[1]"#,
        ] {
            assert!(file_box(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_two_forms_of_a_card_must_agree() {
        let typed = || pb::UrlLinkPayload {
            description: "d".into(),
            thumbnail_url: String::new(),
            title: "T".into(),
            url: "https://x".into(),
        };
        let link = url_link(
            Some(typed()),
            r#"{"title":"T","url":"https://x","description":"d"}"#,
        )
        .unwrap();
        assert_eq!(link.title, "T");
        assert!(url_link(Some(typed()), r#"{"title":"T","url":"https://y"}"#).is_err());
        assert!(url_link(Some(typed()), "").is_ok());
        assert!(url_link(None, r#"{"title":"T","url":"https://x"}"#).is_ok());
        assert!(url_link(None, "").is_err());

        let card = pb::MiniProgramPayload {
            appid: "wx1".into(),
            page_path: "p".into(),
            ..Default::default()
        };
        let parsed = mini_program(Some(card.clone()), r#"{"appid":"wx1","pagePath":"p"}"#).unwrap();
        assert_eq!(parsed.page_path.as_deref(), Some("p"));
        assert!(mini_program(Some(card), r#"{"appid":"wx1","page_path":"p"}"#).is_err());
    }
}
