//! # taina-ffi
//!
//! The client SDK for Tainá's mobile apps, exported through uniffi to Kotlin, Swift and Python.
//! Filled in by the FFI issue; for now it re-exports the core types the bindings will carry.
#![forbid(unsafe_code)]

pub use taina_core as core;
