//! Where a card may live relative to the model it describes.

use std::path::Path;

use crate::error::{Error, Result};
use crate::walk::{MODEL_CARD, path_inside_model};

/// A card describes a model by its digest, so it cannot be part of the bytes that digest covers.
/// The model's identity leaves out the folder's README.md (the Hugging Face card); any other card
/// file inside the model folder would be model content, so it is refused.
pub fn check_card_location(model: &Path, card: &Path) -> Result<()> {
    match path_inside_model(model, card)? {
        Some(name) if name != MODEL_CARD => Err(Error::Usage(format!(
            "{} lies inside the model {} as '{name}', so it is part of the model's content and \
             cannot record the model's digest; keep the card as the folder's {MODEL_CARD} or \
             outside the folder",
            card.display(),
            model.display()
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_or_a_file_outside_is_a_card_anything_else_inside_is_content() {
        let folder = tempfile::tempdir().unwrap();
        let model = folder.path().join("m");
        std::fs::create_dir(&model).unwrap();
        assert!(check_card_location(&model, &model.join("README.md")).is_ok());
        assert!(check_card_location(&model, &folder.path().join("card.yaml")).is_ok());
        let error = check_card_location(&model, &model.join("card.yaml")).unwrap_err();
        assert!(error.to_string().contains("as 'card.yaml'"), "{error}");
        let nested = check_card_location(&model, &model.join("docs/README.md")).unwrap_err();
        assert!(nested.to_string().contains("'docs/README.md'"), "{nested}");
    }
}
