//! Links only to allowed hosts: a directory OneDriveUrl on a look-alike of the tenant's host
//! stops `send` with exit 2 before any connection, naming the URL and the person.

use super::support::{assert_never_connected, listener};
use crate::harness::root;
use crate::send::helpers::Site;

/// Look-alikes of `https://fabrikam-my.sharepoint.com/` (the target tenant's host).
const LOOK_ALIKES: [&str; 9] = [
    "https://fabrikam-my.sharepoint.com.evil.example/personal/ana",
    "https://fabrikam-my.sharepoint.com@evil.example/personal/ana",
    "https://fabrikam-my.sharepoint.com:443@evil.example/personal/ana",
    "https://fabrikam-my-sharepoint.com/personal/ana",
    "https://evilfabrikam-my.sharepoint.com/personal/ana",
    "https://f\u{430}brikam-my.sharepoint.com/personal/ana",
    "https://fabrikam-my.sharepoint.com%2eevil.example/personal/ana",
    "https://xn--fabrikam-my-7ob.sharepoint.com/personal/ana",
    "https://sharepoint.com/personal/ana",
];

#[test]
fn a_onedrive_url_on_a_look_alike_host_stops_send_before_any_connection() {
    let l = listener();
    let site = Site::new(l.local_addr().unwrap().port());
    site.open_gate();
    let mapping = root().join("sample-data/identity-map.csv");
    let first = std::fs::read_to_string(&mapping).unwrap();
    let (source, target) = {
        let f: Vec<&str> = first.lines().next().unwrap().split(',').collect();
        (f[2].to_string(), f[3].to_string())
    };
    for url in LOOK_ALIKES {
        let directory = site.write(
            "dir.csv",
            &format!("UserPrincipalName,OneDriveUrl\r\n{target},{url}\r\n"),
        );
        let run = site
            .t2t()
            .args(["send", "--mapping"])
            .arg(&mapping)
            .arg("--directory")
            .arg(&directory)
            .run();
        let all = format!("{}{}", run.stdout(), run.stderr());
        assert_eq!(run.code(), 2, "{url}\n{all}");
        assert!(
            all.contains("nothing was sent") && all.contains(&source),
            "{url}: the error names the person\n{all}"
        );
        assert!(
            all.contains("is not one of the tenants' hosts")
                || all.contains("a user name before the host"),
            "{url}: the error says why\n{all}"
        );
    }
    assert_never_connected(&l);
    assert!(site.states().is_empty(), "nobody was recorded");
}
