//! A byte budget for what the channels hold for slow subscribers. A `broadcast` buffer is
//! bounded by count; with events of any size, that bounds nothing in bytes. So each value in a
//! buffer is [`Held`]: the buffer keeps only a shell, and the [`Budget`] can take the contents
//! back. When what is held for the slowest subscriber passes the limit, the oldest contents go,
//! and a subscriber that reaches an emptied shell learns it missed them (`Lagged`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};

/// Contents the budget may take back before a subscriber reads them.
#[derive(Debug)]
pub(crate) struct Held<T>(Mutex<Option<T>>);

impl<T: Clone> Held<T> {
    /// The contents, unless the budget took them back.
    pub(crate) fn get(&self) -> Option<T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl<T> Held<T> {
    /// What `f` makes of the contents, unless the budget took them back.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .map(f)
    }

    fn evict(&self) {
        // Dropped outside the lock.
        let contents = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        drop(contents);
    }
}

/// The contents handed to the buffers, with their estimated size, oldest first. A value every
/// subscriber has read is dropped by the buffers themselves; the budget only keeps a weak
/// reference, so it never holds anything alive.
pub(crate) struct Budget<T> {
    limit: usize,
    held: usize,
    entries: VecDeque<(Weak<Held<T>>, usize)>,
    evicted: u64,
}

impl<T> Budget<T> {
    /// A budget of `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            held: 0,
            entries: VecDeque::new(),
            evicted: 0,
        }
    }

    /// Wraps `contents` (about `bytes` big) for the buffers, taking back the oldest contents
    /// still held if the total passes the limit.
    pub(crate) fn hold(&mut self, contents: T, bytes: usize) -> Arc<Held<T>> {
        let held = Arc::new(Held(Mutex::new(Some(contents))));
        self.forget_read();
        self.entries.push_back((Arc::downgrade(&held), bytes));
        self.held += bytes;
        if self.held > self.limit {
            // Values read by everyone may sit behind an unread one: drop them from the count
            // first. Then evict down to three quarters, so this scan stays rare.
            self.entries.retain(|(value, _)| value.strong_count() > 0);
            self.held = self.entries.iter().map(|(_, bytes)| bytes).sum();
            while self.held > self.limit / 4 * 3 && self.entries.len() > 1 {
                let Some((value, bytes)) = self.entries.pop_front() else {
                    break;
                };
                self.held -= bytes;
                if let Some(value) = value.upgrade() {
                    value.evict();
                    self.evicted += 1;
                }
            }
        }
        held
    }

    /// Drops the oldest entries every subscriber has read.
    fn forget_read(&mut self) {
        while let Some((value, bytes)) = self.entries.front() {
            if value.strong_count() > 0 {
                break;
            }
            self.held -= bytes;
            self.entries.pop_front();
        }
    }

    /// Bytes held now (an estimate: read values behind an unread one still count).
    pub(crate) fn held(&self) -> usize {
        self.held
    }

    /// How many values were taken back so far.
    #[cfg(test)]
    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_by_everyone_cost_nothing() {
        let mut budget = Budget::new(1000);
        for i in 0..100 {
            let value = budget.hold(i, 100);
            assert_eq!(value.get(), Some(i));
        }
        assert!(budget.held() <= 100, "{}", budget.held());
        assert_eq!(budget.evicted(), 0);
    }

    #[test]
    fn unread_values_past_the_limit_lose_their_contents_oldest_first() {
        let mut budget = Budget::new(1000);
        let kept: Vec<_> = (0..20).map(|i| budget.hold(i, 100)).collect();
        assert!(budget.held() <= 1000);
        let missing = kept
            .iter()
            .take_while(|value| value.get().is_none())
            .count();
        assert!(missing >= 10, "the oldest went: {missing}");
        assert!(kept[missing..].iter().all(|value| value.get().is_some()));
        assert_eq!(kept.last().unwrap().get(), Some(19));
        assert_eq!(budget.evicted(), missing as u64);
    }

    #[test]
    fn one_value_over_the_limit_is_still_delivered() {
        let mut budget = Budget::new(10);
        let big = budget.hold("big", 1_000_000);
        assert_eq!(big.get(), Some("big"));
    }
}
