//! One module per outside format. Each parses into typed records and located diagnostics;
//! none sends, renders or decides who gets what.

pub mod address;
pub mod directory;
pub mod mapping;
pub mod move_state;
pub mod path;
pub mod schedule;
pub mod sign_ins;
pub mod sniff;
pub mod table;
pub mod text;
pub mod timestamp;
