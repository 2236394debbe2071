//! The measuring side of `chanlab run`: a run in progress ([`session`]),
//! which cells it holds ([`plan`]), how many items a run carries
//! ([`sizing`]), what a worker process does with a cell ([`cell`]), what
//! the two say to each other ([`protocol`]) and how the parent asks
//! ([`worker`]), where a worker's measured threads run and what disturbed
//! them ([`placement`]), instructions per operation under valgrind
//! ([`instructions`]), the Go reference's worker ([`go`]), and where and
//! with what it ran ([`provenance`]).
//! The results schema and everything printed from it live in
//! `chanlab-report`.

pub mod cell;
pub mod go;
pub mod instructions;
pub mod lockfile;
pub mod measure;
pub mod placement;
pub mod plan;
pub mod protocol;
pub mod provenance;
pub mod session;
pub mod sizing;
pub mod verdicts;
pub mod worker;
