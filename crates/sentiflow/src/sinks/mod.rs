//! Where scored rows and dead letters go: each implements
//! [`crate::pipeline::Sink`] and/or [`crate::pipeline::DeadLetterSink`].

pub mod cassandra;
pub mod dead_letter_topic;
pub mod sqlite;
