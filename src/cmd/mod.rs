//! One file per subcommand, each with an `execute` that wires the modules together.

pub mod report;
pub mod sample;
pub mod validate;
