# sentiflow's entry points. `make test` is what CI runs (.ci/run).
.PHONY: run test lint services unit fixtures bench bench-distributed build clean test-airflow

CARGO ?= cargo

## run: the main job, embedded: 1,000,000 sentences -> VADER -> ./sentiflow.db
run:
	$(CARGO) run --release -p sentiflow -- run --count 1000000

## test: every check and test. Starts the real Kafka and Cassandra itself (scripts/services,
## jars from Maven Central, cached in ~/.cache/sentiflow) and leaves them running.
test: lint services unit fixtures

## services: a smoke test of the real services, which leaves them up for the tests
services:
	scripts/services-smoke-test --no-down

## fixtures: the scorer's parity fixtures still match what vaderSentiment 3.3.2 says
fixtures:
	scripts/vader/check-fixtures

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

## test-airflow: the Airflow DAGs (airflow/dags) in real Airflow 3.3.2 against the real Kafka and
## Cassandra (started if needed). Installs Airflow once into ~/.cache/sentiflow/venv-airflow; builds
## nothing: the DAGs run $(SENTIFLOW_BIN) (default target/release/sentiflow, see `make build`).
SENTIFLOW_BIN ?= $(CURDIR)/target/release/sentiflow
test-airflow:
	scripts/services up
	SENTIFLOW_BIN="$(SENTIFLOW_BIN)" scripts/airflow test

## bench: the benchmarks recorded in BENCHMARKS.md that need no services
bench:
	scripts/bench-embedded
	scripts/bench-vader

## bench-distributed: process vs the raw Cassandra and Kafka ceilings, and latency (starts the services)
bench-distributed:
	scripts/bench-distributed

build:
	$(CARGO) build --release -p sentiflow

clean:
	$(CARGO) clean
