//! What the criterion benches share: their measurement settings and their `main`.

use criterion::Criterion;
use std::time::Duration;

/// Criterion with `warm_up` of warm-up, two seconds of measurement and `samples` samples.
pub fn config(warm_up: Duration, samples: usize) -> Criterion {
    Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(Duration::from_secs(2))
        .sample_size(samples)
}

/// The bench binary's `main`: runs `$target` under [`config`]`($warm_up, $samples)`.
#[macro_export]
macro_rules! bench_main {
    ($target:ident, $warm_up:expr, $samples:expr) => {
        criterion::criterion_group! {
            name = benches;
            config = common::config($warm_up, $samples);
            targets = $target
        }
        criterion::criterion_main!(benches);
    };
}
