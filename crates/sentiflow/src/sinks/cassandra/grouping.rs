//! How the sink groups rows into unlogged batches that cost Cassandra less
//! than the same rows one by one, the way the spark-cassandra-connector's
//! `batch.grouping.key=replica_set` does:
//!
//! - every row of a batch is owned by the same replicas, so the coordinator
//!   (token-aware routing sends a batch to a replica of its first row) never
//!   forwards a row to other nodes: no fan-out, one request for many rows;
//! - no batch passes a byte budget, kept under Cassandra's
//!   `batch_size_warn_threshold` (5 KiB by default): a batch never makes
//!   Cassandra log a warning, and never holds its memory for long.
//!
//! Unlogged batches of upserts stay idempotent: a batch sent again writes
//! the same cells.

use std::collections::HashMap;
use std::hash::Hash;

use crate::record::ScoredRecord;

/// What a row adds to a batch besides its sentence, as Cassandra measures a
/// batch against `batch_size_warn_threshold` (cell values plus each cell's
/// timestamp and the row's framing): 25 rows of 57-byte sentences measured
/// 9,419 bytes in Cassandra 5.0's log (scripts/bench-ceiling), 320 + 57 a row.
const ROW_OVERHEAD_BYTES: usize = 320;

/// The most replicas a key distinguishes; a larger replica set is keyed by
/// its first `MAX_REPLICAS` hosts in ring order (still one group per set).
pub(super) const MAX_REPLICAS: usize = 8;

/// The replicas owning a row's partition: host ids, sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct ReplicaKey {
    hosts: [u128; MAX_REPLICAS],
    len: u8,
}

impl ReplicaKey {
    pub(super) fn new(hosts: impl IntoIterator<Item = u128>) -> ReplicaKey {
        let mut key = ReplicaKey::default();
        for host in hosts.into_iter().take(MAX_REPLICAS) {
            key.hosts[key.len as usize] = host;
            key.len += 1;
        }
        key.hosts[..key.len as usize].sort_unstable();
        key
    }
}

/// The bounds of one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BatchLimits {
    /// Estimated bytes of the rows of one batch (0: every row on its own).
    pub max_bytes: usize,
    /// Rows in one batch at most.
    pub max_rows: usize,
}

impl BatchLimits {
    pub(super) fn batching(&self) -> bool {
        self.max_bytes > 0 && self.max_rows > 1
    }
}

/// What a row adds to a batch, estimated from its sentence.
pub(super) fn estimated_bytes(row: &ScoredRecord) -> usize {
    row.record.sentence.len() + ROW_OVERHEAD_BYTES
}

/// Splits `rows` into batches: rows of one replica set together (in the
/// order they came), each batch within `limits`. A row bigger than the byte
/// budget goes alone.
pub(super) fn plan<'a, K>(
    rows: &[&'a ScoredRecord],
    mut key: impl FnMut(&ScoredRecord) -> K,
    limits: BatchLimits,
) -> Vec<Vec<&'a ScoredRecord>>
where
    K: Eq + Hash,
{
    if !limits.batching() {
        return rows.iter().map(|row| vec![*row]).collect();
    }
    // Per replica set: the batches made so far, the last one still filling.
    let mut open: HashMap<K, (Vec<&'a ScoredRecord>, usize)> = HashMap::new();
    let mut batches = Vec::new();
    for row in rows {
        let size = estimated_bytes(row);
        let (batch, bytes) = open.entry(key(row)).or_insert_with(|| (Vec::new(), 0));
        if !batch.is_empty() && (*bytes + size > limits.max_bytes || batch.len() >= limits.max_rows)
        {
            batches.push(std::mem::take(batch));
            *bytes = 0;
        }
        batch.push(*row);
        *bytes += size;
    }
    batches.extend(
        open.into_values()
            .map(|(batch, _)| batch)
            .filter(|b| !b.is_empty()),
    );
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    fn row(id: i64, sentence_bytes: usize) -> ScoredRecord {
        ScoredRecord::score(
            Record {
                id,
                sentence: "x".repeat(sentence_bytes).into(),
                produced_at_ms: 0,
                origin: None,
                original: None,
            },
            0,
        )
    }

    fn ids(batches: &[Vec<&ScoredRecord>]) -> Vec<Vec<i64>> {
        let mut ids: Vec<Vec<i64>> = batches
            .iter()
            .map(|b| b.iter().map(|r| r.record.id).collect())
            .collect();
        ids.sort();
        ids
    }

    const LIMITS: BatchLimits = BatchLimits {
        max_bytes: 1000,
        max_rows: 100,
    };

    #[test]
    fn rows_of_one_replica_set_share_batches_and_others_do_not() {
        let rows: Vec<ScoredRecord> = (0..6).map(|id| row(id, 10)).collect();
        let refs: Vec<&ScoredRecord> = rows.iter().collect();
        // Even ids on one replica set, odd ids on another.
        let batches = plan(&refs, |r| r.record.id % 2, LIMITS);
        assert_eq!(ids(&batches), [vec![0, 2, 4], vec![1, 3, 5]]);
    }

    #[test]
    fn no_batch_passes_the_byte_budget_or_the_row_limit() {
        let rows: Vec<ScoredRecord> = (0..20).map(|id| row(id, 180)).collect();
        let refs: Vec<&ScoredRecord> = rows.iter().collect();
        let batches = plan(&refs, |_| 0, LIMITS);
        // 300 estimated bytes a row: three fit under 1,000.
        assert!(batches.iter().all(|b| b.len() <= 3), "{:?}", ids(&batches));
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 20);
        let few_rows = BatchLimits {
            max_bytes: 1_000_000,
            max_rows: 4,
        };
        let batches = plan(&refs, |_| 0, few_rows);
        assert!(batches.iter().all(|b| b.len() <= 4));
        assert_eq!(batches.len(), 5);
    }

    #[test]
    fn a_row_over_the_budget_goes_alone() {
        let rows = [row(1, 10), row(2, 5000), row(3, 10)];
        let refs: Vec<&ScoredRecord> = rows.iter().collect();
        let batches = plan(&refs, |_| 0, LIMITS);
        assert_eq!(ids(&batches), [vec![1], vec![2], vec![3]]);
    }

    #[test]
    fn without_batching_every_row_is_its_own_request() {
        let rows: Vec<ScoredRecord> = (0..3).map(|id| row(id, 10)).collect();
        let refs: Vec<&ScoredRecord> = rows.iter().collect();
        let single = BatchLimits {
            max_bytes: 0,
            max_rows: 100,
        };
        assert_eq!(plan(&refs, |_| 0, single).len(), 3);
    }

    #[test]
    fn a_replica_key_does_not_depend_on_the_order_of_hosts() {
        assert_eq!(ReplicaKey::new([3, 1, 2]), ReplicaKey::new([1, 2, 3]));
        assert_ne!(ReplicaKey::new([1, 2]), ReplicaKey::new([1, 2, 3]));
    }
}
