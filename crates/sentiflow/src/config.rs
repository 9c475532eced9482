//! Where settings come from, in order of precedence:
//!
//! 1. command-line flags;
//! 2. environment variables (each flag names its own, e.g. `SENTIFLOW_DB`);
//! 3. `secrets.env`, then `.env`, in the current directory, when present
//!    (the original stack keeps `CASSANDRA_USERNAME` and friends in `secrets.env`);
//! 4. the defaults shown by `--help`.
//!
//! Files never override a variable that is already set, which gives the order above.
//! A few variable names of the original stack are accepted as aliases (`ENV_ALIASES`).

use std::path::Path;

/// The env files read at start-up, most important first.
pub const ENV_FILES: &[&str] = &["secrets.env", ".env"];

/// Loads the env files that exist; returns the names of those read.
///
/// A file that exists but cannot be parsed is an error: silently ignoring it
/// would run with settings the user did not mean.
pub fn load_env_files(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut loaded = Vec::new();
    for name in ENV_FILES {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        dotenvy::from_path(&path).map_err(|error| {
            // The parse error quotes the line, which may hold a password: never show it.
            let cause = match error {
                dotenvy::Error::LineParse(_, index) => {
                    format!("syntax error at character {index} of a line")
                }
                other => other.to_string(),
            };
            anyhow::anyhow!("cannot read settings from {}: {cause}", path.display())
        })?;
        loaded.push((*name).to_string());
    }
    Ok(loaded)
}

/// Other names users of the original stack have for our variables: the
/// original name is honoured when ours is not set.
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("CASSANDRA_HOST", "CASSANDRA_HOSTS"),
    ("REPLICATION_FACTOR", "KAFKA_REPLICATION_FACTOR"),
    ("KAFKA_BROKERS", "KAFKA_BOOTSTRAP_SERVERS"),
    ("KAFKA_TOPIC_NAME", "KAFKA_TOPIC"),
];

/// Copies each alias to our name when only the alias is set.
pub fn apply_env_aliases() {
    for (alias, ours) in ENV_ALIASES {
        if std::env::var_os(ours).is_none()
            && let Some(value) = std::env::var_os(alias)
        {
            // SAFETY: called from `main` before any other thread exists.
            unsafe { std::env::set_var(ours, value) };
        }
    }
}
