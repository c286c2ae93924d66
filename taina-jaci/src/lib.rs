//! # taina-jaci
//!
//! Jaci, Tainá's photos service, as pure work: what a photo's bytes tell ([`facts`]), EXIF to
//! metadata ([`metadata`]), orientation
//! ([`orientation`]), upright WebP thumbnails ([`thumbnail`]), the timeline ([`timeline`]), albums
//! ([`album`]), video metadata ([`video`]) and what a decoder child process answers ([`wire`]).
//! The `taina` shell runs the jobs and storage.
#![forbid(unsafe_code)]

pub mod album;
pub mod bmff;
pub mod facts;
pub mod heif;
pub mod library;
pub mod media;
pub mod metadata;
pub mod orientation;
pub mod thumbnail;
pub mod timeline;
pub mod video;
pub mod wire;

pub use taina_core as core;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!();
