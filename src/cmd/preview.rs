//! `t2t-notify preview`: renders every notice exactly as `send` would, and sends nothing. With
//! `--out DIR` it writes one `.eml` and the HTML body per person, the text bodies (one page per
//! folder of people) and a searchable `DIR/index.html`; without it, a single `--user` is
//! printed to the terminal. Needs no gate and no server. Input, render or link-check problems: everything that could be rendered is
//! still written, the problems are listed, and the exit status is 2.

mod files;
pub use files::TEXT_PAGE;
mod marker;
mod write;

use crate::cli::{Cli, PreviewArgs};
use crate::exit::{InvalidInput, Outcome};
use crate::output::out;
use crate::plan::{self, Recipient};
use crate::render::fallbacks::Fallbacks;
use crate::render::{Rendered, Renderer};

pub fn execute(cli: &Cli, args: &PreviewArgs) -> anyhow::Result<Outcome> {
    let config = super::campaign::config(&cli.config, args.campaign.as_deref())?;
    let renderer = Renderer::new(&config).map_err(|e| InvalidInput(e.to_string()))?;
    super::campaign::check_schedule(&config, &args.moves.schedules)?;
    let (facts, stale) = audience_facts(&config)?;
    let sources = plan::Sources {
        facts: Some(&facts),
        ..super::inputs::sources(&args.input, &args.moves)
    };
    let plan = plan::load(Some(&config), sources, true)?;
    let selection = PreviewFilter::new(&args.users, args.limit);
    let chosen = selection.apply(&plan.recipients);
    let mut problems = PreviewProblems::default();
    problems.warnings.extend(stale);
    for d in plan.diagnostics.sorted() {
        problems.input(d);
    }
    for upn in selection.unmatched(&plan.recipients) {
        problems
            .errors
            .push(not_found(&upn, &plan, &args.input.mapping));
    }
    for line in Fallbacks::of(&renderer, chosen.iter().copied()).lines() {
        problems.warnings.push(format!("locale fallback: {line}"));
    }
    let outcome = match &args.out {
        Some(dir) => write::gallery(
            &write::PreviewJob {
                config: &config,
                renderer: &renderer,
                args,
                people: &chosen,
                held_back: plan
                    .held_back_counts
                    .iter()
                    .map(|(hold, count)| format!("{hold}: {count}"))
                    .collect(),
            },
            dir,
            &mut problems,
        )?,
        None => print_one(&renderer, &config.active.name, &chosen, &mut problems)?,
    };
    problems.print();
    Ok(if problems.errors.is_empty() {
        outcome
    } else {
        Outcome::Invalid
    })
}

/// The facts of the campaign's audience; a reminder reads the ledger if there is one (never
/// creating it: a preview writes nothing there).
fn audience_facts(config: &crate::config::Config) -> anyhow::Result<(plan::Facts, Option<String>)> {
    let path = &config.ledger.path;
    let reminder = config.active.kind() == crate::campaign::Kind::Reminder;
    let ledger = match reminder && path.exists() {
        true => Some(crate::ledger::Ledger::open(path)?),
        false => None,
    };
    super::campaign::facts(config, ledger.as_ref(), chrono::Utc::now())
}

/// Why a `--user` value matches nobody: held back by the move state, or not in the mapping
/// at all (with the mapped identities that are spelled most like it).
fn not_found(upn: &str, plan: &plan::Plan, mapping: &std::path::Path) -> String {
    if let Some(h) = plan.held_back.iter().find(|h| user_matches(&h.user, upn)) {
        return format!(
            "--user {upn}: {} is held back: {}",
            h.user.source_upn, h.reason
        );
    }
    let near = near_matches(upn, plan.recipients.iter().map(|r| &r.user));
    let hint = if near.is_empty() {
        "check the spelling, or run `t2t-notify validate` on it".to_string()
    } else {
        format!("did you mean {}?", near.join(", "))
    };
    format!(
        "--user {upn}: this user is not in the mapping file {} (no source UPN, target UPN or address is {upn}); {hint}",
        mapping.display()
    )
}

/// Up to three mapped identities within a few typing mistakes of `wanted`, closest first.
fn near_matches<'a>(
    wanted: &str,
    users: impl Iterator<Item = &'a crate::inputs::mapping::UserMapping>,
) -> Vec<String> {
    const MAX_DISTANCE: usize = 3;
    let mut near: Vec<(usize, String)> = users
        .flat_map(|u| [&u.source_upn, &u.target_upn, &u.target_email])
        .filter_map(|id| {
            let d = strsim::levenshtein(wanted, &id.to_lowercase());
            (d <= MAX_DISTANCE).then(|| (d, id.clone()))
        })
        .collect();
    near.sort();
    near.dedup_by(|a, b| a.1.eq_ignore_ascii_case(&b.1));
    near.into_iter().take(3).map(|(_, id)| id).collect()
}

/// Which people the preview covers: `--user` (any of source UPN, target UPN or address,
/// case-insensitive), then `--limit`.
pub struct PreviewFilter {
    users: Vec<String>,
    limit: Option<usize>,
}

impl PreviewFilter {
    pub fn new(users: &[String], limit: Option<usize>) -> Self {
        PreviewFilter {
            users: users.iter().map(|u| u.trim().to_lowercase()).collect(),
            limit,
        }
    }

    /// The kept people, in mapping order, at most `--limit`.
    pub fn apply<'a>(&self, recipients: &'a [Recipient]) -> Vec<&'a Recipient> {
        let all = self.users.is_empty();
        let kept = recipients
            .iter()
            .filter(|r| all || self.users.iter().any(|u| user_matches(&r.user, u)));
        kept.take(self.limit.unwrap_or(usize::MAX)).collect()
    }

    /// The `--user` values that match nobody in the mapping.
    pub fn unmatched(&self, recipients: &[Recipient]) -> Vec<String> {
        self.users
            .iter()
            .filter(|u| !recipients.iter().any(|r| user_matches(&r.user, u)))
            .cloned()
            .collect()
    }
}

fn user_matches(u: &crate::inputs::mapping::UserMapping, lower: &str) -> bool {
    [&u.source_upn, &u.target_upn, &u.target_email]
        .iter()
        .any(|v| v.to_lowercase() == lower)
}

/// Everything that went wrong, for stderr and the page. Identical render problems of many
/// people are counted once, with one example.
#[derive(Default)]
pub struct PreviewProblems {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    grouped: Vec<(String, usize, String)>,
}

impl PreviewProblems {
    fn input(&mut self, d: &crate::diag::Diagnostic) {
        match d.severity {
            crate::diag::Severity::Error => self.errors.push(d.to_string()),
            crate::diag::Severity::Warning => self.warnings.push(d.to_string()),
        }
    }

    /// A problem of one person's notice; the same problem for many people is listed once.
    pub fn person(&mut self, problem: &str, who: &str) {
        match self.grouped.iter_mut().find(|(p, _, _)| p == problem) {
            Some((_, count, _)) => *count += 1,
            None => self.grouped.push((problem.to_string(), 1, who.to_string())),
        }
    }

    /// Folds the grouped problems into `errors`.
    pub fn finish(&mut self) {
        for (problem, count, who) in self.grouped.drain(..) {
            let people = if count == 1 {
                who
            } else {
                format!("{count} people, e.g. {who}")
            };
            self.errors.push(format!("{problem} ({people})"));
        }
    }

    fn print(&mut self) {
        self.finish();
        for w in &self.warnings {
            eprintln!("{w}");
        }
        for e in &self.errors {
            eprintln!("error: {e}");
        }
    }
}

/// Prints the one chosen person's notice: the headers people see, then the text part.
fn print_one(
    renderer: &Renderer,
    campaign: &str,
    chosen: &[&Recipient],
    problems: &mut PreviewProblems,
) -> anyhow::Result<Outcome> {
    let [person] = chosen else {
        if chosen.is_empty() && !problems.errors.is_empty() {
            // Every --user matched nobody; `problems` says who and why.
            return Ok(Outcome::Invalid);
        }
        return Err(InvalidInput(format!(
            "without --out, pass exactly one --user UPN to print its notice ({} people selected); use --out DIR to preview everyone",
            chosen.len()
        ))
        .into());
    };
    match renderer.render(person, campaign, None) {
        Ok(rendered) => {
            for e in &rendered.link_errors {
                problems.person(&e.to_string(), &person.user.source_upn);
            }
            out!("{}", terminal_text(&rendered));
        }
        Err(e) => problems.person(&e.to_string(), &person.user.source_upn),
    }
    Ok(Outcome::Success)
}

/// The notice as a person reads it: the headers, a blank line, the text part.
pub fn terminal_text(r: &Rendered) -> String {
    let head = String::from_utf8_lossy(&r.bytes);
    let headers = head.split("\r\n\r\n").next().unwrap_or_default();
    let header = |name: &str| -> String {
        let mut fields = headers.split("\r\n").filter_map(|l| l.split_once(':'));
        let field = fields.find(|(n, _)| n.eq_ignore_ascii_case(name));
        field.map_or_else(String::new, |(_, v)| v.trim().to_string())
    };
    let link_check = if r.link_errors.is_empty() {
        "ok".to_string()
    } else {
        format!("{} problem(s)", r.link_errors.len())
    };
    format!(
        "From: {}\nReply-To: {}\nTo: {}\nSubject: {}\nMessage-ID: {}\nLocale: {}\nLink check: {link_check}\n\n{}\n",
        header("From"),
        header("Reply-To"),
        r.envelope.to.join(", "),
        r.subject,
        r.message_id,
        r.locale,
        r.text.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::mapping::UserMapping;

    fn person(source: &str, target: &str) -> Recipient {
        Recipient {
            user: UserMapping {
                line: 1,
                source_tenant: String::new(),
                source_upn: source.into(),
                target_upn: target.into(),
                target_email: target.into(),
                user_type: "RegularUser".into(),
            },
            directory: None,
            guest: false,
            onedrive_url: String::new(),
            to: vec![target.into()],
            move_state: None,
            planned_start: None,
            reminder: None,
        }
    }

    #[test]
    fn selection_matches_any_identity_case_insensitively_then_limits() {
        let people = [
            person("a@contoso.com", "a@fabrikam.com"),
            person("b@contoso.com", "b@fabrikam.com"),
            person("c@contoso.com", "c@fabrikam.com"),
        ];
        let users = [
            "B@FABRIKAM.COM".to_string(),
            "a@contoso.com".into(),
            "zed@contoso.com".into(),
        ];
        let s = PreviewFilter::new(&users, None);
        let chosen: Vec<&str> = s
            .apply(&people)
            .iter()
            .map(|r| r.user.source_upn.as_str())
            .collect();
        assert_eq!(chosen, ["a@contoso.com", "b@contoso.com"]);
        assert_eq!(s.unmatched(&people), ["zed@contoso.com"]);
        let limited = PreviewFilter::new(&users, Some(1));
        assert_eq!(limited.apply(&people).len(), 1);
        assert_eq!(limited.unmatched(&people), ["zed@contoso.com"]);
        assert_eq!(PreviewFilter::new(&[], Some(2)).apply(&people).len(), 2);
    }

    #[test]
    fn same_problem_of_many_people_is_listed_once() {
        let mut p = PreviewProblems::default();
        p.person("template en/text, line 3: x", "a@contoso.com");
        p.person("template en/text, line 3: x", "b@contoso.com");
        p.person("other", "c@contoso.com");
        p.finish();
        assert_eq!(
            p.errors,
            [
                "template en/text, line 3: x (2 people, e.g. a@contoso.com)",
                "other (c@contoso.com)"
            ]
        );
    }
}
