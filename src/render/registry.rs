//! Loads the templates folder into two Handlebars registries in strict mode: one that escapes
//! for HTML (`<locale>/html` and every partial under an `html/` folder) and one that does not
//! (`<locale>/subject`, `<locale>/text` and every other partial). A template is named by its
//! path under the folder without `.hbs`, so `en/html/sign-in.hbs` is the partial
//! `{{> en/html/sign-in}}`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use handlebars::Handlebars;

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
}

/// Reads every `*.hbs` under `dir`. All problems are returned, not only the first.
pub fn load(dir: &Path) -> Result<Registry, Vec<TemplateProblem>> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    if let Err(source) = collect(dir, dir, &mut files) {
        return Err(vec![TemplateProblem::Folder {
            dir: dir.to_path_buf(),
            source,
        }]);
    }
    files.sort();
    let mut registry = Registry {
        html: strict_registry(true),
        text: strict_registry(false),
        locales: BTreeSet::new(),
    };
    let refused = files
        .iter()
        .filter_map(|(name, path)| register(&mut registry, name, path).err());
    problems.extend(refused);
    let names: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    registry.locales = locales(dir, &names, &mut problems);
    if problems.is_empty() {
        Ok(registry)
    } else {
        Err(problems)
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

/// Lists `(name, path)` of every `.hbs` file below `dir`, named relative to `root`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
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

/// The locale folders: every top-level folder (but `shared`) holding a template; each must
/// have all of [`REQUIRED`].
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
        let r = load(dir.path()).unwrap();
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
        let problems: Vec<String> = load(dir.path())
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

    #[test]
    fn problems_keep_the_handlebars_and_io_errors_as_their_source() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "en/text.hbs", "{{#if x}}never closed");
        let problems = load(dir.path()).err().unwrap();
        let syntax = problems
            .iter()
            .find(|p| matches!(p, TemplateProblem::Syntax { .. }))
            .unwrap();
        let source = std::error::Error::source(syntax).unwrap();
        assert!(source.is::<handlebars::TemplateError>(), "{source:?}");
        let missing = load(Path::new("/nonexistent/templates")).err().unwrap();
        let source = std::error::Error::source(&missing[0]).unwrap();
        assert!(source.is::<std::io::Error>(), "{source:?}");
        let says = missing[0].to_string();
        assert!(
            says.contains("[message].templates"),
            "a missing folder names the key: {says}"
        );
    }
}
