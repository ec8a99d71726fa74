pub mod card;
pub mod hash;
pub mod keygen;
pub mod sign;
pub mod verify;
