//! TorchScript archives (`torch.jit.save`): a zip like a torch checkpoint, under one top folder,
//! with `code/` (the model's TorchScript source, `.py`, and `.debug_pkl` source maps),
//! `constants.pkl` (tensors and values the code uses), `data.pkl` (the module objects, of
//! `__torch__.*` classes) and `.data/version` or `version`.
//!
//! The pickles are scanned like any other member. The code is not Python: `torch.jit.load`
//! compiles it with the TorchScript compiler, which reaches only operators registered with
//! torch, and it runs when the model is called, not imported. So it is listed in notes, for a
//! reviewer to read, and is no finding: every TorchScript model has code, and flagging it would
//! flag them all. Operators from libraries loaded beside torch (`torch.ops.<namespace>`) are
//! outside the archive and outside what this scan sees.

/// How many code files are named in the note; the count covers the rest.
const NAMED_CODE_FILES: usize = 20;

/// Notes describing the TorchScript layout of an archive with these member names, or none when
/// it is not one.
pub(super) fn notes<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<&str> = names.collect();
    // The top folder, named after the file when saved; members may also sit at the root.
    let Some(prefix) = names.iter().find_map(|name| {
        name.strip_suffix("constants.pkl")
            .filter(|p| p.is_empty() || p.ends_with('/'))
    }) else {
        return Vec::new();
    };
    let inside: Vec<&str> = names
        .iter()
        .filter_map(|n| n.strip_prefix(prefix))
        .collect();
    let code: Vec<&str> = inside
        .iter()
        .copied()
        .filter(|n| n.starts_with("code/") && n.ends_with(".py"))
        .collect();
    let has_data = inside.contains(&"data.pkl");
    if code.is_empty() || !has_data {
        return Vec::new();
    }
    let extra: Vec<&str> = inside
        .iter()
        .filter_map(|n| n.strip_prefix("extra/"))
        .filter(|n| !n.is_empty())
        .collect();
    let mut shown: Vec<&str> = code.iter().take(NAMED_CODE_FILES).copied().collect();
    if code.len() > NAMED_CODE_FILES {
        shown.push("...");
    }
    let mut notes = vec![format!(
        "TorchScript archive: {} code file{} compiled by torch.jit.load and run when the model is \
         called (TorchScript, not Python; read them to know what the model does): {}",
        code.len(),
        if code.len() == 1 { "" } else { "s" },
        shown.join(", ")
    )];
    notes.push(format!(
        "TorchScript archive: {prefix}constants.pkl and {prefix}data.pkl scanned as pickles"
    ));
    if !extra.is_empty() {
        notes.push(format!(
            "TorchScript archive: extra files (read only by code that asks for them): {}",
            extra.join(", ")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jit_save_layout_is_recognised_and_its_code_listed() {
        let names = [
            "model/data.pkl",
            "model/constants.pkl",
            "model/code/__torch__.py",
            "model/code/__torch__.py.debug_pkl",
            "model/code/__torch__/torch/nn/modules/linear.py",
            "model/extra/meta.json",
            "model/.data/version",
            "model/data/0",
        ];
        let notes = notes(names.into_iter());
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("2 code files"), "{notes:?}");
        assert!(notes[0].contains("code/__torch__/torch/nn/modules/linear.py"));
        assert!(notes[2].contains("meta.json"));
    }

    #[test]
    fn a_plain_checkpoint_is_not_torchscript() {
        let names = ["archive/data.pkl", "archive/data/0", "archive/version"];
        assert!(notes(names.into_iter()).is_empty());
        // constants.pkl alone, without code, is no TorchScript either.
        let names = ["x/constants.pkl", "x/data.pkl"];
        assert!(notes(names.into_iter()).is_empty());
    }
}
