//! Wake-ups: every blocked party wakes when the other side leaves (R6, R7),
//! and each single send or receive wakes the one party it unblocks (R12).
//!
//! Most blocking checks end with a disconnection, which wakes a stuck
//! thread and so hides a lost notification. The ping-pong checks here have
//! no such rescue: each round waits for exactly one event, and the next
//! round starts only once it has been seen, over a std channel that is not
//! under test, so a lost wake-up stalls the round and is named.

use std::sync::mpsc;
use std::time::Duration;

use chanlab_contract::{
    Capacity, Receiver, RecvError, RecvTimeoutError, Sender, SyncFlavor, TryRecvError, TrySendError,
};

use super::{Budget, CheckOutcome, Pending, capacities, fill, let_settle, open, stall_limit};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// How many parties block at once in the disconnection checks.
const BLOCKED: usize = 3;

/// A timeout no check waits out: a `recv_timeout` given it can only be
/// ended by a message or a disconnection.
const HOUR: Duration = Duration::from_secs(3600);

/// How a blocked receiver waits.
#[derive(Clone, Copy, Debug)]
enum Wait {
    Recv,
    RecvTimeout,
}

impl Wait {
    fn call<T, R: Receiver<T>>(self, rx: &mut R) -> Result<T, RecvTimeoutError> {
        match self {
            Wait::Recv => rx.recv().map_err(RecvTimeoutError::from),
            Wait::RecvTimeout => rx.recv_timeout(HOUR),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Wait::Recv => "recv",
            Wait::RecvTimeout => "recv_timeout(1 h)",
        }
    }
}

/// R6 and R7: several senders blocked on a full (or rendezvous) channel
/// all wake with their own value when the last receiver leaves; several
/// receivers blocked in `recv` or `recv_timeout` all wake with
/// `Disconnected` when the last sender leaves.
pub(crate) fn every_blocked_party_wakes<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    let limit = stall_limit(settings);
    for capacity in capacities::<F>() {
        if let Some(room) = capacity.bound() {
            let (tx, rx) = open::<F, u32>(capacity)?;
            let other_receiver = rx.try_clone();
            fill(&tx, 0..room as u32, &capacity.to_string())?;
            let blocked: Vec<_> = (0..BLOCKED as u32)
                .map(|index| {
                    let tx = tx.clone();
                    Pending::start(move || tx.send(100 + index).map_err(|err| err.into_inner()))
                })
                .collect();
            drop(tx);
            let_settle(settings.settle);
            let held_rule = if room == 0 {
                Rule::Rendezvous
            } else {
                Rule::Capacity
            };
            for (index, sender) in blocked.iter().enumerate() {
                ensure(!sender.finished(), held_rule, || {
                    format!("{capacity}, full: blocked sender #{index} returned with no receive")
                })?;
            }
            drop(rx);
            drop(other_receiver);
            for (index, sender) in blocked.into_iter().enumerate() {
                let want = 100 + index as u32;
                let got = sender.join_within(limit)?;
                ensure(got == Some(Err(Some(want))), Rule::ReceiversGone, || {
                    format!(
                        "{capacity}, full, {BLOCKED} senders blocked in send when the last receiver left: sender #{index} got {got:?}, want Some(Err(Some({want}))) (None: still blocked after {limit:?})"
                    )
                })?;
            }
        }

        for wait in [Wait::Recv, Wait::RecvTimeout] {
            let (tx, rx) = open::<F, u32>(capacity)?;
            let other_sender = tx.clone();
            let mut receivers = vec![rx];
            while receivers.len() < BLOCKED {
                match receivers[0].try_clone() {
                    Some(clone) => receivers.push(clone),
                    None => break,
                }
            }
            let count = receivers.len();
            let blocked: Vec<_> = receivers
                .into_iter()
                .map(|mut rx| Pending::start(move || wait.call(&mut rx)))
                .collect();
            let_settle(settings.settle);
            for (index, receiver) in blocked.iter().enumerate() {
                ensure(!receiver.finished(), Rule::SendersGone, || {
                    format!(
                        "{capacity}: receiver #{index} blocked in {} on an empty channel with live senders returned",
                        wait.name()
                    )
                })?;
            }
            drop(tx);
            drop(other_sender);
            for (index, receiver) in blocked.into_iter().enumerate() {
                let got = receiver.join_within(limit)?;
                ensure(
                    got == Some(Err(RecvTimeoutError::Disconnected)),
                    Rule::SendersGone,
                    || {
                        format!(
                            "{capacity}, {count} receiver(s) blocked in {} when the last sender left: receiver #{index} got {got:?}, want Some(Err(Disconnected)) (None: still blocked after {limit:?})",
                            wait.name()
                        )
                    },
                )?;
            }
        }
    }
    Ok(CheckOutcome::Pass)
}

/// How the unblocking side sends.
#[derive(Clone, Copy, Debug)]
enum SendWith {
    Send,
    TrySend,
}

/// How the unblocking side receives.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TakeWith {
    Recv,
    TryRecv,
    RecvTimeout,
}

/// R12: in ping-pong traffic, where no later event can rescue a missed
/// notification, a receiver blocked in `recv` or `recv_timeout` is woken by
/// each single `send` and `try_send`, and a sender blocked on a full channel
/// by each single `recv`, `try_recv` and `recv_timeout`.
pub(crate) fn no_lost_wakeup<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in capacities::<F>() {
        for send in [SendWith::Send, SendWith::TrySend] {
            for wait in [Wait::Recv, Wait::RecvTimeout] {
                receiver_woken_by_each_send::<F>(capacity, send, wait, settings)?;
            }
        }
        if capacity.bound().is_none() {
            continue;
        }
        for take in [TakeWith::Recv, TakeWith::TryRecv, TakeWith::RecvTimeout] {
            // R5 lets try_recv ignore a sender blocked on a rendezvous
            // channel, so it cannot be what unblocks one.
            if capacity == Capacity::RENDEZVOUS && take == TakeWith::TryRecv {
                continue;
            }
            sender_woken_by_each_receive::<F>(capacity, take, settings)?;
        }
    }
    Ok(CheckOutcome::Pass)
}

/// One side blocks in `wait`; the check sends one message per round and
/// waits for the receiver to report it over a std channel.
fn receiver_woken_by_each_send<F: SyncFlavor>(
    capacity: Capacity,
    send: SendWith,
    wait: Wait,
    settings: &Settings,
) -> Result<(), Violation> {
    let case = format!(
        "{capacity}, {send:?} to a receiver blocked in {}",
        wait.name()
    );
    let stall = stall_limit(settings);
    let (tx, mut rx) = open::<F, u64>(capacity)?;
    let (seen_tx, seen_rx) = mpsc::channel();
    let receiver = Pending::start(move || {
        while let Ok(value) = wait.call(&mut rx) {
            if seen_tx.send(value).is_err() {
                break;
            }
        }
    });
    let budget = Budget::start(settings.stress_budget);
    let mut round = 0u64;
    while !budget.spent(round) {
        match send {
            SendWith::Send => {
                let sent = tx.send(round);
                ensure(sent.is_ok(), Rule::ReceiversGone, || {
                    format!("{case}: send #{round} failed with the receiver alive")
                })?;
            }
            SendWith::TrySend => try_send_within(&tx, round, stall, &case)?,
        }
        let seen = seen_rx.recv_timeout(stall);
        ensure(seen.is_ok(), Rule::Wakeup, || {
            format!(
                "{case}: round {round}: the receiver did not return within {stall:?} after a single successful send (a lost wake-up, or a lost message)"
            )
        })?;
        ensure(seen == Ok(round), Rule::ExactlyOnce, || {
            format!("{case}: round {round}: the receiver got {seen:?}")
        })?;
        round += 1;
    }
    drop(tx);
    let ended = receiver.join_within(stall)?;
    ensure(ended.is_some(), Rule::SendersGone, || {
        format!("{case}: the receiver stayed blocked after the last sender left")
    })
}

/// `try_send`, retried while a rendezvous channel has no receiver waiting
/// yet; any other refusal breaks a rule.
fn try_send_within<S: Sender<u64>>(
    tx: &S,
    value: u64,
    stall: Duration,
    case: &str,
) -> Result<(), Violation> {
    let deadline = std::time::Instant::now() + stall;
    loop {
        match tx.try_send(value) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(_)) if std::time::Instant::now() < deadline => {
                std::thread::yield_now();
            }
            Err(err) => {
                return Err(Violation::new(
                    Rule::Rendezvous,
                    format!(
                        "{case}: try_send #{value} to an empty channel whose receiver is (about to be) blocked kept failing for {stall:?}: {err:?}"
                    ),
                ));
            }
        }
    }
}

/// The channel is kept full and one side blocks in `send`; the check takes
/// one message per round and waits for the sender to report its send
/// complete over a std channel.
fn sender_woken_by_each_receive<F: SyncFlavor>(
    capacity: Capacity,
    take: TakeWith,
    settings: &Settings,
) -> Result<(), Violation> {
    let case = format!("{capacity}, full, {take:?} to a sender blocked in send");
    let stall = stall_limit(settings);
    let room = capacity.bound().unwrap_or(0) as u64;
    let (tx, mut rx) = open::<F, u64>(capacity)?;
    fill(&tx, 0..room, &case)?;
    let (done_tx, done_rx) = mpsc::channel();
    let sender = Pending::start(move || {
        let mut next = room;
        while tx.send(next).is_ok() && done_tx.send(next).is_ok() {
            next += 1;
        }
    });
    let budget = Budget::start(settings.stress_budget);
    let mut round = 0u64;
    while !budget.spent(round) {
        // The channel is full (or, at rendezvous, the sender is waiting):
        // one receive makes room for exactly the blocked send.
        let got = match take {
            TakeWith::Recv => rx.recv().map_err(|RecvError| TryRecvError::Disconnected),
            TakeWith::TryRecv => rx.try_recv(),
            TakeWith::RecvTimeout => rx
                .recv_timeout(HOUR)
                .map_err(|_| TryRecvError::Disconnected),
        };
        ensure(got == Ok(round), Rule::ExactlyOnce, || {
            format!("{case}: round {round}: the receive gave {got:?}, want Ok({round})")
        })?;
        let done = done_rx.recv_timeout(stall);
        ensure(done.is_ok(), Rule::Wakeup, || {
            format!(
                "{case}: round {round}: the sender blocked in send did not return within {stall:?} after a single {take:?} made room (a lost wake-up)"
            )
        })?;
        round += 1;
    }
    drop(rx);
    let ended = sender.join_within(stall)?;
    ensure(ended.is_some(), Rule::ReceiversGone, || {
        format!("{case}: the sender stayed blocked after the last receiver left")
    })
}
