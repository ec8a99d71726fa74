//! Ordering a model's versions: by semantic version when every version parses as one (a leading
//! `v` allowed), otherwise by creation time; never by string order, where 1.10 sorts before 1.9.

use super::store::Entry;

/// Sorts oldest first.
pub fn sort_versions(entries: &mut [Entry]) {
    let semantic: Option<Vec<semver::Version>> = entries
        .iter()
        .map(|e| parse_semver(&e.record.version))
        .collect();
    match semantic {
        Some(_) => entries.sort_by_cached_key(|e| parse_semver(&e.record.version)),
        // Stable: entries recorded in the same instant keep their recording order.
        None => entries.sort_by_cached_key(|e| {
            let time = e
                .record
                .created
                .clone()
                .unwrap_or_else(|| e.recorded_at.clone());
            time::OffsetDateTime::parse(&time, &time::format_description::well_known::Rfc3339).ok()
        }),
    }
}

fn parse_semver(version: &str) -> Option<semver::Version> {
    let text = version.strip_prefix('v').unwrap_or(version);
    semver::Version::parse(text).ok()
}
