//! The message ids seen lately: a bounded set that drops a `message` event delivered twice (a
//! service resends some around a reconnect), and, in arrival order, what
//! `bot.messages().find(..)` looks through.

use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

use crate::ids::MessageId;

/// How many message ids are remembered: the duplicates a service resends come within seconds,
/// and 10,000 ids are a few hundred KiB (each id is shared by the set and the order).
pub(crate) const SEEN_MESSAGES: usize = 10_000;

/// The last [`SEEN_MESSAGES`] message ids, oldest first (or, in a worker, the last event ids).
pub(crate) struct SeenMessages<T = MessageId> {
    order: VecDeque<T>,
    set: HashSet<T>,
    capacity: usize,
}

impl<T: Hash + Eq + Clone> SeenMessages<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            order: VecDeque::new(),
            set: HashSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `id`; `false` when it was seen already (a duplicate).
    pub(crate) fn first_sighting(&mut self, id: &T) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.order.push_back(id.clone());
        self.set.insert(id.clone());
        true
    }

    /// The ids remembered, oldest first.
    pub(crate) fn ids(&self) -> Vec<T> {
        self.order.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_sighting_is_a_duplicate_until_the_id_is_forgotten() {
        let mut seen = SeenMessages::new(2);
        let [a, b, c] = ["a", "b", "c"].map(MessageId::from);
        assert!(seen.first_sighting(&a));
        assert!(!seen.first_sighting(&a));
        assert!(seen.first_sighting(&b));
        assert!(seen.first_sighting(&c)); // `a` goes: the set holds two
        assert_eq!(seen.ids(), vec![b.clone(), c]);
        assert!(!seen.first_sighting(&b));
        assert!(seen.first_sighting(&a));
    }
}
