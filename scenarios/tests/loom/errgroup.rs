//! Error group: the first error is returned and cancels the rest, and every
//! task ends.

use super::*;

#[test]
fn errgroup_returns_the_first_error_and_ends_every_task() {
    model(|| {
        let mut group = ErrGroup::new(&CancelToken::new());
        group.spawn(|token| {
            token.wait();
            Err("cancelled")
        });
        group.spawn(|_| Err("first"));
        assert_eq!(group.wait(), Ok(Err("first")));
    });
}

/// Broken: an error group that records the first error but never cancels
/// its token, so a task waiting on the token never ends.
#[test]
fn errgroup_twin_that_does_not_cancel_deadlocks() {
    let report = loom_finds(
        "errgroup::errgroup_twin_that_does_not_cancel_deadlocks",
        || {
            let token = CancelToken::new();
            let first_error = Arc::new(Mutex::new(None));
            let tasks: Vec<_> = [true, false]
                .into_iter()
                .map(|fails| {
                    let (token, first_error) = (token.clone(), Arc::clone(&first_error));
                    thread::spawn(move || {
                        let result: Result<(), &str> = if fails {
                            Err("first")
                        } else {
                            token.wait();
                            Err("cancelled")
                        };
                        if let Err(error) = result {
                            first_error.lock().get_or_insert(error);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.join().unwrap();
            }
        },
    );
    assert!(report.contains("deadlock"), "{report}");
}
