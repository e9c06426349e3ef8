//! Which worker of a group handles which partition: leases in a JetStream key-value bucket.
//!
//! A room's events must be handled in order by one worker at a time, and JetStream 2.9 has no
//! consumer that pins a subject to one client. So each partition (`envelope::PARTITIONS`) has a
//! lease, a key `{group}.p.{n}` holding its worker's id, and only its holder pulls from that
//! partition's durable consumer. Every worker also keeps a presence key `{group}.w.{id}`. Keys
//! expire with the bucket's `max_age` (the lease time): a worker renews what it holds each round
//! (a third of it), so a dead worker's leases lapse within one lease time and the others take
//! them. Each worker aims at its fair share, `ceil(partitions / live workers)`: it takes free
//! partitions up to it, and names its surplus for the caller to hand back once their handlers
//! are done (so a partition never has two workers at once).

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use bytes::Bytes;
use futures_util::TryStreamExt;

use super::envelope::PARTITIONS;

/// What changed in one round.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Round {
    /// Partitions this worker holds now and did not before.
    pub(crate) acquired: Vec<u32>,
    /// Partitions this worker held and no longer does (its lease lapsed and another took it).
    pub(crate) lost: Vec<u32>,
    /// Partitions over the fair share, to [`release`](Leases::release) once drained.
    pub(crate) surplus: Vec<u32>,
    /// Fewer than the fair share are held (another worker is handing some back): worth a
    /// round again soon.
    pub(crate) short: bool,
}

/// One worker's leases.
pub(crate) struct Leases {
    store: kv::Store,
    group: String,
    worker: String,
    /// Partition → the revision of our lease on it.
    held: BTreeMap<u32, u64>,
}

/// The bucket's name for `stream`.
pub(crate) fn bucket(stream: &str) -> String {
    format!("{stream}_leases")
}

impl Leases {
    /// The bucket of `stream` (made if missing, keys living `lease`) and this worker's place in
    /// `group`. Holds nothing until the first [`round`](Self::round).
    pub(crate) async fn open(
        context: &jetstream::Context,
        stream: &str,
        group: &str,
        worker: &str,
        lease: Duration,
    ) -> Result<Self, async_nats::Error> {
        // The bucket's stream is made here as a key-value bucket's stream is laid out:
        // async-nats 0.51's `create_key_value` sends fields nats-server 2.9 answers with a
        // reply the client cannot parse, while the stream itself works with `get_key_value`.
        let name = bucket(stream);
        let config = jetstream::stream::Config {
            name: format!("KV_{name}"),
            description: Some("wechaty workers: who handles which partition".into()),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: 1,
            max_age: lease,
            duplicate_window: lease.min(Duration::from_secs(120)),
            storage: jetstream::stream::StorageType::Memory,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: jetstream::stream::DiscardPolicy::New,
            ..Default::default()
        };
        context.get_or_create_stream(config).await?;
        let store = context.get_key_value(name).await?;
        Ok(Self {
            store,
            group: group.to_owned(),
            worker: worker.to_owned(),
            held: BTreeMap::new(),
        })
    }

    fn lease_key(&self, partition: u32) -> String {
        format!("{}.p.{partition}", self.group)
    }

    fn presence_key(&self) -> String {
        format!("{}.w.{}", self.group, self.worker)
    }

    /// The partitions held now.
    pub(crate) fn held(&self) -> impl Iterator<Item = u32> + '_ {
        self.held.keys().copied()
    }

    /// Renews presence and leases, counts the live workers, takes free partitions up to the
    /// fair share and names the surplus. Call it every third of the lease time.
    pub(crate) async fn round(&mut self) -> Result<Round, async_nats::Error> {
        let mut round = Round::default();
        let me = Bytes::from(self.worker.clone());
        self.store.put(self.presence_key(), me.clone()).await?;
        for (partition, revision) in std::mem::take(&mut self.held) {
            match self
                .store
                .update(self.lease_key(partition), me.clone(), revision)
                .await
            {
                Ok(revision) => {
                    self.held.insert(partition, revision);
                }
                Err(error) => {
                    tracing::warn!(partition, %error, "a partition's lease lapsed: another worker has it");
                    round.lost.push(partition);
                }
            }
        }
        let workers_prefix = format!("{}.w.", self.group);
        let live = self
            .store
            .keys()
            .await?
            .try_filter(|key| std::future::ready(key.starts_with(&workers_prefix)))
            .try_fold(0u32, |count, _| std::future::ready(Ok(count + 1)))
            .await?
            .max(1);
        let share = PARTITIONS.div_ceil(live) as usize;
        // Start where this worker's name points, so that workers starting together try
        // different partitions first.
        let offset = super::envelope::partition(&self.worker);
        for step in 0..PARTITIONS {
            if self.held.len() >= share {
                break;
            }
            let partition = (offset + step) % PARTITIONS;
            if self.held.contains_key(&partition) {
                continue;
            }
            if let Ok(revision) = self
                .store
                .create(self.lease_key(partition), me.clone())
                .await
            {
                self.held.insert(partition, revision);
                round.acquired.push(partition);
            }
        }
        round.surplus = self.held.keys().copied().skip(share).collect();
        round.short = self.held.len() < share;
        Ok(round)
    }

    /// Gives `partition` back (its handlers are done): another worker may take it at once.
    pub(crate) async fn release(&mut self, partition: u32) -> Result<(), async_nats::Error> {
        if let Some(revision) = self.held.remove(&partition) {
            self.store
                .delete_expect_revision(self.lease_key(partition), Some(revision))
                .await?;
        }
        Ok(())
    }

    /// Gives everything back and leaves the group (a clean shutdown).
    pub(crate) async fn leave(&mut self) -> Result<(), async_nats::Error> {
        let held: Vec<u32> = self.held().collect();
        for partition in held {
            self.release(partition).await?;
        }
        self.store.delete(self.presence_key()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::relay::test_nats as nats;

    async fn worker(url: &str, stream: &str, name: &str, lease: Duration) -> Leases {
        let client = async_nats::connect(url).await.expect("NATS answers");
        let context = jetstream::new(client);
        Leases::open(&context, stream, "bots", name, lease)
            .await
            .expect("the bucket")
    }

    #[tokio::test]
    async fn workers_share_the_partitions_and_take_over_a_dead_ones() {
        let Some(server) = nats::NatsServer::shared("workers_share_the_partitions") else {
            return;
        };
        let stream = nats::unique_stream("LEASES");
        let lease = Duration::from_secs(1);
        let mut first = worker(&server.url(), &stream, "first", lease).await;
        let round = first.round().await.expect("a round");
        assert_eq!(
            round.acquired.len(),
            PARTITIONS as usize,
            "alone, it takes all"
        );

        let mut second = worker(&server.url(), &stream, "second", lease).await;
        let round = second.round().await.expect("a round");
        assert!(round.acquired.is_empty(), "nothing is free: {round:?}");
        // The first sees a second worker and names half as surplus; once released, the
        // second takes them.
        let round = first.round().await.expect("a round");
        assert_eq!(round.surplus.len(), PARTITIONS as usize / 2, "{round:?}");
        for partition in round.surplus {
            first.release(partition).await.expect("released");
        }
        let round = second.round().await.expect("a round");
        assert_eq!(round.acquired.len(), PARTITIONS as usize / 2, "{round:?}");
        let mine: Vec<u32> = first.held().collect();
        let theirs: Vec<u32> = second.held().collect();
        assert!(mine.iter().all(|partition| !theirs.contains(partition)));
        assert_eq!(mine.len() + theirs.len(), PARTITIONS as usize);

        // The first dies (stops renewing): its leases lapse and the second, renewing its own
        // every third of the lease time, takes them.
        drop(first);
        let mut acquired = Vec::new();
        for _ in 0..7 {
            tokio::time::sleep(lease / 3).await;
            let round = second.round().await.expect("a round");
            assert!(round.lost.is_empty(), "renewed in time: {round:?}");
            acquired.extend(round.acquired);
        }
        acquired.sort_unstable();
        assert_eq!(acquired, mine);
        assert_eq!(second.held().count(), PARTITIONS as usize);

        // A clean leave frees everything at once.
        second.leave().await.expect("left");
        let mut third = worker(&server.url(), &stream, "third", lease).await;
        let round = third.round().await.expect("a round");
        assert_eq!(round.acquired.len(), PARTITIONS as usize);
    }
}
