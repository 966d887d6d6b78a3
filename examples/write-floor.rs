//! The benchmark's floor for `preview`: writes files of the same names and sizes as a preview
//! folder, in the same folders, with one thread per core and one folder per thread at a time
//! (as `preview` does), and renders nothing. What `preview` costs above this is rendering.
//!
//! ```text
//! write-floor list PREVIEW_DIR > manifest.tsv     # relative path<TAB>size, once
//! write-floor write manifest.tsv OUT_DIR          # the timed part
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("list") if args.len() == 3 => list(Path::new(&args[2])),
        Some("write") if args.len() == 4 => write(Path::new(&args[2]), Path::new(&args[3])),
        _ => {
            eprintln!("usage: write-floor list PREVIEW_DIR | write-floor write MANIFEST OUT_DIR");
            std::process::exit(2);
        }
    }
}

/// Prints every file under `dir` as `relative path<TAB>size`.
fn list(dir: &Path) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    let mut folders = vec![PathBuf::new()];
    while let Some(rel) = folders.pop() {
        for entry in fs::read_dir(dir.join(&rel))? {
            let entry = entry?;
            let path = rel.join(entry.file_name());
            let meta = entry.metadata()?;
            if meta.is_dir() {
                folders.push(path);
            } else {
                writeln!(out, "{}\t{}", path.display(), meta.len())?;
            }
        }
    }
    out.flush()
}

/// Writes the manifest's files under `out`, a folder per thread at a time.
fn write(manifest: &Path, out: &Path) -> io::Result<()> {
    let mut by_folder: BTreeMap<PathBuf, Vec<(PathBuf, usize)>> = BTreeMap::new();
    for line in io::BufReader::new(fs::File::open(manifest)?).lines() {
        let line = line?;
        let (path, size) = line.split_once('\t').expect("path<TAB>size");
        let path = PathBuf::from(path);
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let size = size.parse().expect("a size in bytes");
        by_folder.entry(folder).or_default().push((path, size));
    }
    let largest = by_folder.values().flatten().map(|f| f.1).max().unwrap_or(0);
    let bytes = vec![b'x'; largest];
    let folders: Vec<_> = by_folder.into_iter().collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (folders, bytes) = (&folders, &bytes);
                scope.spawn(move || -> io::Result<()> {
                    for (folder, files) in folders.iter().skip(t).step_by(threads) {
                        fs::create_dir_all(out.join(folder))?;
                        for (path, size) in files {
                            // Owner-only, as preview's files are, through the same call.
                            let mut options = fs::OpenOptions::new();
                            options.write(true).create_new(true);
                            t2t_notify::platform::open_private(&mut options, &out.join(path))?
                                .write_all(&bytes[..*size])?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("a writer thread does not panic"))
    })
}
