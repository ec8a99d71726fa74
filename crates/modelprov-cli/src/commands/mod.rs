pub mod hash;
pub mod verify;
