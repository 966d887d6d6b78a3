//! Security properties as tests: secrets never in argv, logs, Debug output, previews, reports
//! or the ledger; no clear text to other hosts and no way to turn certificate checks off; no
//! header, recipient or MIME part injected through a CSV field; every directory field escaped in
//! the HTML; links only to allowed hosts; no bypass of the trust gate; owner-only files.

mod escaping;
mod gate;
mod injection;
mod links;
mod permissions;
mod secrets;
mod support;
mod tls;
