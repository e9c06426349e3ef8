//! The payloads of listed ids (`RoomList`, `ContactList`): each loaded through its cache, at
//! most `limit` at once, in the list's order; ids the service cannot describe any more are
//! skipped with a warning rather than failing the whole listing.

use std::fmt::Display;
use std::future::Future;

use futures_util::stream::{self as futures_stream, StreamExt as _};

use crate::error::{Error, Result};

/// Loads the payload of every non-empty id in `ids` with `load`; `what` names the kind of
/// thing in the warning ("room", "contact").
pub(crate) async fn load_listed<Id, P, F, Fut>(
    ids: Vec<String>,
    limit: usize,
    what: &'static str,
    load: F,
) -> Result<Vec<P>>
where
    Id: From<String> + Display,
    F: Fn(Id) -> Fut,
    Fut: Future<Output = (Id, Result<P>)>,
{
    let loaded: Vec<(Id, Result<P>)> =
        futures_stream::iter(ids.into_iter().filter(|id| !id.is_empty()))
            .map(|id| load(Id::from(id)))
            .buffered(limit)
            .collect()
            .await;
    let mut payloads = Vec::with_capacity(loaded.len());
    for (id, payload) in loaded {
        match payload {
            Ok(payload) => payloads.push(payload),
            Err(
                error @ (Error::NotFound { .. } | Error::Rpc { .. } | Error::InvalidData { .. }),
            ) => {
                tracing::warn!(%id, %error, "skipping a {what} the service cannot describe");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(payloads)
}
