//! Fills in the templates once per *shape* of template data instead of once per person.
//!
//! Two people whose template data differ only in the text of non-empty strings get the same
//! output but for where those strings go. So the templates are rendered by Handlebars once per
//! shape (locale, keys, which strings are empty, every `true`/`false`/number), with each
//! non-empty string replaced by a marker, and the output is kept as literal text and holes.
//! A person's notice is then the literal text with their strings in the holes, escaped for
//! HTML where Handlebars escaped the marker. That is exact only when the templates can look at
//! a string in no other way than by printing it or by asking whether it is empty, so:
//!
//! - it is used only when every template consists of text, `{{path}}` and `{{{path}}}`
//!   without helpers, `{{#if path}}` and `{{#unless path}}` (with `{{else}}`), partials with a
//!   fixed name and literal or path arguments, and `{{#*inline}}`; a template with any other
//!   helper (`eq`, `each`, `lookup`, ...) turns it off for the whole run;
//! - a person whose strings hold a line break (Handlebars indents those inside partials) or a
//!   marker character is rendered by Handlebars in full;
//! - a shape whose render fails is rendered in full for everyone of that shape, so the error
//!   a person sees is Handlebars' own.
//!
//! `tests.rs` compares both ways byte for byte on the shipped templates.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use handlebars::template::{
    DecoratorTemplate, HelperTemplate, Parameter, Template, TemplateElement,
};
use handlebars::Handlebars;
use serde_json::Value;

use super::registry::Registry;

/// Starts a hole that Handlebars printed as is.
const RAW: char = '\u{E000}';
/// Starts a hole that Handlebars escaped for HTML.
const ESCAPED: char = '\u{E002}';
/// Ends a hole.
const END: char = '\u{E001}';

/// The helpers Handlebars registers; a `{{name}}` with one of these names calls the helper.
const HELPERS: [&str; 25] = [
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "raw",
    "log",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    "lowerCamelCase",
    "upperCamelCase",
    "snakeCase",
    "kebabCase",
    "shoutySnakeCase",
    "shoutyKebabCase",
    "titleCase",
    "trainCase",
];

/// One piece of a filled-in template.
#[derive(Debug, PartialEq)]
enum Segment {
    Text(String),
    Hole { leaf: usize, escaped: bool },
}

/// The subject, text and HTML of one shape, or `None` when Handlebars failed on it.
type Compiled = Option<[Vec<Segment>; 3]>;

/// The shape cache for one set of templates.
pub struct Shapes {
    html: Handlebars<'static>,
    text: Handlebars<'static>,
    cache: RwLock<HashMap<String, Arc<Compiled>>>,
}

/// A person's template data taken apart: the shape key and the strings in order.
struct Leaves<'a> {
    key: String,
    strings: Vec<&'a str>,
}

impl Shapes {
    /// `None` when some template does more with a value than print it or test it.
    pub fn new(registry: &Registry) -> Option<Shapes> {
        let all = [&registry.html, &registry.text];
        if !all
            .iter()
            .all(|hb| hb.get_templates().values().all(template_ok))
        {
            return None;
        }
        let mut html = registry.html.clone();
        html.register_escape_fn(|s| handlebars::html_escape(s).replace(RAW, &ESCAPED.to_string()));
        let mut text = registry.text.clone();
        text.register_escape_fn(handlebars::no_escape);
        Some(Shapes {
            html,
            text,
            cache: RwLock::new(HashMap::new()),
        })
    }

    /// Subject, text and HTML for `data` in `locale`, or `None` when this person must be
    /// rendered by Handlebars in full.
    pub fn fill(&self, locale: &str, data: &Value) -> Option<[String; 3]> {
        let mut leaves = Leaves {
            key: format!("{locale}\u{0}"),
            strings: Vec::new(),
        };
        if !take_apart(data, &mut leaves) {
            return None;
        }
        let compiled = self.compiled(locale, data, &leaves.key);
        let [subject, text, html] = compiled.as_ref().as_ref()?;
        Some([
            put_together(subject, &leaves.strings),
            put_together(text, &leaves.strings),
            put_together(html, &leaves.strings),
        ])
    }

    /// How many shapes have been filled in so far.
    pub fn len(&self) -> usize {
        self.cache.read().map_or(0, |c| c.len())
    }

    /// True before the first shape.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn compiled(&self, locale: &str, data: &Value, key: &str) -> Arc<Compiled> {
        if let Some(found) = self.cache.read().ok().and_then(|c| c.get(key).cloned()) {
            return found;
        }
        let compiled = Arc::new(self.compile(locale, data));
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(key.to_string(), compiled.clone());
        }
        compiled
    }

    fn compile(&self, locale: &str, data: &Value) -> Compiled {
        let mut next = 0;
        let markers = with_markers(data, &mut next);
        let render = |hb: &Handlebars<'static>, name: &str| {
            let out = hb.render(&format!("{locale}/{name}"), &markers).ok()?;
            segments(&out, next)
        };
        Some([
            render(&self.text, "subject")?,
            render(&self.text, "text")?,
            render(&self.html, "html")?,
        ])
    }
}

/// Walks `data` in order, writing its shape into `out.key` and collecting its non-empty
/// strings. False when a string holds a line break or a marker character.
fn take_apart<'a>(data: &'a Value, out: &mut Leaves<'a>) -> bool {
    match data {
        Value::Null => out.key.push('n'),
        Value::Bool(b) => out.key.push(if *b { 't' } else { 'f' }),
        Value::Number(n) => {
            out.key.push('#');
            out.key.push_str(&n.to_string());
            out.key.push(';');
        }
        Value::String(s) if s.is_empty() => out.key.push('e'),
        Value::String(s) => {
            if s.contains(['\n', '\r', RAW, ESCAPED, END]) {
                return false;
            }
            out.key.push('s');
            out.strings.push(s);
        }
        Value::Array(items) => {
            out.key.push('[');
            for item in items {
                if !take_apart(item, out) {
                    return false;
                }
            }
            out.key.push(']');
        }
        Value::Object(map) => {
            out.key.push('{');
            for (k, v) in map {
                out.key.push_str(&k.len().to_string());
                out.key.push(':');
                out.key.push_str(k);
                if !take_apart(v, out) {
                    return false;
                }
            }
            out.key.push('}');
        }
    }
    true
}

/// `data` with its n-th non-empty string replaced by the marker `RAW n END`.
fn with_markers(data: &Value, next: &mut usize) -> Value {
    match data {
        Value::String(s) if !s.is_empty() => {
            *next += 1;
            Value::String(format!("{RAW}{}{END}", *next - 1))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| with_markers(v, next)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), with_markers(v, next)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Splits a render with markers into text and holes; `None` if a marker is malformed.
fn segments(out: &str, leaves: usize) -> Option<Vec<Segment>> {
    let mut parts = Vec::new();
    let mut rest = out;
    while let Some(start) = rest.find([RAW, ESCAPED]) {
        if start > 0 {
            parts.push(Segment::Text(rest[..start].to_string()));
        }
        let escaped = rest[start..].starts_with(ESCAPED);
        let after = &rest[start + RAW.len_utf8()..];
        let end = after.find(END)?;
        let leaf: usize = after[..end].parse().ok()?;
        if leaf >= leaves {
            return None;
        }
        parts.push(Segment::Hole { leaf, escaped });
        rest = &after[end + END.len_utf8()..];
    }
    if !rest.is_empty() {
        parts.push(Segment::Text(rest.to_string()));
    }
    Some(parts)
}

fn put_together(segments: &[Segment], strings: &[&str]) -> String {
    let size = segments
        .iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.len(),
            Segment::Hole { leaf, .. } => strings[*leaf].len() + 8,
        })
        .sum();
    let mut out = String::with_capacity(size);
    for segment in segments {
        match segment {
            Segment::Text(t) => out.push_str(t),
            Segment::Hole {
                leaf,
                escaped: false,
            } => out.push_str(strings[*leaf]),
            Segment::Hole {
                leaf,
                escaped: true,
            } => push_escaped(&mut out, strings[*leaf]),
        }
    }
    out
}

/// Appends `value` escaped exactly as [`handlebars::html_escape`] escapes it, without a
/// `String` of its own.
fn push_escaped(out: &mut String, value: &str) {
    super::escape::push_replaced(out, value, |b| match b {
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'&' => Some("&amp;"),
        b'\'' => Some("&#x27;"),
        b'`' => Some("&#x60;"),
        b'=' => Some("&#x3D;"),
        _ => None,
    });
}

fn template_ok(t: &Template) -> bool {
    t.elements.iter().all(element_ok)
}

fn element_ok(e: &TemplateElement) -> bool {
    match e {
        TemplateElement::RawString(_) | TemplateElement::Comment(_) => true,
        TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => value_only(h),
        TemplateElement::HelperBlock(h) => condition(h),
        TemplateElement::PartialExpression(d) | TemplateElement::PartialBlock(d) => partial(d),
        TemplateElement::DecoratorExpression(d) | TemplateElement::DecoratorBlock(d) => {
            matches!(&d.name, Parameter::Name(n) if n == "inline")
                && d.template.as_ref().is_none_or(template_ok)
        }
        _ => false,
    }
}

/// `{{path}}`: prints a value, calls nothing.
fn value_only(h: &HelperTemplate) -> bool {
    h.params.is_empty()
        && h.hash.is_empty()
        && h.template.is_none()
        && h.inverse.is_none()
        && h.block_param.is_none()
        && plain_path(&h.name)
}

/// `{{#if path}}` or `{{#unless path}}`, with or without `{{else}}`.
fn condition(h: &HelperTemplate) -> bool {
    matches!(&h.name, Parameter::Name(n) if n == "if" || n == "unless")
        && h.params.len() == 1
        && plain_path(&h.params[0])
        && h.hash.is_empty()
        && h.block_param.is_none()
        && h.template.as_ref().is_none_or(template_ok)
        && h.inverse.as_ref().is_none_or(template_ok)
}

/// `{{> name}}` or `{{#> name key=value}}...{{/name}}` with a fixed name.
fn partial(d: &DecoratorTemplate) -> bool {
    let fixed_name = matches!(&d.name, Parameter::Name(_) | Parameter::Path(_));
    let argument_ok = |p: &Parameter| matches!(p, Parameter::Literal(_)) || plain_path(p);
    fixed_name
        && d.params.len() <= 1
        && d.params.iter().all(|p| matches!(p, Parameter::Path(_)))
        && d.hash.values().all(argument_ok)
        && d.template.as_ref().is_none_or(template_ok)
}

fn plain_path(p: &Parameter) -> bool {
    match p {
        Parameter::Path(_) => true,
        Parameter::Name(n) => !HELPERS.contains(&n.as_str()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_into_the_output_is_what_handlebars_does() {
        let alphabet = ["a", "<", ">", "\"", "&", "'", "`", "=", "é", "😀", " ", "x"];
        let mut state: u64 = 0x1234_5678_9ABC_DEF1;
        for _ in 0..3000 {
            let mut value = String::new();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                value.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            let mut out = String::from("before ");
            push_escaped(&mut out, &value);
            assert_eq!(out, format!("before {}", handlebars::html_escape(&value)));
        }
    }

    fn registry(files: &[(&str, &str)]) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        super::super::registry::load(dir.path()).unwrap()
    }

    fn locale(html: &str) -> Registry {
        registry(&[
            ("en/subject.hbs", "Hi {{name}}"),
            ("en/text.hbs", "Hello {{name}}"),
            ("en/html.hbs", html),
        ])
    }

    #[test]
    fn only_printing_and_testing_values_is_allowed() {
        for ok in [
            "<p>{{name}} {{{name}}}</p>",
            "{{#if name}}a{{else}}b{{/if}}{{#unless x.y}}c{{/unless}}",
            "{{#*inline \"p\"}}{{name}}{{/inline}}{{> p}}",
            "{{#if a}}1{{else if b}}2{{/if}}",
        ] {
            assert!(Shapes::new(&locale(ok)).is_some(), "{ok}");
        }
        for not_ok in [
            "{{#if (eq name \"Ana\")}}x{{/if}}",
            "{{#each list}}{{this}}{{/each}}",
            "{{lookup map name}}",
            "{{#with a}}{{b}}{{/with}}",
            "{{len name}}",
            "{{#if a includeZero=true}}x{{/if}}",
            "{{log name}}",
        ] {
            assert!(Shapes::new(&locale(not_ok)).is_none(), "{not_ok}");
        }
    }

    #[test]
    fn fills_holes_escaped_where_handlebars_escaped() {
        let r = locale("<b>{{name}}</b>{{{name}}}{{#if empty}}E{{/if}}");
        let shapes = Shapes::new(&r).unwrap();
        let data = serde_json::json!({"name": "<Zoë & \"Ana\">", "empty": ""});
        let [subject, text, html] = shapes.fill("en", &data).unwrap();
        assert_eq!(subject, "Hi <Zoë & \"Ana\">");
        assert_eq!(text, "Hello <Zoë & \"Ana\">");
        assert_eq!(html, r.html.render("en/html", &data).unwrap());
        assert_eq!(shapes.cache.read().unwrap().len(), 1);
    }

    #[test]
    fn line_breaks_markers_and_failing_shapes_fall_back() {
        let r = locale("{{name}}{{#if flag}}{{missing}}{{/if}}");
        let shapes = Shapes::new(&r).unwrap();
        assert!(shapes
            .fill("en", &serde_json::json!({"name": "a\nb", "flag": false}))
            .is_none());
        assert!(shapes
            .fill(
                "en",
                &serde_json::json!({"name": "a\u{E000}", "flag": false})
            )
            .is_none());
        assert!(shapes
            .fill("en", &serde_json::json!({"name": "a", "flag": true}))
            .is_none());
        assert!(shapes
            .fill("en", &serde_json::json!({"name": "a", "flag": false}))
            .is_some());
    }
}
