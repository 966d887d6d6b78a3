//! Every shipped notice variant (each locale folder, member and guest) in headless Chromium at
//! a phone's 375 px and a desktop's 800 px: the page must never be wider than the window, or
//! buttons, the account name and the right edge of every paragraph are cut off on a phone.
//! Screenshots and the measured widths are kept under the test output folder.

use std::path::{Path, PathBuf};

use super::{files_with, preview};
use crate::cdp::Browser;
use crate::harness::root;

const WIDTHS: [u32; 2] = [375, 800];
const TENANT: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

/// The locale folders shipped in `templates/` (every folder but `shared`).
fn shipped_locales() -> Vec<String> {
    let mut locales: Vec<String> = std::fs::read_dir(root().join("templates"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir() && e.file_name() != "shared")
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    locales.sort();
    locales
}

/// A mapping and directory with one member and one guest per locale, in that order.
fn variants(dir: &Path, locales: &[String]) -> (PathBuf, PathBuf, Vec<String>) {
    let (mut mapping, mut directory, mut labels) = (String::new(), String::new(), Vec::new());
    directory.push_str("UserPrincipalName,DisplayName,GivenName,PreferredLanguage\n");
    for locale in locales {
        for guest in [false, true] {
            let n = labels.len();
            let (source, kind) = if guest {
                (
                    format!("kim.lindqvist{n}_partner.example#EXT#@contoso.onmicrosoft.com"),
                    "GuestUser",
                )
            } else {
                (format!("kim.lindqvist{n}@contoso.com"), "RegularUser")
            };
            let target = format!("kim.lindqvist{n}@fabrikam.com");
            mapping.push_str(&format!(
                "User,{TENANT},{source},{target},{target},{kind}\n"
            ));
            directory.push_str(&format!("{target},\"Kim Lindqvist-Øster\",Kim,{locale}\n"));
            labels.push(format!(
                "{locale}-{}",
                if guest { "guest" } else { "member" }
            ));
        }
    }
    let (m, d) = (dir.join("map.csv"), dir.join("directory.csv"));
    std::fs::write(&m, mapping).unwrap();
    std::fs::write(&d, directory).unwrap();
    (m, d, labels)
}

fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("notice-widths")
}

#[test]
fn every_notice_variant_fits_a_375_and_an_800_px_window() {
    let tmp = tempfile::tempdir().unwrap();
    let locales = shipped_locales();
    assert!(locales.len() >= 3, "{locales:?}");
    let (mapping, directory, labels) = variants(tmp.path(), &locales);
    let out = tmp.path().join("preview");
    preview(&out, &mapping, Some(&directory), &[])
        .run()
        .status(0);
    let pages = files_with(&out, "html");
    assert_eq!(pages.len(), labels.len(), "{pages:?}");

    let mut browser = Browser::launch();
    let mut too_wide = Vec::new();
    for width in WIDTHS {
        let tab = browser.new_page(width, 900);
        for (page, label) in pages.iter().zip(&labels) {
            browser.navigate(&tab, &format!("file://{}", page.display()));
            let lang = browser.eval(&tab, "document.documentElement.lang");
            assert_eq!(Some(lang.as_str().unwrap()), label.split('-').next());
            let measured = browser.eval(
                &tab,
                "[document.documentElement.scrollWidth, window.innerWidth]",
            );
            let (scroll, inner) = (measured[0].as_u64().unwrap(), measured[1].as_u64().unwrap());
            eprintln!("{label} at {width}px: scrollWidth {scroll}, innerWidth {inner}");
            browser.screenshot(&tab, &shots().join(format!("{label}-{width}.png")));
            if scroll > inner {
                too_wide.push(format!("{label} at {width}px is {scroll}px wide"));
            }
        }
    }
    let errors = browser.errors();
    assert!(errors.is_empty(), "browser errors: {errors:#?}");
    assert!(too_wide.is_empty(), "wider than the window: {too_wide:#?}");
    eprintln!("screenshots in {}", shots().display());
}
