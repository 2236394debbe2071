//! Singleflight: one execution per key in flight at a time, and every
//! caller gets the result of an execution.

use super::*;

/// What the singleflight model needs.
trait Flights: Send + Sync + 'static {
    fn new() -> Self;
    fn run(&self, key: u8, work: &dyn Fn() -> usize) -> usize;
}

impl Flights for Singleflight<u8, usize> {
    fn new() -> Self {
        Singleflight::new()
    }
    fn run(&self, key: u8, work: &dyn Fn() -> usize) -> usize {
        Singleflight::run(self, key, work).value
    }
}

/// Broken: looks the key up and registers the call under two separate
/// locks, so two callers can both miss and both run.
struct LookThenRegister(Mutex<std::collections::HashMap<u8, usize>>);

impl Flights for LookThenRegister {
    fn new() -> Self {
        LookThenRegister(Mutex::new(std::collections::HashMap::new()))
    }
    fn run(&self, key: u8, work: &dyn Fn() -> usize) -> usize {
        let in_flight = self.0.lock().contains_key(&key);
        if !in_flight {
            self.0.lock().insert(key, 0);
            let value = work();
            self.0.lock().remove(&key);
            return value;
        }
        // Joining a call in flight: wait for it to end, then run again.
        while self.0.lock().contains_key(&key) {
            thread::yield_now();
        }
        work()
    }
}

/// Two callers ask for one key at once.
fn singleflight_model<F: Flights>() {
    let table = Arc::new(F::new());
    let running = Arc::new(AtomicUsize::new(0));
    let executions = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (table, running, executions) = (
                Arc::clone(&table),
                Arc::clone(&running),
                Arc::clone(&executions),
            );
            thread::spawn(move || {
                table.run(7, &|| {
                    let at_once = running.fetch_add(1, Ordering::SeqCst) + 1;
                    assert_eq!(at_once, 1, "two executions of one key in flight at once");
                    running.fetch_sub(1, Ordering::SeqCst);
                    executions.fetch_add(1, Ordering::SeqCst) + 1
                })
            })
        })
        .collect();
    for caller in callers {
        let execution = caller.join().unwrap();
        assert!(execution >= 1 && execution <= executions.load(Ordering::SeqCst));
    }
}

#[test]
fn singleflight_runs_one_execution_per_key_at_a_time() {
    model(singleflight_model::<Singleflight<u8, usize>>);
}

#[test]
fn singleflight_twin_with_check_then_act_runs_two_at_once() {
    let report = loom_finds(
        "singleflight::singleflight_twin_with_check_then_act_runs_two_at_once",
        singleflight_model::<LookThenRegister>,
    );
    assert!(report.contains("in flight at once"), "{report}");
}
