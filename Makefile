# sentiflow's entry points. `make test` is what CI runs (.ci/run).
.PHONY: run test lint services unit fixtures bench bench-distributed build clean web-test-deps browser screenshot bench-web

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

## bench-web: what metrics, the dashboard and its companion table cost run and process (starts the services)
bench-web:
	scripts/bench-web

## web-test-deps: what the web tests need, installed when missing: headless Chromium and
## chromedriver (apt: chromium chromium-driver fonts-dejavu-core) and Python's prometheus_client
## (a virtualenv in ~/.cache/sentiflow). Without them those tests fail, never skip.
web-test-deps:
	scripts/web-test-deps

## browser: the same (the browser is the larger part)
browser: web-test-deps

## screenshot: the README's dashboard screenshot, taken by the browser test during a real process
screenshot: web-test-deps
	SENTIFLOW_SCREENSHOT_DIR=$(CURDIR)/docs/images $(CARGO) test --locked -p sentiflow --test integration -- browser::dashboard_in_chromium_during_a_real_process

build:
	$(CARGO) build --release -p sentiflow

clean:
	$(CARGO) clean
