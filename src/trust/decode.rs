//! Turns an evidence file's bytes into text the way Windows writes it: UTF-8 with or without a
//! byte order mark, or UTF-16 with a BOM (`Out-File` in Windows PowerShell 5.1 writes UTF-16 LE).

/// How the file was encoded, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

/// Why an evidence file is not text this tool reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("looks like UTF-16 without a byte order mark; save it as UTF-8, or with Out-File -Encoding unicode, which writes the mark")]
    Utf16WithoutBom,
    #[error("is not UTF-8 text (invalid byte at offset {0}); write it with the generated script, which saves UTF-8")]
    NotUtf8(usize),
    #[error("starts with a {0} byte order mark but is not valid {0} text (odd length or broken surrogate)")]
    BadUtf16(&'static str),
}

/// Decodes `bytes` to text, or says why it is not text this tool reads.
pub fn decode(bytes: &[u8]) -> Result<(String, TextEncoding), DecodeError> {
    let (text, encoding) = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (utf8(rest)?, TextEncoding::Utf8Bom),
        [0xFF, 0xFE, rest @ ..] => (utf16(encoding_rs::UTF_16LE, rest)?, TextEncoding::Utf16Le),
        [0xFE, 0xFF, rest @ ..] => (utf16(encoding_rs::UTF_16BE, rest)?, TextEncoding::Utf16Be),
        [first, 0, ..] if *first != 0 => return Err(DecodeError::Utf16WithoutBom),
        _ => (utf8(bytes)?, TextEncoding::Utf8),
    };
    Ok((text, encoding))
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|e| DecodeError::NotUtf8(e.utf8_error().valid_up_to()))
}

fn utf16(encoding: &'static encoding_rs::Encoding, bytes: &[u8]) -> Result<String, DecodeError> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or(DecodeError::BadUtf16(encoding.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    #[test]
    fn reads_utf8_with_and_without_bom_and_utf16le() {
        assert_eq!(
            decode(b"{\"a\": 1}").unwrap(),
            ("{\"a\": 1}".into(), TextEncoding::Utf8)
        );
        assert_eq!(
            decode(b"\xEF\xBB\xBF{}").unwrap(),
            ("{}".into(), TextEncoding::Utf8Bom)
        );
        assert_eq!(
            decode(&utf16le("{\"b\": \"\u{e9}\"}")).unwrap(),
            ("{\"b\": \"\u{e9}\"}".into(), TextEncoding::Utf16Le)
        );
        assert_eq!(
            decode(b"\xFE\xFF\x00{\x00}").unwrap(),
            ("{}".into(), TextEncoding::Utf16Be)
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(decode(b"{\"a\": \"\xFF\"}")
            .unwrap_err()
            .to_string()
            .contains("not UTF-8"));
        assert!(decode(b"\xFF\xFE{\x00}")
            .unwrap_err()
            .to_string()
            .contains("odd length"));
        assert!(decode(b"{\x00}\x00")
            .unwrap_err()
            .to_string()
            .contains("without a byte order mark"));
        assert_eq!(decode(b"").unwrap(), (String::new(), TextEncoding::Utf8));
    }
}
