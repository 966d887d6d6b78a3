//! `send` refuses to go on with a campaign without the directory file its earlier run used, or
//! with a file of other content, unless `--directory-changed` says so (exit 2, nothing sent).

use crate::harness::*;
use crate::send::helpers::Site;
use crate::sink::Sink;

#[test]
fn a_campaign_keeps_its_directory_unless_the_change_is_declared() {
    let sink = Sink::start();
    let site = Site::new(sink.port);
    site.open_gate();
    let sample = root().join("sample-data");
    let mapping = sample.join("identity-map.csv");
    site.send(&["--limit", "10"]).status(0);
    assert_eq!(sink.messages().len(), 10);

    site.send_mapping(&mapping, &[])
        .status(2)
        .contains("campaign post-migration was sent with the directory")
        .contains("this run has no --directory")
        .contains("add --directory-changed");
    assert_eq!(sink.messages().len(), 10, "nothing sent");

    let text = std::fs::read_to_string(sample.join("directory.csv")).unwrap();
    let other = site.write("directory.csv", &text.replacen("Ana", "Anna", 1));
    let run = |dir: &std::path::Path, extra: &[&str]| {
        site.t2t()
            .args(["send", "--mapping"])
            .arg(&mapping)
            .arg("--directory")
            .arg(dir)
            .args(extra)
            .run()
    };
    run(&other, &[])
        .status(2)
        .contains(&format!("this run gives another one ({})", other.display()));
    assert_eq!(sink.messages().len(), 10, "nothing sent");

    let copy = site.write("same-directory.csv", &text);
    run(&copy, &["--limit", "15"]).status(0);
    assert_eq!(
        sink.messages().len(),
        15,
        "the same content elsewhere is the same directory"
    );

    run(&other, &["--directory-changed", "--limit", "20"]).status(0);
    assert_eq!(sink.messages().len(), 20);
    run(&other, &[]).status(0);
    assert_eq!(
        sink.messages().len(),
        30,
        "the declared file is the campaign's now"
    );
}
