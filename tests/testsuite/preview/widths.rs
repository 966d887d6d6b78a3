//! Every shipped notice variant (each locale folder, member and guest, of every campaign kind)
//! in headless Chromium at
//! a phone's 375 px and a desktop's 800 px: the page must never be wider than the window, or
//! buttons, the account name and the right edge of every paragraph are cut off on a phone.
//! Screenshots and the measured widths are kept under the test output folder.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use t2t_notify::campaign::{Campaign, Kind, PreMoveRule, ReminderRule, Rule};
use t2t_notify::config::Config;
use t2t_notify::inputs::directory::DirectoryEntry;
use t2t_notify::inputs::mapping::UserMapping;
use t2t_notify::render::Renderer;

use super::{files_with, preview};
use crate::cdp::Browser;
use crate::harness::{root, sample_config};

const WIDTHS: [u32; 2] = [375, 800];
const TENANT: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

/// The locale folders shipped in `templates/<folder>` (every folder but `shared` and the
/// campaign kinds' folders).
fn shipped_locales(folder: &str) -> Vec<String> {
    let kinds: Vec<&str> = Kind::ALL
        .iter()
        .filter_map(|k| k.templates_folder())
        .collect();
    let mut locales: Vec<String> = std::fs::read_dir(root().join("templates").join(folder))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir() && e.file_name() != "shared")
        .filter(|e| !kinds.iter().any(|k| e.file_name() == *k))
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
    let locales = shipped_locales("");
    assert!(locales.len() >= 3, "{locales:?}");
    let (mapping, directory, labels) = variants(tmp.path(), &locales);
    let out = tmp.path().join("preview");
    preview(&out, &mapping, Some(&directory), &[])
        .run()
        .status(0);
    let pages = files_with(&out, "html");
    assert_eq!(pages.len(), labels.len(), "{pages:?}");
    fits(&pages.into_iter().zip(labels).collect::<Vec<_>>());
}

/// The pre-move and reminder notices, rendered by the library (as `preview` of such a
/// campaign renders them), each locale, member and guest.
#[test]
fn every_campaign_kind_fits_a_375_and_an_800_px_window() {
    let tmp = tempfile::tempdir().unwrap();
    let mut pages = Vec::new();
    for kind in [Kind::PreMove, Kind::Reminder] {
        let mut config = Config::load(&sample_config()).unwrap();
        config.active = Campaign {
            name: kind.as_str().into(),
            rule: match kind {
                Kind::PreMove => Rule::PreMove(PreMoveRule {
                    days_before: 3,
                    scheduled_only: true,
                }),
                _ => Rule::Reminder(ReminderRule {
                    follows: "post-migration".into(),
                    after_days: 3,
                    every_days: 4,
                    max_reminders: 2,
                    max_evidence_age_hours: 24,
                }),
            },
        };
        let renderer = Renderer::new(&config).unwrap();
        let locales = shipped_locales(kind.templates_folder().unwrap());
        assert!(locales.len() >= 3, "{locales:?}");
        for locale in locales {
            for guest in [false, true] {
                let mut r = person(&config, pages.len(), guest, &locale);
                r.planned_start = chrono::NaiveDate::from_ymd_opt(2026, 9, 30);
                r.reminder = (kind == Kind::Reminder).then_some(1);
                let notice = renderer.render(&r, kind.as_str(), None).unwrap();
                assert!(notice.link_errors.is_empty(), "{:?}", notice.link_errors);
                let who = if guest { "guest" } else { "member" };
                let label = format!("{locale}-{}-{who}", kind.as_str());
                let page = tmp.path().join(format!("{label}.html"));
                std::fs::write(&page, notice.html).unwrap();
                pages.push((page, label));
            }
        }
    }
    fits(&pages);
}

/// A member or guest named like [`variants`] names them, speaking `locale`.
fn person(config: &Config, n: usize, guest: bool, locale: &str) -> t2t_notify::plan::Recipient {
    let (source, kind) = if guest {
        (
            format!("kim.lindqvist{n}_partner.example#EXT#@contoso.onmicrosoft.com"),
            "GuestUser",
        )
    } else {
        (format!("kim.lindqvist{n}@contoso.com"), "RegularUser")
    };
    let target = format!("kim.lindqvist{n}@fabrikam.com");
    let entry = DirectoryEntry {
        upn: target.clone(),
        display_name: Some("Kim Lindqvist-Øster".into()),
        given_name: Some("Kim".into()),
        preferred_language: Some(locale.into()),
        ..DirectoryEntry::default()
    };
    let user = UserMapping {
        line: 1,
        source_tenant: TENANT.into(),
        source_upn: source,
        target_upn: target.clone(),
        target_email: target,
        user_type: kind.into(),
    };
    t2t_notify::plan::recipient(config, user, Some(Arc::new(entry)))
}

/// Opens every `(page, label)` at each of [`WIDTHS`]; none may be wider than the window. The
/// label starts with the page's `lang`.
fn fits(pages: &[(PathBuf, String)]) {
    let mut browser = Browser::launch();
    let mut too_wide = Vec::new();
    for width in WIDTHS {
        let tab = browser.new_page(width, 900);
        for (page, label) in pages {
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
