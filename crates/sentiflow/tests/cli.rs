use crate::util::*;

#[test]
fn a_bad_flag_value_is_one_line_that_says_where_to_look() {
    let out = output(sentiflow().args(["run", "--count", "many"]));
    let err = one_line_error(&out, 2);
    assert!(
        err.contains("--count") && err.contains("sentiflow run --help"),
        "{err}"
    );
}

#[test]
fn a_seed_too_large_for_the_id_space_is_refused() {
    let out = output(sentiflow().args(["run", "--count", "1", "--seed", "999999999999"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--seed"), "{}", stderr(&out));
}

#[test]
fn settings_come_from_the_environment_and_env_files_with_flags_winning() {
    let dir = temp_dir();
    // secrets.env says 40 rows into a.db; the environment says b.db; the flag says 25 rows.
    std::fs::write(
        dir.path().join("secrets.env"),
        "SENTIFLOW_COUNT=40\nSENTIFLOW_DB=a.db\n",
    )
    .unwrap();
    let out = output(
        sentiflow()
            .current_dir(dir.path())
            .env("SENTIFLOW_DB", "b.db")
            .args(["run", "--json"]),
    );
    assert_success(&out);
    assert!(
        !dir.path().join("a.db").exists(),
        "the environment must win over secrets.env"
    );
    assert_eq!(count_rows(&dir.path().join("b.db")), 40);

    let out = output(
        sentiflow()
            .current_dir(dir.path())
            .args(["run", "--json", "--count", "25", "--seed", "4"]),
    );
    assert_success(&out);
    assert_eq!(count_rows(&dir.path().join("a.db")), 25);
}

#[test]
fn an_unreadable_env_file_is_an_error_that_does_not_print_its_content() {
    let dir = temp_dir();
    std::fs::write(
        dir.path().join("secrets.env"),
        "CASSANDRA_PASSWORD='hunter2\n",
    )
    .unwrap();
    let out = output(sentiflow().current_dir(dir.path()).args(["score", "ok"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("secrets.env"), "{err}");
    assert!(!err.contains("hunter2"), "the secret leaked: {err}");
}

/// Every numeric flag of every command, set to values that break naive
/// parsing: each run ends in a one-line usage error (2), a one-line error
/// about the unreachable services (1) or a normal run (0), never a panic.
#[test]
fn every_numeric_flag_survives_hostile_values() {
    let dir = temp_dir();
    let db = dir.path().join("flags.db");
    let db = db.to_str().unwrap();
    // Nothing listens on port 1: commands that accept their flags fail fast, in one line.
    let kafka = ["--brokers", "127.0.0.1:1"];
    let cassandra = ["--cassandra", "127.0.0.1:1"];
    let commands: Vec<(&str, Vec<&str>, Vec<&str>)> = vec![
        (
            "run",
            vec!["--db", db, "--count", "50", "--json"],
            vec!["--count", "--rate", "--seed", "--batch-size"],
        ),
        (
            "produce",
            [&kafka[..], &["--count", "5"]].concat(),
            vec!["--count", "--rate", "--seed"],
        ),
        (
            "process",
            [&kafka[..], &cassandra[..]].concat(),
            vec![
                "--exit-when-idle",
                "--drain-timeout",
                "--pause-after",
                "--batch-size",
                "--max-in-flight-batches",
                "--cassandra-concurrency",
                "--max-sentence-bytes",
                "--cassandra-port",
            ],
        ),
        (
            "setup",
            [&kafka[..], &cassandra[..]].concat(),
            vec![
                "--partitions",
                "--replication-factor",
                "--max-message-bytes",
                "--flush-messages",
                "--min-insync-replicas",
                "--cassandra-rf",
            ],
        ),
        (
            "status",
            [&kafka[..], &cassandra[..]].concat(),
            vec!["--cassandra-port"],
        ),
        (
            "verify",
            cassandra.to_vec(),
            vec!["--seed", "--count", "--cassandra-port"],
        ),
    ];
    let values = ["-1", "0", "nan", "inf", "1e30"];
    std::thread::scope(|scope| {
        let mut runs = Vec::new();
        for (command, base, flags) in &commands {
            for flag in flags {
                for value in values {
                    let mut args = vec![*command];
                    args.extend(base.iter().copied());
                    args.extend([*flag, value]);
                    runs.push(
                        scope.spawn(move || (args.join(" "), output(sentiflow().args(&args)))),
                    );
                }
            }
        }
        for run in runs {
            let (args, out) = run.join().unwrap();
            let err = stderr(&out);
            assert!(
                !err.contains("panicked"),
                "sentiflow {args} panicked:\n{err}"
            );
            match out.status.code() {
                Some(0) => {}
                Some(1 | 2) => assert_eq!(
                    err.trim_end().lines().count(),
                    1,
                    "sentiflow {args}: one line expected, got:\n{err}"
                ),
                other => panic!("sentiflow {args} ended with {other:?}:\n{err}"),
            }
        }
    });
}

#[test]
fn consistency_any_is_refused_for_writes_with_the_reason() {
    let out = output(sentiflow().args(["process", "--consistency", "any"]));
    let err = one_line_error(&out, 2);
    assert!(
        err.contains("hint") && err.contains("local-quorum"),
        "{err}"
    );
    let out = output(sentiflow().args(["process", "--consistency", "sometimes"]));
    let err = one_line_error(&out, 2);
    assert!(err.contains("expected one of one,"), "{err}");
    assert!(!err.contains("any"), "{err}");
}

#[test]
fn boolean_settings_from_the_environment_take_one_and_yes_too() {
    let dir = temp_dir();
    for value in ["1", "yes", "true", "on"] {
        let out = output(
            sentiflow()
                .current_dir(dir.path())
                .env("SENTIFLOW_JSON", value)
                .args(["run", "--count", "3"]),
        );
        assert_success(&out);
        let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|_| panic!("SENTIFLOW_JSON={value} did not give JSON"));
        assert_eq!(summary["rows_written"], 3);
    }
}

#[test]
fn an_unknown_command_points_at_the_general_help() {
    let out = output(sentiflow().args(["frobnicate"]));
    let err = one_line_error(&out, 2);
    assert!(err.contains("`sentiflow --help`"), "{err}");
}
