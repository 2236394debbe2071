//! Map-reduce: word count. Split the input into chunks, count words in
//! parallel, shuffle the partial counts by key to reducers, and sum.
//!
//! Use it when a computation over a large input splits into independent
//! pieces whose results combine by key. Every stage is connected by
//! channels: the splitter deals chunks round-robin to mappers (one channel
//! each, so any flavor runs it), and each mapper sends each word to the
//! reducer that owns its key (a channel per reducer, with every mapper as a
//! sender).
//!
//! Params: `items` words of input, `workers` mappers and as many reducers,
//! `capacity` of every channel, `work` per chunk in the mapper.
//!
//! Oracle: the merged counts equal a sequential count of the same input,
//! and each reducer saw only the keys it owns.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use chanlab_contract::{AsyncFlavor, AsyncReceiver, AsyncSender, Receiver, Sender, SyncFlavor};

use super::{Executor, TaskSet, Tokio, busy, require};
use crate::coord::WaitGroup;
use crate::outcome::ensure;
use crate::{Outcome, Params, ScenarioError};

/// Words per chunk handed to a mapper.
pub const CHUNK: usize = 64;

const VOCABULARY: [&str; 24] = [
    "go", "rust", "channel", "select", "worker", "pool", "pipe", "stage", "fan", "in", "out",
    "lock", "mutex", "atomic", "wait", "group", "token", "cancel", "timer", "tick", "map",
    "reduce", "send", "recv",
];

/// A partial count: some words and how often a mapper saw each.
type Counts = HashMap<&'static str, u64>;

/// The input: `words` words drawn from a fixed vocabulary by a fixed
/// generator, so every run counts the same text.
fn text(words: usize) -> Vec<&'static str> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    (0..words)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            VOCABULARY[(state % VOCABULARY.len() as u64) as usize]
        })
        .collect()
}

/// The reducer that owns `word`, by a hash every run computes alike.
fn owner(word: &str, reducers: usize) -> usize {
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(word);
    (hash % reducers as u64) as usize
}

/// Runs word count on threads.
pub fn run<F: SyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let input = text(params.items);
    let reducers = params.workers;
    let mut mappers_group = WaitGroup::new();
    let mut reducers_group = WaitGroup::new();
    let mut splitter = WaitGroup::new();

    let mut to_reducers = Vec::with_capacity(reducers);
    for _ in 0..reducers {
        let (tx, mut partials) = F::channel::<Counts>(params.capacity)?;
        to_reducers.push(tx);
        reducers_group.spawn(move || {
            let mut total = Counts::new();
            while let Ok(partial) = partials.recv() {
                reduce(&mut total, partial);
            }
            total
        });
    }
    let mut to_mappers = Vec::with_capacity(params.workers);
    for _ in 0..params.workers {
        let (tx, mut chunks) = F::channel::<Vec<&'static str>>(params.capacity)?;
        to_mappers.push(tx);
        let (to_reducers, work) = (to_reducers.clone(), params.work);
        mappers_group.spawn(move || {
            while let Ok(chunk) = chunks.recv() {
                busy(work);
                let shuffled = map_and_shuffle(&chunk, to_reducers.len());
                for (reducer, partial) in to_reducers.iter().zip(shuffled) {
                    if !partial.is_empty() && reducer.send(partial).is_err() {
                        return;
                    }
                }
            }
        });
    }
    drop(to_reducers);
    let chunks: Vec<Vec<&'static str>> = input.chunks(CHUNK).map(<[_]>::to_vec).collect();
    splitter.spawn(move || {
        for (chunk, mapper) in chunks.into_iter().zip(to_mappers.iter().cycle()) {
            if mapper.send(chunk).is_err() {
                return;
            }
        }
    });

    let threads = splitter.started() + mappers_group.started() + reducers_group.started();
    splitter.join()?;
    mappers_group.join()?;
    let totals = reducers_group.join()?;
    check(&input, reducers, &totals)?;
    Ok(Outcome::new(params.items as u64, threads))
}

/// Runs word count as tasks.
pub async fn run_async<F: AsyncFlavor>(params: &Params) -> Result<Outcome, ScenarioError> {
    run_async_on::<F, Tokio>(params).await
}

/// [`run_async`] on executor `E`.
pub async fn run_async_on<F: AsyncFlavor, E: Executor>(
    params: &Params,
) -> Result<Outcome, ScenarioError> {
    require(&F::INFO, params.capacity, None)?;
    let input = text(params.items);
    let reducers = params.workers;
    let mut reducer_tasks: E::Tasks<(usize, Counts)> = Default::default();
    let mut other_tasks: E::Tasks<()> = Default::default();

    let mut to_reducers = Vec::with_capacity(reducers);
    for reducer in 0..reducers {
        let (tx, mut partials) = F::channel::<Counts>(params.capacity)?;
        to_reducers.push(tx);
        reducer_tasks.spawn(async move {
            let mut total = Counts::new();
            while let Ok(partial) = partials.recv().await {
                reduce(&mut total, partial);
            }
            (reducer, total)
        });
    }
    let mut to_mappers = Vec::with_capacity(params.workers);
    for _ in 0..params.workers {
        let (tx, mut chunks) = F::channel::<Vec<&'static str>>(params.capacity)?;
        to_mappers.push(tx);
        let (to_reducers, work) = (to_reducers.clone(), params.work);
        other_tasks.spawn(async move {
            while let Ok(chunk) = chunks.recv().await {
                busy(work);
                let shuffled = map_and_shuffle(&chunk, to_reducers.len());
                for (reducer, partial) in to_reducers.iter().zip(shuffled) {
                    if !partial.is_empty() && reducer.send(partial).await.is_err() {
                        return;
                    }
                }
            }
        });
    }
    drop(to_reducers);
    let chunks: Vec<Vec<&'static str>> = input.chunks(CHUNK).map(<[_]>::to_vec).collect();
    other_tasks.spawn(async move {
        for (chunk, mapper) in chunks.into_iter().zip(to_mappers.iter().cycle()) {
            if mapper.send(chunk).await.is_err() {
                return;
            }
        }
    });

    let others = other_tasks.join().await?.len();
    let mut totals = reducer_tasks.join().await?;
    let threads = others + totals.len();
    totals.sort_unstable_by_key(|(reducer, _)| *reducer);
    let totals: Vec<Counts> = totals.into_iter().map(|(_, total)| total).collect();
    check(&input, reducers, &totals)?;
    Ok(Outcome::new(params.items as u64, threads))
}

/// The map step: counts a chunk's words, split by the reducer that owns
/// each word.
fn map_and_shuffle(chunk: &[&'static str], reducers: usize) -> Vec<Counts> {
    let mut shuffled = vec![Counts::new(); reducers];
    for &word in chunk {
        *shuffled[owner(word, reducers)].entry(word).or_default() += 1;
    }
    shuffled
}

/// The reduce step: adds a partial count into a total.
fn reduce(total: &mut Counts, partial: Counts) {
    for (word, count) in partial {
        *total.entry(word).or_default() += count;
    }
}

fn check(input: &[&'static str], reducers: usize, totals: &[Counts]) -> Result<(), ScenarioError> {
    let mut expected = Counts::new();
    for word in input {
        *expected.entry(word).or_default() += 1;
    }
    let mut merged = Counts::new();
    for (reducer, total) in totals.iter().enumerate() {
        for (&word, &count) in total {
            ensure(owner(word, reducers) == reducer, || {
                format!(
                    "reducer {reducer} counted {word:?}, which reducer {} owns",
                    owner(word, reducers)
                )
            })?;
            *merged.entry(word).or_default() += count;
        }
    }
    ensure(merged == expected, || {
        let wrong = VOCABULARY
            .iter()
            .find(|word| merged.get(*word) != expected.get(*word))
            .copied()
            .unwrap_or("?");
        format!(
            "word counts differ from a sequential count: {wrong:?} counted {:?}, expected {:?}",
            merged.get(wrong),
            expected.get(wrong)
        )
    })
}
