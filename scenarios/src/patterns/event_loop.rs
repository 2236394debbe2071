//! Event loop: one thread (or task) owns the state and serves events from several
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

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, Receiver, Sender, SyncFlavor,
};
use tokio::task::JoinSet;

use super::{busy, join_tasks, require, share};
use crate::coord::WaitGroup;
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
    let mut sources = WaitGroup::new();
    let mut event_loop = WaitGroup::new();
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
                if queries_after(seq) {
                    // A reply channel per query, so an event lost on the way
                    // shows as a closed channel rather than a wait forever.
                    let (reply, mut answer) =
                        F::channel::<u64>(Capacity::Bounded(1)).map_err(|err| err.to_string())?;
                    mailbox
                        .send(Event::Query { source, reply })
                        .map_err(|_| "the loop hung up early".to_string())?;
                    check_answer(source, seq, answer.recv().ok())?;
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
    let states = event_loop.join()?;
    finish(params, threads, answers, states)
}

/// Runs the loop as a task, with sources and a timer as tasks of their own.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let mut sources = JoinSet::new();
    let mut event_loop = JoinSet::new();
    let (mailbox, mut events) = F::channel::<Event<F::Sender<u64>>>(params.capacity)?;

    let work = params.work;
    event_loop.spawn(async move {
        let mut state = State::default();
        while let Ok(event) = events.recv().await {
            busy(work);
            let mut answer = None;
            state.apply(event, |reply, total| answer = Some((reply, total)));
            if let Some((reply, total)) = answer {
                // As on threads: an abandoned query is the source's affair.
                let _ = reply.send(total).await;
            }
        }
        state
    });

    for source in 0..params.producers {
        let mailbox = mailbox.clone();
        let adds = share(params.items, params.producers, source);
        sources.spawn(async move {
            for seq in 0..adds as u64 {
                mailbox
                    .send(Event::Add { source, seq })
                    .await
                    .map_err(|_| "the loop hung up early".to_string())?;
                if queries_after(seq) {
                    let (reply, mut answer) =
                        F::channel::<u64>(Capacity::Bounded(1)).map_err(|err| err.to_string())?;
                    mailbox
                        .send(Event::Query { source, reply })
                        .await
                        .map_err(|_| "the loop hung up early".to_string())?;
                    check_answer(source, seq, answer.recv().await.ok())?;
                }
            }
            Ok(())
        });
    }
    sources.spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        for n in 0..TICKS {
            interval.tick().await;
            if mailbox.send(Event::Tick(n)).await.is_err() {
                return Err("the loop hung up before the last tick".to_string());
            }
        }
        Ok(())
    });

    let answers = join_tasks(sources).await?;
    let states = join_tasks(event_loop).await?;
    let threads = answers.len() + states.len();
    finish(params, threads, answers, states)
}

/// Whether a source queries its total after its add number `seq`.
fn queries_after(seq: u64) -> bool {
    (seq + 1).is_multiple_of(QUERY_EVERY as u64)
}

/// A source's check of the answer to the query it sent after add `seq`:
/// the mailbox keeps each sender's order, so every one of its adds is in.
fn check_answer(source: usize, seq: u64, total: Option<u64>) -> Result<(), String> {
    match total {
        None => Err(format!("source {source}'s query was never answered")),
        Some(total) if total != seq + 1 => Err(format!(
            "source {source} queried after {} adds and was told {total}",
            seq + 1
        )),
        Some(_) => Ok(()),
    }
}

/// Collects the sources' verdicts and the loop's final state, then checks.
fn finish(
    params: &Params,
    threads: usize,
    answers: Vec<Result<(), String>>,
    mut states: Vec<State>,
) -> Result<Outcome, ScenarioError> {
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
