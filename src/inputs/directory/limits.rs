//! Field limits of the directory file: a row may not pass [`MAX_ROW_BYTES`] (the reader cuts
//! it there, see `text::bounded`, so a damaged or wrong file never fills memory), and each
//! known column has the length Entra ID or its standard allows. Pure functions; the messages
//! say what the column should hold.

use super::Known;
use crate::diag::quote;
use crate::inputs::address::{MAX_EMAIL_LEN, MAX_UPN_LEN};

/// The most bytes one row may have: far more than the known columns within their limits and
/// a few extra columns need.
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// Longest displayName and givenName Entra ID accepts.
pub const MAX_NAME_LEN: usize = 256;
/// Longest language tag worth reading (RFC 5646 asks implementations to take 35 characters;
/// Entra's preferredLanguage values are like `de-AT`).
pub const MAX_LANGUAGE_LEN: usize = 35;
/// Longest OneDrive URL: the length browsers and SharePoint links are safe to carry.
pub const MAX_URL_LEN: usize = 2048;

/// The most characters a known column may hold and what it holds; `None` for other columns
/// (templates' extras, bounded by the row limit only).
fn limit(kind: &Known) -> Option<(usize, &'static str)> {
    match kind {
        Known::Upn => Some((MAX_UPN_LEN, "a user principal name")),
        Known::DisplayName => Some((MAX_NAME_LEN, "a display name")),
        Known::GivenName => Some((MAX_NAME_LEN, "a given name")),
        Known::PreferredLanguage => Some((MAX_LANGUAGE_LEN, "a language tag like de-AT")),
        Known::OneDriveUrl => Some((MAX_URL_LEN, "a OneDrive URL")),
        Known::Mail => Some((MAX_EMAIL_LEN, "an email address")),
        Known::Extra(_) => None,
    }
}

/// The error for a value longer than its column allows, or `None`.
pub(super) fn too_long(kind: &Known, value: &str) -> Option<String> {
    let (max, what) = limit(kind)?;
    let len = value.chars().count();
    (len > max).then(|| {
        format!(
            "{} is too long for {what} (at most {max} characters); check that this column holds what it should and correct the value in the directory",
            quote(value)
        )
    })
}

/// The error for the field where the reader cut the row at [`MAX_ROW_BYTES`].
pub(super) fn cut_message() -> String {
    format!(
        "is too long: the row passes {} KB here and the rest of it was not read (a directory row holds a UPN, names, a language tag, an address and a URL); check that this is the directory export and that this column holds what it should",
        MAX_ROW_BYTES / 1024
    )
}
