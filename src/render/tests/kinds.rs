//! The renderer per campaign kind: the shipped pre-move and reminder templates (snapshots per
//! locale and kind of person, strict mode, the link check), the registry of one kind ignoring
//! another kind's folder, and a folder made for one campaign.

use super::*;
use crate::campaign::{Campaign, PreMoveRule, ReminderRule, Rule};

/// 8 December 2026, a Tuesday.
fn planned() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 8).unwrap()
}

fn rule(kind: Kind) -> Rule {
    match kind {
        Kind::PreMove => Rule::PreMove(PreMoveRule {
            days_before: 3,
            scheduled_only: true,
        }),
        Kind::PostMove => Rule::PostMove,
        Kind::Reminder => Rule::Reminder(ReminderRule {
            follows: "post-migration".into(),
            after_days: 3,
            every_days: 4,
            max_reminders: 2,
            max_evidence_age_hours: 24,
        }),
    }
}

/// `config` running a campaign of `kind`, named like the kind.
fn running(mut config: Config, kind: Kind) -> Config {
    config.active = Campaign {
        name: kind.as_str().into(),
        rule: rule(kind),
    };
    config
}

/// `r` as the plan makes them for a `kind` campaign: the planned start before the move, the
/// first reminder after it.
fn for_kind(mut r: Recipient, kind: Kind) -> Recipient {
    match kind {
        Kind::PreMove => r.planned_start = Some(planned()),
        Kind::PostMove => {}
        Kind::Reminder => r.reminder = Some(1),
    }
    r
}

fn render_kind(config: &Config, kind: Kind, r: &Recipient) -> Result<Rendered, RenderError> {
    let config = running(config.clone(), kind);
    Renderer::new(&config)?.render_at(r, kind.as_str(), None, fixed_date())
}

#[test]
fn snapshots_per_kind_locale_and_kind_of_person() {
    for kind in [Kind::PreMove, Kind::Reminder] {
        for lang in ["en", "de", "fr"] {
            for (who, r) in [("member", member()), ("guest", guest())] {
                let r = for_kind(speaking(r, lang), kind);
                let out = render_kind(&config(), kind, &r).unwrap();
                let label = format!("{}_{who}_{lang}", kind.as_str().replace('-', ""));
                assert_eq!(out.locale, lang, "{label}");
                assert!(out.link_errors.is_empty(), "{label}: {:?}", out.link_errors);
                insta::assert_snapshot!(format!("{label}_subject"), out.subject);
                insta::assert_snapshot!(format!("{label}_text"), out.text);
                insta::assert_snapshot!(format!("{label}_html"), out.html);
            }
        }
    }
}

/// A pre-move notice without a planned start (`scheduled_only = false`) says "soon" and that
/// the date follows.
#[test]
fn snapshots_of_a_pre_move_notice_without_a_date() {
    for lang in ["en", "de", "fr"] {
        for (who, r) in [("member", member()), ("guest", guest())] {
            let r = speaking(r, lang);
            let out = render_kind(&config(), Kind::PreMove, &r).unwrap();
            let label = format!("premove_nodate_{who}_{lang}");
            assert!(out.link_errors.is_empty(), "{label}: {:?}", out.link_errors);
            insta::assert_snapshot!(format!("{label}_subject"), out.subject);
            insta::assert_snapshot!(format!("{label}_text"), out.text);
        }
    }
}

/// Every shipped template of every kind, in every locale, for members and guests, with and
/// without a planned start and for later reminders: no missing variable (strict mode), no
/// refused link, the date written out in the notice's language, and no sign-in before the move.
#[test]
fn every_shipped_template_renders_in_strict_mode_and_passes_the_link_check() {
    let dates = [
        ("en", "Tuesday 8 December 2026"),
        ("de", "Dienstag, 8. Dezember 2026"),
        ("fr", "mardi 8 décembre 2026"),
    ];
    for kind in Kind::ALL {
        for (lang, date) in dates {
            for (who, r) in [("member", member()), ("guest", guest())] {
                let r = speaking(r, lang);
                let variants = match kind {
                    Kind::PreMove => vec![Some(planned()), None],
                    _ => vec![None],
                };
                for start in variants {
                    for reminder in [Some(1), Some(2)] {
                        let mut r = r.clone();
                        r.planned_start = start;
                        r.reminder = (kind == Kind::Reminder).then_some(reminder).flatten();
                        let label =
                            format!("{} {lang} {who} {start:?} {reminder:?}", kind.as_str());
                        let out = render_kind(&config(), kind, &r)
                            .unwrap_or_else(|e| panic!("{label}: {e}"));
                        assert!(out.link_errors.is_empty(), "{label}: {:?}", out.link_errors);
                        assert_eq!(out.locale, lang, "{label}");
                        if kind == Kind::PreMove {
                            let text = out.text.replace('\n', " ");
                            for part in [&out.subject, &text, &out.html] {
                                assert_eq!(part.contains(date), start.is_some(), "{label}");
                                assert!(!part.contains("fabrikam-my.sharepoint.com"), "{label}");
                                assert!(!part.contains("microsoft365.com"), "{label}");
                            }
                            assert!(out.text.contains("+1 555 0100"), "{label}: the helpdesk");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_sign_in_link_in_a_pre_move_template_is_refused() {
    let (_dir, config) = templates_with("pre-move/en/html/after.hbs", |t| {
        t.replace(
            "</p>",
            " <a href=\"https://www.microsoft365.com/\">Microsoft 365</a></p>",
        )
    });
    let r = for_kind(member(), Kind::PreMove);
    let out = render_kind(&config, Kind::PreMove, &r).unwrap();
    let problems: Vec<String> = out.link_errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        problems[0],
        "template pre-move/en/html: https://www.microsoft365.com/: host www.microsoft365.com is not one of the source tenant's hosts, support.microsoft.com or [message].allowed_link_domains (a notice before the move links to no sign-in page: people must not sign in to the new tenant yet)"
    );
    // The rest is the same link without its scheme (a URL inside a URL is checked too).
    assert!(
        problems[1..]
            .iter()
            .all(|p| p.starts_with("template pre-move/en/html: www.microsoft365.com/: host")),
        "{problems:?}"
    );
    // The same link passes in the other kinds' notices.
    assert!(AllowedHosts::new(Vec::<String>::new())
        .check("https://www.microsoft365.com/")
        .is_ok());
}

#[test]
fn the_pre_move_link_check_allows_the_source_tenant_and_help_articles_only() {
    let renderer = Renderer::new(&running(config(), Kind::PreMove)).unwrap();
    let allowed = renderer.allowed_hosts();
    assert_eq!(
        allowed.domains(),
        [
            "support.microsoft.com",
            "contoso-my.sharepoint.com",
            "help.fabrikam.com"
        ]
    );
    let post = Renderer::new(&config()).unwrap();
    assert_eq!(
        post.allowed_hosts().domains(),
        allowed_hosts(&config()).domains()
    );
}

#[test]
fn a_broken_template_of_another_kind_stops_only_its_own_kind() {
    let (dir, config) = templates_with("reminder/de/text.hbs", |t| {
        format!("{t}\n{{{{#if x}}}}never closed")
    });
    std::fs::remove_file(dir.path().join("pre-move/fr/subject.hbs")).unwrap();
    let post = render_with(&config, &member()).unwrap();
    assert!(post.link_errors.is_empty());
    let r = for_kind(member(), Kind::Reminder);
    let err = render_kind(&config, Kind::Reminder, &r)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("the templates cannot be used:\n  ")
            && err.contains(&format!(
                "{}: line ",
                Path::new("reminder").join("de").join("text.hbs").display()
            )),
        "{err}"
    );
    assert!(!err.contains("pre-move"), "{err}");
    let err = render_kind(&config, Kind::PreMove, &for_kind(member(), Kind::PreMove))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("locale folder `fr` has no subject.hbs"),
        "{err}"
    );
    assert!(!err.contains("reminder"), "{err}");
}

#[test]
fn strict_mode_errors_name_the_kind_folder() {
    let (_dir, config) = templates_with("pre-move/en/text/before.hbs", |t| {
        format!("{t}\n{{{{move.planed_start}}}}\n")
    });
    let err = render_kind(&config, Kind::PreMove, &for_kind(member(), Kind::PreMove))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("template pre-move/en/text/before, line 6, column 1:")
            && err.contains("`move.planed_start` is not a known variable"),
        "{err}"
    );
}

/// A folder made for one campaign has the kind's folder, and sees the campaign's data; a folder
/// without the kind's folder is refused, never read as post-move locales.
#[test]
fn a_folder_for_one_campaign_needs_the_kinds_folder() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("en/subject.hbs", "post-move");
    write("en/text.hbs", "post-move");
    write("en/html.hbs", "<p>post-move</p>");
    write(
        "reminder/en/subject.hbs",
        "{{campaign_kind}} {{reminder.number}}",
    );
    write(
        "reminder/en/text.hbs",
        "{{move.planned_start}} {{move.planned_start_text}} {{campaign}}",
    );
    write("reminder/en/html.hbs", "<p>{{reminder.number}}</p>");
    let templates = dir.path().display().to_string();
    let config = config_with(|t| {
        t.replace(
            "templates = \"../templates\"",
            &format!("templates = {templates:?}"),
        )
    });
    let mut r = for_kind(member(), Kind::Reminder);
    r.reminder = Some(2);
    let out = render_kind(&config, Kind::Reminder, &r).unwrap();
    assert_eq!(out.subject, "reminder 2");
    assert_eq!(out.text.trim_end(), "  reminder");
    assert_eq!(out.html, "<p>2</p>");
    let mut r = for_kind(member(), Kind::PreMove);
    r.planned_start = Some(planned());
    let err = render_kind(&config, Kind::PreMove, &r)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&format!(
            "{templates}: no folder `pre-move`; the templates of a pre-move campaign live in"
        )),
        "{err}"
    );
    let out = render_with(&config, &member()).unwrap();
    assert_eq!(out.subject, "post-move");
}

#[test]
fn the_default_locale_is_looked_for_in_the_kind_folder() {
    let config = config_with(|t| t.replace("default_locale = \"en\"", "default_locale = \"es\""));
    let err = Renderer::new(&running(config.clone(), Kind::Reminder))
        .err()
        .unwrap()
        .to_string();
    let folder = config.message.templates.join("reminder");
    assert!(
        err.contains(&format!(
            "`es` has no complete folder in {}",
            folder.display()
        )) && err.contains("(locales found: de, en, fr)"),
        "{err}"
    );
}
