"""What the sentiflow DAGs share: settings, the run's seed, and one way to call the binary.

Not a DAG (listed in .airflowignore). The DAGs call the `sentiflow` binary for every
piece of work: it is the integration (Kafka's and Cassandra's providers have no
consumer-lag or row-count sensor, and the binary already knows the data contract).

Where settings come from, first match wins (docs/airflow.md has the full table):

1. the Airflow Connections `sentiflow_kafka` and `sentiflow_cassandra`, and the
   Variable `sentiflow_bin`;
2. the worker's environment, under the names the binary and `secrets.env` use
   (KAFKA_BOOTSTRAP_SERVERS, CASSANDRA_HOSTS, CASSANDRA_PASSWORD, SENTIFLOW_BIN, ...);
3. the binary's own defaults (127.0.0.1:9092, 127.0.0.1:9042, topic `sentences`, ...).

Secrets (the Cassandra password, the Kafka SASL password) reach the binary only in
its environment: never on its command line (`ps` and the task log would show it),
never in a log line. The binary runs in an empty temporary folder, so a stray
`secrets.env` or `.env` in the worker's working directory changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import Asset, BaseSensorOperator, Connection, Variable
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException, AirflowSensorTimeout
from airflow.sdk.log import mask_secret

log = logging.getLogger(__name__)

KAFKA_CONN_ID = "sentiflow_kafka"
CASSANDRA_CONN_ID = "sentiflow_cassandra"
BIN_VARIABLE = "sentiflow_bin"

#: Published by `sentiflow_pipeline.verify` once every id of a run is stored. Each event's
#: `extra` names the batch: seed, count, first_id, last_id, table, topic, logical_date.
SENTIMENT_ROWS = Asset(name="sentiflow_sentiment_rows", uri="sentiflow://sentiment_rows", group="sentiflow")


# ---------------------------------------------------------------------------- DAG knobs
# Read when the DAG file is parsed, from the environment of the dag processor (and of
# `airflow dags test`). They change how the DAG is built, so they cannot be Params.
def knob(name: str, default: str) -> str:
    """A DAG-shaping setting: the environment variable `name`, else `default`."""
    value = os.environ.get(name, "").strip()
    return value or default


def knob_seconds(name: str, default: float) -> dt.timedelta:
    text = knob(name, str(default))
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a number of seconds") from None
    if seconds < 0:
        raise ValueError(f"{name}={text!r} must not be negative")
    return dt.timedelta(seconds=seconds)


def knob_int(name: str, default: int) -> int:
    text = knob(name, str(default))
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a whole number") from None


def knob_schedule(name: str, default: str) -> str | None:
    """A cron expression or preset (`@hourly`); `none` means manual runs only."""
    text = knob(name, default)
    return None if text.lower() in ("none", "manual") else text


# ---------------------------------------------------------------------------- seeds
#: Seeds count minutes from here: the logical date 2020-01-01 00:01 UTC is seed 1.
SEED_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
#: The largest seed the binary accepts for a DAG run (its id layout reserves the rest).
MAX_SEED = 899_999_999


def seed_for(when: dt.datetime) -> int:
    """The seed of a run whose logical date is `when`: whole minutes since 2020-01-01 UTC.

    Ids are `seed * 10^10 + n`, so each scheduled run gets ids no other run has, and a
    retried or cleared run (same logical date) gets the very same ids, which the
    pipeline upserts: it rewrites its rows instead of adding new ones. Two runs whose
    logical dates fall in the same minute share a seed; schedules finer than a minute
    are not supported (give such runs the `seed` Param).
    """
    if when.tzinfo is None:
        raise ValueError(f"logical date {when} has no time zone")
    seed = int((when - SEED_EPOCH).total_seconds() // 60)
    if not 1 <= seed <= MAX_SEED:
        raise ValueError(
            f"logical date {when.isoformat()} gives seed {seed}, outside 1..{MAX_SEED}: "
            "seeds are whole minutes since 2020-01-01 00:00 UTC; pass the `seed` Param instead"
        )
    return seed


def run_seed(context: Mapping[str, Any]) -> tuple[int, str]:
    """This run's seed and where it came from: the `seed` Param, else the logical date.

    A run triggered without a logical date (Airflow 3 allows it) uses its `run_after`,
    which a retry or a clear keeps as well.
    """
    explicit = context["params"].get("seed")
    if explicit is not None:
        seed = int(explicit)
        if not 1 <= seed <= MAX_SEED:
            raise AirflowFailException(f"the seed Param {seed} is outside 1..{MAX_SEED}")
        return seed, "the seed Param"
    when = context.get("logical_date")
    what = "logical date"
    if when is None:
        when, what = context["dag_run"].run_after, "run_after (the run has no logical date)"
    try:
        return seed_for(when), f"{what} {when.isoformat()}"
    except ValueError as error:
        raise AirflowFailException(str(error)) from None


# ---------------------------------------------------------------------------- settings
# Connection extra key -> the binary's environment variable.
KAFKA_EXTRA = {
    "bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "topic": "KAFKA_TOPIC",
    "group_id": "KAFKA_GROUP_ID",
    "dlq_topic": "KAFKA_DLQ_TOPIC",
    "security_protocol": "KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "KAFKA_SASL_MECHANISM",
    "ssl_ca_location": "KAFKA_SSL_CA_LOCATION",
    "partitions": "KAFKA_PARTITIONS",
    "replication_factor": "KAFKA_REPLICATION_FACTOR",
    "min_insync_replicas": "KAFKA_MIN_INSYNC_REPLICAS",
}
CASSANDRA_EXTRA = {
    "table": "CASSANDRA_TABLE",
    "consistency": "CASSANDRA_CONSISTENCY",
    "replication_factor": "CASSANDRA_REPLICATION_FACTOR",
}
SECRET_ENV = ("CASSANDRA_PASSWORD", "KAFKA_SASL_PASSWORD")
# The binary's defaults, for messages only (it applies them itself).
DEFAULTS = {
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092",
    "KAFKA_TOPIC": "sentences",
    "KAFKA_GROUP_ID": "sentiflow",
    "CASSANDRA_HOSTS": "127.0.0.1",
    "CASSANDRA_PORT": "9042",
    "CASSANDRA_KEYSPACE": "spark_streaming",
    "CASSANDRA_TABLE": "sentimental_analysis",
}
# Variables of Airflow's own that the binary has no use for (connections as URIs or JSON).
PRIVATE_ENV_PREFIXES = ("AIRFLOW_CONN_", "AIRFLOW_VAR_")


class SentiflowError(Exception):
    """The binary failed: what it said, and what to do."""


def _connection(conn_id: str) -> Connection | None:
    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


@dataclass
class Sentiflow:
    """The binary and the environment it runs with, resolved for one task."""

    binary: str
    env: dict[str, str]
    sources: dict[str, str] = field(default_factory=dict)  # env name -> where it came from

    @classmethod
    def from_airflow(cls) -> Sentiflow:
        env = {k: v for k, v in os.environ.items() if not k.startswith(PRIVATE_ENV_PREFIXES)}
        sources = {name: "environment" for name in env}

        def put(name: str, value: Any, source: str) -> None:
            if value is None or value == "":
                return
            env[name] = str(value)
            sources[name] = source

        kafka = _connection(KAFKA_CONN_ID)
        if kafka is not None:
            source = f"connection {KAFKA_CONN_ID}"
            extra = kafka.extra_dejson
            if kafka.host:
                hosts = kafka.host
                if kafka.port and "," not in hosts and ":" not in hosts:
                    hosts = f"{hosts}:{kafka.port}"
                put("KAFKA_BOOTSTRAP_SERVERS", hosts, source)
            put("KAFKA_SASL_USERNAME", kafka.login, source)
            put("KAFKA_SASL_PASSWORD", kafka.password, source)
            _apply_extra(extra, KAFKA_EXTRA, KAFKA_CONN_ID, put, source)

        cassandra = _connection(CASSANDRA_CONN_ID)
        if cassandra is not None:
            source = f"connection {CASSANDRA_CONN_ID}"
            put("CASSANDRA_HOSTS", cassandra.host, source)
            put("CASSANDRA_PORT", cassandra.port, source)
            put("CASSANDRA_USERNAME", cassandra.login, source)
            put("CASSANDRA_PASSWORD", cassandra.password, source)
            put("CASSANDRA_KEYSPACE", cassandra.schema, source)
            _apply_extra(cassandra.extra_dejson, CASSANDRA_EXTRA, CASSANDRA_CONN_ID, put, source)

        for name in SECRET_ENV:
            if env.get(name):
                mask_secret(env[name], name=name)

        binary = Variable.get(BIN_VARIABLE, default=None)
        where = f"Variable {BIN_VARIABLE}"
        if not binary:
            binary, where = os.environ.get("SENTIFLOW_BIN"), "environment SENTIFLOW_BIN"
        if not binary:
            binary, where = shutil.which("sentiflow"), "PATH"
        if not binary:
            raise AirflowFailException(
                "the sentiflow binary was not found: set the Airflow Variable "
                f"{BIN_VARIABLE} (or SENTIFLOW_BIN in the worker's environment) to its path, "
                "or put `sentiflow` on the worker's PATH"
            )
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise AirflowFailException(
                f"the sentiflow binary {binary} (from {where}) is not an executable file: "
                f"build it (`make build`) or fix {BIN_VARIABLE} / SENTIFLOW_BIN"
            )
        return cls(binary=binary, env=env, sources=sources)

    # -------------------------------------------------------------- describing
    def setting(self, name: str) -> str:
        return self.env.get(name) or DEFAULTS.get(name, "")

    def source(self, name: str) -> str:
        return self.sources.get(name, "default")

    def where(self) -> str:
        """Where the binary will look for Kafka and Cassandra, and why; never a secret."""
        user = self.env.get("CASSANDRA_USERNAME")
        login = f" as {user}" if user else " without login"
        password = "password set" if self.env.get("CASSANDRA_PASSWORD") else "no password"
        return (
            f"Kafka {self.setting('KAFKA_BOOTSTRAP_SERVERS')} ({self.source('KAFKA_BOOTSTRAP_SERVERS')}), "
            f"topic {self.setting('KAFKA_TOPIC')}, group {self.setting('KAFKA_GROUP_ID')}; "
            f"Cassandra {self.setting('CASSANDRA_HOSTS')} port {self.setting('CASSANDRA_PORT')} "
            f"({self.source('CASSANDRA_HOSTS')}){login} ({password}), "
            f"table {self.setting('CASSANDRA_KEYSPACE')}.{self.setting('CASSANDRA_TABLE')}"
        )

    def advice(self, said: str) -> str:
        """What to do, from what the binary said."""
        tips = []
        if "Cassandra" in said:
            tips.append(
                f"Cassandra settings come from: hosts {self.setting('CASSANDRA_HOSTS')} "
                f"({self.source('CASSANDRA_HOSTS')}), port {self.setting('CASSANDRA_PORT')} "
                f"({self.source('CASSANDRA_PORT')}); fix the Airflow connection {CASSANDRA_CONN_ID} "
                "(or CASSANDRA_* in the worker's environment), or bring Cassandra back"
            )
        if "Kafka" in said or "topic" in said:
            tips.append(
                f"Kafka settings come from: brokers {self.setting('KAFKA_BOOTSTRAP_SERVERS')} "
                f"({self.source('KAFKA_BOOTSTRAP_SERVERS')}), topic {self.setting('KAFKA_TOPIC')} "
                f"({self.source('KAFKA_TOPIC')}); fix the Airflow connection {KAFKA_CONN_ID} "
                "(or KAFKA_* in the worker's environment), or bring Kafka back"
            )
        if "sentiflow setup" in said:
            tips.append("run this DAG with the Param setup=true, or `sentiflow setup` once")
        return "; ".join(tips) or f"see the binary's messages above ({self.where()})"

    # -------------------------------------------------------------- running
    def run(self, command: str, *args: str) -> dict[str, Any]:
        """`sentiflow COMMAND ARGS...`; its output goes to the task log line by line.

        Returns the JSON summary (the last stdout line that is a JSON object), or {}.
        Raises SentiflowError with the binary's last error line and advice when it fails.
        """
        argv = [self.binary, command, *args]
        log.info("$ sentiflow %s", shlex.join(argv[1:]))
        log.info("with %s", self.where())
        stdout: list[str] = []
        stderr: list[str] = []
        with tempfile.TemporaryDirectory(prefix="sentiflow-") as workdir:
            proc = subprocess.Popen(
                argv,
                cwd=workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
            readers = [
                threading.Thread(target=_pump, args=(proc.stdout, stdout, logging.INFO), daemon=True),
                threading.Thread(target=_pump, args=(proc.stderr, stderr, logging.WARNING), daemon=True),
            ]
            for reader in readers:
                reader.start()
            try:
                code = proc.wait()
            finally:
                # The task was stopped (timeout, mark-failed, SIGTERM): stop the binary too;
                # it finishes what it holds on SIGTERM.
                if proc.poll() is None:
                    log.warning("stopping sentiflow %s (pid %d)", command, proc.pid)
                    proc.terminate()
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
            for reader in readers:
                reader.join()
        summary = _json_summary(stdout)
        if code != 0:
            said = next((line for line in reversed(stderr) if line.strip()), f"exit code {code}")
            raise SentiflowError(
                f"sentiflow {command} failed (exit code {code}): {said}. What to do: {self.advice(said)}"
            )
        return summary


def _apply_extra(extra: Mapping[str, Any], mapping: Mapping[str, str], conn_id: str, put, source: str) -> None:
    for key, value in extra.items():
        name = mapping.get(key)
        if name is None:
            log.warning("connection %s: extra key %r is not used (known: %s)", conn_id, key, ", ".join(mapping))
            continue
        put(name, value, source)


def _pump(pipe, lines: list[str], level: int) -> None:
    for line in pipe:
        line = line.rstrip("\n")
        lines.append(line)
        if line.strip():
            log.log(level, "%s", line)
    pipe.close()


def _json_summary(lines: list[str]) -> dict[str, Any]:
    for line in reversed(lines):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                break
    return {}


# ---------------------------------------------------------------------------- the sensor
class ConsumerLagSensor(BaseSensorOperator):
    """Waits until the processors' consumer group has caught up: total lag <= `max_lag`.

    Pokes `sentiflow status --json` (per-partition end and committed offsets). The
    processor commits an offset only after its row (or dead letter) is written, so a
    lag of 0 right after `produce` means this run's sentences are all handled.
    An error reaching Kafka or Cassandra fails the poke (and the task retries); a lag
    still too high keeps waiting until `timeout`, then fails saying what it saw.
    """

    template_fields = ("max_lag",)

    def __init__(self, *, max_lag: int | str = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_lag = max_lag
        self._last_seen = "no successful poke"

    def poke(self, context: Mapping[str, Any]) -> bool:
        sentiflow = Sentiflow.from_airflow()
        status = sentiflow.run("status", "--json")
        max_lag = int(self.max_lag)
        lag = int(status["lag"])
        partitions = status.get("partitions", [])
        detail = ", ".join(
            f"partition {p['partition']}: committed "
            f"{'nothing' if p['committed_offset'] is None else p['committed_offset']} of {p['end_offset']}"
            for p in partitions
        )
        self._last_seen = f"group {status['group']} on topic {status['topic']}: lag {lag} ({detail})"
        if lag <= max_lag:
            self.log.info("processed: %s; at most %d allowed", self._last_seen, max_lag)
            return True
        never = [p["partition"] for p in partitions if p["committed_offset"] is None and p["end_offset"] > 0]
        hint = (
            f" (group {status['group']} never committed on partition(s) {never}: is any `sentiflow process` running?)"
            if never
            else ""
        )
        self.log.info("waiting: %s; at most %d allowed%s", self._last_seen, max_lag, hint)
        return False

    def execute(self, context: Mapping[str, Any]) -> Any:
        try:
            return super().execute(context)
        except AirflowSensorTimeout as timeout:
            raise AirflowSensorTimeout(
                f"{timeout} The processors did not catch up: {self._last_seen}. What to do: start "
                "`sentiflow process` for this group and topic (as many as there are partitions), "
                "or trigger the run with the Param processing=batch, which processes inside the DAG"
            ) from timeout
