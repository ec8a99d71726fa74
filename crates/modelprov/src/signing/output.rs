//! Where a signature may be written relative to the model it signs.

use std::path::Path;

use crate::attest::read_bundle;
use crate::error::{Error, Result};
use crate::walk::path_inside_model;

/// A signature file may lie inside the model it signs (OMS leaves it out of the model, as
/// model_signing does), but it must never replace one of the model's files: inside the model it
/// may only be new, or replace an earlier signature (a file that reads as a Sigstore bundle).
pub fn check_signature_output(model: &Path, output: &Path) -> Result<()> {
    let Some(name) = path_inside_model(model, output)? else {
        return Ok(());
    };
    if std::fs::symlink_metadata(output).is_err() || read_bundle(output).is_ok() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{} is the model file '{name}' of {}, not a signature; writing the signature there would \
         destroy it; choose another --output",
        output.display(),
        model.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_inside_the_model_never_replaces_a_model_file() {
        let folder = tempfile::tempdir().unwrap();
        let model = folder.path().join("m");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("weights.bin"), b"weights").unwrap();
        assert!(check_signature_output(&model, &model.join("model.sig")).is_ok());
        assert!(check_signature_output(&model, &folder.path().join("weights.bin")).is_ok());
        let error = check_signature_output(&model, &model.join("weights.bin")).unwrap_err();
        assert!(error.to_string().contains("'weights.bin'"), "{error}");
        assert_eq!(
            std::fs::read(model.join("weights.bin")).unwrap(),
            b"weights"
        );
    }
}
