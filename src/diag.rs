//! Located diagnostics: every problem in an input file, as `FILE:LINE: column N (name): what is
//! wrong; how to fix it`, collected (never stopping at the first) and printable as text or JSON.

use std::fmt;
use std::sync::Arc;

/// How bad a problem is: errors make the input unusable, warnings only inform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A column of a CSV file: 1-based position and the name the docs give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub index: usize,
    pub name: String,
}

/// One problem found in one input file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: Arc<str>,
    pub line: Option<u64>,
    pub column: Option<Column>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        if let Some(col) = &self.column {
            write!(f, "column {} ({}): ", col.index, col.name)?;
        }
        write!(f, "{}", self.message)
    }
}

/// The problems found in one or more files, in the order they were found.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a problem.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Records an error about a whole file or a line of it.
    pub fn error(&mut self, file: &Arc<str>, line: Option<u64>, message: impl Into<String>) {
        self.add(Severity::Error, file, line, None, message);
    }

    /// Records a warning about a whole file or a line of it.
    pub fn warning(&mut self, file: &Arc<str>, line: Option<u64>, message: impl Into<String>) {
        self.add(Severity::Warning, file, line, None, message);
    }

    /// Records a problem at a line and, when given, a column (`index` 1-based).
    pub fn add(
        &mut self,
        severity: Severity,
        file: &Arc<str>,
        line: Option<u64>,
        column: Option<(usize, &str)>,
        message: impl Into<String>,
    ) {
        self.push(Diagnostic {
            severity,
            file: file.clone(),
            line,
            column: column.map(|(index, name)| Column {
                index,
                name: name.to_string(),
            }),
            message: message.into(),
        });
    }

    /// Appends everything another collection found.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Every problem, in file then line order.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by_key(|d| {
            (
                d.file.clone(),
                d.line.unwrap_or(0),
                d.column.as_ref().map(|c| c.index),
            )
        });
        v
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter().filter(|d| d.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

/// An error and its causes on one line (`a: b: c`), for replies and logs; a cause whose text
/// the line already holds is not repeated.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Shortens a value for quoting in a message, so a 100 KB field does not flood the terminal.
pub fn quote(value: &str) -> String {
    const MAX: usize = 60;
    let escaped: String = value.escape_debug().collect();
    if escaped.chars().count() <= MAX {
        format!("`{escaped}`")
    } else {
        let head: String = escaped.chars().take(MAX).collect();
        format!("`{head}...` ({} characters)", value.chars().count())
    }
}

/// A reply or reason on one line: every run of whitespace (a multi-line server reply's line
/// breaks) becomes one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `1 user`, `2 users`: a count with its noun in the singular or the plural.
pub fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_file_line_column_and_message() {
        let d = Diagnostic {
            severity: Severity::Error,
            file: "map.csv".into(),
            line: Some(7),
            column: Some(Column {
                index: 3,
                name: "source UPN".into(),
            }),
            message: "has no @; write it as name@domain".into(),
        };
        assert_eq!(
            d.to_string(),
            "map.csv:7: column 3 (source UPN): has no @; write it as name@domain"
        );
    }

    #[test]
    fn quote_shortens_and_escapes() {
        assert_eq!(quote("a\nb"), "`a\\nb`");
        let long = "x".repeat(1000);
        assert!(quote(&long).ends_with("(1000 characters)"));
    }
}
