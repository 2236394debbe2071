//! The measuring side of `chanlab run`: what a cell is and how a worker
//! process measures it ([`cell`]), which cells a run holds ([`plan`]), what
//! they run on ([`implementations`]), and what is written ([`results`],
//! [`machine`]) and printed ([`summary`]).

pub mod cell;
pub mod implementations;
pub mod machine;
pub mod plan;
pub mod results;
pub mod summary;
