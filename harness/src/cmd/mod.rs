//! One module per subcommand.

pub mod conformance;
pub mod list;
pub mod overhead;
pub mod run;
