//! `validate` on the shipped sample data and on malformed fixture maps.

use crate::harness::*;

#[test]
fn sample_data_is_valid() {
    t2t()
        .arg("--config")
        .arg(sample_config())
        .args(["validate", "--mapping"])
        .arg(root().join("sample-data/identity-map.csv"))
        .arg("--directory")
        .arg(root().join("sample-data/directory.csv"))
        .run()
        .status(0)
        .contains("valid: 30 users, 4 groups, 0 errors, 0 warnings");
}
