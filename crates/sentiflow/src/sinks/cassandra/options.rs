//! How to reach Cassandra and which table to write, and the validation of
//! everything in it that ends up inside a CQL statement.

use std::fmt;
use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use scylla::statement::Consistency;

/// Everything the Cassandra sink needs to know. Build it with
/// `CassandraOptions { hosts, ..Default::default() }`.
#[derive(Clone)]
pub struct CassandraOptions {
    /// Contact points, `host` or `host:port` (an entry may also hold several,
    /// separated by commas). The driver discovers the rest of the cluster.
    pub hosts: Vec<String>,
    /// Port of the contact points that do not name one.
    pub port: u16,
    /// Login for `PasswordAuthenticator` clusters; `None` when the cluster
    /// allows anonymous access.
    pub username: Option<String>,
    /// Password of `username`. Never printed, not even by `Debug`.
    pub password: Option<String>,
    /// Client-to-node TLS: connections are encrypted and the nodes'
    /// certificates verified (against `tls_ca`, or the system's CAs).
    pub tls: bool,
    /// The CA certificate (PEM file) that signed the nodes' certificates.
    pub tls_ca: Option<PathBuf>,
    /// Keyspace holding the table.
    pub keyspace: String,
    /// Table the rows go to.
    pub table: String,
    /// Consistency of writes and of reads (`stored_ids`, `count_rows`).
    pub consistency: Consistency,
    /// Requests in flight at once for the whole sink (each a batch of rows,
    /// or one row when batching is off), across the pipeline's batches.
    pub max_in_flight: usize,
    /// Estimated bytes of rows per request: rows owned by the same replicas
    /// are sent together in unlogged batches up to this size; 0 sends every
    /// row on its own (prepared single-row inserts).
    pub batch_bytes: usize,
    /// Client-side limit for one request, and for opening a connection.
    pub request_timeout: Duration,
}

/// Default contact point.
pub const fn default_port() -> u16 {
    9042
}

/// The original stack's keyspace.
pub const fn default_keyspace() -> &'static str {
    "spark_streaming"
}

/// The original stack's table.
pub const fn default_table() -> &'static str {
    "sentimental_analysis"
}

/// A write is acknowledged by a majority of the local data center's replicas.
pub const fn default_consistency() -> Consistency {
    Consistency::LocalQuorum
}

/// Enough batches in flight to keep one node busy, few enough to bound memory.
pub const fn default_max_in_flight() -> usize {
    64
}

/// Under Cassandra's `batch_size_warn_threshold` (5 KiB), with room for
/// what the estimate leaves out.
pub const fn default_batch_bytes() -> usize {
    4096
}

pub const fn default_request_timeout() -> Duration {
    Duration::from_secs(10)
}

impl Default for CassandraOptions {
    fn default() -> Self {
        CassandraOptions {
            hosts: vec!["127.0.0.1".to_owned()],
            port: default_port(),
            username: None,
            password: None,
            tls: false,
            tls_ca: None,
            keyspace: default_keyspace().to_owned(),
            table: default_table().to_owned(),
            consistency: default_consistency(),
            max_in_flight: default_max_in_flight(),
            batch_bytes: default_batch_bytes(),
            request_timeout: default_request_timeout(),
        }
    }
}

// By hand, so that `{:?}` of the options can never leak the password.
impl fmt::Debug for CassandraOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CassandraOptions")
            .field("hosts", &self.hosts)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("tls_ca", &self.tls_ca)
            .field("keyspace", &self.keyspace)
            .field("table", &self.table)
            .field("consistency", &self.consistency)
            .field("max_in_flight", &self.max_in_flight)
            .field("batch_bytes", &self.batch_bytes)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

impl CassandraOptions {
    /// The contact points as `host:port`, in the order given.
    pub fn contact_points(&self) -> Vec<String> {
        self.hosts
            .iter()
            .flat_map(|entry| entry.split(','))
            .map(str::trim)
            .filter(|host| !host.is_empty())
            .map(|host| with_port(host, self.port))
            .collect()
    }

    /// The validated keyspace and table.
    pub fn table_name(&self) -> anyhow::Result<TableName> {
        TableName::new(&self.keyspace, &self.table)
    }
}

/// `host` with `default_port` unless it names a port (IPv6 literals included).
fn with_port(host: &str, default_port: u16) -> String {
    if host.parse::<SocketAddr>().is_ok() {
        return host.to_owned();
    }
    if host.parse::<Ipv6Addr>().is_ok() {
        return format!("[{host}]:{default_port}");
    }
    if host.starts_with('[') && host.ends_with(']') {
        return format!("{host}:{default_port}");
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.parse::<u16>().is_ok() => host.to_owned(),
        _ => format!("{host}:{default_port}"),
    }
}

/// A keyspace and a table whose names are safe to put into CQL text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    keyspace: String,
    table: String,
}

/// Cassandra's limit for keyspace and table names.
const MAX_NAME_LENGTH: usize = 48;

impl TableName {
    /// Validates both names as unquoted CQL identifiers (a letter, then
    /// letters, digits or underscores, at most 48) and folds them to lower
    /// case, as Cassandra does for unquoted names.
    pub fn new(keyspace: &str, table: &str) -> anyhow::Result<TableName> {
        Ok(TableName {
            keyspace: identifier("keyspace", keyspace, "--keyspace")?,
            table: identifier("table", table, "--table")?,
        })
    }

    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// `"keyspace"."table"`, for CQL text. Quoting keeps names that happen to
    /// be CQL keywords working; validation guarantees there is no quote inside.
    pub fn cql(&self) -> String {
        format!("\"{}\".\"{}\"", self.keyspace, self.table)
    }

    /// `"keyspace"`, for CQL text.
    pub fn keyspace_cql(&self) -> String {
        format!("\"{}\"", self.keyspace)
    }
}

/// `keyspace.table`, for people.
impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.keyspace, self.table)
    }
}

fn identifier(what: &str, name: &str, flag: &str) -> anyhow::Result<String> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_NAME_LENGTH;
    if !valid {
        bail!(
            "invalid Cassandra {what} name {name:?}: use a letter followed by letters, digits or underscores, at most {MAX_NAME_LENGTH} characters (set {flag})"
        );
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_points_get_the_default_port_unless_they_name_one() {
        let options = CassandraOptions {
            hosts: vec![
                "127.0.0.1".into(),
                "db1:9043, db2".into(),
                "::1".into(),
                "[::1]:9044".into(),
                "[fe80::1]".into(),
                "".into(),
            ],
            port: 19042,
            ..Default::default()
        };
        assert_eq!(
            options.contact_points(),
            [
                "127.0.0.1:19042",
                "db1:9043",
                "db2:19042",
                "[::1]:19042",
                "[::1]:9044",
                "[fe80::1]:19042"
            ]
        );
    }

    #[test]
    fn names_are_folded_to_lower_case_and_quoted() {
        let name = TableName::new("Spark_Streaming", "select").unwrap();
        assert_eq!(name.to_string(), "spark_streaming.select");
        assert_eq!(name.cql(), "\"spark_streaming\".\"select\"");
        assert_eq!(name.keyspace_cql(), "\"spark_streaming\"");
    }

    #[test]
    fn names_that_could_inject_cql_are_refused() {
        for bad in [
            "",
            "1abc",
            "_abc",
            "a-b",
            "a.b",
            "a\"b",
            "a b",
            "x; DROP KEYSPACE y",
            "é",
            &"a".repeat(49),
        ] {
            let error = TableName::new(bad, "t").unwrap_err().to_string();
            assert!(error.contains("invalid Cassandra keyspace name"), "{error}");
            assert!(TableName::new("k", bad).is_err(), "{bad:?}");
        }
        assert!(TableName::new(&"a".repeat(48), "t").is_ok());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let options = CassandraOptions {
            username: Some("cassandra".into()),
            password: Some("s3cret-pa55".into()),
            ..Default::default()
        };
        let printed = format!("{options:?}");
        assert!(!printed.contains("s3cret-pa55"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}
