//! Starts that fail or panic at any position of a chain: the error names the cause, the
//! dependencies stay, nothing else starts, and the next use tries again.

use crate::chain::{kind_name, Chain, FAIL, PANIC, POSITIONS};
use crate::turn;
use std::sync::atomic::Ordering::SeqCst;

#[test]
fn a_failing_or_panicking_start_at_any_position_leaves_its_dependencies_and_nothing_else() {
    let _turn = turn();
    for (position, at) in POSITIONS.iter().enumerate() {
        for kind in [FAIL, PANIC] {
            let scenario = format!("start {} at {at}", kind_name(kind));
            let chain = Chain::new(&format!("start-{}-{position}", kind_name(kind)));
            chain.knobs[position].start.store(kind, SeqCst);
            let expected_realized: Vec<bool> = (0..3).map(|i| i < position).collect();
            let faulty = &chain.names[position];
            let innermost = match kind {
                FAIL => format!("state `{faulty}` failed to start: injected fault"),
                _ => format!("state `{faulty}` panicked while starting: injected fault"),
            };
            // Twice: a failed start is retried on the next use, and fails the same way.
            for attempt in 0..2 {
                let error = chain.last().try_get().unwrap_err().to_string();
                assert!(error.contains(&innermost), "{scenario} #{attempt}: {error}");
                assert_eq!(chain.realized(), expected_realized, "{scenario}");
                // `get` panics with the same story.
                let panic = std::panic::catch_unwind(|| {
                    chain.last().get();
                })
                .unwrap_err();
                let message = panic.downcast_ref::<String>().unwrap();
                assert!(message.contains(&innermost), "{scenario}: {message}");
            }
            // The dependencies started once and stay; nothing else started.
            let (starts, _) = chain.counts();
            let expected_starts: Vec<usize> = (0..3).map(|i| usize::from(i < position)).collect();
            assert_eq!(starts, expected_starts, "{scenario}");
            // The faulty state itself is usable at once when the fault goes away.
            chain.disarm();
            assert!(chain.states[position].try_get().is_ok(), "{scenario}");
            chain.assert_usable(&scenario);
        }
    }
}
