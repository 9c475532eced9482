//! sentiflow's integration tests: the real binary, real files, real services.

// Helpers shared by every module: running the binary, temp dirs, reading SQLite.
mod util;

// `sentiflow run`: the embedded pipeline end to end.
mod embedded;

// `sentiflow score`: JSON lines out, errors reported per line.
mod score;

// Command-line behaviour shared by every command: bad flags, settings files.
mod cli;

// Helpers for tests against the real Kafka and Cassandra (`scripts/services up`).
mod services;

// setup, produce, process, status and verify against the real services.
mod distributed;

// The Cassandra sink against a real Cassandra: setup, upserts, the README table, errors.
mod cassandra_sink;

// Regression tests for the processor's stalls, wedges and lost logs, with real faults.
mod hardening;

// Hostile input: property tests of the decoder and the scorer, unsafe names, and
// arbitrary bytes through the real services.
mod hostile;

// /metrics read by the Prometheus parsers after real runs, /readyz, healthcheck, serve, status --max-lag.
mod web;

// The dashboard in a real headless Chromium, driven over WebDriver during real runs.
mod browser;
