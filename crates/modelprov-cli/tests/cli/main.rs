//! Every integration test of the `modelprov` binary, in one test binary: one build and link
//! instead of one per file (modules named after the behaviour they test).
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

mod bad_input;
mod bankable;
mod cache_cli;
mod card_cli;
mod completions_man;
mod hash_cli;
#[cfg(feature = "interop")]
mod interop_cards;
#[cfg(feature = "interop")]
mod interop_ignore;
#[cfg(feature = "interop")]
mod interop_oms;
#[cfg(feature = "interop")]
mod interop_raw;
#[cfg(feature = "interop")]
mod interop_sbom;
mod lineage_cli;
#[cfg(feature = "postgres")]
mod registry_access;
#[cfg(feature = "postgres")]
mod registry_cluster;
#[cfg(feature = "postgres")]
mod registry_faults;
#[cfg(feature = "postgres")]
mod registry_publish;
#[cfg(feature = "postgres")]
mod registry_server;
#[cfg(feature = "postgres")]
mod registry_support;
#[cfg(feature = "postgres")]
mod registry_transport;
mod sbom_cli;
mod scan_cli;
#[cfg(feature = "interop")]
mod scan_compare;
mod scan_contain;
mod scan_formats;
mod scan_policy_cli;
mod signing_bad_input;
mod sigstore_cli;
mod verify_cli;
