//! Every directory field is text in the HTML, never markup: headless Chromium opens the HTML part
//! of each notice (taken from the `.eml`) and the preview gallery, finds no element or event
//! handler the values would have added, and reads each value back as text.

use std::path::Path;

use mail_parser::MessageParser;
use serde_json::Value;

use super::support::{preview_into, write};
use crate::cdp::Browser;
use crate::harness::root;

/// The display name of the issue, and other ways out of a text or attribute context.
const PAYLOADS: [&str; 6] = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "\"><svg onload=alert(3)>",
    "' onmouseover='alert(4)",
    "</p><iframe src=\"javascript:alert(5)\"></iframe>",
    "{{recipient.email}} {{{links.onedrive}}}",
];

/// Elements with an event handler or the payloads' image.
const HANDLERS: &str = "Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes).some(a => a.name.toLowerCase().startsWith('on')) || (e.tagName === 'IMG' && e.getAttribute('src') === 'x')).map(e => e.outerHTML)";
/// Those, and elements a notice never has (the gallery has its own script and frame).
const INJECTED: &str = "Array.from(document.querySelectorAll('*')).filter(e => Array.from(e.attributes).some(a => a.name.toLowerCase().startsWith('on')) || ['IFRAME', 'SCRIPT', 'SVG', 'svg', 'OBJECT', 'EMBED'].includes(e.tagName) || (e.tagName === 'IMG' && e.getAttribute('src') === 'x')).map(e => e.outerHTML)";

/// A template that puts every directory field into text and attribute contexts.
const EVERY_FIELD: &str = r#"{{#> shared/html/layout title="t" preheader="p"}}
<p id="name">{{recipient.name}}</p>
<p id="given" title="{{recipient.given_name}}">{{recipient.given_name}}</p>
<p id="Department" title="{{recipient.directory.Department}}">{{recipient.directory.Department}}</p>
<p id="JobTitle" title='{{recipient.directory.JobTitle}}'>{{recipient.directory.JobTitle}}</p>
<p id="Office">{{recipient.directory.Office}}</p>
<p id="City">{{recipient.directory.City}}</p>
{{/shared/html/layout}}
"#;

/// The HTML part of the only `.eml` under `out/messages`, written next to it as `part.html`.
fn html_part(out: &Path) -> String {
    let messages = out.join("messages");
    let eml = crate::harness::preview_files(out, "eml")
        .pop()
        .expect("one notice");
    let bytes = std::fs::read(eml).unwrap();
    let m = MessageParser::default().parse(&bytes).unwrap();
    let html = m.body_html(0).expect("HTML part").into_owned();
    let path = messages.join("part.html");
    std::fs::write(&path, html).unwrap();
    format!("file://{}", path.display())
}

fn first_user_target() -> String {
    let text = std::fs::read_to_string(root().join("sample-data/identity-map.csv")).unwrap();
    text.lines()
        .next()
        .unwrap()
        .split(',')
        .nth(3)
        .unwrap()
        .to_string()
}

fn open(browser: &mut Browser, url: &str, injected: &str) -> String {
    let page = browser.new_page(1000, 800);
    browser.navigate(&page, url);
    let injected = browser.eval(&page, injected);
    assert_eq!(injected, Value::Array(vec![]), "{url}: markup from a field");
    page
}

fn text_of(browser: &mut Browser, page: &str, js: &str) -> String {
    browser
        .eval(page, js)
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_display_name_of_the_issue_renders_as_text_in_the_notice_and_the_gallery() {
    let tmp = tempfile::tempdir().unwrap();
    let name = PAYLOADS[0];
    let directory = write(
        tmp.path(),
        "dir.csv",
        &format!(
            "UserPrincipalName,DisplayName\r\n{},{name}\r\n",
            first_user_target()
        ),
    );
    let out = tmp.path().join("preview");
    preview_into(
        &root().join("sample-data/identity-map.csv"),
        &directory,
        &out,
    )
    .args(["--limit", "1"])
    .run()
    .status(0);
    let mut browser = Browser::launch();
    let notice = open(&mut browser, &html_part(&out), INJECTED);
    let body = text_of(&mut browser, &notice, "document.body.innerText");
    assert!(body.contains(&format!("Hello {name},")), "{body}");
    let index = format!("file://{}", out.join("index.html").display());
    let gallery = open(&mut browser, &index, HANDLERS);
    let listed = text_of(&mut browser, &gallery, "document.body.innerText");
    assert!(listed.contains(name), "{listed}");
    let data = "JSON.parse(document.getElementById('t2t-data').textContent)[0].name";
    assert_eq!(
        text_of(&mut browser, &gallery, data),
        name,
        "data, not markup"
    );
    assert!(browser.errors().is_empty(), "{:?}", browser.errors());
}

#[test]
fn every_directory_field_is_text_in_every_html_context() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    super::injection::copy_tree(&root().join("templates"), &templates);
    std::fs::write(templates.join("en/html.hbs"), EVERY_FIELD).unwrap();
    let columns = [
        "DisplayName",
        "GivenName",
        "Department",
        "JobTitle",
        "Office",
        "City",
    ];
    let mut browser = Browser::launch();
    for shift in 0..PAYLOADS.len() {
        let value = |c: usize| PAYLOADS[(c + shift) % PAYLOADS.len()];
        let cells: Vec<String> = (0..columns.len())
            .map(|c| format!("\"{}\"", value(c).replace('"', "\"\"")))
            .collect();
        let directory = write(
            tmp.path(),
            "dir.csv",
            &format!(
                "UserPrincipalName,{}\r\n{},{}\r\n",
                columns.join(","),
                first_user_target(),
                cells.join(",")
            ),
        );
        let out = tmp.path().join(format!("preview-{shift}"));
        preview_into(
            &root().join("sample-data/identity-map.csv"),
            &directory,
            &out,
        )
        .env("T2T_NOTIFY_MESSAGE_TEMPLATES", templates.to_str().unwrap())
        .args(["--limit", "1"])
        .run()
        .status(0);
        let page = open(&mut browser, &html_part(&out), INJECTED);
        let ids = ["name", "given", "Department", "JobTitle", "Office", "City"];
        for (c, id) in ids.iter().enumerate() {
            let js = format!("document.getElementById('{id}').textContent");
            assert_eq!(text_of(&mut browser, &page, &js), value(c), "#{id} text");
            if (1..4).contains(&c) {
                let js = format!("document.getElementById('{id}').getAttribute('title')");
                assert_eq!(text_of(&mut browser, &page, &js), value(c), "#{id} title");
            }
        }
    }
    assert!(browser.errors().is_empty(), "{:?}", browser.errors());
}
