//! One file per subcommand, each with an `execute` that wires the modules together.

pub mod preview;
pub mod sample;
pub mod trust;
pub mod validate;
