"""Helpers of the DAG tests: a throw-away Airflow home, the real services, names of our own.

Run by `scripts/airflow test` (`make test-airflow`) inside the Airflow virtualenv. Nothing is
mocked: `airflow dags test` and `airflow standalone` run the DAGs, which run the real
`sentiflow` binary ($SENTIFLOW_BIN) against the Kafka and Cassandra of `scripts/services`
(127.0.0.1:9092 and 127.0.0.1:9042). Each session uses its own topic, consumer group,
keyspace and Cassandra role (with a random password, so the logs can be searched for
it), and drops them at the end. A missing binary, Airflow or service fails the tests:
none is ever skipped.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "airflow" / "dags"
SCRIPTS = REPO / "scripts"
AIRFLOW = Path(sys.executable).with_name("airflow")
HOME = Path(tempfile.mkdtemp(prefix="sentiflow-airflow-test-"))
KAFKA = ("127.0.0.1", 9092)
CASSANDRA = ("127.0.0.1", 9042)

# Before anything imports airflow: it reads its configuration once, from here.
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
)

# The DAGs' parse-time knobs, shortened so that retries and waits take seconds.
FAST = {
    "SENTIFLOW_DAG_RETRIES": "1",
    "SENTIFLOW_DAG_RETRY_DELAY": "1",
    "SENTIFLOW_DAG_MAX_RETRY_DELAY": "2",
    "SENTIFLOW_DAG_POKE_INTERVAL": "1",
    "SENTIFLOW_DAG_WAIT_TIMEOUT": "120",
    "SENTIFLOW_DAG_IDLE_SECONDS": "2",
}
# What a developer's shell may hold that must not reach the runs under test.
FOREIGN_ENV = (
    "KAFKA_",
    "CASSANDRA_",
    "SENTIFLOW_DAG_",
    "AIRFLOW_CONN_",
    "AIRFLOW_VAR_",
    "SENTIFLOW_SEED",
    "SENTIFLOW_COUNT",
)


# ---------------------------------------------------------------------------- helpers
def seed_of(when: dt.datetime) -> int:
    """The documented seed rule, computed apart from the DAG's code: minutes since 2020-01-01 UTC."""
    return (calendar.timegm(when.utctimetuple()) - calendar.timegm((2020, 1, 1, 0, 0, 0))) // 60


def ids_of(seed: int, count: int) -> set[int]:
    """The ids `sentiflow produce --seed S --count N` sends: S * 10^10 + n."""
    return {seed * 10**10 + n for n in range(count)}


def free_port() -> int:
    """A 127.0.0.1 port nobody listens on (the OS's pick; closed again at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=3).close()
        return True
    except OSError:
        return False


def run(argv, *, env=None, timeout=300, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(a) for a in argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, argv))} exited {done.returncode}\n"
            f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}",
            pytrace=False,
        )
    return done


def cql(statement: str) -> str:
    """A statement through scripts/cqlsh, as the cassandra superuser."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASSANDRA_")}
    return run([SCRIPTS / "cqlsh", "-e", statement], env=env, timeout=120).stdout


@dataclass
class Names:
    """This session's own topic, group, keyspace and Cassandra role."""

    suffix: str
    role_password: str

    @property
    def topic(self) -> str:
        return f"sentiflow_af_{self.suffix}"

    @property
    def group(self) -> str:
        return f"sentiflow_af_{self.suffix}"

    @property
    def keyspace(self) -> str:
        return f"sentiflow_af_{self.suffix}"

    @property
    def role(self) -> str:
        return f"sentiflow_af_{self.suffix}"

    def env(self, cassandra_port: int = CASSANDRA[1]) -> dict[str, str]:
        """Environment for a DAG run: Connections and the Variable for this session, fast knobs."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV) and k != "SENTIFLOW_BIN"}
        env.update(FAST)
        env["AIRFLOW_CONN_SENTIFLOW_KAFKA"] = json.dumps(
            {
                "conn_type": "generic",
                "host": f"{KAFKA[0]}:{KAFKA[1]}",
                # One local broker: replication factor and min.insync.replicas 1.
                "extra": {
                    "topic": self.topic,
                    "group_id": self.group,
                    "replication_factor": 1,
                    "min_insync_replicas": 1,
                },
            }
        )
        env["AIRFLOW_CONN_SENTIFLOW_CASSANDRA"] = json.dumps(
            {
                "conn_type": "generic",
                "host": CASSANDRA[0],
                "port": cassandra_port,
                "login": self.role,
                "password": self.role_password,
                "schema": self.keyspace,
            }
        )
        # Only the Variable names the binary: proves the DAG reads it.
        env["AIRFLOW_VAR_SENTIFLOW_BIN"] = os.environ["SENTIFLOW_BIN"]
        return env

    def binary_env(self) -> dict[str, str]:
        """Environment for running the binary directly (processors), as the same role."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=f"{KAFKA[0]}:{KAFKA[1]}",
            KAFKA_TOPIC=self.topic,
            KAFKA_GROUP_ID=self.group,
            CASSANDRA_HOSTS=CASSANDRA[0],
            CASSANDRA_PORT=str(CASSANDRA[1]),
            CASSANDRA_USERNAME=self.role,
            CASSANDRA_PASSWORD=self.role_password,
            CASSANDRA_KEYSPACE=self.keyspace,
        )
        return env


@dataclass
class DagRunResult:
    dag_id: str
    returncode: int
    output: str
    run_id: str | None
    state: str | None

    def tasks(self) -> dict[str, tuple[str | None, int]]:
        """task_id -> (state, try_number), from Airflow's metadata DB."""
        from airflow.models import TaskInstance
        from airflow.utils.session import create_session

        assert self.run_id, f"no run id in the output of airflow dags test {self.dag_id}:\n{self.output[-3000:]}"
        with create_session() as session:
            rows = session.query(TaskInstance).filter(
                TaskInstance.dag_id == self.dag_id, TaskInstance.run_id == self.run_id
            )
            return {ti.task_id: (ti.state, ti.try_number) for ti in rows}


class Airflow:
    """`airflow dags test` in this session's home; every output is kept for the log checks."""

    def __init__(self) -> None:
        self.outputs: list[Path] = []

    def dags_test(
        self,
        dag_id: str,
        env: dict[str, str],
        logical_date: str | None = None,
        conf: dict | None = None,
        timeout: int = 300,
    ) -> DagRunResult:
        argv = [AIRFLOW, "dags", "test", dag_id]
        if logical_date:
            argv.append(logical_date)
        if conf is not None:
            argv += ["-c", json.dumps(conf)]
        done = run(argv, env=env, timeout=timeout, check=False)
        output = done.stdout + done.stderr
        path = HOME / "outputs" / f"{len(self.outputs) + 1:02d}-{dag_id}.log"
        path.parent.mkdir(exist_ok=True)
        path.write_text(output)
        self.outputs.append(path)
        finished = re.findall(r"DagRun Finished: dag_id=(\S+), .*?run_id=([^,]+), .*?state=(\w+)", output)
        run_id, state = (finished[-1][1], finished[-1][2]) if finished else (None, None)
        return DagRunResult(dag_id, done.returncode, output, run_id, state)


def stored_rows(names: Names) -> dict[int, str]:
    """id -> processed_at of every row in this session's table, read with cqlsh."""
    out = cql(f"PAGING OFF; SELECT id, processed_at FROM {names.keyspace}.sentimental_analysis;")
    rows = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 2 and parts[0].lstrip("-").isdigit():
            rows[int(parts[0])] = parts[1]
    return rows


class Processors:
    """Long-running `sentiflow process` instances in this session's consumer group."""

    def __init__(self, names: Names, sentiflow_bin: Path) -> None:
        self.names, self.bin = names, sentiflow_bin
        self.procs: list[tuple[subprocess.Popen, Path]] = []

    def start(self, how_many: int = 2) -> None:
        for _ in range(how_many):
            log = HOME / f"processor-{len(self.procs) + 1}.log"
            proc = subprocess.Popen(
                [str(self.bin), "process", "--quiet"],
                env=self.names.binary_env(),
                stdin=subprocess.DEVNULL,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            self.procs.append((proc, log))

    def stop(self) -> list[int]:
        """SIGTERM (they finish their batches and commit), then each exit code."""
        for proc, _ in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = []
        for proc, log in self.procs:
            try:
                codes.append(proc.wait(timeout=60))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"sentiflow process (pid {proc.pid}) did not stop within 60 s of SIGTERM; log {log}")
        self.procs = []
        return codes
