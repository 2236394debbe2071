//! One module per subcommand.

pub mod ab;
pub mod compare;
pub mod conformance;
pub mod export;
pub mod list;
pub mod overhead;
pub mod report;
pub mod run;
