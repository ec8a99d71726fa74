pub mod card;
pub mod hash;
pub mod keygen;
pub mod lineage;
pub mod sbom;
pub mod scan;
pub mod sign;
pub mod verify;
