//! Reports: pure renderers from in-memory results to bytes, and the one atomic writer.

pub mod font;
pub mod write;
