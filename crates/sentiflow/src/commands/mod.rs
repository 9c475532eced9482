//! One module per subcommand; `main.rs` dispatches to them.

pub mod run;
pub mod score;
