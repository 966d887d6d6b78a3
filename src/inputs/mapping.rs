//! The identity mapping file of Step 5: six columns, no header, `User` and `Group` rows.
//!
//! [`read`] streams the file once, checks every row, reports every problem with its line and
//! column, and hands each good row to a callback. The only per-row state kept is two hash sets
//! (source and target UPNs) for the one-to-one check, so a million rows fit in bounded memory.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::address::{self, is_guid};
use super::text;
use crate::diag::{quote, Diagnostics, Severity};

/// The user types SharePoint's identity map knows.
pub const USER_TYPES: &[&str] = &["RegularUser", "AdminUser", "GuestUser", "None"];
/// The group types SharePoint's identity map knows.
pub const GROUP_TYPES: &[&str] = &["RegularGroup", "AdminGroup", "O365Group"];

/// One `User` row: a source user and the target user they become.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserMapping {
    pub line: u64,
    pub source_tenant: String,
    pub source_upn: String,
    pub target_upn: String,
    pub target_email: String,
    pub user_type: String,
}

impl UserMapping {
    /// A guest in the source: typed `GuestUser`, or a `#EXT#` UPN.
    pub fn is_guest(&self) -> bool {
        self.user_type.eq_ignore_ascii_case("GuestUser") || address::is_guest_upn(&self.source_upn)
    }
}

/// One `Group` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupMapping {
    pub line: u64,
    pub source_tenant: String,
    pub source_id: String,
    pub target_id: String,
    pub name: String,
    pub group_type: String,
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingRow {
    User(UserMapping),
    Group(GroupMapping),
}

/// What the reader compares the rows against.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `[source].tenant_id`: column 2 of every row must equal it.
    pub expected_tenant: Option<String>,
}

/// Counts and problems of one file.
#[derive(Debug, Default)]
pub struct MappingStats {
    pub users: u64,
    pub groups: u64,
    pub diagnostics: Diagnostics,
}

/// The most bytes one row may have: far more than six fields within their own limits need,
/// and small enough that a damaged or wrong file never fills memory (see `text::bounded`).
pub const MAX_ROW_BYTES: usize = 64 * 1024;
/// Longest user or group type: the longest type SharePoint knows has 12 characters, so a
/// longer value is another column or pasted text, not a misspelled type.
pub const MAX_TYPE_LEN: usize = 32;
/// Longest group name Entra ID accepts (a group's displayName has at most 256 characters).
pub const MAX_GROUP_NAME_LEN: usize = 256;

const USER_COLUMNS: [&str; 6] = [
    "row type",
    "source tenant ID",
    "source UPN",
    "target UPN",
    "target email",
    "user type",
];
const GROUP_COLUMNS: [&str; 6] = [
    "row type",
    "source tenant ID",
    "source group ID",
    "target group ID",
    "group name",
    "group type",
];

/// Reads and checks the mapping file at `path`, calling `on_row` for every good row.
pub fn read(
    path: &Path,
    options: &Options,
    on_row: impl FnMut(MappingRow),
) -> io::Result<MappingStats> {
    let file = std::fs::File::open(path)?;
    read_from(file, &path.display().to_string(), options, on_row)
}

/// Like [`read`], for the bytes of `reader`; diagnostics name the file `name`.
pub fn read_from(
    reader: impl io::Read + Send + 'static,
    name: &str,
    options: &Options,
    on_row: impl FnMut(MappingRow),
) -> io::Result<MappingStats> {
    let opened = text::from_reader_bounded(reader, Some(MAX_ROW_BYTES))?;
    let file: Arc<str> = name.into();
    let mut checker = Checker::new(file.clone(), options, on_row);
    if opened.looks_utf16_without_bom {
        checker.diags.error(&file, None, "the file looks like UTF-16 without a byte order mark (every other byte is NUL); save it from Excel as \"CSV UTF-8 (Comma delimited)\"");
        return Ok(checker.finish());
    }
    if opened.delimiter != b',' {
        checker.diags.error(&file, Some(1), format!(
            "the file is separated by {}, not commas; SharePoint's identity-map upload needs commas: in Excel choose \"Save As\" > \"CSV UTF-8 (Comma delimited)\" (or set the list separator to a comma)",
            text::delimiter_name(opened.delimiter)
        ));
    }
    text::read_records(opened, |record, line, cut| {
        checker.check(record, line, cut);
        ControlFlow::Continue(())
    })?;
    Ok(checker.finish())
}

/// Hashes already-hashed keys as they are.
#[derive(Default)]
struct PassThrough(u64);
impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Case-insensitive set of UPNs, kept as 96 bits of hash and the line first seen, so that a
/// million rows cost tens of megabytes, not the strings themselves.
struct UpnSet {
    seen: HashMap<u64, (u32, u32), BuildHasherDefault<PassThrough>>,
}

impl UpnSet {
    fn new() -> Self {
        UpnSet {
            seen: HashMap::default(),
        }
    }

    /// Records `upn` at `line`; returns the earlier line when it was already there.
    fn insert(&mut self, upn: &str, line: u64, scratch: &mut Vec<u8>) -> Option<u64> {
        scratch.clear();
        if upn.is_ascii() {
            scratch.extend(upn.bytes().map(|b| b.to_ascii_lowercase()));
        } else {
            scratch.extend_from_slice(upn.to_lowercase().as_bytes());
        }
        let key = HASH_A.hash_one(scratch.as_slice());
        let check = HASH_B.hash_one(scratch.as_slice()) as u32;
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) if e.get().1 == check => {
                Some(u64::from(e.get().0))
            }
            std::collections::hash_map::Entry::Occupied(_) => None,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((u32::try_from(line).unwrap_or(u32::MAX), check));
                None
            }
        }
    }
}

static HASH_A: ahash::RandomState = ahash::RandomState::with_seeds(1, 2, 3, 4);
static HASH_B: ahash::RandomState = ahash::RandomState::with_seeds(5, 6, 7, 8);

struct Checker<'o, F> {
    file: Arc<str>,
    options: &'o Options,
    on_row: F,
    diags: Diagnostics,
    users: u64,
    groups: u64,
    first_row_seen: bool,
    tenant_seen: Option<(String, u64)>,
    legacy_warned: bool,
    blank_lines: Vec<u64>,
    /// Source and target UPNs seen so far (columns 3 and 4), for the one-to-one check.
    upns: [UpnSet; 2],
    /// Source and target group IDs seen so far, lower-case, with their line.
    group_ids: [HashMap<String, u64>; 2],
    scratch: Vec<u8>,
}

/// The fields of one row as trimmed text, and whether the row had a problem.
struct RowCtx<'r> {
    line: u64,
    fields: Vec<Cow<'r, str>>,
    names: &'static [&'static str; 6],
    failed: bool,
    /// Columns (bit per 0-based index) that already have an error: one message per column.
    reported: u8,
}

impl RowCtx<'_> {
    fn reported(&self, idx: usize) -> bool {
        idx < 8 && self.reported & (1 << idx) != 0
    }
}

impl<'o, F: FnMut(MappingRow)> Checker<'o, F> {
    fn new(file: Arc<str>, options: &'o Options, on_row: F) -> Self {
        Checker {
            file,
            options,
            on_row,
            diags: Diagnostics::default(),
            users: 0,
            groups: 0,
            first_row_seen: false,
            tenant_seen: None,
            legacy_warned: false,
            blank_lines: Vec::new(),
            upns: [UpnSet::new(), UpnSet::new()],
            group_ids: Default::default(),
            scratch: Vec::new(),
        }
    }

    fn diag(&mut self, severity: Severity, line: u64, col: usize, name: &str, message: String) {
        let column = Some((col, name));
        self.diags
            .add(severity, &self.file, Some(line), column, message);
    }

    fn field_error(&mut self, row: &mut RowCtx<'_>, idx: usize, message: String) {
        row.failed = true;
        if idx < 8 {
            row.reported |= 1 << idx;
        }
        self.diag(Severity::Error, row.line, idx + 1, row.names[idx], message);
    }

    fn check(&mut self, record: &csv::ByteRecord, line: u64, cut: Option<usize>) {
        let mut row = self.decode(record, line);
        if let Some(idx) = cut {
            self.check_cut(idx, &mut row);
        }
        if row.fields.iter().all(|f| f.is_empty()) {
            if row.failed {
                return;
            }
            if row.fields.len() > 1 {
                // `,,,,,` is a row whose values went missing (a filter or a formula in Excel),
                // not a blank line: someone may be missing from the campaign.
                self.diags.error(
                    &self.file,
                    Some(line),
                    "every field of this row is empty; fill in the user's row or delete the line",
                );
                return;
            }
            self.blank_lines.push(line);
            return;
        }
        for blank in std::mem::take(&mut self.blank_lines) {
            self.diags
                .warning(&self.file, Some(blank), "blank row skipped; delete it");
        }
        let first = !self.first_row_seen;
        self.first_row_seen = true;
        let user = row.fields[0].eq_ignore_ascii_case("user");
        let group = row.fields[0].eq_ignore_ascii_case("group");
        if first && !user && !group && !row.fields.get(1).is_some_and(|f| is_guid(f)) {
            self.diags.error(&self.file, Some(line), format!(
                "this looks like a header row ({}); the identity mapping file has no header: delete this line",
                quote(&row.fields.join(","))
            ));
            return;
        }
        row.names = if group { &GROUP_COLUMNS } else { &USER_COLUMNS };
        self.check_width(&mut row);
        if user {
            self.check_user(row);
        } else if group {
            self.check_group(row);
        } else {
            let value = quote(&row.fields[0]);
            let message = format!("{value} is not a row type; write User or Group");
            self.field_error(&mut row, 0, message);
        }
    }

    fn decode<'r>(&mut self, record: &'r csv::ByteRecord, line: u64) -> RowCtx<'r> {
        let names = match record.get(0) {
            Some(f) if f.trim_ascii().eq_ignore_ascii_case(b"group") => &GROUP_COLUMNS,
            _ => &USER_COLUMNS,
        };
        let mut fields = Vec::with_capacity(6);
        for (i, bytes) in record.iter().enumerate() {
            let (text, legacy) = text::decode_field(bytes);
            if legacy && !self.legacy_warned {
                self.legacy_warned = true;
                self.diags.warning(&self.file, Some(line), "the file is not UTF-8; read as Windows-1252 (Excel's \"CSV (Comma delimited)\"); save it as \"CSV UTF-8 (Comma delimited)\" so that names outside Western Europe survive");
            }
            let trimmed = trim_value(&text);
            if trimmed.len() != text.len() && !trimmed.is_empty() && i < 6 {
                let msg = format!(
                    "{} has spaces around it; read as {}: remove the spaces",
                    quote(&text),
                    quote(trimmed)
                );
                self.diag(Severity::Warning, line, i + 1, names[i], msg);
            }
            fields.push(match text {
                Cow::Borrowed(s) => Cow::Borrowed(trim_value(s)),
                Cow::Owned(s) => Cow::Owned(trim_value(&s).to_string()),
            });
        }
        RowCtx {
            line,
            fields,
            names,
            failed: false,
            reported: 0,
        }
    }

    /// Reports the field the reader cut at [`MAX_ROW_BYTES`] (it ends in the cut mark).
    fn check_cut(&mut self, idx: usize, row: &mut RowCtx<'_>) {
        let idx = idx.min(5);
        self.field_error(row, idx, format!(
            "is too long: the row passes {} KB here and the rest of it was not read (each field of the mapping is a UPN, an email address, a GUID, a type or a group name); check that this is the identity mapping file and that this column holds what it should",
            MAX_ROW_BYTES / 1024
        ));
        // The fields after it were not read either: no second message about them.
        for i in idx..row.fields.len().min(8) {
            row.reported |= 1 << i;
            row.fields[i] = Cow::Borrowed("");
        }
    }

    /// Reports a type or name longer than `max` characters (an error: it cannot be right).
    fn check_length(&mut self, row: &mut RowCtx<'_>, idx: usize, max: usize, what: &str) {
        let too_long = |v: &&Cow<'_, str>| !row.reported(idx) && v.chars().count() > max;
        let Some(value) = row.fields.get(idx).filter(too_long) else {
            return;
        };
        let message = format!(
            "{} is too long for {what} (at most {max} characters); check that this column holds what it should",
            quote(value)
        );
        self.field_error(row, idx, message);
    }

    fn check_width(&mut self, row: &mut RowCtx<'_>) {
        let n = row.fields.len();
        if n < 6 {
            let missing = row.names[n..].join(", ");
            let fields = if n == 1 { "field" } else { "fields" };
            self.field_error(row, n, format!(
                "missing: the row has {n} {fields}, a {} row needs 6 (missing: {missing}); add the missing values",
                if row.names[2] == "source UPN" { "User" } else { "Group" }
            ));
        } else if n > 6 {
            row.failed = true;
            self.diag(Severity::Error, row.line, 7, "extra", format!(
                "the row has {n} fields, expected 6; remove the extra fields (a value that contains a comma must be in double quotes)"
            ));
        }
        for i in 0..n.min(6) {
            if row.fields[i].contains('\0') {
                self.field_error(row, i, "contains a NUL byte; re-save the file from Excel as \"CSV UTF-8 (Comma delimited)\"".into());
                row.fields[i] = Cow::Borrowed("");
            }
        }
    }

    fn check_tenant(&mut self, row: &mut RowCtx<'_>) {
        let Some(value) = row.fields.get(1).filter(|_| !row.reported(1)) else {
            return;
        };
        let problem = if !is_guid(value) {
            Some(format!("{} is not a GUID; write the source tenant's ID (Get-MgOrganization or the Entra admin center), like 8f2e5b1c-0000-4000-8000-000000000000", quote(value)))
        } else if let Some(expected) = &self.options.expected_tenant {
            (!value.eq_ignore_ascii_case(expected)).then(|| format!("{} is not the source tenant ID in the config ({expected}); fix the row or [source].tenant_id", quote(value)))
        } else if let Some((first, first_line)) = &self.tenant_seen {
            (!first.eq_ignore_ascii_case(value)).then(|| format!("{} differs from {first} on line {first_line}; every row names the same source tenant", quote(value)))
        } else {
            self.tenant_seen = Some((value.to_string(), row.line));
            None
        };
        if let Some(message) = problem {
            self.field_error(row, 1, message);
        }
    }

    fn check_address(
        &mut self,
        row: &mut RowCtx<'_>,
        idx: usize,
        check: fn(&str) -> Result<(), address::AddressError>,
    ) {
        let Some(value) = row.fields.get(idx).filter(|_| !row.reported(idx)) else {
            return;
        };
        if let Err(why) = check(value) {
            let msg = if value.is_empty() {
                why.to_string()
            } else {
                format!("{} {why}", quote(value))
            };
            self.field_error(row, idx, msg);
        }
    }

    fn check_user(&mut self, mut row: RowCtx<'_>) {
        self.check_tenant(&mut row);
        self.check_address(&mut row, 2, address::check_upn);
        self.check_address(&mut row, 3, address::check_upn);
        self.check_address(&mut row, 4, address::check_email);
        self.check_length(&mut row, 5, MAX_TYPE_LEN, "a user type");
        if let Some(kind) = row.fields.get(5).filter(|_| !row.reported(5)) {
            if !USER_TYPES.iter().any(|t| t.eq_ignore_ascii_case(kind)) {
                let msg = format!("{} is not a user type SharePoint knows, and the upload silently ignores it; use one of {}", quote(kind), USER_TYPES.join(", "));
                self.diag(Severity::Warning, row.line, 6, "user type", msg);
            }
        }
        self.check_duplicates(&mut row);
        self.users += 1;
        if !row.failed && row.fields.len() >= 6 {
            let f = &row.fields;
            (self.on_row)(MappingRow::User(UserMapping {
                line: row.line,
                source_tenant: f[1].to_string(),
                source_upn: f[2].to_string(),
                target_upn: f[3].to_string(),
                target_email: f[4].to_string(),
                user_type: f[5].to_string(),
            }));
        }
    }

    fn check_duplicates(&mut self, row: &mut RowCtx<'_>) {
        for (idx, other) in [(2usize, "source"), (3, "target")] {
            let Some(value) = row
                .fields
                .get(idx)
                .filter(|v| !v.is_empty() && !row.reported(idx))
            else {
                continue;
            };
            let set = &mut self.upns[idx - 2];
            if let Some(first) = set.insert(value, row.line, &mut self.scratch) {
                let msg = format!(
                    "{} is already mapped on line {first} (case-insensitive); the mapping must be one-to-one: keep one row per {other} user",
                    quote(value)
                );
                self.field_error(row, idx, msg);
            }
        }
    }

    fn check_group(&mut self, mut row: RowCtx<'_>) {
        self.check_tenant(&mut row);
        for idx in [2usize, 3] {
            let Some(value) = row.fields.get(idx).filter(|_| !row.reported(idx)) else {
                continue;
            };
            let seen = &mut self.group_ids[idx - 2];
            let message = if !is_guid(value) {
                format!(
                    "{} is not a group object ID (GUID); copy the group's Object ID from Entra ID",
                    quote(value)
                )
            } else {
                match seen.entry(value.to_ascii_lowercase()) {
                    Entry::Vacant(v) => {
                        v.insert(row.line);
                        continue;
                    }
                    Entry::Occupied(first) => format!("{} is already mapped on line {}; the mapping must be one-to-one: keep one row per group", quote(value), first.get()),
                }
            };
            self.field_error(&mut row, idx, message);
        }
        if row.fields.get(4).is_some_and(|v| v.is_empty()) && !row.reported(4) {
            self.field_error(&mut row, 4, "is empty; write the group name (or the target group ID again, as the Step 5 example does)".into());
        }
        self.check_length(&mut row, 4, MAX_GROUP_NAME_LEN, "a group name");
        self.check_length(&mut row, 5, MAX_TYPE_LEN, "a group type");
        if let Some(kind) = row.fields.get(5).filter(|_| !row.reported(5)) {
            if !GROUP_TYPES.iter().any(|t| t.eq_ignore_ascii_case(kind)) {
                let hint = if kind.eq_ignore_ascii_case("m365Group") {
                    " (m365Group is Graph's name for it; the mapping file says O365Group)"
                } else {
                    ""
                };
                let msg = format!(
                    "{} is not a group type SharePoint knows{hint}; use one of {}",
                    quote(kind),
                    GROUP_TYPES.join(", ")
                );
                self.diag(Severity::Warning, row.line, 6, "group type", msg);
            }
        }
        self.groups += 1;
        if !row.failed && row.fields.len() >= 6 {
            let f = &row.fields;
            (self.on_row)(MappingRow::Group(GroupMapping {
                line: row.line,
                source_tenant: f[1].to_string(),
                source_id: f[2].to_string(),
                target_id: f[3].to_string(),
                name: f[4].to_string(),
                group_type: f[5].to_string(),
            }));
        }
    }

    fn finish(mut self) -> MappingStats {
        if !self.first_row_seen && !self.diags.has_errors() {
            self.diags.error(&self.file, None, "the file is empty; it needs one row per user (User,<source tenant ID>,<source UPN>,<target UPN>,<target email>,<user type>)");
        } else if self.users == 0 && self.groups > 0 {
            self.diags.error(&self.file, None, "the file has only Group rows; add the User rows of the migrated users, or there is nobody to notify");
        }
        MappingStats {
            users: self.users,
            groups: self.groups,
            diagnostics: self.diags,
        }
    }
}

fn trim_value(s: &str) -> &str {
    s.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\u{a0}')
}

#[cfg(test)]
mod tests;
