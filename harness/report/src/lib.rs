//! Everything that reads a results file and never runs a channel: the
//! versioned schema ([`schema`]), the statistics over repetitions
//! ([`stats`]), the comparison that gates CI ([`compare`]) and its
//! deterministic tier of instruction counts ([`instructions`]), the "which
//! library for which job" verdicts ([`recommend`]), and the outputs: the
//! terminal table ([`terminal`]), the Markdown and self-contained HTML
//! report ([`render`]) and the dashboard exports ([`export`]), and the
//! figures that show chanlab's load agrees with the field's own benchmark
//! ([`fidelity`]), and the host's placement of the cores over a run
//! ([`topology`]). Its errors
//! are [`ReportError`]s.

pub mod caveat;
pub mod compare;
mod error;
pub mod export;
pub mod fidelity;
pub mod format;
pub mod gate;
pub mod instructions;
pub mod metric;
pub mod recommend;
pub mod render;
pub mod ruling;
pub mod schema;
pub mod stats;
pub mod table;
pub mod terminal;
pub mod topology;

pub use error::{ReportError, Result};
