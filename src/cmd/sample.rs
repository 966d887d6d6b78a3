//! `t2t-notify sample`: writes a synthetic but realistic identity map and directory of any
//! size (guests, non-ASCII names, several languages, groups) for tests and benchmarks.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

use crate::cli::SampleArgs;
use crate::exit::Outcome;
use crate::output::outln;

/// The source tenant ID the sample files and `sample-data/t2t-notify.toml` share.
pub const SOURCE_TENANT: &str = "6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01";

const GIVEN: &[(&str, &str)] = &[
    ("Ana", "ana"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("Søren", "soren"),
    ("Łukasz", "lukasz"),
    ("Jürgen", "jurgen"),
    ("Ólafur", "olafur"),
    ("Chloé", "chloe"),
    ("Mia", "mia"),
    ("Noah", "noah"),
    ("Aiko", "aiko"),
    ("Priya", "priya"),
    ("Liam", "liam"),
    ("Émilie", "emilie"),
    ("Björn", "bjorn"),
    ("Siobhán", "siobhan"),
    ("Mateus", "mateus"),
    ("Ingrid", "ingrid"),
    ("Omar", "omar"),
    ("Yuki", "yuki"),
];
const FAMILY: &[(&str, &str)] = &[
    ("Martínez", "martinez"),
    ("Müller", "muller"),
    ("O'Brien", "obrien"),
    ("Nguyễn", "nguyen"),
    ("Kowalski", "kowalski"),
    ("Ødegaard", "odegaard"),
    ("Smith", "smith"),
    ("Dubois", "dubois"),
    ("Rossi", "rossi"),
    ("Sato", "sato"),
    ("Andersson", "andersson"),
    ("Fernández", "fernandez"),
    ("Weiß", "weiss"),
    ("Kumar", "kumar"),
    ("García", "garcia"),
    ("Novák", "novak"),
];
const LANGUAGES: &[&str] = &["en-US", "de-DE", "de-AT", "en-GB", "fr-FR", "de-CH", ""];

pub fn execute(args: &SampleArgs) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    write_files(&args.out, args.users, args.groups)?;
    outln!(
        "wrote {} users and {} groups to {}",
        args.users,
        args.groups,
        args.out.display()
    );
    Ok(Outcome::Success)
}

/// One synthetic person.
struct Person {
    display: String,
    given: &'static str,
    source_upn: String,
    target_upn: String,
    guest: bool,
    language: &'static str,
}

fn person(i: u64) -> Person {
    let (given, g_ascii) = GIVEN[(i % GIVEN.len() as u64) as usize];
    let (family, f_ascii) =
        FAMILY[((i * 7 + i / GIVEN.len() as u64) % FAMILY.len() as u64) as usize];
    let guest = i % 10 == 9;
    let source_upn = if guest {
        format!("{g_ascii}.{f_ascii}{i}_partner.example#EXT#@contoso.onmicrosoft.com")
    } else {
        format!("{g_ascii}.{f_ascii}{i}@contoso.com")
    };
    Person {
        display: format!("{given} {family}"),
        given,
        source_upn,
        target_upn: format!("{g_ascii}.{f_ascii}{i}@fabrikam.com"),
        guest,
        language: LANGUAGES[(i % LANGUAGES.len() as u64) as usize],
    }
}

/// Writes `identity-map.csv` and `directory.csv` into `dir`.
pub fn write_files(dir: &Path, users: u64, groups: u64) -> anyhow::Result<()> {
    let mut map = BufWriter::with_capacity(1 << 20, File::create(dir.join("identity-map.csv"))?);
    let mut directory = BufWriter::with_capacity(1 << 20, File::create(dir.join("directory.csv"))?);
    writeln!(
        directory,
        "UserPrincipalName,DisplayName,GivenName,PreferredLanguage,Department"
    )?;
    for i in 0..users {
        let p = person(i);
        let kind = if p.guest { "GuestUser" } else { "RegularUser" };
        write!(
            map,
            "User,{SOURCE_TENANT},{},{},{},{kind}\r\n",
            p.source_upn, p.target_upn, p.target_upn
        )?;
        let display = p.display.replace('"', "\"\"");
        writeln!(
            directory,
            "{},\"{display}\",\"{}\",{},{}",
            p.target_upn,
            p.given,
            p.language,
            ["Sales", "Finance", "Engineering", "HR"][(i % 4) as usize]
        )?;
    }
    for g in 0..groups {
        write!(
            map,
            "Group,{SOURCE_TENANT},{},{},{},{}\r\n",
            guid(1, g),
            guid(2, g),
            guid(2, g),
            ["RegularGroup", "O365Group"][(g % 2) as usize]
        )?;
    }
    map.flush()?;
    directory.flush()?;
    Ok(())
}

fn guid(prefix: u64, n: u64) -> String {
    format!("{prefix:08x}-0000-4000-8000-{n:012x}")
}
