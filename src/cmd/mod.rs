//! One file per subcommand, each with an `execute` that wires the modules together.

pub mod campaign;
pub mod completions;
pub mod inputs;
pub mod man;
pub mod preview;
pub mod report;
pub mod sample;
pub mod send;
pub mod serve;
pub mod sign_ins;
pub mod trust;
pub mod validate;
