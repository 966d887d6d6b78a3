//! Dates written out in a notice's language (`Tuesday 8 December 2026`, `Dienstag, 8. Dezember
//! 2026`, `mardi 8 décembre 2026`): the day and month names are chrono's (its
//! `unstable-locales` data, from glibc); the order of the parts is ours, one pattern per
//! language, since the locale data has no long date format. A language without a pattern gets
//! the ISO date (`2026-12-08`), which no reader misreads.

use chrono::{Datelike, Locale, NaiveDate};

/// The languages whose long date we write out: (language, chrono locale when the tag's region
/// is unknown to chrono, pattern).
const LONG_DATES: [(&str, &str, &str); 7] = [
    ("en", "en_GB", "%A %-d %B %Y"),
    ("de", "de_DE", "%A, %-d. %B %Y"),
    ("fr", "fr_FR", "%A %-d %B %Y"),
    ("es", "es_ES", "%A, %-d de %B de %Y"),
    ("it", "it_IT", "%A %-d %B %Y"),
    ("nl", "nl_NL", "%A %-d %B %Y"),
    ("pt", "pt_PT", "%A, %-d de %B de %Y"),
];

/// `date` written out for the locale folder `locale` (`de`, `de-AT`, `fr_CA`), else ISO.
pub fn written(date: NaiveDate, locale: &str) -> String {
    let tag = locale.trim().replace('-', "_");
    let (language, region) = match tag.split_once('_') {
        Some((l, r)) => (l.to_ascii_lowercase(), Some(r.to_ascii_uppercase())),
        None => (tag.to_ascii_lowercase(), None),
    };
    let Some((_, default, pattern)) = LONG_DATES.iter().find(|(l, _, _)| *l == language) else {
        return date.format("%Y-%m-%d").to_string();
    };
    // The region's own names where chrono has them (`Jänner` in de_AT).
    let chrono_locale = region
        .and_then(|r| Locale::try_from(format!("{language}_{r}").as_str()).ok())
        .or_else(|| Locale::try_from(*default).ok())
        .unwrap_or(Locale::POSIX);
    let text = date.format_localized(pattern, chrono_locale).to_string();
    if language == "fr" && date.day() == 1 {
        // French writes the first of the month as an ordinal: `mardi 1er décembre`.
        return text.replacen(" 1 ", " 1er ", 1);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn each_language_writes_its_own_long_date() {
        let d = day(2026, 12, 8);
        for (locale, want) in [
            ("en", "Tuesday 8 December 2026"),
            ("en-US", "Tuesday 8 December 2026"),
            ("de", "Dienstag, 8. Dezember 2026"),
            ("DE-ch", "Dienstag, 8. Dezember 2026"),
            ("fr", "mardi 8 décembre 2026"),
            ("fr_CA", "mardi 8 décembre 2026"),
            ("es", "martes, 8 de diciembre de 2026"),
            ("it", "martedì 8 dicembre 2026"),
            ("nl", "dinsdag 8 december 2026"),
            ("pt-BR", "terça, 8 de dezembro de 2026"),
        ] {
            assert_eq!(written(d, locale), want, "{locale}");
        }
    }

    #[test]
    fn regional_month_names_and_the_french_first_of_the_month() {
        assert_eq!(written(day(2027, 1, 4), "de-AT"), "Montag, 4. Jänner 2027");
        assert_eq!(written(day(2026, 12, 1), "fr"), "mardi 1er décembre 2026");
        assert_eq!(
            written(day(2026, 12, 11), "fr"),
            "vendredi 11 décembre 2026"
        );
    }

    #[test]
    fn a_language_without_a_pattern_gets_the_iso_date() {
        let d = day(2026, 12, 8);
        for locale in ["pl", "ja", "xx-YY", ""] {
            assert_eq!(written(d, locale), "2026-12-08", "{locale}");
        }
    }
}
