//! Picks the template locale for a person from the directory's PreferredLanguage: the full tag,
//! then its language alone, then `[message].default_locale` (`de-AT` -> `de-AT`, `de`, `en`).

use std::collections::BTreeSet;

/// A PreferredLanguage whose language has no templates, so the default locale stood in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fallback {
    /// The PreferredLanguage as the directory has it (`de-DE`).
    pub tag: String,
    /// Its language, which has no templates folder (`de`).
    pub language: String,
}

/// The locale folder to use, matched case-insensitively (`de_at` and `de-AT` are the same),
/// and why the default was used for a PreferredLanguage it could not serve (none when the
/// person has no PreferredLanguage, or `de-AT` used `de` as designed).
pub fn choose_why<'a>(
    preferred: Option<&str>,
    available: &'a BTreeSet<String>,
    default: &'a str,
) -> (&'a str, Option<Fallback>) {
    let Some(tag) = preferred.map(normalize).filter(|t| !t.is_empty()) else {
        return (default, None);
    };
    let language = tag.split('-').next().unwrap_or_default().to_string();
    match [&tag, &language]
        .iter()
        .find_map(|want| available.iter().find(|have| normalize(have) == **want))
    {
        Some(have) => (have, None),
        None => (
            default,
            Some(Fallback {
                tag: preferred.unwrap_or_default().trim().to_string(),
                language,
            }),
        ),
    }
}

/// `de_AT`, ` DE-at` -> `de-at`.
pub(super) fn normalize(tag: &str) -> String {
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
        let choose = |tag, available, default| choose_why(tag, available, default).0;
        let both = set(&["de", "de-AT", "en"]);
        assert_eq!(choose(Some("de-AT"), &both, "en"), "de-AT");
        assert_eq!(choose(Some("de_at"), &both, "en"), "de-AT");
        assert_eq!(choose(Some("de-CH"), &both, "en"), "de");
        assert_eq!(choose(Some("DE"), &both, "en"), "de");
        assert_eq!(choose(Some("fr-FR"), &both, "en"), "en");
        assert_eq!(choose(Some(""), &both, "en"), "en");
        assert_eq!(choose(None, &both, "en"), "en");
    }

    #[test]
    fn only_a_language_without_templates_is_a_fallback() {
        let both = set(&["de", "en"]);
        assert_eq!(choose_why(Some("de-AT"), &both, "en"), ("de", None));
        assert_eq!(choose_why(None, &both, "en"), ("en", None));
        assert_eq!(
            choose_why(Some(" fr-FR"), &both, "en"),
            (
                "en",
                Some(Fallback {
                    tag: "fr-FR".into(),
                    language: "fr".into()
                })
            )
        );
    }
}
