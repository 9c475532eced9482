use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test, with no sentiflow settings inherited from the environment.
pub fn sentiflow() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sentiflow"));
    for (name, _) in std::env::vars() {
        if name.starts_with("SENTIFLOW_") {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null());
    command
}

/// Runs `command` to the end and returns its output.
pub fn output(command: &mut Command) -> Output {
    command.output().expect("cannot start sentiflow")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Fails with both streams when the command did not succeed.
pub fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "sentiflow failed with {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Asserts the command failed with `code` and said why in exactly one line;
/// returns that line.
pub fn one_line_error(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr:\n{err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected, got:\n{err}"
    );
    err
}

/// A fresh directory removed at the end of the test.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sentiflow-test-")
        .tempdir()
        .expect("cannot create a temp dir")
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("rows.db")
}

/// `sentiflow run --json ...` to completion; returns its summary.
pub fn run_embedded(db: &Path, args: &[&str]) -> serde_json::Value {
    let out = output(
        sentiflow()
            .arg("run")
            .arg("--json")
            .arg("--db")
            .arg(db)
            .args(args),
    );
    assert_success(&out);
    serde_json::from_str(stdout(&out).trim()).expect("run --json prints one JSON object")
}

pub fn open_db(db: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("cannot open the db")
}

pub fn count_rows(db: &Path) -> i64 {
    open_db(db)
        .query_row("SELECT count(*) FROM sentimental_analysis", [], |row| {
            row.get(0)
        })
        .expect("cannot count rows")
}

/// The rows of a database another process is still creating: `None` until
/// the file and its table exist.
pub fn rows_so_far(db: &Path) -> Option<i64> {
    let connection =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .ok()?;
    connection
        .query_row("SELECT count(*) FROM sentimental_analysis", [], |row| {
            row.get(0)
        })
        .ok()
}

/// Polls `condition` until it holds or `timeout` passes; false on timeout.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}
