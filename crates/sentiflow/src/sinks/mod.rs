//! Where scored rows and dead letters go: each implements
//! [`crate::pipeline::Sink`] and/or [`crate::pipeline::DeadLetterSink`].
//! Each store also has the read paths the dashboard uses, returning the
//! plain data of [`view`].

pub mod cassandra;
pub mod dead_letter_topic;
pub mod sqlite;
pub mod view;
