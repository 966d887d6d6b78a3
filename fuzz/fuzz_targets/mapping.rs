//! The identity mapping file (`inputs::mapping::read_from`) on arbitrary bytes.
//!
//! Beyond "no panic": the reader never fails on bytes in memory; every diagnostic points at a
//! line of the file; every accepted row passes the address checks; accepted rows are one-to-one;
//! a row with a field error is never accepted; a file without errors had every row accepted
//! (nobody skipped silently); bytes that are not UTF-8 in a file without a UTF-16 BOM are
//! warned about; a damaged UTF-16 or UTF-32 file (unpaired surrogate, odd length) is an error, never
//! read with replacement characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use t2t_notify::inputs::mapping::{self, Options, MappingRow};
use t2t_notify_fuzz::{
    check_diagnostics, check_group, check_user, decoded, field_error_lines, line_count,
    read_as_utf7, refused_as_damaged, Bom, OneToOne,
};

const NAME: &str = "map.csv";

fuzz_target!(|data: &[u8]| {
    let lines = line_count(data);
    let mut rows = Vec::new();
    let input = std::io::Cursor::new(data.to_vec());
    let (_, valid) = decoded(data);
    let unicode = Bom::of(data).is_utf16() || Bom::of(data).is_utf32();
    let summary = match mapping::read_from(input, NAME, &Options::default(), |r| rows.push(r)) {
        Ok(summary) => summary,
        Err(e) => {
            assert!(refused_as_damaged(data, &e.to_string()), "read failed: {e}");
            return;
        }
    };
    let diags = &summary.diagnostics;
    assert!(
        valid || !unicode || diags.has_errors(),
        "damaged UTF-16 or UTF-32 read without an error"
    );
    check_diagnostics(diags, &[(NAME, lines)]);

    let mut once = OneToOne::default();
    let (mut users, mut groups) = (0u64, 0u64);
    let bad_lines = field_error_lines(diags);
    for row in &rows {
        let line = match row {
            MappingRow::User(u) => {
                check_user(u, lines, None);
                once.insert(0, &u.source_upn, u.line);
                once.insert(1, &u.target_upn, u.line);
                users += 1;
                u.line
            }
            MappingRow::Group(g) => {
                check_group(g, lines);
                once.insert(2, &g.source_id, g.line);
                once.insert(3, &g.target_id, g.line);
                groups += 1;
                g.line
            }
        };
        assert!(
            !bad_lines.contains(&line),
            "row on line {line} accepted despite a field error"
        );
    }
    assert!(users <= summary.users && groups <= summary.groups);
    if !diags.has_errors() {
        assert_eq!(
            (users, groups),
            (summary.users, summary.groups),
            "rows skipped without an error"
        );
    }

    let utf16_refused = diags.errors().any(|d| d.message.contains("UTF-16"));
    let legacy = matches!(Bom::of(data), Bom::None | Bom::Utf8) && !read_as_utf7(data);
    if !valid && legacy && !utf16_refused {
        assert!(
            diags.warnings().any(|d| d.message.contains("not UTF-8")),
            "non-UTF-8 bytes read without a warning"
        );
    }
});
