//! `CassandraSink`: prepared upserts, grouped by the replicas that own them
//! into unlogged batches (`grouping.rs`), many requests in flight.
//!
//! Throughput comes from four things: prepare once (which also routes each
//! request straight to a replica that owns it), group rows owned by the same
//! replicas into one request (Cassandra applies a batch of rows for cheaper
//! than the same rows one by one, and with one replica set per batch the
//! coordinator forwards nothing), run requests concurrently, and bound how
//! many are in flight. A batch of rows of unrelated owners would funnel
//! them through one coordinator: that is what the grouping avoids.

use futures_util::{TryStreamExt as _, stream};
use scylla::client::session::Session;
use scylla::cluster::ClusterState;
use scylla::errors::{
    ConnectionError, ConnectionPoolError, ConnectionSetupRequestErrorKind, DbError, ExecutionError,
    PrepareError, RequestAttemptError, UseKeyspaceError,
};
use scylla::frame::response::result::ColumnType;
use scylla::frame::response::result::TableSpec;
use scylla::routing::partitioner::{Murmur3Partitioner, Partitioner as _, PartitionerHasher as _};
use scylla::serialize::SerializationError;
use scylla::serialize::row::{RowSerializationContext, SerializeRow};
use scylla::serialize::value::SerializeValue;
use scylla::serialize::writers::RowWriter;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::CqlTimestamp;
use tokio::sync::Semaphore;

use super::connect::{connect, one_line};
use super::dashboard::{Companion, prepare_companion};
use super::grouping::{BatchLimits, ReplicaKey, plan};
use super::options::{CassandraOptions, TableName};
use super::schema::{Column, require_table};
use crate::pipeline::{RejectedRow, Sink, WriteError, WriteOutcome};
use crate::record::{ReasonCode, ScoredRecord};

/// Writes scored rows into a Cassandra table: ours, or any table with at least
/// `id int|bigint PRIMARY KEY, sentence text, sentimental_analysis text`
/// (the columns it has are detected when it is opened).
pub struct CassandraSink {
    session: Session,
    insert: PreparedStatement,
    /// `batches[n - 1]` is an unlogged batch of `n` inserts.
    batches: Vec<Batch>,
    limits: BatchLimits,
    /// Writes the dashboard's companion table (`dashboard.rs`), when it exists.
    companion: Option<Companion>,
    /// The insert's bind markers, in order.
    columns: Vec<Column>,
    /// The table's id is `int`: ids outside 32 bits are rejected, not written.
    id_is_int: bool,
    table: TableName,
    /// Shared by every concurrent `write`: the bound on inserts in flight.
    in_flight: Semaphore,
    max_in_flight: usize,
}

impl CassandraSink {
    /// Connects, checks the table (it must exist: `setup` creates it) and
    /// prepares the upsert for the columns it has.
    pub async fn open(options: &CassandraOptions) -> anyhow::Result<CassandraSink> {
        let table = options.table_name()?;
        let session = connect(options).await?;
        let inspection = require_table(&session, &table).await?;
        let mut insert = session
            .prepare(inspection.insert_cql(&table))
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "preparing the insert into {table}: {}",
                    one_line(&error.to_string())
                )
            })?;
        // An upsert by primary key: the driver may retry it or send it twice.
        insert.set_is_idempotent(true);
        if !inspection.missing.is_empty() {
            // The original stack's 3-column table is a supported layout, not a fault.
            let missing: Vec<&str> = inspection.missing.iter().map(|c| c.name()).collect();
            tracing::info!(
                "table {table} has {} of sentiflow's columns; it stores those ({}), without {}",
                inspection.columns.len(),
                inspection
                    .columns
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                missing.join(", ")
            );
        }
        let companion = prepare_companion(&session, &table).await?;
        let max_in_flight = options.max_in_flight.max(1);
        let limits = BatchLimits {
            max_bytes: options.batch_bytes,
            max_rows: MAX_BATCH_ROWS,
        };
        let batches = (1..=if limits.batching() { MAX_BATCH_ROWS } else { 1 })
            .map(|rows| {
                let mut batch = Batch::new(BatchType::Unlogged);
                for _ in 0..rows {
                    batch.append_statement(insert.clone());
                }
                batch.set_is_idempotent(true);
                batch
            })
            .collect();
        if limits.batching() {
            tracing::info!(
                "writing to Cassandra table {table} at {:?}: rows of the same replicas in unlogged batches of up to {} bytes, up to {max_in_flight} requests in flight",
                options.consistency,
                limits.max_bytes
            );
        } else {
            tracing::info!(
                "writing to Cassandra table {table} at {:?}: one row per request, up to {max_in_flight} in flight",
                options.consistency
            );
        }
        Ok(CassandraSink {
            session,
            insert,
            batches,
            limits,
            companion,
            columns: inspection.columns,
            id_is_int: inspection.id_is_int,
            table,
            in_flight: Semaphore::new(max_in_flight),
            max_in_flight,
        })
    }

    /// The table the rows go to.
    pub fn table(&self) -> &TableName {
        &self.table
    }

    /// The columns written, in the table's order of our schema.
    pub fn columns(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.name()).collect()
    }

    /// True for the original README's `id int` table.
    pub fn id_is_int(&self) -> bool {
        self.id_is_int
    }

    /// The session, for callers that need more of the cluster (metrics, health).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Why the row at `index` cannot be stored, if it cannot.
    fn rejection(&self, index: usize, id: i64) -> Option<RejectedRow> {
        (self.id_is_int && i32::try_from(id).is_err()).then(|| RejectedRow {
            index,
            code: ReasonCode::IdOutOfRange,
            reason: format!("id {id} does not fit the int column {}.id", self.table),
        })
    }

    /// Writes `rows`: grouped by the replicas that own them into batches
    /// (one row each when batching is off), at most `max_in_flight` requests
    /// in flight across every concurrent `write`. The first failure ends the
    /// write: the pipeline retries it whole (upserts are idempotent).
    async fn write_rows(&self, rows: &[&ScoredRecord]) -> Result<(), ExecutionError> {
        let requests = if self.limits.batching() {
            let state = self.session.get_cluster_state();
            let owners = Owners::new(&state, &self.table);
            plan(
                rows,
                |row| owners.key(row.record.id, self.id_is_int),
                self.limits,
            )
        } else {
            plan(rows, |_| (), self.limits)
        };
        stream::iter(requests.into_iter().map(Ok))
            .try_for_each_concurrent(self.max_in_flight, |rows| self.send(rows))
            .await
    }

    /// One request: a prepared insert, or an unlogged batch of them.
    async fn send(&self, rows: Vec<&ScoredRecord>) -> Result<(), ExecutionError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let values = |row| RowValues {
            columns: &self.columns,
            row,
        };
        if let [row] = rows[..] {
            return self
                .session
                .execute_unpaged(&self.insert, values(row))
                .await
                .map(drop);
        }
        let batch = &self.batches[rows.len() - 1];
        let values: Vec<RowValues<'_>> = rows.into_iter().map(values).collect();
        self.session.batch(batch, values).await.map(drop)
    }

    /// Writes the companion cells of `rows`, batches in flight under the same bound.
    async fn write_companion(&self, rows: &[&ScoredRecord]) -> Result<(), ExecutionError> {
        let Some(companion) = &self.companion else {
            return Ok(());
        };
        stream::iter(companion.batches(rows).into_iter().map(Ok))
            .try_for_each_concurrent(self.max_in_flight, |(batch, values)| {
                self.write_cells(batch, values)
            })
            .await
    }

    async fn write_cells(
        &self,
        batch: Batch,
        values: Vec<super::dashboard::CompanionValues<'_>>,
    ) -> Result<(), ExecutionError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        self.session.batch(&batch, values).await.map(drop)
    }
}

impl Sink for CassandraSink {
    /// Ok only when Cassandra acknowledged every row (at the configured
    /// consistency) except the rejected ones, which were not sent.
    async fn write<'a>(&'a self, rows: &'a [ScoredRecord]) -> Result<WriteOutcome, WriteError> {
        let mut outcome = WriteOutcome::default();
        if self.id_is_int {
            outcome.rejected = rows
                .iter()
                .enumerate()
                .filter_map(|(index, row)| self.rejection(index, row.record.id))
                .collect();
        }
        let accepted: Vec<&ScoredRecord> = rows
            .iter()
            .filter(|row| !self.id_is_int || i32::try_from(row.record.id).is_ok())
            .collect();
        // The dashboard's companion cells go with the rows: written when both are.
        let (rows_written, cells_written) =
            tokio::join!(self.write_rows(&accepted), self.write_companion(&accepted));
        rows_written
            .and(cells_written)
            .map_err(|error| classify(&error, &self.table))?;
        Ok(outcome)
    }
}

/// One row's bound values, serialized straight from the record: no copies.
struct RowValues<'a> {
    columns: &'a [Column],
    row: &'a ScoredRecord,
}

impl SerializeRow for RowValues<'_> {
    fn serialize(
        &self,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter,
    ) -> Result<(), SerializationError> {
        let specs = ctx.columns();
        if specs.len() != self.columns.len() {
            return Err(SerializationError::new(MarkerCountMismatch {
                expected: self.columns.len(),
                found: specs.len(),
            }));
        }
        let row = self.row;
        let record = &row.record;
        for (column, spec) in self.columns.iter().zip(specs) {
            let typ = spec.typ();
            let cell = writer.make_cell_writer();
            match column {
                Column::Id => match typ {
                    ColumnType::Native(scylla::frame::response::result::NativeType::Int) => {
                        // Rows that do not fit were rejected before sending.
                        let id = i32::try_from(record.id).map_err(SerializationError::new)?;
                        id.serialize(typ, cell)?
                    }
                    _ => record.id.serialize(typ, cell)?,
                },
                Column::Sentence => (*record.sentence).serialize(typ, cell)?,
                Column::Label => row.label.as_str().serialize(typ, cell)?,
                Column::Compound => row.scores.compound.serialize(typ, cell)?,
                Column::Pos => row.scores.pos.serialize(typ, cell)?,
                Column::Neu => row.scores.neu.serialize(typ, cell)?,
                Column::Neg => row.scores.neg.serialize(typ, cell)?,
                Column::ProducedAt => CqlTimestamp(record.produced_at_ms).serialize(typ, cell)?,
                Column::ProcessedAt => CqlTimestamp(row.processed_at_ms).serialize(typ, cell)?,
                // Unset rather than null: a null would write a tombstone.
                Column::SourcePartition => match record.origin {
                    Some(origin) => origin.partition.serialize(typ, cell)?,
                    None => cell.set_unset(),
                },
                Column::SourceOffset => match record.origin {
                    Some(origin) => origin.offset.serialize(typ, cell)?,
                    None => cell.set_unset(),
                },
            };
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

/// Rows (so partitions: one row each) in one batch at most: Cassandra logs a
/// warning for an unlogged batch over 10 partitions
/// (`unlogged_batch_across_partitions_warn_threshold`), and batches of 10
/// were the fastest the ceiling bench found on one node (BENCHMARKS.md).
const MAX_BATCH_ROWS: usize = 10;

/// Who owns a partition, from the driver's view of the ring.
struct Owners<'a> {
    state: &'a ClusterState,
    table_spec: TableSpec<'a>,
    strategy: Option<&'a scylla::cluster::metadata::Strategy>,
}

impl<'a> Owners<'a> {
    fn new(state: &'a ClusterState, table: &'a TableName) -> Owners<'a> {
        Owners {
            state,
            table_spec: TableSpec::borrowed(table.keyspace(), table.table()),
            strategy: state.get_keyspace(table.keyspace()).map(|k| &k.strategy),
        }
    }

    /// The replicas of the partition of `id` (the Murmur3 token of the id's
    /// bytes, as Cassandra computes it for a one-column key).
    fn key(&self, id: i64, id_is_int: bool) -> ReplicaKey {
        let Some(strategy) = self.strategy else {
            return ReplicaKey::default();
        };
        let mut hasher = Murmur3Partitioner.build_hasher();
        if id_is_int {
            // Rows that do not fit were rejected before grouping.
            hasher.write(&(id as i32).to_be_bytes());
        } else {
            hasher.write(&id.to_be_bytes());
        }
        let token = hasher.finish();
        ReplicaKey::new(
            self.state
                .replica_locator()
                .replicas_for_token(token, strategy, None, &self.table_spec)
                .into_iter()
                .map(|(node, _shard)| node.host_id.as_u128()),
        )
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the prepared insert has {found} bind markers, sentiflow expected {expected}")]
struct MarkerCountMismatch {
    expected: usize,
    found: usize,
}

/// Transient: the cluster is unreachable, overloaded, timing out or lacks
/// live replicas, which passes. Fatal: the statement, the schema or the login
/// is wrong, which retrying cannot fix.
fn classify(error: &ExecutionError, table: &TableName) -> WriteError {
    let message = anyhow::anyhow!(
        "writing to Cassandra table {table}: {}",
        one_line(&error.to_string())
    );
    if is_transient(error) {
        WriteError::Transient(message)
    } else {
        WriteError::Fatal(message)
    }
}

fn is_transient(error: &ExecutionError) -> bool {
    match error {
        ExecutionError::EmptyPlan
        | ExecutionError::RequestTimeout(_)
        | ExecutionError::SchemaAgreementError(_)
        | ExecutionError::MetadataError(_) => true,
        ExecutionError::ConnectionPoolError(pool) => pool_is_transient(pool),
        ExecutionError::LastAttemptError(attempt) => attempt_is_transient(attempt),
        ExecutionError::PrepareError(prepare) => match prepare {
            PrepareError::ConnectionPoolError(pool) => pool_is_transient(pool),
            PrepareError::AllAttemptsFailed { first_attempt } => {
                attempt_is_transient(first_attempt)
            }
            _ => false,
        },
        ExecutionError::UseKeyspaceError(use_keyspace) => match use_keyspace {
            UseKeyspaceError::RequestError(attempt) => attempt_is_transient(attempt),
            UseKeyspaceError::RequestTimeout(_) => true,
            _ => false,
        },
        ExecutionError::BadQuery(_) => false,
        // A new kind of error from a newer driver: stop and show it rather than loop.
        _ => false,
    }
}

fn pool_is_transient(error: &ConnectionPoolError) -> bool {
    match error {
        ConnectionPoolError::Broken {
            last_connection_error,
        } => !is_login_failure(last_connection_error),
        ConnectionPoolError::Initializing => true,
        _ => false,
    }
}

/// A password changed under a running processor: no point reconnecting forever.
fn is_login_failure(error: &ConnectionError) -> bool {
    match error {
        ConnectionError::ConnectionSetupRequestError(setup) => match setup.get_error() {
            ConnectionSetupRequestErrorKind::DbError(DbError::AuthenticationError, message) => {
                !is_auth_outage(message)
            }
            ConnectionSetupRequestErrorKind::MissingAuthentication => true,
            _ => false,
        },
        _ => false,
    }
}

/// Cassandra answers "bad credentials" or "unauthorized" when it cannot read
/// its own auth tables: too few replicas of `system_auth` are up (the
/// default superuser is read at QUORUM, so two nodes of three down is
/// enough). That is an outage that passes, not a wrong password.
fn is_auth_outage(message: &str) -> bool {
    message.contains("Cannot achieve consistency level") || message.contains("Operation timed out")
}

fn attempt_is_transient(error: &RequestAttemptError) -> bool {
    match error {
        RequestAttemptError::DbError(
            DbError::Unauthorized | DbError::AuthenticationError,
            message,
        ) => is_auth_outage(message),
        RequestAttemptError::DbError(db_error, _) => db_error_is_transient(db_error),
        RequestAttemptError::BrokenConnectionError(_)
        | RequestAttemptError::UnableToAllocStreamId => true,
        _ => false,
    }
}

fn db_error_is_transient(error: &DbError) -> bool {
    match error {
        DbError::Unavailable { .. }
        | DbError::Overloaded
        | DbError::IsBootstrapping
        | DbError::ReadTimeout { .. }
        | DbError::WriteTimeout { .. }
        | DbError::ReadFailure { .. }
        | DbError::WriteFailure { .. }
        | DbError::TruncateError
        | DbError::RateLimitReached { .. }
        | DbError::ServerError
        // The driver re-prepares by itself; seeing this means a node restarted mid-request.
        | DbError::Unprepared { .. } => true,
        DbError::SyntaxError
        | DbError::Invalid
        | DbError::AlreadyExists { .. }
        | DbError::FunctionFailure { .. }
        | DbError::AuthenticationError
        | DbError::Unauthorized
        | DbError::ConfigError
        | DbError::ProtocolError
        | DbError::Other(_) => false,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use scylla::statement::Consistency;

    use super::*;

    fn db(error: DbError) -> ExecutionError {
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(error, "server says".into()))
    }

    #[test]
    fn outages_are_transient() {
        let unavailable = DbError::Unavailable {
            consistency: Consistency::LocalQuorum,
            required: 2,
            alive: 1,
        };
        for error in [
            db(unavailable),
            db(DbError::Overloaded),
            db(DbError::IsBootstrapping),
            ExecutionError::RequestTimeout(Duration::from_secs(10)),
            ExecutionError::EmptyPlan,
            ExecutionError::ConnectionPoolError(ConnectionPoolError::Broken {
                last_connection_error: ConnectionError::IoError(Arc::new(
                    std::io::ErrorKind::ConnectionRefused.into(),
                )),
            }),
            ExecutionError::ConnectionPoolError(ConnectionPoolError::Broken {
                last_connection_error: ConnectionError::ConnectTimeout,
            }),
            ExecutionError::LastAttemptError(RequestAttemptError::UnableToAllocStreamId),
            // What Cassandra 5.0 said with two nodes of three down (faults/cassandra_loss.rs).
            ExecutionError::LastAttemptError(RequestAttemptError::DbError(
                DbError::Unauthorized,
                "Unable to perform authorization of super-user permission: Cannot achieve consistency level QUORUM".into(),
            )),
        ] {
            assert!(is_transient(&error), "{error}");
        }
    }

    #[test]
    fn mistakes_are_fatal() {
        for error in [
            db(DbError::Invalid),
            db(DbError::SyntaxError),
            db(DbError::Unauthorized),
            db(DbError::AuthenticationError),
            db(DbError::ConfigError),
        ] {
            assert!(!is_transient(&error), "{error}");
        }
    }

    #[test]
    fn write_errors_are_one_line_and_name_the_table() {
        let table = TableName::new("ks", "t").unwrap();
        let WriteError::Fatal(error) = classify(&db(DbError::Invalid), &table) else {
            panic!("an invalid query is fatal");
        };
        let text = format!("{error:#}");
        assert!(
            text.starts_with("writing to Cassandra table ks.t: "),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
    }
}
