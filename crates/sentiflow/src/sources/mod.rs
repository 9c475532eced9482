//! Where records come from: each implements [`crate::pipeline::Source`].

pub mod memory;
