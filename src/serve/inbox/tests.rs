use chrono::TimeZone;
use tempfile::TempDir;

use super::*;
use crate::ledger::trust as records;
use crate::platform::is_owner_only;

fn config() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/t2t-notify.toml");
    let text = fs::read_to_string(&path).unwrap();
    Config::from_str_with_env(&text, &path, &[]).unwrap()
}

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0).unwrap()
}

/// An empty inbox folder, the sample config and a new ledger.
struct Setup {
    _dir: TempDir,
    _ledger_dir: TempDir,
    inbox: Inbox,
    config: Config,
    ledger: Ledger,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let (ledger_dir, ledger) = Ledger::temp();
        Setup {
            inbox: Inbox::new(dir.path().join("inbox")),
            _dir: dir,
            _ledger_dir: ledger_dir,
            config: config(),
            ledger,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.inbox.dir().join(name)
    }

    /// Copies a fixture into the inbox as `name`.
    fn drop_fixture(&self, dir: &str, fixture_name: &str, name: &str) {
        fs::create_dir_all(self.inbox.dir()).unwrap();
        fs::copy(fixture(dir, fixture_name), self.path(name)).unwrap();
    }

    fn drop_text(&self, name: &str, text: &str) {
        fs::create_dir_all(self.inbox.dir()).unwrap();
        fs::write(self.path(name), text).unwrap();
    }

    fn scan(&mut self, at: DateTime<Utc>) -> Scan {
        self.inbox.scan(&self.config, &mut self.ledger, at).unwrap()
    }

    /// Two scans `SETTLE` apart: the first only sees the files, the second takes them.
    fn settle(&mut self, at: DateTime<Utc>) -> Vec<Arrival> {
        let first = self.scan(at);
        assert!(first.arrivals.is_empty(), "{first:?}");
        self.scan(at + SETTLE).arrivals
    }

    /// Every file under the inbox, relative, sorted.
    fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut dirs = vec![self.inbox.dir().to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    let rel = path.strip_prefix(self.inbox.dir()).unwrap();
                    out.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        out.sort();
        out
    }
}

fn one<'a>(arrivals: &'a [Arrival], name: &str) -> &'a Arrival {
    let found: Vec<&Arrival> = arrivals.iter().filter(|a| a.name == name).collect();
    assert_eq!(found.len(), 1, "{name} in {arrivals:#?}");
    found[0]
}

/// What the reader gives for a file, as `validate` and `sign-ins` print it.
fn shown(diags: &Diagnostics, severity: Severity) -> Vec<String> {
    let all = diags.sorted().into_iter();
    all.filter(|d| d.severity == severity)
        .map(ToString::to_string)
        .collect()
}

#[test]
fn good_files_of_every_kind_are_processed_recorded_and_listed_by_content() {
    let mut s = Setup::new();
    s.drop_fixture("move-state", "batch-1.csv", "1-export.csv");
    s.drop_fixture("schedule", "wave-1.csv", "2-export.csv");
    s.drop_fixture("sign-ins", "ps51-utf16le.csv", "3-export.csv");
    s.drop_fixture("trust", "accepted-source.json", "4-export.json");
    s.drop_fixture("move-state", "batch-2-ps51-utf16le.json", "5-export.json");
    let arrivals = s.settle(t0());
    // Files are taken oldest first by modification time, which a copy keeps on Windows: the
    // order of these copies differs there, so compare them by name.
    let mut kinds: Vec<(&str, Option<InputKind>, Outcome)> = arrivals
        .iter()
        .map(|a| (a.name.as_str(), a.kind, a.outcome))
        .collect();
    kinds.sort_by_key(|k| k.0);
    let processed = Outcome::Processed;
    assert_eq!(
        kinds,
        [
            ("1-export.csv", Some(InputKind::MoveState), processed),
            ("2-export.csv", Some(InputKind::Schedule), processed),
            ("3-export.csv", Some(InputKind::SignIns), processed),
            ("4-export.json", Some(InputKind::TrustEvidence), processed),
            ("5-export.json", Some(InputKind::MoveState), processed),
        ]
    );
    for a in &arrivals {
        assert!(a.errors.is_empty() && a.reason_file.is_none(), "{a:#?}");
        let want = s.path(PROCESSED).join("20261206T090002Z").join(&a.name);
        assert_eq!(a.moved_to, want);
    }
    assert_eq!(
        one(&arrivals, "1-export.csv").summary,
        "5 users, 2 of them Success; kept for the plan"
    );
    assert_eq!(one(&arrivals, "2-export.csv").rows, 3);
    // The move-state export's unknown state is a warning: the file is taken all the same.
    assert_eq!(one(&arrivals, "5-export.json").warnings.len(), 1);

    // The sign-ins are in the ledger under the name the file was dropped with.
    let sign_ins = one(&arrivals, "3-export.csv");
    assert_eq!(
        sign_ins.summary,
        "4 users, 3 with a successful sign-in, recorded"
    );
    let imports = s.ledger.sign_in_imports().unwrap();
    assert_eq!(imports.len(), 1);
    assert_eq!(
        (
            imports[0].source.as_str(),
            imports[0].users,
            imports[0].learnt_at
        ),
        ("3-export.csv", 4, t0() + SETTLE)
    );
    // The evidence is recorded as `trust confirm` records it, as the file in processed/.
    let evidence = one(&arrivals, "4-export.json");
    assert!(
        evidence.summary.starts_with("accepted: source https://contoso-my.sharepoint.com/ -> target https://fabrikam-my.sharepoint.com/: NotEstablished"),
        "{}",
        evidence.summary
    );
    let confirmations = records::list(&s.ledger).unwrap();
    assert_eq!(confirmations.len(), 1);
    let kept = std::path::absolute(&evidence.moved_to).unwrap();
    assert_eq!(confirmations[0].file_name, kept.display().to_string());
    assert_eq!(confirmations[0].confirmed_at, t0() + SETTLE);

    // A later move-state export comes after the earlier ones, whatever its name.
    s.drop_fixture("move-state", "batch-3-single.json", "0-later.json");
    let later = s.settle(t0() + Duration::minutes(5));
    assert_eq!(later[0].outcome, Outcome::Processed);
    let listed = processed_inputs(s.inbox.dir()).unwrap();
    let names = |paths: &[PathBuf]| -> Vec<String> {
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        paths.iter().map(name).collect()
    };
    assert_eq!(
        names(&listed.move_states),
        ["1-export.csv", "5-export.json", "0-later.json"]
    );
    assert_eq!(names(&listed.schedules), ["2-export.csv"]);
    assert!(listed.move_states[0].starts_with(s.path(PROCESSED)));

    assert_eq!(s.files().len(), 6, "{:?}", s.files());
    assert!(s.files().iter().all(|f| f.starts_with("processed/")));
}

#[test]
fn damaged_files_are_rejected_with_every_located_error_and_nothing_is_recorded() {
    let mut s = Setup::new();
    s.drop_fixture("move-state", "bad-upn.csv", "batch-1.csv");
    s.drop_fixture("sign-ins", "ambiguous-date.csv", "sign-ins.csv");
    s.drop_fixture("trust", "refused-verify-goodtoproceed.json", "trust-1.json");
    s.drop_text("notes.csv", "hello,world\r\n");
    // What `validate` and `sign-ins` say about the same files where they were dropped.
    let (_, moves) = move_state::read(&s.path("batch-1.csv")).unwrap();
    let (_, signs) = sign_ins::read(&s.path("sign-ins.csv")).unwrap();
    let names = ["batch-1.csv", "sign-ins.csv", "trust-1.json", "notes.csv"];
    let originals: Vec<(&str, Vec<u8>)> = names
        .iter()
        .map(|n| (*n, fs::read(s.path(n)).unwrap()))
        .collect();

    let arrivals = s.settle(t0());
    assert_eq!(arrivals.len(), 4);
    assert!(arrivals.iter().all(|a| a.outcome == Outcome::Rejected));

    let batch = one(&arrivals, "batch-1.csv");
    assert_eq!(batch.errors, shown(&moves, Severity::Error));
    let at = s.path("batch-1.csv").display().to_string();
    assert_eq!(batch.errors.len(), 2, "{:?}", batch.errors);
    let first = format!("{at}:4: column 1 (SourceUserPrincipalName): `bø@contoso.com` character `ø` (U+00F8) is not allowed");
    assert!(batch.errors[0].starts_with(&first), "{:?}", batch.errors);
    assert_eq!(
        batch.errors[1],
        format!(
            "{at}:5: column 1 (SourceUserPrincipalName): `cy@@contoso.com` has more than one @"
        )
    );
    assert_eq!(batch.summary, "2 errors found");

    let sign_ins = one(&arrivals, "sign-ins.csv");
    assert_eq!(sign_ins.errors, shown(&signs, Severity::Error));
    assert_eq!(sign_ins.errors.len(), 1);
    let ambiguous =
        ":4: column 2 (LastSuccessfulSignIn): `12/01/2026 08:30:00` has slashes and no AM/PM";
    assert!(
        sign_ins.errors[0].contains(ambiguous),
        "{:?}",
        sign_ins.errors
    );

    let trust = one(&arrivals, "trust-1.json");
    assert_eq!(trust.kind, Some(InputKind::TrustEvidence));
    assert_eq!(trust.errors.len(), 1);
    let refused = format!(
        "refused: {}: field VerifyResult: is `GoodToProceed`: the trust is still active;",
        s.path("trust-1.json").display()
    );
    assert!(trust.errors[0].starts_with(&refused), "{:?}", trust.errors);

    let notes = one(&arrivals, "notes.csv");
    assert_eq!(notes.kind, None);
    assert_eq!(notes.errors, [format!("{}: not a file t2t-notify reads: its first row (`hello,world`) names none of the columns t2t-notify reads: MoveState (a move-state export), PreferredMoveBeginDate or PlannedStart (a migration schedule), LastSuccessfulSignIn (a sign-in export)", s.path("notes.csv").display())]);

    // Nothing reached the ledger.
    assert!(s.ledger.sign_in_imports().unwrap().is_empty());
    assert!(s.ledger.sign_ins().unwrap().by_user.is_empty());
    assert!(records::list(&s.ledger).unwrap().is_empty());
    let listed = processed_inputs(s.inbox.dir()).unwrap();
    assert_eq!(listed, ProcessedInputs::default());

    // Each file is in rejected/, unchanged, with its reason next to it.
    for (name, bytes) in originals {
        let a = one(&arrivals, name);
        let stamped = format!("20261206T090002Z-{name}");
        assert_eq!(a.moved_to, s.path(REJECTED).join(&stamped));
        assert_eq!(fs::read(&a.moved_to).unwrap(), bytes, "{name}");
        let reason_file = a.reason_file.as_ref().unwrap();
        let reason_name = format!("{stamped}.reason.txt");
        assert_eq!(*reason_file, s.path(REJECTED).join(reason_name));
        let reason = fs::read_to_string(reason_file).unwrap();
        for e in &a.errors {
            assert!(reason.contains(e.as_str()), "{reason}");
        }
        assert!(
            reason.contains("Nothing in it was recorded or sent."),
            "{reason}"
        );
        assert!(reason.contains("\nWhat to do: "), "{reason}");
    }
    let reason = fs::read_to_string(batch.reason_file.as_ref().unwrap()).unwrap();
    let opening =
        "t2t-notify did not take batch-1.csv (a move-state export), dropped into the inbox ";
    assert!(reason.starts_with(opening), "{reason}");
    assert!(reason.contains("\nEvery error:\n  "), "{reason}");
    assert_eq!(s.files().len(), 8, "{:?}", s.files());
}

#[test]
fn newer_evidence_that_the_trust_is_still_there_withdraws_the_confirmation_as_trust_confirm_does() {
    let mut s = Setup::new();
    s.drop_fixture(
        "trust",
        "accepted-source.json",
        "trust-evidence-source-1.json",
    );
    assert_eq!(s.settle(t0())[0].outcome, Outcome::Processed);
    assert_eq!(records::list(&s.ledger).unwrap().len(), 1);
    let active = fs::read_to_string(fixture("trust", "refused-verify-goodtoproceed.json"))
        .unwrap()
        .replace("2026-11-20T06:00:00Z", "2026-12-01T06:00:00Z");
    s.drop_text("trust-evidence-source-1.json", &active);
    let arrivals = s.settle(t0() + Duration::minutes(1));
    assert_eq!(arrivals[0].outcome, Outcome::Rejected);
    assert_eq!(arrivals[0].warnings.len(), 1);
    let withdrawn = &arrivals[0].warnings[0];
    assert!(
        withdrawn.starts_with("WITHDRAWN: source https://contoso-my.sharepoint.com/ -> target https://fabrikam-my.sharepoint.com/ is no longer confirmed: "),
        "{withdrawn}"
    );
    assert!(records::list(&s.ledger).unwrap().is_empty());
    let reason = fs::read_to_string(arrivals[0].reason_file.as_ref().unwrap()).unwrap();
    assert!(reason.contains(withdrawn.as_str()), "{reason}");
}

#[test]
fn a_file_is_taken_only_once_it_stopped_changing_and_temporary_names_are_left_alone() {
    let mut s = Setup::new();
    let ignored = [
        ".hidden.csv",
        "~$book.csv",
        "export.csv.tmp",
        "export.csv.partial",
        "x.crdownload",
        "desktop.ini",
        "sub/inner.csv",
    ];
    fs::create_dir_all(s.path("sub")).unwrap();
    for name in ignored {
        fs::copy(fixture("move-state", "batch-1.csv"), s.path(name)).unwrap();
    }
    let header = "\"SourceUserPrincipalName\",\"MoveState\"\r\n";
    s.drop_text("moves.csv", header);
    let waiting = s.scan(t0());
    assert!(waiting.arrivals.is_empty());
    let names: Vec<&str> = waiting.waiting.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["moves.csv"]);
    // Export-Csv writes another row: the wait starts again.
    let full = format!("{header}\"ana@contoso.com\",\"Success\"\r\n");
    fs::write(s.path("moves.csv"), &full).unwrap();
    assert_eq!(s.scan(t0() + Duration::seconds(3)).waiting.len(), 1);
    assert_eq!(s.scan(t0() + Duration::seconds(4)).waiting.len(), 1);
    let taken = s.scan(t0() + Duration::seconds(5));
    assert!(taken.waiting.is_empty(), "{taken:?}");
    assert_eq!(taken.arrivals.len(), 1);
    assert_eq!(taken.arrivals[0].rows, 1);
    assert_eq!(
        fs::read_to_string(&taken.arrivals[0].moved_to).unwrap(),
        full
    );
    // The others are where they were, and no later scan takes them.
    let later = s.scan(t0() + Duration::minutes(1));
    assert_eq!(later, Scan::default());
    let mut files = s.files();
    files.retain(|f| !f.starts_with("processed/"));
    let mut want: Vec<String> = ignored.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(files, want);
}

#[test]
fn a_name_taken_gets_a_suffix_and_nothing_is_replaced() {
    let mut s = Setup::new();
    s.drop_text("a.csv", "first\r\n");
    s.drop_text("README", "first\r\n");
    s.drop_fixture("move-state", "batch-1.csv", "moves.csv");
    s.settle(t0());
    // A reason file in the way also moves the next file to another name.
    fs::write(s.path("rejected/20261206T090002Z-b.csv.reason.txt"), "kept").unwrap();
    s.drop_text("a.csv", "second\r\n");
    s.drop_text("README", "second\r\n");
    s.drop_text("b.csv", "second\r\n");
    s.drop_fixture("move-state", "batch-1-pwsh7.csv", "moves.csv");
    let arrivals = s.settle(t0());
    let mut moved: Vec<String> = arrivals
        .iter()
        .map(|a| {
            let rel = a.moved_to.strip_prefix(s.inbox.dir()).unwrap();
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    moved.sort();
    assert_eq!(
        moved,
        [
            "processed/20261206T090002Z/moves-2.csv",
            "rejected/20261206T090002Z-README-2",
            "rejected/20261206T090002Z-a-2.csv",
            "rejected/20261206T090002Z-b-2.csv",
        ]
    );
    let read = |rel: &str| fs::read_to_string(s.path(rel)).unwrap();
    assert_eq!(read("rejected/20261206T090002Z-a.csv"), "first\r\n");
    assert_eq!(read("rejected/20261206T090002Z-a-2.csv"), "second\r\n");
    assert_eq!(read("rejected/20261206T090002Z-README"), "first\r\n");
    assert_eq!(read("rejected/20261206T090002Z-b.csv.reason.txt"), "kept");
    let reason = read("rejected/20261206T090002Z-b-2.csv.reason.txt");
    assert!(reason.contains("did not take b.csv"), "{reason}");
    let batch_1 = fs::read(fixture("move-state", "batch-1.csv")).unwrap();
    let first = fs::read(s.path(PROCESSED).join("20261206T090002Z").join("moves.csv")).unwrap();
    assert_eq!(first, batch_1);
    assert_eq!(s.files().len(), 13, "{:?}", s.files());
}

#[test]
fn a_schedule_planning_a_user_for_another_day_than_a_processed_one_is_rejected() {
    let mut s = Setup::new();
    s.drop_fixture("schedule", "wave-1.csv", "wave-1.csv");
    assert_eq!(s.settle(t0())[0].outcome, Outcome::Processed);
    let wave_2 =
        "SourceUpn,PlannedStart\r\ndee@contoso.com,2026-12-15\r\nana@contoso.com,2026-12-20\r\n";
    s.drop_text("wave-2.csv", wave_2);
    let arrivals = s.settle(t0() + Duration::minutes(1));
    let first = s
        .path(PROCESSED)
        .join("20261206T090002Z")
        .join("wave-1.csv");
    assert_eq!(
        arrivals[0].errors,
        [format!("{}:3: column 2 (PlannedStart): `ana@contoso.com` is planned for 2026-12-08 on {}:2 and for 2026-12-20 here; keep one row per user, with the date given to -PreferredMoveBeginDate", s.path("wave-2.csv").display(), first.display())]
    );
    assert_eq!(processed_inputs(s.inbox.dir()).unwrap().schedules, [first]);
}

/// The folders and reason files the inbox makes are owner-only (under Wine, which keeps no
/// access list, `tests/windows/run.sh` skips this: see there).
#[test]
fn the_inbox_folders_and_reason_files_are_owner_only() {
    let mut s = Setup::new();
    s.drop_fixture("move-state", "batch-1.csv", "moves.csv");
    s.drop_text("notes.txt", "not an input\r\n");
    let arrivals = s.settle(t0());
    for folder in [PROCESSED, REJECTED] {
        assert!(is_owner_only(&s.path(folder)), "{folder}");
    }
    let moved = one(&arrivals, "moves.csv")
        .moved_to
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(is_owner_only(&moved), "{}", moved.display());
    let reason = one(&arrivals, "notes.txt").reason_file.clone().unwrap();
    assert!(is_owner_only(&reason), "{}", reason.display());
}
