//! The gallery in a real browser: headless Chromium opens `index.html` of the sample preview,
//! every person appears, the search box filters, nothing is logged as an error, and
//! screenshots of the gallery and of one message are saved under the test output folder.

use std::path::PathBuf;

use serde_json::Value;

use super::{preview, sample_directory, sample_mapping, user_upns};
use crate::cdp::Browser;

const LISTED: &str =
    "Array.from(document.querySelectorAll('#list .user')).map(e => e.dataset.source)";

/// The text of every `<pre>` of a text page that is displayed.
const VISIBLE_PARTS: &str = "Array.from(document.querySelectorAll('pre')).filter(p => getComputedStyle(p).display !== 'none').map(p => p.textContent)";

fn search(browser: &mut Browser, page: &str, text: &str) -> Vec<String> {
    let js = format!(
        "(() => {{ const s = document.getElementById('search'); s.value = {}; s.dispatchEvent(new Event('input')); return {LISTED}; }})()",
        serde_json::to_string(text).unwrap()
    );
    strings(browser.eval(page, &js))
}

fn strings(v: Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Where the screenshots go: kept after the test for people to look at.
fn shots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("preview-browser")
}

#[test]
fn gallery_lists_everyone_filters_and_logs_no_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("preview");
    preview(&out, &sample_mapping(), Some(&sample_directory()), &[])
        .run()
        .status(0);
    let url = format!("file://{}", out.join("index.html").display());

    let mut browser = Browser::launch();
    let page = browser.new_page(1400, 900);
    browser.navigate(&page, &url);

    let everyone = user_upns(&sample_mapping());
    let listed = strings(browser.eval(&page, LISTED));
    assert_eq!(listed, everyone, "every user of the mapping, in order");
    let count = browser.eval(&page, "document.getElementById('count').textContent");
    assert_eq!(count, "30 of 30 people");
    let frame = browser.eval(
        &page,
        "document.getElementById('frame').getAttribute('src')",
    );
    assert!(
        frame
            .as_str()
            .unwrap()
            .starts_with("messages/000/000001-ana.martinez0"),
        "{frame}"
    );
    browser.screenshot(&page, &shots().join("gallery.png"));

    let guests = search(&mut browser, &page, "partner.example");
    assert_eq!(guests.len(), 3, "{guests:?}");
    assert!(guests.iter().all(|g| g.contains("#EXT#")), "{guests:?}");
    assert_eq!(
        search(&mut browser, &page, "guest de"),
        [
            "noah.novak9_partner.example#EXT#@contoso.onmicrosoft.com",
            "yuki.odegaard19_partner.example#EXT#@contoso.onmicrosoft.com",
            "noah.weiss29_partner.example#EXT#@contoso.onmicrosoft.com"
        ]
    );
    assert_eq!(
        search(&mut browser, &page, "JOSE.DUBOIS1"),
        ["jose.dubois1@contoso.com"]
    );
    let meta = browser.eval(&page, "document.getElementById('meta').textContent");
    assert!(
        meta.as_str().unwrap().contains("jose.dubois1@fabrikam.com"),
        "{meta}"
    );
    assert!(search(&mut browser, &page, "no-such-person").is_empty());
    assert_eq!(
        browser.eval(&page, "document.getElementById('count').textContent"),
        "0 of 30 people"
    );
    assert_eq!(search(&mut browser, &page, "").len(), 30);

    let guest = search(&mut browser, &page, "yuki");
    assert_eq!(guest.len(), 1);
    browser.screenshot(&page, &shots().join("gallery-guest.png"));
    let message = browser.eval(
        &page,
        "document.getElementById('frame').getAttribute('src')",
    );
    let message_page = browser.new_page(800, 1800);
    browser.navigate(
        &message_page,
        &format!("file://{}", out.join(message.as_str().unwrap()).display()),
    );
    let lang = browser.eval(&message_page, "document.documentElement.lang");
    assert_eq!(lang, "de");
    browser.screenshot(&message_page, &shots().join("message-guest-de.png"));

    // The text tab: the folder's text page, showing only this person's part.
    browser.eval(&page, "document.getElementById('tab-text').click(); 0");
    let text = browser.eval(
        &page,
        "document.getElementById('frame').getAttribute('src')",
    );
    let text = text.as_str().unwrap();
    assert!(text.starts_with("messages/000/text.html#p0000"), "{text}");
    let text_page = browser.new_page(800, 1200);
    browser.navigate(&text_page, &format!("file://{}", out.join(text).display()));
    let shown = browser.eval(&text_page, VISIBLE_PARTS);
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert!(
        shown[0].as_str().unwrap().contains("yuki.odegaard19"),
        "{shown}"
    );
    browser.screenshot(&text_page, &shots().join("text-guest-de.png"));
    let whole = format!("file://{}", out.join("messages/000/text.html").display());
    browser.navigate(&text_page, &whole);
    let all = browser.eval(&text_page, VISIBLE_PARTS);
    assert_eq!(
        all.as_array().unwrap().len(),
        30,
        "without an anchor, every part"
    );

    let errors = browser.errors();
    assert!(errors.is_empty(), "browser errors: {errors:#?}");
    eprintln!("screenshots in {}", shots().display());
}
