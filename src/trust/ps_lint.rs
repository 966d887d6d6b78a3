//! A lexical check of generated PowerShell, for tests on machines without `pwsh`: brackets
//! balance outside strings and comments, strings and block comments are closed, `$(...)` inside
//! double-quoted strings is followed, and no `"$name:"` (which PowerShell reads as a scoped
//! variable and refuses). It is not a parser: it catches broken templates, not wrong cmdlets.

/// A lexical error in a script, with its line.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct LintError {
    pub line: usize,
    pub what: String,
}

/// Checks `script`; the error names the line.
pub fn check(script: &str) -> Result<(), LintError> {
    let mut lexer = Lexer {
        chars: script.chars().collect(),
        at: 0,
        line: 1,
    };
    lexer.code(None)
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
    line: usize,
}

impl Lexer {
    fn next(&mut self) -> Option<char> {
        let c = *self.chars.get(self.at)?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn fail<T>(&self, what: &str) -> Result<T, LintError> {
        Self::fail_at(self.line, what)
    }

    fn fail_at<T>(line: usize, what: &str) -> Result<T, LintError> {
        Err(LintError {
            line,
            what: what.to_string(),
        })
    }

    /// Code until `closer` (or the end when `None`).
    fn code(&mut self, closer: Option<char>) -> Result<(), LintError> {
        while let Some(c) = self.next() {
            match c {
                '#' => self.line_comment(),
                '<' if self.peek() == Some('#') => self.block_comment()?,
                '\'' => self.single_quoted()?,
                '"' => self.double_quoted()?,
                '`' => {
                    self.next();
                }
                '(' => self.code(Some(')'))?,
                '{' => self.code(Some('}'))?,
                '[' => self.code(Some(']'))?,
                ')' | '}' | ']' if Some(c) == closer => return Ok(()),
                ')' | '}' | ']' => return self.fail(&format!("unexpected `{c}`")),
                _ => {}
            }
        }
        match closer {
            Some(c) => self.fail(&format!("`{c}` missing at the end")),
            None => Ok(()),
        }
    }

    fn line_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.next();
        }
    }

    fn block_comment(&mut self) -> Result<(), LintError> {
        let start = self.line;
        while let Some(c) = self.next() {
            if c == '#' && self.peek() == Some('>') {
                self.next();
                return Ok(());
            }
        }
        Self::fail_at(start, "`<#` comment not closed")
    }

    fn single_quoted(&mut self) -> Result<(), LintError> {
        let start = self.line;
        while let Some(c) = self.next() {
            if c == '\'' {
                if self.peek() == Some('\'') {
                    self.next();
                } else {
                    return Ok(());
                }
            }
        }
        Self::fail_at(start, "single-quoted string not closed")
    }

    fn double_quoted(&mut self) -> Result<(), LintError> {
        let start = self.line;
        while let Some(c) = self.next() {
            match c {
                '`' => {
                    self.next();
                }
                '"' if self.peek() == Some('"') => {
                    self.next();
                }
                '"' => return Ok(()),
                '$' if self.peek() == Some('(') => {
                    self.next();
                    self.code(Some(')'))?;
                }
                '$' => self.variable_in_string()?,
                _ => {}
            }
        }
        Self::fail_at(start, "double-quoted string not closed")
    }

    /// `$name:` followed by something that is not a name is a parse error in PowerShell.
    fn variable_in_string(&mut self) -> Result<(), LintError> {
        let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| is_name(*c)) {
            name.push(c);
            self.next();
        }
        if !name.is_empty() && self.peek() == Some(':') {
            let after = self.chars.get(self.at + 1).copied();
            if !after.is_some_and(is_name) {
                return self.fail(&format!(
                    "`${name}:` in a double-quoted string; write `${{{name}}}:`"
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn accepts_well_formed_and_names_the_line_of_broken_code() {
        assert_eq!(
            check("if ($a) { Write-Host \"x $($b.C('y')) z\" } # (\n<# { #>"),
            Ok(())
        );
        assert_eq!(
            check("'it''s'; \"say \"\"hi\"\" `\" $env:USERNAME\""),
            Ok(())
        );
        assert!(check("a\n)").unwrap_err().to_string().starts_with("line 2"));
        assert!(check("\"open $(x\"").is_err());
        for (script, why) in [
            ("if ($a) {\n  'x'\n", "`}` missing"),
            ("'open", "single-quoted"),
            ("<# open", "comment not closed"),
            ("\"answered $x: y\"", "`$x:`"),
        ] {
            let err = check(script).unwrap_err().to_string();
            assert!(err.contains(why), "{script:?}: {err}");
        }
    }
}
