//! The measuring side of `chanlab run`: what a worker process does with a
//! cell ([`cell`]), which cells a run holds ([`plan`]), what they run on
//! ([`implementations`], with the Go reference in [`go`]), and where and
//! with what it ran ([`provenance`]).
//! The results schema and everything printed from it live in
//! `chanlab-report`.

pub mod cell;
pub mod go;
pub mod implementations;
pub mod plan;
pub mod provenance;
