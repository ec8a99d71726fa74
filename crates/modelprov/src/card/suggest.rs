//! "Did you mean": the closest known name to a misspelled one.

/// The candidate closest to `word`, when it is close enough to be a typo: the same after folding
/// case and `-`/`_`, a plural away, within a small edit distance, or else the one candidate that
/// `word` abbreviates (`text-gen`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    if candidates.contains(&word) {
        return None;
    }
    let folded = fold(word);
    let limit = if folded.chars().count() <= 4 { 1 } else { 2 };
    let near = candidates
        .iter()
        .copied()
        .filter(|c| *c != word)
        .map(|c| {
            let other = fold(c);
            let distance = if other == folded
                || other == format!("{folded}s")
                || folded == format!("{other}s")
            {
                0
            } else {
                strsim::damerau_levenshtein(&folded, &other)
            };
            (distance, c)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c);
    if near.is_some() || folded.chars().count() < 4 {
        return near;
    }
    match candidates
        .iter()
        .filter(|c| fold(c).starts_with(&folded))
        .collect::<Vec<_>>()
        .as_slice()
    {
        [only] => Some(only),
        _ => None,
    }
}

fn fold(word: &str) -> String {
    word.to_lowercase().replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_find_their_word() {
        let keys = [
            "license",
            "language",
            "pipeline_tag",
            "model-index",
            "tags",
            "datasets",
        ];
        assert_eq!(closest("licence", keys), Some("license"));
        assert_eq!(closest("langauge", keys), Some("language"));
        assert_eq!(closest("pipline_tag", keys), Some("pipeline_tag"));
        assert_eq!(closest("model_index", keys), Some("model-index"));
        assert_eq!(closest("tag", keys), Some("tags"));
        assert_eq!(closest("dataset", keys), Some("datasets"));
        assert_eq!(closest("extra_gated_prompt", keys), None);
        assert_eq!(closest("pipe", keys), Some("pipeline_tag"));
        assert_eq!(
            closest("text", ["text-generation", "text-classification"]),
            None
        );
        assert_eq!(closest("license", keys), None);
    }
}
