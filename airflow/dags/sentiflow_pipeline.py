"""sentiflow_pipeline: produce one batch of sentences per run and prove it landed.

    setup -> produce -> process_batch -> wait_processed -> verify => Asset sentiflow_sentiment_rows

- setup: `sentiflow setup` (idempotent: creates the topics, keyspace and table, or says
  they exist). Param setup=false skips it where the schema is managed elsewhere.
- produce: `sentiflow produce --seed S --count N [--rate R] --style X`. The seed S is
  derived from the run's logical date (see "Seeds" below), so every run has ids of its
  own and a retried or cleared run re-sends the very same sentences and ids.
- process_batch: only with Param processing=batch: `sentiflow process --exit-when-idle`
  inside the DAG, for users without long-running processors. With processing=service
  (the default) it is skipped: processing is a long-running service, `sentiflow
  process` instances in one consumer group, outside Airflow.
- wait_processed: a sensor (reschedule mode: it frees its worker slot between pokes)
  on `sentiflow status`: the consumer group's lag must drop to Param max_lag (0).
- verify: `sentiflow verify --seed S --count N`: every id of this run is stored (ids are
  the table's primary key, so each is stored exactly once). Then it publishes an event
  on the Asset `sentiflow_sentiment_rows` (extra: seed, count, first_id, last_id, table),
  which downstream DAGs can be scheduled on: see sentiflow_daily_report.

Seeds: whole minutes from 2020-01-01 00:00 UTC to the run's logical date (to its
run_after when it has none); valid from 2020-01-01 00:01 UTC (seed 1) up to seed
899,999,999. Ids are seed * 10^10 + n. The Param `seed` overrides it.

Settings: the Connections sentiflow_kafka and sentiflow_cassandra and the Variable
sentiflow_bin, else the worker's environment (secrets.env names), else the binary's
defaults. See docs/airflow.md.

Knobs read when the file is parsed (environment of the dag processor):
SENTIFLOW_DAG_SCHEDULE (@hourly; "none" for manual runs only), SENTIFLOW_DAG_RETRIES (3),
SENTIFLOW_DAG_RETRY_DELAY (30 s, doubling up to SENTIFLOW_DAG_MAX_RETRY_DELAY, 600 s),
SENTIFLOW_DAG_POKE_INTERVAL (30 s), SENTIFLOW_DAG_WAIT_TIMEOUT (1800 s),
SENTIFLOW_DAG_IDLE_SECONDS (5 s), SENTIFLOW_DAG_RUN_TIMEOUT (7200 s).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowSkipException
from sentiflow_common import (
    MAX_SEED,
    SENTIMENT_ROWS,
    ConsumerLagSensor,
    Sentiflow,
    knob_int,
    knob_schedule,
    knob_seconds,
    run_seed,
)

RETRIES = knob_int("SENTIFLOW_DAG_RETRIES", 3)
RETRY_DELAY = knob_seconds("SENTIFLOW_DAG_RETRY_DELAY", 30)
MAX_RETRY_DELAY = knob_seconds("SENTIFLOW_DAG_MAX_RETRY_DELAY", 600)
POKE_INTERVAL = knob_seconds("SENTIFLOW_DAG_POKE_INTERVAL", 30)
WAIT_TIMEOUT = knob_seconds("SENTIFLOW_DAG_WAIT_TIMEOUT", 1800)
IDLE_SECONDS = knob_seconds("SENTIFLOW_DAG_IDLE_SECONDS", 5)
RUN_TIMEOUT = knob_seconds("SENTIFLOW_DAG_RUN_TIMEOUT", 7200)

# Every task here talks to Kafka or Cassandra: all of them retry, with backoff.
SERVICE_TASK = {
    "retries": RETRIES,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": MAX_RETRY_DELAY,
}


@dag(
    dag_id="sentiflow_pipeline",
    description="One batch of sentences per run: produce to Kafka, wait until processed, verify in Cassandra",
    schedule=knob_schedule("SENTIFLOW_DAG_SCHEDULE", "@hourly"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=RUN_TIMEOUT,
    default_args={"owner": "sentiflow", **SERVICE_TASK},
    tags=["sentiflow"],
    doc_md=__doc__,
    params={
        "count": Param(
            1000,
            type="integer",
            minimum=1,
            maximum=1_000_000_000,
            title="Sentences",
            description="How many sentences this run produces.",
        ),
        "rate": Param(
            None,
            type=["null", "number"],
            exclusiveMinimum=0,
            title="Rate (sentences/s)",
            description="Sentences per second; empty: as fast as Kafka takes them.",
        ),
        "style": Param(
            "review",
            enum=["review", "lorem"],
            title="Style",
            description="review: product reviews, tweets and news lines; "
            "lorem: Faker-style lorem ipsum (almost always neutral).",
        ),
        "processing": Param(
            "service",
            enum=["service", "batch"],
            title="Processing",
            description="service: long-running `sentiflow process` instances do it; "
            "batch: a task of this run processes until the topic is idle.",
        ),
        "setup": Param(
            True,
            type="boolean",
            title="Run setup",
            description="Create topics, keyspace and table if missing (idempotent). "
            "Off where the schema is managed elsewhere.",
        ),
        "max_lag": Param(
            0,
            type="integer",
            minimum=0,
            title="Lag allowed",
            description="wait_processed succeeds once the group's total lag is at most this. "
            "Raise it when other producers write to the same topic continuously.",
        ),
        "seed": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=MAX_SEED,
            title="Seed",
            description="Empty: minutes since 2020-01-01 UTC of the logical date. Set it to re-send one exact batch.",
        ),
    },
)
def sentiflow_pipeline():
    @task(execution_timeout=pendulum.duration(minutes=15))
    def setup(**context) -> None:
        """`sentiflow setup`: topics, keyspace and table; idempotent."""
        if not context["params"]["setup"]:
            raise AirflowSkipException("the Param setup is false: the schema is managed elsewhere")
        Sentiflow.from_airflow().run("setup")

    @task(trigger_rule="none_failed")
    def produce(**context) -> dict:
        """This run's batch: `sentiflow produce` with the run's seed."""
        params = context["params"]
        seed, why = run_seed(context)
        print(f"seed {seed}, from the {why}")
        args = ["--seed", str(seed), "--count", str(params["count"]), "--style", params["style"], "--json"]
        if params["rate"] is not None:
            args += ["--rate", str(params["rate"])]
        summary = Sentiflow.from_airflow().run("produce", *args)
        if summary.get("sent") != params["count"]:
            raise RuntimeError(f"sentiflow produce sent {summary.get('sent')} of {params['count']} sentences")
        print(f"sent ids {summary['first_id']} .. {summary['last_id']} to topic {summary['topic']}")
        return {
            "seed": seed,
            "count": params["count"],
            "first_id": summary["first_id"],
            "last_id": summary["last_id"],
            "topic": summary["topic"],
        }

    @task(trigger_rule="none_failed")
    def process_batch(**context) -> dict:
        """With processing=batch: `sentiflow process --exit-when-idle` in this run."""
        if context["params"]["processing"] != "batch":
            raise AirflowSkipException("processing=service: long-running `sentiflow process` instances do it")
        summary = Sentiflow.from_airflow().run(
            "process", "--exit-when-idle", f"{IDLE_SECONDS.total_seconds():g}", "--json"
        )
        print(
            f"processed {summary['rows_written']} rows, {summary['dead_letters']} dead letters "
            f"(positive {summary['positive']}, negative {summary['negative']}, neutral {summary['neutral']})"
        )
        return summary

    wait_processed = ConsumerLagSensor(
        task_id="wait_processed",
        max_lag="{{ params.max_lag }}",
        mode="reschedule",
        poke_interval=POKE_INTERVAL.total_seconds(),
        timeout=WAIT_TIMEOUT.total_seconds(),
        trigger_rule="none_failed",
    )

    @task(outlets=[SENTIMENT_ROWS], execution_timeout=pendulum.duration(minutes=15))
    def verify(batch: dict, **context) -> dict:
        """Every id of this run is stored; then an event on the Asset sentiflow_sentiment_rows."""
        seed, count = batch["seed"], batch["count"]
        summary = Sentiflow.from_airflow().run("verify", "--seed", str(seed), "--count", str(count), "--json")
        if summary.get("present") != count or summary.get("missing") != 0:
            raise RuntimeError(f"sentiflow verify: {summary.get('present')} of {count} ids of seed {seed} stored")
        logical_date = context.get("logical_date")
        landed = {
            **batch,
            "table": summary["table"],
            "logical_date": logical_date.isoformat() if logical_date else None,
        }
        context["outlet_events"][SENTIMENT_ROWS].extra = landed
        print(f"all {count} ids of seed {seed} are stored in {summary['table']}")
        return landed

    batch = produce()
    setup() >> batch >> process_batch() >> wait_processed >> verify(batch)


sentiflow_pipeline()
