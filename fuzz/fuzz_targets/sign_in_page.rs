//! One page of Microsoft Graph's user list with sign-in activity (`sign_ins::parse_page`) on
//! arbitrary bytes.
//!
//! Beyond "no panic": parsing is deterministic; the page is read exactly as an independent
//! reading of the JSON (serde_json values, the top-level object's entries with duplicates
//! kept) says: it is accepted only when it is one JSON object whose `value` is an array of
//! objects, each with a string `userPrincipalName` and a `signInActivity` that is absent, null
//! or an object whose `lastSuccessfulSignInDateTime` is absent, null or a time; then there is
//! one user per item, in order, with that UPN as written and that time (an RFC 3339 value is
//! that instant, checked with chrono alone), and the next page's link is `@odata.nextLink`
//! exactly as written (`None` when absent, null or empty). A refusal is one line and says
//! why: not a page (no object, a duplicate or mistyped `value` or `@odata.nextLink`), no
//! `value`, or the first unreadable user by its place. Writing the users back in Graph's shape
//! and parsing that gives the same users and link.
//!
//! UPNs are not checked: the page is Graph's own record of the tenant, taken as it is (an
//! empty `userPrincipalName` is read as written; it matches no mapped user).
#![no_main]

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{json, Map, Value};
use t2t_notify::sign_ins::{parse_page, FetchedSignIn, PageError};

const VALUE: &str = "value";
const NEXT: &str = "@odata.nextLink";

type Page = (Vec<FetchedSignIn>, Option<String>);

/// Why the independent reading refuses a page, mirroring `PageError`.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    NotAPage,
    NoValue,
    /// The 0-based place of the first unreadable user.
    BadUser(usize),
}

/// The top-level entries named `value` or `@odata.nextLink`, in order, duplicates kept; the
/// others are skipped unread, as a reader of the two would (a number too large for a float
/// is JSON all the same).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entries, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == VALUE || key == NEXT {
                let value = map.next_value::<Value>()?;
                out.push((key, value));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Entries(out))
    }
}

/// A time as Graph writes it, read with chrono: `Err` when it is no time.
fn time(value: &Value) -> Result<Option<DateTime<Utc>>, ()> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            let read = s.parse::<DateTime<Utc>>().map_err(|_| ());
            if let Ok(by_rfc) = DateTime::parse_from_rfc3339(s) {
                assert_eq!(read, Ok(by_rfc.to_utc()), "{s:?}");
            }
            read.map(Some)
        }
        _ => Err(()),
    }
}

fn user(item: &Value) -> Option<FetchedSignIn> {
    let item = item.as_object()?;
    let upn = item.get("userPrincipalName")?.as_str()?.to_string();
    let last_success = match item.get("signInActivity") {
        None | Some(Value::Null) => None,
        Some(Value::Object(activity)) => match activity.get("lastSuccessfulSignInDateTime") {
            None => None,
            Some(t) => time(t).ok()?,
        },
        Some(_) => return None,
    };
    Some(FetchedSignIn { upn, last_success })
}

/// The page as the JSON says it.
fn independent(data: &[u8]) -> Result<Page, Refusal> {
    let Entries(entries) = serde_json::from_slice(data).map_err(|_| Refusal::NotAPage)?;
    let named = |name: &str| -> Vec<&Value> {
        entries
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    };
    let (value, next) = (named(VALUE), named(NEXT));
    if value.len() > 1 || next.len() > 1 {
        return Err(Refusal::NotAPage);
    }
    let next = match next.first() {
        None | Some(Value::Null) => None,
        Some(Value::String(link)) => Some(link.clone()),
        Some(_) => return Err(Refusal::NotAPage),
    };
    let items = match value.first() {
        None | Some(Value::Null) => return Err(Refusal::NoValue),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Refusal::NotAPage),
    };
    let users = items
        .iter()
        .enumerate()
        .map(|(i, item)| user(item).ok_or(Refusal::BadUser(i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((users, next.filter(|l| !l.is_empty())))
}

fn refusal(e: &PageError) -> Refusal {
    match e {
        PageError::NotAPage(_) => Refusal::NotAPage,
        PageError::NoValue => Refusal::NoValue,
        PageError::BadUser { who, .. } => {
            let place = who
                .strip_prefix("user ")
                .and_then(|rest| rest.split(' ').next())
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("a bad user named {who:?}"));
            assert!(place >= 1, "{who:?}");
            Refusal::BadUser(place - 1)
        }
    }
}

/// The users and link written back as Graph writes a page.
fn written_back((users, next): &Page) -> Vec<u8> {
    let value: Vec<Value> = users
        .iter()
        .map(|u| {
            let mut item = Map::new();
            item.insert("userPrincipalName".into(), json!(u.upn));
            if let Some(t) = u.last_success {
                item.insert(
                    "signInActivity".into(),
                    json!({ "lastSuccessfulSignInDateTime": t }),
                );
            }
            Value::Object(item)
        })
        .collect();
    let mut page = json!({ "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(userPrincipalName,signInActivity)", "value": value });
    if let Some(link) = next {
        page[NEXT] = json!(link);
    }
    serde_json::to_vec(&page).expect("a JSON value")
}

fuzz_target!(|data: &[u8]| {
    let parsed = parse_page(data);
    let again = parse_page(data);
    match (&parsed, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "not deterministic"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "not deterministic"),
        _ => panic!("not deterministic: {parsed:?} then {again:?}"),
    }
    let want = independent(data);
    match parsed {
        Ok(page) => {
            assert_eq!(Ok(&page), want.as_ref(), "not the page the JSON says");
            let back = written_back(&page);
            let reread = parse_page(&back).unwrap_or_else(|e| {
                panic!(
                    "written back, refused: {e}: {}",
                    String::from_utf8_lossy(&back)
                )
            });
            assert_eq!(reread, page, "written back, read differently");
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.contains(['\n', '\r']), "not one line: {text:?}");
            assert_eq!(Err(refusal(&e)), want.map(|_| ()), "refused as {text}");
        }
    }
});
