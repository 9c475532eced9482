"""DAG integrity: both DAGs import in real Airflow, with the shape, schedule and retries promised."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys

import pytest
from support import AIRFLOW, DAGS, FOREIGN_ENV, run, seed_of

SERVICE_TASKS = {"setup", "produce", "process_batch", "wait_processed", "verify"}


@pytest.fixture()
def production_knobs(monkeypatch):
    """Parse the DAGs as a deployment would: none of the tests' shortened knobs."""
    import os

    for name in list(os.environ):
        if name.startswith(FOREIGN_ENV):
            monkeypatch.delenv(name)


def bundle(folder):
    """Parse a folder as Airflow's dag processor does (a bundle: its root is importable)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=folder, bundle_path=folder)


@pytest.fixture()
def dags(airflow_db, production_knobs):
    bag = bundle(DAGS)
    assert bag.import_errors == {}, bag.import_errors
    return bag


def test_dag_files_import_without_errors(dags):
    assert sorted(dags.dag_ids) == ["sentiflow_daily_report", "sentiflow_pipeline"]


def test_the_import_check_reports_a_broken_dag_file(airflow_db, production_knobs, tmp_path):
    folder = tmp_path / "dags"
    shutil.copytree(DAGS, folder)
    (folder / "broken_dag.py").write_text("from airflow.sdk import dag\nimport no_such_module_anywhere\n")
    bag = bundle(folder)
    assert [p.rsplit("/", 1)[-1] for p in bag.import_errors] == ["broken_dag.py"]
    assert "no_such_module_anywhere" in next(iter(bag.import_errors.values()))
    assert sorted(bag.dag_ids) == ["sentiflow_daily_report", "sentiflow_pipeline"]


def cli_json(*args):
    """An airflow command's `-o json` output (its stdout also carries warnings, before it)."""
    import os

    out = run([AIRFLOW, *args, "-o", "json"], env=dict(os.environ)).stdout
    return json.loads(next(line for line in reversed(out.splitlines()) if line.startswith(("[", "{"))))


def test_airflow_lists_no_import_errors(airflow_db, production_knobs):
    import os

    run([AIRFLOW, "dags", "reserialize"], env=dict(os.environ))
    assert {d["dag_id"] for d in cli_json("dags", "list")} == {"sentiflow_pipeline", "sentiflow_daily_report"}
    assert cli_json("dags", "list-import-errors") == []


def test_pipeline_runs_its_tasks_in_order_and_publishes_the_asset(dags):
    dag = dags.get_dag("sentiflow_pipeline")
    assert {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} == {
        "setup": [],
        "produce": ["setup"],
        "process_batch": ["produce"],
        "wait_processed": ["process_batch"],
        "verify": ["produce", "wait_processed"],  # produce: the batch's seed and count (XCom)
    }
    # Skipped setup (Param setup=false) or process_batch (processing=service) must not stop the run.
    for task_id in ("produce", "process_batch", "wait_processed"):
        assert dag.get_task(task_id).trigger_rule == "none_failed"
    assert [a.name for a in dag.get_task("verify").outlets] == ["sentiflow_sentiment_rows"]
    for task in dag.tasks:
        if task.task_id != "verify":
            assert task.outlets == []


def test_pipeline_is_scheduled_hourly_without_catchup_or_overlap(dags):
    dag = dags.get_dag("sentiflow_pipeline")
    assert dag.schedule == "@hourly"
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.dagrun_timeout == dt.timedelta(hours=2)
    assert dag.start_date.tzinfo is not None


def test_every_pipeline_task_retries_with_backoff(dags):
    dag = dags.get_dag("sentiflow_pipeline")
    assert {t.task_id for t in dag.tasks} == SERVICE_TASKS
    for task in dag.tasks:
        assert task.retries == 3, task.task_id
        assert task.retry_delay == dt.timedelta(seconds=30), task.task_id
        assert task.retry_exponential_backoff == 2.0, task.task_id
        assert task.max_retry_delay == dt.timedelta(minutes=10), task.task_id


def test_the_wait_is_a_rescheduling_sensor_with_a_timeout(dags):
    sensor = dags.get_dag("sentiflow_pipeline").get_task("wait_processed")
    assert sensor.mode == "reschedule"
    assert sensor.poke_interval == 30
    assert sensor.timeout == 1800
    assert sensor.max_lag == "{{ params.max_lag }}"


def test_pipeline_params_and_their_defaults(dags):
    params = dags.get_dag("sentiflow_pipeline").params
    assert {k: params[k] for k in params} == {
        "count": 1000,
        "rate": None,
        "style": "review",
        "processing": "service",
        "setup": True,
        "max_lag": 0,
        "seed": None,
    }
    assert params.get_param("style").schema["enum"] == ["review", "lorem"]
    assert params.get_param("processing").schema["enum"] == ["service", "batch"]
    assert params.get_param("seed").schema["maximum"] == 899_999_999


def test_knobs_reshape_the_dag(airflow_db, production_knobs, monkeypatch):
    monkeypatch.setenv("SENTIFLOW_DAG_SCHEDULE", "*/10 * * * *")
    monkeypatch.setenv("SENTIFLOW_DAG_RETRIES", "5")
    monkeypatch.setenv("SENTIFLOW_DAG_WAIT_TIMEOUT", "60")
    dag = bundle(DAGS).get_dag("sentiflow_pipeline")
    assert dag.schedule == "*/10 * * * *"
    assert {t.retries for t in dag.tasks} == {5}
    assert dag.get_task("wait_processed").timeout == 60
    monkeypatch.setenv("SENTIFLOW_DAG_SCHEDULE", "none")
    assert bundle(DAGS).get_dag("sentiflow_pipeline").schedule is None


def test_report_reads_the_asset_daily(dags):
    dag = dags.get_dag("sentiflow_daily_report")
    assert dag.schedule == "@daily"
    assert dag.catchup is False
    assert {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks} == {
        "landed_batches": [],
        "pipeline_status": [],
        "report": ["landed_batches", "pipeline_status"],
    }
    assert [a.name for a in dag.get_task("landed_batches").inlets] == ["sentiflow_sentiment_rows"]
    assert dag.get_task("pipeline_status").retries == 3


# ---------------------------------------------------------------------------- the seed rule
@pytest.fixture()
def common(airflow_db):
    sys.path.insert(0, str(DAGS))
    try:
        import sentiflow_common

        yield sentiflow_common
    finally:
        sys.path.remove(str(DAGS))


UTC = dt.UTC


def test_seed_is_minutes_since_2020(common):
    assert common.seed_for(dt.datetime(2020, 1, 1, 0, 1, tzinfo=UTC)) == 1
    for when in (dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC), dt.datetime(2031, 7, 9, 23, 59, 59, tzinfo=UTC)):
        assert common.seed_for(when) == seed_of(when)
    # The same instant in another time zone is the same run.
    paris = dt.timezone(dt.timedelta(hours=1))
    assert common.seed_for(dt.datetime(2026, 3, 1, 11, 0, tzinfo=paris)) == seed_of(
        dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    )


def test_each_minute_has_its_own_seed_and_a_retry_keeps_it(common):
    hour = dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert common.seed_for(hour) == common.seed_for(hour)
    assert common.seed_for(hour + dt.timedelta(seconds=59)) == common.seed_for(hour)
    assert common.seed_for(hour + dt.timedelta(minutes=1)) == common.seed_for(hour) + 1
    hourly = [common.seed_for(hour + dt.timedelta(hours=h)) for h in range(24 * 366)]
    assert len(set(hourly)) == len(hourly)


def test_seeds_outside_the_range_are_refused(common):
    with pytest.raises(ValueError, match="outside 1..899999999"):
        common.seed_for(dt.datetime(2020, 1, 1, 0, 0, 59, tzinfo=UTC))
    last = common.SEED_EPOCH + dt.timedelta(minutes=899_999_999)
    assert common.seed_for(last) == 899_999_999
    with pytest.raises(ValueError, match="outside"):
        common.seed_for(last + dt.timedelta(minutes=1))
    with pytest.raises(ValueError, match="no time zone"):
        common.seed_for(dt.datetime(2026, 3, 1, 10, 0))


def test_run_seed_prefers_the_param_then_the_logical_date_then_run_after(common):
    from airflow.sdk.exceptions import AirflowFailException

    when = dt.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

    class Run:
        run_after = dt.datetime(2026, 3, 2, 8, 30, tzinfo=UTC)

    assert common.run_seed({"params": {"seed": 42}, "logical_date": when}) == (42, "the seed Param")
    assert common.run_seed({"params": {"seed": None}, "logical_date": when})[0] == seed_of(when)
    seed, why = common.run_seed({"params": {"seed": None}, "logical_date": None, "dag_run": Run()})
    assert (seed, why.split(" ")[0]) == (seed_of(Run.run_after), "run_after")
    with pytest.raises(AirflowFailException, match="outside"):
        common.run_seed({"params": {"seed": None}, "logical_date": dt.datetime(2019, 12, 31, tzinfo=UTC)})
