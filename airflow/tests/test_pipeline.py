"""End to end: `airflow dags test` runs the DAGs against the real Kafka and Cassandra.

The tests run in file order and build on each other, as a deployment's history would:
a first run in batch mode creates the schema; then long-running processors take over;
the same logical date again adds nothing; another one adds new ids; the daily report
sees both batches; with the processors gone the sensor times out; with Cassandra gone
the sensor fails after its retries; and no log holds the password.
"""

from __future__ import annotations

import datetime as dt
import json

from support import HOME, free_port, ids_of, seed_of, stored_rows

COUNT = 200
D1 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
D2 = D1 + dt.timedelta(hours=1)
D3 = D1 + dt.timedelta(hours=2)
D5 = D1 + dt.timedelta(hours=4)  # D4 belongs to test_standalone.py
D6 = D1 + dt.timedelta(hours=5)
PIPELINE_TASKS = {"setup", "produce", "process_batch", "wait_processed", "verify"}


def states(result) -> dict[str, str]:
    return {task: state for task, (state, _) in result.tasks().items()}


def explain(result) -> str:
    return f"airflow dags test {result.dag_id}: exit {result.returncode}, run {result.state}\n{result.output[-4000:]}"


def report_of(result) -> dict:
    lines = [line for line in result.output.splitlines() if line.startswith("sentiflow report json: ")]
    assert len(lines) == 1, explain(result)
    return json.loads(lines[0].removeprefix("sentiflow report json: "))


def test_first_run_in_batch_mode_creates_the_schema_and_stores_every_id(airflow, names):
    result = airflow.dags_test(
        "sentiflow_pipeline",
        names.env(),
        D1.isoformat(),
        {"count": COUNT, "processing": "batch", "style": "lorem"},
    )
    assert result.returncode == 0, explain(result)
    assert result.state == "success"
    assert states(result) == dict.fromkeys(PIPELINE_TASKS, "success")
    # setup really created the topic and the keyspace (this session's names are new).
    assert f"created topic {names.topic}:" in result.output
    assert f"created keyspace {names.keyspace}" in result.output
    # The independent check: cqlsh finds exactly this run's ids.
    assert set(stored_rows(names)) == ids_of(seed_of(D1), COUNT)


def test_same_logical_date_again_rewrites_the_same_rows_through_the_processors(airflow, names, processors):
    before = stored_rows(names)
    processors.start(2)
    result = airflow.dags_test("sentiflow_pipeline", names.env(), D1.isoformat(), {"count": COUNT, "style": "lorem"})
    assert result.returncode == 0, explain(result)
    assert states(result) == {**dict.fromkeys(PIPELINE_TASKS, "success"), "process_batch": "skipped"}
    assert f"kafka: topic {names.topic} already exists" in result.output  # setup is idempotent
    after = stored_rows(names)
    assert set(after) == set(before) == ids_of(seed_of(D1), COUNT)  # no new rows
    # ...but every row was written again, by the long-running processors.
    assert all(after[i] > before[i] for i in after), "some rows were not rewritten by the second run"


def test_another_logical_date_adds_new_ids_that_collide_with_none(airflow, names, processors):
    result = airflow.dags_test("sentiflow_pipeline", names.env(), D2.isoformat(), {"count": COUNT})
    assert result.returncode == 0, explain(result)
    assert states(result)["verify"] == "success"
    first, second = ids_of(seed_of(D1), COUNT), ids_of(seed_of(D2), COUNT)
    assert not first & second
    assert set(stored_rows(names)) == first | second


def test_daily_report_lists_the_landed_batches_lag_and_dead_letters(airflow, names, processors):
    result = airflow.dags_test("sentiflow_daily_report", names.env(), conf={"max_lag": 0, "max_dead_letters": 0})
    assert result.returncode == 0, explain(result)
    report = report_of(result)
    # Three verified runs, two of them the same batch (D1 retried): two batches, counted once each.
    assert report["events"] == 3
    assert [(b["seed"], b["count"], b["verified"]) for b in report["batches"]] == [
        (seed_of(D1), COUNT, 2),
        (seed_of(D2), COUNT, 1),
    ]
    assert report["sentences"] == 2 * COUNT
    assert report["status"]["lag"] == 0
    assert report["status"]["dead_letters"] == 0
    assert report["status"]["rows"] == 2 * COUNT
    assert report["status"]["table"] == f"{names.keyspace}.sentimental_analysis"


def test_processors_stop_cleanly_on_sigterm(processors):
    assert processors.stop() == [0, 0]


def test_without_processors_the_sensor_times_out_and_says_what_to_do(airflow, names):
    env = {**names.env(), "SENTIFLOW_DAG_WAIT_TIMEOUT": "4"}
    result = airflow.dags_test("sentiflow_pipeline", env, D3.isoformat(), {"count": 50})
    assert result.returncode == 1, explain(result)
    assert result.state == "failed"
    tasks = result.tasks()
    assert tasks["produce"][0] == "success"
    # A sensor timeout is final: no retry.
    assert tasks["wait_processed"] == ("failed", 1)
    assert tasks["verify"][0] == "upstream_failed"
    assert "Sensor has timed out" in result.output
    assert f"The processors did not catch up: group {names.group} on topic {names.topic}: lag 50" in result.output
    assert "start `sentiflow process`" in result.output and "processing=batch" in result.output


def test_daily_report_fails_when_the_lag_is_above_max_lag(airflow, names):
    result = airflow.dags_test("sentiflow_daily_report", names.env(), conf={"max_lag": 10})
    assert result.returncode == 1, explain(result)
    tasks = result.tasks()
    assert tasks["pipeline_status"][0] == "success"
    assert tasks["report"] == ("failed", 1)  # a crossed threshold is not retried
    assert "consumer lag 50 is above max_lag 10" in result.output


def test_with_cassandra_unreachable_the_sensor_fails_after_its_retries(airflow, names):
    # Cassandra "stopped": the Connection points at a 127.0.0.1 port where nothing listens,
    # which is exactly what a stopped node looks like to a client (connection refused).
    # The shared Cassandra other tests use keeps running. setup=false: the schema exists
    # and Cassandra went away afterwards, so the run gets as far as the sensor.
    dead = free_port()
    result = airflow.dags_test(
        "sentiflow_pipeline", names.env(cassandra_port=dead), D5.isoformat(), {"count": 20, "setup": False}
    )
    assert result.returncode == 1, explain(result)
    assert result.state == "failed"
    tasks = result.tasks()
    assert tasks["setup"][0] == "skipped"
    assert tasks["produce"][0] == "success"  # Kafka is fine
    assert tasks["wait_processed"] == ("failed", 2)  # SENTIFLOW_DAG_RETRIES=1: two tries
    assert tasks["verify"][0] == "upstream_failed"
    # What failed, where the setting came from, and what to do.
    assert result.output.count(f"cannot reach Cassandra at 127.0.0.1:{dead} (connection refused)") >= 2
    assert (
        f"port {dead} (connection sentiflow_cassandra); fix the Airflow connection sentiflow_cassandra" in result.output
    )


def test_with_cassandra_unreachable_and_default_params_setup_fails_first(airflow, names):
    # The same simulated outage (see above), with the default Params: setup needs Cassandra
    # too, so it fails after its retries and nothing is produced.
    dead = free_port()
    result = airflow.dags_test("sentiflow_pipeline", names.env(cassandra_port=dead), D6.isoformat(), {"count": 20})
    assert result.returncode == 1, explain(result)
    tasks = result.tasks()
    assert tasks["setup"] == ("failed", 2)
    assert {task: state for task, (state, _) in tasks.items() if task != "setup"} == dict.fromkeys(
        PIPELINE_TASKS - {"setup"}, "upstream_failed"
    )
    assert f"sentiflow setup failed (exit code 1): error: cannot reach Cassandra at 127.0.0.1:{dead}" in result.output
    assert "What to do: Cassandra settings come from" in result.output


def test_no_task_log_holds_the_password(airflow, names):
    logs = list(airflow.outputs) + [p for p in (HOME / "logs").rglob("*") if p.is_file()]
    assert len(airflow.outputs) >= 8, "the runs above did not all happen"
    text = "\n".join(p.read_text(errors="replace") for p in logs)
    # The logs are the ones of these runs: they name the role that logged in with the password.
    assert f"as {names.role} (password set)" in text
    assert names.role_password not in text
