//! Everything a card file passes through: front-matter splitting, YAML composition, the typed
//! view, validation, rendering and the card Statement parser. None may panic, and an unedited card
//! must write back as the exact bytes read.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use modelprov::card::{
    Card, CardData, completeness, parse_card_statement, render_html, render_readme, validate,
};

fuzz_target!(|data: &[u8]| {
    let _ = parse_card_statement(data);
    for name in ["README.md", "card.yaml"] {
        let Ok(card) = Card::from_bytes(Path::new(name), data) else {
            continue;
        };
        assert_eq!(card.to_text().as_bytes(), data, "unedited round trip");
        let today = time::Date::from_calendar_date(2026, time::Month::November, 27).unwrap();
        let _ = validate(&card, today);
        let _ = completeness(&card.metadata);
        let _ = CardData::from_metadata(&card.metadata);
        let _ = render_readme(&card, true);
        let _ = render_html(&card);
        let mut edited = card.clone();
        edited.set("provenance.model.digest", serde_json::json!("sha256:00"));
        let rewritten = edited.to_text();
        let again = Card::from_bytes(Path::new(name), rewritten.as_bytes())
            .expect("edited cards read back");
        assert_eq!(
            again.metadata, edited.metadata,
            "edits read back as written"
        );
    }
});
