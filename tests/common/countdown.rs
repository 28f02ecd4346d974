//! The check of a supervision test that fails a given number of times, then passes.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Fails while `left` is above zero, counting it down, with `why(n)` (`n`: the failures left,
/// this one included); passes once it is zero.
pub fn fail_while_left(
    left: &AtomicUsize,
    why: impl FnOnce(usize) -> String,
) -> Result<(), String> {
    match left.load(Ordering::SeqCst) {
        0 => Ok(()),
        n => {
            left.store(n - 1, Ordering::SeqCst);
            Err(why(n))
        }
    }
}
