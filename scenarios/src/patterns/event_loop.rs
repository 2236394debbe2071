//! Event loop: one thread owns the state and serves events from several
//! sources, one at a time, in the order each source sent them.
//!
//! Use it instead of a lock when state is touched from many places: the
//! sources send events to one mailbox and the loop applies them, so the
//! state needs no synchronization and every change is serialized. A query
//! carries its own reply channel. A timer is one more source. The loop ends
//! when every source has hung up.
//!
//! Sources: `producers` command sources, each sending its share of `items`
//! `Add` events and, after every [`QUERY_EVERY`] of them, a `Query` for its
//! own total with a reply channel; and a timer sending [`TICKS`] ticks.
//!
//! Params: `items`, `producers`, `capacity` of the mailbox, `work` per
//! event in the loop.
//!
//! Oracle: each source's events are applied in the order it sent them; a
//! query sees every `Add` its source sent before it (the mailbox keeps each
//! sender's order); ticks arrive in order; the final totals match what was
//! sent; and the loop and every source end.

use std::collections::HashMap;
use std::time::Duration;

use chanlab_contract::{Capacity, Receiver, Sender, SyncFlavor};

use super::{busy, require, share};
use crate::coord::Crew;
use crate::outcome::ensure;
use crate::{Outcome, Params, ScenarioError};

/// A source queries its total after this many adds.
pub const QUERY_EVERY: usize = 16;
/// Ticks the timer sends.
pub const TICKS: u64 = 10;
/// Time between ticks.
const TICK: Duration = Duration::from_micros(200);

/// What the loop serves.
enum Event<R> {
    /// Adds 1 to `source`'s total; `seq` numbers the source's adds.
    Add { source: usize, seq: u64 },
    /// Asks for `source`'s total, answered on `reply`.
    Query { source: usize, reply: R },
    /// The timer's `n`th tick.
    Tick(u64),
}

/// The state the loop owns.
#[derive(Default)]
struct State {
    totals: HashMap<usize, u64>,
    ticks: u64,
    /// The first out-of-order event, if any.
    disorder: Option<String>,
}

impl State {
    fn apply<R>(&mut self, event: Event<R>, answer: impl FnOnce(R, u64)) {
        match event {
            Event::Add { source, seq } => {
                let total = self.totals.entry(source).or_default();
                if seq != *total && self.disorder.is_none() {
                    self.disorder = Some(format!(
                        "source {source}: add {seq} applied after {total} adds"
                    ));
                }
                *total += 1;
            }
            Event::Query { source, reply } => {
                answer(reply, self.totals.get(&source).copied().unwrap_or(0));
            }
            Event::Tick(n) => {
                if n != self.ticks && self.disorder.is_none() {
                    self.disorder = Some(format!("tick {n} served after {} ticks", self.ticks));
                }
                self.ticks += 1;
            }
        }
    }
}

/// Runs the loop on a thread, with sources and a timer on their own.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let mut sources = Crew::new();
    let mut event_loop = Crew::new();
    let (mailbox, mut events) = F::channel::<Event<F::Sender<u64>>>(params.capacity)?;

    let work = params.work;
    event_loop.spawn(move || {
        let mut state = State::default();
        while let Ok(event) = events.recv() {
            busy(work);
            // A source that stopped waiting for its answer is its own
            // affair; the loop serves on.
            state.apply(event, |reply, total| {
                let _ = reply.send(total);
            });
        }
        state
    });

    for source in 0..params.producers {
        let mailbox = mailbox.clone();
        let adds = share(params.items, params.producers, source);
        sources.spawn(move || -> Result<(), String> {
            for seq in 0..adds as u64 {
                mailbox
                    .send(Event::Add { source, seq })
                    .map_err(|_| "the loop hung up early".to_string())?;
                if (seq + 1) % QUERY_EVERY as u64 == 0 {
                    // A reply channel per query, so an event lost on the way
                    // shows as a closed channel rather than a wait forever.
                    let (reply, mut answer) =
                        F::channel::<u64>(Capacity::Bounded(1)).map_err(|err| err.to_string())?;
                    mailbox
                        .send(Event::Query { source, reply })
                        .map_err(|_| "the loop hung up early".to_string())?;
                    let total = answer
                        .recv()
                        .map_err(|_| format!("source {source}'s query was never answered"))?;
                    if total != seq + 1 {
                        return Err(format!(
                            "source {source} queried after {} adds and was told {total}",
                            seq + 1
                        ));
                    }
                }
            }
            Ok(())
        });
    }
    sources.spawn(move || {
        for n in 0..TICKS {
            std::thread::sleep(TICK);
            if mailbox.send(Event::Tick(n)).is_err() {
                return Err("the loop hung up before the last tick".to_string());
            }
        }
        Ok(())
    });

    let threads = sources.started() + event_loop.started();
    let answers = sources.join()?;
    let mut states = event_loop.join()?;
    let state = states
        .pop()
        .ok_or_else(|| ScenarioError::Oracle("the event loop returned no state".into()))?;
    if let Some(failure) = answers.into_iter().find_map(Result::err) {
        return Err(ScenarioError::Oracle(failure));
    }
    check(params, &state)?;
    Ok(Outcome::new(params.items as u64, threads).with("ticks", state.ticks))
}

fn check(params: &Params, state: &State) -> Result<(), ScenarioError> {
    if let Some(disorder) = &state.disorder {
        return Err(ScenarioError::Oracle(disorder.clone()));
    }
    ensure(state.ticks == TICKS, || {
        format!("the loop served {} ticks of {TICKS}", state.ticks)
    })?;
    for source in 0..params.producers {
        let sent = share(params.items, params.producers, source) as u64;
        let applied = state.totals.get(&source).copied().unwrap_or(0);
        ensure(applied == sent, || {
            format!("source {source} sent {sent} adds and the loop applied {applied}")
        })?;
    }
    Ok(())
}
