//! In-process micro-benchmarks of the hot paths: reading identity-map rows, rendering one
//! notice (templates + MIME), and the two parts of a render that profiles show high: building
//! the MIME message (quoted-printable) and the link check. Run with `cargo bench`.

use std::io::Write;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use t2t_notify::config::Config;
use t2t_notify::inputs::mapping;
use t2t_notify::plan::{self, Sources};
use t2t_notify::render::{links, message, Renderer};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sample_config() -> Config {
    Config::load(&root().join("sample-data/t2t-notify.toml")).expect("sample config")
}

/// A 10,000-row identity map written once to a temp file.
fn ten_thousand_rows(dir: &Path) -> PathBuf {
    let path = dir.join("map.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for i in 0..10_000 {
        write!(
            f,
            "User,6a0e3f52-9d4b-4c8e-8f2a-1b7c5d3e9f01,user{i}@contoso.com,user{i}@fabrikam.com,user{i}@fabrikam.com,RegularUser\r\n"
        )
        .unwrap();
    }
    f.flush().unwrap();
    path
}

fn parse_rows(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = ten_thousand_rows(dir.path());
    let options = mapping::Options::default();
    let mut group = c.benchmark_group("mapping");
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("read 10k rows", |b| {
        b.iter(|| {
            let mut n = 0u64;
            mapping::read(&path, &options, |_| n += 1).unwrap();
            n
        })
    });
    group.finish();
}

fn render_one(c: &mut Criterion) {
    let config = sample_config();
    let renderer = Renderer::new(&config).unwrap();
    let (map, directory) = (
        root().join("sample-data/identity-map.csv"),
        root().join("sample-data/directory.csv"),
    );
    let sources = Sources {
        directory: Some(&directory),
        ..Sources::new(&map)
    };
    let plan = plan::load(Some(&config), sources, true).unwrap();
    let member = &plan.recipients[0];
    let guest = plan.recipients.iter().find(|r| r.guest).unwrap();
    let mut group = c.benchmark_group("render");
    group.bench_function("member notice (templates + MIME)", |b| {
        b.iter(|| renderer.render(member, "post-migration", None).unwrap())
    });
    group.bench_function("guest notice (templates + MIME)", |b| {
        b.iter(|| renderer.render(guest, "post-migration", None).unwrap())
    });
    group.finish();
}

fn mime_and_links(c: &mut Criterion) {
    let config = sample_config();
    let renderer = Renderer::new(&config).unwrap();
    let map = root().join("sample-data/identity-map.csv");
    let plan = plan::load(Some(&config), Sources::new(&map), true).unwrap();
    let notice = renderer
        .render(&plan.recipients[0], "post-migration", None)
        .unwrap();
    let from: lettre::message::Mailbox = config.message.from.parse().unwrap();
    let to: lettre::message::Mailbox = notice.envelope.to[0].parse().unwrap();
    let mut group = c.benchmark_group("render parts");
    group.bench_function("MIME message (lettre, quoted-printable)", |b| {
        b.iter(|| {
            message::build(&message::Parts {
                from: &from,
                reply_to: None,
                to: vec![to.clone()],
                subject: &notice.subject,
                message_id: &notice.message_id,
                date: std::time::SystemTime::now(),
                text: &notice.text,
                html: &notice.html,
                content_language: &notice.locale,
            })
            .unwrap()
        })
    });
    group.bench_function("link check (text and HTML)", |b| {
        b.iter(|| {
            (
                links::urls_in_text(&notice.text),
                links::urls_in_html(&notice.html),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, parse_rows, render_one, mime_and_links);
criterion_main!(benches);
