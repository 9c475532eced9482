"""The independent audit behind scripts/audit (see there for the usage).

Reads a sentiflow table with the DataStax Python driver, which shares no code with
sentiflow (Rust, the scylla driver): the fault tests trust what this says, not what
sentiflow says about itself.
"""

import argparse
import json
import os
import ssl
import sys
import time

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
from cassandra.policies import RoundRobinPolicy
from cassandra.query import SimpleStatement

IDS_PER_SEED = 10_000_000_000
SAMPLE = 20


def expected_ids(specs, files):
    """The ids of SEED:FIRST:COUNT ranges (sentiflow's generator: seed * 10^10 + n) and of
    files with one decimal id per line."""
    ids = set()
    for spec in specs:
        seed, first, count = (int(part) for part in spec.split(":"))
        base = seed * IDS_PER_SEED + first
        ids.update(range(base, base + count))
    for path in files:
        with open(path, encoding="utf-8") as lines:
            ids.update(int(line) for line in lines if line.strip())
    return ids


def connect(consistency):
    hosts = [h.strip() for h in os.environ.get("CASSANDRA_HOSTS", "127.0.0.1").split(",") if h.strip()]
    port = int(os.environ.get("CASSANDRA_PORT", "9042"))
    contact, ports = [], set()
    for host in hosts:
        if host.count(":") == 1:
            host, host_port = host.split(":")
            ports.add(int(host_port))
        contact.append(host)
    if ports:
        port = ports.pop()
    auth = PlainTextAuthProvider(
        username=os.environ.get("CASSANDRA_USERNAME", "cassandra"),
        password=os.environ.get("CASSANDRA_PASSWORD", "cassandra"),
    )
    ssl_context = None
    ca = os.environ.get("CASSANDRA_SSL_CA_LOCATION")
    if ca:
        ssl_context = ssl.create_default_context(cafile=ca)
    profile = ExecutionProfile(
        load_balancing_policy=RoundRobinPolicy(),
        consistency_level=getattr(ConsistencyLevel, consistency.upper()),
        request_timeout=60,
    )
    cluster = Cluster(
        contact,
        port=port,
        auth_provider=auth,
        ssl_context=ssl_context,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
        connect_timeout=15,
    )
    return cluster, cluster.connect()


def audit_ids(args):
    expected = expected_ids(args.expect, args.expect_file)
    cluster, session = connect(args.consistency)
    started = time.monotonic()
    statement = SimpleStatement(
        f'SELECT id FROM "{args.keyspace}"."{args.table}"', fetch_size=5000
    )
    scanned = 0
    seen = set()
    for row in session.execute(statement):
        scanned += 1
        seen.add(row.id)
    cluster.shutdown()
    missing = expected - seen
    unexpected = seen - expected
    report = {
        "expected": len(expected),
        "rows_scanned": scanned,
        "distinct_ids": len(seen),
        "duplicates_by_id": scanned - len(seen),
        "missing": len(missing),
        "unexpected": len(unexpected),
        "missing_sample": sorted(missing)[:SAMPLE],
        "unexpected_sample": sorted(unexpected)[:SAMPLE],
        "consistency": args.consistency,
        "scan_seconds": round(time.monotonic() - started, 2),
    }
    print(json.dumps(report))


def audit_latency(args):
    ids = sorted(expected_ids(args.expect, []))[:: max(1, args.every)]
    cluster, session = connect(args.consistency)
    prepared = session.prepare(
        f'SELECT produced_at, processed_at FROM "{args.keyspace}"."{args.table}" WHERE id = ?'
    )
    futures = [session.execute_async(prepared, (i,)) for i in ids]
    latencies, missing = [], 0
    for future in futures:
        row = future.result().one()
        if row is None or row.produced_at is None or row.processed_at is None:
            missing += 1
            continue
        latencies.append((row.processed_at - row.produced_at).total_seconds() * 1000.0)
    cluster.shutdown()
    latencies.sort()

    def quantile(q):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    print(
        json.dumps(
            {
                "sampled": len(ids),
                "found": len(latencies),
                "missing": missing,
                "p50_ms": quantile(0.50),
                "p99_ms": quantile(0.99),
                "max_ms": round(latencies[-1], 1) if latencies else None,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(prog="scripts/audit")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("ids", "latency"):
        command = commands.add_parser(name)
        command.add_argument("--keyspace", required=True)
        command.add_argument("--table", default="sentimental_analysis")
        command.add_argument("--expect", action="append", default=[], metavar="SEED:FIRST:COUNT")
        command.add_argument("--consistency", default="quorum")
    commands.choices["ids"].add_argument("--expect-file", action="append", default=[])
    commands.choices["latency"].add_argument("--every", type=int, default=50)
    args = parser.parse_args()
    try:
        if args.command == "ids":
            audit_ids(args)
        else:
            audit_latency(args)
    except Exception as error:  # one line, never the password (the driver never prints it)
        message = " ".join(str(error).split())
        print(f"error: audit of {args.keyspace}.{args.table} failed: {type(error).__name__}: {message}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
