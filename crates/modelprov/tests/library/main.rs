//! Every integration test of the library, in one test binary (modules named after what they
//! test).

mod common;

mod hashing;
mod key_files;
mod lineage_store;
mod oms_signatures;
mod oms_vectors;
mod verify_property;
