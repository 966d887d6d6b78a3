//! The render and link check of `send`: every notice this run will send has its templates
//! filled in, its addresses parsed and its links checked before anything is sent (users the
//! ledger skips are not rendered at all). Only the verdict is kept: each notice is rendered
//! again when the engine takes it, so memory stays flat in the number of users however many
//! are sent (a kept message per user made a 100,000-user send hold about 720 MB).
//!
//! Rendering is deterministic except for the Date header, so the second render skips the link
//! check its draft passed, and only the second builds the MIME message: lettre's builder fails
//! only without a From or a To, and a draft always has both (an empty recipient list is a
//! render error). The ledger's content hash is taken from the bytes that are sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use rayon::prelude::*;

use crate::plan::Recipient;
use crate::render::{NoticeDraft, RenderError, Renderer};
use crate::send::{Candidate, Decision, SendJob, SendSelection};

/// Why a notice cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The link check's findings, one line each.
    #[error("{}", .0.join("; "))]
    Links(Vec<String>),
}

impl NoticeError {
    /// One line per problem.
    fn lines(self) -> Vec<String> {
        match self {
            NoticeError::Render(e) => vec![e.to_string()],
            NoticeError::Links(lines) => lines,
        }
    }
}

/// How a run's notices are rendered: the renderer, the campaign and the `--test-to` address.
#[derive(Clone)]
pub struct Notices {
    renderer: Arc<Renderer>,
    campaign: Arc<str>,
    to: Option<Arc<[String]>>,
}

impl Notices {
    pub fn new(renderer: Renderer, campaign: &str, to: Option<Vec<String>>) -> Notices {
        Notices {
            renderer: Arc::new(renderer),
            campaign: campaign.into(),
            to: to.map(Into::into),
        }
    }

    /// Fills in `r`'s templates and checks the links; the problems when it cannot be sent.
    pub fn draft(&self, r: &Recipient) -> Result<NoticeDraft, NoticeError> {
        let draft = self.renderer.draft(r, &self.campaign, self.to.as_deref())?;
        if !draft.link_errors.is_empty() {
            return Err(NoticeError::Links(
                draft.link_errors.iter().map(ToString::to_string).collect(),
            ));
        }
        Ok(draft)
    }

    /// The message of a checked draft, dated now.
    fn finish(
        &self,
        draft: NoticeDraft,
        key: String,
        batch: Option<String>,
    ) -> Result<SendJob, NoticeError> {
        let rendered = self.renderer.finish(draft, SystemTime::now())?;
        let content_hash = rendered.content_sha256();
        Ok(SendJob {
            key,
            envelope: rendered.envelope,
            message: rendered.bytes,
            message_id: rendered.message_id,
            content_hash,
            batch,
        })
    }

    /// Renders and checks `r`'s notice, keeping only the verdict.
    fn verify(&self, r: &Recipient) -> Result<(), NoticeError> {
        self.draft(r).map(drop)
    }

    /// A candidate whose notice, checked by [`Notices::verify`], is rendered again and built
    /// only when the engine takes it.
    pub fn lazy(&self, r: Recipient) -> Candidate {
        let notices = self.clone();
        Candidate::new(key(&r), move || {
            let draft = notices
                .renderer
                .fill(&r, &notices.campaign, notices.to.as_deref())?;
            notices.finish(draft, key(&r), batch(&r))
        })
    }
}

fn batch(r: &Recipient) -> Option<String> {
    r.move_state.as_ref().map(|m| m.batch.clone())
}

/// The ledger's key of a person's message.
fn key(r: &Recipient) -> String {
    r.ledger_key()
}

/// Decides once for every person whether this run sends to them, and checks the notice of
/// those it does. Returns the engine's candidates in
/// the ledger's key order (each rendered again on demand), or each distinct problem once with
/// how many people it concerns (also printed).
///
/// Key order (lower-case source UPN), not mapping order: the ledger keeps its rows in that
/// order, so consecutive messages update neighbouring rows and a group commit writes a few
/// pages rather than one page per message. `--limit` has already chosen its people in mapping
/// order; a day budget that runs out leaves the people last in key order for the next run.
pub fn check(
    notices: &Notices,
    people: Vec<Recipient>,
    selection: &SendSelection,
) -> Result<Vec<Candidate>, Vec<String>> {
    let verdicts: Vec<(Decision, Result<(), NoticeError>)> = people
        .par_iter()
        .map(|r| {
            let decision = selection.decide(&key(r));
            let verdict = match decision {
                Err(_) => Ok(()),
                Ok(_) => notices.verify(r),
            };
            (decision, verdict)
        })
        .collect();
    let mut problems = GroupedProblems::default();
    let mut candidates = Vec::with_capacity(people.len());
    for (r, (decision, verdict)) in people.into_iter().zip(verdicts) {
        match verdict {
            Ok(()) => candidates.push(notices.lazy(r).decided(decision)),
            Err(e) => problems.add(e.lines(), &r.user.source_upn),
        }
    }
    let lines = problems.lines();
    for line in &lines {
        eprintln!("error: {line}");
    }
    if !lines.is_empty() {
        eprintln!("error: the notices did not pass the render and link check; nothing was sent (`t2t-notify preview` shows them)");
        return Err(lines);
    }
    candidates.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(candidates)
}

/// Each distinct problem once, with how many people have it and the first of them.
#[derive(Default)]
struct GroupedProblems {
    grouped: Vec<(String, usize, String)>,
    index: HashMap<String, usize>,
}

impl GroupedProblems {
    fn add(&mut self, problems: Vec<String>, who: &str) {
        for problem in problems {
            match self.index.get(&problem) {
                Some(&i) => self.grouped[i].1 += 1,
                None => {
                    self.index.insert(problem.clone(), self.grouped.len());
                    self.grouped.push((problem, 1, who.to_string()));
                }
            }
        }
    }

    /// `problem (who)` or `problem (N people, e.g. who)`.
    fn lines(&self) -> Vec<String> {
        self.grouped
            .iter()
            .map(|(problem, count, who)| match count {
                1 => format!("{problem} ({who})"),
                n => format!("{problem} ({n} people, e.g. {who})"),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_grouped_with_a_count_and_the_first_person() {
        let mut p = GroupedProblems::default();
        p.add(vec!["bad link".into(), "no name".into()], "a@contoso.com");
        p.add(vec!["bad link".into()], "b@contoso.com");
        assert_eq!(
            p.lines(),
            [
                "bad link (2 people, e.g. a@contoso.com)",
                "no name (a@contoso.com)"
            ]
        );
    }
}
