//! What the criterion benches share: their measurement settings.

use criterion::Criterion;
use std::time::Duration;

/// Criterion with `warm_up` of warm-up, two seconds of measurement and `samples` samples.
pub fn config(warm_up: Duration, samples: usize) -> Criterion {
    Criterion::default()
        .warm_up_time(warm_up)
        .measurement_time(Duration::from_secs(2))
        .sample_size(samples)
}
