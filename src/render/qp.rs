//! Quoted-printable encoding of a message part (RFC 2045, section 6.7), in one pass that copies
//! runs of plain ASCII whole. Line breaks (`\n` or `\r\n`) become CRLF; `=`, every byte outside
//! printable ASCII and a space or tab at the end of a line are encoded; lines are cut with a
//! soft break (`=` CRLF) so none is longer than 76 characters. Because every `=` is encoded, no
//! line of an encoded part can spell a MIME boundary of the `=_t2t_` family.

/// Longest run of characters on one encoded line before the soft break's `=`.
const LINE: usize = 75;

/// Bytes that stand for themselves: printable ASCII but `=`, and space and tab (which are
/// encoded instead at the end of a line).
const PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 32;
    while b < 127 {
        table[b] = b != b'=' as usize;
        b += 1;
    }
    table[b'\t' as usize] = true;
    table
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The quoted-printable form of `text`, with CRLF line breaks.
pub fn encode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16 + 8);
    let mut column = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(width) = line_break(bytes, i) {
            out.extend_from_slice(b"\r\n");
            column = 0;
            i += width;
            continue;
        }
        let room = LINE - column;
        let run = plain_run(bytes, i, room);
        if run > 0 {
            // A space or tab that ends a line would be dropped by the reader: encode it.
            let ends_line = i + run == bytes.len() || line_break(bytes, i + run).is_some();
            let last = bytes[i + run - 1];
            let keep = if ends_line && (last == b' ' || last == b'\t') {
                run - 1
            } else {
                run
            };
            out.extend_from_slice(&bytes[i..i + keep]);
            column += keep;
            i += keep;
            if keep == run {
                if run == room && i < bytes.len() && line_break(bytes, i).is_none() {
                    soft_break(&mut out, &mut column);
                }
                continue;
            }
        }
        if column + 3 > LINE {
            soft_break(&mut out, &mut column);
        }
        escape(&mut out, bytes[i]);
        column += 3;
        i += 1;
    }
    out
}

/// The length of the line break at `i` (`\n` or `\r\n`), if one starts there.
fn line_break(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes[i] {
        b'\n' => Some(1),
        b'\r' if bytes.get(i + 1) == Some(&b'\n') => Some(2),
        _ => None,
    }
}

/// How many bytes from `i` on (at most `room`) stand for themselves: eight at a time while
/// none of them needs a look ([`needs_a_look`]), then one at a time from the first that does.
fn plain_run(bytes: &[u8], i: usize, room: usize) -> usize {
    let end = i + room.min(bytes.len() - i);
    let mut j = i;
    while j + 8 <= end {
        let word = u64::from_le_bytes(bytes[j..j + 8].try_into().expect("eight bytes"));
        let flagged = needs_a_look(word);
        if flagged != 0 {
            j += (flagged.trailing_zeros() / 8) as usize;
            break;
        }
        j += 8;
    }
    j + bytes[j..end]
        .iter()
        .position(|&b| !PLAIN[usize::from(b)])
        .unwrap_or(end - j)
        - i
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` (little-endian) that may not stand for itself: outside
/// ASCII, below space (a tab among them, which [`PLAIN`] then lets through), `=` or DEL. Only
/// the lowest flagged byte is exact (a borrow can flag bytes above it), which is the one
/// [`plain_run`] uses.
fn needs_a_look(word: u64) -> u64 {
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let equals = zero_byte(word ^ (ONES * u64::from(b'=')));
    let delete = zero_byte(word ^ (ONES * 0x7F));
    ((word | below_space) & HIGH) | equals | delete
}

/// The high bit of each zero byte of `x` (exact for the lowest one).
fn zero_byte(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

fn soft_break(out: &mut Vec<u8>, column: &mut usize) {
    out.extend_from_slice(b"=\r\n");
    *column = 0;
}

fn escape(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(&[b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(encoded: &[u8]) -> String {
        let bytes = quoted_printable::decode(encoded, quoted_printable::ParseMode::Strict)
            .expect("valid quoted-printable");
        String::from_utf8(bytes).expect("UTF-8")
    }

    fn check(text: &str) {
        let encoded = encode(text);
        let lines: Vec<&[u8]> = encoded.split(|&b| b == b'\n').collect();
        for line in &lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            assert!(
                line.len() <= 76,
                "line too long: {:?}",
                String::from_utf8_lossy(line)
            );
            assert!(!line.ends_with(b" ") && !line.ends_with(b"\t"), "{line:?}");
            assert!(line.iter().all(|&b| (32..127).contains(&b) || b == b'\t'));
            assert!(!line.contains(&b'\r'), "bare CR in {line:?}");
        }
        let expected = text.replace("\r\n", "\n").replace('\n', "\r\n");
        assert_eq!(decode(&encoded), expected, "round trip of {text:?}");
    }

    #[test]
    fn plain_ascii_is_copied_and_line_breaks_become_crlf() {
        assert_eq!(encode("Hello,\nworld\r\n"), b"Hello,\r\nworld\r\n");
    }

    #[test]
    fn equals_non_ascii_and_trailing_blanks_are_encoded() {
        assert_eq!(encode("a=b"), b"a=3Db");
        assert_eq!(encode("Zo\u{eb} "), b"Zo=C3=AB=20");
        assert_eq!(encode("tab\t\nx"), b"tab=09\r\nx");
        assert_eq!(encode("lone\rcr"), b"lone=0Dcr");
    }

    #[test]
    fn long_lines_get_soft_breaks_that_never_split_an_escape() {
        let long = "x".repeat(200);
        let encoded = encode(&long);
        assert_eq!(
            &encoded[..78],
            format!("{}=\r\n", "x".repeat(75)).as_bytes()
        );
        check(&long);
        check(&"é".repeat(100));
        check(&format!("{}é", "y".repeat(74)));
        check(&format!("{} \n", "z".repeat(75)));
        check(&format!("{} ", "z".repeat(74)));
        check(&format!("{}=", "w".repeat(73)));
    }

    #[test]
    fn round_trips_awkward_text() {
        for text in [
            "",
            " ",
            "\n",
            "\r\n\r\n",
            " \n \n",
            "--=_t2t_abc--",
            "<p style=\"margin:0\">Grüße, Zoë</p>\n",
            "end with space ",
            "a\u{202E}b\u{1F600}c",
        ] {
            check(text);
        }
    }

    #[test]
    fn plain_runs_are_what_a_byte_by_byte_look_finds() {
        let scalar = |bytes: &[u8], i: usize, room: usize| {
            bytes[i..]
                .iter()
                .take(room)
                .position(|&b| !PLAIN[usize::from(b)])
                .unwrap_or_else(|| room.min(bytes.len() - i))
        };
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let len = (state % 40) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    // Mostly plain text, now and then any byte at all.
                    if state.is_multiple_of(5) {
                        (state >> 8) as u8
                    } else {
                        b"abc XYZ.,;:/-_09"[(state >> 8) as usize % 16]
                    }
                })
                .collect();
            for i in 0..len {
                for room in [1, 7, 8, 9, 16, 75] {
                    assert_eq!(
                        plain_run(&bytes, i, room),
                        scalar(&bytes, i, room),
                        "{bytes:?} from {i} room {room}"
                    );
                }
            }
        }
    }

    #[test]
    fn round_trips_many_generated_texts() {
        let alphabet = [
            "a",
            " ",
            "\t",
            "=",
            "\n",
            "\r\n",
            "é",
            "\u{1F600}",
            ".",
            "x".repeat(40).leak(),
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(state % 60) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            check(&text);
        }
    }
}
