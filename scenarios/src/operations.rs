//! The single-thread operation paths ([`Operation`]) on a flavor, each
//! repeated inside [`counted`], the one function whose instructions the
//! runner has valgrind count ([`COUNTED_FUNCTION`]). Everything else (the
//! channel's creation, filling it, a warm-up pass over the same path) runs
//! outside it, so a count is the path's alone.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use chanlab_contract::{
    AsyncFlavor, AsyncReceiver, AsyncSender, Capacity, FlavorInfo, Receiver, Sender, SyncFlavor,
    TryRecvError, TrySendError,
};
pub use chanlab_workload::Operation;

/// [`counted`]'s name as valgrind sees it, for `--toggle-collect`,
/// `--zero-before` and `--dump-after` (which takes no wildcard: a pattern
/// there never dumps).
pub const COUNTED_FUNCTION: &str = "chanlab_scenarios::operations::counted";

/// Runs `work` where valgrind counts it: never inlined, so it keeps its
/// symbol, and doing nothing else.
#[inline(never)]
pub fn counted(work: &mut dyn FnMut()) {
    work();
}

/// Why an operation was not counted on a flavor.
pub type Refused = String;

/// Counts each of `operations` on blocking flavor `F`, `repeat` times in
/// one call of [`counted`] each, in order: a refusal (a capacity it does
/// not take, an operation that did not do what it must) takes no call.
pub fn count_sync<F: SyncFlavor>(
    operations: &[Operation],
    repeat: usize,
) -> Vec<Result<(), Refused>> {
    count_on(&F::INFO, operations, repeat, |capacity| {
        let (tx, rx) = F::channel::<u64>(capacity).map_err(|err| err.to_string())?;
        Ok(SyncEnds::<F> { tx, rx })
    })
}

/// Counts each of `operations` on async flavor `F`, as [`count_sync`]
/// does; a send and a receive are futures polled once with a no-op waker.
pub fn count_async<F: AsyncFlavor>(
    operations: &[Operation],
    repeat: usize,
) -> Vec<Result<(), Refused>> {
    count_on(&F::INFO, operations, repeat, |capacity| {
        let (tx, rx) = F::channel::<u64>(capacity).map_err(|err| err.to_string())?;
        Ok(AsyncEnds::<F> { tx, rx })
    })
}

/// The calls the paths make on one channel's two ends, each saying
/// whether it did what it must.
trait Ends {
    /// A send, then a receive of that value, neither waiting.
    fn send_recv(&mut self) -> bool;
    /// A `try_send` of `value`, which the channel takes.
    fn try_send_takes(&mut self, value: u64) -> bool;
    /// A `try_send`, which finds the channel full.
    fn try_send_full(&mut self) -> bool;
    /// A `try_recv`, which finds the channel empty.
    fn try_recv_empty(&mut self) -> bool;
}

/// A blocking flavor's ends.
struct SyncEnds<F: SyncFlavor> {
    tx: F::Sender<u64>,
    rx: F::Receiver<u64>,
}

impl<F: SyncFlavor> Ends for SyncEnds<F> {
    fn send_recv(&mut self) -> bool {
        let sent = self.tx.send(black_box(1)).is_ok();
        sent && self.rx.recv().is_ok()
    }

    fn try_send_takes(&mut self, value: u64) -> bool {
        self.tx.try_send(value).is_ok()
    }

    fn try_send_full(&mut self) -> bool {
        matches!(self.tx.try_send(black_box(1)), Err(TrySendError::Full(_)))
    }

    fn try_recv_empty(&mut self) -> bool {
        matches!(self.rx.try_recv(), Err(TryRecvError::Empty))
    }
}

/// An async flavor's ends, their futures polled once with a no-op waker.
struct AsyncEnds<F: AsyncFlavor> {
    tx: F::Sender<u64>,
    rx: F::Receiver<u64>,
}

impl<F: AsyncFlavor> Ends for AsyncEnds<F> {
    fn send_recv(&mut self) -> bool {
        let sent = matches!(poll_once(self.tx.send(black_box(1))), Poll::Ready(Ok(())));
        sent && matches!(poll_once(self.rx.recv()), Poll::Ready(Ok(_)))
    }

    fn try_send_takes(&mut self, value: u64) -> bool {
        self.tx.try_send(value).is_ok()
    }

    fn try_send_full(&mut self) -> bool {
        matches!(self.tx.try_send(black_box(1)), Err(TrySendError::Full(_)))
    }

    fn try_recv_empty(&mut self) -> bool {
        matches!(self.rx.try_recv(), Err(TryRecvError::Empty))
    }
}

/// Counts each of `operations` on channels `open` makes for a flavor
/// declared by `info`.
fn count_on<E: Ends>(
    info: &FlavorInfo,
    operations: &[Operation],
    repeat: usize,
    open: impl Fn(Capacity) -> Result<E, Refused>,
) -> Vec<Result<(), Refused>> {
    operations
        .iter()
        .map(|&operation| {
            check(info, operation)?;
            let capacity = operation.capacity();
            let mut ends = open(capacity)?;
            match operation {
                Operation::SendRecv { .. } => run(&mut || ends.send_recv(), repeat),
                Operation::TrySendFull { .. } => {
                    fill(|value| ends.try_send_takes(value), capacity)?;
                    run(&mut || ends.try_send_full(), repeat)
                }
                Operation::TryRecvEmpty => run(&mut || ends.try_recv_empty(), repeat),
            }
        })
        .collect()
}

/// Refuses an operation `info`'s flavor cannot do alone.
fn check(info: &FlavorInfo, operation: Operation) -> Result<(), Refused> {
    let capacity = operation.capacity();
    info.check(capacity)
        .map_err(|refusal| refusal.to_string())?;
    match (operation, capacity) {
        (_, Capacity::Bounded(0)) => Err("a rendezvous needs a second party".to_owned()),
        (Operation::TrySendFull { .. }, Capacity::Unbounded) => {
            Err("an unbounded channel is never full".to_owned())
        }
        _ => Ok(()),
    }
}

/// Sends until the channel holds `capacity` values.
fn fill(mut send: impl FnMut(u64) -> bool, capacity: Capacity) -> Result<(), Refused> {
    let bound = capacity.bound().unwrap_or(0);
    for value in 0..bound as u64 {
        if !send(value) {
            return Err(format!(
                "the channel refused value {value} of {bound} before it was full"
            ));
        }
    }
    Ok(())
}

/// A warm-up pass over `pass` `repeat` times, then `repeat` more inside
/// [`counted`]; an error when a pass did not do what it must.
fn run(pass: &mut dyn FnMut() -> bool, repeat: usize) -> Result<(), Refused> {
    let mut ok = true;
    for _ in 0..repeat {
        ok &= pass();
    }
    counted(&mut || {
        for _ in 0..repeat {
            ok &= pass();
        }
    });
    ok.then_some(())
        .ok_or_else(|| "the operation did not complete at once".to_owned())
}

/// Polls `future` once with a no-op waker.
fn poll_once<T>(future: impl Future<Output = T>) -> Poll<T> {
    let mut future = pin!(future);
    future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
}

#[cfg(test)]
mod tests {
    use chanlab_impls::{Crossbeam, FlumeAsync, StdMpsc};

    use super::*;

    #[test]
    fn every_operation_completes_on_blocking_and_async_flavors() {
        let all = Operation::all();
        for outcome in count_sync::<Crossbeam>(&all, 10)
            .into_iter()
            .chain(count_async::<FlumeAsync>(&all, 10))
        {
            assert_eq!(outcome, Ok(()));
        }
    }

    #[test]
    fn what_a_flavor_cannot_do_alone_is_refused() {
        let refused = count_sync::<StdMpsc>(
            &[
                Operation::SendRecv {
                    capacity: Capacity::Bounded(0),
                },
                Operation::TrySendFull {
                    capacity: Capacity::Unbounded,
                },
            ],
            10,
        );
        assert!(refused.iter().all(Result::is_err), "{refused:?}");
    }
}
