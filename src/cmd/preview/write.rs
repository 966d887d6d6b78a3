//! Writes a whole preview folder: people go into folders of [`FOLDER`] under `messages/`, each
//! folder rendered and written by one thread (rayon), a few folders at a time; each person's
//! files are written as soon as they are rendered, one list row per person is streamed to a
//! side file, and `index.html` is assembled at the end. Only the people of the folders being
//! worked on are in memory at once. One thread per folder because a folder takes one file
//! creation at a time: two threads creating files in one folder mostly wait for each other.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;

use super::{files, marker, PreviewProblems};
use crate::cli::PreviewArgs;
use crate::config::Config;
use crate::exit::Outcome;
use crate::output::outln;
use crate::plan::Recipient;
use crate::render::gallery::{self, GalleryEntry, GallerySummary};
use crate::render::Renderer;

/// People per folder under `messages/` (`messages/000/` holds people 1 to 1000).
pub const FOLDER: usize = 1000;

/// What one preview run works on.
pub struct PreviewJob<'a> {
    pub config: &'a Config,
    pub renderer: &'a Renderer,
    pub args: &'a PreviewArgs,
    pub people: &'a [&'a Recipient],
    /// Held back by move state, one line per reason; shown on the page, not rendered.
    pub held_back: Vec<String>,
}

/// Renders everyone into `out` and writes `out/index.html`.
pub fn gallery(
    job: &PreviewJob<'_>,
    out: &Path,
    problems: &mut PreviewProblems,
) -> anyhow::Result<Outcome> {
    marker::prepare(out)?;
    crate::platform::create_private_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let mut written = marker::Written::start(out)
        .with_context(|| format!("cannot write {}/{}", out.display(), marker::MARKER))?;
    let messages = files::messages_dir(out)
        .with_context(|| format!("cannot prepare {}/messages", out.display()))?;
    let rows_path = out.join(".index-rows.tmp");
    written.add(".index-rows.tmp")?;
    let mut rows = BufWriter::new(
        files::create_private(&rows_path)
            .with_context(|| format!("cannot write {}", rows_path.display()))?,
    );
    let mut locales: BTreeMap<String, usize> = BTreeMap::new();
    let mut rendered = 0;
    let mut first = true;
    let folders: Vec<(usize, &[&Recipient])> = job.people.chunks(FOLDER).enumerate().collect();
    let at_once = 2 * rayon::current_num_threads().max(1);
    for round in folders.chunks(at_once) {
        let done: Vec<Vec<GalleryEntry>> = round
            .par_iter()
            .map(|&(f, people)| render_folder(job, &messages, f, people))
            .collect::<anyhow::Result<_>>()?;
        for entry in done.into_iter().flatten() {
            if entry.error.is_none() {
                rendered += 1;
                *locales.entry(entry.locale.clone()).or_default() += 1;
            }
            record_problems(&entry, problems);
            list_files(&mut written, &entry)?;
            if !first {
                rows.write_all(b",\n")?;
            }
            first = false;
            rows.write_all(gallery::entry_json(&entry).as_bytes())?;
        }
    }
    rows.flush()?;
    drop(rows);
    problems.finish();
    let summary = summary(job, rendered, locales.into_iter().collect(), problems);
    written.add("index.html")?;
    written.flush()?;
    assemble(out, &rows_path, &summary)
        .with_context(|| format!("cannot write {}/index.html", out.display()))?;
    outln!(
        "{}: {} of {} notices rendered ({}); {} problem(s); nothing was sent",
        out.join("index.html").display(),
        summary.rendered,
        summary.people,
        summary
            .locales
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        summary.errors.len()
    );
    Ok(Outcome::Success)
}

/// Renders folder number `f` of `people` into `messages/NNN/`: each person's `.eml` and `.html`,
/// and one `text.html` with everyone's text part.
fn render_folder(
    job: &PreviewJob<'_>,
    messages: &Path,
    f: usize,
    people: &[&Recipient],
) -> anyhow::Result<Vec<GalleryEntry>> {
    let folder = Folder::new(messages, f)?;
    let mut texts = files::TextPage::new();
    let entries = people
        .iter()
        .enumerate()
        .map(|(i, r)| render_one(job, &folder, f * FOLDER + i + 1, r, &mut texts))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if !texts.is_empty() {
        let path = folder.dir.join(files::TEXT_PAGE);
        texts
            .write(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(entries)
}

/// One folder under `messages/`: where its files go and how `index.html` links to them.
struct Folder {
    dir: std::path::PathBuf,
    link: String,
}

impl Folder {
    fn new(messages: &Path, f: usize) -> anyhow::Result<Self> {
        let name = format!("{f:03}");
        let dir = messages.join(&name);
        crate::platform::create_private_dir_all(&dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        Ok(Folder {
            dir,
            link: format!("messages/{name}"),
        })
    }
}

fn render_one(
    job: &PreviewJob<'_>,
    folder: &Folder,
    n: usize,
    r: &Recipient,
    texts: &mut files::TextPage,
) -> anyhow::Result<GalleryEntry> {
    let mut entry = GalleryEntry {
        name: r.display_name().map(crate::render::message::clean_line),
        source: r.user.source_upn.clone(),
        target: r.user.target_upn.clone(),
        to: r.to.clone(),
        guest: r.guest,
        batch: r.move_state.as_ref().map(|m| m.batch.clone()),
        ..GalleryEntry::default()
    };
    let rendered = match job.renderer.render(r, &job.config.active.name, None) {
        Ok(rendered) => rendered,
        Err(e) => {
            entry.error = Some(e.to_string());
            return Ok(entry);
        }
    };
    let stem = files::stem(n, &r.user.source_upn);
    for (ext, bytes) in [
        ("eml", rendered.bytes.as_slice()),
        ("html", rendered.html.as_bytes()),
    ] {
        let path = folder.dir.join(format!("{stem}.{ext}"));
        files::write_private(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let anchor = texts.add(n, &rendered.text);
    entry.eml = Some(format!("{}/{stem}.eml", folder.link));
    entry.html = Some(format!("{}/{stem}.html", folder.link));
    entry.text = Some(format!("{}/{}#{anchor}", folder.link, files::TEXT_PAGE));
    entry.locale = rendered.locale;
    entry.subject = rendered.subject;
    entry.message_id = rendered.message_id;
    entry.to = rendered.envelope.to;
    entry.link_errors = rendered
        .link_errors
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(entry)
}

/// Lists the files written for `entry` in the marker.
fn list_files(written: &mut marker::Written, entry: &GalleryEntry) -> std::io::Result<()> {
    for rel in [&entry.eml, &entry.html].into_iter().flatten() {
        written.add(rel)?;
    }
    if let Some((page, _)) = entry.text.as_deref().and_then(|t| t.split_once('#')) {
        written.add(page)?;
    }
    Ok(())
}

fn record_problems(entry: &GalleryEntry, problems: &mut PreviewProblems) {
    if let Some(e) = &entry.error {
        problems.person(e, &entry.source);
    }
    for e in &entry.link_errors {
        problems.person(e, &entry.source);
    }
}

fn summary(
    job: &PreviewJob<'_>,
    rendered: usize,
    locales: Vec<(String, usize)>,
    problems: &PreviewProblems,
) -> GallerySummary {
    GallerySummary {
        campaign: job.config.active.name.clone(),
        generated: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        from: job.config.message.from.clone(),
        config: job.config.path.display().to_string(),
        mapping: job.args.input.mapping.display().to_string(),
        people: job.people.len(),
        rendered,
        locales,
        allowed_domains: job.renderer.allowed_hosts().domains().to_vec(),
        held_back: job.held_back.clone(),
        errors: problems.errors.clone(),
        warnings: problems.warnings.clone(),
    }
}

/// `index.html` = head (summary, problems) + the streamed rows + the script, then the side
/// file is removed.
fn assemble(out: &Path, rows_path: &Path, summary: &GallerySummary) -> std::io::Result<()> {
    let index = out.join("index.html");
    let mut page = BufWriter::new(files::create_private(&index)?);
    page.write_all(gallery::page_head(summary).as_bytes())?;
    std::io::copy(&mut BufReader::new(fs::File::open(rows_path)?), &mut page)?;
    page.write_all(gallery::PAGE_TAIL.as_bytes())?;
    page.flush()?;
    fs::remove_file(rows_path)
}
