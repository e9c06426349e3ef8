//! Fault injection: make chosen RPCs slow or fail, to test deadlines and error handling.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Faults of a mock service, by RPC method name (`"Version"`, `"RoomPayload"`, …).
///
/// ```
/// # use std::time::Duration;
/// # use wechaty_client::{mock::MockPuppetService, Code};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> wechaty_client::Result<()> {
/// let server = MockPuppetService::builder().serve().await?;
/// server.faults().delay("Version", Duration::from_millis(200));
/// server.faults().fail_next("Ding", Code::Internal, "boom");
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    delays: HashMap<String, Duration>,
    failures: HashMap<String, (tonic::Code, String)>,
}

impl Faults {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every call of `rpc` waits `delay` before it is handled, until [`clear`](Self::clear).
    pub fn delay(&self, rpc: &str, delay: Duration) {
        self.inner().delays.insert(rpc.to_owned(), delay);
    }

    /// The next call of `rpc` fails with `code` and `message`.
    pub fn fail_next(&self, rpc: &str, code: tonic::Code, message: &str) {
        self.inner()
            .failures
            .insert(rpc.to_owned(), (code, message.to_owned()));
    }

    /// Removes every fault.
    pub fn clear(&self) {
        let mut inner = self.inner();
        inner.delays.clear();
        inner.failures.clear();
    }

    /// Applies the faults for one call of `rpc`.
    pub(crate) async fn apply(&self, rpc: &str) -> Result<(), tonic::Status> {
        let (delay, failure) = {
            let mut inner = self.inner();
            (inner.delays.get(rpc).copied(), inner.failures.remove(rpc))
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        match failure {
            Some((code, message)) => Err(tonic::Status::new(code, message)),
            None => Ok(()),
        }
    }
}
