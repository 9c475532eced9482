//! Opening a session, and saying in one line why it could not be opened.

use std::io::ErrorKind;

use anyhow::bail;
use openssl::ssl::{SslConnector, SslMethod};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::{OpenSsl010Config, Session};
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{
    ConnectionError, ConnectionPoolError, ConnectionSetupRequestErrorKind, DbError, MetadataError,
    NewSessionError,
};

use super::options::CassandraOptions;

/// What to do when Cassandra cannot be reached at all.
const START_HINT: &str = "start it with `scripts/services up cassandra` or set CASSANDRA_HOSTS";

/// Opens a session to the cluster: it knows the nodes, keeps a connection pool
/// to each (re-opened in the background when a node comes back), and runs
/// requests at `options.consistency` within `options.request_timeout`.
///
/// Errors are one line naming the contact points, what failed and what to do;
/// they never contain the password.
pub async fn connect(options: &CassandraOptions) -> anyhow::Result<Session> {
    let contact_points = options.contact_points();
    if contact_points.is_empty() {
        bail!("no Cassandra host given; set CASSANDRA_HOSTS (for example 127.0.0.1)");
    }
    let table = options.table_name()?;
    let profile = ExecutionProfile::builder()
        .consistency(options.consistency)
        .request_timeout(Some(options.request_timeout))
        .build();
    let mut builder = SessionBuilder::new()
        .known_nodes(&contact_points)
        .connection_timeout(options.request_timeout)
        .default_execution_profile_handle(profile.into_handle())
        // Only our keyspace's metadata: token-aware routing needs it, the rest is noise.
        .keyspaces_to_fetch([table.keyspace().to_owned()]);
    if let Some(tls) = tls_context(options)? {
        builder = builder.tls_context(Some(tls));
    }
    match (&options.username, &options.password) {
        (Some(user), Some(password)) => builder = builder.user(user, password),
        (None, None) => {}
        (Some(user), None) => bail!(
            "CASSANDRA_USERNAME is set ({user:?}) but CASSANDRA_PASSWORD is not; set both, or neither for a cluster without authentication"
        ),
        (None, Some(_)) => bail!(
            "CASSANDRA_PASSWORD is set but CASSANDRA_USERNAME is not; set both, or neither for a cluster without authentication"
        ),
    }
    builder
        .build()
        .await
        .map_err(|error| anyhow::anyhow!(describe(&error, &contact_points.join(", "), options)))
}

/// The TLS settings of every connection: peer verification on (the node's
/// certificate must chain to `tls_ca`, or to the system's CAs, and name the
/// node's address), nothing when TLS is off.
fn tls_context(options: &CassandraOptions) -> anyhow::Result<Option<OpenSsl010Config>> {
    if !options.tls && options.tls_ca.is_none() {
        return Ok(None);
    }
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(|error| {
        anyhow::anyhow!(
            "cannot set up TLS for Cassandra: {}",
            one_line(&error.to_string())
        )
    })?;
    if let Some(ca) = &options.tls_ca {
        builder.set_ca_file(ca).map_err(|error| {
            anyhow::anyhow!(
                "cannot read the Cassandra CA certificate {} ({}); set CASSANDRA_SSL_CA_LOCATION to a PEM file",
                ca.display(),
                one_line(&error.to_string())
            )
        })?;
    }
    Ok(Some(OpenSsl010Config::new(builder)))
}

/// One line for a failed session: what failed, at which address, what to do.
fn describe(error: &NewSessionError, at: &str, options: &CassandraOptions) -> String {
    match error {
        NewSessionError::FailedToResolveAnyHostname(_) => {
            format!("cannot resolve the Cassandra host name(s) {at}; check CASSANDRA_HOSTS")
        }
        NewSessionError::EmptyKnownNodesList => {
            "no Cassandra host given; set CASSANDRA_HOSTS".to_owned()
        }
        NewSessionError::MetadataError(MetadataError::ConnectionPoolError(
            ConnectionPoolError::Broken {
                last_connection_error,
            },
        )) => describe_connection(last_connection_error, at, options),
        other => format!(
            "connected to Cassandra at {at} but could not read the cluster's metadata ({}); check that it is Cassandra 4 or later and that it finished starting",
            one_line(&other.to_string())
        ),
    }
}

fn describe_connection(error: &ConnectionError, at: &str, options: &CassandraOptions) -> String {
    let user = options.username.as_deref().unwrap_or_default();
    match error {
        ConnectionError::IoError(io) if tls_failure(io).is_some() => {
            let why = tls_failure(io).unwrap_or_default();
            if why.contains("certificate verify failed") {
                format!(
                    "the TLS certificate of Cassandra at {at} is not trusted ({why}); set CASSANDRA_SSL_CA_LOCATION to the CA that signed the nodes' certificates"
                )
            } else if options.tls {
                format!(
                    "TLS with Cassandra at {at} failed ({why}); check that the nodes have client_encryption_options enabled, or unset CASSANDRA_SSL / CASSANDRA_SSL_CA_LOCATION"
                )
            } else {
                format!("cannot talk to Cassandra at {at} ({why}); {START_HINT}")
            }
        }
        ConnectionError::IoError(io) => {
            let why = match io.kind() {
                ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                ErrorKind::TimedOut => "connection timed out".to_owned(),
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    "host unreachable".to_owned()
                }
                _ => one_line(&io.to_string()),
            };
            format!("cannot reach Cassandra at {at} ({why}); {START_HINT}")
        }
        ConnectionError::ConnectTimeout => format!(
            "cannot reach Cassandra at {at} (no answer within {:?}); {START_HINT}",
            options.request_timeout
        ),
        ConnectionError::ConnectionSetupRequestError(setup) => match setup.get_error() {
            ConnectionSetupRequestErrorKind::DbError(DbError::AuthenticationError, _) => format!(
                "Cassandra at {at} refused the login of user '{user}' (bad credentials); check CASSANDRA_USERNAME / CASSANDRA_PASSWORD"
            ),
            ConnectionSetupRequestErrorKind::MissingAuthentication => format!(
                "Cassandra at {at} requires a login; set CASSANDRA_USERNAME and CASSANDRA_PASSWORD"
            ),
            ConnectionSetupRequestErrorKind::DbError(db_error, _) => format!(
                "Cassandra at {at} refused the connection ({}); check that it finished starting and that CASSANDRA_USERNAME may log in",
                one_line(&db_error.to_string())
            ),
            other if !options.tls => format!(
                "cannot talk to Cassandra at {at} ({}); if its nodes require TLS (client_encryption_options), set CASSANDRA_SSL=true and CASSANDRA_SSL_CA_LOCATION, else check that the port is Cassandra's native (CQL) port",
                one_line(&other.to_string())
            ),
            other => format!(
                "cannot talk to Cassandra at {at} ({}); check that the port is Cassandra's native (CQL) port",
                one_line(&other.to_string())
            ),
        },
        ConnectionError::BrokenConnection(broken) if !options.tls => format!(
            "Cassandra at {at} closed the connection during the handshake ({}); if its nodes require TLS (client_encryption_options), set CASSANDRA_SSL=true and CASSANDRA_SSL_CA_LOCATION",
            one_line(&broken.to_string())
        ),
        other => format!(
            "cannot connect to Cassandra at {at} ({}); {START_HINT}",
            one_line(&other.to_string())
        ),
    }
}

/// OpenSSL's reason when an I/O error is a TLS failure (the driver turns
/// them into I/O errors).
fn tls_failure(io: &std::io::Error) -> Option<String> {
    let text = one_line(&io.to_string());
    let tls = io.get_ref().is_some_and(|inner| {
        inner.is::<openssl::ssl::Error>() || inner.is::<openssl::error::ErrorStack>()
    }) || text.contains("SSL routines")
        || text.contains("certificate verify failed");
    tls.then_some(text)
}

/// Driver messages sometimes span lines; ours are one line.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_messages_are_folded_onto_one_line() {
        assert_eq!(one_line("a\n   b\tc "), "a b c");
    }
}
