//! The code a state runs: its start and stop functions are called through the hot-patch
//! jump table (feature `hot`), and each has a [`CodeKey`] a patch can be checked against.
//!
//! A jump table maps the address of a function of the running binary to the address of its
//! newest version in a loaded patch; `subsecond` hands one over after each patch, and
//! `lifecycle::hot` installs it here with [`install`]. Every call of a start or stop function
//! looks its function up first, so a state started after a patch runs the patched code.
//!
//! - A plain function (`#[defstate]`, `defstate!`) is looked up by its own address.
//! - A closure (local states, `State::new`, `with_stop`, `redefine`) cannot be: it is called
//!   through a vtable that no patch replaces. It is called through `trampoline0::<F, _>`
//!   (`trampoline1` for a stop), a function generic over the closure's type, so each closure
//!   gets a copy of its own in the user's crate, and that copy is what a patch replaces (it
//!   calls the closure's new body). This is the mechanism of `subsecond::HotFn`, written out
//!   here because `HotFn` treats every pointer-sized callable (such as a closure capturing
//!   one reference) as a function pointer and would call its data.
//!
//! Without the feature every function here is the identity or a direct call, and [`CodeKey`]
//! is empty: zero cost.
//!
//! Imports nothing from the crate (a base module, under `state` and `hot`).

/// The address of a start or stop function as a jump table knows it (empty without `hot`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub(crate) struct CodeKey(#[cfg(feature = "hot")] pub(crate) u64);

impl CodeKey {
    #[cfg_attr(not(feature = "hot"), allow(unused_variables))]
    fn of(address: usize) -> CodeKey {
        CodeKey(
            #[cfg(feature = "hot")]
            {
                address as u64
            },
        )
    }
}

/// A function pointer type that can be redirected through the jump table.
pub(crate) trait FnPtr: Copy {
    /// Its address.
    fn address(self) -> usize;
    /// The function at `address`.
    ///
    /// # Safety
    ///
    /// `address` must be the address of a function of exactly this type.
    #[cfg(feature = "hot")]
    unsafe fn at(address: usize) -> Self;
}

macro_rules! fn_ptr {
    ($([$($generic:ident),*] $ty:ty;)*) => {$(
        impl<$($generic),*> FnPtr for $ty {
            fn address(self) -> usize {
                self as usize
            }
            #[cfg(feature = "hot")]
            unsafe fn at(address: usize) -> Self {
                // SAFETY: the caller promises `address` is a function of this type; function
                // pointers and `usize` have the same size on every target `subsecond` runs on.
                unsafe { std::mem::transmute::<usize, $ty>(address) }
            }
        }
    )*};
}

fn_ptr! {
    [R] fn() -> R;
    [A, R] fn(A) -> R;
    [A, B, R] fn(A, B) -> R;
}

/// The key of a plain start or stop function.
pub(crate) fn key_of<P: FnPtr>(function: P) -> CodeKey {
    CodeKey::of(function.address())
}

/// `function` as the newest patch has it (itself if no patch replaced it).
#[inline]
pub(crate) fn newest<P: FnPtr>(function: P) -> P {
    #[cfg(feature = "hot")]
    if let Some(target) = table::target(function.address() as u64) {
        // SAFETY: a jump table maps a function to the newest version of the same function
        // (same symbol, so same type); `install`'s contract is that the table is one.
        return unsafe { P::at(target as usize) };
    }
    function
}

fn trampoline0<F: Fn() -> R, R>(f: &F) -> R {
    f()
}

fn trampoline1<F: Fn(A) -> R, A, R>(f: &F, argument: A) -> R {
    f(argument)
}

/// Calls the closure `f` as the newest patch has it.
#[inline]
pub(crate) fn call0<'a, F: Fn() -> R, R>(f: &'a F) -> R {
    newest(trampoline0::<F, R> as fn(&'a F) -> R)(f)
}

/// Calls the closure `f` with `argument` as the newest patch has it.
#[inline]
pub(crate) fn call1<'a, F: Fn(A) -> R, A, R>(f: &'a F, argument: A) -> R {
    newest(trampoline1::<F, A, R> as fn(&'a F, A) -> R)(f, argument)
}

/// The key of a closure called with [`call0`].
pub(crate) fn key0<'a, F: Fn() -> R, R>(_: &'a F) -> CodeKey {
    key_of(trampoline0::<F, R> as fn(&'a F) -> R)
}

/// The key of a closure called with [`call1`].
pub(crate) fn key1<'a, F: Fn(A) -> R, A, R>(_: &'a F) -> CodeKey {
    key_of(trampoline1::<F, A, R> as fn(&'a F, A) -> R)
}

#[cfg(feature = "hot")]
pub(crate) use table::{install, Map};

/// The installed jump table.
#[cfg(feature = "hot")]
mod table {
    use std::collections::HashMap;
    use std::sync::{Arc, PoisonError, RwLock};

    /// Old address to newest address, as installed by the last patch.
    pub(crate) type Map = HashMap<u64, u64>;

    static TABLE: RwLock<Option<Arc<Map>>> = RwLock::new(None);

    /// Makes `map` the table every later start and stop call looks its function up in;
    /// returns the table it replaces.
    ///
    /// # Safety
    ///
    /// Every entry must map the address of a function of this program to the address of a
    /// function of the same type that stays loaded (a patch's jump table, or functions of the
    /// program itself).
    pub(crate) unsafe fn install(map: Arc<Map>) -> Option<Arc<Map>> {
        let mut table = TABLE.write().unwrap_or_else(PoisonError::into_inner);
        table.replace(map)
    }

    /// Where the installed table sends `address`, if it has it.
    pub(crate) fn target(address: u64) -> Option<u64> {
        let table = TABLE.read().unwrap_or_else(PoisonError::into_inner);
        table.as_ref()?.get(&address).copied()
    }
}

#[cfg(all(test, feature = "hot"))]
mod tests {
    use super::*;

    fn one() -> u32 {
        1
    }
    fn two() -> u32 {
        2
    }

    #[test]
    fn a_closure_and_a_function_follow_the_installed_table() {
        let base = 40;
        let closure = move || base + 1;
        let f = one as fn() -> u32;
        assert_eq!((newest(f)(), call0(&closure)), (1, 41));
        assert_ne!(key0(&closure), key_of(f));
        let table = [(key_of(f).0, key_of(two as fn() -> u32).0)];
        // SAFETY: `one` and `two` are functions of this program of the same type.
        let before = unsafe { install(std::sync::Arc::new(table.into_iter().collect())) };
        assert_eq!(newest(f)(), 2);
        assert_eq!(call0(&closure), 41); // not in the table: its own code
        // A closure is replaced through its trampoline: this one by `replaced::<F>`.
        fn replaced<F>(_: &F) -> u32 {
            99
        }
        fn replacement<F>(f: &F) -> u64 {
            fn typed<'a, F>(_: &'a F) -> fn(&'a F) -> u32 {
                replaced::<F>
            }
            key_of(typed(f)).0
        }
        let table = [(key0(&closure).0, replacement(&closure))];
        // SAFETY: `replaced::<F>` has the signature of `trampoline0::<F, u32>`.
        unsafe { install(std::sync::Arc::new(table.into_iter().collect())) };
        assert_eq!((call0(&closure), newest(f)()), (99, 1));
        // SAFETY: as above (the table this test replaced, or none).
        unsafe { install(before.unwrap_or_default()) };
    }
}
