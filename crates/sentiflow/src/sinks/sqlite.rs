//! The embedded sink: one SQLite file, one upsert per row, one transaction per batch.
//!
//! Only this file knows SQL. A batch is committed as one transaction, so a
//! crash or Ctrl-C leaves whole batches or nothing: every row present is complete.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::anyhow;
use rusqlite::{Connection, ErrorCode, OpenFlags, params};

use crate::pipeline::{DeadLetterFailure, DeadLetterSink, Sink, WriteError, WriteOutcome};
use crate::record::{DeadLetter, ScoredRecord};
use crate::sinks::view::{
    self, DeadLetterView, DeadLettersView, MinuteMix, PREVIEW_BYTES, RowView,
};

/// The table every row lands in (the same name as the Cassandra table).
pub const TABLE: &str = "sentimental_analysis";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sentimental_analysis (
    id                   INTEGER PRIMARY KEY,
    sentence             TEXT    NOT NULL,
    -- (`IN (...)` here would build a temporary index for every row: 30% slower.)
    sentimental_analysis TEXT    NOT NULL CHECK (sentimental_analysis = 'positive'
                                  OR sentimental_analysis = 'negative' OR sentimental_analysis = 'neutral'),
    compound             REAL    NOT NULL,
    pos                  REAL    NOT NULL,
    neu                  REAL    NOT NULL,
    neg                  REAL    NOT NULL,
    produced_at          INTEGER NOT NULL, -- epoch milliseconds
    processed_at         INTEGER NOT NULL  -- epoch milliseconds
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    key         BLOB,
    payload     BLOB    NOT NULL,
    reason      TEXT    NOT NULL,
    stage       TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL, -- epoch milliseconds
    code        TEXT              -- the reason as a fixed code (invalid_json, too_large, ...)
);
";

/// Databases made before `dead_letters.code` existed get the column.
const ADD_CODE_COLUMN: &str = "ALTER TABLE dead_letters ADD COLUMN code TEXT";

const UPSERT: &str = "
INSERT INTO sentimental_analysis
    (id, sentence, sentimental_analysis, compound, pos, neu, neg, produced_at, processed_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (id) DO UPDATE SET
    sentence = excluded.sentence,
    sentimental_analysis = excluded.sentimental_analysis,
    compound = excluded.compound, pos = excluded.pos, neu = excluded.neu, neg = excluded.neg,
    produced_at = excluded.produced_at,
    processed_at = excluded.processed_at";

const INSERT_DEAD_LETTER: &str = "INSERT INTO dead_letters (key, payload, reason, stage, recorded_at, code) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Errors opening the database, worded for the person who typed the path.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "cannot create the database {path}: directory {dir} does not exist (create it, or pass another --db)"
    )]
    MissingDirectory { path: PathBuf, dir: PathBuf },
    #[error(
        "cannot open the database {path}: {cause} (check that the path is a writable file, or pass another --db)"
    )]
    Open { path: PathBuf, cause: String },
}

/// A SQLite database file holding the scored rows and dead letters.
pub struct SqliteSink {
    connection: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteSink {
    /// Opens (or creates) the database and its tables.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(OpenError::MissingDirectory {
                path: path.to_path_buf(),
                dir,
            });
        }
        let open_error = |error: rusqlite::Error| OpenError::Open {
            path: path.to_path_buf(),
            cause: describe(&error),
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(open_error)?;
        // WAL + NORMAL: a committed batch survives a crash of this process, and
        // writers never block readers (look at the data while it runs).
        connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
            .and_then(|_| connection.execute_batch(SCHEMA))
            .and_then(|_| add_code_column(&connection))
            .map_err(open_error)?;
        Ok(SqliteSink {
            connection: Mutex::new(connection),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_rows(&self, rows: &[ScoredRecord]) -> rusqlite::Result<()> {
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let transaction = connection.transaction()?;
        {
            let mut upsert = transaction.prepare_cached(UPSERT)?;
            for row in rows {
                let record = &row.record;
                upsert.execute(params![
                    record.id,
                    &*record.sentence,
                    row.label.as_str(),
                    row.scores.compound,
                    row.scores.pos,
                    row.scores.neu,
                    row.scores.neg,
                    record.produced_at_ms,
                    row.processed_at_ms,
                ])?;
            }
        }
        transaction.commit()
    }

    fn write_dead_letters(&self, letters: &[DeadLetter]) -> rusqlite::Result<()> {
        let mut connection = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let transaction = connection.transaction()?;
        {
            let mut insert = transaction.prepare_cached(INSERT_DEAD_LETTER)?;
            let now = crate::record::now_ms();
            for letter in letters {
                let original = &letter.original;
                insert.execute(params![
                    original.key.as_deref(),
                    original.value.as_deref().unwrap_or_default(),
                    letter.reason,
                    letter.stage.as_str(),
                    now,
                    letter.code.as_str(),
                ])?;
            }
        }
        transaction.commit()
    }
}

impl Sink for SqliteSink {
    async fn write<'a>(&'a self, rows: &'a [ScoredRecord]) -> Result<WriteOutcome, WriteError> {
        // SQLite is a blocking library: tell the runtime this worker is busy.
        tokio::task::block_in_place(|| self.write_rows(rows))
            .map_err(|error| classify(&self.path, error))?;
        Ok(WriteOutcome::default())
    }
}

impl DeadLetterSink for SqliteSink {
    /// One transaction: every letter is stored, or none.
    async fn send<'a>(&'a self, letters: &'a [DeadLetter]) -> Result<(), DeadLetterFailure> {
        tokio::task::block_in_place(|| self.write_dead_letters(letters))
            .map_err(|error| DeadLetterFailure::all(letters.len(), classify(&self.path, error)))
    }
}

fn add_code_column(connection: &Connection) -> rusqlite::Result<()> {
    let has_code: bool = connection.query_row(
        "SELECT count(*) FROM pragma_table_info('dead_letters') WHERE name = 'code'",
        [],
        |row| row.get(0),
    )?;
    if !has_code {
        connection.execute_batch(ADD_CODE_COLUMN)?;
    }
    Ok(())
}

/// The dashboard's read-only view of a database written by [`SqliteSink`]:
/// its own connection, so reads never wait for the writer (WAL).
pub struct DashboardReader {
    connection: Mutex<Connection>,
    path: PathBuf,
}

/// Everything the dashboard shows from the database, read at one moment.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct DatabaseView {
    /// Whether the rows per label below were counted.
    pub counted: bool,
    /// Rows in the table, by label.
    pub positive: u64,
    pub negative: u64,
    pub neutral: u64,
    /// Rows produced in each minute of the window that has any, oldest first.
    pub minutes: Vec<MinuteMix>,
    /// The latest rows (by `produced_at`), newest first, and the same per label.
    pub latest: Vec<RowView>,
    pub latest_by_label: Vec<(String, Vec<RowView>)>,
    pub dead_letters: DeadLettersView,
}

/// The dashboard's index: sentiment per minute, the compound distribution and
/// the latest rows are all answered from it alone (no table lookups). It costs
/// every write (see BENCHMARKS.md), so only the dashboard creates it, when it
/// opens a database (`run --ui`, `serve --db`); `run` alone never does.
pub const DASHBOARD_INDEX: &str = "sentimental_analysis_by_produced_at";

const CREATE_DASHBOARD_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS sentimental_analysis_by_produced_at
    ON sentimental_analysis (produced_at, sentimental_analysis, compound)";

const MINUTES: &str = "
SELECT produced_at / 60000 * 60000, sentimental_analysis,
       min(20, max(0, CAST((compound + 1.0) * 10.0 AS INTEGER))), count(*)
FROM sentimental_analysis
WHERE produced_at >= ?1
GROUP BY 1, 2, 3";

const LATEST: &str = "
SELECT id, sentence, sentimental_analysis, compound, produced_at
FROM sentimental_analysis
ORDER BY produced_at DESC, id DESC LIMIT ?1";

const LATEST_OF_LABEL: &str = "
SELECT id, sentence, sentimental_analysis, compound, produced_at
FROM sentimental_analysis
WHERE sentimental_analysis = ?1
ORDER BY produced_at DESC, id DESC LIMIT ?2";

impl DashboardReader {
    /// Opens an existing database read-only.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let open_error = |error: rusqlite::Error| OpenError::Open {
            path: path.to_path_buf(),
            cause: describe(&error),
        };
        if !path.is_file() {
            return Err(OpenError::Open {
                path: path.to_path_buf(),
                cause: "no such file (write one with `sentiflow run --db PATH`)".into(),
            });
        }
        ensure_dashboard_index(path);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(open_error)?;
        connection
            .execute_batch("PRAGMA busy_timeout = 5000;")
            .map_err(open_error)?;
        let has_table: bool = connection
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [TABLE],
                |row| row.get(0),
            )
            .map_err(open_error)?;
        if !has_table {
            return Err(OpenError::Open {
                path: path.to_path_buf(),
                cause: format!("it has no table {TABLE} (was it written by `sentiflow run`?)"),
            });
        }
        Ok(DashboardReader {
            connection: Mutex::new(connection),
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the view: minutes from `since_ms` on, `latest` rows (overall and per label)
    /// and dead letters, and with `totals` the rows per label (a scan of the
    /// whole index: skipped when a running pipeline counts them itself).
    /// Blocking: call it off the async threads.
    pub fn read(&self, since_ms: i64, latest: usize, totals: bool) -> anyhow::Result<DatabaseView> {
        let connection = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let fail = |error: rusqlite::Error| {
            anyhow!("reading {}: {}", self.path.display(), describe(&error))
        };
        // One read transaction: every number comes from the same snapshot.
        connection.execute_batch("BEGIN").map_err(fail)?;
        let result = read_view(&connection, since_ms, latest, totals);
        let _ = connection.execute_batch("COMMIT");
        result.map_err(fail)
    }
}

/// Creates the dashboard's index unless it exists. Without it (a read-only
/// file) the dashboard still works, by scanning the table.
fn ensure_dashboard_index(path: &Path) {
    let create = || -> rusqlite::Result<()> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags)?;
        connection.execute_batch("PRAGMA busy_timeout = 5000;")?;
        let exists: bool = connection.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
            [DASHBOARD_INDEX],
            |row| row.get(0),
        )?;
        if !exists {
            tracing::info!(
                "creating the dashboard's index {DASHBOARD_INDEX} on {} (once; later writes keep it up to date)",
                path.display()
            );
            connection.execute_batch(CREATE_DASHBOARD_INDEX)?;
        }
        Ok(())
    };
    if let Err(error) = create() {
        tracing::warn!(
            "cannot create the dashboard's index on {} ({}): the dashboard will scan the table",
            path.display(),
            describe(&error)
        );
    }
}

fn read_view(
    connection: &Connection,
    since_ms: i64,
    latest: usize,
    totals: bool,
) -> rusqlite::Result<DatabaseView> {
    let mut view = DatabaseView::default();
    if totals {
        let mut labels = connection.prepare_cached(
            "SELECT sentimental_analysis, count(*) FROM sentimental_analysis GROUP BY 1",
        )?;
        let counted = labels.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in counted {
            let (label, count) = row?;
            let count = count.max(0) as u64;
            match label.as_str() {
                "positive" => view.positive = count,
                "negative" => view.negative = count,
                _ => view.neutral += count,
            }
        }
        view.counted = true;
    }
    let mut minutes: std::collections::BTreeMap<i64, MinuteMix> = Default::default();
    let mut statement = connection.prepare_cached(MINUTES)?;
    let rows = statement.query_map([since_ms], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (minute, label, bucket, count) = row?;
        minutes
            .entry(minute)
            .or_insert_with(|| MinuteMix::new(minute))
            .add(&label, bucket.max(0) as usize, count.max(0) as u64);
    }
    view.minutes = minutes.into_values().collect();
    let limit = latest as i64;
    let to_row = |row: &rusqlite::Row<'_>| {
        Ok(RowView {
            id: row.get(0)?,
            sentence: Some(row.get(1)?),
            label: row.get(2)?,
            compound: Some(row.get(3)?),
            produced_at_ms: Some(row.get(4)?),
        })
    };
    view.latest = connection
        .prepare_cached(LATEST)?
        .query_map([limit], to_row)?
        .collect::<rusqlite::Result<_>>()?;
    for label in ["positive", "negative", "neutral"] {
        let rows = connection
            .prepare_cached(LATEST_OF_LABEL)?
            .query_map(params![label, limit], to_row)?
            .collect::<rusqlite::Result<_>>()?;
        view.latest_by_label.push((label.to_owned(), rows));
    }
    view.dead_letters = read_dead_letters(connection, latest)?;
    Ok(view)
}

fn read_dead_letters(connection: &Connection, latest: usize) -> rusqlite::Result<DeadLettersView> {
    let mut view = DeadLettersView::default();
    let mut by_code = connection.prepare_cached(
        "SELECT coalesce(code, 'unknown'), count(*) FROM dead_letters GROUP BY 1 ORDER BY 2 DESC",
    )?;
    for row in by_code.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
    })? {
        let (code, count) = row?;
        view.total += count.max(0) as u64;
        view.by_code.push((code, count.max(0) as u64));
    }
    let mut last = connection.prepare_cached(
        "SELECT recorded_at, code, reason, stage, substr(payload, 1, ?2) FROM dead_letters ORDER BY seq DESC LIMIT ?1",
    )?;
    view.latest = last
        .query_map(params![latest as i64, PREVIEW_BYTES as i64 + 1], |row| {
            Ok(DeadLetterView {
                at_ms: row.get(0)?,
                code: row.get(1)?,
                reason: row.get(2)?,
                stage: row.get(3)?,
                origin: None,
                value_preview: view::preview(&row.get::<_, Vec<u8>>(4)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(view)
}

/// Busy, locked or full databases may recover; anything else will not.
fn classify(path: &Path, error: rusqlite::Error) -> WriteError {
    let message = anyhow!("writing to {}: {}", path.display(), describe(&error));
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::DiskFull) => {
            WriteError::Transient(message)
        }
        _ => WriteError::Fatal(message),
    }
}

/// SQLite's message, with the extended code's meaning where it helps.
fn describe(error: &rusqlite::Error) -> String {
    match error.sqlite_error_code() {
        Some(ErrorCode::CannotOpen) => {
            "cannot open the file (permission denied, or not a regular file)".into()
        }
        Some(ErrorCode::NotADatabase) => "the file exists but is not a SQLite database".into(),
        Some(ErrorCode::ReadOnly) => "the file or its directory is read-only".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Original, ReasonCode, Record, Stage};

    fn scored(id: i64, sentence: &str) -> ScoredRecord {
        let record = Record {
            id,
            sentence: sentence.to_owned().into(),
            produced_at_ms: 1_000 + id,
            origin: None,
            original: None,
        };
        ScoredRecord::score(record, 2_000 + id)
    }

    fn rows(sink: &SqliteSink) -> Vec<(i64, String, String, i64)> {
        let connection = sink.connection.lock().unwrap();
        let mut statement = connection
            .prepare("SELECT id, sentence, sentimental_analysis, processed_at FROM sentimental_analysis ORDER BY id")
            .unwrap();
        statement
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn rows_are_upserted_by_id_so_a_replay_rewrites_the_same_row() {
        let dir = tempfile::tempdir().unwrap();
        let sink = SqliteSink::open(&dir.path().join("t.db")).unwrap();
        sink.write_rows(&[
            scored(1, "I love it"),
            scored(2, "I hate it"),
            scored(3, "It is a table"),
        ])
        .unwrap();
        // The same id again (a replay after a crash, or a new sentence): one row, the latest cells.
        sink.write_rows(&[scored(2, "Great, truly great!")])
            .unwrap();
        let stored = rows(&sink);
        assert_eq!(
            stored,
            vec![
                (1, "I love it".into(), "positive".into(), 2_001),
                (2, "Great, truly great!".into(), "positive".into(), 2_002),
                (3, "It is a table".into(), "neutral".into(), 2_003),
            ]
        );
    }

    #[test]
    fn dead_letters_keep_the_original_bytes_with_reason_stage_and_code() {
        let dir = tempfile::tempdir().unwrap();
        let sink = SqliteSink::open(&dir.path().join("t.db")).unwrap();
        let value: &[u8] = b"\xff\xfe not utf-8 \x00";
        let letter = DeadLetter {
            original: Original {
                key: Some(b"k\x01".to_vec().into()),
                value: Some(value.to_vec().into()),
                headers: Vec::new(),
            },
            code: ReasonCode::InvalidUtf8,
            reason: "the value is not UTF-8".into(),
            stage: Stage::Decode,
            origin: None,
        };
        sink.write_dead_letters(std::slice::from_ref(&letter))
            .unwrap();
        let connection = sink.connection.lock().unwrap();
        let stored: (Vec<u8>, Vec<u8>, String, String, String) = connection
            .query_row(
                "SELECT key, payload, reason, stage, code FROM dead_letters",
                [],
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )
            .unwrap();
        assert_eq!(stored.0, b"k\x01");
        assert_eq!(stored.1, value);
        assert_eq!(stored.2, "the value is not UTF-8");
        assert_eq!(stored.3, Stage::Decode.as_str());
        assert_eq!(stored.4, ReasonCode::InvalidUtf8.as_str());
    }

    #[test]
    fn a_database_made_before_the_code_column_gets_it_and_keeps_its_letters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE dead_letters (seq INTEGER PRIMARY KEY AUTOINCREMENT, key BLOB, payload BLOB NOT NULL,
                 reason TEXT NOT NULL, stage TEXT NOT NULL, recorded_at INTEGER NOT NULL);
                 INSERT INTO dead_letters (payload, reason, stage, recorded_at) VALUES (x'00', 'old', 'decode', 1);",
            )
            .unwrap();
        }
        let sink = SqliteSink::open(&path).unwrap();
        let connection = sink.connection.lock().unwrap();
        let (letters, codes): (i64, i64) = connection
            .query_row(
                "SELECT count(*), count(code) FROM dead_letters",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((letters, codes), (1, 0));
    }

    #[test]
    fn a_busy_locked_or_full_database_is_retried_anything_else_is_fatal() {
        let error = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        let path = Path::new("x.db");
        for transient in [
            rusqlite::ffi::SQLITE_BUSY,
            rusqlite::ffi::SQLITE_LOCKED,
            rusqlite::ffi::SQLITE_FULL,
        ] {
            assert!(matches!(
                classify(path, error(transient)),
                WriteError::Transient(_)
            ));
        }
        for fatal in [
            rusqlite::ffi::SQLITE_READONLY,
            rusqlite::ffi::SQLITE_CORRUPT,
            rusqlite::ffi::SQLITE_CONSTRAINT,
        ] {
            match classify(path, error(fatal)) {
                WriteError::Fatal(message) => {
                    assert!(
                        message.to_string().starts_with("writing to x.db: "),
                        "{message}"
                    )
                }
                other => panic!("{fatal}: {other:?}"),
            }
        }
    }
}
