//! Sign-in evidence: who has signed in to the target tenant, as learnt from its directory (a
//! `Get-MgUser` export or Graph). Every distinct last successful sign-in of a user is kept with
//! when it was learnt, so a later import never hides an earlier sign-in, and each import is
//! logged, so reminders can refuse evidence that is too old.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::deliveries::timestamp;
use super::{Ledger, LedgerError};

/// One user's last successful sign-in as an import gave it (`None`: never signed in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFact {
    /// The target UPN (any case).
    pub upn: String,
    pub last_success: Option<DateTime<Utc>>,
}

/// One import of sign-in evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignInImport {
    pub learnt_at: DateTime<Utc>,
    /// The export's file name, or `graph`.
    pub source: String,
    /// Users in the evidence, and how many of them have a successful sign-in.
    pub users: u64,
    pub signed_in: u64,
}

/// What the ledger knows: per lower-case target UPN, every sign-in learnt (oldest first), and
/// the newest import.
#[derive(Debug, Clone, Default)]
pub struct SignIns {
    pub by_user: HashMap<String, Vec<DateTime<Utc>>>,
    pub newest_import: Option<SignInImport>,
}

impl SignIns {
    /// The first sign-in learnt for `target_upn` after `since`, if any.
    pub fn first_after(&self, target_upn: &str, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let times = self.by_user.get(&target_upn.to_lowercase())?;
        times.iter().copied().find(|t| *t > since)
    }
}

impl Ledger {
    /// Records an import: each user's sign-in (those without one add nothing but the count).
    /// Returns the import as logged.
    pub fn record_sign_ins(
        &mut self,
        source: &str,
        facts: &[SignInFact],
        at: DateTime<Utc>,
    ) -> Result<SignInImport, LedgerError> {
        let import = SignInImport {
            learnt_at: at,
            source: source.to_string(),
            users: facts.len() as u64,
            signed_in: facts.iter().filter(|f| f.last_success.is_some()).count() as u64,
        };
        let path = self.path.clone();
        let classify = |e| super::classify(&path, e);
        let tx = self.conn.transaction().map_err(classify)?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO sign_ins (user_key, signed_in_at, source, learnt_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(classify)?;
            let learnt = timestamp(at);
            for f in facts {
                if let Some(t) = f.last_success {
                    let row = params![f.upn.to_lowercase(), timestamp(t), source, learnt];
                    insert.execute(row).map_err(classify)?;
                }
            }
            tx.execute(
                "INSERT INTO sign_in_imports (learnt_at, source, users, signed_in)
                 VALUES (?1, ?2, ?3, ?4)",
                params![learnt, source, import.users, import.signed_in],
            )
            .map_err(classify)?;
        }
        tx.commit().map_err(classify)?;
        Ok(import)
    }

    /// Every sign-in learnt, and the newest import.
    pub fn sign_ins(&self) -> Result<SignIns, LedgerError> {
        let rows: Vec<(String, String)> = self.rows(
            "SELECT user_key, signed_in_at FROM sign_ins ORDER BY user_key, signed_in_at",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut by_user: HashMap<String, Vec<DateTime<Utc>>> = HashMap::new();
        for (user, at) in rows {
            if let Ok(at) = DateTime::parse_from_rfc3339(&at) {
                by_user.entry(user).or_default().push(at.to_utc());
            }
        }
        let imports = self.sign_in_imports()?;
        Ok(SignIns {
            by_user,
            newest_import: imports.into_iter().last(),
        })
    }

    /// Every import, oldest first.
    pub fn sign_in_imports(&self) -> Result<Vec<SignInImport>, LedgerError> {
        self.rows(
            "SELECT learnt_at, source, users, signed_in FROM sign_in_imports ORDER BY id",
            [],
            |r| {
                let at: String = r.get(0)?;
                Ok(SignInImport {
                    learnt_at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.to_utc())
                        .unwrap_or_default(),
                    source: r.get(1)?,
                    users: r.get(2)?,
                    signed_in: r.get(3)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, 9, 0, 0).unwrap()
    }

    #[test]
    fn every_sign_in_learnt_is_kept_and_imports_are_logged() {
        let (_dir, mut ledger) = Ledger::temp();
        let fact = |upn: &str, t: Option<DateTime<Utc>>| SignInFact {
            upn: upn.into(),
            last_success: t,
        };
        let first = [
            fact("Ana@Fabrikam.com", Some(at(2))),
            fact("jose@fabrikam.com", None),
        ];
        let import = ledger
            .record_sign_ins("sign-ins.csv", &first, at(3))
            .unwrap();
        assert_eq!((import.users, import.signed_in), (2, 1));
        // A later import with a newer sign-in adds it; the same value again adds nothing.
        let second = [
            fact("ana@fabrikam.com", Some(at(5))),
            fact("ana@fabrikam.com", Some(at(2))),
        ];
        ledger.record_sign_ins("graph", &second, at(6)).unwrap();
        let known = ledger.sign_ins().unwrap();
        assert_eq!(known.by_user["ana@fabrikam.com"], [at(2), at(5)]);
        assert!(!known.by_user.contains_key("jose@fabrikam.com"));
        assert_eq!(known.newest_import.as_ref().unwrap().source, "graph");
        assert_eq!(known.newest_import.unwrap().learnt_at, at(6));
        // Only a sign-in after the given time counts.
        assert_eq!(known_first(&ledger, at(1)), Some(at(2)));
        assert_eq!(known_first(&ledger, at(3)), Some(at(5)));
        assert_eq!(known_first(&ledger, at(5) + Duration::seconds(1)), None);
        assert_eq!(ledger.sign_in_imports().unwrap().len(), 2);
    }

    fn known_first(ledger: &Ledger, since: DateTime<Utc>) -> Option<DateTime<Utc>> {
        ledger
            .sign_ins()
            .unwrap()
            .first_after("ANA@fabrikam.com", since)
    }
}
