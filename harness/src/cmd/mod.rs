//! One module per subcommand.

pub mod conformance;
pub mod list;
pub mod run;
