//! Singleflight: concurrent callers asking for the same key share one
//! execution of the work and its result, errors included; callers for
//! different keys run independently.
//!
//! Use it in front of an expensive, idempotent lookup that many callers may
//! ask for at once (a cache fill, a configuration fetch): one execution does
//! the work, and the callers that ask while it is in flight wait for it and
//! take its result instead of repeating it. A caller that asks after it
//! finished starts a new execution: singleflight deduplicates calls, it does
//! not cache. Go's `golang.org/x/sync/singleflight`.
//!
//! As tasks, the callers run on chanlab's table through
//! [`Singleflight::run_async`], and on `async_singleflight`'s `Group`; an
//! execution does its work and then yields once, so callers on a
//! one-thread runtime can join it. `async_singleflight` hands the callers
//! that joined a failed execution an error without its value
//! (`Err(None)`), and says nothing of sharing: those calls are checked for
//! an error where one is due, counted as `errors_without_value`, and not
//! traced to an execution.
//!
//! Params: `workers` caller threads (or tasks) share `items` calls;
//! `producers` keys (at least 2), which every caller asks for in turn;
//! `work` per execution. Every execution for an odd key fails.
//!
//! Oracle: one logical clock (an atomic counter) stamps each call's begin
//! and end and each execution's start; an execution retires when the call
//! that ran it returns. Every call got the result of an execution for its
//! own key, an error exactly when that key fails, and from an execution in
//! flight during the call: started before the call ended and retired after
//! it began, never a stale one. A call's `shared` flag is set exactly when
//! more than one call got its execution. Whether calls share depends on
//! timing, so the oracle never requires it; it reports the executions and
//! the calls that shared.

#[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
mod async_singleflight;

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use chanlab_sync::Arc;
use chanlab_sync::atomic::{AtomicU64, Ordering};

use super::{busy, share};
use crate::coord::{Executor, Flight, Singleflight, TaskSet, Tokio, WaitGroup, yield_now};
use crate::outcome::ensure;
use crate::runtime::RuntimeExt;
use crate::{Outcome, Params, Pattern, Primitive, Refusal, Runtime, ScenarioError};

/// Fewest keys in a run: one whose executions succeed, one whose fail.
const MIN_KEYS: usize = 2;

/// The execution that produced a result, and the key it ran for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Execution {
    key: usize,
    id: u64,
}

/// The error of an execution for a failing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Failed(Execution);

/// What an execution returns. Both arms name the execution, so the oracle
/// can trace which execution every call's result came from.
type Value = Result<Execution, Failed>;

/// Whether executions for `key` fail.
fn fails(key: usize) -> bool {
    key % 2 == 1
}

/// What the pattern needs of a singleflight table (the tests also run it
/// on a broken twin, to see the oracle reject it).
trait Table: Send + Sync + 'static {
    /// Runs `work` for `key`, or shares the execution in flight for it.
    fn call(&self, key: usize, work: impl FnOnce() -> Value) -> Flight<Value>;
}

impl Table for Singleflight<usize, Value> {
    fn call(&self, key: usize, work: impl FnOnce() -> Value) -> Flight<Value> {
        self.run(key, work)
    }
}

/// What a call to a table as a task returned.
struct Answer {
    /// The result, or `None` for an error without its value.
    value: Option<Value>,
    /// Whether other calls got this result, where the table says.
    shared: Option<bool>,
}

/// [`Table`] for tasks.
trait AsyncTable: Send + Sync + 'static {
    /// Awaits `work` for `key`, or the execution in flight for it.
    fn call(
        &self,
        key: usize,
        work: impl Future<Output = Value> + Send,
    ) -> impl Future<Output = Answer> + Send;
}

impl AsyncTable for Singleflight<usize, Value> {
    async fn call(&self, key: usize, work: impl Future<Output = Value> + Send) -> Answer {
        let flight = self.run_async(key, work).await;
        Answer {
            value: Some(flight.value),
            shared: Some(flight.shared),
        }
    }
}

/// The logical clock and the execution ids, shared by every caller.
struct Clocks {
    logical: AtomicU64,
    executions: AtomicU64,
}

impl Clocks {
    /// The next logical time: unique, and in the order of the ticks.
    fn tick(&self) -> u64 {
        self.logical.fetch_add(1, Ordering::SeqCst)
    }
}

/// One call as its caller saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Call {
    key: usize,
    begin: u64,
    end: u64,
    /// The execution this call ran itself, if it was the one to run it.
    led: Option<Led>,
    /// The result, or `None` for an error that came without its value.
    value: Option<Value>,
    /// Whether other calls got the same result, where the table says.
    shared: Option<bool>,
}

/// An execution as the call that ran it saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Led {
    id: u64,
    start: u64,
}

/// Runs the callers on chanlab's [`Singleflight`], on threads or as tasks
/// on `runtime`, or as tasks on `async_singleflight`'s `Group`.
pub fn run(
    primitive: Primitive,
    params: &Params,
    runtime: Runtime,
) -> Result<Outcome, ScenarioError> {
    match primitive {
        Primitive::Chanlab => run_on(Singleflight::new(), params),
        Primitive::ChanlabAsync => runtime.block_on(run_async_on::<Tokio>(params)),
        #[cfg(not(any(chanlab_loom, chanlab_shuttle)))]
        Primitive::AsyncSingleflight => runtime.block_on(run_tasks::<Tokio, _>(
            async_singleflight::Group::default(),
            params,
        )),
        other => Err(Refusal::not_on(Pattern::Singleflight, other)),
    }
}

fn new_clocks() -> Clocks {
    Clocks {
        logical: AtomicU64::new(0),
        executions: AtomicU64::new(0),
    }
}

fn run_on<T: Table>(table: T, params: &Params) -> Result<Outcome, ScenarioError> {
    let keys = params.producers.max(MIN_KEYS);
    let mut wait_group = WaitGroup::new();
    let shared = Arc::new((table, new_clocks()));
    for caller in 0..params.workers {
        let shared = Arc::clone(&shared);
        let calls = share(params.items, params.workers, caller);
        let work = params.work;
        wait_group.spawn(move || {
            let (table, clocks) = &*shared;
            (0..calls)
                .map(|call| one_call(table, clocks, call % keys, work))
                .collect::<Vec<Call>>()
        });
    }
    let threads = wait_group.started();
    let calls: Vec<Call> = wait_group.join()?.into_iter().flatten().collect();
    finish(params, threads, &calls)
}

/// The callers as tasks on executor `E`, on chanlab's [`Singleflight`].
pub async fn run_async_on<E: Executor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_tasks::<E, _>(Singleflight::new(), params).await
}

/// The callers as tasks on executor `E`, on a table for tasks.
async fn run_tasks<E: Executor, T: AsyncTable>(
    table: T,
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    let keys = params.producers.max(MIN_KEYS);
    let shared = Arc::new((table, new_clocks()));
    let mut tasks = E::Tasks::<Vec<Call>>::default();
    for caller in 0..params.workers {
        let shared = Arc::clone(&shared);
        let calls = share(params.items, params.workers, caller);
        let work = params.work;
        tasks.spawn(async move {
            let (table, clocks) = &*shared;
            let mut made = Vec::with_capacity(calls);
            for call in 0..calls {
                made.push(one_call_async(table, clocks, call % keys, work).await);
            }
            made
        });
    }
    let calls: Vec<Call> = tasks.join().await?.into_iter().flatten().collect();
    finish(params, params.workers, &calls)
}

/// Checks the calls and counts what they did.
fn finish(params: &Params, threads: usize, calls: &[Call]) -> Result<Outcome, ScenarioError> {
    let executions = check(calls)?;
    let shared = calls
        .iter()
        .filter(|call| call.shared == Some(true))
        .count();
    let without_value = calls.iter().filter(|call| call.value.is_none()).count();
    Ok(Outcome::new(params.items as u64, threads)
        .with("executions", executions as u64)
        .with("shared", shared as u64)
        .with("errors_without_value", without_value as u64))
}

/// Calls `table` for `key`, stamping the call and, if this call runs the
/// execution, the execution.
fn one_call<T: Table>(table: &T, clocks: &Clocks, key: usize, work: Duration) -> Call {
    let begin = clocks.tick();
    let mut led = None;
    let flight = table.call(key, || {
        let id = clocks.executions.fetch_add(1, Ordering::SeqCst);
        led = Some(Led {
            id,
            start: clocks.tick(),
        });
        busy(work);
        execution_result(key, id)
    });
    let end = clocks.tick();
    Call {
        key,
        begin,
        end,
        led,
        value: Some(flight.value),
        shared: Some(flight.shared),
    }
}

/// [`one_call`] as a task: the execution works, then yields once, so
/// other callers can join it on any runtime.
async fn one_call_async<T: AsyncTable>(
    table: &T,
    clocks: &Clocks,
    key: usize,
    work: Duration,
) -> Call {
    let begin = clocks.tick();
    let mut led = None;
    let answer = table
        .call(key, async {
            let id = clocks.executions.fetch_add(1, Ordering::SeqCst);
            led = Some(Led {
                id,
                start: clocks.tick(),
            });
            busy(work);
            yield_now().await;
            execution_result(key, id)
        })
        .await;
    let end = clocks.tick();
    Call {
        key,
        begin,
        end,
        led,
        value: answer.value,
        shared: answer.shared,
    }
}

/// What execution `id` for `key` returns.
fn execution_result(key: usize, id: u64) -> Value {
    let execution = Execution { key, id };
    if fails(key) {
        Err(Failed(execution))
    } else {
        Ok(execution)
    }
}

/// An execution as the oracle reconstructs it.
struct Ran {
    key: usize,
    start: u64,
    /// When the call that ran it returned: no call can join it after that.
    retired: u64,
    /// Calls that got its result.
    received: usize,
}

/// The oracle over every call; returns how many executions ran.
fn check(calls: &[Call]) -> Result<usize, ScenarioError> {
    let mut ran: HashMap<u64, Ran> = HashMap::new();
    for call in calls {
        if let Some(led) = call.led {
            let first = ran.insert(
                led.id,
                Ran {
                    key: call.key,
                    start: led.start,
                    retired: call.end,
                    received: 0,
                },
            );
            ensure(first.is_none(), || {
                format!("execution {} ran twice", led.id)
            })?;
        }
    }

    let mut got = Vec::with_capacity(calls.len());
    for call in calls {
        let Some(value) = call.value else {
            ensure(fails(call.key), || {
                format!(
                    "a call for key {} got an error, but that key's executions succeed",
                    call.key
                )
            })?;
            ensure(call.led.is_none(), || {
                format!(
                    "the call that ran execution {:?} for key {} got an error without its value",
                    call.led, call.key
                )
            })?;
            continue;
        };
        let (answer, failed) = match value {
            Ok(execution) => (execution, false),
            Err(Failed(execution)) => (execution, true),
        };
        let Some(execution) = ran.get_mut(&answer.id) else {
            return Err(ScenarioError::Oracle(format!(
                "a call for key {} got the result of execution {}, which never ran",
                call.key, answer.id
            )));
        };
        ensure(execution.key == call.key && answer.key == call.key, || {
            format!(
                "a call for key {} got a result for key {} from execution {}, run for key {}",
                call.key, answer.key, answer.id, execution.key
            )
        })?;
        ensure(failed == fails(call.key), || {
            format!(
                "a call for key {} got {:?}, but that key's executions {}",
                call.key,
                call.value,
                if fails(call.key) { "fail" } else { "succeed" }
            )
        })?;
        if let Some(led) = call.led {
            ensure(led.id == answer.id, || {
                format!(
                    "the call that ran execution {} got execution {}'s result",
                    led.id, answer.id
                )
            })?;
        }
        ensure(execution.start < call.end, || {
            format!(
                "a call for key {} ended at t{} with the result of execution {}, \
                 which started later, at t{}",
                call.key, call.end, answer.id, execution.start
            )
        })?;
        ensure(execution.retired > call.begin, || {
            format!(
                "stale result: a call for key {} began at t{} and got the result of \
                 execution {}, which had retired at t{}",
                call.key, call.begin, answer.id, execution.retired
            )
        })?;
        execution.received += 1;
        got.push((call, answer.id));
    }

    for (call, id) in got {
        let received = ran.get(&id).map_or(0, |execution| execution.received);
        let Some(shared) = call.shared else {
            continue;
        };
        ensure(shared == (received > 1), || {
            format!(
                "a call for key {} says shared = {shared}, but execution {id} went to {received} call(s)",
                call.key
            )
        })?;
    }
    Ok(ran.len())
}

#[cfg(test)]
mod tests {
    use chanlab_sync::Mutex;

    use super::*;

    /// A broken table that caches every result forever: a caller that asks
    /// after an execution finished gets its stale result.
    struct StaleTable(Mutex<HashMap<usize, Value>>);

    impl Table for StaleTable {
        fn call(&self, key: usize, work: impl FnOnce() -> Value) -> Flight<Value> {
            let mut cache = self.0.lock();
            if let Some(value) = cache.get(&key) {
                return Flight {
                    value: *value,
                    shared: true,
                };
            }
            let value = work();
            cache.insert(key, value);
            Flight {
                value,
                shared: false,
            }
        }
    }

    fn run(params: &Params) -> Result<Outcome, ScenarioError> {
        super::run(Primitive::Chanlab, params, Runtime::MultiThread)
    }

    /// One caller, two rounds over two keys: every call runs its own
    /// execution, whatever the timing.
    fn two_sequential_rounds() -> Params {
        Params {
            items: 4,
            producers: 2,
            workers: 1,
            ..Params::default()
        }
    }

    #[test]
    fn sequential_calls_each_run_their_own_execution() {
        let outcome = run(&two_sequential_rounds()).unwrap();
        assert_eq!(outcome.counters["executions"], 4);
        assert_eq!(outcome.counters["shared"], 0);
    }

    #[test]
    fn oracle_rejects_a_table_that_returns_stale_results() {
        let err = run_on(
            StaleTable(Mutex::new(HashMap::new())),
            &two_sequential_rounds(),
        )
        .unwrap_err();
        assert!(
            matches!(&err, ScenarioError::Oracle(message) if message.contains("stale")),
            "{err}"
        );
    }

    #[test]
    fn concurrent_callers_get_correct_results_and_errors() {
        let params = Params {
            items: 64,
            producers: 2,
            workers: 4,
            work: Duration::from_micros(200),
            ..Params::default()
        };
        let outcome = run(&params).unwrap();
        assert_eq!((outcome.items, outcome.threads), (64, 4));
        let executions = outcome.counters["executions"];
        assert!((2..=64).contains(&executions), "{executions} executions");
    }

    impl AsyncTable for StaleTable {
        async fn call(&self, key: usize, work: impl Future<Output = Value> + Send) -> Answer {
            let cached = self.0.lock().get(&key).copied();
            let value = match cached {
                Some(value) => value,
                None => {
                    let value = work.await;
                    self.0.lock().insert(key, value);
                    value
                }
            };
            Answer {
                value: Some(value),
                shared: None,
            }
        }
    }

    #[test]
    fn tables_for_tasks_pass_on_both_runtimes() {
        let params = Params {
            items: 64,
            producers: 2,
            workers: 4,
            work: Duration::from_micros(200),
            ..Params::default()
        };
        for primitive in [Primitive::ChanlabAsync, Primitive::AsyncSingleflight] {
            for runtime in Runtime::ALL {
                let outcome = super::run(primitive, &params, runtime)
                    .unwrap_or_else(|err| panic!("{primitive} on {runtime:?}: {err}"));
                assert_eq!(outcome.items, 64);
                if primitive == Primitive::ChanlabAsync {
                    assert_eq!(outcome.counters["errors_without_value"], 0);
                }
            }
        }
    }

    #[test]
    fn oracle_rejects_a_stale_table_for_tasks() {
        let err = Runtime::CurrentThread
            .block_on(run_tasks::<Tokio, _>(
                StaleTable(Mutex::new(HashMap::new())),
                &two_sequential_rounds(),
            ))
            .unwrap_err();
        assert!(
            matches!(&err, ScenarioError::Oracle(message) if message.contains("stale")),
            "{err}"
        );
    }

    #[test]
    fn one_producer_still_has_a_failing_key() {
        let params = Params {
            items: 8,
            producers: 1,
            workers: 2,
            ..Params::default()
        };
        assert!(run(&params).is_ok());
    }

    #[test]
    fn oracle_rejects_a_wrong_key_or_a_swallowed_error() {
        let wrong_key = Call {
            key: 0,
            begin: 0,
            end: 3,
            led: Some(Led { id: 0, start: 1 }),
            value: Some(Ok(Execution { key: 1, id: 0 })),
            shared: Some(false),
        };
        let err = check(&[wrong_key]).unwrap_err();
        assert!(err.to_string().contains("a result for key 1"), "{err}");
        let swallowed = Call {
            key: 1,
            begin: 0,
            end: 3,
            led: Some(Led { id: 0, start: 1 }),
            value: Some(Ok(Execution { key: 1, id: 0 })),
            shared: Some(false),
        };
        let err = check(&[swallowed]).unwrap_err();
        assert!(err.to_string().contains("executions fail"), "{err}");
    }
}
