//! Where scored rows and dead letters go: each implements
//! [`crate::pipeline::Sink`] and/or [`crate::pipeline::DeadLetterSink`].

pub mod sqlite;
