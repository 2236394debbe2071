//! Event loop: one thread (or task) owns the state and serves events from several
//! sources, one at a time, in the order each source sent them.
//!
//! Use it instead of a lock when state is touched from many places: the
//! sources send events to one mailbox and the loop applies them, so the
//! state needs no synchronization and every change is serialized. A query
//! carries its own reply channel.
//!
//! As Go writes it, the loop selects over its mailbox, a ticker's channel
//! and a quit signal (a channel closed, never sent on, once the sources are
//! done), on threads through the library's own select and as a task
//! through `tokio::select!` where the flavor's receive is cancel-safe; the
//! three channels carry one message type, the loop's `Event`, which the
//! contract's select needs. A channel that hangs up leaves the select; on
//! quit the loop applies what is still buffered and returns. A flavor with
//! neither select keeps one mailbox that the timer shares, and a loop that
//! ends when every source has hung up; its results say so
//! (`native_select` = 0).
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
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, Receiver, SelectWait, Selected, Sender,
    SyncFlavor,
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

/// The loop's three waits, where the library has a select.
struct Inboxes<R> {
    events: R,
    ticks: R,
    /// Never sent on: closed when the sources are done.
    quit: R,
}

/// Runs the loop on a thread, with sources and a timer on their own.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let selects = F::INFO.capabilities.select;
    let mut sources = WaitGroup::new();
    let mut event_loop = WaitGroup::new();
    let (mailbox, events) = F::channel::<Event<F::Sender<u64>>>(params.capacity)?;
    // With a select, the timer and the quit signal have channels of their
    // own; without one, the timer shares the mailbox and the loop ends when
    // every source hangs up.
    let (ticker, quit) = if selects {
        let (ticker, ticks) = F::channel(params.capacity)?;
        let (quit, quitting) = F::channel(Capacity::Bounded(1))?;
        let inboxes = Inboxes {
            events,
            ticks,
            quit: quitting,
        };
        let work = params.work;
        event_loop.spawn(move || serve_selecting::<F>(inboxes, work));
        (ticker, Some(quit))
    } else {
        let work = params.work;
        event_loop.spawn(move || serve_mailbox::<F>(events, work));
        (mailbox.clone(), None)
    };

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
            if ticker.send(Event::Tick(n)).is_err() {
                return Err("the loop hung up before the last tick".to_string());
            }
        }
        Ok(())
    });
    // The loop quits once every source is done: by the quit signal where
    // it selects, by every sender hanging up where it does not.
    let threads = sources.started() + event_loop.started();
    let answers = sources.join();
    drop(quit);
    drop(mailbox);
    let answers = answers?;
    let states = event_loop.join()?;
    finish(params, threads, selects, answers, states)
}

/// Serves the mailbox alone until every sender hangs up: the form for a
/// flavor with no select.
fn serve_mailbox<F: SyncFlavor>(
    mut events: F::Receiver<Event<F::Sender<u64>>>,
    work: Duration,
) -> State {
    let mut state = State::default();
    while let Ok(event) = events.recv() {
        busy(work);
        // A source that stopped waiting for its answer is its own affair;
        // the loop serves on.
        state.apply(event, |reply, total| {
            let _ = reply.send(total);
        });
    }
    state
}

/// Go's event loop: `select` over the mailbox, the ticker and the quit
/// signal, through the library's select. A channel that hangs up leaves
/// the select (Go sets it to nil); on quit, the loop applies what is still
/// buffered and returns.
fn serve_selecting<F: SyncFlavor>(
    inboxes: Inboxes<F::Receiver<Event<F::Sender<u64>>>>,
    work: Duration,
) -> State {
    #[derive(Clone, Copy, PartialEq)]
    enum Inbox {
        Events,
        Ticks,
        Quit,
    }
    let mut state = State::default();
    let answer = |reply: F::Sender<u64>, total| {
        let _ = reply.send(total);
    };
    let mut waits = vec![inboxes.events, inboxes.ticks, inboxes.quit];
    let mut names = vec![Inbox::Events, Inbox::Ticks, Inbox::Quit];
    loop {
        match F::select(&mut waits, SelectWait::Forever) {
            Ok(Selected {
                message: Ok(event), ..
            }) => {
                busy(work);
                state.apply(event, answer);
            }
            Ok(Selected { index, .. }) if names[index] == Inbox::Quit => {
                for mut inbox in waits {
                    while let Ok(event) = inbox.try_recv() {
                        busy(work);
                        state.apply(event, answer);
                    }
                }
                return state;
            }
            Ok(Selected { index, .. }) => {
                waits.remove(index);
                names.remove(index);
            }
            Err(err) => {
                state
                    .disorder
                    .get_or_insert(format!("the loop's select failed: {err}"));
                return state;
            }
        }
    }
}

/// Runs the loop as a task, with sources and a timer as tasks of their own.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let selects = F::INFO.capabilities.cancel_safe_recv;
    let mut sources = JoinSet::new();
    let mut event_loop = JoinSet::new();
    let (mailbox, events) = F::channel::<Event<F::Sender<u64>>>(params.capacity)?;
    let work = params.work;
    let (ticker, quit) = if selects {
        let (ticker, ticks) = F::channel(params.capacity)?;
        let (quit, quitting) = F::channel(Capacity::Bounded(1))?;
        let inboxes = Inboxes {
            events,
            ticks,
            quit: quitting,
        };
        event_loop.spawn(serve_selecting_async::<F>(inboxes, work));
        (ticker, Some(quit))
    } else {
        event_loop.spawn(serve_mailbox_async::<F>(events, work));
        (mailbox.clone(), None)
    };

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
            if ticker.send(Event::Tick(n)).await.is_err() {
                return Err("the loop hung up before the last tick".to_string());
            }
        }
        Ok(())
    });

    let answers = join_tasks(sources).await;
    drop(quit);
    drop(mailbox);
    let answers = answers?;
    let states = join_tasks(event_loop).await?;
    let threads = answers.len() + states.len();
    finish(params, threads, selects, answers, states)
}

/// [`serve_mailbox`] as a task.
async fn serve_mailbox_async<F: AsyncFlavor>(
    mut events: F::Receiver<Event<F::Sender<u64>>>,
    work: Duration,
) -> State {
    let mut state = State::default();
    while let Ok(event) = events.recv().await {
        busy(work);
        answer_async(&mut state, event).await;
    }
    state
}

/// Go's event loop as a task: `tokio::select!` over the mailbox, the ticker
/// and the quit signal, on a flavor whose receive is cancel-safe (the
/// branches that lose are dropped). A channel that hangs up is disabled, as
/// Go sets it to nil; on quit, the loop applies what is still buffered.
async fn serve_selecting_async<F: AsyncFlavor>(
    inboxes: Inboxes<F::Receiver<Event<F::Sender<u64>>>>,
    work: Duration,
) -> State {
    let Inboxes {
        mut events,
        mut ticks,
        mut quit,
    } = inboxes;
    let (mut events_open, mut ticks_open) = (true, true);
    let mut state = State::default();
    loop {
        let event = tokio::select! {
            event = events.recv(), if events_open => event.map_err(|_| events_open = false).ok(),
            tick = ticks.recv(), if ticks_open => tick.map_err(|_| ticks_open = false).ok(),
            _ = quit.recv() => break,
        };
        if let Some(event) = event {
            busy(work);
            answer_async(&mut state, event).await;
        }
    }
    for inbox in [&mut events, &mut ticks] {
        while let Ok(event) = inbox.try_recv() {
            busy(work);
            answer_async(&mut state, event).await;
        }
    }
    state
}

/// Applies `event`, sending a query's answer as a task.
async fn answer_async<S: AsyncSender<u64>>(state: &mut State, event: Event<S>) {
    let mut answer = None;
    state.apply(event, |reply, total| answer = Some((reply, total)));
    if let Some((reply, total)) = answer {
        // As on threads: an abandoned query is the source's affair.
        let _ = reply.send(total).await;
    }
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
    native_select: bool,
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
    Ok(Outcome::new(params.items as u64, threads)
        .with("ticks", state.ticks)
        .with("native_select", u64::from(native_select)))
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
