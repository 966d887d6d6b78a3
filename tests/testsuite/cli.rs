//! The command line itself: `--help` layout, `completions`, `man`, and the trust script written
//! with `--out` in the form Windows PowerShell 5.1 reads right.

use crate::harness::{sample_config, t2t};

#[test]
fn help_puts_the_global_options_under_their_own_heading() {
    for args in [
        vec!["--help"],
        vec!["send", "--help"],
        vec!["validate", "--help"],
    ] {
        let out = t2t().args(&args).run().status(0).stdout();
        let (_, global) = out
            .split_once("Global options:\n")
            .unwrap_or_else(|| panic!("{args:?}: no Global options heading\n{out}"));
        assert!(global.contains("--config <FILE>"), "{args:?}\n{out}");
        assert!(global.contains("--verbose"), "{args:?}\n{out}");
    }
}

#[test]
fn sample_shows_and_takes_no_config_and_names_counts_n() {
    t2t()
        .args(["sample", "--help"])
        .run()
        .status(0)
        .lacks("--config")
        .contains("--users <N>")
        .contains("--groups <N>");
    let dir = tempfile::tempdir().unwrap();
    t2t()
        .args(["sample", "--users", "2", "--config", "x.toml", "--out"])
        .arg(dir.path())
        .run()
        .status(2)
        .contains("`sample` reads no configuration file");
}

#[test]
fn verbose_speaks_of_server_replies_only_for_sending() {
    t2t()
        .args(["--help"])
        .run()
        .status(0)
        .contains("server's replies when\n")
        .lacks("-v: server replies");
}

#[test]
fn man_writes_a_page_per_subcommand_without_help_pages() {
    let dir = tempfile::tempdir().unwrap();
    t2t().args(["man", "--out"]).arg(dir.path()).run().status(0);
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        [
            "t2t-notify-completions.1",
            "t2t-notify-man.1",
            "t2t-notify-preview.1",
            "t2t-notify-report.1",
            "t2t-notify-sample.1",
            "t2t-notify-send.1",
            "t2t-notify-serve.1",
            "t2t-notify-sign-ins.1",
            "t2t-notify-trust-confirm.1",
            "t2t-notify-trust-script.1",
            "t2t-notify-trust-status.1",
            "t2t-notify-trust.1",
            "t2t-notify-validate.1",
            "t2t-notify.1",
        ]
    );
    let send = std::fs::read_to_string(dir.path().join("t2t-notify-send.1")).unwrap();
    assert!(send.starts_with(".ie \\n(.g .ds Aq"), "not roff:\n{send}");
    assert!(send.contains("resend\\-uncertain"), "{send}");
}

#[test]
fn completions_for_powershell_and_bash() {
    t2t()
        .args(["completions", "powershell"])
        .run()
        .status(0)
        .contains("Register-ArgumentCompleter -Native -CommandName 't2t-notify'");
    t2t()
        .args(["completions", "bash"])
        .run()
        .status(0)
        .contains("complete -F _t2t__notify");
    t2t()
        .args(["completions", "cmd"])
        .run()
        .status(2)
        .contains("invalid value 'cmd'");
}

#[test]
fn trust_script_out_writes_utf8_with_bom_and_crlf_and_replaces_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("remove-trust-source.ps1");
    let printed = t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["trust", "script", "--tenant", "source"])
        .run()
        .status(0)
        .stdout();
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["trust", "script", "--tenant", "source", "--out"])
        .arg(&file)
        .run()
        .status(0);
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "no UTF-8 byte-order mark"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    assert_eq!(text.replace("\r\n", "\n"), printed);
    std::fs::write(&file, "mine").unwrap();
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["trust", "script", "--out"])
        .arg(&file)
        .run()
        .status(1)
        .contains("an existing file is not replaced");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}
