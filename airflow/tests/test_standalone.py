"""`scripts/airflow standalone`: the UI a person clicks through, on 127.0.0.1, with its traps handled.

Starts it as a person would (in its own home), checks it is healthy with both DAGs and no
import errors, triggers a pipeline run through the REST API exactly as the UI's Trigger
button does, waits for the scheduler to run it, then stops the script with SIGTERM and
checks that none of Airflow's ~12 processes is left behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from support import HOME, SCRIPTS, ids_of, seed_of, stored_rows

D4 = dt.datetime(2026, 3, 1, 13, 0, tzinfo=dt.UTC)
COUNT = 50


def three_free_ports() -> int:
    """N such that 127.0.0.1:N, N+1 and N+2 are free (the API server and the two log servers)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port > 65000:
            continue
        try:
            for p in (port + 1, port + 2):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    pytest.fail("found no three consecutive free ports on 127.0.0.1")


def group_members(pgid: int) -> list[str]:
    """Processes whose process group is pgid (zombies included), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state ppid pgrp ...
        if int(fields[2]) == pgid:
            found.append(f"{entry} {stat[stat.index('(') + 1 : stat.rindex(')')]} {fields[0]}")
    return found


def other_addresses() -> list[str]:
    """This host's IPv4 addresses other than loopback (`hostname -I`)."""
    done = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=False)
    return [a for a in done.stdout.split() if "." in a and not a.startswith("127.")]


class Api:
    def __init__(self, base: str, password: str) -> None:
        self.base = base
        token = self.call("POST", "/auth/token", {"username": "admin", "password": password}, auth=False)
        self.token = token["access_token"]

    def call(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode()
        )
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)


def wait_for(what: str, check, timeout: float, proc: subprocess.Popen, log) -> object:
    """Polls check() until it returns a true value; fails at the deadline or if the script died."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(
                f"scripts/airflow standalone exited ({proc.returncode}) while waiting for {what}:\n"
                f"{log.read_text()[-3000:]}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def test_standalone_serves_the_dags_runs_one_and_stops_every_process(names, sentiflow_bin):
    home = HOME / "standalone"
    port = three_free_ports()
    env = {
        **names.env(),
        "SENTIFLOW_AIRFLOW_HOME": str(home),
        "SENTIFLOW_BIN": str(sentiflow_bin),
        # Manual runs only: an unpaused DAG would otherwise also start its latest scheduled run.
        "SENTIFLOW_DAG_SCHEDULE": "none",
        "SENTIFLOW_DAG_REPORT_SCHEDULE": "none",
    }
    out = HOME / "standalone.out"
    proc = subprocess.Popen(
        [str(SCRIPTS / "airflow"), "standalone", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    pgid = None
    try:
        wait_for("Airflow is up", lambda: "Airflow is up" in out.read_text(), 300, proc, out)
        pgid = int((home / "standalone.pid").read_text())
        assert len(group_members(pgid)) >= 5, "scheduler, API server, dag processor, triggerer are not all there"
        banner = out.read_text()
        assert f"http://127.0.0.1:{port}" in banner
        password = json.loads((home / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
        assert f"password {password}" in banner

        # Bound to 127.0.0.1 only: the API server does not answer on this host's other addresses.
        for address in other_addresses():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=3).close()
        api = Api(f"http://127.0.0.1:{port}", password)
        health = api.call("GET", "/api/v2/monitor/health", auth=False)
        assert {k: v["status"] for k, v in health.items() if isinstance(v, dict) and "status" in v} == {
            "metadatabase": "healthy",
            "scheduler": "healthy",
            "triggerer": "healthy",
            "dag_processor": "healthy",
        }

        def parsed():
            dags = api.call("GET", "/api/v2/dags")["dags"]
            return {d["dag_id"] for d in dags} == {"sentiflow_pipeline", "sentiflow_daily_report"}

        wait_for("both DAGs parsed", parsed, 120, proc, out)
        assert api.call("GET", "/api/v2/importErrors")["total_entries"] == 0

        api.call("PATCH", "/api/v2/dags/sentiflow_pipeline", {"is_paused": False})
        run = api.call(
            "POST",
            "/api/v2/dags/sentiflow_pipeline/dagRuns",
            {"logical_date": D4.isoformat(), "conf": {"count": COUNT, "processing": "batch"}},
        )
        run_id = run["dag_run_id"]

        def finished():
            state = api.call("GET", f"/api/v2/dags/sentiflow_pipeline/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        assert wait_for("the triggered run", finished, 240, proc, out) == "success", home / "logs"
        assert ids_of(seed_of(D4), COUNT) <= set(stored_rows(names))

        # The task logs are files here; the password is in none of them.
        task_logs = list((home / "logs" / "dag_id=sentiflow_pipeline").rglob("*.log"))
        assert {p.parent.name for p in task_logs} == {
            f"task_id={t}" for t in ("setup", "produce", "process_batch", "wait_processed", "verify")
        }
        text = "\n".join(p.read_text(errors="replace") for p in (home / "logs").rglob("*") if p.is_file())
        assert names.role in text
        assert names.role_password not in text
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            if pgid:
                os.killpg(pgid, signal.SIGKILL)
            pytest.fail("scripts/airflow standalone did not stop within 90 s of SIGTERM")
    assert code == 143, out.read_text()[-2000:]  # ended by our SIGTERM, not by itself
    assert "stopping Airflow" in out.read_text()
    assert pgid is not None
    assert group_members(pgid) == [], "processes of airflow standalone were left behind"
    assert not (home / "standalone.pid").exists()
