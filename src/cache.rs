//! A bounded in-memory store that knows nothing of what it stores: entries by key, at most so
//! many and (when given a way to weigh them) so many bytes of them, the least recently used
//! forgotten first, and a read-through that never stores a stale answer.
//!
//! A fetch takes a [`Ticket`] for its key before asking the service and stores through it
//! after. Forgetting a key (or clearing the store) in between voids that key's tickets, so an
//! answer that raced an invalidation is dropped rather than kept. Tickets are per key: a storm
//! of invalidations of other keys never voids a fetch.
//!
//! A store may also keep a short log of the keys it forgot, numbered by an epoch, for callers
//! that derived something from several entries (a room's member listing from its members'
//! contacts) and must learn whether any of them was forgotten since.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::statistics::CacheUse;

/// The store. Every method takes one short lock; none is held across an await.
pub(crate) struct Cache<K, V> {
    state: Mutex<State<K, V>>,
    /// Forgets so far (a clear counts as one): read without the lock by the fast path of
    /// callers that only need to know whether anything was forgotten.
    epoch: AtomicU64,
    /// Lookups answered from the store, and those that were not (for the statistics).
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What an entry costs in bytes (an estimate: its heap data and its own size).
pub(crate) type Weigh<V> = fn(&V) -> usize;

struct Entry<V> {
    value: V,
    /// When it was last used.
    used: u64,
    /// What it weighed when stored or last changed.
    weight: usize,
}

struct State<K, V> {
    entries: HashMap<K, Entry<V>>,
    /// Stamps entries as they are used; the smallest stamps go first.
    clock: u64,
    capacity: usize,
    /// The entries' weights, summed, and the most they may sum to.
    bytes: usize,
    byte_limit: usize,
    weigh: Weigh<V>,
    /// Fetches in flight, by key.
    in_flight: HashMap<K, InFlight>,
    /// The last forgotten keys with the epoch of their forget, oldest first.
    log: VecDeque<(u64, K)>,
    log_capacity: usize,
    /// The epoch of the last `clear`.
    cleared_at: u64,
}

/// The tickets out for one key, and how often the key was forgotten since the first was taken.
struct InFlight {
    tickets: usize,
    forgets: u64,
}

/// What was forgotten since an epoch.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Forgotten<K> {
    /// These keys (possibly none).
    Keys(Vec<K>),
    /// Everything may have been: the store was cleared, or the log no longer reaches back.
    All,
}

impl<K: Hash + Eq + Clone, V> Cache<K, V> {
    /// A store of at most `capacity` entries, without a log.
    pub(crate) fn new(capacity: usize) -> Self {
        Self::with_forget_log(capacity, 0)
    }

    /// A store that also remembers its last `log` forgotten keys.
    pub(crate) fn with_forget_log(capacity: usize, log: usize) -> Self {
        Self {
            state: Mutex::new(State {
                entries: HashMap::new(),
                clock: 0,
                capacity: capacity.max(1),
                bytes: 0,
                byte_limit: usize::MAX,
                weigh: |_| 0,
                in_flight: HashMap::new(),
                log: VecDeque::with_capacity(log),
                log_capacity: log,
                cleared_at: 0,
            }),
            epoch: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The same store, also bounded to `limit` bytes of entries as `weigh` weighs them. An
    /// entry heavier than the whole limit is not kept.
    pub(crate) fn with_byte_limit(mut self, limit: usize, weigh: Weigh<V>) -> Self {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.byte_limit = limit;
        state.weigh = weigh;
        self
    }

    /// The entries' estimated bytes.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Hits, misses, entries and bytes so far.
    pub(crate) fn usage(&self) -> CacheUse {
        let state = self.lock();
        CacheUse {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: state.entries.len(),
            bytes: state.bytes,
        }
    }

    /// Counts a lookup as answered from the store or not.
    fn count(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, State<K, V>> {
        // Never held across an await; a panic elsewhere cannot poison the store into uselessness.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the entry of `key` (counting as a use), if there is one.
    pub(crate) fn read<R>(&self, key: &K, read: impl FnOnce(&V) -> R) -> Option<R> {
        let mut state = self.lock();
        let now = state.tick();
        state.entries.get_mut(key).map(|entry| {
            entry.used = now;
            read(&entry.value)
        })
    }

    /// Changes the entry of `key`, if there is one, without counting it as a use.
    pub(crate) fn modify<R>(&self, key: &K, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut state = self.lock();
        let weigh = state.weigh;
        let entry = state.entries.get_mut(key)?;
        let result = change(&mut entry.value);
        let (before, after) = (entry.weight, weigh(&entry.value));
        entry.weight = after;
        state.bytes = state.bytes - before + after;
        state.make_room(0);
        Some(result)
    }

    /// Whether every one of `keys` has an entry (each counted as used), under one lock.
    pub(crate) fn has_all<'k>(&self, keys: impl IntoIterator<Item = &'k K>) -> bool
    where
        K: 'k,
    {
        let mut state = self.lock();
        let now = state.tick();
        keys.into_iter().all(|key| {
            state
                .entries
                .get_mut(key)
                .map(|entry| entry.used = now)
                .is_some()
        })
    }

    /// Reads the entries of `keys`, in order, under one lock.
    pub(crate) fn read_many<R>(&self, keys: &[K], mut read: impl FnMut(&V) -> R) -> Vec<Option<R>> {
        let mut state = self.lock();
        let now = state.tick();
        let found: Vec<Option<R>> = keys
            .iter()
            .map(|key| {
                state.entries.get_mut(key).map(|entry| {
                    entry.used = now;
                    read(&entry.value)
                })
            })
            .collect();
        drop(state);
        let hits = found.iter().filter(|found| found.is_some()).count() as u64;
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses
            .fetch_add(found.len() as u64 - hits, Ordering::Relaxed);
        found
    }

    /// A ticket to store what is about to be fetched for `key`.
    pub(crate) fn ticket(&self, key: &K) -> Ticket<'_, K, V> {
        let mut state = self.lock();
        let in_flight = state.in_flight.entry(key.clone()).or_insert(InFlight {
            tickets: 0,
            forgets: 0,
        });
        in_flight.tickets += 1;
        let forgets = in_flight.forgets;
        Ticket {
            cache: self,
            key: Some(key.clone()),
            forgets,
        }
    }

    /// Forgets `key`; fetches of it in flight will not store their answer.
    pub(crate) fn forget(&self, key: &K) {
        let mut state = self.lock();
        state.remove(key);
        if let Some(in_flight) = state.in_flight.get_mut(key) {
            in_flight.forgets += 1;
        }
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        if state.log_capacity > 0 {
            if state.log.len() == state.log_capacity {
                state.log.pop_front();
            }
            state.log.push_back((epoch, key.clone()));
        }
    }

    /// Forgets everything; no fetch in flight will store its answer.
    pub(crate) fn clear(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.bytes = 0;
        for in_flight in state.in_flight.values_mut() {
            in_flight.forgets += 1;
        }
        state.log.clear();
        state.cleared_at = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
    }

    /// The number of forgets so far; pass it to [`forgotten_since`](Self::forgotten_since)
    /// later.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// What was forgotten after `epoch`, and the epoch that answer holds for.
    pub(crate) fn forgotten_since(&self, epoch: u64) -> (u64, Forgotten<K>) {
        let state = self.lock();
        let now = self.epoch();
        if now == epoch {
            return (now, Forgotten::Keys(Vec::new()));
        }
        // The log must reach back to the first forget after `epoch`.
        let reaches = state
            .log
            .front()
            .is_some_and(|(first, _)| *first <= epoch + 1);
        if state.cleared_at > epoch || !reaches {
            return (now, Forgotten::All);
        }
        let keys = state
            .log
            .iter()
            .filter(|(at, _)| *at > epoch)
            .map(|(_, key)| key.clone())
            .collect();
        (now, Forgotten::Keys(keys))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

impl<K: Hash + Eq + Clone, V: Clone> Cache<K, V> {
    /// The entry of `key`, cloned (entries are `Arc`s or small).
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        self.read(key, V::clone)
    }

    /// The entry of `key`, else what `fetch` answers, kept unless `key` was forgotten while it
    /// ran.
    pub(crate) async fn read_through<E, Fut>(
        &self,
        key: &K,
        fetch: impl FnOnce() -> Fut,
    ) -> Result<V, E>
    where
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(value) = self.get(key) {
            self.count(true);
            return Ok(value);
        }
        self.count(false);
        let ticket = self.ticket(key);
        let value = fetch().await?;
        ticket.store(value.clone());
        Ok(value)
    }
}

impl<K: Hash + Eq + Clone, V: Default> Cache<K, V> {
    /// The part of `key`'s entry that `read` finds, else what `fetch` answers, written into the
    /// entry (made when missing) by `write` unless `key` was forgotten while it ran.
    pub(crate) async fn read_through_part<R, E, Fut>(
        &self,
        key: &K,
        read: impl FnOnce(&V) -> Option<R>,
        fetch: impl FnOnce() -> Fut,
        write: impl FnOnce(&mut V, &R),
    ) -> Result<R, E>
    where
        Fut: Future<Output = Result<R, E>>,
    {
        if let Some(part) = self.read(key, read).flatten() {
            self.count(true);
            return Ok(part);
        }
        self.count(false);
        let ticket = self.ticket(key);
        let part = fetch().await?;
        ticket.update(|entry| write(entry, &part));
        Ok(part)
    }
}

impl<K: Hash + Eq + Clone, V> State<K, V> {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    fn insert(&mut self, key: K, value: V) {
        let now = self.tick();
        let weight = (self.weigh)(&value);
        self.remove(&key);
        if weight > self.byte_limit {
            return; // heavier than the whole store
        }
        self.make_room(weight);
        self.bytes += weight;
        let entry = Entry {
            value,
            used: now,
            weight,
        };
        self.entries.insert(key, entry);
    }

    fn remove(&mut self, key: &K) -> Option<V> {
        let entry = self.entries.remove(key)?;
        self.bytes -= entry.weight;
        Some(entry.value)
    }

    /// Makes room for one more entry of `incoming` bytes: while over either bound, forgets the
    /// least recently used eighth (so eviction stays cheap on average).
    fn make_room(&mut self, incoming: usize) {
        while !self.entries.is_empty()
            && (self.entries.len() >= self.capacity
                || self.bytes.saturating_add(incoming) > self.byte_limit)
        {
            let evict = (self.entries.len() / 8).max(1);
            let mut stamps: Vec<u64> = self.entries.values().map(|entry| entry.used).collect();
            let (_, threshold, _) = stamps.select_nth_unstable(evict - 1);
            let threshold = *threshold;
            let mut freed = 0;
            self.entries.retain(|_, entry| {
                let keep = entry.used > threshold;
                if !keep {
                    freed += entry.weight;
                }
                keep
            });
            self.bytes -= freed;
        }
    }

    /// Returns the ticket; `true` when no forget of its key came after it was taken.
    fn settle(&mut self, key: &K, forgets: u64) -> bool {
        let Some(in_flight) = self.in_flight.get_mut(key) else {
            return false;
        };
        let fresh = in_flight.forgets == forgets;
        in_flight.tickets -= 1;
        if in_flight.tickets == 0 {
            self.in_flight.remove(key);
        }
        fresh
    }
}

/// The right to store a fetched answer for one key, unless the key is forgotten first.
/// Dropping it unused (a failed or cancelled fetch) returns it.
pub(crate) struct Ticket<'a, K: Hash + Eq + Clone, V> {
    cache: &'a Cache<K, V>,
    /// `None` once settled.
    key: Option<K>,
    forgets: u64,
}

impl<K: Hash + Eq + Clone, V> Ticket<'_, K, V> {
    /// Stores `value` as the entry; `false` (and nothing stored) when the key was forgotten
    /// since the ticket was taken.
    pub(crate) fn store(mut self, value: V) -> bool {
        let Some(key) = self.key.take() else {
            return false;
        };
        let mut state = self.cache.lock();
        let fresh = state.settle(&key, self.forgets);
        if fresh {
            state.insert(key, value);
        }
        fresh
    }
}

impl<K: Hash + Eq + Clone, V: Default> Ticket<'_, K, V> {
    /// Changes the entry (made when missing) with `change`; `false` (and nothing changed) when
    /// the key was forgotten since the ticket was taken.
    pub(crate) fn update(mut self, change: impl FnOnce(&mut V)) -> bool {
        let Some(key) = self.key.take() else {
            return false;
        };
        let mut state = self.cache.lock();
        let fresh = state.settle(&key, self.forgets);
        if fresh {
            let mut value = state.remove(&key).unwrap_or_default();
            change(&mut value);
            state.insert(key, value);
        }
        fresh
    }
}

impl<K: Hash + Eq + Clone, V> Drop for Ticket<'_, K, V> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.cache.lock().settle(&key, self.forgets);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_recently_used() {
        let cache = Cache::new(8);
        for i in 0..8 {
            assert!(cache.ticket(&i).store(i));
        }
        // Touch 0 so it counts as recent; storing 8 evicts one eighth: the oldest, 1.
        assert_eq!(cache.get(&0), Some(0));
        cache.ticket(&8).store(8);
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&0), Some(0));
        assert_eq!(cache.len(), 8);
        for i in 9..100 {
            cache.ticket(&i).store(i);
            assert!(cache.len() <= 8);
        }
    }

    #[test]
    fn a_fetch_that_raced_a_forget_of_its_key_is_not_stored() {
        let cache = Cache::new(8);
        let ticket = cache.ticket(&"r");
        cache.forget(&"r");
        assert!(!ticket.store(1));
        assert_eq!(cache.get(&"r"), None);
        assert!(cache.ticket(&"r").store(2));
        assert_eq!(cache.get(&"r"), Some(2));
    }

    #[test]
    fn forgetting_other_keys_or_settled_tickets_voids_nothing() {
        let cache = Cache::new(8);
        let ticket = cache.ticket(&"a");
        for other in ["b", "c", "d"] {
            cache.forget(&other);
        }
        assert!(ticket.store(1));
        // A forget before the next ticket does not void it.
        cache.forget(&"a");
        assert!(cache.ticket(&"a").store(2));
    }

    #[test]
    fn a_clear_voids_every_ticket_and_dropped_tickets_are_returned() {
        let cache: Cache<&str, i32> = Cache::new(8);
        let (a, b) = (cache.ticket(&"a"), cache.ticket(&"b"));
        drop(cache.ticket(&"c"));
        cache.clear();
        assert!(!a.store(1));
        assert!(!b.store(2));
        assert!(cache.lock().in_flight.is_empty());
    }

    #[test]
    fn bounded_in_bytes_too() {
        let cache: Cache<u32, Vec<u8>> = Cache::new(1000).with_byte_limit(1000, Vec::len);
        for i in 0..100 {
            assert!(cache.ticket(&i).store(vec![0; 100]));
            assert!(cache.bytes() <= 1000, "{}", cache.bytes());
        }
        assert!(cache.len() <= 10);
        assert_eq!(
            cache.get(&99).map(|v| v.len()),
            Some(100),
            "the newest stays"
        );
        // Heavier than the whole store: not kept, and nothing else is lost for it.
        let before = cache.len();
        assert!(cache.ticket(&1000).store(vec![0; 5000]));
        assert_eq!(cache.get(&1000), None);
        assert_eq!(cache.len(), before);
        // Growing an entry in place counts too.
        cache.modify(&99, |v| v.resize(900, 0));
        assert!(cache.bytes() <= 1000, "{}", cache.bytes());
        cache.forget(&99);
        cache.clear();
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn the_log_says_what_was_forgotten_since_an_epoch() {
        let cache: Cache<u32, ()> = Cache::with_forget_log(8, 3);
        let start = cache.epoch();
        assert_eq!(cache.forgotten_since(start).1, Forgotten::Keys(vec![]));
        cache.forget(&1);
        cache.forget(&2);
        let (now, forgotten) = cache.forgotten_since(start);
        assert_eq!(forgotten, Forgotten::Keys(vec![1, 2]));
        assert_eq!(now, cache.epoch());
        cache.forget(&3);
        cache.forget(&4);
        // The log holds three: the first forget after `start` is gone.
        assert_eq!(cache.forgotten_since(start).1, Forgotten::All);
        assert_eq!(cache.forgotten_since(now).1, Forgotten::Keys(vec![3, 4]));
        let before_clear = cache.epoch();
        cache.clear();
        assert_eq!(cache.forgotten_since(before_clear).1, Forgotten::All);
    }

    #[tokio::test]
    async fn read_through_fetches_once_and_parts_fill_one_entry() {
        let cache: Cache<&str, u32> = Cache::new(8);
        let fetched = std::cell::Cell::new(0);
        for _ in 0..3 {
            let value: Result<u32, ()> = cache
                .read_through(&"k", || async {
                    fetched.set(fetched.get() + 1);
                    Ok(7)
                })
                .await;
            assert_eq!(value, Ok(7));
        }
        assert_eq!(fetched.get(), 1);

        let parts: Cache<&str, (Option<u32>, Option<u32>)> = Cache::new(8);
        let first: Result<u32, ()> = parts
            .read_through_part(
                &"k",
                |entry| entry.0,
                || async { Ok(1) },
                |entry, v| entry.0 = Some(*v),
            )
            .await;
        let second: Result<u32, ()> = parts
            .read_through_part(
                &"k",
                |entry| entry.1,
                || async { Ok(2) },
                |entry, v| entry.1 = Some(*v),
            )
            .await;
        assert_eq!((first, second), (Ok(1), Ok(2)));
        assert_eq!(parts.get(&"k"), Some((Some(1), Some(2))));
    }
}
