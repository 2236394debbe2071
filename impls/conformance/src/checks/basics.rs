//! Single-channel behaviour: declared capabilities, order, capacity,
//! rendezvous and `recv_timeout` (rules R1, R2, R4, R5, R8).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use chanlab_contract::{
    Api, Capacity, Receiver, RecvError, RecvTimeoutError, SelectError, SelectWait, Selected,
    Sender, SyncFlavor, TryRecvError, TrySendError,
};

use super::timeout::times_out_in_bounds;
use super::{
    Budget, CheckOutcome, PROBED_CAPACITIES, Pending, buffering, capacities, fill, let_settle,
    open, stall_limit, wrap_buffer,
};
use crate::spec::ensure;
use crate::{Rule, Settings, Violation};

/// R1: declared capacities build, undeclared ones are refused without a
/// panic, and receiver clones exist exactly when declared (and share the
/// queue, R3).
pub(crate) fn capabilities_are_honest<F: SyncFlavor>(
    _: &Settings,
) -> Result<CheckOutcome, Violation> {
    let declared = F::INFO.capabilities;
    for capacity in PROBED_CAPACITIES {
        let built = catch_unwind(AssertUnwindSafe(|| F::channel::<u32>(capacity).is_ok()));
        let Ok(built) = built else {
            return Err(Violation::new(
                Rule::Capabilities,
                format!("channel({capacity}) panicked instead of returning UnsupportedError"),
            ));
        };
        ensure(
            built == declared.supports(capacity),
            Rule::Capabilities,
            || {
                format!(
                    "channel({capacity}) {} but the flavor declares it {}",
                    if built { "succeeded" } else { "failed" },
                    if declared.supports(capacity) {
                        "supported"
                    } else {
                        "unsupported"
                    },
                )
            },
        )?;
    }

    let (tx, rx) = open::<F, u32>(Capacity::Bounded(16))?;
    let second = rx.try_clone();
    ensure(
        second.is_some() == declared.multi_consumer,
        Rule::Capabilities,
        || {
            format!(
                "try_clone() returned {} but multi_consumer is declared {}",
                if second.is_some() {
                    "a receiver"
                } else {
                    "None"
                },
                declared.multi_consumer
            )
        },
    )?;
    if let Some(mut second) = second {
        let mut first = rx;
        fill(&tx, [1, 2], "an empty bounded(16) channel")?;
        let a = first.try_recv();
        let b = second.try_recv();
        ensure(a == Ok(1) && b == Ok(2), Rule::ExactlyOnce, || {
            format!("cloned receivers do not share one queue: got {a:?} then {b:?} for sends 1, 2")
        })?;
    }
    if F::INFO.api == Api::Sync {
        select_is_honest::<F>(declared.select)?;
    }
    Ok(CheckOutcome::Pass)
}

/// R1 for a blocking flavor's select: it works exactly when declared. It
/// reports nothing ready on empty channels, picks the receiver that has a
/// message, and reports a disconnected receiver as ready.
fn select_is_honest<F: SyncFlavor>(declared: bool) -> Result<(), Violation> {
    let (first_tx, first_rx) = open::<F, u32>(Capacity::Bounded(4))?;
    let (second_tx, second_rx) = open::<F, u32>(Capacity::Bounded(4))?;
    let mut receivers = [first_rx, second_rx];
    let idle = F::select(&mut receivers, SelectWait::NoWait);
    if !declared {
        return ensure(
            matches!(idle, Err(SelectError::Unsupported { .. })),
            Rule::Capabilities,
            || format!("select is not declared but returned {idle:?} instead of Unsupported"),
        );
    }
    ensure(
        idle == Err(SelectError::NotReady),
        Rule::Capabilities,
        || format!("select on two empty channels returned {idle:?}, not NotReady"),
    )?;
    fill(&second_tx, [7], "an empty bounded(4) channel")?;
    let ready = F::select(&mut receivers, SelectWait::Timeout(Duration::from_secs(5)));
    let expected = Selected {
        index: 1,
        message: Ok(7),
    };
    ensure(ready == Ok(expected), Rule::Capabilities, || {
        format!("select returned {ready:?} after a send on the second channel")
    })?;
    drop((first_tx, second_tx));
    let gone = F::select(&mut receivers, SelectWait::Timeout(Duration::from_secs(5)));
    ensure(
        matches!(
            gone,
            Ok(Selected {
                message: Err(RecvError),
                ..
            })
        ),
        Rule::SendersGone,
        || format!("select over two disconnected, empty channels returned {gone:?}"),
    )
}

/// R2: one sender's messages arrive in send order, sequentially and across
/// threads, at every declared capacity.
pub(crate) fn fifo_in_order<F: SyncFlavor>(settings: &Settings) -> Result<CheckOutcome, Violation> {
    for capacity in buffering::<F>(16) {
        let (tx, mut rx) = open::<F, u64>(capacity)?;
        fill(&tx, 0..16, &capacity.to_string())?;
        for expected in 0..16 {
            let got = rx.try_recv();
            ensure(got == Ok(expected), Rule::Fifo, || {
                format!("{capacity}: sent 0..16 sequentially, receive #{expected} gave {got:?}")
            })?;
        }
    }
    for capacity in capacities::<F>() {
        let (tx, mut rx) = open::<F, u64>(capacity)?;
        let budget = Budget::start(settings.stress_budget);
        let producer = Pending::start(move || {
            let mut sent = 0u64;
            while !budget.spent(sent) && tx.send(sent).is_ok() {
                sent += 1;
            }
            sent
        });
        let mut expected = 0u64;
        while let Ok(value) = rx.recv() {
            let rule = if value > expected {
                Rule::ExactlyOnce
            } else {
                Rule::Fifo
            };
            ensure(value == expected, rule, || {
                format!(
                    "{capacity}: one producer sent 0, 1, 2, …; receive #{expected} gave {value}"
                )
            })?;
            expected += 1;
        }
        let sent = producer.join()?;
        ensure(expected == sent, Rule::ExactlyOnce, || {
            format!("{capacity}: {sent} sent but {expected} received before disconnection")
        })?;
    }
    Ok(CheckOutcome::Pass)
}

/// R4: exactly n messages fit a bounded(n) channel, a blocking send waits
/// for room, and an unbounded channel never reports `Full`.
pub(crate) fn capacity_is_exact<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    // Fresh, and with the buffer turned past its capacity first.
    for (n, wrapped) in [1usize, 3, 4, 16, 64]
        .into_iter()
        .flat_map(|n| [(n, false), (n, true)])
    {
        let (tx, mut rx) = open::<F, usize>(Capacity::Bounded(n))?;
        let state = if wrapped {
            let situation = format!("bounded({n})");
            wrap_buffer(
                |v| tx.try_send(v),
                || rx.try_recv(),
                n,
                |i| 1000 + i,
                &situation,
            )?;
            ", turned past its capacity"
        } else {
            ""
        };
        for value in 0..n {
            let sent = tx.try_send(value);
            ensure(sent.is_ok(), Rule::Capacity, || {
                format!(
                    "bounded({n}){state}: try_send #{} of {n} failed: {sent:?}",
                    value + 1
                )
            })?;
        }
        let over = tx.try_send(n);
        ensure(
            matches!(over, Err(TrySendError::Full(v)) if v == n),
            Rule::Capacity,
            || {
                format!(
                    "bounded({n}){state} holding {n}: try_send gave {over:?}, want Full handing back the value"
                )
            },
        )?;
        let first = rx.try_recv();
        ensure(first == Ok(0), Rule::Fifo, || {
            format!("bounded({n}){state}: first receive gave {first:?}")
        })?;
        let refill = tx.try_send(n);
        ensure(refill.is_ok(), Rule::Capacity, || {
            format!("bounded({n}){state}: try_send after one receive made room gave {refill:?}")
        })?;
    }

    if F::INFO.capabilities.unbounded {
        let (tx, _rx) = open::<F, usize>(Capacity::Unbounded)?;
        for value in 0..10_000 {
            let sent = tx.try_send(value);
            ensure(sent.is_ok(), Rule::Capacity, || {
                format!("unbounded: try_send #{value} gave {sent:?}")
            })?;
        }
    }

    let (tx, mut rx) = open::<F, usize>(Capacity::Bounded(1))?;
    fill(&tx, [0], "bounded(1)")?;
    let blocked = Pending::start(move || tx.send(1).is_ok());
    ensure(
        blocked.still_blocked_after(settings.settle),
        Rule::Capacity,
        || "bounded(1) holding 1: a blocking send returned without any receive".into(),
    )?;
    let first = rx.recv();
    let completed = blocked.join()?;
    let second = rx.recv();
    ensure(
        first == Ok(0) && completed && second == Ok(1),
        Rule::Capacity,
        || {
            format!(
                "bounded(1): after the receive that made room, got {first:?}, send ok = {completed}, then {second:?}"
            )
        },
    )?;
    Ok(CheckOutcome::Pass)
}

/// R5: a rendezvous channel buffers nothing.
pub(crate) fn rendezvous_hands_off<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    if !F::INFO.capabilities.rendezvous {
        return Ok(CheckOutcome::NotApplicable("rendezvous not declared"));
    }
    let (tx, mut rx) = open::<F, u32>(Capacity::RENDEZVOUS)?;
    let alone = tx.try_send(7);
    ensure(
        matches!(alone, Err(TrySendError::Full(7))),
        Rule::Rendezvous,
        || format!("try_send with no receiver waiting gave {alone:?}, want Full(7)"),
    )?;
    let empty = rx.try_recv();
    ensure(empty == Err(TryRecvError::Empty), Rule::Rendezvous, || {
        format!("try_recv after a refused try_send gave {empty:?}, want Empty")
    })?;

    let blocked_tx = tx.clone();
    let blocked = Pending::start(move || blocked_tx.send(8).is_ok());
    ensure(
        blocked.still_blocked_after(settings.settle),
        Rule::Rendezvous,
        || "a blocking send returned before any receiver took the value".into(),
    )?;
    let got = rx.recv();
    let completed = blocked.join()?;
    ensure(got == Ok(8) && completed, Rule::Rendezvous, || {
        format!("receive gave {got:?}, send ok = {completed}")
    })?;

    // A receiver blocked in recv makes room for exactly one try_send.
    let waiting = Pending::start(move || rx.recv());
    let deadline = Instant::now() + settings.watchdog / 2;
    let accepted = loop {
        match tx.try_send(9) {
            Ok(()) => break true,
            Err(TrySendError::Full(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => break false,
        }
    };
    ensure(accepted, Rule::Rendezvous, || {
        "try_send never succeeded while a receiver was blocked in recv".into()
    })?;
    let got = waiting.join()?;
    ensure(got == Ok(9), Rule::ExactlyOnce, || {
        format!("the waiting receiver got {got:?}, want Ok(9)")
    })?;
    Ok(CheckOutcome::Pass)
}

/// R8: `recv_timeout` times out on an empty channel, not early, and returns
/// a message that arrives in time.
pub(crate) fn recv_timeout_behaves<F: SyncFlavor>(
    settings: &Settings,
) -> Result<CheckOutcome, Violation> {
    for capacity in capacities::<F>() {
        let (tx, mut rx) = open::<F, u32>(capacity)?;
        let timeout = settings.settle;
        let started = Instant::now();
        let got = rx.recv_timeout(timeout);
        let waited = started.elapsed();
        ensure(
            got == Err(RecvTimeoutError::Timeout),
            Rule::RecvTimeout,
            || format!("{capacity}: recv_timeout on an empty channel gave {got:?}, want Timeout"),
        )?;
        ensure(waited >= timeout, Rule::RecvTimeout, || {
            format!("{capacity}: recv_timeout({timeout:?}) returned Timeout after only {waited:?}")
        })?;
        // And not far late: both bounds at the duration this check uses
        // (once: the bound is about the duration, not the capacity).
        if Some(&capacity) == capacities::<F>().first() {
            times_out_in_bounds::<F>(capacity, timeout, stall_limit(settings))?;
        }

        let late = Pending::start(move || {
            let_settle(timeout);
            tx.send(5).is_ok()
        });
        let got = rx.recv_timeout(settings.watchdog / 2);
        let sent = late.join()?;
        ensure(got == Ok(5) && sent, Rule::RecvTimeout, || {
            format!("{capacity}: a message sent during recv_timeout: got {got:?}, send ok = {sent}")
        })?;
    }
    Ok(CheckOutcome::Pass)
}
