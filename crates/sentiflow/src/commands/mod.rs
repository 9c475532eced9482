//! One module per subcommand; `main.rs` dispatches to them.

pub mod drive;
pub mod healthcheck;
pub mod process;
pub mod produce;
pub mod run;
pub mod score;
pub mod serve;
pub mod setup;
pub mod status;
pub mod verify;

use std::time::Duration;

use crate::cli::{CassandraArgs, ConsistencyArg};
use crate::sinks::cassandra::CassandraOptions;

/// Cassandra settings from the command line.
pub fn cassandra_options(
    args: &CassandraArgs,
    consistency: ConsistencyArg,
    max_in_flight: usize,
) -> CassandraOptions {
    use scylla::statement::Consistency;
    CassandraOptions {
        hosts: args
            .cassandra_hosts
            .split(',')
            .map(str::trim)
            .filter(|host| !host.is_empty())
            .map(str::to_owned)
            .collect(),
        batch_bytes: crate::sinks::cassandra::default_batch_bytes(),
        port: args.cassandra_port,
        username: args.cassandra_username.clone(),
        password: args.cassandra_password.clone(),
        tls: args.cassandra_ssl || args.cassandra_ssl_ca.is_some(),
        tls_ca: args.cassandra_ssl_ca.clone(),
        keyspace: args.keyspace.clone(),
        table: args.table.clone(),
        consistency: match consistency {
            ConsistencyArg::Any => Consistency::Any,
            ConsistencyArg::One => Consistency::One,
            ConsistencyArg::Two => Consistency::Two,
            ConsistencyArg::Three => Consistency::Three,
            ConsistencyArg::Quorum => Consistency::Quorum,
            ConsistencyArg::All => Consistency::All,
            ConsistencyArg::LocalQuorum => Consistency::LocalQuorum,
            ConsistencyArg::EachQuorum => Consistency::EachQuorum,
            ConsistencyArg::LocalOne => Consistency::LocalOne,
        },
        max_in_flight,
        request_timeout: Duration::from_secs(12),
    }
}
