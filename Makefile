# sentiflow's entry points. `make test` is what CI runs (.ci/run).
.PHONY: run test lint services unit fixtures bench bench-distributed bench-ceiling bench-vs-spark build clean test-airflow web-test-deps browser screenshot bench-web
.PHONY: test-faults test-faults-down soak
.PHONY: up down logs secrets up-host lint-docker test-docker

CARGO ?= cargo
# The release binary the Airflow and Docker tests run (built by `make build`).
SENTIFLOW_BIN ?= $(CURDIR)/target/release/sentiflow

## run: the main job, embedded: 1,000,000 sentences -> VADER -> ./sentiflow.db
run:
	$(CARGO) run --release -p sentiflow -- run --count 1000000

## test: every check and test. Starts the real Kafka and Cassandra itself (scripts/services,
## jars from Maven Central, cached in ~/.cache/sentiflow) and leaves them running; installs
## Airflow (PyPI), headless Chromium (Debian) and a private Docker engine (Debian) when missing.
test: lint services web-test-deps unit fixtures build test-airflow test-docker

## services: a smoke test of the real services, which leaves them up for the tests
services:
	scripts/services-smoke-test --no-down

## fixtures: the scorer's parity fixtures still match what vaderSentiment 3.3.2 says
fixtures:
	scripts/vader/check-fixtures

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) clippy -p sentiflow --locked --test faults --test soak -- -D warnings

unit:
	$(CARGO) test --workspace --locked

## test-airflow: the Airflow DAGs (airflow/dags) in real Airflow 3.3.2 against the real Kafka and
## Cassandra (started if needed). Installs Airflow once into ~/.cache/sentiflow/venv-airflow; builds
## nothing: the DAGs run $(SENTIFLOW_BIN) (default target/release/sentiflow, see `make build`).
test-airflow:
	scripts/services up
	SENTIFLOW_BIN="$(SENTIFLOW_BIN)" scripts/airflow test

# ------------------------------------------------------------------------------ faults (docs/faults.md)
# The fault scenarios run against clusters of their own, beside the shared services: 3 Kafka
# brokers on 127.0.0.1:29092-29094 and 3 Cassandra nodes on 127.0.1.1-3 (run folder run-faults),
# a secured pair on 127.0.0.1:29292 and 127.0.2.1 (run-secure), the soak's pair on 127.0.0.1:29492
# and 127.0.3.1 (run-soak). The tests start them (scripts/services up); these targets stop them.
FAULTS_CACHE = $(or $(SENTIFLOW_CACHE),$(HOME)/.cache/sentiflow)
FAULTS_CLUSTERS = SENTIFLOW_RUN=$(or $(FAULTS_RUN),$(FAULTS_CACHE)/run-faults) \
	SENTIFLOW_KAFKA_PORT=$(or $(FAULTS_KAFKA_PORT),29092) SENTIFLOW_KAFKA_CONTROLLER_PORT=$(or $(FAULTS_KAFKA_CONTROLLER_PORT),29192) \
	SENTIFLOW_CASSANDRA_ADDRESS=$(or $(FAULTS_CASSANDRA_ADDRESS),127.0.1.1) SENTIFLOW_CASSANDRA_JMX_PORT=$(or $(FAULTS_CASSANDRA_JMX_PORT),17199)
FAULTS_SECURE = SENTIFLOW_RUN=$(or $(FAULTS_SECURE_RUN),$(FAULTS_CACHE)/run-secure) \
	SENTIFLOW_KAFKA_PORT=$(or $(FAULTS_SECURE_KAFKA_PORT),29292) SENTIFLOW_KAFKA_CONTROLLER_PORT=$(or $(FAULTS_SECURE_KAFKA_CONTROLLER_PORT),29392) \
	SENTIFLOW_CASSANDRA_ADDRESS=$(or $(FAULTS_SECURE_CASSANDRA_ADDRESS),127.0.2.1) SENTIFLOW_CASSANDRA_JMX_PORT=$(or $(FAULTS_SECURE_CASSANDRA_JMX_PORT),17299)
SOAK_CLUSTER = SENTIFLOW_RUN=$(or $(SOAK_RUN),$(FAULTS_CACHE)/run-soak) \
	SENTIFLOW_KAFKA_PORT=$(or $(SOAK_KAFKA_PORT),29492) SENTIFLOW_KAFKA_CONTROLLER_PORT=$(or $(SOAK_KAFKA_CONTROLLER_PORT),29592) \
	SENTIFLOW_CASSANDRA_ADDRESS=$(or $(SOAK_CASSANDRA_ADDRESS),127.0.3.1) SENTIFLOW_CASSANDRA_JMX_PORT=$(or $(SOAK_CASSANDRA_JMX_PORT),17399)
# One scenario: make test-faults FAULTS=broker_loss (or original_settings, cassandra_loss, storm, security).
FAULTS ?=

## test-faults: the fault scenarios (broker loss, the original settings, Cassandra node loss, a rebalance
## storm, security), each ending with an independent audit and its figures; stops their clusters after
test-faults:
	@rc=0; $(CARGO) test -p sentiflow --locked --test faults -- --test-threads 1 --nocapture $(FAULTS) || rc=$$?; \
	$(MAKE) --no-print-directory test-faults-down; exit $$rc

## test-faults-down: stop the fault tests' clusters (data kept; they are started again by the tests)
test-faults-down:
	-$(FAULTS_CLUSTERS) scripts/services down
	-$(FAULTS_SECURE) scripts/services down
	-$(SOAK_CLUSTER) scripts/services down

## soak: 10+ minutes at 5,000 messages/s through one processor (SOAK_MINUTES, SOAK_RATE), RSS, CPU
## and p99 latency sampled every 10 s and their slopes reported; a release build; not in CI
soak:
	@rc=0; $(CARGO) test --release -p sentiflow --locked --test soak -- --nocapture || rc=$$?; \
	$(SOAK_CLUSTER) scripts/services down; exit $$rc

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
## chromedriver (apt: chromium chromium-driver fonts-dejavu-core fonts-noto-color-emoji) and Python's prometheus_client
## (a virtualenv in ~/.cache/sentiflow). Without them those tests fail, never skip.
web-test-deps:
	scripts/web-test-deps

## browser: the same (the browser is the larger part)
browser: web-test-deps

## screenshot: the README's dashboard screenshot, taken by the browser test during a real process
screenshot: web-test-deps
	SENTIFLOW_SCREENSHOT_DIR=$(CURDIR)/docs/images $(CARGO) test --locked -p sentiflow --test integration -- browser::dashboard_in_chromium_during_a_real_process

## bench-ceiling: Cassandra's real write ceiling: single-row inserts vs grouped unlogged batches (starts the services)
bench-ceiling:
	scripts/bench-ceiling

## bench-vs-spark: sentiflow against the original PySpark + Kafka + Cassandra stack on the same messages
## (installs PySpark and the connector jars into ~/.cache/sentiflow once; about 10 minutes)
bench-vs-spark:
	scripts/bench-vs-spark

build:
	$(CARGO) build --release --locked -p sentiflow

clean:
	$(CARGO) clean

# ------------------------------------------------------------------------------ Docker (deploy/)
# The stack in Docker Compose; see docs/deploy.md. COMPOSE is any Compose v2 CLI
# (on a machine without Docker: COMPOSE="scripts/docker-engine compose", after
# scripts/docker-engine install && scripts/docker-engine start).
COMPOSE ?= docker compose
STACK = $(COMPOSE) --env-file deploy/secrets.env -f deploy/docker-compose.yml

## secrets: deploy/secrets.env from deploy/secrets.env.example, random passwords and keys (once)
secrets: deploy/secrets.env

deploy/secrets.env:
	scripts/deploy-secrets deploy/secrets.env

## up: the whole stack (Kafka x3, Cassandra, sentiflow, Prometheus, kafka-ui, Airflow), built and started
up: deploy/secrets.env
	$(STACK) up -d --build
	@echo "dashboard http://127.0.0.1:8080  kafka-ui http://127.0.0.1:8081  Airflow http://127.0.0.1:8082  Prometheus http://127.0.0.1:9090"
	@echo "(ports and the Airflow login: deploy/secrets.env; make logs follows the logs, make down stops)"

## up-host: only the sentiflow services, against the Kafka and Cassandra of scripts/services (host network)
up-host: deploy/secrets.env
	$(STACK) -f deploy/docker-compose.host.yml up -d --build

## down: stop and remove the containers (of up or up-host); named volumes keep the data (-v wipes)
down:
	$(STACK) down

## logs: follow the logs of every service
logs:
	$(STACK) logs -f --tail=100

## lint-docker: the static checks of deploy/ (hadolint, compose config, schema, variables); no engine
lint-docker:
	scripts/docker-test static

## test-docker: static checks, then the image (its HEALTHCHECK and dashboard included) and the
## compose services with a real (private) Docker engine against the real Kafka and Cassandra;
## installs docker.io and the tools, stops its dockerd
test-docker:
	scripts/docker-test static image compose healthcheck dashboard
