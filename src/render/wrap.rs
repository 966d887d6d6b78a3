//! Wraps the plain-text part at 76 columns, so templates can write each paragraph on one line
//! whatever the length of the names filled in. Indented lines and numbered steps keep their
//! indent on the following lines; a word longer than the width (a URL) is never broken.
//!
//! Not `textwrap`: set up the same way (first fit, ASCII spaces, no hyphenation, the hanging
//! indent as `subsequent_indent`), it breaks right after a list marker or the indent when the
//! next word does not fit, leaving a step's `1.` alone on its line above its link, or an empty
//! line above an indented URL; here the first word always stays with its marker.
//! `first_word_stays_with_its_list_marker` pins that.

/// The widest line a mail reader shows without wrapping on its own.
pub const WIDTH: usize = 76;

/// Wraps every line of `text` longer than `width` characters.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.trim_end();
        if line.chars().count() <= width {
            out.push_str(line);
        } else {
            wrap_line(line, width, &mut out);
        }
    }
    out
}

/// Appends `line` broken at single spaces, the continuation lines indented by its hanging
/// indent. A run of spaces is kept as it is written, but where a line breaks.
fn wrap_line(line: &str, width: usize, out: &mut String) {
    let hang = hanging_indent(line);
    let mut col = 0;
    for (j, word) in line.split(' ').enumerate() {
        let len = word.chars().count();
        if j == 0 {
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

    #[test]
    fn first_word_stays_with_its_list_marker() {
        let url = "https://fabrikam-my.sharepoint.com/personal/a_very_long_name_fabrikam_com";
        assert_eq!(
            wrap(&format!("  1. {url} then sign in"), 30),
            format!("  1. {url}\n     then sign in")
        );
        assert_eq!(
            wrap(&format!("    {url} here"), 30),
            format!("    {url}\n    here")
        );
    }

    #[test]
    fn long_urls_stay_whole() {
        let url = "https://fabrikam-my.sharepoint.com/personal/a_very_long_name_fabrikam_com";
        let text = format!("Your OneDrive: {url} today");
        assert_eq!(wrap(&text, 30), format!("Your OneDrive:\n{url}\ntoday"));
        assert!(wrap("éééé éééé", 4).contains('\n'));
    }
}
