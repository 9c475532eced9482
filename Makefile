# sentiflow's entry points. `make test` is what CI runs (.ci/run).
.PHONY: run test lint services unit fixtures bench bench-distributed build clean

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
