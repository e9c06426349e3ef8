//! The baseline: the generated tonic client alone on its own connection, doing the same calls
//! as the SDK with nothing around them (no cache, no cap, no error mapping, no fan-out).

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use serde::Deserialize;

use crate::error::{BenchError, Result};
use wechaty_client::proto::puppet as pb;
use wechaty_client::proto::PuppetClient as Puppet;

fn failed(rpc: &'static str, status: tonic::Status) -> BenchError {
    BenchError::bare(rpc, &status)
}

/// One `Version` call.
pub(crate) async fn version(client: &Puppet) -> Result<String> {
    let response = client
        .clone()
        .version(pb::VersionRequest {})
        .await
        .map_err(|status| failed("Version", status))?;
    Ok(response.into_inner().version)
}

/// `RoomMemberList`, then `RoomMemberPayload` and `ContactPayload` of every member, `in_flight`
/// members at a time; returns how many members were loaded.
pub(crate) async fn member_list(client: &Puppet, room: &str, in_flight: usize) -> Result<usize> {
    let ids = client
        .clone()
        .room_member_list(pb::RoomMemberListRequest {
            id: room.to_owned(),
        })
        .await
        .map_err(|status| failed("RoomMemberList", status))?
        .into_inner()
        .member_ids;
    let loaded: Vec<Result<(String, String)>> = stream::iter(ids)
        .map(|member_id| async move {
            let mut members = client.clone();
            let mut contacts = client.clone();
            let (member, contact) = tokio::join!(
                members.room_member_payload(pb::RoomMemberPayloadRequest {
                    id: room.to_owned(),
                    member_id: member_id.clone(),
                }),
                contacts.contact_payload(pb::ContactPayloadRequest { id: member_id }),
            );
            let member = member.map_err(|status| failed("RoomMemberPayload", status))?;
            let contact = contact.map_err(|status| failed("ContactPayload", status))?;
            Ok((member.into_inner().room_alias, contact.into_inner().name))
        })
        .buffered(in_flight.max(1))
        .collect()
        .await;
    successes(loaded)
}

/// How many of `results` succeeded, or the first failure.
fn successes<T>(results: Vec<Result<T>>) -> Result<usize> {
    results
        .into_iter()
        .try_fold(0, |count, result| result.map(|_| count + 1))
}

/// `RoomList`, then every `RoomPayload`, `in_flight` at a time; returns how many rooms.
pub(crate) async fn room_payloads(client: &Puppet, in_flight: usize) -> Result<usize> {
    let ids = client
        .clone()
        .room_list(pb::RoomListRequest {})
        .await
        .map_err(|status| failed("RoomList", status))?
        .into_inner()
        .ids;
    let loaded: Vec<Result<String>> = stream::iter(ids)
        .map(|id| async move {
            let response = client
                .clone()
                .room_payload(pb::RoomPayloadRequest { id })
                .await
                .map_err(|status| failed("RoomPayload", status))?;
            Ok(response.into_inner().topic)
        })
        .buffered(in_flight.max(1))
        .collect()
        .await;
    successes(loaded)
}

/// `ContactList` alone: every contact id.
pub(crate) async fn contact_ids(client: &Puppet) -> Result<Vec<String>> {
    Ok(client
        .clone()
        .contact_list(pb::ContactListRequest {})
        .await
        .map_err(|status| failed("ContactList", status))?
        .into_inner()
        .ids)
}

/// `ContactList`, then every `ContactPayload`, `in_flight` at a time; returns how many
/// contacts.
pub(crate) async fn contact_payloads(client: &Puppet, in_flight: usize) -> Result<usize> {
    let ids = contact_ids(client).await?;
    let loaded: Vec<Result<String>> = stream::iter(ids)
        .map(|id| async move {
            let response = client
                .clone()
                .contact_payload(pb::ContactPayloadRequest { id })
                .await
                .map_err(|status| failed("ContactPayload", status))?;
            Ok(response.into_inner().name)
        })
        .buffered(in_flight.max(1))
        .collect()
        .await;
    successes(loaded)
}

/// What a bare client would decode from a room event: its own typed struct, borrowing nothing.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Decoded to pay for decoding; the fields are the point, not their reads.
struct RoomEventPayload {
    room_id: String,
    #[serde(default)]
    invitee_id_list: Vec<String>,
    #[serde(default)]
    removee_id_list: Vec<String>,
    inviter_id: Option<String>,
    remover_id: Option<String>,
    changer_id: Option<String>,
    new_topic: Option<String>,
    old_topic: Option<String>,
    new_announce: Option<String>,
    timestamp: Option<f64>,
}

/// A bare Event stream reader: how many events, when each arrived (since `origin`).
pub(crate) struct BareEvents {
    stream: tonic::Streaming<pb::EventResponse>,
}

impl BareEvents {
    /// Opens the Event stream (the service allows one: nothing else may hold it).
    pub(crate) async fn open(client: &Puppet) -> Result<Self> {
        let stream = client
            .clone()
            .event(pb::EventRequest {})
            .await
            .map_err(|status| failed("Event", status))?
            .into_inner();
        Ok(Self { stream })
    }

    /// Reads until `count` room events arrived (other types, such as the replayed login, are
    /// skipped), decoding each when `decode`; returns each arrival time since `origin`.
    pub(crate) async fn receive(
        &mut self,
        count: usize,
        decode: bool,
        origin: Instant,
    ) -> Result<Vec<Duration>> {
        let mut arrivals = Vec::with_capacity(count);
        while arrivals.len() < count {
            let Some(event) = self
                .stream
                .message()
                .await
                .map_err(|status| failed("Event", status))?
            else {
                return Err(BenchError::Failed(format!(
                    "the bare Event stream ended after {} of {count} events",
                    arrivals.len()
                )));
            };
            if !(19..=21).contains(&event.r#type) && event.r#type != 32 {
                continue;
            }
            if decode {
                serde_json::from_str::<RoomEventPayload>(&event.payload).map_err(|error| {
                    BenchError::Failed(format!("a room event did not decode: {error}"))
                })?;
            }
            arrivals.push(origin.elapsed());
        }
        Ok(arrivals)
    }
}
