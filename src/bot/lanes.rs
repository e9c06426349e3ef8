//! The order in which a [`Bot`](crate::Bot)'s handler calls may start: one at a time per
//! conversation (a room, a direct chat, the session), in arrival order, and at most `limit`
//! at once over all of them. Pure bookkeeping: the runner owns the tasks.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Jobs by lane. A lane is present while it has a job running or waiting; a lane with a
/// runnable head job and no job running is in `ready`, in the order it became so.
pub(crate) struct Lanes<K, J> {
    waiting: HashMap<K, VecDeque<J>>,
    ready: VecDeque<K>,
    running: usize,
    limit: usize,
    queued: usize,
}

impl<K: Hash + Eq + Clone, J> Lanes<K, J> {
    /// Lanes that run at most `limit` jobs at once (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            waiting: HashMap::new(),
            ready: VecDeque::new(),
            running: 0,
            limit: limit.max(1),
            queued: 0,
        }
    }

    /// Queues `job` behind the jobs of its lane.
    pub(crate) fn push(&mut self, lane: K, job: J) {
        self.queued += 1;
        match self.waiting.get_mut(&lane) {
            Some(jobs) => jobs.push_back(job),
            None => {
                self.waiting.insert(lane.clone(), VecDeque::from([job]));
                self.ready.push_back(lane);
            }
        }
    }

    /// The next job to start, if a slot is free and a lane is ready; it counts as running
    /// until [`finished`](Self::finished) is called with its lane.
    pub(crate) fn start_next(&mut self) -> Option<(K, J)> {
        if self.running >= self.limit {
            return None;
        }
        while let Some(lane) = self.ready.pop_front() {
            if let Some(job) = self.waiting.get_mut(&lane).and_then(VecDeque::pop_front) {
                self.running += 1;
                self.queued -= 1;
                return Some((lane, job));
            }
        }
        None
    }

    /// The running job of `lane` is done: the lane's next job may start, or the lane goes.
    pub(crate) fn finished(&mut self, lane: K) {
        self.running = self.running.saturating_sub(1);
        match self.waiting.get(&lane) {
            Some(jobs) if jobs.is_empty() => {
                self.waiting.remove(&lane);
            }
            Some(_) => self.ready.push_back(lane),
            None => {}
        }
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
        assert!(lanes.waiting.is_empty(), "idle lanes go");
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
}
