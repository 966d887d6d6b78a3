//! Copies text with some ASCII bytes replaced by character references, copying the runs
//! between them whole: the one loop behind the gallery's escaping and the per-shape filling's
//! Handlebars-exact escaping, which differ only in their tables.

/// Appends `text` to `out`, each byte that `reference` names replaced by what it returns.
pub fn push_replaced(out: &mut String, text: &str, reference: impl Fn(u8) -> Option<&'static str>) {
    let mut copied = 0;
    for (i, b) in text.bytes().enumerate() {
        if let Some(replacement) = reference(b) {
            out.push_str(&text[copied..i]);
            out.push_str(replacement);
            copied = i + 1;
        }
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_named_bytes_and_keeps_the_rest_whole() {
        let mut out = String::from(">");
        push_replaced(&mut out, "a<é<b", |b| (b == b'<').then_some("&lt;"));
        assert_eq!(out, ">a&lt;é&lt;b");
    }
}
