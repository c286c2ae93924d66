//! # taina-guara
//!
//! Guará, Tainá's messaging service, as pure rules: who may do what in a conversation
//! ([`conversation`]), what a message may hold ([`message`]), read state ([`read`]), typing
//! ([`typing`]) and presence ([`presence`]) as state machines driven by a `now` the caller passes,
//! the realtime events ([`event`]) and the search query language ([`search`]). The `taina` shell
//! persists, publishes and fans out.
#![forbid(unsafe_code)]

pub mod conversation;
pub mod event;
pub mod message;
pub mod model;
pub mod presence;
pub mod read;
pub mod search;
pub mod typing;

pub use taina_core as core;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
