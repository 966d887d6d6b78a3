//! A string that must never be printed: passwords, client secrets, tokens.
//!
//! `Debug` and `Display` are redacted; the value is only reachable through
//! [`Secret::expose`], which makes every use easy to find in review.

use std::fmt;

/// A secret value read from the environment at run time, never from argv or the config file.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value. The caller promises it came from a safe place (an environment variable).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// Reads a secret from the environment variable `name`.
    pub fn from_env(name: &str) -> Result<Self, SecretError> {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(Secret(v)),
            Ok(_) => Err(SecretError::Empty(name.to_string())),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(SecretError::NotUnicode(name.to_string()))
            }
            Err(std::env::VarError::NotPresent) => Err(SecretError::Missing(name.to_string())),
        }
    }

    /// The value itself. Only hand it to the code that authenticates.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"<redacted>\")")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {0} is not set; export it before running (the config names the variable, never the value)")]
    Missing(String),
    #[error("environment variable {0} is empty; set it to the secret value")]
    Empty(String),
    #[error("environment variable {0} is not valid UTF-8; set it to the secret value as text")]
    NotUnicode(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn missing_variable_names_it() {
        let err = Secret::from_env("T2T_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(err.to_string().contains("T2T_TEST_SURELY_UNSET_VAR"));
    }

    #[cfg(unix)]
    #[test]
    fn a_value_that_is_not_utf8_is_named_as_such() {
        use std::os::unix::ffi::OsStrExt;
        let name = "T2T_TEST_SECRET_NOT_UTF8";
        // SAFETY: no other test reads or writes this variable.
        unsafe { std::env::set_var(name, std::ffi::OsStr::from_bytes(b"pa\xffss")) };
        let err = Secret::from_env(name).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
        assert!(!err.to_string().contains("pa\u{fffd}ss"), "{err}");
    }
}
