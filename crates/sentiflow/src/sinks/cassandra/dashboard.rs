//! The dashboard's Cassandra model and read path.
//!
//! "Sentiment over time" must not scan the whole table, so it has a table of
//! its own, shaped by the query (the Cassandra way): `<table>_by_minute`, one
//! partition per minute of `produced_at`, one cell per sentence, clustered by
//! label and compound bucket. The sink writes it with each batch of rows, in
//! the same write (single-partition batches of one minute's cells); every
//! part of a cell's key comes from the message itself, so a replay rewrites
//! the same cells and counts stay exact.
//!
//! ```text
//! PRIMARY KEY ((minute), sentimental_analysis, compound_bucket, produced_at, id)
//! ```
//!
//! - label mix and compound distribution of a minute: one `GROUP BY
//!   sentimental_analysis, compound_bucket` on one partition, counted by
//!   Cassandra (nothing but the counts crosses the network);
//! - latest rows of a label: `LIMIT n` per (label, bucket), newest first by
//!   the clustering order, merged here; their sentences are point reads of
//!   the main table by id.
//!
//! Cells expire after a day (`default_time_to_live`), with time-window
//! compaction so whole expired files are dropped. A table made before this
//! existed (the original stack's, or an older sentiflow's) keeps working:
//! the sink says at info level that it writes no companion rows, and `setup`
//! creates the table.

use std::time::Duration;

use anyhow::anyhow;
use futures_util::future::join_all;
use scylla::client::session::Session;
use scylla::statement::Consistency;
use scylla::statement::batch::{Batch, BatchType};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::CqlTimestamp;

use super::connect::{connect, one_line};
use super::options::{CassandraOptions, TableName};
use super::schema::read_columns;
use crate::record::ScoredRecord;
use crate::sinks::view::{self, COMPOUND_BUCKETS, MinuteMix, RowView};

/// Suffix of the companion table's name.
pub const COMPANION_SUFFIX: &str = "_by_minute";

/// How long companion cells live: the dashboard shows the last hour.
const TIME_TO_LIVE_SECONDS: u32 = 86_400;

/// The companion table of `table`, or `None` when its name would be too long.
pub fn companion_of(table: &TableName) -> Option<TableName> {
    TableName::new(
        table.keyspace(),
        &format!("{}{COMPANION_SUFFIX}", table.table()),
    )
    .ok()
}

/// The `CREATE TABLE` of the companion table.
pub(super) fn create_companion_cql(companion: &TableName) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (minute timestamp, sentimental_analysis text, compound_bucket tinyint, \
         produced_at timestamp, id bigint, compound double, \
         PRIMARY KEY ((minute), sentimental_analysis, compound_bucket, produced_at, id)) \
         WITH CLUSTERING ORDER BY (sentimental_analysis ASC, compound_bucket ASC, produced_at DESC, id ASC) \
         AND default_time_to_live = {TIME_TO_LIVE_SECONDS} AND gc_grace_seconds = 10800 \
         AND compaction = {{'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 1}}",
        companion.cql()
    )
}

fn insert_cql(companion: &TableName) -> String {
    format!(
        "INSERT INTO {} (minute, sentimental_analysis, compound_bucket, produced_at, id, compound) VALUES (?, ?, ?, ?, ?, ?)",
        companion.cql()
    )
}

/// Companion rows per batch. Every batch holds one minute's partition: a
/// single-partition unlogged batch is one mutation for Cassandra, far cheaper
/// than as many single-row inserts (see BENCHMARKS.md). 64 rows stay under
/// Cassandra's batch size warning (5 KiB).
pub(super) const COMPANION_BATCH_ROWS: usize = 64;

/// Writes the companion cells of the rows the sink writes.
pub(super) struct Companion {
    insert: PreparedStatement,
}

impl Companion {
    /// The batches that write the cells of `rows`: one partition each, at
    /// most [`COMPANION_BATCH_ROWS`] rows, with their values.
    pub(super) fn batches<'a>(
        &self,
        rows: &[&'a ScoredRecord],
    ) -> Vec<(Batch, Vec<CompanionValues<'a>>)> {
        let mut by_minute: std::collections::BTreeMap<i64, Vec<CompanionValues<'a>>> =
            std::collections::BTreeMap::new();
        for row in rows {
            let values = companion_values(row);
            by_minute.entry(values.0.0).or_default().push(values);
        }
        let mut batches = Vec::new();
        for (_, cells) in by_minute {
            for chunk in cells.chunks(COMPANION_BATCH_ROWS) {
                let mut batch = Batch::new(BatchType::Unlogged);
                for _ in chunk {
                    batch.append_statement(self.insert.clone());
                }
                // The same cells whenever it is sent again.
                batch.set_is_idempotent(true);
                batches.push((batch, chunk.to_vec()));
            }
        }
        batches
    }
}

/// The companion writer, when the companion table exists; `None` (said at
/// info level) when it does not.
pub(super) async fn prepare_companion(
    session: &Session,
    table: &TableName,
) -> anyhow::Result<Option<Companion>> {
    let Some(companion) = companion_of(table) else {
        tracing::info!(
            "table name {table} is too long for a companion table: the dashboard's sentiment over time will be empty"
        );
        return Ok(None);
    };
    if read_columns(session, &companion).await?.is_empty() {
        tracing::info!(
            "table {companion} does not exist (the table was made before it, or by the original stack): \
             writing rows without it; the dashboard's sentiment over time stays empty until `sentiflow setup` creates it"
        );
        return Ok(None);
    }
    let mut insert = session
        .prepare(insert_cql(&companion))
        .await
        .map_err(|error| {
            anyhow!(
                "preparing the insert into {companion}: {}",
                one_line(&error.to_string())
            )
        })?;
    insert.set_is_idempotent(true);
    tracing::info!("also writing each row to {companion} (the dashboard's sentiment over time)");
    Ok(Some(Companion { insert }))
}

/// The companion cell of `row`: every value comes from the message and its scores.
pub(super) type CompanionValues<'a> = (CqlTimestamp, &'a str, i8, CqlTimestamp, i64, f64);

fn companion_values(row: &ScoredRecord) -> CompanionValues<'_> {
    let produced_at = row.record.produced_at_ms;
    (
        CqlTimestamp(view::minute_of(produced_at)),
        row.label.as_str(),
        view::compound_bucket(row.scores.compound) as i8,
        CqlTimestamp(produced_at),
        row.record.id,
        row.scores.compound,
    )
}

/// The compound buckets a label's rows can fall in (labels split at ±0.05).
fn buckets_of(label: &str) -> std::ops::RangeInclusive<usize> {
    match label {
        "negative" => 0..=9,
        "neutral" => 9..=10,
        _ => 10..=COMPOUND_BUCKETS - 1,
    }
}

/// Reads what the dashboard shows from Cassandra: counts per minute and the
/// latest rows, from the companion table; sentences from the main table.
pub struct Dashboard {
    session: Session,
    companion: Option<TableName>,
    minute: Option<PreparedStatement>,
    latest: Option<PreparedStatement>,
    sentence: PreparedStatement,
    id_is_int: bool,
}

/// How long one dashboard read may take.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

impl Dashboard {
    /// Connects (a session of its own) and prepares the reads. A missing
    /// companion table is not an error: the sentiment panels say so.
    pub async fn open(options: &CassandraOptions) -> anyhow::Result<Dashboard> {
        let table = options.table_name()?;
        let session = connect(options).await?;
        let columns = read_columns(&session, &table).await?;
        let id_is_int = columns
            .iter()
            .any(|c| c.name == "id" && c.cql_type == "int");
        let prepare = |cql: String| {
            let session = &session;
            async move {
                let mut statement = session.prepare(cql).await.map_err(|error| {
                    anyhow!(
                        "preparing a dashboard read: {}",
                        one_line(&error.to_string())
                    )
                })?;
                statement.set_consistency(Consistency::LocalOne);
                statement.set_request_timeout(Some(READ_TIMEOUT));
                statement.set_is_idempotent(true);
                anyhow::Ok(statement)
            }
        };
        let companion = match companion_of(&table) {
            Some(companion) if !read_columns(&session, &companion).await?.is_empty() => {
                Some(companion)
            }
            _ => None,
        };
        let (minute, latest) = match &companion {
            Some(companion) => (
                Some(
                    prepare(format!(
                        "SELECT sentimental_analysis, compound_bucket, count(*) FROM {} WHERE minute = ? \
                         GROUP BY sentimental_analysis, compound_bucket",
                        companion.cql()
                    ))
                    .await?,
                ),
                Some(
                    prepare(format!(
                        "SELECT id, compound, produced_at FROM {} WHERE minute = ? AND sentimental_analysis = ? \
                         AND compound_bucket = ? LIMIT ?",
                        companion.cql()
                    ))
                    .await?,
                ),
            ),
            None => (None, None),
        };
        let sentence =
            prepare(format!("SELECT sentence FROM {} WHERE id = ?", table.cql())).await?;
        Ok(Dashboard {
            session,
            companion,
            minute,
            latest,
            sentence,
            id_is_int,
        })
    }

    /// The companion table, when it exists.
    pub fn companion(&self) -> Option<&TableName> {
        self.companion.as_ref()
    }

    /// Rows produced in the minute starting at `minute_ms`, by label and bucket.
    pub async fn minute(&self, minute_ms: i64) -> anyhow::Result<MinuteMix> {
        let mut mix = MinuteMix::new(minute_ms);
        let Some(statement) = &self.minute else {
            return Ok(mix);
        };
        let result = self
            .session
            .execute_unpaged(statement, (CqlTimestamp(minute_ms),))
            .await
            .map_err(|error| {
                anyhow!("counting rows per minute: {}", one_line(&error.to_string()))
            })?;
        let rows = result.into_rows_result()?;
        for row in rows.rows::<(String, i8, i64)>()? {
            let (label, bucket, count) = row?;
            mix.add(&label, bucket.max(0) as usize, count.max(0) as u64);
        }
        Ok(mix)
    }

    /// Up to `limit` of the newest rows of `label` produced in the minute
    /// starting at `minute_ms`, newest first, with their sentences.
    pub async fn latest(
        &self,
        minute_ms: i64,
        label: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<RowView>> {
        let Some(statement) = &self.latest else {
            return Ok(Vec::new());
        };
        let reads = buckets_of(label).map(|bucket| {
            self.session.execute_unpaged(
                statement,
                (CqlTimestamp(minute_ms), label, bucket as i8, limit as i32),
            )
        });
        let mut rows = Vec::new();
        for result in join_all(reads).await {
            let result = result.map_err(|error| {
                anyhow!("reading the latest rows: {}", one_line(&error.to_string()))
            })?;
            for row in result
                .into_rows_result()?
                .rows::<(i64, f64, CqlTimestamp)>()?
            {
                let (id, compound, produced_at) = row?;
                rows.push(RowView {
                    id,
                    sentence: None,
                    label: label.to_owned(),
                    compound: Some(compound),
                    produced_at_ms: Some(produced_at.0),
                });
            }
        }
        rows.sort_by(|a, b| {
            b.produced_at_ms
                .cmp(&a.produced_at_ms)
                .then(b.id.cmp(&a.id))
        });
        rows.truncate(limit);
        self.fill_sentences(&mut rows).await;
        Ok(rows)
    }

    /// Point reads of the main table for each row's sentence.
    async fn fill_sentences(&self, rows: &mut [RowView]) {
        let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
        let reads = ids.into_iter().map(|id| async move {
            let result = if self.id_is_int {
                let Ok(id) = i32::try_from(id) else {
                    return None;
                };
                self.session.execute_unpaged(&self.sentence, (id,)).await
            } else {
                self.session.execute_unpaged(&self.sentence, (id,)).await
            };
            let rows = result.ok()?.into_rows_result().ok()?;
            let (sentence,) = rows.maybe_first_row::<(Option<String>,)>().ok()??;
            sentence
        });
        let sentences = join_all(reads).await;
        for (row, sentence) in rows.iter_mut().zip(sentences) {
            row.sentence = sentence;
        }
    }

    /// Whether Cassandra answers, within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        ping(&self.session, timeout).await
    }
}

/// Asks the node for its version, within `timeout`: the readiness probe.
pub async fn ping(session: &Session, timeout: Duration) -> Result<(), String> {
    let mut statement =
        scylla::statement::Statement::new("SELECT release_version FROM system.local");
    statement.set_consistency(Consistency::LocalOne);
    statement.set_request_timeout(Some(timeout));
    match tokio::time::timeout(timeout, session.query_unpaged(statement, ())).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(format!(
            "Cassandra does not answer: {}",
            one_line(&error.to_string())
        )),
        Err(_) => Err(format!("Cassandra does not answer within {timeout:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_companion_table_is_keyed_by_minute_and_clustered_for_the_queries() {
        let table = TableName::new("spark_streaming", "sentimental_analysis").unwrap();
        let companion = companion_of(&table).unwrap();
        assert_eq!(
            companion.to_string(),
            "spark_streaming.sentimental_analysis_by_minute"
        );
        let cql = create_companion_cql(&companion);
        assert!(
            cql.contains(
                "PRIMARY KEY ((minute), sentimental_analysis, compound_bucket, produced_at, id)"
            ),
            "{cql}"
        );
        assert!(cql.contains("produced_at DESC"), "{cql}");
        let long = TableName::new("k", &"t".repeat(45)).unwrap();
        assert_eq!(companion_of(&long), None);
    }

    #[test]
    fn each_label_reads_the_buckets_its_scores_fall_in() {
        for step in 0..=2000 {
            let compound = -1.0 + step as f64 / 1000.0;
            let label = vader::label(compound).as_str();
            assert!(
                buckets_of(label).contains(&view::compound_bucket(compound)),
                "{compound} {label}"
            );
        }
    }
}
