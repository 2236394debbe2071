//! loom models of chanlab's reference channels, blocking and async, each
//! beside the broken twin loom must catch. The reference channel is the one
//! the patterns' loom models run over, so it has to be sound on every
//! schedule first; the async one is the yardstick of the async suite.
//!
//! Only built under the project's loom cfg, in its own target dir:
//!
//! ```sh
//! RUSTFLAGS="--cfg chanlab_loom" CARGO_TARGET_DIR=target-loom \
//!     cargo test --release -p chanlab-broken --test loom
//! ```
//!
//! Bounds: two threads besides the model's main thread, two messages, and
//! a preemption bound of [`PREEMPTIONS`]. The async model polls each
//! future with loom's `block_on`, so a lost waker is a deadlock loom sees.
#![cfg(chanlab_loom)]

use chanlab_broken::{AsyncPolling, Broken, FakesRendezvous, LosesWaker, NeverDisconnects};
use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, Receiver, Sender, SyncFlavor,
};
use chanlab_impls::{AsyncReference, Reference};
use chanlab_sync::atomic::{AtomicBool, Ordering};
use chanlab_sync::{Arc, thread};

/// loom explores every schedule with at most this many preemptions.
const PREEMPTIONS: usize = 3;

fn model(body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(body);
}

/// Runs a twin's model, which loom must fail, in a child process (loom
/// ends a deadlocked model with a panic that cannot unwind) and returns
/// loom's report. `test` is the calling test's name.
fn loom_finds(test: &str, body: impl Fn() + Sync + Send + 'static) -> String {
    chanlab_broken::child::must_fail(test, || model(body))
}

/// Two senders, one message each, into a channel of one slot: the
/// receiver gets both, once each, and then sees the channel closed.
fn two_senders<F: SyncFlavor>() {
    let (tx, mut rx) = F::channel::<u32>(Capacity::Bounded(1)).unwrap();
    let senders: Vec<_> = [1, 2]
        .into_iter()
        .map(|value| {
            let tx = tx.clone();
            thread::spawn(move || tx.send(value).unwrap())
        })
        .collect();
    drop(tx);
    let mut got = vec![rx.recv().unwrap(), rx.recv().unwrap()];
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    assert!(
        rx.recv().is_err(),
        "the channel stayed open after both senders left"
    );
    for sender in senders {
        sender.join().unwrap();
    }
}

#[test]
fn bounded_delivers_each_message_once_then_closes() {
    model(two_senders::<Reference>);
}

#[test]
fn twin_that_never_disconnects_deadlocks_its_receiver() {
    let report = loom_finds(
        "twin_that_never_disconnects_deadlocks_its_receiver",
        two_senders::<Broken<NeverDisconnects>>,
    );
    assert!(report.contains("deadlock"), "{report}");
}

/// A rendezvous send returns only once the receiver has taken the value.
fn hand_off<F: SyncFlavor>() {
    let (tx, mut rx) = F::channel::<u32>(Capacity::RENDEZVOUS).unwrap();
    let taken = Arc::new(AtomicBool::new(false));
    let receiver = {
        let taken = Arc::clone(&taken);
        thread::spawn(move || {
            let value = rx.recv().unwrap();
            taken.store(true, Ordering::SeqCst);
            value
        })
    };
    tx.send(7).unwrap();
    // Nobody receives a second value: on a true rendezvous this send can
    // only fail, once the receiver has gone. If it succeeds, the channel
    // buffered, and it may do so before the first value was even taken.
    assert!(
        tx.send(8).is_err() || taken.load(Ordering::SeqCst),
        "a second rendezvous send completed before anyone took the first"
    );
    drop(tx);
    assert_eq!(receiver.join().unwrap(), 7);
}

#[test]
fn rendezvous_hands_off_without_buffering() {
    model(hand_off::<Reference>);
}

#[test]
fn twin_that_buffers_a_rendezvous_is_caught() {
    let report = loom_finds(
        "twin_that_buffers_a_rendezvous_is_caught",
        hand_off::<Broken<FakesRendezvous>>,
    );
    assert!(report.contains("rendezvous send completed"), "{report}");
}

/// Two receive futures wait on an empty channel, each polled on its own
/// thread by loom's `block_on`, and the sender sends two values: each
/// receiver gets one, so no waker was lost among the waiting futures.
fn two_waiting_receivers<F: AsyncFlavor>() {
    let (tx, rx) = F::channel::<u32>(Capacity::Bounded(2)).unwrap();
    let receivers: Vec<_> = [rx.try_clone().unwrap(), rx]
        .into_iter()
        .map(|mut rx| thread::spawn(move || loom::future::block_on(rx.recv()).unwrap()))
        .collect();
    loom::future::block_on(tx.send(1)).unwrap();
    loom::future::block_on(tx.send(2)).unwrap();
    let mut got: Vec<u32> = receivers
        .into_iter()
        .map(|receiver| receiver.join().unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
}

#[test]
fn async_reference_wakes_every_waiting_receiver() {
    model(two_waiting_receivers::<AsyncReference>);
}

#[test]
fn async_twin_that_loses_a_waker_deadlocks_a_receiver() {
    let report = loom_finds(
        "async_twin_that_loses_a_waker_deadlocks_a_receiver",
        two_waiting_receivers::<AsyncPolling<LosesWaker>>,
    );
    assert!(report.contains("deadlock"), "{report}");
}
