//! The render and link check of `send`: every notice this run will send has its templates
//! filled in and its links checked before anything is sent (users the ledger skips are not
//! rendered at all). While memory allows ([`Keep`]), the checked notice is built into its
//! message in the same parallel pass, so each notice is rendered once and the engine's
//! phase, where the CPU is shared with the sockets and the ledger, only sends. Beyond that
//! bound a user's notice is rendered again (and checked again) when its turn comes, so a
//! paced run over 40,000 users does not hold 40,000 messages for hours.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use rayon::prelude::*;

use crate::plan::Recipient;
use crate::render::{Draft, Renderer};
use crate::send::{Candidate, Job, Selection};

/// People rendered in parallel at a time; their messages are kept or dropped before the next.
const CHUNK: usize = 1024;
/// The most message bytes kept in memory between the check and the send.
pub const KEEP_BYTES: usize = 512 << 20;
/// With a `per_minute` limit, keep the notices of this many minutes of sending.
pub const KEEP_MINUTES: usize = 10;

/// How many checked notices the engine gets as built messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep {
    pub bytes: usize,
    pub messages: usize,
}

impl Keep {
    /// [`KEEP_BYTES`], and with a per-minute limit [`KEEP_MINUTES`] minutes' worth.
    pub fn for_pacing(per_minute: u32) -> Keep {
        let messages = match per_minute {
            0 => usize::MAX,
            n => n as usize * KEEP_MINUTES,
        };
        Keep {
            bytes: KEEP_BYTES,
            messages,
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
    pub fn draft(&self, r: &Recipient) -> Result<Draft, Vec<String>> {
        let draft = self
            .renderer
            .draft(r, &self.campaign, self.to.as_deref())
            .map_err(|e| vec![e.to_string()])?;
        if !draft.link_errors.is_empty() {
            return Err(draft.link_errors);
        }
        Ok(draft)
    }

    /// The message of a checked draft, dated now.
    fn finish(&self, draft: Draft, key: String, batch: Option<String>) -> Result<Job, String> {
        let rendered = self
            .renderer
            .finish(draft, SystemTime::now())
            .map_err(|e| e.to_string())?;
        let content_hash = rendered.content_sha256();
        Ok(Job {
            key,
            envelope: rendered.envelope,
            message: rendered.bytes,
            message_id: rendered.message_id,
            content_hash,
            batch,
        })
    }

    /// A candidate whose notice is rendered (and checked again) only when the engine takes it.
    pub fn lazy(&self, r: Recipient) -> Candidate {
        let notices = self.clone();
        Candidate::new(key(&r), move || {
            let draft = notices.draft(&r).map_err(|problems| problems.join("; "))?;
            notices.finish(draft, key(&r), batch(&r))
        })
    }
}

fn batch(r: &Recipient) -> Option<String> {
    r.move_state.as_ref().map(|m| m.batch.clone())
}

/// The ledger's key of a user: the source UPN in lower case.
pub(super) fn key(r: &Recipient) -> String {
    r.user.source_upn.to_lowercase()
}

/// One person after the check.
enum Checked {
    /// The ledger skips them: not rendered.
    Skipped,
    /// Checked, and the message built while memory is still to spare.
    Built(Job),
    /// Checked; rendered again when its turn comes.
    Passed,
    Refused(Vec<String>),
}

/// Checks the notice of every person `selection` sends to. Returns the engine's candidates in
/// the ledger's key order (kept messages ready-made, the others rendered on demand), or each
/// distinct problem once with how many people it concerns (also printed).
///
/// Key order (lower-case source UPN), not mapping order: the ledger keeps its rows in that
/// order, so consecutive messages update neighbouring rows and a group commit writes a few
/// pages rather than one page per message (a 20,000-notice send wrote 350 MB to the disk in
/// mapping order, 130 MB in key order). `--limit` has already chosen its people in mapping
/// order; a day budget that runs out leaves the people last in key order for the next run.
pub fn check(
    notices: &Notices,
    people: Vec<Recipient>,
    selection: &Selection,
    keep: Keep,
) -> Result<Vec<Candidate>, Vec<String>> {
    let mut candidates = Vec::with_capacity(people.len());
    let mut problems = Problems::default();
    let mut kept = (0usize, 0usize);
    let mut people = people.into_iter();
    loop {
        let chunk: Vec<Recipient> = people.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let build = problems.is_empty() && has_room(kept, keep);
        let checked: Vec<(Recipient, Checked)> = chunk
            .into_par_iter()
            .map(|r| {
                let c = match selection.decide(&key(&r)) {
                    Err(_) => Checked::Skipped,
                    Ok(_) => match notices.draft(&r) {
                        Err(problems) => Checked::Refused(problems),
                        Ok(draft) if build => notices
                            .finish(draft, key(&r), batch(&r))
                            .map_or_else(|e| Checked::Refused(vec![e]), Checked::Built),
                        Ok(_) => Checked::Passed,
                    },
                };
                (r, c)
            })
            .collect();
        for (r, c) in checked {
            match c {
                Checked::Built(job)
                    if problems.is_empty() && fits(&mut kept, job.message.len(), keep) =>
                {
                    candidates.push(Candidate::from(job));
                }
                Checked::Built(_) | Checked::Passed | Checked::Skipped => {
                    candidates.push(notices.lazy(r))
                }
                Checked::Refused(list) => problems.add(list, &r.user.source_upn),
            }
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

/// Whether anything more can be kept.
fn has_room(kept: (usize, usize), keep: Keep) -> bool {
    kept.0 < keep.bytes && kept.1 < keep.messages
}

/// Counts a notice of `size` bytes into what is kept when it fits.
fn fits(kept: &mut (usize, usize), size: usize, keep: Keep) -> bool {
    let bytes = kept.0 + size;
    if bytes > keep.bytes || kept.1 >= keep.messages {
        return false;
    }
    *kept = (bytes, kept.1 + 1);
    true
}

/// Each distinct problem once, with how many people have it and the first of them.
#[derive(Default)]
struct Problems {
    grouped: Vec<(String, usize, String)>,
    index: HashMap<String, usize>,
}

impl Problems {
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

    fn is_empty(&self) -> bool {
        self.grouped.is_empty()
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
    fn kept_messages_stop_at_the_byte_and_message_bounds() {
        let keep = Keep {
            bytes: 250,
            messages: 3,
        };
        let mut kept = (0, 0);
        assert!(fits(&mut kept, 100, keep));
        assert!(fits(&mut kept, 100, keep));
        assert!(!fits(&mut kept, 100, keep), "300 bytes > 250");
        assert!(fits(&mut kept, 50, keep));
        assert!(!fits(&mut kept, 1, keep), "a fourth notice > 3");
        assert_eq!(kept, (250, 3));
    }

    #[test]
    fn pacing_bounds_what_is_kept_to_ten_minutes_of_sending() {
        assert_eq!(Keep::for_pacing(30).messages, 300);
        assert_eq!(Keep::for_pacing(0).messages, usize::MAX);
        assert_eq!(Keep::for_pacing(0).bytes, KEEP_BYTES);
    }

    #[test]
    fn problems_are_grouped_with_a_count_and_the_first_person() {
        let mut p = Problems::default();
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
