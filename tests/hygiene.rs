//! The macros expand to working code next to user items that shadow every name generated code
//! could reach for: the prelude's types and variants, `core`, `lifecycle`, the standard
//! macros, and the names of the expansion's own bindings.

mod common;

mod shadowed {
    #![allow(dead_code, non_camel_case_types, non_upper_case_globals, unused_macros)]

    crate::common::shadow_prelude!();
    mod lifecycle {}
    // The expansion binds values in closures; a static of that name would capture the pattern
    // if the expansion's names resolved where the user's do.
    static value: u8 = 0;
    static __LIFECYCLE_CORE: u8 = 0;
    macro_rules! concat {
        ($($t:tt)*) => {
            compile_error!("shadowed concat!")
        };
    }
    macro_rules! line {
        () => {
            compile_error!("shadowed line!")
        };
    }
    macro_rules! file {
        () => {
            compile_error!("shadowed file!")
        };
    }
    macro_rules! column {
        () => {
            compile_error!("shadowed column!")
        };
    }
    macro_rules! module_path {
        () => {
            compile_error!("shadowed module_path!")
        };
    }

    use ::lifecycle::{decl, defstate, state, AsyncState, State};

    #[defstate]
    static PLAIN: u8 = 1;

    #[defstate(stop = ::core::mem::drop, name = "hygiene/attr", meta(kind = "attr"))]
    static ATTR: ::std::string::String = ::std::string::String::from("attr");

    #[defstate(stop = |port| ::std::assert_eq!(port, 8080))]
    static FALLIBLE: u16 = "8080".parse::<u16>()?;

    decl::defstate! {
        /// In a block.
        static BLOCK: u32 = 2;
        stop(number) => ::std::assert_eq!(number, 2);
        name = "hygiene/block";
        meta(kind = "block");

        static BLOCK_FUNCTION: u32 = 3;
        stop = ::core::mem::drop;
    }

    #[defstate(stop = |n| async move { ::std::assert_eq!(n, 1) })]
    static ASYNC_ATTR: u8 = async { 1 };

    decl::defstate! {
        static ASYNC_BLOCK: u32 = async { "2".parse::<u32>()? };
        stop(number) => ::std::assert_eq!(number, 2);
    }

    #[test]
    fn async_expansions_work_among_shadowing_names() {
        ::lifecycle::__private::block_on(async {
            let local: AsyncState<u8> = state!(async { 3_u8 });
            ::std::assert_eq!(*ASYNC_ATTR.get().await + *local.get().await, 4);
            ::std::assert_eq!(*ASYNC_BLOCK.get().await, 2);
            ASYNC_ATTR.stop().await.unwrap();
            ASYNC_BLOCK.stop().await.unwrap();
            local.stop().await.unwrap();
        });
    }

    /// An async state whose stop is a plain closure (dispatched by autoref in the expansion).
    #[defstate(stop = |n| ::std::assert_eq!(n, 6))]
    static ASYNC_PLAIN: u8 = async { 6 };

    #[test]
    fn async_states_with_plain_stops_work_among_shadowing_names() {
        ::lifecycle::__private::block_on(async {
            let local = state! {
                start: async { 7_u8 },
                stop: |n| ::std::assert_eq!(n, 7),
            };
            ::std::assert_eq!(*ASYNC_PLAIN.get().await + *local.get().await, 13);
            ASYNC_PLAIN.stop().await.unwrap();
            local.stop().await.unwrap();
        });
    }

    #[test]
    fn every_macro_works_among_shadowing_names() {
        let local = state! {
            start: 4_u8,
            stop: |n: u8| ::std::assert_eq!(n, 4),
            name: "hygiene/local",
            meta(kind = "local"),
        };
        let expression: State<u8> = state!(5_u8);
        ::std::assert_eq!(*PLAIN.get() + *local.get() + *expression.get(), 10);
        ::std::assert_eq!(ATTR.get().as_str(), "attr");
        ::std::assert_eq!(*FALLIBLE.get(), 8080);
        ::std::assert_eq!(*BLOCK.get() + *BLOCK_FUNCTION.get(), 5);
        ::std::assert_eq!(ATTR.meta("kind"), ::core::option::Option::Some("attr"));
        ::std::assert_eq!(BLOCK.name(), "hygiene/block");
        ::std::assert!(expression.name().starts_with("state@"));
        ::std::assert_eq!(PLAIN.info().module(), "hygiene::shadowed");
        for state in [
            &ATTR as &dyn Stop,
            &FALLIBLE,
            &BLOCK,
            &BLOCK_FUNCTION,
            &PLAIN,
        ] {
            state.stop_it();
        }
        local.stop().unwrap();
    }

    /// `#[lifecycle::test]` among the same names: a private read, stopped at the end.
    #[::lifecycle::test]
    fn isolated_tests_work_among_shadowing_names() {
        let local = state!(3_u8);
        ::std::assert_eq!(*local.get(), 3);
        let _plain = PLAIN.get();
    }

    trait Stop {
        fn stop_it(&self);
    }

    impl<T: Send + Sync + 'static> Stop for State<T> {
        fn stop_it(&self) {
            self.stop().unwrap();
        }
    }
}

mod without_prelude {
    #![no_implicit_prelude]

    #[::lifecycle::defstate(stop = ::std::mem::drop, meta(kind = "no prelude"))]
    static NUMBERS: ::std::vec::Vec<u8> = ::std::vec![1, 2, 3];

    ::lifecycle::decl::defstate! {
        static TEXT: &str = "text";
        stop(text) => ::std::assert_eq!(text, "text");
    }

    #[test]
    fn every_macro_works_without_the_prelude() {
        let local = ::lifecycle::state! { start: 1_u8, name: "no prelude" };
        ::std::assert_eq!(NUMBERS.get().len(), 3);
        ::std::assert_eq!(*TEXT.get(), "text");
        ::std::assert_eq!(*local.get(), 1);
        NUMBERS.stop().unwrap();
        TEXT.stop().unwrap();
    }
    #[::lifecycle::test]
    fn isolated_tests_work_without_the_prelude() -> ::std::result::Result<(), ::lifecycle::Error> {
        ::std::assert_eq!(NUMBERS.try_get()?.len(), 3);
        ::std::result::Result::Ok(())
    }
}
