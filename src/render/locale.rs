//! Picks the template locale for a person from the directory's PreferredLanguage: the full tag,
//! then its language alone, then `[message].default_locale` (`de-AT` -> `de-AT`, `de`, `en`).

use std::collections::BTreeSet;

/// The locale folder to use, matched case-insensitively (`de_at` and `de-AT` are the same).
pub fn choose<'a>(
    preferred: Option<&str>,
    available: &'a BTreeSet<String>,
    default: &'a str,
) -> &'a str {
    let Some(tag) = preferred.map(normalize).filter(|t| !t.is_empty()) else {
        return default;
    };
    let language = tag.split('-').next().unwrap_or_default().to_string();
    [tag, language]
        .iter()
        .find_map(|want| available.iter().find(|have| normalize(have) == *want))
        .map_or(default, String::as_str)
}

fn normalize(tag: &str) -> String {
    tag.trim().replace('_', "-").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn full_tag_then_language_then_default() {
        let both = set(&["de", "de-AT", "en"]);
        assert_eq!(choose(Some("de-AT"), &both, "en"), "de-AT");
        assert_eq!(choose(Some("de_at"), &both, "en"), "de-AT");
        assert_eq!(choose(Some("de-CH"), &both, "en"), "de");
        assert_eq!(choose(Some("DE"), &both, "en"), "de");
        assert_eq!(choose(Some("fr-FR"), &both, "en"), "en");
        assert_eq!(choose(Some(""), &both, "en"), "en");
        assert_eq!(choose(None, &both, "en"), "en");
    }
}
