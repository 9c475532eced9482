//! The distributed sink: Apache Cassandra through the `scylla` driver.
//!
//! **Architecture Invariant:** only this folder knows CQL. Every statement is
//! prepared, DDL included; keyspace and table names cannot be bound, so they
//! are validated as CQL identifiers ([`TableName`]) before they are quoted
//! into a statement. The password never appears in a log or an error.
//!
//! - `options.rs`: [`CassandraOptions`], contact points, identifiers.
//! - `connect.rs`: [`connect`] and the wording of connection errors.
//! - `schema.rs`: our table, what an existing table offers ([`setup`],
//!   [`stored_ids`], [`count_rows`]).
//! - `sink.rs`: [`CassandraSink`], prepared upserts in unlogged batches of
//!   rows owned by the same replicas (`grouping.rs`), bounded concurrency, and
//!   how write errors are classified.
//! - `dashboard.rs`: the dashboard's companion table (sentiment per minute,
//!   written by the sink next to each row) and its read path ([`Dashboard`], [`ping`]).

mod connect;
mod dashboard;
mod grouping;
mod options;
mod schema;
mod sink;

pub use connect::connect;
pub use dashboard::{COMPANION_SUFFIX, Dashboard, companion_of, ping};
pub use options::{CassandraOptions, TableName, default_batch_bytes, default_max_in_flight};
pub use schema::{
    Creation, RowCount, SetupReport, count_rows, count_rows_within, setup, stored_ids,
};
pub use sink::CassandraSink;
