//! The order in which a [`Bot`](crate::Bot)'s handler calls may start: one at a time per
//! conversation (a room, a direct chat, the session), in arrival order, and at most `limit`
//! at once over all of them. Pure bookkeeping: the runner and its workers make the calls.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Idle lanes kept for their conversation's next call, so a busy conversation does not
/// allocate its queue again for every call; past this many, an idle lane goes.
const IDLE_LANES_KEPT: usize = 1024;

/// Jobs by lane. A lane with a running job, or a runnable head job in `ready` (in the order it
/// became so), is `busy`; an idle one is kept (up to [`IDLE_LANES_KEPT`]) or removed.
pub(crate) struct Lanes<K, J> {
    lanes: HashMap<K, Lane<J>>,
    ready: VecDeque<K>,
    running: usize,
    limit: usize,
    queued: usize,
}

struct Lane<J> {
    jobs: VecDeque<J>,
    busy: bool,
}

impl<K: Hash + Eq + Clone, J> Lanes<K, J> {
    /// Lanes that run at most `limit` jobs at once (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            lanes: HashMap::new(),
            ready: VecDeque::new(),
            running: 0,
            limit: limit.max(1),
            queued: 0,
        }
    }

    /// Queues `job` behind the jobs of its lane.
    pub(crate) fn push(&mut self, lane: K, job: J) {
        self.queued += 1;
        let state = self.lanes.entry(lane.clone()).or_insert_with(|| Lane {
            jobs: VecDeque::new(),
            busy: false,
        });
        state.jobs.push_back(job);
        if !state.busy {
            state.busy = true;
            self.ready.push_back(lane);
        }
    }

    /// Starts a job of `lane` that skips the queue, when the lane is idle (nothing running
    /// or queued) and a slot is free; the job counts as running until
    /// [`finished`](Self::finished) is called with its lane. `false`: [`push`](Self::push) it.
    pub(crate) fn start_now(&mut self, lane: &K) -> bool {
        if self.running >= self.limit {
            return false;
        }
        match self.lanes.get_mut(lane) {
            Some(state) if state.busy => return false,
            Some(state) => state.busy = true,
            None => {
                let state = Lane {
                    jobs: VecDeque::new(),
                    busy: true,
                };
                self.lanes.insert(lane.clone(), state);
            }
        }
        self.running += 1;
        true
    }

    /// The next job to start, if a slot is free and a lane is ready; it counts as running
    /// until [`finished`](Self::finished) is called with its lane.
    pub(crate) fn start_next(&mut self) -> Option<(K, J)> {
        if self.running >= self.limit {
            return None;
        }
        while let Some(lane) = self.ready.pop_front() {
            if let Some(job) = self
                .lanes
                .get_mut(&lane)
                .and_then(|state| state.jobs.pop_front())
            {
                self.running += 1;
                self.queued -= 1;
                return Some((lane, job));
            }
        }
        None
    }

    /// The running job of `lane` is done: the lane's next job may start, or the lane idles.
    pub(crate) fn finished(&mut self, lane: K) {
        self.running = self.running.saturating_sub(1);
        let Some(state) = self.lanes.get_mut(&lane) else {
            return;
        };
        if !state.jobs.is_empty() {
            self.ready.push_back(lane);
            return;
        }
        state.busy = false;
        if self.lanes.len() > IDLE_LANES_KEPT {
            self.lanes.remove(&lane);
        }
    }

    /// Drops every job not started; returns how many. Running ones still call `finished`.
    pub(crate) fn clear(&mut self) -> usize {
        let dropped = self.queued;
        for state in self.lanes.values_mut() {
            state.jobs.clear();
        }
        for lane in self.ready.drain(..) {
            if let Some(state) = self.lanes.get_mut(&lane) {
                state.busy = false;
            }
        }
        self.queued = 0;
        dropped
    }

    /// Whether a job could start now (a slot is free and a lane is ready).
    pub(crate) fn has_ready(&self) -> bool {
        self.running < self.limit && !self.ready.is_empty()
    }

    /// Jobs queued and not started.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// Jobs running.
    pub(crate) fn running(&self) -> usize {
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(lanes: &mut Lanes<&'static str, u32>) -> Vec<(&'static str, u32)> {
        std::iter::from_fn(|| lanes.start_next()).collect()
    }

    #[test]
    fn one_job_per_lane_at_a_time_in_order() {
        let mut lanes = Lanes::new(10);
        for (lane, job) in [("a", 1), ("a", 2), ("b", 3), ("a", 4)] {
            lanes.push(lane, job);
        }
        assert_eq!(drain(&mut lanes), [("a", 1), ("b", 3)]);
        lanes.finished("b");
        assert_eq!(drain(&mut lanes), [], "b has nothing more; a still runs");
        lanes.finished("a");
        assert_eq!(drain(&mut lanes), [("a", 2)]);
        lanes.finished("a");
        assert_eq!(drain(&mut lanes), [("a", 4)]);
        lanes.finished("a");
        assert_eq!((lanes.running(), lanes.queued()), (0, 0));
        assert!(lanes
            .lanes
            .values()
            .all(|lane| !lane.busy && lane.jobs.is_empty()));
    }

    #[test]
    fn at_most_limit_jobs_run_and_waiting_lanes_take_turns() {
        let mut lanes = Lanes::new(2);
        for (lane, job) in [("a", 1), ("b", 2), ("c", 3), ("a", 4)] {
            lanes.push(lane, job);
        }
        assert_eq!(drain(&mut lanes), [("a", 1), ("b", 2)]);
        assert_eq!(lanes.queued(), 2);
        lanes.finished("a");
        // c waited longer than a's next job.
        assert_eq!(drain(&mut lanes), [("c", 3)]);
        lanes.finished("b");
        assert_eq!(drain(&mut lanes), [("a", 4)]);
    }

    #[test]
    fn a_job_skips_the_queue_only_in_an_idle_lane_with_a_free_slot() {
        let mut lanes = Lanes::new(2);
        assert!(lanes.start_now(&"a"));
        assert!(!lanes.start_now(&"a"), "a runs");
        lanes.push("a", 1);
        assert_eq!(
            drain(&mut lanes),
            [],
            "a's queued job waits for the one running"
        );
        lanes.push("b", 2);
        assert_eq!(drain(&mut lanes), [("b", 2)]);
        assert!(!lanes.start_now(&"c"), "both slots taken");
        lanes.finished("a");
        assert!(!lanes.start_now(&"a"), "a's queued job comes first");
        assert_eq!(drain(&mut lanes), [("a", 1)]);
        lanes.finished("a");
        lanes.finished("b");
        assert!(lanes.start_now(&"a"));
        lanes.finished("a");
        assert_eq!((lanes.running(), lanes.queued()), (0, 0));
    }
}
