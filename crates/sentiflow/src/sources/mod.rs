//! Where records come from: each implements [`crate::pipeline::Source`].

pub mod kafka;
pub mod memory;
