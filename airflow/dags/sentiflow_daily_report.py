"""sentiflow_daily_report: what landed in the last day, and the health of the pipeline.

    landed_batches (Asset events of sentiflow_sentiment_rows in the window) --.
                                                                               >-> report
    pipeline_status (`sentiflow status`: lag, dead letters, rows) ------------'

- landed_batches reads the events that sentiflow_pipeline.verify published on the Asset
  `sentiflow_sentiment_rows` in the window [logical date - hours, logical date): one per
  verified run, each naming its seed, count and id range. A retried run publishes the
  same seed again; it is counted once.
- pipeline_status runs `sentiflow status --json`: per-partition lag of the processors'
  consumer group, records in the dead-letter topic, rows in the table.
- report logs one readable summary, returns it as the task's XCom (the UI shows it),
  and fails, so that Airflow's alerting fires, when the Params max_lag or
  max_dead_letters are set and exceeded.

Schedule: SENTIFLOW_DAG_REPORT_SCHEDULE (default @daily, i.e. 00:00 UTC, covering the day
before). Settings and retries as in sentiflow_pipeline (docs/airflow.md).
"""

from __future__ import annotations

import json

import pendulum
from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException
from sentiflow_common import (
    SENTIMENT_ROWS,
    Sentiflow,
    knob_int,
    knob_schedule,
    knob_seconds,
)

SERVICE_TASK = {
    "retries": knob_int("SENTIFLOW_DAG_RETRIES", 3),
    "retry_delay": knob_seconds("SENTIFLOW_DAG_RETRY_DELAY", 30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": knob_seconds("SENTIFLOW_DAG_MAX_RETRY_DELAY", 600),
}


@dag(
    dag_id="sentiflow_daily_report",
    description="Batches that landed in the last day, consumer lag, dead letters, rows",
    schedule=knob_schedule("SENTIFLOW_DAG_REPORT_SCHEDULE", "@daily"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=pendulum.duration(hours=1),
    default_args={"owner": "sentiflow", **SERVICE_TASK},
    tags=["sentiflow"],
    doc_md=__doc__,
    params={
        "hours": Param(
            24,
            type="integer",
            minimum=1,
            maximum=24 * 366,
            title="Window (hours)",
            description="Report on the batches that landed in this many hours before the logical date.",
        ),
        "max_lag": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            title="Alert above this lag",
            description="Fail the report when the consumer group's total lag is higher. Empty: no check.",
        ),
        "max_dead_letters": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            title="Alert above this many dead letters",
            description="Fail the report when the dead-letter topic holds more records. Empty: no check.",
        ),
    },
)
def sentiflow_daily_report():
    @task(inlets=[SENTIMENT_ROWS])
    def landed_batches(**context) -> dict:
        """The batches verified in the window, from the Asset's events."""
        end = context.get("logical_date") or context["dag_run"].run_after
        start = end - pendulum.duration(hours=context["params"]["hours"])
        events = context["inlet_events"][SENTIMENT_ROWS].after(start.isoformat()).before(end.isoformat())
        batches: dict[int, dict] = {}
        published = 0
        for event in events:
            published += 1
            extra = event.extra or {}
            if "seed" not in extra:
                continue
            batch = batches.setdefault(int(extra["seed"]), {**extra, "verified": 0})
            batch["verified"] += 1
            batch["last_verified_at"] = event.timestamp.isoformat()
        landed = sorted(batches.values(), key=lambda b: b["seed"])
        return {
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "events": published,
            "batches": landed,
            "sentences": sum(int(b["count"]) for b in landed),
        }

    @task
    def pipeline_status() -> dict:
        """`sentiflow status`: lag per partition, dead letters, rows."""
        return Sentiflow.from_airflow().run("status", "--json")

    @task
    def report(landed: dict, status: dict, **context) -> dict:
        """One summary; fails when a threshold Param is exceeded."""
        params = context["params"]
        summary = {**landed, "status": status}
        lines = [
            f"sentiflow report for {landed['window_start']} .. {landed['window_end']}",
            f"  batches landed  {len(landed['batches'])} ({landed['sentences']:,} sentences; "
            f"{landed['events']} verify events, retries included)",
        ]
        for batch in landed["batches"]:
            lines.append(
                f"    seed {batch['seed']}  {int(batch['count']):,} sentences  ids {batch['first_id']} .. "
                f"{batch['last_id']}  logical date {batch.get('logical_date')}  verified {batch['verified']}x"
            )
        lag_detail = ", ".join(f"partition {p['partition']}: {p['lag']:,}" for p in status.get("partitions", []))
        lines += [
            f"  consumer lag    {status['lag']:,} (group {status['group']}, topic {status['topic']}: {lag_detail})",
            f"  dead letters    {status['dead_letters'] if status['dead_letters'] is not None else 'no topic'}"
            f" in {status['dead_letter_topic']}",
            f"  rows            {'' if status['rows_exact'] else 'about '}{status['rows']:,} in {status['table']}",
        ]
        print("\n".join(lines))
        print("sentiflow report json: " + json.dumps(summary, sort_keys=True))
        problems = []
        if params["max_lag"] is not None and status["lag"] > params["max_lag"]:
            problems.append(
                f"consumer lag {status['lag']:,} is above max_lag {params['max_lag']:,}: are enough "
                f"`sentiflow process` running for group {status['group']}?"
            )
        dead = status["dead_letters"] or 0
        if params["max_dead_letters"] is not None and dead > params["max_dead_letters"]:
            problems.append(
                f"{dead:,} records in {status['dead_letter_topic']}, above max_dead_letters "
                f"{params['max_dead_letters']:,}: read their headers sentiflow.error.reason with a console consumer"
            )
        if problems:
            # A threshold crossed is an answer, not a glitch: fail at once, no retries.
            raise AirflowFailException("; ".join(problems))
        return summary

    report(landed_batches(), pipeline_status())


sentiflow_daily_report()
