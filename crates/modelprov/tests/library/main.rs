//! Every integration test of the library, in one test binary (modules named after what they
//! test).
// Fixtures write small, known values into fixed-width fields, and helpers are declared next to
// the one test step that uses them.
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::items_after_statements,
    clippy::format_collect
)]

mod common;

mod errors;
mod hashing;
mod key_files;
#[cfg(feature = "postgres")]
mod lineage_postgres;
#[cfg(feature = "lineage")]
mod lineage_store;
mod oms_signatures;
mod oms_vectors;
mod verify_property;
