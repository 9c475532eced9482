//! The address to serve on: exactly the one given, or, by default, the first
//! free port from 127.0.0.1:9464, so that two processors on one machine do
//! not collide.

use std::net::{Ipv4Addr, SocketAddr};

use crate::cli::{Listen, MetricsArgs};

/// The default port (the one OpenTelemetry's Prometheus exporters use).
pub const DEFAULT_PORT: u16 = 9464;

/// Ports tried after the default one when it is taken.
pub const DEFAULT_TRIES: u16 = 16;

/// How to pick the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bind {
    /// This address or fail (given by the user; port 0 asks the OS).
    Exact(SocketAddr),
    /// The first of `tries` ports from this address that is free.
    FirstFree(SocketAddr, u16),
}

impl Bind {
    /// 127.0.0.1:9464, or the next free port up to 9479.
    pub const fn default_range() -> Bind {
        Bind::FirstFree(
            SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), DEFAULT_PORT),
            DEFAULT_TRIES,
        )
    }

    /// The addresses to try, in order.
    pub fn candidates(self) -> Vec<SocketAddr> {
        match self {
            Bind::Exact(addr) => vec![addr],
            Bind::FirstFree(first, tries) => (0..tries)
                .filter_map(|step| first.port().checked_add(step))
                .map(|port| SocketAddr::new(first.ip(), port))
                .collect(),
        }
    }
}

/// Where a command serves, from its flags: `on_by_default` for `process`;
/// `ui` asks for a server even when metrics are off.
pub fn bind_for(args: &MetricsArgs, on_by_default: bool, ui: bool) -> Option<Bind> {
    match args.metrics_addr {
        Some(Listen::At(addr)) => Some(Bind::Exact(addr)),
        Some(Listen::Off) if ui => Some(Bind::default_range()),
        Some(Listen::Off) => None,
        None if on_by_default || ui => Some(Bind::default_range()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(listen: Option<Listen>) -> MetricsArgs {
        MetricsArgs {
            metrics_addr: listen,
        }
    }

    #[test]
    fn defaults_differ_per_command_and_ui_always_serves() {
        let at: SocketAddr = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(bind_for(&args(None), false, false), None);
        assert_eq!(
            bind_for(&args(None), true, false),
            Some(Bind::default_range())
        );
        assert_eq!(
            bind_for(&args(None), false, true),
            Some(Bind::default_range())
        );
        assert_eq!(bind_for(&args(Some(Listen::Off)), true, false), None);
        assert_eq!(
            bind_for(&args(Some(Listen::Off)), true, true),
            Some(Bind::default_range())
        );
        assert_eq!(
            bind_for(&args(Some(Listen::At(at))), false, false),
            Some(Bind::Exact(at))
        );
    }

    #[test]
    fn the_default_range_is_sixteen_ports_from_9464() {
        let candidates = Bind::default_range().candidates();
        assert_eq!(candidates.len(), 16);
        assert_eq!(candidates[0].to_string(), "127.0.0.1:9464");
        assert_eq!(candidates[15].to_string(), "127.0.0.1:9479");
    }
}
