//! Running a [`Bot`]: [`Wechaty::run`] subscribes, starts the bot, and turns each event into a
//! handler call. Events are read ahead and their handles loaded concurrently but handed on in
//! arrival order (`LOAD_AHEAD`); a call starts in the runner when its lane is idle, else waits
//! in its conversation's lane (`lanes.rs`) for a worker, at most
//! `B::MAX_CONCURRENT_HANDLERS` run at once, and the runner stops reading events while
//! `MAX_QUEUED` calls wait (the bot's event buffer then takes the slack, and past it the
//! runner is told it lagged, which it logs). Ctrl-C or SIGTERM stops it: running calls get
//! `DRAIN_GRACE` to finish, queued ones are dropped (and counted in the log).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesOrdered;
use futures_util::FutureExt as _;
use futures_util::StreamExt as _;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::lanes::Lanes;
use super::Bot;
use crate::config::WechatyBuilder;
use crate::contact::{Contact, ContactSelf};
use crate::dispatch::hub::Handled;
use crate::dispatch::ConnectionState;
use crate::error::{Error, Result};
use crate::event::{Event, Scan, ServiceError};
use crate::friendship::Friendship;
use crate::handler::{call_guarded, current_login_first};
use crate::ids::ContactId;
use crate::message::Message;
use crate::room::{RoomAnnounceChanged, RoomInvitation, RoomJoined, RoomLeft, RoomTopicChanged};
use crate::wechaty::Wechaty;

/// Events whose handles load at once, ahead of the handlers (in order all the same).
const LOAD_AHEAD: usize = 64;
/// Calls waiting for their lane (or running) before the runner stops reading events.
const MAX_QUEUED: usize = 4096;
/// How long a stop waits for the running calls.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// What one handler call is about, its handles ready.
enum Work {
    Login(ContactSelf),
    Logout(Contact, Option<String>),
    Scan(Scan),
    Ready(Wechaty),
    Message(Message),
    Join(RoomJoined),
    Leave(RoomLeft),
    Topic(RoomTopicChanged),
    Announce(RoomAnnounceChanged),
    Invite(RoomInvitation),
    Friendship(Friendship),
    Error(ServiceError),
}

/// One handler call to make, with what says that its event was handled (a worker's
/// acknowledgement to JetStream).
struct Job {
    work: Work,
    handled: Unhandled,
}

/// `prepared`'s call, holding `handled` until it returns.
fn job(prepared: Prepared, handled: Option<Handled>) -> Option<(Lane, Job)> {
    prepared.map(|(lane, work)| {
        let handled = Unhandled(handled);
        (lane, Job { work, handled })
    })
}

/// A call's [`Handled`], until the call returned: a call dropped before (queued when the bot
/// stopped, or cancelled) abandons its event, which then goes to another worker.
struct Unhandled(Option<Handled>);

impl Unhandled {
    fn done(mut self) {
        // Let go of as it is: handled.
        self.0.take();
    }
}

impl Drop for Unhandled {
    fn drop(&mut self) {
        if let Some(handled) = self.0.take() {
            handled.abandon();
        }
    }
}

/// Which calls must not overlap and keep their order. The ids are shared: a lane is cloned
/// for its queue, its running task and the task's result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Lane {
    /// Login, logout, scan, ready, errors.
    Session,
    /// A room, or a direct chat with a contact (its messages and its friendship events).
    Conversation(Arc<str>),
    /// Ordered with nothing: an invitation, a message whose conversation cannot be told.
    Alone(Arc<str>),
}

impl Lane {
    fn conversation(id: impl AsRef<str>) -> Self {
        Lane::Conversation(Arc::from(id.as_ref()))
    }

    fn alone(id: impl AsRef<str>) -> Self {
        Lane::Alone(Arc::from(id.as_ref()))
    }
}

impl WechatyBuilder {
    /// Builds the bot, then [`run`](Wechaty::run)s `bot` on it until Ctrl-C or SIGTERM.
    ///
    /// ```no_run
    /// # struct MyBot;
    /// # impl wechaty_client::Bot for MyBot {}
    /// # async fn demo() -> wechaty_client::Result<()> {
    /// wechaty_client::WechatyBuilder::from_env().run(MyBot).await
    /// # }
    /// ```
    pub async fn run<B: Bot>(self, bot: B) -> Result<()> {
        self.build().await?.run(bot).await
    }
}

impl Wechaty {
    /// Runs `bot`: starts this bot (Event stream, then `Start`) and calls `bot`'s methods for
    /// every event, concurrently but in order within a conversation (see [`Bot`]), until
    /// Ctrl-C or SIGTERM (then running calls get 10 s to finish and the bot
    /// [`stop`](Self::stop)s) or until the bot is stopped elsewhere. Already logged in, `bot`
    /// hears that login first.
    ///
    /// Fails as [`start`](Self::start) does, or with the error that closed the Event stream
    /// for good (a rejected token, say); a stop is `Ok`.
    pub async fn run<B: Bot>(&self, bot: B) -> Result<()> {
        let mut shutdown = Shutdown::listen();
        let events = self.events().with_handled();
        let current = self.current_user_id();
        self.start().await?;
        let bot = Arc::new(bot);
        let weak = self.downgrade();
        let mut events = current_login_first(events, current);
        // Calls in arrival order, some still loading their handles (at most LOAD_AHEAD); the
        // loading ones finish in the same order, each filling the first `Loading` slot.
        let mut ahead: VecDeque<Slot> = VecDeque::new();
        let mut loading: FuturesOrdered<BoxFuture<'static, Option<(Lane, Job)>>> =
            FuturesOrdered::new();

        // A fixed set of workers takes calls from the lanes: no task per call (a spawn was
        // 40 % of the runner's time per event), and under load a worker goes from one call to
        // the next without being woken.
        let pool = Arc::new(Pool {
            calls: Mutex::new(Calls {
                lanes: Lanes::new(B::MAX_CONCURRENT_HANDLERS),
                adopted: VecDeque::new(),
            }),
            work: Notify::new(),
            space: Notify::new(),
            active: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        });
        let mut workers = JoinSet::new();
        for _ in 0..B::MAX_CONCURRENT_HANDLERS.max(1) {
            workers.spawn(work(Arc::clone(&pool), Arc::clone(&bot)));
        }
        let mut batch: Vec<(Lane, Job)> = Vec::new();
        // Where the runner makes a call itself, reused from call to call.
        let mut inline = Box::pin(None);
        let stopped_by = loop {
            // The calls read last, then those ready at the front, go into the lanes under one
            // lock.
            while let Some(Slot::Ready(_)) = ahead.front() {
                if let Some(Slot::Ready(Some(call))) = ahead.pop_front() {
                    batch.push(call);
                }
            }
            if !batch.is_empty() {
                hand_on(&pool, &bot, &mut batch, &mut inline, call_owned::<B>).await;
            }
            // Queued or running, as of the last unlock (no lock per turn of the loop).
            let full = pool.active.load(Ordering::Acquire) >= MAX_QUEUED;
            let room = ahead.len() < LOAD_AHEAD;
            tokio::select! {
                signal = shutdown.wait() => break Some(signal),
                () = pool.space.notified(), if full => {}
                Some(prepared) = loading.next(), if !loading.is_empty() => {
                    if let Some(slot) = ahead.iter_mut().find(|slot| matches!(slot, Slot::Loading)) {
                        *slot = Slot::Ready(prepared);
                    }
                }
                next = events.next(), if !full && room => {
                    let mut next = next;
                    let mut ended = false;
                    loop {
                        // The stream's end, or the bot gone: the run is over.
                        let (Some((event, handled)), Some(bot)) = (next.take(), weak.upgrade()) else {
                            ended = true;
                            break;
                        };
                        match prepare_now(&bot, event) {
                            // Nothing loading ahead of it: straight to the lanes.
                            Ok(Some(call)) if ahead.is_empty() => {
                                batch.extend(job(Some(call), handled));
                            }
                            Ok(prepared) => ahead.push_back(Slot::Ready(job(prepared, handled))),
                            Err(event) => {
                                let loaded = prepare_loading(bot, event);
                                loading.push_back(Box::pin(loaded.map(|prepared| job(prepared, handled))));
                                ahead.push_back(Slot::Loading);
                            }
                        }
                        if batch.len() >= LOAD_AHEAD || ahead.len() >= LOAD_AHEAD {
                            break;
                        }
                        match events.next().now_or_never() {
                            Some(more) => next = more,
                            None => break,
                        }
                    }
                    // The batch goes into the lanes at the top of the loop.
                    if ended {
                        break None;
                    }
                }
            }
        };
        let (running, dropped) = {
            let mut calls = pool.lock();
            (calls.lanes.running(), calls.lanes.clear())
        };
        pool.stopping.store(true, Ordering::SeqCst);
        pool.work.notify_waiters();
        if let Some(signal) = stopped_by {
            tracing::info!(
                signal,
                running,
                dropped,
                "stopping the bot: running handlers may finish, queued events are dropped"
            );
        }
        let drained = tokio::time::timeout(DRAIN_GRACE, async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                still_running = pool.lock().lanes.running(),
                "handlers did not finish within 10 s of the stop: cancelled"
            );
            workers.abort_all();
        }
        if stopped_by.is_some() {
            self.stop();
            // A worker acknowledges what was handled and leaves its group first.
            self.stopped().await;
            return Ok(());
        }
        match &*self.connection_state().borrow() {
            ConnectionState::Closed { error: Some(error) } => {
                Err(if matches!(**error, Error::Unauthenticated) {
                    Error::Unauthenticated
                } else {
                    Error::Closed {
                        cause: Arc::clone(error),
                    }
                })
            }
            _ => Ok(()),
        }
    }
}

/// Hands `batch`'s calls on, in order. A call whose lane is idle, while fewer than the limit
/// run, starts here: the runner polls it once, and most calls of a quick handler end in that
/// poll — no hand-off to another thread, no wake-up, which is most of what a call costs. One
/// that waits is adopted by a worker (it stays running in its lane); the others queue in
/// their lanes for the workers.
///
/// While no call is queued or running anywhere, every lane is idle and only this runner could
/// change that: a call starts without the lock, in `inline` (no allocation), and the lanes
/// hear of it only if it waits.
async fn hand_on<B: Bot, F: Future<Output = ()> + Send + 'static>(
    pool: &Pool,
    bot: &Arc<B>,
    batch: &mut Vec<(Lane, Job)>,
    inline: &mut Pin<Box<Option<F>>>,
    // `call_owned::<B>`: passed so that `F`, its future's type, can be named for `inline`.
    make: fn(Arc<B>, Job) -> F,
) {
    let mut for_workers = false;
    // The lane of a call that started under the lock and ended here, told to the lanes under
    // the next lock.
    let mut ended: Option<Lane> = None;
    for (lane, job) in batch.drain(..) {
        let idle = ended.is_none() && pool.active.load(Ordering::Acquire) == 0;
        if !idle {
            let mut calls = pool.lock();
            if let Some(lane) = ended.take() {
                calls.lanes.finished(lane);
            }
            if !calls.lanes.start_now(&lane) {
                calls.lanes.push(lane, job);
                for_workers = true;
                continue;
            }
        }
        inline.set(Some(make(Arc::clone(bot), job)));
        let polled = std::future::poll_fn(|cx| Poll::Ready(poll_inline(inline.as_mut(), cx))).await;
        if polled.is_ready() {
            inline.set(None);
            if !idle {
                ended = Some(lane);
            }
            continue;
        }
        let waiting: Running = Box::pin(Adopted(std::mem::replace(inline, Box::pin(None))));
        let mut calls = pool.lock();
        if idle {
            // Nothing ran or waited, so the lane and a slot are free.
            let started = calls.lanes.start_now(&lane);
            debug_assert!(started, "an idle lane could not start");
        }
        calls.adopted.push_back((lane, waiting));
        for_workers = true;
    }
    if let Some(lane) = ended {
        pool.lock().lanes.finished(lane);
    }
    if for_workers {
        pool.work.notify_one();
    }
}

fn poll_inline<F: Future<Output = ()>>(
    call: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    match call.as_pin_mut() {
        Some(call) => call.poll(cx),
        None => Poll::Ready(()),
    }
}

/// A call the runner started in its `inline` place, handed to a worker with that place.
struct Adopted<F>(Pin<Box<Option<F>>>);

impl<F: Future<Output = ()>> Future for Adopted<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_inline(self.get_mut().0.as_mut(), cx)
    }
}

/// A handler call that started and waits.
type Running = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the runner hands to the workers, under one lock.
struct Calls {
    /// Calls not started, by lane.
    lanes: Lanes<Lane, Job>,
    /// Calls the runner started that wait (running in their lanes): taken first.
    adopted: VecDeque<(Lane, Running)>,
}

/// A worker's next call.
enum Next {
    Start(Job),
    Continue(Running),
}

impl Calls {
    /// The next call a worker should make, and whether there is another one after it.
    fn next(&mut self) -> (Option<(Lane, Next)>, bool) {
        let next = match self.adopted.pop_front() {
            Some((lane, running)) => Some((lane, Next::Continue(running))),
            None => self
                .lanes
                .start_next()
                .map(|(lane, job)| (lane, Next::Start(job))),
        };
        (next, !self.adopted.is_empty() || self.lanes.has_ready())
    }
}

/// The calls the runner hands on and the workers take.
struct Pool {
    calls: Mutex<Calls>,
    /// Calls queued or running, as of the last unlock: 0 means every lane is idle.
    active: AtomicUsize,
    /// A call was queued or adopted (or the runner stops).
    work: Notify,
    /// A queued call was taken: the runner, waiting on a full queue, may read on.
    space: Notify,
    stopping: AtomicBool,
}

impl Pool {
    fn lock(&self) -> Locked<'_> {
        let calls = self
            .calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Locked {
            calls,
            active: &self.active,
        }
    }
}

/// The calls, locked; the unlock publishes how many are active.
struct Locked<'a> {
    calls: MutexGuard<'a, Calls>,
    active: &'a AtomicUsize,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let active = self.calls.lanes.queued() + self.calls.lanes.running();
        self.active.store(active, Ordering::Release);
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = Calls;

    fn deref(&self) -> &Calls {
        &self.calls
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Calls {
        &mut self.calls
    }
}

/// One worker: takes the next call — an adopted one, or one a lane allows — makes it (its
/// error or panic logged), and tells the lane it is done, until the runner stops.
async fn work<B: Bot>(pool: Arc<Pool>, bot: Arc<B>) {
    let mut finished: Option<Lane> = None;
    loop {
        // Registered before looking, so a call queued in between still wakes this worker.
        let woken = pool.work.notified();
        // The last call's end and the next call's start under one lock.
        let (next, more) = {
            let mut calls = pool.lock();
            if let Some(lane) = finished.take() {
                calls.lanes.finished(lane);
            }
            calls.next()
        };
        // Workers wake one another only while there is work for another one: the runner
        // wakes one per batch, so a burst of calls does not wake every worker.
        if more {
            pool.work.notify_one();
        }
        match next {
            Some((lane, Next::Start(job))) => {
                pool.space.notify_one();
                call(&*bot, job).await;
                finished = Some(lane);
            }
            Some((lane, Next::Continue(running))) => {
                running.await;
                finished = Some(lane);
            }
            None if pool.stopping.load(Ordering::SeqCst) => return,
            None => woken.await,
        }
    }
}

/// A place in the runner's look-ahead.
enum Slot {
    Ready(Option<(Lane, Job)>),
    Loading,
}

/// An event's handler call with its lane, its handles ready (`None`: no handler hears it).
type Prepared = Option<(Lane, Work)>;

/// The events whose handles need loading: messages (their conversation), friendships (their
/// payload) and room events with a person not cached.
async fn prepare_loading(bot: Wechaty, event: Event) -> Prepared {
    Some(match event {
        Event::Message { message_id } => {
            let message = bot.message(message_id);
            let lane = match message.conversation_id().await {
                Ok(conversation) => Lane::conversation(conversation),
                Err(error) => {
                    // Delivered anyway (its handler sees the same error), ordered with nothing.
                    tracing::warn!(id = %message.id(), %error, "cannot tell a message's conversation");
                    Lane::alone(message.id())
                }
            };
            (lane, Work::Message(message))
        }
        Event::RoomJoin(join) => (
            Lane::Conversation(join.room_id.shared()),
            Work::Join(RoomJoined::load(&bot, &join).await),
        ),
        Event::RoomLeave(leave) => (
            Lane::Conversation(leave.room_id.shared()),
            Work::Leave(RoomLeft::load(&bot, &leave).await),
        ),
        Event::RoomTopic(topic) => (
            Lane::Conversation(topic.room_id.shared()),
            Work::Topic(RoomTopicChanged::load(&bot, &topic).await),
        ),
        Event::RoomAnnounce(announce) => (
            Lane::Conversation(announce.room_id.shared()),
            Work::Announce(RoomAnnounceChanged::load(&bot, &announce).await),
        ),
        Event::Friendship { friendship_id } => {
            let friendship = bot.friendships().load_or_skip(&friendship_id).await?;
            (
                Lane::Conversation(friendship.contact().id().shared()),
                Work::Friendship(friendship),
            )
        }
        // `prepare_now` takes every other event.
        event => return prepare_now(&bot, event).unwrap_or(None),
    })
}

/// The handler call an event makes, with its lane, when nothing needs loading — session
/// events, and room events whose people are all cached, the usual case under load — or the
/// event back for [`prepare_loading`]. `None` for events no handler hears (heartbeats,
/// dirties, markers).
fn prepare_now(bot: &Wechaty, event: Event) -> Result<Prepared, Event> {
    Ok(Some(match event {
        Event::Message { .. } | Event::Friendship { .. } => return Err(event),
        Event::RoomJoin(join) => match RoomJoined::cached(bot, &join) {
            Some(joined) => (
                Lane::Conversation(join.room_id.shared()),
                Work::Join(joined),
            ),
            None => return Err(Event::RoomJoin(join)),
        },
        Event::RoomLeave(leave) => match RoomLeft::cached(bot, &leave) {
            Some(left) => (
                Lane::Conversation(leave.room_id.shared()),
                Work::Leave(left),
            ),
            None => return Err(Event::RoomLeave(leave)),
        },
        Event::RoomTopic(topic) => match RoomTopicChanged::cached(bot, &topic) {
            Some(changed) => (
                Lane::Conversation(topic.room_id.shared()),
                Work::Topic(changed),
            ),
            None => return Err(Event::RoomTopic(topic)),
        },
        Event::RoomAnnounce(announce) => match RoomAnnounceChanged::cached(bot, &announce) {
            Some(changed) => (
                Lane::Conversation(announce.room_id.shared()),
                Work::Announce(changed),
            ),
            None => return Err(Event::RoomAnnounce(announce)),
        },
        Event::RoomInvite { room_invitation_id } => (
            Lane::alone(&room_invitation_id),
            Work::Invite(bot.room_invitation(room_invitation_id)),
        ),
        Event::Login { contact_id } => (Lane::Session, Work::Login(self_of(bot, contact_id))),
        Event::Logout { contact_id, data } => {
            (Lane::Session, Work::Logout(bot.contact(contact_id), data))
        }
        event @ Event::Scan { .. } => {
            let scan = Scan::from_event(&event);
            return Ok(scan.map(|scan| (Lane::Session, Work::Scan(scan))));
        }
        Event::Ready { .. } => (Lane::Session, Work::Ready(bot.clone())),
        Event::Error(error) => (Lane::Session, Work::Error(error)),
        Event::Lagged { missed } => {
            tracing::warn!(
                missed,
                "the bot's handlers fell behind and missed events (raise MAX_CONCURRENT_HANDLERS, or make them faster)"
            );
            return Ok(None);
        }
        _ => return Ok(None),
    }))
}

fn self_of(bot: &Wechaty, id: ContactId) -> ContactSelf {
    ContactSelf::of(bot.contact(id))
}

/// [`call`] on a bot of its own, for a call that may move to a worker.
async fn call_owned<B: Bot>(bot: Arc<B>, job: Job) {
    call(&*bot, job).await;
}

/// Makes one call; its error or panic is logged with the method's name. Its event counts as
/// handled once it returned.
async fn call<B: Bot>(bot: &B, job: Job) {
    let Job { work, handled } = job;
    match work {
        Work::Login(user) => call_guarded("Bot::on_login", bot.on_login(user)).await,
        Work::Logout(user, reason) => {
            call_guarded("Bot::on_logout", bot.on_logout(user, reason)).await
        }
        Work::Scan(scan) => call_guarded("Bot::on_scan", bot.on_scan(scan)).await,
        Work::Ready(wechaty) => call_guarded("Bot::on_ready", bot.on_ready(wechaty)).await,
        Work::Message(message) => call_guarded("Bot::on_message", bot.on_message(message)).await,
        Work::Join(join) => call_guarded("Bot::on_room_join", bot.on_room_join(join)).await,
        Work::Leave(leave) => call_guarded("Bot::on_room_leave", bot.on_room_leave(leave)).await,
        Work::Topic(topic) => call_guarded("Bot::on_room_topic", bot.on_room_topic(topic)).await,
        Work::Announce(announce) => {
            call_guarded("Bot::on_room_announce", bot.on_room_announce(announce)).await
        }
        Work::Invite(invitation) => {
            call_guarded("Bot::on_room_invite", bot.on_room_invite(invitation)).await
        }
        Work::Friendship(friendship) => {
            call_guarded("Bot::on_friendship", bot.on_friendship(friendship)).await
        }
        Work::Error(error) => call_guarded("Bot::on_error", bot.on_error(error)).await,
    }
    handled.done();
}

/// Ctrl-C and SIGTERM, listened to from the start of `run` (a signal before the first poll
/// is not missed).
struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = match (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) {
                (Ok(interrupt), Ok(terminate)) => Some((interrupt, terminate)),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::warn!(%error, "cannot listen for Ctrl-C and SIGTERM: stop the bot with `stop()`");
                    None
                }
            };
            Self { signals }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The name of the signal, once one comes.
    async fn wait(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            match &mut self.signals {
                Some((interrupt, terminate)) => tokio::select! {
                    _ = interrupt.recv() => "Ctrl-C",
                    _ = terminate.recv() => "SIGTERM",
                },
                None => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(_) => std::future::pending().await,
            }
        }
    }
}
