//! sentiflow: streaming sentiment analysis.
//!
//! A [`sources`] module produces records, [`pipeline`] scores them with the
//! `vader` crate and writes them to a [`sinks`] module, acknowledging each
//! batch to its source only once it is durably written. The binary in
//! `main.rs` is a thin shell over [`commands`]. [`web`] serves metrics, health
//! and the dashboard; it reads the pipeline, which never knows it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod generate;
pub mod ids;
pub mod kafka;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod shutdown;
pub mod sinks;
pub mod sources;
pub mod stats;
pub mod web;
