//! Entry point: parse the command line, run it, turn the outcome into an exit status.

/// Rendering allocates and frees many short strings per notice (template contexts, parts);
/// mimalloc serves them from per-thread pages, several times cheaper than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(t2t_notify::run::run(std::env::args_os()));
}
