//! `grpc.health.v1.Health` as the official server answers it: `SERVICE_UNKNOWN` before the
//! puppet's first heartbeat, `SERVING` while the last one is under 60 s old, `NOT_SERVING` after.
//! The requested service name is ignored, and no token is needed.

use std::time::{Duration, SystemTime};

use tokio_stream::StreamExt;

use super::world::MockWorld;
use crate::generated::health::health_check_response::ServingStatus;
use crate::generated::health::health_server::Health;
use crate::generated::health::{HealthCheckRequest, HealthCheckResponse};

const FRESH: Duration = Duration::from_secs(60);
const WATCH_POLL: Duration = Duration::from_secs(1);

pub(crate) struct MockHealth {
    world: MockWorld,
}

impl MockHealth {
    pub(crate) fn new(world: MockWorld) -> Self {
        Self { world }
    }
}

fn status(world: &MockWorld) -> ServingStatus {
    match world.state().last_heartbeat {
        None => ServingStatus::ServiceUnknown,
        Some(at) if SystemTime::now().duration_since(at).unwrap_or_default() < FRESH => {
            ServingStatus::Serving
        }
        Some(_) => ServingStatus::NotServing,
    }
}

fn response(status: ServingStatus) -> HealthCheckResponse {
    HealthCheckResponse {
        status: status as i32,
    }
}

#[tonic::async_trait]
impl Health for MockHealth {
    async fn check(
        &self,
        _request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(response(status(&self.world))))
    }

    /// Sends the status now and again whenever it changes.
    async fn watch(
        &self,
        _request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<super::service::BoxStream<HealthCheckResponse>>, tonic::Status>
    {
        let world = self.world.clone();
        let ticks = tokio_stream::wrappers::IntervalStream::new(tokio::time::interval(WATCH_POLL));
        let mut last = None;
        let changes = ticks.filter_map(move |_| {
            let now = status(&world);
            (last != Some(now)).then(|| {
                last = Some(now);
                Ok(response(now))
            })
        });
        Ok(tonic::Response::new(Box::pin(changes)))
    }
}
