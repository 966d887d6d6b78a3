//! Guests under `recipient = "source-upn"`: their `#EXT#` UPN is no mailbox, so the notice goes
//! to their own address, and a guest without one is held back and listed, not mailed.

use super::{files_with, preview};

const TENANT: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

#[test]
fn a_guest_is_mailed_at_home_and_one_without_an_address_is_held_back() {
    let tmp = tempfile::tempdir().unwrap();
    let mapping = tmp.path().join("map.csv");
    std::fs::write(
        &mapping,
        format!(
            "User,{TENANT},jane_partner.example#EXT#@contoso.onmicrosoft.com,jane@fabrikam.com,jane@fabrikam.com,GuestUser\n\
             User,{TENANT},odd.guest@contoso.com,odd@fabrikam.com,odd@fabrikam.com,GuestUser\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("preview");
    preview(&out, &mapping, None, &[])
        .env("T2T_NOTIFY_MESSAGE_RECIPIENT", "source-upn")
        .run()
        .status(0);
    let emls = files_with(&out, "eml");
    assert_eq!(emls.len(), 1, "{emls:?}");
    let raw = std::fs::read_to_string(&emls[0]).unwrap();
    assert!(raw.contains("\r\nTo: jane@partner.example\r\n"), "{raw}");
    assert!(!raw.contains("#EXT#"), "{raw}");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("held back (not previewed): guest without a mail address: 1"),
        "{index}"
    );
}
