"""Fixtures of the DAG tests; the helpers and the story of how they run are in support.py."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import sys
import time
from pathlib import Path

import pytest
from support import (
    AIRFLOW,
    CASSANDRA,
    HOME,
    KAFKA,
    SCRIPTS,
    Airflow,
    Names,
    Processors,
    cql,
    listening,
    run,
)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0:
        shutil.rmtree(HOME, ignore_errors=True)
    else:
        print(f"\nairflow tests: the Airflow home, outputs and logs are kept in {HOME}")


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def sentiflow_bin() -> Path:
    path = os.environ.get("SENTIFLOW_BIN")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"SENTIFLOW_BIN={path!r} is not an executable sentiflow binary: `make build` it or set SENTIFLOW_BIN",
            pytrace=False,
        )
    return Path(path)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """This session's metadata DB (SQLite in the temporary home), migrated."""
    if not AIRFLOW.exists():
        pytest.fail(
            f"no airflow command next to {sys.executable}: run the tests with scripts/airflow test",
            pytrace=False,
        )
    run([AIRFLOW, "db", "migrate"], timeout=300)
    return HOME / "airflow.db"


@pytest.fixture(scope="session")
def services_lock(request):
    """Exclusive use of the shared services, as the Rust tests take it: some of those stop or
    freeze Cassandra and Kafka, which must not happen under these tests. The same file
    (`$SENTIFLOW_RUN/tests.lock`, else ~/.cache/sentiflow/run/tests.lock) and the same flock."""
    run_dir = Path(os.environ.get("SENTIFLOW_RUN") or Path.home() / ".cache" / "sentiflow" / "run")
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "tests.lock"
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(request, f"waiting for {path}: other tests are using the services ...")
            started = time.monotonic()
            fcntl.flock(lock, fcntl.LOCK_EX)
            say(request, f"got {path} after {time.monotonic() - started:.0f} s")
        yield
        fcntl.flock(lock, fcntl.LOCK_UN)


def say(request, message: str) -> None:
    """A line on the terminal now, past pytest's capture."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{message}", flush=True)


@pytest.fixture(scope="session")
def names(sentiflow_bin, airflow_db, services_lock):
    """This session's names, the Cassandra role (dropped with the keyspace and topics at the end)."""
    for what, address in (("Kafka", KAFKA), ("Cassandra", CASSANDRA)):
        if not listening(address):
            pytest.fail(
                f"{what} is not answering at {address[0]}:{address[1]}: start it with scripts/services up",
                pytrace=False,
            )
    found = Names(suffix=f"{os.getpid()}_{secrets.token_hex(3)}", role_password=f"pw-{secrets.token_hex(12)}")
    # The creator of a keyspace gets every permission on it: CREATE is all the role needs.
    cql(
        f"CREATE ROLE {found.role} WITH PASSWORD = '{found.role_password}' AND LOGIN = true; "
        f"GRANT CREATE ON ALL KEYSPACES TO {found.role};"
    )
    yield found
    problems = []
    for statement in (f"DROP KEYSPACE IF EXISTS {found.keyspace}", f"DROP ROLE IF EXISTS {found.role}"):
        done = run([SCRIPTS / "cqlsh", "-e", statement], timeout=120, check=False)
        if done.returncode != 0:
            problems.append(f"{statement}: {done.stderr.strip()}")
    for argv in (
        ["topics", "--delete", "--if-exists", "--topic", f"{found.topic}|{found.topic}\\.dlq"],
        ["consumer-groups", "--delete", "--group", found.group],
    ):
        done = run([SCRIPTS / "kafka", *argv], timeout=120, check=False)
        if done.returncode != 0 and "does not exist" not in done.stdout + done.stderr:
            problems.append(f"scripts/kafka {' '.join(argv)}: {(done.stdout + done.stderr).strip()[-300:]}")
    assert not problems, "cleaning up failed: " + "; ".join(problems)


@pytest.fixture(scope="session")
def airflow() -> Airflow:
    return Airflow()


@pytest.fixture(scope="session")
def processors(names, sentiflow_bin):
    found = Processors(names, sentiflow_bin)
    yield found
    found.stop()
