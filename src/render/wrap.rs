//! Wraps the plain-text part at 76 columns, so templates can write each paragraph on one line
//! whatever the length of the names filled in. Indented lines and numbered steps keep their
//! indent on the following lines; a word longer than the width (a URL) is never broken.

/// The widest line a mail reader shows without wrapping on its own.
pub const WIDTH: usize = 76;

/// Wraps every line of `text` longer than `width` characters.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    for end in ends {
        if start > 0 {
            out.push('\n');
        }
        wrap_line(text[start..end].trim_end(), width, &mut out);
        start = end + 1;
    }
    out
}

fn wrap_line(line: &str, width: usize, out: &mut String) {
    if line.len() <= width || line.chars().count() <= width {
        out.push_str(line);
        return;
    }
    let hang = hanging_indent(line);
    let mut col = 0;
    let mut start = 0;
    let bytes = line.as_bytes();
    while start <= line.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(line.len(), |i| start + i);
        let word = &line[start..end];
        let len = char_count(word);
        if start == 0 {
            out.push_str(word);
            col = len;
        } else if col > hang && col + 1 + len > width {
            let kept = out.trim_end_matches(' ').len();
            out.truncate(kept);
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', hang));
            out.push_str(word);
            col = hang + len;
        } else {
            out.push(' ');
            out.push_str(word);
            col += 1 + len;
        }
        start = end + 1;
    }
}

/// Characters in `word`; its length in bytes when it is ASCII, as most words are.
fn char_count(word: &str) -> usize {
    if word.is_ascii() {
        word.len()
    } else {
        word.chars().count()
    }
}

/// The column where continuation lines start: the line's indent, plus a list marker
/// (`1. `, `- `, `* `) after it.
fn hanging_indent(line: &str) -> usize {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let marker = if digits > 0 && rest[digits..].starts_with(". ") {
        digits + 2
    } else if rest.starts_with("- ") || rest.starts_with("* ") {
        2
    } else {
        0
    };
    indent + marker
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_paragraphs_and_keeps_short_lines() {
        let text = "Short line.\n\nThe quick brown fox jumps over the lazy dog and keeps running far away.";
        assert_eq!(wrap(text, 30), "Short line.\n\nThe quick brown fox jumps over\nthe lazy dog and keeps running\nfar away.");
    }

    #[test]
    fn numbered_steps_hang_under_their_text() {
        let text = "  12. Select the cloud icon in the menu bar, then the gear.";
        assert_eq!(
            wrap(text, 30),
            "  12. Select the cloud icon in\n      the menu bar, then the\n      gear."
        );
    }

    /// The wrapper as first written (split on spaces, count characters), kept as the oracle
    /// for the byte-wise one.
    fn reference(text: &str, width: usize) -> String {
        let mut out = String::new();
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let line = line.trim_end();
            if line.chars().count() <= width {
                out.push_str(line);
                continue;
            }
            let hang = " ".repeat(hanging_indent(line));
            let mut col = 0;
            for (j, word) in line.split(' ').enumerate() {
                let len = word.chars().count();
                if j == 0 {
                    out.push_str(word);
                    col = len;
                } else if col > hang.len() && col + 1 + len > width {
                    while out.ends_with(' ') {
                        out.pop();
                    }
                    out.push('\n');
                    out.push_str(&hang);
                    out.push_str(word);
                    col = hang.len() + len;
                } else {
                    out.push(' ');
                    out.push_str(word);
                    col += 1 + len;
                }
            }
        }
        out
    }

    #[test]
    fn wraps_random_texts_like_the_reference() {
        use rand::prelude::*;
        let mut rng = StdRng::seed_from_u64(7);
        let pieces = [
            "a",
            "word",
            "  ",
            " ",
            "é",
            "ünïcödé",
            "1. ",
            "- ",
            "https://x.example/long/path",
            "\n",
            "\t",
            "\u{a0}",
        ];
        for _ in 0..3000 {
            let n = rng.random_range(0..60);
            let text: String = (0..n)
                .map(|_| *pieces.choose(&mut rng).unwrap())
                .collect::<Vec<_>>()
                .join(if rng.random_bool(0.7) { " " } else { "" });
            for width in [4, 12, 30, 76] {
                assert_eq!(
                    wrap(&text, width),
                    reference(&text, width),
                    "{text:?} at {width}"
                );
            }
        }
    }

    #[test]
    fn long_urls_stay_whole() {
        let url = "https://fabrikam-my.sharepoint.com/personal/a_very_long_name_fabrikam_com";
        let text = format!("Your OneDrive: {url} today");
        assert_eq!(wrap(&text, 30), format!("Your OneDrive:\n{url}\ntoday"));
        assert!(wrap("éééé éééé", 4).contains('\n'));
    }
}
