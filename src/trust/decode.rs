//! Turns an evidence file's bytes into text the way Windows writes it: UTF-8 with or without a
//! byte order mark, or UTF-16 with a BOM (`Out-File` in Windows PowerShell 5.1 writes UTF-16 LE).

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
pub fn decode(bytes: &[u8]) -> Result<String, DecodeError> {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => utf8(rest),
        [0xFF, 0xFE, rest @ ..] => utf16(encoding_rs::UTF_16LE, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(encoding_rs::UTF_16BE, rest),
        [first, 0, ..] if *first != 0 => Err(DecodeError::Utf16WithoutBom),
        _ => utf8(bytes),
    }
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
        assert_eq!(decode(b"{\"a\": 1}").unwrap(), "{\"a\": 1}");
        assert_eq!(decode(b"\xEF\xBB\xBF{}").unwrap(), "{}");
        let utf16 = decode(&utf16le("{\"b\": \"\u{e9}\"}")).unwrap();
        assert_eq!(utf16, "{\"b\": \"\u{e9}\"}");
        assert_eq!(decode(b"\xFE\xFF\x00{\x00}").unwrap(), "{}");
        assert_eq!(decode(b"").unwrap(), "");
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let cases: [(&[u8], &str); 3] = [
            (b"{\"a\": \"\xFF\"}", "not UTF-8"),
            (b"\xFF\xFE{\x00}", "odd length"),
            (b"{\x00}\x00", "without a byte order mark"),
        ];
        for (bytes, why) in cases {
            let err = decode(bytes).unwrap_err().to_string();
            assert!(err.contains(why), "{bytes:?}: {err}");
        }
    }
}
