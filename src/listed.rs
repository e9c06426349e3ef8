//! The payloads of listed ids (`RoomList`, `ContactList`): each loaded through its cache, at
//! most `limit` at once, in the list's order; ids the service cannot describe any more are
//! skipped with a warning rather than failing the whole listing.

use std::fmt::Display;
use std::future::Future;

use futures_util::stream::{self as futures_stream, StreamExt as _};

use crate::error::{Error, Result};

/// How many ids [`load_listed`] looks up under one lock of the cache: a warm listing
/// of 50,000 contacts takes ~200 short locks rather than one per id, and the dispatch task's
/// invalidations never wait behind a whole listing.
const CACHED_PER_LOCK: usize = 256;

/// Loads the payload of every non-empty id in `ids`, reading what `cached` already holds
/// first; `what` names the kind of thing in the warning ("room", "contact"). `cached`
/// answers a slice of ids (at most [`CACHED_PER_LOCK`]) with each one's cached payload or
/// `None`, in order, and only the `None`s go through `load` (which reads through the cache again: an entry may have
/// been filled meanwhile). A warm listing is then a few locked batch lookups rather than a
/// future and a lock per id: over 50,000 cached contacts that halved a warm `find`
/// (BENCHMARKS.md, "Contacts (issue 16)").
pub(crate) async fn load_listed<Id, P, C, F, Fut>(
    ids: Vec<String>,
    cached: C,
    limit: usize,
    what: &'static str,
    load: F,
) -> Result<Vec<P>>
where
    Id: From<String> + Display + Clone,
    C: Fn(&[Id]) -> Vec<Option<P>>,
    F: Fn(Id) -> Fut,
    Fut: Future<Output = (Id, Result<P>)>,
{
    let ids: Vec<Id> = ids
        .into_iter()
        .filter(|id| !id.is_empty())
        .map(Id::from)
        .collect();
    let mut slots: Vec<Option<P>> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CACHED_PER_LOCK) {
        slots.extend(cached(chunk));
    }
    debug_assert_eq!(slots.len(), ids.len(), "one cache answer per id");
    let missing: Vec<(usize, Id)> = slots
        .iter()
        .zip(&ids)
        .enumerate()
        .filter(|(_, (slot, _))| slot.is_none())
        .map(|(index, (_, id))| (index, id.clone()))
        .collect();
    let loaded: Vec<(usize, (Id, Result<P>))> = futures_stream::iter(missing)
        .map(|(index, id)| {
            let loading = load(id);
            async move { (index, loading.await) }
        })
        .buffered(limit)
        .collect()
        .await;
    for (index, (id, payload)) in loaded {
        match payload {
            Ok(payload) => {
                if let Some(slot) = slots.get_mut(index) {
                    *slot = Some(payload);
                }
            }
            Err(
                error @ (Error::NotFound { .. } | Error::Rpc { .. } | Error::InvalidData { .. }),
            ) => {
                tracing::warn!(%id, %error, "skipping a {what} the service cannot describe");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(slots.into_iter().flatten().collect())
}
