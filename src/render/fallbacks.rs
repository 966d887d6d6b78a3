//! Counts the people whose PreferredLanguage has no templates, so that `preview`, `send` and
//! the preview page say who got the default locale instead, and why (the fallback itself is
//! intended: a missing translation must not stop the notices).

use std::collections::BTreeMap;

use super::locale::Fallback;
use super::Renderer;
use crate::plan::Recipient;

/// People per (fallback, locale used).
#[derive(Debug, Default)]
pub struct Fallbacks {
    counts: BTreeMap<(String, String), (usize, String)>,
}

impl Fallbacks {
    /// The fallbacks of `people`'s notices as `renderer` would render them.
    pub fn of<'a>(renderer: &Renderer, people: impl IntoIterator<Item = &'a Recipient>) -> Self {
        let mut tally = Fallbacks::default();
        for r in people {
            let (used, why) = renderer.locale_of(r);
            if let Some(why) = why {
                tally.add(&why, &used);
            }
        }
        tally
    }

    /// Counts one person who got `used` because of `why`.
    pub fn add(&mut self, why: &Fallback, used: &str) {
        let key = (super::locale::normalize(&why.tag), used.to_string());
        let (n, _) = self.counts.entry(key).or_insert_with(|| {
            (
                0,
                format!(
                    "PreferredLanguage {}, no `{}` templates, used `{used}`",
                    why.tag, why.language
                ),
            )
        });
        *n += 1;
    }

    /// `12 people: PreferredLanguage de-DE, no `de` templates, used `en``, most people first.
    pub fn lines(&self) -> Vec<String> {
        let mut counted: Vec<&(usize, String)> = self.counts.values().collect();
        counted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        counted
            .into_iter()
            .map(|(n, what)| {
                let people = if *n == 1 {
                    "1 person".to_string()
                } else {
                    format!("{n} people")
                };
                format!("{people}: {what}")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fallback(tag: &str, language: &str) -> Fallback {
        Fallback {
            tag: tag.into(),
            language: language.into(),
        }
    }

    #[test]
    fn counts_each_tag_and_locale_once_most_people_first() {
        let mut t = Fallbacks::default();
        t.add(&fallback("fr-FR", "fr"), "en");
        for tag in ["de-DE", "de-de", "de_DE"] {
            t.add(&fallback(tag, "de"), "en");
        }
        assert_eq!(
            t.lines(),
            [
                "3 people: PreferredLanguage de-DE, no `de` templates, used `en`",
                "1 person: PreferredLanguage fr-FR, no `fr` templates, used `en`"
            ]
        );
        assert!(Fallbacks::default().lines().is_empty());
    }
}
