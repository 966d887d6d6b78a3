//! The user directory CSV (`inputs::directory::read_from`) on arbitrary bytes.
//!
//! Beyond "no panic": the reader never fails on bytes in memory; every diagnostic points at a
//! line of the file; every entry kept has a UPN, is found by its own UPN, has a checked
//! OneDrive URL and language tag, and lies on a later line than the one before; UPNs are
//! unique case-insensitively; a damaged UTF-16 or UTF-32 file is an error, never read with replacement
//! characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use t2t_notify::inputs::directory;
use t2t_notify_fuzz::{
    check_diagnostics, check_directory, decoded, line_count, refused_as_damaged, Bom, OneToOne,
};

const NAME: &str = "directory.csv";

fuzz_target!(|data: &[u8]| {
    let lines = line_count(data);
    let input = std::io::Cursor::new(data.to_vec());
    let (_, valid) = decoded(data);
    let unicode = Bom::of(data).is_utf16() || Bom::of(data).is_utf32();
    let (dir, diags) = match directory::read_from(input, NAME) {
        Ok(read) => read,
        Err(e) => {
            assert!(refused_as_damaged(data, &e.to_string()), "read failed: {e}");
            return;
        }
    };
    assert!(
        valid || !unicode || diags.has_errors(),
        "damaged UTF-16 or UTF-32 read without an error"
    );
    check_diagnostics(&diags, &[(NAME, lines)]);
    check_directory(&dir, lines);
    let mut once = OneToOne::default();
    for e in &dir.entries {
        once.insert(0, &e.upn, e.line);
    }
});
