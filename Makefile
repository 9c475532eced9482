# sentiflow's entry points. `make test` is what CI runs (.ci/run).
.PHONY: run test lint unit bench build clean

CARGO ?= cargo

## run: the main job, embedded: 1,000,000 sentences -> VADER -> ./sentiflow.db
run:
	$(CARGO) run --release -p sentiflow -- run --count 1000000

## test: every check and test (formatting, lints, unit and integration tests)
test: lint unit

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

## bench: the benchmarks recorded in BENCHMARKS.md
bench:
	scripts/bench-embedded

build:
	$(CARGO) build --release -p sentiflow

clean:
	$(CARGO) clean
