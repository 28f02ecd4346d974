//! The asymmetric fence pair that keeps the read path free of `lock`-prefixed instructions.
//!
//! A reader announces itself (a plain store to its own per-thread counter) and then reads the
//! state's status; a stopper publishes `STOPPING` and then reads every reader's counter. That
//! is Dekker's store-load pattern and needs a full fence on both sides. Readers are hot and
//! stoppers are rare, so on Linux the reader's side is only a compiler fence and the stopper
//! issues `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which runs a full fence on every CPU
//! currently executing a thread of this process — the technique of Linux's RCU, Folly's
//! `asymmetricHeavyBarrier` and crossbeam's `membarrier` experiments.
//!
//! Where `membarrier` is not available (another OS, an old kernel, a seccomp filter), both
//! sides use `fence(SeqCst)`: slower reads, the same guarantees. Under loom, both sides are
//! `fence(SeqCst)`, which loom models exactly; `membarrier` is the same thing as far as the
//! reader can tell, done by the kernel on the reader's behalf.
//!
//! Imports only the kernel's `sync`; must not import `state` or `async_state`.

use super::sync::{fence, Ordering};

/// True once `membarrier` is registered for this process; readers may then skip the CPU fence.
#[cfg(all(target_os = "linux", not(loom)))]
static HEAVY_IS_MEMBARRIER: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// The reader's half: call between announcing a read and checking the status.
#[inline(always)]
pub(crate) fn light() {
    #[cfg(all(target_os = "linux", not(loom)))]
    {
        // A stale `false` only costs a real fence; `true` is stored only after registration,
        // and every `heavy()` after that interrupts this thread with a full barrier.
        if HEAVY_IS_MEMBARRIER.load(std::sync::atomic::Ordering::Relaxed) {
            std::sync::atomic::compiler_fence(Ordering::SeqCst);
            return;
        }
    }
    fence(Ordering::SeqCst);
}

/// The stopper's half: call between publishing `STOPPING` and reading the reader counts.
pub(crate) fn heavy() {
    #[cfg(all(target_os = "linux", not(loom)))]
    {
        if membarrier::ready() {
            if membarrier::expedited() {
                return;
            }
            // Registered but refused (never seen): the global command needs no registration.
            // Readers that skipped their fence are covered by it too.
            if membarrier::global() {
                return;
            }
        }
    }
    fence(Ordering::SeqCst);
}

#[cfg(all(target_os = "linux", not(loom)))]
mod membarrier {
    use std::sync::OnceLock;

    const CMD_GLOBAL: libc::c_int = 1 << 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    fn call(cmd: libc::c_int) -> bool {
        // SAFETY: `membarrier(cmd, flags = 0, cpu_id = 0)` takes no pointers and has no effect
        // on memory this program owns; an unsupported command fails with an errno.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_uint,
                0 as libc::c_int,
            ) == 0
        }
    }

    /// Registers this process once; true if readers may use compiler fences from now on.
    pub(super) fn ready() -> bool {
        // Miri cannot make this system call: there, both sides use `fence(SeqCst)`.
        if cfg!(miri) {
            return false;
        }
        static REGISTERED: OnceLock<bool> = OnceLock::new();
        *REGISTERED.get_or_init(|| {
            let ok = call(CMD_REGISTER_PRIVATE_EXPEDITED);
            if ok {
                super::HEAVY_IS_MEMBARRIER.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            ok
        })
    }

    pub(super) fn expedited() -> bool {
        call(CMD_PRIVATE_EXPEDITED)
    }

    pub(super) fn global() -> bool {
        call(CMD_GLOBAL)
    }
}

/// Registers the fast barrier before the first state is published, so the first readers
/// already take the cheap path.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn prepare() {
    #[cfg(all(target_os = "linux", not(loom)))]
    {
        let _ = membarrier::ready();
    }
}
