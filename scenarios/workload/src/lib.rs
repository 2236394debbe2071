//! What a cell runs, as plain data: a [`Pattern`] with its [`Params`], or a
//! channel [`LoadSpec`] and its [`Measure`], on a tokio [`Runtime`] or a
//! [`Primitive`], or an [`Operation`] path whose instructions are counted.
//! Nothing here runs anything: `chanlab-scenarios` runs these workloads,
//! and the results schema (`chanlab-report`) records them, so reading a
//! results file builds no channel library and no runtime.
//!
//! Each workload checks its own parameters ([`Params::validate`],
//! [`LoadSpec::check_params`]) and says what is wrong as a [`ParamError`]:
//! which field, which value, what it must be.

mod error;
mod load;
mod operation;
mod params;
mod pattern;
mod primitive;
mod rate;
mod runtime;

pub use chanlab_contract::Capacity;
pub use error::ParamError;
pub use load::{IDLE_GAP, LoadSpec, MESSAGE_SIZES, MOST_IDLE_ITEMS, Measure, TIMED_MESSAGE_BYTES};
pub use operation::Operation;
pub use params::{
    MAX_CAPACITY, MAX_ITEMS, MAX_PAYLOAD, MAX_THREADS, MAX_WORK, Params, capacity_within,
    count_within, rate_error, share,
};
pub use pattern::Pattern;
pub use primitive::{Primitive, World};
pub use rate::{InvalidRate, MAX_INTERVAL, interval_of};

/// The fastest rate a workload may ask for, in messages (or permits) per
/// second: a billion, beyond what any channel here moves, so a rate past
/// it is a typo, not a load.
pub const MOST_RATE: f64 = 1e9;
pub use runtime::Runtime;
