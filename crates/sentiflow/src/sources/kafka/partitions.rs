//! The source's bookkeeping of the partitions it owns: which assignment
//! (epoch) a message was read under, what was handed to the pipeline, what
//! was acknowledged, and what the group had committed when the partition was
//! assigned. Pure state, no Kafka calls: the rules of the at-least-once
//! guarantee live here, and the unit tests below pin them.

use std::collections::HashMap;

/// A message's place: its partition, the assignment it was read under, its
/// offset and its timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub partition: i32,
    /// Which assignment of the partition the message was read under.
    pub epoch: u64,
    pub offset: i64,
    /// The message's timestamp, epoch milliseconds.
    pub timestamp_ms: i64,
}

/// What the source knows of one partition it owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartitionState {
    pub epoch: u64,
    /// Highest offset handed to the pipeline.
    pub sent: Option<i64>,
    /// Highest offset acknowledged (durably written).
    pub acked: Option<i64>,
    /// Timestamp of the message at `acked`.
    pub acked_timestamp_ms: Option<i64>,
    /// The group's committed offset when the partition was assigned (the
    /// next offset to read), if it had one.
    pub committed_at_assign: Option<i64>,
    /// Whether a message of this assignment has been seen yet.
    seen_first: bool,
}

impl PartitionState {
    pub fn drained(&self) -> bool {
        self.sent <= self.acked
    }
}

/// An offset reset seen on the first message of an assignment: the group's
/// committed offset was not where reading started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OffsetReset {
    pub partition: i32,
    /// The group's committed offset (where reading should have started).
    pub committed: i64,
    /// Where reading started.
    pub first_read: i64,
}

impl OffsetReset {
    /// Messages that were never read: lost to retention (or deleted) between
    /// the committed offset and the first message read; 0 when reading went
    /// back (the committed offset was beyond the end: a recreated topic).
    pub fn skipped(&self) -> u64 {
        u64::try_from(self.first_read - self.committed).unwrap_or(0)
    }
}

/// Records handed to the pipeline and not acknowledged when a partition was
/// taken away: their next owner reads them again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GivenUp {
    pub partition: i32,
    /// First and last offset not acknowledged.
    pub first: i64,
    pub last: i64,
}

impl GivenUp {
    /// How many records that range holds (offsets can have gaps: at most this).
    pub fn records(&self) -> u64 {
        u64::try_from(self.last - self.first + 1).unwrap_or(0)
    }
}

/// The partitions a consumer-group member owns now.
#[derive(Debug, Default)]
pub struct Partitions {
    owned: HashMap<i32, PartitionState>,
    next_epoch: u64,
    /// True once the group has given this member an assignment (even an empty one).
    assigned_once: bool,
    /// True between a revoke and the assignment that follows it (an eager
    /// rebalance): owning nothing then does not mean having nothing to do.
    awaiting_assignment: bool,
}

impl Partitions {
    /// The group gave this member `assigned` (partition, committed offset):
    /// each starts a new epoch, so acknowledgements of an earlier assignment
    /// of the same partition are ignored.
    pub fn assign(&mut self, assigned: &[(i32, Option<i64>)]) {
        self.assigned_once = true;
        self.awaiting_assignment = false;
        for (partition, committed) in assigned {
            let epoch = self.next_epoch;
            self.next_epoch += 1;
            self.owned.insert(
                *partition,
                PartitionState {
                    epoch,
                    sent: None,
                    acked: None,
                    acked_timestamp_ms: None,
                    committed_at_assign: *committed,
                    seen_first: false,
                },
            );
        }
    }

    /// The group took `revoked` away: nothing is acknowledged for them from
    /// now on. Returns what was handed over and never acknowledged.
    pub fn revoke(&mut self, revoked: &[i32]) -> Vec<GivenUp> {
        self.awaiting_assignment = true;
        let given_up = self.undrained(revoked);
        for partition in revoked {
            self.owned.remove(partition);
        }
        given_up
    }

    /// True when the group has settled this member's assignment: it has had
    /// one, and is not between a revoke and the next assignment.
    pub fn settled(&self) -> bool {
        self.assigned_once && !self.awaiting_assignment
    }

    pub fn get(&self, partition: i32) -> Option<&PartitionState> {
        self.owned.get(&partition)
    }

    /// The epoch of each owned partition.
    pub fn epochs(&self) -> HashMap<i32, u64> {
        self.owned
            .iter()
            .map(|(partition, state)| (*partition, state.epoch))
            .collect()
    }

    /// True when `position` was read under the current assignment of its partition.
    pub fn is_current(&self, position: &Position) -> bool {
        self.owned
            .get(&position.partition)
            .is_some_and(|state| state.epoch == position.epoch)
    }

    /// The first message of an assignment: returns the offset reset it
    /// reveals, if reading did not start at the committed offset.
    pub fn first_message(&mut self, position: &Position) -> Option<OffsetReset> {
        let state = self.owned.get_mut(&position.partition)?;
        if state.epoch != position.epoch || state.seen_first {
            return None;
        }
        state.seen_first = true;
        let committed = state.committed_at_assign?;
        (position.offset != committed).then_some(OffsetReset {
            partition: position.partition,
            committed,
            first_read: position.offset,
        })
    }

    /// The batch ending at `positions` was handed to the pipeline.
    pub fn mark_sent(&mut self, positions: &[Position]) {
        for position in positions {
            if let Some(state) = self.owned.get_mut(&position.partition)
                && state.epoch == position.epoch
            {
                state.sent = state.sent.max(Some(position.offset));
            }
        }
    }

    /// The batch ending at `positions` is durably written. Returns the
    /// positions whose offsets may be stored for commit: those read under
    /// the current assignment of their partition.
    pub fn ack(&mut self, positions: &[Position]) -> Vec<Position> {
        let mut to_store = Vec::with_capacity(positions.len());
        for position in positions {
            let Some(state) = self.owned.get_mut(&position.partition) else {
                continue;
            };
            if state.epoch != position.epoch {
                continue;
            }
            state.acked = state.acked.max(Some(position.offset));
            state.acked_timestamp_ms = Some(position.timestamp_ms);
            to_store.push(*position);
        }
        to_store
    }

    /// Whether every record of `partitions` handed over is acknowledged.
    pub fn drained(&self, partitions: &[i32]) -> bool {
        partitions.iter().all(|partition| {
            self.owned
                .get(partition)
                .is_none_or(PartitionState::drained)
        })
    }

    /// Whether everything handed over, on every partition, is acknowledged.
    pub fn all_drained(&self) -> bool {
        self.owned.values().all(PartitionState::drained)
    }

    /// What of `partitions` was handed over and is not acknowledged.
    pub fn undrained(&self, partitions: &[i32]) -> Vec<GivenUp> {
        let mut given_up: Vec<GivenUp> = partitions
            .iter()
            .filter_map(|partition| {
                let state = self.owned.get(partition)?;
                let last = state.sent?;
                let first = state
                    .acked
                    .map_or(state.committed_at_assign.unwrap_or(0).min(last), |acked| {
                        acked + 1
                    });
                (first <= last).then_some(GivenUp {
                    partition: *partition,
                    first,
                    last,
                })
            })
            .collect();
        given_up.sort_by_key(|g| g.partition);
        given_up
    }

    /// Timestamp of the last acknowledged message of `partition`.
    pub fn acked_timestamp_ms(&self, partition: i32) -> Option<i64> {
        self.owned.get(&partition)?.acked_timestamp_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(partition: i32, epoch: u64, offset: i64) -> Position {
        Position {
            partition,
            epoch,
            offset,
            timestamp_ms: 1000 + offset,
        }
    }

    fn assigned(partitions: &[i32]) -> Partitions {
        let mut owned = Partitions::default();
        let list: Vec<(i32, Option<i64>)> = partitions.iter().map(|p| (*p, None)).collect();
        owned.assign(&list);
        owned
    }

    #[test]
    fn each_assignment_gets_a_new_epoch() {
        let mut owned = assigned(&[0, 1]);
        let first = owned.epochs();
        assert_ne!(first[&0], first[&1]);
        owned.revoke(&[0]);
        owned.assign(&[(0, None)]);
        assert_ne!(owned.epochs()[&0], first[&0]);
        assert_eq!(owned.epochs()[&1], first[&1]);
    }

    #[test]
    fn acks_of_an_earlier_assignment_store_nothing() {
        let mut owned = assigned(&[0]);
        let old = owned.epochs()[&0];
        owned.mark_sent(&[at(0, old, 10)]);
        owned.revoke(&[0]);
        // Revoked: the ack of a batch read before the revoke is ignored.
        assert!(owned.ack(&[at(0, old, 10)]).is_empty());
        // Assigned again: still ignored, only the new epoch counts.
        owned.assign(&[(0, Some(5))]);
        assert!(owned.ack(&[at(0, old, 10)]).is_empty());
        assert_eq!(owned.get(0).unwrap().acked, None);
        let new = owned.epochs()[&0];
        assert_eq!(owned.ack(&[at(0, new, 7)]), vec![at(0, new, 7)]);
    }

    #[test]
    fn a_partition_is_drained_once_everything_sent_is_acked() {
        let mut owned = assigned(&[0, 1]);
        let epochs = owned.epochs();
        assert!(owned.all_drained(), "nothing sent yet");
        owned.mark_sent(&[at(0, epochs[&0], 4), at(1, epochs[&1], 9)]);
        assert!(!owned.drained(&[0]));
        owned.ack(&[at(0, epochs[&0], 4)]);
        assert!(owned.drained(&[0]));
        assert!(!owned.all_drained());
        owned.ack(&[at(1, epochs[&1], 9)]);
        assert!(owned.all_drained());
    }

    #[test]
    fn revoking_reports_what_was_handed_over_and_not_acknowledged() {
        let mut owned = Partitions::default();
        owned.assign(&[(0, Some(100)), (1, None), (2, None)]);
        let epochs = owned.epochs();
        owned.mark_sent(&[at(0, epochs[&0], 149)]);
        owned.mark_sent(&[at(1, epochs[&1], 20)]);
        owned.ack(&[at(1, epochs[&1], 20)]);
        owned.mark_sent(&[at(2, epochs[&2], 30)]);
        owned.ack(&[at(2, epochs[&2], 10)]);
        let given_up = owned.revoke(&[0, 1, 2]);
        assert_eq!(
            given_up,
            vec![
                GivenUp {
                    partition: 0,
                    first: 100,
                    last: 149
                },
                GivenUp {
                    partition: 2,
                    first: 11,
                    last: 30
                },
            ]
        );
        assert_eq!(given_up[0].records(), 50);
        assert!(owned.get(0).is_none());
    }

    #[test]
    fn the_first_message_reveals_an_offset_reset() {
        let mut owned = Partitions::default();
        owned.assign(&[(0, Some(1000)), (1, Some(50)), (2, None)]);
        let epochs = owned.epochs();
        // Lost to retention: the group had 1000, reading starts at 1500.
        let lost = owned.first_message(&at(0, epochs[&0], 1500)).unwrap();
        assert_eq!(lost.skipped(), 500);
        // Only the first message of an assignment counts.
        assert_eq!(owned.first_message(&at(0, epochs[&0], 1700)), None);
        // Recreated topic: the committed offset is beyond the end, reading restarts at 0.
        let back = owned.first_message(&at(1, epochs[&1], 0)).unwrap();
        assert_eq!(
            (back.committed, back.first_read, back.skipped()),
            (50, 0, 0)
        );
        // A new group has no committed offset: no reset.
        assert_eq!(owned.first_message(&at(2, epochs[&2], 0)), None);
    }

    #[test]
    fn reading_where_the_group_left_off_is_not_a_reset() {
        let mut owned = Partitions::default();
        owned.assign(&[(0, Some(42))]);
        let epoch = owned.epochs()[&0];
        assert_eq!(owned.first_message(&at(0, epoch, 42)), None);
    }

    #[test]
    fn a_member_between_revoke_and_assignment_is_not_settled() {
        let mut owned = Partitions::default();
        assert!(!owned.settled(), "never assigned");
        owned.assign(&[]);
        assert!(
            owned.settled(),
            "an empty assignment is still an assignment"
        );
        owned.assign(&[(0, None)]);
        owned.revoke(&[0]);
        // Owning nothing in the middle of a rebalance is not being idle.
        assert!(!owned.settled());
        assert!(owned.all_drained());
        owned.assign(&[(0, None), (1, None)]);
        assert!(owned.settled());
    }

    #[test]
    fn acks_remember_the_timestamp_of_the_last_written_message() {
        let mut owned = assigned(&[3]);
        let epoch = owned.epochs()[&3];
        owned.ack(&[at(3, epoch, 7)]);
        assert_eq!(owned.acked_timestamp_ms(3), Some(1007));
    }
}
