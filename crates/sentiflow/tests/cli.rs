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
