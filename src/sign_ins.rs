//! Who has signed in to the target tenant: each user's UPN and last successful sign-in, read
//! from Microsoft Graph's `signInActivity` with the app registration the tool already uses, for
//! the sign-in reminders of issue #20. [`page`] parses one page of Graph's user list without
//! IO; [`graph`] fetches every page.

pub mod graph;
pub mod page;

pub use graph::{FetchError, RetryPolicy, SignInFetch};
pub use page::{parse_page, FetchedSignIn, PageError};
