use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use crate::util::*;

/// Every row of the table, by id: (sentence, label, compound, pos, neu, neg).
fn rows(db: &std::path::Path) -> HashMap<i64, (String, String, f64, f64, f64, f64)> {
    let connection = open_db(db);
    let mut statement = connection
        .prepare("SELECT id, sentence, sentimental_analysis, compound, pos, neu, neg FROM sentimental_analysis")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((
                row.get(0)?,
                (
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get(5)?,
                    row.get(6)?,
                ),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn expected_label(compound: f64) -> &'static str {
    if compound >= 0.05 {
        "positive"
    } else if compound <= -0.05 {
        "negative"
    } else {
        "neutral"
    }
}

#[test]
fn n_sentences_in_n_rows_out_with_labels_from_the_compound() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    let summary = run_embedded(&db, &["--count", "5000", "--seed", "3"]);
    assert_eq!(summary["ending"], "completed");
    assert_eq!(summary["rows_written"], 5000);

    let rows = rows(&db);
    assert_eq!(rows.len(), 5000);
    let mut per_label: HashMap<&str, u64> = HashMap::new();
    for (id, (sentence, label, compound, pos, neu, neg)) in &rows {
        assert!(!sentence.is_empty(), "row {id} has an empty sentence");
        assert_eq!(
            label,
            expected_label(*compound),
            "row {id}: {sentence:?} compound {compound}"
        );
        let scores = vader::polarity_scores(sentence);
        assert_eq!(
            (scores.compound, scores.pos, scores.neu, scores.neg),
            (*compound, *pos, *neu, *neg),
            "row {id}"
        );
        *per_label.entry(expected_label(*compound)).or_default() += 1;
    }
    for label in ["positive", "negative", "neutral"] {
        assert_eq!(summary[label], per_label[label], "summary count of {label}");
    }
    // The same seed's ids are dense from seed * 10^10.
    let min = rows.keys().min().unwrap();
    assert_eq!(*min, 3 * 10_000_000_000);
}

#[test]
fn running_the_same_seed_again_rewrites_the_same_rows() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    run_embedded(&db, &["--count", "3000", "--seed", "9"]);
    let first = rows(&db);
    let summary = run_embedded(&db, &["--count", "3000", "--seed", "9"]);
    assert_eq!(summary["rows_written"], 3000);
    assert_eq!(
        rows(&db),
        first,
        "a re-run with the same seed must leave the same rows"
    );
}

#[test]
fn another_seed_adds_rows_without_touching_earlier_ones() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    run_embedded(&db, &["--count", "2000", "--seed", "1"]);
    let first = rows(&db);
    run_embedded(&db, &["--count", "2500", "--seed", "2", "--style", "lorem"]);
    let both = rows(&db);
    assert_eq!(both.len(), 4500);
    for (id, row) in &first {
        assert_eq!(both.get(id), Some(row), "row {id} of seed 1 changed");
    }
}

#[test]
fn sigterm_mid_run_leaves_complete_rows_and_an_honest_summary() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    // No --count: it runs until told to stop. A rate keeps it mid-run for a while.
    let child = sentiflow()
        .args(["run", "--json", "--rate", "20000", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = wait_until(Duration::from_secs(30), || {
        // The file exists a moment before its table does.
        rows_so_far(&db).is_some_and(|rows| rows >= 2000)
    });
    assert!(started, "no rows appeared within 30 s");

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_success(&out);
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["ending"], "interrupted");

    let rows = rows(&db);
    assert_eq!(
        summary["rows_written"],
        rows.len() as u64,
        "the summary must count exactly the rows stored"
    );
    // Rows are written whole batches at a time, in generation order: no gaps.
    let max = *rows.keys().max().unwrap();
    assert_eq!(
        max + 1,
        rows.len() as i64,
        "ids 0..{max} must all be present"
    );
    for (id, (sentence, label, compound, ..)) in &rows {
        assert!(!sentence.is_empty(), "row {id} is incomplete");
        assert_eq!(label, expected_label(*compound));
    }
}

#[test]
fn rate_limits_how_fast_sentences_are_generated() {
    let dir = temp_dir();
    let db = db_path(dir.path());
    let before_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let summary = run_embedded(&db, &["--count", "300", "--rate", "1000"]);
    assert_eq!(summary["rows_written"], 300);
    // The generator stamps each batch when it releases it, and releases the
    // last one no earlier than 0.3 s after it started (300 at 1000/s), which
    // is after `before_ms`: a lower bound that a busy machine cannot break
    // (a late wake-up only delays a release; it can bring two closer).
    let last: i64 = open_db(&db)
        .query_row(
            "SELECT max(produced_at) FROM sentimental_analysis",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(
        last - before_ms >= 295,
        "300 sentences at 1000/s were all released {} ms after the command started",
        last - before_ms
    );
}

#[test]
fn a_missing_db_directory_is_one_line_naming_the_path() {
    let dir = temp_dir();
    let db = dir.path().join("no/such/dir/rows.db");
    let out = output(sentiflow().args(["run", "--count", "10", "--db"]).arg(&db));
    let err = one_line_error(&out, 1);
    assert!(
        err.contains(&db.display().to_string()),
        "the path is missing from: {err}"
    );
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn a_db_that_is_not_sqlite_is_one_line_naming_the_path() {
    let dir = temp_dir();
    let db = dir.path().join("notes.txt");
    std::fs::write(
        &db,
        "these are not the rows you are looking for\n".repeat(100),
    )
    .unwrap();
    let out = output(sentiflow().args(["run", "--count", "10", "--db"]).arg(&db));
    let err = one_line_error(&out, 1);
    assert!(
        err.contains(&db.display().to_string()) && err.contains("not a SQLite database"),
        "{err}"
    );
}

#[test]
fn a_db_in_a_directory_without_write_permission_is_one_line_naming_the_path() {
    let dir = temp_dir();
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let db = locked.join("rows.db");
    let mut command = sentiflow();
    if is_root() {
        // Root ignores permissions: run the binary as an unprivileged user instead.
        // Its test dir must be reachable by that user, only the target dir is locked.
        make_world_readable(dir.path());
        command = std::process::Command::new("setpriv");
        command.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_sentiflow"),
        ]);
    }
    set_mode(&locked, 0o555);
    let out = output(command.args(["run", "--count", "10", "--db"]).arg(&db));
    set_mode(&locked, 0o755);
    let err = one_line_error(&out, 1);
    assert!(err.contains(&db.display().to_string()), "{err}");
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Opens the way from / to `dir` for other users (temp dirs are 0700).
fn make_world_readable(dir: &std::path::Path) {
    set_mode(dir, 0o755);
}
