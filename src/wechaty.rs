//! [`Wechaty`]: the bot handle. Cheap to clone; every clone talks over the same connection.

use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;

use crate::dispatch::hub::Hub;
use crate::dispatch::{self, ConnectionState, Events, StreamSettings};
use crate::error::{Error, Result};
use crate::event::{Event, PayloadType, MALFORMED_ORDINAL, SYNC_ECHO_WAIT};
use crate::file_policy::FilePolicy;
use crate::generated::wechaty::puppet as pb;
use crate::ids::ContactId;
use crate::payload_cache::{CacheLimits, PayloadCaches};
use crate::send_limiter::{SendLimiter, SendLimits};
use crate::statistics::{RpcLog, Statistics};
use crate::transport::Transport;

/// A bot connected to a Wechaty puppet service.
///
/// Build one with [`Wechaty::builder()`] or
/// [`WechatyBuilder::from_env()`](crate::WechatyBuilder::from_env), then [`start`] it: that opens
/// the Event stream and starts the puppet. Clones share the connection.
///
/// ```no_run
/// use tokio_stream::StreamExt;
/// use wechaty_client::{Event, WechatyBuilder};
///
/// # async fn demo() -> wechaty_client::Result<()> {
/// let bot = WechatyBuilder::from_env().build().await?;
/// let mut events = bot.events();
/// bot.start().await?;
/// while let Some(event) = events.next().await {
///     if let Event::Message { message_id } = event {
///         let message = bot.message(message_id);
///         if message.payload().await?.text.as_deref() == Some("ding") {
///             message.reply("dong").await?;
///         }
///     }
/// }
/// # Ok(()) }
/// ```
///
/// [`start`]: Wechaty::start
#[derive(Clone)]
pub struct Wechaty {
    inner: Arc<Inner>,
}

/// A bot handle that does not keep the bot alive: what streams and handlers hold, so that the
/// bot goes (and frees the service's Event stream) when the user's last [`Wechaty`] does.
#[derive(Clone)]
pub(crate) struct WeakWechaty(Weak<Inner>);

impl WeakWechaty {
    /// The bot, while someone still holds it.
    pub(crate) fn upgrade(&self) -> Option<Wechaty> {
        self.0.upgrade().map(|inner| Wechaty { inner })
    }
}

/// What the builder settled for a bot besides its connection.
pub(crate) struct BotSettings {
    pub(crate) stream: StreamSettings,
    pub(crate) cache_limits: CacheLimits,
    /// Payload lookups in flight at once for one list.
    pub(crate) lookup_limit: usize,
    /// Files up to this size are sent inline.
    pub(crate) inline_file_limit: usize,
    pub(crate) files: FilePolicy,
    /// `None`: sends are not limited.
    pub(crate) send_limits: Option<SendLimits>,
    /// A worker's: its events come from JetStream, not from the service.
    #[cfg(feature = "nats")]
    pub(crate) worker: Option<crate::relay::worker::WorkerOptions>,
}

struct Inner {
    /// `None` once stopped: dropping the last clone of the transport closes the connection.
    transport: Mutex<Option<Transport>>,
    endpoint: String,
    hub: Arc<Hub>,
    caches: Arc<PayloadCaches>,
    settings: StreamSettings,
    /// Payload lookups in flight at once for one list (members, rooms).
    lookup_limit: usize,
    /// Files up to this size are sent inline; bigger ones are uploaded.
    inline_file_limit: usize,
    files: FilePolicy,
    sends: Option<SendLimiter>,
    /// Calls by method; the transport's, kept past `stop()`.
    rpcs: Arc<RpcLog>,
    pump: Mutex<Option<JoinHandle<()>>>,
    /// Whether a worker's task ended: it ends by itself once the bot stopped and it left its
    /// group (`pump` then holds a task that only waits for it: aborting that leaves it be).
    #[cfg(feature = "nats")]
    worker: Mutex<Option<watch::Receiver<bool>>>,
    /// A worker's options (`events_from_nats`).
    #[cfg(feature = "nats")]
    worker_options: Option<crate::relay::worker::WorkerOptions>,
}

/// The last handle gone: the same as `stop()`. Streams and handlers hold the bot only
/// weakly, so they end here too, and the service's single Event stream is freed.
impl Drop for Inner {
    fn drop(&mut self) {
        self.hub.close(None);
        if let Some(task) = self.pump.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

impl fmt::Debug for Wechaty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wechaty")
            .field("endpoint", &self.inner.endpoint)
            .field("state", &*self.inner.hub.state().borrow())
            .finish_non_exhaustive()
    }
}

impl Wechaty {
    pub(crate) fn new(transport: Transport, settings: BotSettings) -> Self {
        let caches = Arc::new(PayloadCaches::new(settings.cache_limits));
        let hook = Arc::clone(&caches);
        let messages = Arc::clone(&caches.messages);
        let hub = Arc::new(Hub::new(
            Arc::new(move |event| hook.invalidate(event)),
            messages,
        ));
        let rpcs = transport.rpc_log();
        Self {
            inner: Arc::new(Inner {
                endpoint: transport.endpoint().to_owned(),
                transport: Mutex::new(Some(transport)),
                hub,
                caches,
                settings: settings.stream,
                lookup_limit: settings.lookup_limit.max(1),
                inline_file_limit: settings.inline_file_limit,
                files: settings.files,
                sends: settings.send_limits.map(SendLimiter::new),
                rpcs,
                pump: Mutex::new(None),
                #[cfg(feature = "nats")]
                worker: Mutex::new(None),
                #[cfg(feature = "nats")]
                worker_options: settings.worker,
            }),
        }
    }

    /// A handle that does not keep the bot alive.
    pub(crate) fn downgrade(&self) -> WeakWechaty {
        WeakWechaty(Arc::downgrade(&self.inner))
    }

    pub(crate) fn caches(&self) -> &PayloadCaches {
        &self.inner.caches
    }

    pub(crate) fn lookup_limit(&self) -> usize {
        self.inner.lookup_limit
    }

    /// What every `sync()` does first: asks the service to drop its copies of `id`
    /// (`DirtyPayload`, one per kind), then waits, at most [`SYNC_ECHO_WAIT`], for the `dirty`
    /// echo of each, so that the caller's reload comes after the service's own refresh.
    pub(crate) async fn dirty_and_await_echo(&self, kinds: &[PayloadType], id: &str) -> Result<()> {
        let transport = self.transport()?;
        let events = self.is_connected().then(|| self.events());
        for kind in kinds {
            let request = pb::DirtyPayloadRequest {
                r#type: kind.number() as i32,
                id: id.to_owned(),
            };
            transport
                .unary("DirtyPayload", request, |mut c, r| async move {
                    c.dirty_payload(r).await
                })
                .await?;
        }
        let Some(mut events) = events else {
            return Ok(());
        };
        let mut waiting: Vec<PayloadType> = kinds.to_vec();
        let echoes = async {
            while let Some(event) = events.next().await {
                if let Event::Dirty {
                    payload_type,
                    payload_id,
                } = &event
                {
                    if payload_id == id {
                        waiting.retain(|kind| kind != payload_type);
                    }
                }
                if waiting.is_empty() {
                    break;
                }
            }
        };
        if tokio::time::timeout(SYNC_ECHO_WAIT, echoes).await.is_err() {
            tracing::debug!(%id, "no dirty echo from the service; refreshing anyway");
        }
        Ok(())
    }

    pub(crate) fn inline_file_limit(&self) -> usize {
        self.inner.inline_file_limit
    }

    pub(crate) fn file_policy(&self) -> FilePolicy {
        self.inner.files
    }

    /// Waits for the send limiter's leave to send into `conversation` (at once when off).
    pub(crate) async fn admit_send(&self, conversation: &str) -> Result<()> {
        match &self.inner.sends {
            Some(limiter) => limiter.admit(conversation).await,
            None => Ok(()),
        }
    }

    pub(crate) fn transport(&self) -> Result<Transport> {
        lock(&self.inner.transport).clone().ok_or(Error::Stopped)
    }

    /// How the Event stream is read: the relay reads it the same way.
    #[cfg(feature = "nats")]
    pub(crate) fn stream_settings(&self) -> StreamSettings {
        self.inner.settings.clone()
    }

    pub(crate) fn hub(&self) -> Arc<Hub> {
        Arc::clone(&self.inner.hub)
    }

    /// `HOST:PORT` of the puppet service.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Opens the Event stream without starting the puppet, for tools that only observe a
    /// service someone else runs. Does nothing if the stream is already open. From then on the
    /// stream is kept open: reopened with backoff when it breaks or goes silent.
    ///
    /// Fails with [`Error::Unauthenticated`] for a wrong token, [`Error::EventStreamTaken`]
    /// when another client holds the stream, [`Error::Transport`] (or a TLS variant) when the
    /// service cannot be reached.
    pub async fn connect(&self) -> Result<()> {
        if self.is_connected() {
            return Ok(());
        }
        let closed = match &*self.inner.hub.state().borrow() {
            ConnectionState::Closed { error } => Some(error.clone()),
            _ => None,
        };
        if let Some(error) = closed {
            return Err(match error {
                None => Error::Stopped,
                // Said again as itself: the token is what to fix.
                Some(error) if matches!(*error, Error::Unauthenticated) => Error::Unauthenticated,
                Some(cause) => Error::Closed { cause },
            });
        }
        let transport = self.transport()?;
        #[cfg(feature = "nats")]
        if let Some(options) = &self.inner.worker_options {
            return self.connect_worker(transport, options.clone()).await;
        }
        let started = dispatch::start(
            transport,
            Arc::clone(&self.inner.hub),
            self.inner.settings.clone(),
        )
        .await;
        let task = match started {
            Ok(task) => task,
            Err(error) => {
                self.inner.hub.set_state(ConnectionState::Idle);
                return Err(error);
            }
        };
        if let Some(previous) = lock(&self.inner.pump).replace(task) {
            // Two racing `connect` calls: keep one stream.
            previous.abort();
        }
        Ok(())
    }

    /// [`connect`](Self::connect) for a worker: its events come from JetStream.
    #[cfg(feature = "nats")]
    async fn connect_worker(
        &self,
        transport: Transport,
        options: crate::relay::worker::WorkerOptions,
    ) -> Result<()> {
        let hub = Arc::clone(&self.inner.hub);
        let worker =
            match crate::relay::worker::start(transport, hub, self.inner.settings.clone(), options)
                .await
            {
                Ok(worker) => worker,
                Err(error) => {
                    self.inner.hub.set_state(ConnectionState::Idle);
                    return Err(error);
                }
            };
        // `stop()` aborts the pump; the worker itself must live on to acknowledge what was
        // handled and leave its group, so the pump only waits for it.
        let (finished, mut waiting) = watch::channel(false);
        lock(&self.inner.worker).replace(waiting.clone());
        tokio::spawn(async move {
            let _ = worker.await;
            finished.send_replace(true);
        });
        let pump = tokio::spawn(async move {
            let _ = waiting.wait_for(|finished| *finished).await;
        });
        if let Some(previous) = lock(&self.inner.pump).replace(pump) {
            previous.abort();
        }
        Ok(())
    }

    /// Waits until what [`stop`](Self::stop) set off has finished. In a worker
    /// ([`WechatyBuilder::events_from_nats`](crate::WechatyBuilder::events_from_nats)):
    /// the events its handlers finished are acknowledged, the others handed back to the
    /// group, and its partitions released (within 5 s); call it before the process exits,
    /// or those events are delivered again after the lease. Otherwise it returns at once.
    pub async fn stopped(&self) {
        #[cfg(feature = "nats")]
        {
            let worker = lock(&self.inner.worker).clone();
            if let Some(mut finished) = worker {
                let _ = finished.wait_for(|finished| *finished).await;
            }
        }
    }

    /// Whether the Event stream task runs (connected, or reconnecting).
    pub fn is_connected(&self) -> bool {
        lock(&self.inner.pump)
            .as_ref()
            .is_some_and(|task| !task.is_finished())
    }

    /// Where the connection stands, as a `watch` receiver: read it with `borrow()`, or await
    /// `changed()` to follow it.
    ///
    /// ```no_run
    /// # async fn demo(bot: wechaty_client::Wechaty) {
    /// let mut state = bot.connection_state();
    /// while state.changed().await.is_ok() {
    ///     println!("now {:?}", *state.borrow());
    /// }
    /// # }
    /// ```
    pub fn connection_state(&self) -> watch::Receiver<ConnectionState> {
        self.inner.hub.state()
    }

    /// The id of the logged-in account, as the `login`/`logout` events tell (`None` before
    /// the first `login`). [`current_user`](Self::current_user) gives it as a handle.
    pub fn current_user_id(&self) -> Option<ContactId> {
        self.inner.hub.user().borrow().clone()
    }

    /// Whether the account is logged in, as the events tell.
    pub fn is_logged_in(&self) -> bool {
        self.inner.hub.user().borrow().is_some()
    }

    /// Opens the Event stream, then calls `Start` so the puppet runs.
    ///
    /// The stream comes first because the service drops events fired while no stream is open.
    ///
    /// A worker ([`WechatyBuilder::events_from_nats`](crate::WechatyBuilder::events_from_nats))
    /// only connects to JetStream: the relay started the puppet.
    pub async fn start(&self) -> Result<()> {
        self.connect().await?;
        #[cfg(feature = "nats")]
        if self.inner.worker_options.is_some() {
            return Ok(());
        }
        call_start(&self.transport()?).await
    }

    /// Closes the Event stream and the connection; every event stream ends. Does **not** call
    /// the `Stop` RPC: on a hosted service that would log the account out for every client (see
    /// [`stop_service`](Self::stop_service)). Later calls on this bot fail with
    /// [`Error::Stopped`].
    pub fn stop(&self) {
        // Closed first: the task then sees its own shutdown as such, not as a stream failure.
        self.inner.hub.close(None);
        if let Some(task) = lock(&self.inner.pump).take() {
            task.abort();
        }
        lock(&self.inner.transport).take();
    }

    /// Calls the `Stop` RPC, which ends the Event stream and stops the puppet **for every
    /// client** until someone calls `Start` again, then [`stop`](Self::stop)s this bot.
    pub async fn stop_service(&self) -> Result<()> {
        let transport = self.transport()?;
        let result = transport
            .unary("Stop", pb::StopRequest {}, |mut c, r| async move {
                c.stop(r).await
            })
            .await;
        self.stop();
        result.map(drop)
    }

    /// Sends `Ding`; the service answers with an [`Event::Dong`] carrying `data`.
    pub async fn ding(&self, data: impl Into<String>) -> Result<()> {
        let request = pb::DingRequest { data: data.into() };
        self.transport()?
            .unary("Ding", request, |mut c, r| async move { c.ding(r).await })
            .await
            .map(drop)
    }

    /// Sends `Ding` with `data` and waits up to `timeout` for the matching `dong`; returns the
    /// round-trip time. Needs the Event stream ([`connect`](Self::connect) or
    /// [`start`](Self::start)).
    pub async fn ding_dong(&self, data: &str, timeout: Duration) -> Result<Duration> {
        if !self.is_connected() {
            return Err(Error::NotConnected);
        }
        let mut events = self.events();
        let started = tokio::time::Instant::now();
        self.ding(data).await?;
        let wait = async {
            while let Some(event) = events.next().await {
                if matches!(&event, Event::Dong { data: Some(echo) } if echo == data) {
                    return Ok(started.elapsed());
                }
            }
            Err(Error::NotConnected)
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| Error::Timeout {
                what: "the dong event".into(),
                timeout,
            })?
    }

    /// The version string of the service's puppet.
    pub async fn version(&self) -> Result<String> {
        self.transport()?
            .unary("Version", pb::VersionRequest {}, |mut c, r| async move {
                c.version(r).await
            })
            .await
            .map(|response| response.version)
    }

    /// Logs the account out of WeChat (for every client of the service).
    pub async fn logout(&self) -> Result<()> {
        self.transport()?
            .unary("Logout", pb::LogoutRequest {}, |mut c, r| async move {
                c.logout(r).await
            })
            .await
            .map(drop)
    }

    /// All events from now on, as a stream. Subscribe before [`start`](Self::start) to see the
    /// events the service replays on connect (login, ready). A subscriber that falls behind
    /// receives [`Event::Lagged`] and continues; after a reconnect, [`Event::Reconnected`]. The
    /// stream ends when the bot stops for good.
    pub fn events(&self) -> Events {
        Events::subscribe(self.hub())
    }

    /// Forgets every cached payload (rooms, contacts, member lists): the next read asks the
    /// service. The caches follow the service's `dirty` events by themselves; this is for tools
    /// and measurements that need a cold start.
    pub fn clear_caches(&self) {
        self.inner.caches.clear();
    }

    /// What the bot did since it was built: events by type, malformed and missed ones,
    /// reconnects, RPCs by method with their errors and latency, the caches' hits and misses,
    /// the send limiter's waits, and the bytes buffered for slow subscribers. Cheap: counters
    /// kept all along, copied.
    pub fn statistics(&self) -> Statistics {
        let mut statistics = Statistics::default();
        self.inner
            .hub
            .counts
            .fill(&mut statistics, MALFORMED_ORDINAL);
        statistics.rpcs = self.inner.rpcs.snapshot();
        statistics.caches = self.inner.caches.statistics();
        if let Some(limiter) = &self.inner.sends {
            let counts = limiter.counts();
            statistics.sends.waiting = counts.waiting;
            statistics.sends.delayed = counts.delayed;
            statistics.sends.total_delay = counts.delay;
            statistics.sends.refused = counts.refused;
        }
        let (global, rooms) = self.inner.hub.buffered_bytes();
        statistics.buffered_event_bytes = global + rooms;
        statistics
    }

    /// How many malformed events were skipped so far.
    pub fn malformed_events(&self) -> u64 {
        self.inner.hub.malformed()
    }
}

/// Locks a mutex that is never held across an await; a panic elsewhere cannot poison our state
/// into uselessness.
/// The `Start` RPC: the puppet runs (and its events flow) once a client asked for it. The
/// relay calls it too, after opening the stream as `start()` does.
pub(crate) async fn call_start(transport: &Transport) -> Result<()> {
    transport
        .unary("Start", pb::StartRequest {}, |mut c, r| async move {
            c.start(r).await
        })
        .await?;
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
