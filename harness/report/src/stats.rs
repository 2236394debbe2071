//! The statistics behind every verdict: medians, percentile-bootstrap
//! confidence intervals, the Mann-Whitney U test, and Holm's correction for
//! testing many cells at once. Resampling uses a fixed seed, so the same
//! results always give the same report.

/// Resamples drawn for a bootstrap interval.
pub const RESAMPLES: usize = 2_000;

/// The median of `values`; `None` when there are none (non-finite values
/// are ignored).
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    })
}

/// A confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Interval {
    /// The lower bound.
    pub low: f64,
    /// The upper bound.
    pub high: f64,
}

impl Interval {
    /// Whether `value` lies inside the interval, bounds included.
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// The neighbour ratio at which [`bimodal`] splits.
pub const BIMODAL_STEP: f64 = 1.3;

/// Whether `values` (positive, at least five) fall in two groups: sorted,
/// the largest ratio between two neighbours is at least [`BIMODAL_STEP`]
/// and at least half the whole range's (on a log scale), with at least two
/// values on each side. Defined before any data was looked at: a gap that
/// dominates the range is two placements or two code paths, not noise.
pub fn bimodal(values: &[f64]) -> bool {
    let mut sorted: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    if sorted.len() < 5 {
        return false;
    }
    sorted.sort_by(f64::total_cmp);
    let range = (sorted[sorted.len() - 1] / sorted[0]).ln();
    let (at, gap) = sorted
        .windows(2)
        .enumerate()
        .map(|(at, pair)| (at, (pair[1] / pair[0]).ln()))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, 0.0));
    let below = at + 1;
    gap >= BIMODAL_STEP.ln() && gap >= range / 2.0 && below >= 2 && sorted.len() - below >= 2
}

/// The `confidence` percentile-bootstrap interval of
/// `median(current) / median(baseline)`: both sides resampled with
/// replacement, independently (resamples whose baseline median is zero are
/// skipped). `None` when either side is empty.
pub fn ratio_of_medians_interval(
    baseline: &[f64],
    current: &[f64],
    confidence: f64,
) -> Option<Interval> {
    if baseline.is_empty() || current.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(baseline.len() as u64 * 31 + current.len() as u64);
    let mut ratios = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        let base = median(&rng.resample(baseline))?;
        let cur = median(&rng.resample(current))?;
        if base != 0.0 {
            ratios.push(cur / base);
        }
    }
    percentile_interval(&mut ratios, confidence)
}

/// The `confidence` percentile-bootstrap interval of the median of
/// `values` (for paired ratios, already one value per pair).
pub fn median_interval(values: &[f64], confidence: f64) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    let mut rng = SplitMix64::new(values.len() as u64);
    let mut medians: Vec<f64> = (0..RESAMPLES)
        .filter_map(|_| median(&rng.resample(values)))
        .collect();
    percentile_interval(&mut medians, confidence)
}

/// The Hodges-Lehmann estimate of the centre of `values` and its interval
/// at `confidence`, from the Wilcoxon signed-rank distribution: the
/// interval runs between the `k`-th smallest and largest of the Walsh
/// averages `(x_i + x_j) / 2`, `i <= j`, with the largest `k` whose
/// coverage is at least `confidence`. It assumes the values are
/// independent and symmetric about their centre (paired log-ratios of two
/// runs that differ only in which build ran, with the order alternating,
/// are), and is narrower than the sign test's interval of the median on
/// the same values. `None` for the interval when there are too few values
/// for any `k` ([`pairs_for_signed_rank_interval`]), or more than 2,000;
/// `None` altogether for no values.
pub fn signed_rank_interval(values: &[f64], confidence: f64) -> Option<(f64, Option<Interval>)> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut walsh: Vec<f64> = (0..n)
        .flat_map(|i| (i..n).map(move |j| (i, j)))
        .map(|(i, j)| (values[i] + values[j]) / 2.0)
        .collect();
    walsh.sort_by(f64::total_cmp);
    let estimate = median(&walsh)?;
    if n > 2000 {
        return Some((estimate, None));
    }
    let p = signed_rank_distribution(n);
    let most = p.len() - 1;
    let tail = (1.0 - confidence) / 2.0;
    let mut below = 0.0;
    let mut k = 0;
    while k < most / 2 && below + p[k] <= tail {
        below += p[k];
        k += 1;
    }
    let interval = (k > 0).then(|| Interval {
        low: walsh[k - 1],
        high: walsh[most - k],
    });
    Some((estimate, interval))
}

/// The distribution of the Wilcoxon signed-rank statistic over `n`
/// values with no ties, under symmetry about zero: `p[s] = P(T = s)`,
/// built one rank at a time (each is in the sum or not, with chance 1/2).
fn signed_rank_distribution(n: usize) -> Vec<f64> {
    let most = n * (n + 1) / 2;
    let mut p = vec![0.0f64; most + 1];
    p[0] = 1.0;
    for rank in 1..=n {
        for sum in (0..=rank * (rank + 1) / 2).rev() {
            let with = if sum >= rank { p[sum - rank] } else { 0.0 };
            p[sum] = (p[sum] + with) / 2.0;
        }
    }
    p
}

/// The fewest values for which [`signed_rank_interval`] gives an interval
/// at `confidence`: the smallest `n` with `2 / 2^n <= 1 - confidence`.
pub fn pairs_for_signed_rank_interval(confidence: f64) -> usize {
    (1..=1024)
        .find(|&n| 2.0 * 0.5f64.powi(n as i32) <= 1.0 - confidence)
        .unwrap_or(1024)
}

fn percentile_interval(samples: &mut [f64], confidence: f64) -> Option<Interval> {
    if samples.is_empty() {
        return None;
    }
    let confidence = confidence.clamp(0.0, 1.0);
    samples.sort_by(f64::total_cmp);
    let tail = (1.0 - confidence) / 2.0;
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    Some(Interval {
        low: at(tail),
        high: at(1.0 - tail),
    })
}

/// The two-sided p-value of the Mann-Whitney U test that `a` and `b` come
/// from the same distribution. Exact when the samples are small (counting
/// every way to split the pooled ranks, ties given their average rank),
/// otherwise the normal approximation with tie and continuity corrections.
/// 1.0 when either sample is empty.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return 1.0;
    }
    let mut pooled: Vec<(f64, bool)> = a
        .iter()
        .map(|&v| (v, true))
        .chain(b.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Ranks doubled, so an average over ties stays an integer.
    let mut doubled_ranks = Vec::with_capacity(pooled.len());
    let mut doubled_sum_a = 0;
    let mut tie_term = 0.0;
    let mut start = 0;
    while start < pooled.len() {
        let mut end = start;
        while end + 1 < pooled.len() && pooled[end + 1].0 == pooled[start].0 {
            end += 1;
        }
        let doubled = start + end + 2;
        let size = (end - start + 1) as f64;
        tie_term += size * size * size - size;
        for &(_, in_a) in &pooled[start..=end] {
            doubled_ranks.push(doubled);
            if in_a {
                doubled_sum_a += doubled;
            }
        }
        start = end + 1;
    }
    if n + m <= EXACT_TOTAL {
        return exact_p(&doubled_ranks, n, doubled_sum_a);
    }
    let u = doubled_sum_a as f64 / 2.0 - (n * (n + 1)) as f64 / 2.0;
    let (nf, mf) = (n as f64, m as f64);
    let total = nf + mf;
    let variance = nf * mf / 12.0 * ((total + 1.0) - tie_term / (total * (total - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let deviation = ((u - nf * mf / 2.0).abs() - 0.5).max(0.0);
    (2.0 * normal_upper_tail(deviation / variance.sqrt())).min(1.0)
}

/// Largest pooled sample for which [`mann_whitney`] counts exactly.
const EXACT_TOTAL: usize = 40;

/// The two-sided p-value of drawing `n` of the (doubled) `ranks` with a sum
/// as far out as `observed`, by counting the subsets of every size and sum.
fn exact_p(ranks: &[usize], n: usize, observed: usize) -> f64 {
    let max: usize = ranks.iter().sum();
    // ways[k][s]: subsets of the ranks seen so far with k members summing to s.
    let mut ways = vec![vec![0.0_f64; max + 1]; n + 1];
    ways[0][0] = 1.0;
    for &rank in ranks {
        for k in (1..=n).rev() {
            let (fewer, this) = ways.split_at_mut(k);
            for s in rank..=max {
                this[0][s] += fewer[k - 1][s - rank];
            }
        }
    }
    let sums = &ways[n];
    let total: f64 = sums.iter().sum();
    let lower: f64 = sums[..=observed].iter().sum();
    let upper: f64 = sums[observed..].iter().sum();
    (2.0 * lower.min(upper) / total).min(1.0)
}

/// The smallest two-sided p-value the Mann-Whitney U test can give with
/// samples of `n` and `m` values: every value of one side beyond every
/// value of the other, with no ties (ties only raise it), `2 / C(n+m, n)`.
pub fn smallest_p(n: usize, m: usize) -> f64 {
    if n == 0 || m == 0 {
        return 1.0;
    }
    let arrangements = (1..=n).fold(1.0, |c, i| c * (m + i) as f64 / i as f64);
    (2.0 / arrangements).min(1.0)
}

/// The one-sided p-value of the Wilcoxon signed-rank test that `values`
/// are centred above zero: the chance, were they symmetric about zero,
/// of a sum of the ranks of the positive ones (ranked by size, zeros left
/// out) at least as large as observed. Exact, from the same distribution
/// as [`signed_rank_interval`]; 1 for no values.
pub fn signed_rank_p(values: &[f64]) -> f64 {
    let mut nonzero: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| v.is_finite() && *v != 0.0)
        .collect();
    let n = nonzero.len();
    if n == 0 || n > 2000 {
        return 1.0;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    let observed: usize = nonzero
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0.0)
        .map(|(rank, _)| rank + 1)
        .sum();
    signed_rank_distribution(n)[observed..]
        .iter()
        .sum::<f64>()
        .min(1.0)
}

/// Benjamini and Hochberg's step-up adjustment of `p_values`: calling
/// every adjusted p below α a discovery keeps the expected share of false
/// ones among the discoveries below α (for independent or positively
/// dependent tests).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&x, &y| p_values[y].total_cmp(&p_values[x]));
    let count = p_values.len() as f64;
    let mut adjusted = vec![1.0; p_values.len()];
    let mut running = 1.0_f64;
    for (step, &index) in order.iter().enumerate() {
        let rank = count - step as f64;
        running = running.min((p_values[index] * count / rank).min(1.0));
        adjusted[index] = running;
    }
    adjusted
}

/// Holm's step-down adjustment of `p_values` for testing them all at once:
/// rejecting every adjusted p below α keeps the chance of any false alarm
/// among them below α.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&x, &y| p_values[x].total_cmp(&p_values[y]));
    let count = p_values.len() as f64;
    let mut adjusted = vec![1.0; p_values.len()];
    let mut running = 0.0_f64;
    for (step, &index) in order.iter().enumerate() {
        running = running.max(((count - step as f64) * p_values[index]).min(1.0));
        adjusted[index] = running;
    }
    adjusted
}

/// P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26 for
/// erfc, absolute error below 1.5e-7).
fn normal_upper_tail(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erfc = poly * (-x * x).exp();
    if x >= 0.0 {
        erfc / 2.0
    } else {
        1.0 - erfc / 2.0
    }
}

/// SplitMix64: a small, fixed, well-mixed generator, enough for resampling
/// indices and for fuzzing inputs that replay from their seed.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose sequence `seed` decides.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    fn resample(&mut self, values: &[f64]) -> Vec<f64> {
        (0..values.len())
            .map(|_| values[(self.next_u64() % values.len() as u64) as usize])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_rank_p_values_match_the_exact_table() {
        // Every one of 7 values above zero: 1 / 2^7.
        let all_up = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
        assert!((signed_rank_p(&all_up) - 1.0 / 128.0).abs() < 1e-12);
        // All below zero: every arrangement is at least as large.
        assert!((signed_rank_p(&all_up.map(|v| -v)) - 1.0).abs() < 1e-12);
        // n = 4, the smallest negative: T+ = 2+3+4 = 9 of 10; P(T+ >= 9) = 2/16.
        assert!((signed_rank_p(&[-0.1, 0.2, 0.3, 0.4]) - 2.0 / 16.0).abs() < 1e-12);
        assert_eq!(signed_rank_p(&[]), 1.0);
    }

    #[test]
    fn benjamini_hochberg_steps_up() {
        let adjusted = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        // Sorted 0.01, 0.03, 0.04, 0.5 over 4: 0.04, 0.06, 0.0533, 0.5,
        // then running minima from the top: 0.04, 0.0533, 0.0533, 0.5.
        let expected = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.5];
        for (got, want) in adjusted.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{adjusted:?}");
        }
    }

    #[test]
    fn two_groups_apart_are_bimodal_and_one_spread_group_is_not() {
        // The published quick report's crossbeam SPSC bounded(64) cell.
        assert!(bimodal(&[1.47, 2.09, 2.50, 9.67, 10.10, 10.11, 10.12]));
        assert!(!bimodal(&[8.3, 8.4, 8.5, 8.6, 8.9, 9.3]));
        // A lone outlier is not a mode.
        assert!(!bimodal(&[8.3, 8.4, 8.5, 8.6, 8.9, 20.0]));
        // A steady climb has no gap that dominates.
        assert!(!bimodal(&[1.0, 1.4, 2.0, 2.8, 4.0, 5.6]));
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn exact_mann_whitney_matches_the_tables() {
        // All three of one side above all three of the other: 2/C(6,3).
        assert!((mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]) - 0.1).abs() < 1e-12);
        assert!((smallest_p(3, 3) - 0.1).abs() < 1e-12);
        // Five against five, fully separated: 2/252.
        let low = [1.0, 2.0, 3.0, 4.0, 5.0];
        let high = [6.0, 7.0, 8.0, 9.0, 10.0];
        assert!((mann_whitney(&low, &high) - 2.0 / 252.0).abs() < 1e-12);
        // Interleaved samples are no evidence of a difference.
        assert_eq!(mann_whitney(&[1.0, 3.0, 5.0], &[2.0, 4.0, 6.0]), 0.7);
    }

    #[test]
    fn ties_are_counted_exactly_and_never_beat_the_smallest_p() {
        let p = mann_whitney(&[1.0, 1.0, 2.0, 2.0], &[1.0, 1.0, 2.0, 2.0]);
        assert!(p > 0.9, "{p}");
        // Tied within each side, separated between: as strong as it gets.
        assert!((mann_whitney(&[1.0; 3], &[2.0; 3]) - smallest_p(3, 3)).abs() < 1e-12);
        let p = mann_whitney(&[1.0; 8], &[2.0; 8]);
        assert!((p - smallest_p(8, 8)).abs() < 1e-12, "{p}");
        // Large samples take the normal approximation.
        let low: Vec<f64> = (0..30).map(f64::from).collect();
        let high: Vec<f64> = (100..130).map(f64::from).collect();
        assert!(mann_whitney(&low, &high) < 1e-9);
    }

    #[test]
    fn holm_steps_down_and_stays_monotone() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.5]);
        assert_eq!(adjusted, vec![0.04, 0.09, 0.09, 0.5]);
    }

    #[test]
    fn bootstrap_interval_covers_the_ratio() {
        let baseline = [100.0, 102.0, 98.0, 101.0, 99.0];
        let current = [50.0, 51.0, 49.0, 50.5, 49.5];
        let interval = ratio_of_medians_interval(&baseline, &current, 0.95).unwrap();
        assert!(interval.contains(0.5), "{interval:?}");
        assert!(interval.high < 0.6, "{interval:?}");
        let same = median_interval(&[1.0, 1.0, 1.0], 0.95).unwrap();
        assert_eq!(
            same,
            Interval {
                low: 1.0,
                high: 1.0
            }
        );
    }

    #[test]
    fn signed_rank_interval_matches_the_wilcoxon_table() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let (estimate, interval) = signed_rank_interval(&values, 0.95).expect("values");
        assert_eq!(estimate, 5.5);
        // n = 10 at 95%: the critical value is 8 (P(T <= 8) = 0.0244), so
        // the 9th smallest and largest of the 55 Walsh averages: [3, 8].
        assert_eq!(
            interval,
            Some(Interval {
                low: 3.0,
                high: 8.0
            })
        );
        // Five values cannot reach 95% (P(T = 0) = 1/32 > 0.025).
        assert_eq!(
            signed_rank_interval(&values[..5], 0.95).map(|r| r.1),
            Some(None)
        );
        // The sign test's interval on the same values is [2, 9].
        assert_eq!(signed_rank_interval(&[], 0.95), None);
        assert_eq!(pairs_for_signed_rank_interval(0.95), 6);
        // 0.05 over 40 comparisons: 2 / 2^n <= 0.00125 needs n = 11.
        assert_eq!(pairs_for_signed_rank_interval(1.0 - 0.05 / 40.0), 11);
    }
}
