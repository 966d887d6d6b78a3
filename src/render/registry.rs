//! Loads the templates folder into two Handlebars registries in strict mode: one that escapes
//! for HTML (`<locale>/html` and every partial under an `html/` folder) and one that does not
//! (`<locale>/subject`, `<locale>/text` and every other partial). A template is named by its
//! path under the folder without `.hbs`, so `en/html/sign-in.hbs` is the partial
//! `{{> en/html/sign-in}}`.
//!
//! Each campaign kind has its own locale folders: `post-move` the top-level ones
//! (`<dir>/en/`), `pre-move` and `reminder` those under `<dir>/pre-move/` and `<dir>/reminder/`,
//! which must exist: falling back to the top-level locales would send the post-move notice as a
//! warning or a reminder (a templates folder copied before campaigns existed has none). A kind's
//! registry loads its locale folders and every partial (`shared/`, and the top-level locale
//! folders' partials, so a reminder can reuse `{{> en/text/sign-in}}`), but never another
//! kind's folder: a broken reminder template must not stop a post-move send.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;

use crate::campaign::Kind;

/// One reason the templates folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateProblem {
    #[error("{}: cannot read the templates folder ({source}); set [message].templates to a copy of the shipped templates/ folder", dir.display())]
    Folder {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: cannot read ({source})", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {}", path.display(), describe_template_error(source))]
    Syntax {
        path: PathBuf,
        source: handlebars::TemplateError,
    },
    #[error("{}: no folder `{folder}`; the templates of a {folder} campaign live in {}/<locale>/ (copy templates/{folder}/ of this release there, or set the campaign's templates to a folder that has one)", dir.display(), dir.join(folder).display())]
    NoKindFolder { dir: PathBuf, folder: &'static str },
    #[error("{}: locale folder `{folder}` has no {}; every locale needs subject.hbs, text.hbs and html.hbs", dir.join(folder).display(), missing.iter().map(|m| format!("{m}.hbs")).collect::<Vec<_>>().join(", "))]
    IncompleteLocale {
        dir: PathBuf,
        folder: String,
        missing: Vec<&'static str>,
    },
}

/// The problems, one per line, for [`super::RenderError::Templates`].
pub fn lines(problems: &[TemplateProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n  ")
}

/// The three templates every locale folder must have.
pub const REQUIRED: [&str; 3] = ["subject", "text", "html"];

/// The loaded templates.
pub struct Registry {
    pub html: Handlebars<'static>,
    pub text: Handlebars<'static>,
    /// Locale folders that have all of [`REQUIRED`], e.g. `de`, `en`, `fr`.
    pub locales: BTreeSet<String>,
    /// Where the locale folders are, as a prefix of template names: empty for the top-level
    /// ones, else e.g. `pre-move/`.
    pub root: String,
}

impl Registry {
    /// The name of `part` (`subject`, `text`, `html`) of `locale`: `en/text`, `pre-move/en/text`.
    pub fn name(&self, locale: &str, part: &str) -> String {
        format!("{}{locale}/{part}", self.root)
    }
}

/// The folder under `dir` that holds `kind`'s locale folders, as a template-name prefix: `""`
/// for the top level (`post-move`), `pre-move/` for `pre-move`.
pub fn kind_root(kind: Kind) -> String {
    kind.templates_folder()
        .map(|folder| format!("{folder}/"))
        .unwrap_or_default()
}

/// Reads `kind`'s templates under `dir` (see the module doc). All problems are returned, not
/// only the first.
pub fn load(dir: &Path, kind: Kind) -> Result<Registry, Vec<TemplateProblem>> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    let root = kind_root(kind);
    if let Some(folder) = kind.templates_folder().filter(|f| !dir.join(f).is_dir()) {
        return Err(vec![TemplateProblem::NoKindFolder {
            dir: dir.to_path_buf(),
            folder,
        }]);
    }
    let skipped = other_kinds_folders(kind);
    if let Err(source) = collect(dir, dir, &skipped, &mut files) {
        return Err(vec![TemplateProblem::Folder {
            dir: dir.to_path_buf(),
            source,
        }]);
    }
    if !root.is_empty() {
        // The top-level locales' messages belong to post-move; only their partials are shared.
        files.retain(|(name, _)| name.starts_with(&root) || !is_message(name));
    }
    files.sort();
    let mut registry = Registry {
        html: strict_registry(true),
        text: strict_registry(false),
        locales: BTreeSet::new(),
        root,
    };
    let refused = files
        .iter()
        .filter_map(|(name, path)| register(&mut registry, name, path).err());
    problems.extend(refused);
    let names: BTreeSet<&str> = files
        .iter()
        .filter_map(|(n, _)| n.strip_prefix(registry.root.as_str()))
        .collect();
    registry.locales = locales(&locale_dir(dir, &registry.root), &names, &mut problems);
    if problems.is_empty() {
        Ok(registry)
    } else {
        Err(problems)
    }
}

/// The folder holding the locale folders of `root` (see [`kind_root`]).
pub fn locale_dir(dir: &Path, root: &str) -> PathBuf {
    match root.trim_end_matches('/') {
        "" => dir.to_path_buf(),
        folder => dir.join(folder),
    }
}

/// The folders of the kinds other than `kind` (`pre-move`, `reminder` for a post-move send).
fn other_kinds_folders(kind: Kind) -> Vec<&'static str> {
    Kind::ALL
        .iter()
        .filter(|k| **k != kind)
        .filter_map(|k| k.templates_folder())
        .collect()
}

/// True for `<locale>/subject`, `<locale>/text` and `<locale>/html`: a message, not a partial.
fn is_message(name: &str) -> bool {
    match name.split_once('/') {
        Some((folder, part)) => folder != "shared" && REQUIRED.contains(&part),
        None => false,
    }
}

fn strict_registry(html: bool) -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.set_prevent_indent(false);
    if !html {
        hb.register_escape_fn(handlebars::no_escape);
    }
    hb
}

/// Lists `(name, path)` of every `.hbs` file below `dir`, named relative to `root`, but for
/// the top-level folders named in `skipped`.
fn collect(
    root: &Path,
    dir: &Path,
    skipped: &[&str],
    out: &mut Vec<(String, PathBuf)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            let top = dir == root;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(top && skipped.contains(&name)) {
                collect(root, &path, skipped, out)?;
            }
        } else if let Some(name) = template_name(root, &path) {
            out.push((name, path));
        }
    }
    Ok(())
}

fn template_name(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?.to_str()?;
    let name = rel.strip_suffix(".hbs")?;
    Some(name.replace('\\', "/"))
}

/// True for templates that produce HTML: `<locale>/html` and anything in an `html/` folder.
pub fn is_html(name: &str) -> bool {
    name.split('/').any(|part| part == "html")
}

fn register(registry: &mut Registry, name: &str, path: &Path) -> Result<(), TemplateProblem> {
    let source = std::fs::read_to_string(path).map_err(|source| TemplateProblem::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let source = source.strip_prefix('\u{feff}').unwrap_or(&source);
    let hb = if is_html(name) {
        &mut registry.html
    } else {
        &mut registry.text
    };
    hb.register_template_string(name, source)
        .map_err(|e| TemplateProblem::Syntax {
            path: path.to_path_buf(),
            source: e,
        })
}

fn describe_template_error(e: &handlebars::TemplateError) -> String {
    match e.pos() {
        Some((line, col)) => format!("line {line}, column {col}: {}", e.reason()),
        None => e.reason().to_string(),
    }
}

/// The locale folders: every folder directly in `dir` (but `shared`) holding a template, as
/// `names` has them relative to `dir`; each must have all of [`REQUIRED`].
fn locales(
    dir: &Path,
    names: &BTreeSet<&str>,
    problems: &mut Vec<TemplateProblem>,
) -> BTreeSet<String> {
    let folders: BTreeSet<&str> = names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(first, _)| first))
        .filter(|first| *first != "shared")
        .collect();
    let mut complete = BTreeSet::new();
    for folder in folders {
        let missing: Vec<&'static str> = REQUIRED
            .iter()
            .filter(|t| !names.contains(format!("{folder}/{t}").as_str()))
            .copied()
            .collect();
        if missing.is_empty() {
            complete.insert(folder.to_string());
        } else {
            problems.push(TemplateProblem::IncompleteLocale {
                dir: dir.to_path_buf(),
                folder: folder.to_string(),
                missing,
            });
        }
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn html_templates_escape_and_text_templates_do_not() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "en/subject.hbs", "Hi {{x}}");
        write(dir.path(), "en/text.hbs", "{{> en/text/part}}");
        write(dir.path(), "en/text/part.hbs", "T {{x}}");
        write(dir.path(), "en/html.hbs", "{{> en/html/part}}");
        write(dir.path(), "en/html/part.hbs", "H {{x}}");
        let r = load(dir.path(), Kind::PostMove).unwrap();
        let data = serde_json::json!({"x": "<a&b>"});
        assert_eq!(r.text.render("en/text", &data).unwrap(), "T <a&b>");
        assert_eq!(
            r.html.render("en/html", &data).unwrap(),
            "H &lt;a&amp;b&gt;"
        );
        assert_eq!(r.locales.iter().collect::<Vec<_>>(), ["en"]);
    }

    #[test]
    fn reports_every_broken_file_and_incomplete_locale() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "en/subject.hbs", "ok");
        write(dir.path(), "en/text.hbs", "line one\n{{#if x}}never closed");
        write(dir.path(), "en/html.hbs", "ok");
        write(dir.path(), "de/subject.hbs", "ok");
        let problems: Vec<String> = load(dir.path(), Kind::PostMove)
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("text.hbs: line 2")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("`de` has no text.hbs, html.hbs")),
            "{problems:?}"
        );
    }

    /// A kind reads its own folder and the partials, never
    /// another kind's folder nor, from its own folder, the top-level messages.
    #[test]
    fn each_kind_loads_its_locales_and_every_partial_only() {
        let dir = tempfile::tempdir().unwrap();
        for locale in ["en", "reminder/en"] {
            for part in REQUIRED {
                write(dir.path(), &format!("{locale}/{part}.hbs"), "ok");
            }
        }
        write(dir.path(), "en/text/sign-in.hbs", "sign in");
        write(dir.path(), "shared/html/layout.hbs", "layout");
        // Broken, and incomplete: only the pre-move kind may see it.
        write(dir.path(), "pre-move/de/subject.hbs", "{{#if x}}");
        let post = load(dir.path(), Kind::PostMove).unwrap();
        assert_eq!(
            (post.root.as_str(), post.name("en", "text")),
            ("", "en/text".into())
        );
        assert!(post.text.has_template("en/text") && !post.text.has_template("reminder/en/text"));
        let reminder = load(dir.path(), Kind::Reminder).unwrap();
        assert_eq!(reminder.name("en", "text"), "reminder/en/text");
        assert_eq!(reminder.locales.iter().collect::<Vec<_>>(), ["en"]);
        assert!(reminder.text.has_template("en/text/sign-in"));
        assert!(reminder.html.has_template("shared/html/layout"));
        assert!(
            !reminder.text.has_template("en/text"),
            "a post-move message"
        );
        let pre: Vec<String> = load(dir.path(), Kind::PreMove)
            .err()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(pre.len(), 2, "{pre:?}");
        assert!(pre.iter().all(|p| p.contains("pre-move")), "{pre:?}");
        // Without its folder a kind is refused: the top-level locales are the post-move notice.
        std::fs::remove_dir_all(dir.path().join("pre-move")).unwrap();
        let pre = load(dir.path(), Kind::PreMove).err().unwrap();
        assert!(matches!(
            pre[..],
            [TemplateProblem::NoKindFolder {
                folder: "pre-move",
                ..
            }]
        ));
    }

    #[test]
    fn problems_keep_the_handlebars_and_io_errors_as_their_source() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "en/text.hbs", "{{#if x}}never closed");
        let problems = load(dir.path(), Kind::PostMove).err().unwrap();
        let syntax = problems
            .iter()
            .find(|p| matches!(p, TemplateProblem::Syntax { .. }))
            .unwrap();
        let source = std::error::Error::source(syntax).unwrap();
        assert!(source.is::<handlebars::TemplateError>(), "{source:?}");
        let missing = load(Path::new("/nonexistent/templates"), Kind::PostMove)
            .err()
            .unwrap();
        let source = std::error::Error::source(&missing[0]).unwrap();
        assert!(source.is::<std::io::Error>(), "{source:?}");
        let says = missing[0].to_string();
        assert!(
            says.contains("[message].templates"),
            "a missing folder names the key: {says}"
        );
    }
}
