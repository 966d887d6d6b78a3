//! The target tenant's sign-in export: per user, the last successful sign-in, so that users
//! who have not signed in since their move can be reminded. Made by
//!
//! ```powershell
//! Get-MgUser -All -Property UserPrincipalName,SignInActivity |
//!   Select-Object UserPrincipalName, @{n='LastSuccessfulSignIn';e={$_.SignInActivity.LastSuccessfulSignInDateTime}} |
//!   Export-Csv -NoTypeInformation -Encoding UTF8 sign-ins.csv
//! ```
//!
//! in PowerShell 7 or Windows PowerShell 5.1 (whose `#TYPE` line, quoted fields and UTF-16 are
//! read too). Without a format, `Export-Csv` writes the date in the current culture; the en-US
//! (with AM/PM) and German forms are read, ISO 8601 always, a slash date without AM/PM never
//! (see `inputs::timestamp::parse_written`). Graph's times are UTC: a value without an offset
//! is read as UTC (a date alone as its midnight). An empty value means the user never signed in
//! successfully.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::table::{self, Header, Outcome, Wanted};
use super::text;
use super::timestamp::{parse_written, TimeError};
use crate::diag::{quote, Diagnostics, Severity};
use crate::inputs::address;

/// The columns, both required: the user and the last successful sign-in.
pub const COLUMNS: [Wanted; 2] = [
    Wanted {
        what: "the user",
        names: &["UserPrincipalName"],
        required: true,
    },
    Wanted {
        what: "the last successful sign-in",
        names: &[
            "LastSuccessfulSignIn",
            "LastSuccessfulSignInDateTime",
            "SignInActivity.LastSuccessfulSignInDateTime",
        ],
        required: true,
    },
];

/// The export command's date column written in ISO 8601, whatever the culture: the fix for
/// dates that cannot be read.
pub const ISO_COLUMN: &str = "@{n='LastSuccessfulSignIn';e={ if ($_.SignInActivity.LastSuccessfulSignInDateTime) { $_.SignInActivity.LastSuccessfulSignInDateTime.ToString('o') } }}";

/// One user's last successful sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRow {
    pub upn: String,
    /// `None`: never signed in successfully.
    pub last_success: Option<DateTime<Utc>>,
    pub line: u64,
}

/// Reads the export at `path`: one row per user (a user listed twice keeps the newer sign-in),
/// in the file's order, and every problem found.
pub fn read(path: &Path) -> io::Result<(Vec<SignInRow>, Diagnostics)> {
    read_from(std::fs::File::open(path)?, &path.display().to_string())
}

/// Like [`read`], for the bytes of `reader`; diagnostics name the file `name`.
pub fn read_from(
    reader: impl io::Read + Send + 'static,
    name: &str,
) -> io::Result<(Vec<SignInRow>, Diagnostics)> {
    let file: Arc<str> = name.into();
    let mut diags = Diagnostics::default();
    let opened = text::from_reader(reader)?;
    let mut rows = ByUser::default();
    let outcome = table::read(
        &file,
        opened,
        &COLUMNS,
        &mut diags,
        |head, line, fields, d| {
            if let Some(row) = row_from(head, line, fields, &file, d) {
                rows.add(row, &file, head, d);
            }
        },
    )?;
    match outcome {
        Outcome::NoHeader => diags.error(&file, None, format!("the sign-in export is empty; export it with Get-MgUser -All -Property UserPrincipalName,SignInActivity | Select-Object UserPrincipalName, {ISO_COLUMN} | Export-Csv -NoTypeInformation -Encoding UTF8 sign-ins.csv")),
        Outcome::Rows(0) => diags.warning(&file, None, "the sign-in export lists no users"),
        Outcome::Rows(_) | Outcome::Refused => {}
    }
    Ok((rows.rows, diags))
}

/// The rows read so far, one per user (lower-case UPN).
#[derive(Default)]
struct ByUser {
    rows: Vec<SignInRow>,
    by_upn: HashMap<String, usize>,
}

impl ByUser {
    /// Adds a row; a user seen before keeps the newer sign-in, with a warning at the UPN.
    fn add(&mut self, row: SignInRow, file: &Arc<str>, head: &Header, diags: &mut Diagnostics) {
        let key = row.upn.to_lowercase();
        let Some(&i) = self.by_upn.get(&key) else {
            self.by_upn.insert(key, self.rows.len());
            self.rows.push(row);
            return;
        };
        let first_line = self.rows[i].line;
        // `None` (never) is older than any time.
        let kept = if row.last_success > self.rows[i].last_success {
            self.rows[i] = row.clone();
            row.last_success
        } else {
            self.rows[i].last_success
        };
        let kept = kept.map_or("none (never signed in)".into(), |t| t.to_rfc3339());
        let column = head.found[0].map(|i| head.column(i));
        diags.add(
            Severity::Warning,
            file,
            Some(row.line),
            column,
            format!(
            "{} also has a row on line {first_line}; the newer sign-in of the two is used: {kept}",
            quote(&row.upn)
        ),
        );
    }
}

/// Checks one data row; every problem in it is reported.
fn row_from(
    head: &Header,
    line: u64,
    mut fields: Vec<String>,
    file: &Arc<str>,
    diags: &mut Diagnostics,
) -> Option<SignInRow> {
    let [Some(upn_at), Some(time_at)] = head.found[..] else {
        return None;
    };
    let mut error = |idx: usize, message: String| {
        let column = Some(head.column(idx));
        diags.add(Severity::Error, file, Some(line), column, message);
    };
    let upn = std::mem::take(&mut fields[upn_at]);
    let upn_problem = if upn.is_empty() {
        Some("is empty; every row needs the user's UPN".to_string())
    } else {
        address::check_upn(&upn)
            .err()
            .map(|why| format!("{} {why}", quote(&upn)))
    };
    if let Some(message) = &upn_problem {
        error(upn_at, message.clone());
    }
    let last_success = last_success(&fields[time_at]);
    if let Err(message) = &last_success {
        error(time_at, message.clone());
    }
    let (None, Ok(last_success)) = (upn_problem, last_success) else {
        return None;
    };
    Some(SignInRow {
        upn,
        last_success,
        line,
    })
}

/// The sign-in in `text` (`None` when empty), or why it cannot be read and how to fix it.
fn last_success(text: &str) -> Result<Option<DateTime<Utc>>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let fix = format!("export the sign-ins again with the dates in ISO 8601: Select-Object UserPrincipalName, {ISO_COLUMN}");
    match parse_written(text) {
        Ok(written) => Ok(Some(written.to_utc())),
        Err(e @ TimeError::AmbiguousSlashDate { .. }) => Err(format!("{} {e}; {fix}", quote(text))),
        Err(e @ TimeError::Unreadable) => Err(format!(
            "{} {e} (ISO 8601 like 2026-12-04T15:04:05Z, 12/4/2026 3:04:05 PM, 04.12.2026 15:04:05; empty for never); {fix}",
            quote(text)
        )),
    }
}

#[cfg(test)]
mod tests;
