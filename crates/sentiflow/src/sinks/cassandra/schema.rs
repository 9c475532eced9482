//! Our table, what an existing table offers, and the commands that read the
//! table as a whole: `setup`, `stored_ids`, `count_rows`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use futures_util::TryStreamExt as _;
use scylla::client::session::Session;
use scylla::errors::{DbError, ExecutionError, PrepareError, RequestAttemptError};
use scylla::statement::Consistency;
use scylla::statement::prepared::PreparedStatement;

use super::connect::{connect, one_line};
use super::options::{CassandraOptions, TableName};

/// A column sentiflow knows how to fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Column {
    Id,
    Sentence,
    Label,
    Compound,
    Pos,
    Neu,
    Neg,
    ProducedAt,
    ProcessedAt,
    SourcePartition,
    SourceOffset,
}

impl Column {
    /// Every column of our table, in the order `setup` creates them.
    pub(super) const ALL: [Column; 11] = [
        Column::Id,
        Column::Sentence,
        Column::Label,
        Column::Compound,
        Column::Pos,
        Column::Neu,
        Column::Neg,
        Column::ProducedAt,
        Column::ProcessedAt,
        Column::SourcePartition,
        Column::SourceOffset,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Sentence => "sentence",
            Column::Label => "sentimental_analysis",
            Column::Compound => "compound",
            Column::Pos => "pos",
            Column::Neu => "neu",
            Column::Neg => "neg",
            Column::ProducedAt => "produced_at",
            Column::ProcessedAt => "processed_at",
            Column::SourcePartition => "source_partition",
            Column::SourceOffset => "source_offset",
        }
    }

    /// The CQL type `setup` gives the column.
    fn cql_type(self) -> &'static str {
        match self {
            Column::Id | Column::SourceOffset => "bigint",
            Column::Sentence | Column::Label => "text",
            Column::Compound | Column::Pos | Column::Neu | Column::Neg => "double",
            Column::ProducedAt | Column::ProcessedAt => "timestamp",
            Column::SourcePartition => "int",
        }
    }

    /// The original stack's table has only these; a table without them is not ours.
    fn required(self) -> bool {
        matches!(self, Column::Id | Column::Sentence | Column::Label)
    }

    fn accepts(self, cql_type: &str) -> bool {
        match self {
            // The original README creates `id int`; ours is bigint.
            Column::Id => cql_type == "int" || cql_type == "bigint",
            _ => cql_type == self.cql_type(),
        }
    }
}

/// One row of `system_schema.columns`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct ExistingColumn {
    pub name: String,
    /// `partition_key`, `clustering`, `regular` or `static`.
    pub kind: String,
    pub cql_type: String,
}

/// What sentiflow can write into an existing table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Inspection {
    /// Our columns the table has with a type we can write, in `Column::ALL` order.
    pub columns: Vec<Column>,
    /// The id column is `int` (the original README's table), not `bigint`.
    pub id_is_int: bool,
    /// Our optional columns the table lacks: their values are not stored.
    pub missing: Vec<Column>,
    /// Why the sink cannot write into this table at all; empty when it can.
    pub problems: Vec<String>,
}

impl Inspection {
    pub(super) fn of(table: &TableName, existing: &[ExistingColumn]) -> Inspection {
        let mut inspection = Inspection {
            columns: Vec::new(),
            id_is_int: false,
            missing: Vec::new(),
            problems: Vec::new(),
        };
        for column in Column::ALL {
            let found = existing.iter().find(|c| c.name == column.name());
            match found {
                Some(found) if column.accepts(&found.cql_type) => {
                    inspection.columns.push(column);
                    if column == Column::Id {
                        inspection.id_is_int = found.cql_type == "int";
                    }
                }
                Some(found) => inspection.problems.push(format!(
                    "column {table}.{} is {}, but sentiflow writes {}; fix the column or use another --table",
                    column.name(),
                    found.cql_type,
                    if column == Column::Id {
                        "int or bigint"
                    } else {
                        column.cql_type()
                    },
                )),
                None if column.required() => inspection.problems.push(format!(
                    "table {table} has no column {} ({}), which sentiflow needs (id, sentence and sentimental_analysis); use another --table, or let `sentiflow setup` create one",
                    column.name(),
                    column.cql_type()
                )),
                None => inspection.missing.push(column),
            }
        }
        let key: Vec<&str> = existing
            .iter()
            .filter(|c| c.kind == "partition_key" || c.kind == "clustering")
            .map(|c| c.name.as_str())
            .collect();
        if existing.iter().any(|c| c.name == "id") && key != ["id"] {
            inspection.problems.push(format!(
                "the primary key of {table} must be id alone, but it is ({}); use another --table",
                key.join(", ")
            ));
        }
        inspection
    }

    /// The upsert for exactly the columns this table has.
    pub(super) fn insert_cql(&self, table: &TableName) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name()).collect();
        let markers = vec!["?"; names.len()].join(", ");
        format!(
            "INSERT INTO {} ({}) VALUES ({markers})",
            table.cql(),
            names.join(", ")
        )
    }

    /// Human-readable notes on a usable table that is not exactly ours.
    fn notes(&self, table: &TableName) -> Vec<String> {
        let mut notes = Vec::new();
        if self.id_is_int {
            notes.push(format!(
                "column {table}.id is int, not bigint: rows whose id does not fit 32 bits will go to the dead-letter topic"
            ));
        }
        if !self.missing.is_empty() {
            let names: Vec<&str> = self.missing.iter().map(|c| c.name()).collect();
            notes.push(format!(
                "table {table} lacks the columns {}: their values will not be stored",
                names.join(", ")
            ));
        }
        notes
    }
}

/// The `CREATE TABLE` of our schema.
fn create_table_cql(table: &TableName) -> String {
    let columns: Vec<String> = Column::ALL
        .iter()
        .map(|&column| {
            let key = if column == Column::Id {
                " PRIMARY KEY"
            } else {
                ""
            };
            format!("{} {}{key}", column.name(), column.cql_type())
        })
        .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {} ({})",
        table.cql(),
        columns.join(", ")
    )
}

fn create_keyspace_cql(table: &TableName, replication_factor: u32) -> String {
    format!(
        "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': {replication_factor}}}",
        table.keyspace_cql()
    )
}

/// Prepares a statement with a message that says which one and why it failed.
async fn prepare(session: &Session, cql: String, doing: &str) -> anyhow::Result<PreparedStatement> {
    session
        .prepare(cql)
        .await
        .map_err(|error| anyhow!("{doing}: {}", describe_prepare(&error)))
}

fn describe_prepare(error: &PrepareError) -> String {
    match error {
        PrepareError::AllAttemptsFailed { first_attempt } => describe_attempt(first_attempt),
        other => one_line(&other.to_string()),
    }
}

fn describe_attempt(error: &RequestAttemptError) -> String {
    match error {
        RequestAttemptError::DbError(DbError::Unauthorized, message) => format!(
            "permission denied ({}); grant the user the permission, or run this as a user who has it",
            one_line(message)
        ),
        RequestAttemptError::DbError(db_error, message) => {
            format!(
                "{} ({})",
                one_line(message),
                one_line(&db_error.to_string())
            )
        }
        other => one_line(&other.to_string()),
    }
}

fn describe_execution(error: &ExecutionError) -> String {
    match error {
        ExecutionError::LastAttemptError(attempt) => describe_attempt(attempt),
        ExecutionError::PrepareError(prepare) => describe_prepare(prepare),
        other => one_line(&other.to_string()),
    }
}

/// Reads system schema tables at LOCAL_ONE: they are node-local anyway.
async fn prepare_schema_query(session: &Session, cql: &str) -> anyhow::Result<PreparedStatement> {
    let mut statement = prepare(session, cql.to_owned(), "reading Cassandra's schema").await?;
    statement.set_consistency(Consistency::LocalOne);
    Ok(statement)
}

/// The table's columns, or nothing when it does not exist.
pub(super) async fn read_columns(
    session: &Session,
    table: &TableName,
) -> anyhow::Result<Vec<ExistingColumn>> {
    let select = prepare_schema_query(
        session,
        "SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
    )
    .await?;
    let result = session
        .execute_unpaged(&select, (table.keyspace(), table.table()))
        .await
        .map_err(|error| {
            anyhow!(
                "reading the columns of {table}: {}",
                describe_execution(&error)
            )
        })?;
    let rows = result
        .into_rows_result()
        .with_context(|| format!("reading the columns of {table}"))?;
    rows.rows::<(String, String, String)>()
        .with_context(|| format!("reading the columns of {table}"))?
        .map(|row| {
            let (name, kind, cql_type) =
                row.with_context(|| format!("reading the columns of {table}"))?;
            Ok(ExistingColumn {
                name,
                kind,
                cql_type,
            })
        })
        .collect()
}

/// The keyspace's replication settings, or `None` when it does not exist.
async fn read_replication(
    session: &Session,
    table: &TableName,
) -> anyhow::Result<Option<BTreeMap<String, String>>> {
    let select = prepare_schema_query(
        session,
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
    )
    .await?;
    let keyspace = table.keyspace();
    let result = session
        .execute_unpaged(&select, (keyspace,))
        .await
        .map_err(|error| {
            anyhow!(
                "reading the settings of keyspace {keyspace}: {}",
                describe_execution(&error)
            )
        })?;
    let rows = result
        .into_rows_result()
        .with_context(|| format!("reading the settings of keyspace {keyspace}"))?;
    let first = rows
        .maybe_first_row::<(BTreeMap<String, String>,)>()
        .with_context(|| format!("reading the settings of keyspace {keyspace}"))?;
    Ok(first.map(|(replication,)| replication))
}

/// The table as the sink will write it, or a one-line error saying why it cannot.
pub(super) async fn require_table(
    session: &Session,
    table: &TableName,
) -> anyhow::Result<Inspection> {
    let existing = read_columns(session, table).await?;
    if existing.is_empty() {
        if read_replication(session, table).await?.is_none() {
            bail!(
                "keyspace {} does not exist; run `sentiflow setup` (or set --keyspace)",
                table.keyspace()
            );
        }
        bail!("table {table} does not exist; run `sentiflow setup` (or set --table)");
    }
    let inspection = Inspection::of(table, &existing);
    if !inspection.problems.is_empty() {
        bail!("{}", inspection.problems.join("; "));
    }
    Ok(inspection)
}

/// Whether `setup` created something or found it there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creation {
    Created,
    AlreadyExisted,
}

/// What `setup` did and found, for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupReport {
    /// The keyspace name.
    pub keyspace: String,
    /// `keyspace.table`.
    pub table: String,
    pub keyspace_creation: Creation,
    pub table_creation: Creation,
    /// The dashboard's companion table (`keyspace.table_by_minute`) and whether
    /// it was created; `None` when the table's name is too long to have one.
    pub companion: Option<(String, Creation)>,
    /// Harmless differences from what was asked (replication of an existing
    /// keyspace, columns an existing table lacks, an `int` id) and warnings
    /// from Cassandra, one line each.
    pub differences: Vec<String>,
    /// Reasons the sink will refuse the existing table (`process` would fail);
    /// a caller should exit non-zero when this is not empty.
    pub problems: Vec<String>,
}

impl SetupReport {
    /// Every line of the report, in order.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            match self.keyspace_creation {
                Creation::Created => format!("created keyspace {}", self.keyspace),
                Creation::AlreadyExisted => format!("keyspace {} already exists", self.keyspace),
            },
            match self.table_creation {
                Creation::Created => format!("created table {}", self.table),
                Creation::AlreadyExisted => format!("table {} already exists", self.table),
            },
        ];
        if let Some((companion, creation)) = &self.companion {
            lines.push(match creation {
                Creation::Created => {
                    format!("created table {companion} (the dashboard's sentiment per minute)")
                }
                Creation::AlreadyExisted => format!("table {companion} already exists"),
            });
        }
        lines.extend(self.differences.iter().cloned());
        lines.extend(
            self.problems
                .iter()
                .map(|problem| format!("error: {problem}")),
        );
        lines
    }
}

impl fmt::Display for SetupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

/// Schema changes wait for every node to agree: give them more time than a write.
fn ddl_timeout(options: &CassandraOptions) -> Duration {
    options.request_timeout.max(Duration::from_secs(60))
}

/// Runs one prepared DDL statement; returns Cassandra's warnings.
async fn run_ddl(
    session: &Session,
    options: &CassandraOptions,
    cql: String,
    doing: &str,
) -> anyhow::Result<Vec<String>> {
    let mut statement = prepare(session, cql, doing).await?;
    statement.set_request_timeout(Some(ddl_timeout(options)));
    let result = session
        .execute_unpaged(&statement, ())
        .await
        .map_err(|error| anyhow!("{doing}: {}", describe_execution(&error)))?;
    Ok(result
        .warnings()
        .map(|warning| format!("Cassandra warns: {}", one_line(warning)))
        .collect())
}

/// Creates the keyspace (SimpleStrategy, `replication_factor`) and our table
/// unless they exist, and reports what it did and how existing ones differ.
/// Statements are idempotent: running it twice, or from two places at once, is safe.
pub async fn setup(
    options: &CassandraOptions,
    replication_factor: u32,
) -> anyhow::Result<SetupReport> {
    if replication_factor == 0 {
        bail!("the Cassandra replication factor must be at least 1 (set --cassandra-rf)");
    }
    let table = options.table_name()?;
    let session = connect(options).await?;
    let mut report = SetupReport {
        keyspace: table.keyspace().to_owned(),
        table: table.to_string(),
        keyspace_creation: Creation::AlreadyExisted,
        table_creation: Creation::AlreadyExisted,
        companion: None,
        differences: Vec::new(),
        problems: Vec::new(),
    };

    match read_replication(&session, &table).await? {
        Some(replication) => {
            if let Some(difference) =
                replication_difference(&table, &replication, replication_factor)
            {
                report.differences.push(difference);
            }
        }
        None => {
            let doing = format!("creating keyspace {}", table.keyspace());
            let warnings = run_ddl(
                &session,
                options,
                create_keyspace_cql(&table, replication_factor),
                &doing,
            )
            .await?;
            report.differences.extend(warnings);
            report.keyspace_creation = Creation::Created;
        }
    }

    let existing = read_columns(&session, &table).await?;
    if existing.is_empty() {
        let doing = format!("creating table {table}");
        let warnings = run_ddl(&session, options, create_table_cql(&table), &doing).await?;
        report.differences.extend(warnings);
        report.table_creation = Creation::Created;
    } else {
        let inspection = Inspection::of(&table, &existing);
        report.differences.extend(inspection.notes(&table));
        report.problems = inspection.problems;
    }
    if let Some(companion) = super::dashboard::companion_of(&table) {
        let creation = if read_columns(&session, &companion).await?.is_empty() {
            let doing = format!("creating table {companion}");
            let cql = super::dashboard::create_companion_cql(&companion);
            report
                .differences
                .extend(run_ddl(&session, options, cql, &doing).await?);
            Creation::Created
        } else {
            Creation::AlreadyExisted
        };
        report.companion = Some((companion.to_string(), creation));
    }
    Ok(report)
}

/// A line saying how an existing keyspace's replication differs from the one asked, if it does.
fn replication_difference(
    table: &TableName,
    replication: &BTreeMap<String, String>,
    asked: u32,
) -> Option<String> {
    let class = replication.get("class").map(String::as_str).unwrap_or("?");
    let short_class = class.rsplit('.').next().unwrap_or(class);
    let factor = replication.get("replication_factor");
    if short_class == "SimpleStrategy" && factor.is_some_and(|f| f.parse() == Ok(asked)) {
        return None;
    }
    let settings: Vec<String> = replication
        .iter()
        .filter(|(key, _)| key.as_str() != "class")
        .map(|(key, value)| format!("{key} {value}"))
        .collect();
    Some(format!(
        "keyspace {} has {short_class} with {}, not SimpleStrategy with replication_factor {asked} as asked; left unchanged (ALTER KEYSPACE changes it)",
        table.keyspace(),
        settings.join(", ")
    ))
}

/// How many rows the table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowCount {
    pub rows: u64,
    /// False when `rows` is an estimate (the table was too large to count in time).
    pub exact: bool,
}

impl fmt::Display for RowCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exact {
            write!(f, "{}", self.rows)
        } else {
            write!(f, "about {} (estimate)", self.rows)
        }
    }
}

/// Rows fetched per page when scanning the table.
const SCAN_PAGE_SIZE: i32 = 5000;

/// How long `count_rows` counts before it settles for an estimate.
const COUNT_BUDGET: Duration = Duration::from_secs(3);

/// Scans every id of the table, in token order, calling `visit` for each.
async fn scan_ids(
    session: &Session,
    table: &TableName,
    mut visit: impl FnMut(i64),
) -> anyhow::Result<()> {
    require_table(session, table).await?;
    // The cast reads the original README's `id int` and our `id bigint` alike.
    let mut select = prepare(
        session,
        format!("SELECT CAST(id AS bigint) FROM {}", table.cql()),
        &format!("reading the ids of {table}"),
    )
    .await?;
    select.set_page_size(SCAN_PAGE_SIZE);
    select.set_is_idempotent(true);
    let mut rows = session
        .execute_iter(select, ())
        .await
        .map_err(|error| {
            anyhow!(
                "reading the ids of {table}: {}",
                one_line(&error.to_string())
            )
        })?
        .rows_stream::<(i64,)>()
        .with_context(|| format!("reading the ids of {table}"))?;
    while let Some((id,)) = rows.try_next().await.map_err(|error| {
        anyhow!(
            "reading the ids of {table}: {}",
            one_line(&error.to_string())
        )
    })? {
        visit(id);
    }
    Ok(())
}

/// Every id stored in the table, sorted, by a full paged scan at the
/// configured consistency (for `sentiflow verify` and tests).
pub async fn stored_ids(options: &CassandraOptions) -> anyhow::Result<Vec<i64>> {
    let table = options.table_name()?;
    let session = connect(options).await?;
    let mut ids = Vec::new();
    scan_ids(&session, &table, |id| ids.push(id)).await?;
    ids.sort_unstable();
    Ok(ids)
}

/// The number of rows: exact when a scan finishes within a few seconds,
/// otherwise an estimate flagged as such (for `sentiflow status`).
pub async fn count_rows(options: &CassandraOptions) -> anyhow::Result<RowCount> {
    count_rows_within(options, COUNT_BUDGET).await
}

/// [`count_rows`] with an explicit time budget for the exact count.
pub async fn count_rows_within(
    options: &CassandraOptions,
    budget: Duration,
) -> anyhow::Result<RowCount> {
    let table = options.table_name()?;
    let session = connect(options).await?;
    let mut seen = 0u64;
    let scan = scan_ids(&session, &table, |_| seen += 1);
    match tokio::time::timeout(budget, scan).await {
        Ok(done) => {
            done?;
            Ok(RowCount {
                rows: seen,
                exact: true,
            })
        }
        Err(_) => {
            // The node's own estimate lags by minutes: never report less than we counted.
            let estimate = size_estimate(&session, &table).await.unwrap_or(0);
            Ok(RowCount {
                rows: seen.max(estimate),
                exact: false,
            })
        }
    }
}

/// Cassandra's partition count estimate for the table, from the coordinator's
/// `system.size_estimates` (refreshed every few minutes; one row per partition here).
async fn size_estimate(session: &Session, table: &TableName) -> anyhow::Result<u64> {
    let select = prepare_schema_query(
        session,
        "SELECT partitions_count FROM system.size_estimates WHERE keyspace_name = ? AND table_name = ?",
    )
    .await?;
    let result = session
        .execute_unpaged(&select, (table.keyspace(), table.table()))
        .await?;
    let rows = result.into_rows_result()?;
    let mut total = 0u64;
    for row in rows.rows::<(i64,)>()? {
        let (count,) = row?;
        total += u64::try_from(count).unwrap_or(0);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> TableName {
        TableName::new("spark_streaming", "sentimental_analysis").unwrap()
    }

    fn column(name: &str, kind: &str, cql_type: &str) -> ExistingColumn {
        ExistingColumn {
            name: name.into(),
            kind: kind.into(),
            cql_type: cql_type.into(),
        }
    }

    /// The table as `CREATE TABLE` of our schema leaves it in system_schema.columns.
    fn ours() -> Vec<ExistingColumn> {
        Column::ALL
            .iter()
            .map(|c| {
                let kind = if *c == Column::Id {
                    "partition_key"
                } else {
                    "regular"
                };
                column(c.name(), kind, c.cql_type())
            })
            .collect()
    }

    #[test]
    fn our_own_table_is_written_whole() {
        let inspection = Inspection::of(&table(), &ours());
        assert_eq!(inspection.columns, Column::ALL);
        assert!(!inspection.id_is_int);
        assert!(inspection.missing.is_empty() && inspection.problems.is_empty());
        assert_eq!(
            inspection.insert_cql(&table()),
            "INSERT INTO \"spark_streaming\".\"sentimental_analysis\" (id, sentence, sentimental_analysis, compound, pos, neu, neg, produced_at, processed_at, source_partition, source_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        assert!(inspection.notes(&table()).is_empty());
    }

    #[test]
    fn the_original_readme_table_gets_three_columns_and_an_int_id() {
        let readme = [
            column("id", "partition_key", "int"),
            column("sentence", "regular", "text"),
            column("sentimental_analysis", "regular", "text"),
        ];
        let inspection = Inspection::of(&table(), &readme);
        assert_eq!(
            inspection.columns,
            [Column::Id, Column::Sentence, Column::Label]
        );
        assert!(inspection.id_is_int);
        assert_eq!(inspection.missing.len(), 8);
        assert!(inspection.problems.is_empty(), "{:?}", inspection.problems);
        assert_eq!(
            inspection.insert_cql(&table()),
            "INSERT INTO \"spark_streaming\".\"sentimental_analysis\" (id, sentence, sentimental_analysis) VALUES (?, ?, ?)"
        );
        let notes = inspection.notes(&table()).join("\n");
        assert!(notes.contains("id is int"), "{notes}");
        assert!(
            notes.contains("lacks the columns compound, pos, neu, neg"),
            "{notes}"
        );
    }

    #[test]
    fn tables_we_cannot_write_are_explained() {
        let mut wrong = ours();
        wrong.retain(|c| c.name != "sentence");
        wrong
            .iter_mut()
            .find(|c| c.name == "compound")
            .unwrap()
            .cql_type = "float".into();
        wrong.push(column("bucket", "clustering", "int"));
        let problems = Inspection::of(&table(), &wrong).problems.join("\n");
        assert!(
            problems.contains("has no column sentence (text)"),
            "{problems}"
        );
        assert!(
            problems.contains("column spark_streaming.sentimental_analysis.compound is float, but sentiflow writes double"),
            "{problems}"
        );
        assert!(problems.contains("primary key of spark_streaming.sentimental_analysis must be id alone, but it is (id, bucket)"), "{problems}");

        let text_id = [
            column("id", "partition_key", "text"),
            column("sentence", "regular", "text"),
            column("sentimental_analysis", "regular", "text"),
        ];
        let problems = Inspection::of(&table(), &text_id).problems.join("\n");
        assert!(
            problems.contains("id is text, but sentiflow writes int or bigint"),
            "{problems}"
        );
    }

    #[test]
    fn schema_statements_quote_validated_names() {
        assert_eq!(
            create_table_cql(&table()),
            "CREATE TABLE IF NOT EXISTS \"spark_streaming\".\"sentimental_analysis\" (id bigint PRIMARY KEY, sentence text, sentimental_analysis text, compound double, pos double, neu double, neg double, produced_at timestamp, processed_at timestamp, source_partition int, source_offset bigint)"
        );
        assert_eq!(
            create_keyspace_cql(&table(), 3),
            "CREATE KEYSPACE IF NOT EXISTS \"spark_streaming\" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}"
        );
    }

    #[test]
    fn replication_differences_are_reported_only_when_they_exist() {
        let simple = |rf: &str| {
            BTreeMap::from([
                (
                    "class".to_owned(),
                    "org.apache.cassandra.locator.SimpleStrategy".to_owned(),
                ),
                ("replication_factor".to_owned(), rf.to_owned()),
            ])
        };
        assert_eq!(replication_difference(&table(), &simple("1"), 1), None);
        let line = replication_difference(&table(), &simple("3"), 1).unwrap();
        assert_eq!(
            line,
            "keyspace spark_streaming has SimpleStrategy with replication_factor 3, not SimpleStrategy with replication_factor 1 as asked; left unchanged (ALTER KEYSPACE changes it)"
        );
        let nts = BTreeMap::from([
            (
                "class".to_owned(),
                "org.apache.cassandra.locator.NetworkTopologyStrategy".to_owned(),
            ),
            ("dc1".to_owned(), "1".to_owned()),
        ]);
        let line = replication_difference(&table(), &nts, 1).unwrap();
        assert!(
            line.starts_with(
                "keyspace spark_streaming has NetworkTopologyStrategy with dc1 1, not"
            ),
            "{line}"
        );
    }

    #[test]
    fn estimates_say_so() {
        assert_eq!(
            RowCount {
                rows: 12,
                exact: true
            }
            .to_string(),
            "12"
        );
        assert_eq!(
            RowCount {
                rows: 12,
                exact: false
            }
            .to_string(),
            "about 12 (estimate)"
        );
    }
}
