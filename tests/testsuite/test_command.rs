//! README's test command is one script that installs what the tests need and runs them, the
//! same one `.ci/run` calls; it installs every package the harness asks for when a tool is
//! missing, so a fresh Debian machine runs it by itself.

use crate::harness::root;

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

#[test]
fn readme_and_ci_run_the_script_that_installs_what_the_harness_needs() {
    let readme = read("README.md");
    let section = &readme[readme.find("Run the tests").expect("README: Run the tests")..];
    let block = section.split("```sh\n").nth(1).unwrap();
    let command = block.split("\n```").next().unwrap();
    assert_eq!(command, "scripts/test.sh");
    assert!(read(".ci/run").contains("\nscripts/test.sh\n"));
    let script = read("scripts/test.sh");
    assert!(script.contains("cargo test --locked \"$@\""), "{script}");
    for (harness, package) in [
        ("tests/testsuite/sink.rs", "postfix"),
        ("tests/testsuite/cdp.rs", "chromium"),
        ("tests/testsuite/tls_server.rs", "openssl"),
        ("tests/testsuite/tls_server.rs", "python3-aiosmtpd"),
    ] {
        assert!(
            read(harness).contains(&format!("install the Debian package `{package}`")),
            "{harness} names {package}"
        );
        assert!(
            script.contains(&format!("need_apt+=({package})")),
            "scripts/test.sh installs {package}"
        );
    }
}

#[test]
fn readme_local_trial_works_as_root_without_pacing_and_without_test_fixtures() {
    let readme = read("README.md");
    let install = readme
        .find("cargo install --locked --path .")
        .expect("install step");
    let first_bare = readme
        .find("\nt2t-notify validate")
        .expect("a bare t2t-notify example");
    assert!(
        install < first_bare,
        "installed before the first bare example"
    );
    let trial = &readme[readme.find("### Trying it locally").unwrap()..];
    let trial = &trial[..trial.find("\n## ").unwrap()];
    assert!(trial.contains("/usr/sbin/smtp-sink -u nobody 127.0.0.1:2525"));
    assert!(trial.contains("T2T_NOTIFY_PACING_PER_MINUTE=0"));
    assert!(
        trial.contains("per_minute = 30"),
        "says why pacing is turned off"
    );
    assert!(
        !trial.contains("tests/fixtures/trust"),
        "no test fixtures as the real step"
    );
    assert!(trial.contains("LOCAL TEST ONLY"));
    assert!(readme.contains("per folder one `text.html`"));
}
