//! The generated gRPC code (feature `proto`): the `wechaty.Puppet` client and every message
//! type of our `.proto` files, for RPCs this SDK does not wrap.
//!
//! Nothing else in the SDK's API exposes these types, so they may change with the `.proto`
//! files; prefer the handles ([`Wechaty`](crate::Wechaty), [`Room`](crate::Room), …) where
//! they do what you need.
//! [`WechatyBuilder::build_proto_client`](crate::WechatyBuilder::build_proto_client) connects a
//! client with the builder's endpoint, token and TLS settings.
//!
//! ```no_run
//! use wechaty_client::proto::puppet::VersionRequest;
//! use wechaty_client::WechatyBuilder;
//!
//! # async fn demo() -> wechaty_client::Result<()> {
//! let mut client = WechatyBuilder::from_env().build_proto_client().await?;
//! let answer = client.version(VersionRequest {}).await;
//! println!("{:?}", answer.map(|response| response.into_inner().version));
//! # Ok(()) }
//! ```
//!
//! The field numbers and enum values follow the official service (wechaty-grpc), with the
//! message types in the wechaty-puppet numbering the wire really carries (`Text` = 7).

use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The standard gRPC health service (`grpc.health.v1`), which puppet services answer without a
/// token.
pub use crate::generated::health;
/// The `wechaty.puppet` messages (`RoomPayloadRequest`, `EventResponse`, …).
pub use crate::generated::wechaty::puppet;
/// The generated client of the `wechaty.Puppet` service, generic over its transport.
pub use crate::generated::wechaty::puppet_client;
/// The interceptor that adds `authorization: Wechaty <token>` to every call.
pub use crate::transport::Authorization;

/// The generated client over an authenticated channel, as
/// [`WechatyBuilder::build_proto_client`](crate::WechatyBuilder::build_proto_client) returns it.
pub type PuppetClient = puppet_client::PuppetClient<InterceptedService<Channel, Authorization>>;
