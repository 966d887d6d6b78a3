//! The preview's `index.html`: a summary, the problems, a searchable list of every person and
//! the rendered message beside it. Pure functions that return text; `preview` writes them.
//! The list is JSON in the page (one line per person, streamed into the file), drawn by a
//! small script that shows at most 500 matches (`SHOWN` in `gallery.js`), so 100,000 people
//! stay fast.

use serde::Serialize;

/// One person in the gallery.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GalleryEntry {
    pub name: Option<String>,
    pub source: String,
    pub target: String,
    pub to: Vec<String>,
    pub locale: String,
    pub subject: String,
    pub guest: bool,
    /// The migration batch of the user's move (from `--move-state`), searchable as its name.
    pub batch: Option<String>,
    pub message_id: String,
    /// Paths relative to `index.html`, when the message was rendered.
    pub eml: Option<String>,
    pub html: Option<String>,
    /// The text part: its place in its folder's text page (`messages/000/text.html#p000001`).
    pub text: Option<String>,
    /// Link-check problems (the notice was rendered but must not be sent).
    pub link_errors: Vec<String>,
    /// Why the notice could not be rendered at all.
    pub error: Option<String>,
}

/// What the page says above the list.
#[derive(Debug, Clone, Default)]
pub struct GallerySummary {
    pub campaign: String,
    pub generated: String,
    pub from: String,
    pub config: String,
    pub mapping: String,
    pub people: usize,
    pub rendered: usize,
    /// `(locale, count)`.
    pub locales: Vec<(String, usize)>,
    pub allowed_domains: Vec<String>,
    /// Users held back (move state, or a guest without an address), one line per reason.
    pub held_back: Vec<String>,
    /// Errors: input validation, rendering, link check. Each one line.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// One entry as a line of the page's JSON array, safe inside `<script>`: `<`, `>` and `&`
/// are escaped so that no value can close the script element.
pub fn entry_json(e: &GalleryEntry) -> String {
    let json = serde_json::to_string(e).unwrap_or_else(|_| "null".into());
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// HTML-escapes text for element content and attribute values: the one escaper of the pages
/// we write (gallery, preview text pages, report); templates are escaped by Handlebars.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page up to the opening of the JSON array; entries follow, separated by `,\n`.
pub fn page_head(s: &GallerySummary) -> String {
    let status = if s.errors.is_empty() {
        "<span class=\"chip ok\">no problems</span>".to_string()
    } else {
        format!(
            "<span class=\"chip bad\">{} problem{}</span>",
            s.errors.len(),
            if s.errors.len() == 1 { "" } else { "s" }
        )
    };
    let locales: Vec<String> = s
        .locales
        .iter()
        .map(|(l, n)| format!("{} {n}", escape(l)))
        .collect();
    format!(
        "{HEAD}<header>\n<h1>Notice preview <span class=\"muted\">campaign {campaign}</span></h1>\n\
<p class=\"facts\"><span>{people} {people_word}</span><span>{rendered} rendered</span><span>locales: {locales}</span>{status}<span class=\"chip neutral\">nothing was sent</span></p>\n\
<p class=\"facts small\"><span>from {from}</span><span>mapping {mapping}</span><span>config {config}</span><span>generated {generated}</span></p>\n\
<p class=\"facts small\"><span>links allowed to: {domains}</span></p>\n{held}</header>\n{problems}{BODY_START}",
        campaign = escape(&s.campaign),
        people = s.people,
        people_word = if s.people == 1 { "person" } else { "people" },
        rendered = s.rendered,
        locales = if locales.is_empty() { "none".into() } else { locales.join(", ") },
        from = escape(&s.from),
        mapping = escape(&s.mapping),
        config = escape(&s.config),
        generated = escape(&s.generated),
        domains = escape(&s.allowed_domains.join(", ")),
        problems = problems(s),
        held = held_back(s),
    )
}

fn held_back(s: &GallerySummary) -> String {
    if s.held_back.is_empty() {
        return String::new();
    }
    let lines: Vec<String> = s.held_back.iter().map(|l| escape(l)).collect();
    format!(
        "<p class=\"facts small\"><span>held back (not previewed): {}</span></p>\n",
        lines.join("; ")
    )
}

fn problems(s: &GallerySummary) -> String {
    let mut out = String::new();
    for (class, title, list) in [
        ("errors", "Problems to fix before sending", &s.errors),
        ("warnings", "Warnings", &s.warnings),
    ] {
        if list.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "<details class=\"{class}\" id=\"{class}\"{}>\n<summary>{title} ({})</summary>\n<ul>\n",
            if class == "errors" { " open" } else { "" },
            list.len()
        ));
        for p in list {
            out.push_str(&format!("<li>{}</li>\n", escape(p)));
        }
        out.push_str("</ul>\n</details>\n");
    }
    out
}

/// The rest of the page after the last entry.
pub const PAGE_TAIL: &str = concat!(
    "\n]</script>\n<script>\n",
    include_str!("gallery.js"),
    "</script>\n</body>\n</html>\n"
);

const HEAD: &str = concat!(
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>t2t-notify preview</title>\n<style>\n",
    include_str!("gallery.css"),
    "</style>\n</head>\n<body>\n"
);

const BODY_START: &str = r##"<main>
<section class="people">
<div class="searchbar"><input id="search" type="search" placeholder="Search name, UPN, address, locale, guest, problem" autocomplete="off" aria-label="Search people"><div id="count" class="muted small" aria-live="polite"></div></div>
<ol id="list" class="list"></ol>
</section>
<section class="viewer">
<div id="meta" class="meta"></div>
<div class="tabs" role="tablist"><button id="tab-html" class="tab active" type="button">HTML</button><button id="tab-text" class="tab" type="button">Plain text</button><a id="eml" class="tab" href="#" download>Download .eml</a></div>
<iframe id="frame" title="Rendered message" sandbox=""></iframe>
</section>
</main>
<noscript><p class="noscript">The list needs JavaScript; the messages are in the messages/ folder next to this page.</p></noscript>
<script type="application/json" id="t2t-data">[
"##;

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> GalleryEntry {
        GalleryEntry {
            name: Some("</script><script>alert(1)</script>".into()),
            source: "a@contoso.com".into(),
            subject: "S & T".into(),
            batch: Some("batch-<2>".into()),
            message_id: "<x@fabrikam.com>".into(),
            eml: Some("messages/00001-a.eml".into()),
            ..GalleryEntry::default()
        }
    }

    #[test]
    fn entry_json_cannot_close_the_script_element() {
        let json = entry_json(&entry());
        assert!(
            !json.contains('<') && !json.contains('>') && !json.contains('&'),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script>");
        assert_eq!(back["subject"], "S & T");
    }

    #[test]
    fn escape_replaces_markup_and_quotes_and_keeps_the_rest() {
        assert_eq!(
            escape("a <b> & \"c\" 'd' é"),
            "a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; é"
        );
        assert_eq!(escape(""), "");
        assert_eq!(escape("&&"), "&amp;&amp;");
    }

    #[test]
    fn page_lists_problems_escaped_and_counts() {
        let s = GallerySummary {
            campaign: "post-migration".into(),
            people: 2,
            rendered: 1,
            errors: vec!["map.csv:3: <bad> value".into()],
            warnings: vec!["dir.csv:4: warning: unused".into()],
            ..GallerySummary::default()
        };
        let head = page_head(&s);
        assert!(head.contains("1 problem<"), "{head}");
        assert!(head.contains("map.csv:3: &lt;bad&gt; value"));
        assert!(head.contains("Warnings (1)"));
        assert!(head.ends_with("id=\"t2t-data\">[\n"));
        let page = format!("{head}{}{PAGE_TAIL}", entry_json(&entry()));
        assert_eq!(
            page.matches("<script").count(),
            2,
            "only the data and the app script"
        );
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "the gallery loads nothing remote"
        );
    }
}
