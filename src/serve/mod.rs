//! `t2t-notify serve`: the notice service that runs for the whole migration.

pub mod inbox;
