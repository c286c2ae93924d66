//! # taina-ybira
//!
//! Ybira, Tainá's files service, as pure decisions: who may do what ([`access`]), item names and
//! their collisions ([`name`]), where blobs live ([`layout`]), folder moves ([`tree`]), listing order
//! and cursors ([`listing`]), content types ([`mime`]), byte ranges ([`range`]), upload limits and
//! quota reservations ([`upload`]), tus request headers ([`tus`]), versions ([`versions`]) and the integrity check ([`integrity`]).
//! The `taina` shell performs the effects.
#![forbid(unsafe_code)]

pub mod access;
pub mod audience;
pub mod dav;
pub mod integrity;
pub mod item;
pub mod layout;
pub mod listing;
pub mod meter;
pub mod mime;
pub mod name;
pub mod range;
pub mod tree;
pub mod tus;
pub mod upload;
pub mod versions;

pub use taina_core as core;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
