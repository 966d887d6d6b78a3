//! One page of Graph's `GET /v1.0/users?$select=userPrincipalName,signInActivity`, parsed
//! without IO: each user's UPN and last successful sign-in, and the `@odata.nextLink` of the
//! next page. A user whose `signInActivity` or `lastSuccessfulSignInDateTime` is null or absent
//! has never signed in successfully (as far as Entra ID's records go).
//!
//! The page, each user and each `signInActivity` must be JSON objects: serde's derive would
//! also read a struct from an array, by position, so `[[...], "https://..."]` would pass for a
//! page with a nextLink; [`Object`] refuses that.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::de::{value::MapAccessDeserializer, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// One user of the target tenant and when they last signed in successfully.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedSignIn {
    /// The user's `userPrincipalName` in the target tenant.
    pub upn: String,
    /// `signInActivity.lastSuccessfulSignInDateTime`; `None`: never signed in successfully.
    pub last_success: Option<DateTime<Utc>>,
}

/// Why a page is not a page of Graph's user list. Each message is a predicate of "page N of
/// Microsoft Graph's user list"; the serde causes are part of it, so none is a `#[source]`.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("is not a JSON object with a `value` array ({0})")]
    NotAPage(serde_json::Error),
    #[error("has no `value` array of users")]
    NoValue,
    #[error("has an unreadable entry, {who}: {why}")]
    BadUser { who: String, why: serde_json::Error },
}

#[derive(Deserialize)]
struct RawPage {
    value: Option<Vec<serde_json::Value>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawUser {
    user_principal_name: String,
    sign_in_activity: Option<Object<RawActivity>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawActivity {
    last_successful_sign_in_date_time: Option<DateTime<Utc>>,
}

/// A `T` read from a JSON object only, never from an array (see the module doc).
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor(PhantomData)).map(Object)
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// The users of one page and the link to the next page (`None` on the last page).
pub fn parse_page(body: &[u8]) -> Result<(Vec<FetchedSignIn>, Option<String>), PageError> {
    let Object(page): Object<RawPage> =
        serde_json::from_slice(body).map_err(PageError::NotAPage)?;
    let entries = page.value.ok_or(PageError::NoValue)?;
    let mut users = Vec::with_capacity(entries.len());
    for (index, entry) in entries.into_iter().enumerate() {
        let who = who(index, &entry);
        let Object(raw): Object<RawUser> =
            serde_json::from_value(entry).map_err(|why| PageError::BadUser { who, why })?;
        users.push(FetchedSignIn {
            upn: raw.user_principal_name,
            last_success: raw
                .sign_in_activity
                .and_then(|Object(a)| a.last_successful_sign_in_date_time),
        });
    }
    Ok((users, page.next_link.filter(|l| !l.is_empty())))
}

/// `user 3 (id 5f1c...)`: the entry's place on the page (from 1) and its object ID if it has one.
fn who(index: usize, entry: &serde_json::Value) -> String {
    match entry.get("id").and_then(serde_json::Value::as_str) {
        Some(id) => format!("user {} (id {id})", index + 1),
        None => format!("user {}", index + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Graph's answer as it comes off the wire (one user of each kind).
    const PAGE: &str = r#"{
      "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(userPrincipalName,signInActivity)",
      "value": [
        {"id": "7d3c1f0a-1111-4a2b-8c3d-000000000001", "userPrincipalName": "adele.vance@fabrikam.com",
         "signInActivity": {"lastSignInDateTime": "2026-11-30T09:15:00Z", "lastSignInRequestId": "r1",
           "lastSuccessfulSignInDateTime": "2026-11-30T08:00:00Z", "lastSuccessfulSignInRequestId": "r2",
           "lastNonInteractiveSignInDateTime": "2026-12-01T10:00:00.1234567Z", "lastNonInteractiveSignInRequestId": "r3"}},
        {"id": "7d3c1f0a-1111-4a2b-8c3d-000000000002", "userPrincipalName": "alex.wilber@fabrikam.com",
         "signInActivity": {"lastSignInDateTime": "2026-11-29T07:00:00Z", "lastSignInRequestId": "r4",
           "lastSuccessfulSignInDateTime": null, "lastSuccessfulSignInRequestId": null,
           "lastNonInteractiveSignInDateTime": null, "lastNonInteractiveSignInRequestId": null}},
        {"id": "7d3c1f0a-1111-4a2b-8c3d-000000000003", "userPrincipalName": "megan.bowen@fabrikam.com",
         "signInActivity": null},
        {"id": "7d3c1f0a-1111-4a2b-8c3d-000000000004", "userPrincipalName": "lee.gu@fabrikam.com"},
        {"id": "7d3c1f0a-1111-4a2b-8c3d-000000000005", "userPrincipalName": "nestor.wilke@fabrikam.com",
         "signInActivity": {"lastSuccessfulSignInDateTime": "2026-12-02T17:45:12.5Z"}}
      ],
      "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$select=userPrincipalName,signInActivity&$top=999&$skiptoken=RFNwdAIAAQAAAA"
    }"#;

    fn at(text: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(text).unwrap().to_utc())
    }

    #[test]
    fn reads_upns_last_successful_sign_ins_and_the_next_link() {
        let (users, next) = parse_page(PAGE.as_bytes()).unwrap();
        let got: Vec<_> = users
            .iter()
            .map(|u| (u.upn.as_str(), u.last_success))
            .collect();
        assert_eq!(
            got,
            [
                ("adele.vance@fabrikam.com", at("2026-11-30T08:00:00Z")),
                ("alex.wilber@fabrikam.com", None),
                ("megan.bowen@fabrikam.com", None),
                ("lee.gu@fabrikam.com", None),
                ("nestor.wilke@fabrikam.com", at("2026-12-02T17:45:12.5Z")),
            ]
        );
        assert_eq!(
            next.as_deref(),
            Some("https://graph.microsoft.com/v1.0/users?$select=userPrincipalName,signInActivity&$top=999&$skiptoken=RFNwdAIAAQAAAA")
        );
    }

    #[test]
    fn the_last_page_has_no_next_link() {
        for body in [
            r#"{"value": []}"#,
            r#"{"value": [], "@odata.nextLink": null}"#,
            r#"{"value": [], "@odata.nextLink": ""}"#,
        ] {
            let (users, next) = parse_page(body.as_bytes()).unwrap();
            assert!(users.is_empty());
            assert_eq!(next, None, "{body}");
        }
    }

    #[test]
    fn a_page_that_is_not_a_user_list_is_an_error() {
        let text = |body: &str| parse_page(body.as_bytes()).unwrap_err().to_string();
        assert!(
            text("<html>Service Unavailable</html>").starts_with("is not a JSON object"),
            "{}",
            text("<html>")
        );
        assert!(text(r#"[{"value": []}]"#).starts_with("is not a JSON object"));
        assert!(text(r#"{"value": {"a": 1}}"#).starts_with("is not a JSON object"));
        assert_eq!(
            text(r#"{"@odata.context": "x"}"#),
            "has no `value` array of users"
        );
        assert_eq!(text(r#"{"value": null}"#), "has no `value` array of users");
    }

    /// Found by the `sign_in_page` fuzz target: serde's derive read the page, a user or its
    /// activity from an array, by position.
    #[test]
    fn arrays_are_neither_pages_nor_users() {
        let text = |body: &str| parse_page(body.as_bytes()).unwrap_err().to_string();
        let page = text(
            r#"[[{"userPrincipalName": "x@f.com"}], "https://graph.microsoft.com/v1.0/users?$skiptoken=x"]"#,
        );
        assert!(
            page.starts_with("is not a JSON object with a `value` array (invalid type: sequence, expected a JSON object"),
            "{page}"
        );
        assert!(text("[null, null]").starts_with("is not a JSON object"));
        let user = text(r#"{"value": [["x@f.com", null]]}"#);
        assert!(
            user.starts_with(
                "has an unreadable entry, user 1: invalid type: sequence, expected a JSON object"
            ),
            "{user}"
        );
        let activity = text(
            r#"{"value": [{"userPrincipalName": "x@f.com", "signInActivity": ["2026-12-01T08:00:00Z"]}]}"#,
        );
        assert!(
            activity.starts_with(
                "has an unreadable entry, user 1: invalid type: sequence, expected a JSON object"
            ),
            "{activity}"
        );
    }

    #[test]
    fn a_bad_user_is_named_by_its_place_and_id() {
        let no_upn = r#"{"value": [{"id": "a", "userPrincipalName": "x@f.com"}, {"id": "b-2"}]}"#;
        let text = parse_page(no_upn.as_bytes()).unwrap_err().to_string();
        assert!(
            text.starts_with(
                "has an unreadable entry, user 2 (id b-2): missing field `userPrincipalName`"
            ),
            "{text}"
        );
        let bad_date = r#"{"value": [{"userPrincipalName": "x@f.com", "signInActivity": {"lastSuccessfulSignInDateTime": "yesterday"}}]}"#;
        let text = parse_page(bad_date.as_bytes()).unwrap_err().to_string();
        assert!(
            text.starts_with("has an unreadable entry, user 1: "),
            "{text}"
        );
    }
}
