//! R1–R7 against a sequential model: proptest generates random sequences of
//! operations (sends, receives, clones and drops of either half) on one
//! thread, runs them on the flavor and on a `VecDeque` model side by side,
//! and shrinks any disagreement to a minimal sequence.
//!
//! Operations that would block are skipped (a blocking `send` on a full
//! channel, a blocking `recv` on an empty one), so every step has exactly
//! one right answer.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use chanlab_contract::{
    Capacity, Receiver, RecvTimeoutError, Sender, SyncFlavor, TryRecvError, TrySendError,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

use crate::checks::{CheckOutcome, open};
use crate::{Rule, Settings, Violation};

/// One step; the number picks a live handle (modulo how many are alive).
#[derive(Debug, Clone, Copy)]
enum Op {
    TrySend(u8),
    Send(u8),
    TryRecv(u8),
    Recv(u8),
    RecvTimeout(u8),
    CloneSender(u8),
    DropSender(u8),
    CloneReceiver(u8),
    DropReceiver(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u8>().prop_map(Op::TrySend),
        2 => any::<u8>().prop_map(Op::Send),
        4 => any::<u8>().prop_map(Op::TryRecv),
        1 => any::<u8>().prop_map(Op::Recv),
        1 => any::<u8>().prop_map(Op::RecvTimeout),
        1 => any::<u8>().prop_map(Op::CloneSender),
        1 => any::<u8>().prop_map(Op::DropSender),
        1 => any::<u8>().prop_map(Op::CloneReceiver),
        1 => any::<u8>().prop_map(Op::DropReceiver),
    ]
}

/// The expected or observed result of one step, in one vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Sent,
    Got(u32),
    Full(u32),
    /// A send failed as disconnected, handing back this value (or none).
    Refused(Option<u32>),
    Empty,
    Timeout,
    Disconnected,
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The sequential model of a channel.
struct Model {
    capacity: Capacity,
    queue: VecDeque<u32>,
    senders: usize,
    receivers: usize,
}

impl Model {
    fn has_room(&self) -> bool {
        match self.capacity {
            Capacity::Unbounded => true,
            // No receiver is ever blocked in a sequential run.
            Capacity::Bounded(cap) => self.queue.len() < cap,
        }
    }

    fn try_send(&mut self, value: u32) -> Answer {
        if self.receivers == 0 {
            Answer::Refused(Some(value))
        } else if self.has_room() {
            self.queue.push_back(value);
            Answer::Sent
        } else {
            Answer::Full(value)
        }
    }

    fn try_recv(&mut self) -> Answer {
        match self.queue.pop_front() {
            Some(value) => Answer::Got(value),
            None if self.senders == 0 => Answer::Disconnected,
            None => Answer::Empty,
        }
    }
}

/// Runs the model check with `settings.model_cases` random sequences.
pub(crate) fn agrees_with_model<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    // Bounded(3) rather than 16: short sequences should reach "full".
    let capacities: Vec<Capacity> = [
        Capacity::RENDEZVOUS,
        Capacity::Bounded(1),
        Capacity::Bounded(3),
        Capacity::Unbounded,
    ]
    .into_iter()
    .filter(|&capacity| F::INFO.capabilities.supports(capacity))
    .collect();
    let strategy = (
        proptest::sample::select(capacities),
        proptest::collection::vec(op(), 1..48),
    );
    let mut runner = TestRunner::new(Config {
        cases: settings.model_cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |(capacity, ops)| {
        run::<F>(capacity, &ops).map_err(|violation| TestCaseError::fail(violation.to_string()))
    });
    match result {
        Ok(()) => Ok(CheckOutcome::Pass),
        // Replay the minimal case to recover the violation with its rule.
        Err(TestError::Fail(_, (capacity, ops))) => match run::<F>(capacity, &ops) {
            Err(violation) => Err(Violation::new(
                violation.rule,
                format!(
                    "{} (minimal sequence on {capacity}: {ops:?})",
                    violation.detail
                ),
            )),
            Ok(()) => Err(Violation::new(
                Rule::Liveness,
                format!(
                    "a sequence failed once and passed on replay (non-deterministic): {capacity}, {ops:?}"
                ),
            )),
        },
        Err(TestError::Abort(reason)) => Err(Violation::new(
            Rule::Liveness,
            format!("the model check aborted: {reason}"),
        )),
    }
}

/// Runs one sequence on a fresh channel and the model.
fn run<F: SyncFlavor>(capacity: Capacity, ops: &[Op]) -> Result<(), Violation> {
    let (tx, rx) = open::<F, u32>(capacity)?;
    let mut senders = vec![tx];
    let mut receivers = vec![rx];
    let mut model = Model {
        capacity,
        queue: VecDeque::new(),
        senders: 1,
        receivers: 1,
    };
    let mut next_value = 0u32;
    for (step, &op) in ops.iter().enumerate() {
        let mismatch = |expected: Answer, actual: Answer, rule: Rule| {
            Violation::new(
                rule,
                format!("step {step} {op:?}: the model says {expected}, the channel gave {actual}"),
            )
        };
        match op {
            Op::TrySend(i) | Op::Send(i) => {
                let Some(tx) = pick(&senders, i) else {
                    continue;
                };
                let blocking = matches!(op, Op::Send(_));
                if blocking && model.receivers > 0 && !model.has_room() {
                    continue;
                }
                let value = next_value;
                next_value += 1;
                let expected = model.try_send(value);
                let actual = if blocking {
                    match tx.send(value) {
                        Ok(()) => Answer::Sent,
                        Err(err) => Answer::Refused(err.into_inner()),
                    }
                } else {
                    match tx.try_send(value) {
                        Ok(()) => Answer::Sent,
                        Err(TrySendError::Full(v)) => Answer::Full(v),
                        Err(TrySendError::Disconnected(v)) => Answer::Refused(Some(v)),
                    }
                };
                if actual != expected {
                    let rule = match expected {
                        Answer::Refused(_) => Rule::ReceiversGone,
                        _ if matches!(actual, Answer::Refused(_)) => Rule::ReceiversGone,
                        _ if capacity == Capacity::RENDEZVOUS => Rule::Rendezvous,
                        _ => Rule::Capacity,
                    };
                    // A declared known failure is accepted as this step's
                    // outcome; the sequence goes on.
                    crate::known::tolerate(mismatch(expected, actual, rule))?;
                }
            }
            Op::TryRecv(i) | Op::Recv(i) | Op::RecvTimeout(i) => {
                let Some(rx) = pick_mut(&mut receivers, i) else {
                    continue;
                };
                if matches!(op, Op::Recv(_)) && model.queue.is_empty() && model.senders > 0 {
                    continue;
                }
                let queued = model.queue.clone();
                let mut expected = model.try_recv();
                let actual = match op {
                    Op::TryRecv(_) => match rx.try_recv() {
                        Ok(v) => Answer::Got(v),
                        Err(TryRecvError::Empty) => Answer::Empty,
                        Err(TryRecvError::Disconnected) => Answer::Disconnected,
                    },
                    Op::Recv(_) => rx.recv().map_or(Answer::Disconnected, Answer::Got),
                    _ => {
                        if expected == Answer::Empty {
                            expected = Answer::Timeout;
                        }
                        match rx.recv_timeout(Duration::from_millis(1)) {
                            Ok(v) => Answer::Got(v),
                            Err(RecvTimeoutError::Timeout) => Answer::Timeout,
                            Err(RecvTimeoutError::Disconnected) => Answer::Disconnected,
                        }
                    }
                };
                if actual != expected {
                    let rule = match (expected, actual) {
                        (Answer::Got(_), Answer::Got(v)) if queued.contains(&v) => Rule::Fifo,
                        (_, Answer::Disconnected) | (Answer::Disconnected, _) => Rule::SendersGone,
                        (_, Answer::Timeout) | (Answer::Timeout, _) => Rule::RecvTimeout,
                        _ => Rule::ExactlyOnce,
                    };
                    // A declared known failure is accepted as this step's
                    // outcome; the sequence goes on.
                    crate::known::tolerate(mismatch(expected, actual, rule))?;
                }
            }
            Op::CloneSender(i) => {
                if let Some(tx) = pick(&senders, i) {
                    let clone = tx.clone();
                    senders.push(clone);
                    model.senders += 1;
                }
            }
            Op::DropSender(i) => {
                if !senders.is_empty() {
                    senders.swap_remove(usize::from(i) % senders.len());
                    model.senders -= 1;
                }
            }
            Op::CloneReceiver(i) => {
                let Some(rx) = pick(&receivers, i) else {
                    continue;
                };
                match rx.try_clone() {
                    Some(clone) if F::INFO.capabilities.multi_consumer => {
                        receivers.push(clone);
                        model.receivers += 1;
                    }
                    None if !F::INFO.capabilities.multi_consumer => {}
                    cloned => {
                        return Err(Violation::new(
                            Rule::Capabilities,
                            format!(
                                "step {step}: try_clone gave {} with multi_consumer declared {}",
                                if cloned.is_some() {
                                    "a receiver"
                                } else {
                                    "None"
                                },
                                F::INFO.capabilities.multi_consumer
                            ),
                        ));
                    }
                }
            }
            Op::DropReceiver(i) => {
                if !receivers.is_empty() {
                    receivers.swap_remove(usize::from(i) % receivers.len());
                    model.receivers -= 1;
                    if model.receivers == 0 {
                        model.queue.clear();
                    }
                }
            }
        }
    }
    Ok(())
}

fn pick<T>(handles: &[T], index: u8) -> Option<&T> {
    (!handles.is_empty()).then(|| &handles[usize::from(index) % handles.len()])
}

fn pick_mut<T>(handles: &mut [T], index: u8) -> Option<&mut T> {
    let len = handles.len();
    (len > 0).then(|| &mut handles[usize::from(index) % len])
}
