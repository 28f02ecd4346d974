//! Which state a name typed at the console means: the full name, or a unique last segment of
//! it (`store` for `notes/store`, `CONFIG` for `app::CONFIG`).
//!
//! Pure string work. Imports nothing from the crate: neither the console nor the runtime.

/// What a typed name resolved to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved<'a> {
    /// Exactly one of the names.
    One(&'a str),
    /// None of them.
    None,
    /// Several, as a short name: they are listed so the user can type one in full.
    Several(Vec<&'a str>),
}

/// Resolves `typed` among `names`: an exact match wins; otherwise the names whose last
/// segments (after `/` or `::`) end with `typed` as whole segments, if there is one.
pub(crate) fn resolve<'a>(typed: &str, names: &[&'a str]) -> Resolved<'a> {
    if let Some(exact) = names.iter().find(|name| **name == typed) {
        return Resolved::One(exact);
    }
    let mut matches: Vec<&'a str> = names
        .iter()
        .copied()
        .filter(|name| ends_with_segments(name, typed))
        .collect();
    matches.sort_unstable();
    matches.dedup();
    match matches.len() {
        0 => Resolved::None,
        1 => Resolved::One(matches[0]),
        _ => Resolved::Several(matches),
    }
}

/// True if `name` ends with `suffix` and the suffix starts right after a `/` or `::`.
fn ends_with_segments(name: &str, suffix: &str) -> bool {
    !suffix.is_empty() && name.len() > suffix.len() && name.ends_with(suffix) && {
        let head = &name[..name.len() - suffix.len()];
        head.ends_with('/') || head.ends_with("::")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 5] = [
        "notes/config",
        "notes/store",
        "notes/server",
        "app::db::CONFIG",
        "other/config",
    ];

    #[test]
    fn a_full_name_or_a_unique_last_segment() {
        assert_eq!(resolve("notes/store", &NAMES), Resolved::One("notes/store"));
        assert_eq!(resolve("store", &NAMES), Resolved::One("notes/store"));
        assert_eq!(resolve("CONFIG", &NAMES), Resolved::One("app::db::CONFIG"));
        assert_eq!(
            resolve("db::CONFIG", &NAMES),
            Resolved::One("app::db::CONFIG")
        );
    }

    #[test]
    fn a_part_of_a_segment_is_not_a_name() {
        assert_eq!(resolve("ore", &NAMES), Resolved::None);
        assert_eq!(resolve("tes/store", &NAMES), Resolved::None);
        assert_eq!(resolve("", &NAMES), Resolved::None);
    }

    #[test]
    fn an_ambiguous_short_name_lists_the_candidates() {
        assert_eq!(
            resolve("config", &NAMES),
            Resolved::Several(vec!["notes/config", "other/config"])
        );
    }
}
