//! The typed model of what a macro was given: the declared states, with the span of every
//! part kept so that later phases can point at the exact token that is wrong.
//!
//! The parsers here are deliberately lenient: `static mut`, `const`, generics, a missing type
//! or a missing initializer all parse, so that `valid` can name the mistake and say what to
//! write instead (a strict parser could only say "expected `:`").
//!
//! The option syntaxes (`parse`) build on this model, never the other way round, so the
//! `defstate! { ... }` block, which needs both, is parsed in `parse`.
//!
//! Imports only `common` (`errors`); must not import `parse`, `valid`, `fallback` or `expand`,
//! which are built on it.

use crate::common::errors::Errors;
use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{
    Attribute, Expr, ExprAsync, Generics, Ident, LitStr, Pat, Path, Token, Type, Visibility,
};

/// One state declared as a `static`: by `#[defstate]` or inside `defstate! { ... }`.
#[derive(Clone)]
pub(crate) struct StaticState {
    /// Doc comments and attributes, carried over to the generated static.
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    /// `static` (or `const`, which `valid` rejects).
    pub(crate) keyword: Keyword,
    /// `static mut` is rejected by `valid`.
    pub(crate) mutability: Option<Token![mut]>,
    pub(crate) ident: Ident,
    /// Rejected by `valid` in `defstate!`; on `#[defstate]` the compiler's parser has already
    /// reported them (and still hands the item to the macro).
    pub(crate) generics: Generics,
    /// `None` for `static NAME = init;`: rejected like generics.
    pub(crate) ty: Option<Type>,
    /// `None` for `static NAME: Type;`.
    pub(crate) init: Option<Init>,
    pub(crate) options: Options,
}

/// The keyword that introduced the item.
#[derive(Clone)]
pub(crate) enum Keyword {
    Static(Token![static]),
    Const(Token![const]),
}

impl Keyword {
    /// The `static` to generate, where the user's keyword was.
    pub(crate) fn static_token(&self) -> Token![static] {
        match self {
            Keyword::Static(token) => *token,
            Keyword::Const(token) => Token![static](token.span),
        }
    }
}

/// How a state starts.
#[derive(Clone)]
pub(crate) enum Init {
    /// Any expression; `?` converts errors into the start error.
    Expr(Expr),
    /// `async { ... }`: an async state, read with `.get().await` (see `expand::async_state`).
    Async(ExprAsync),
    /// Only in a fallback, for an initializer that had an error: a start that fails.
    Unusable,
}

impl Init {
    pub(crate) fn new(expr: Expr) -> Self {
        match expr {
            Expr::Async(block) => Init::Async(block),
            expr => Init::Expr(expr),
        }
    }
}

/// The options of one state, whichever syntax gave them.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) stop: Option<Stop>,
    pub(crate) name: Option<LitStr>,
    pub(crate) meta: Vec<MetaPair>,
    /// `reload` (where it was written): `lifecycle::reload()` and SIGHUP reload the state.
    pub(crate) reload: Option<Span>,
    /// `crate = path`: where the `lifecycle` crate is, if not at `::lifecycle`.
    pub(crate) krate: Option<Path>,
    /// `supervise` or `supervise(...)` (`#[defstate]` only).
    pub(crate) supervise: Option<Supervision>,
    /// `check = expr`: a closure or function taking `&T` (`#[defstate]` only).
    pub(crate) check: Option<Expr>,
    /// `interval = "5s"` at the top level, with the key's span (`#[defstate]` only).
    pub(crate) interval: Option<(proc_macro2::Span, std::time::Duration)>,
}

/// The options of `supervise(...)`; `None`: the runtime's default.
#[derive(Clone)]
pub(crate) struct Supervision {
    pub(crate) backoff: Option<(std::time::Duration, std::time::Duration)>,
    pub(crate) max_restarts: Option<u32>,
    pub(crate) within: Option<std::time::Duration>,
    /// `interval = "..."` inside `supervise(...)`, with the key's span.
    pub(crate) interval: Option<(proc_macro2::Span, std::time::Duration)>,
}

impl Options {
    /// True if any supervision option was given.
    pub(crate) fn supervised(&self) -> bool {
        self.supervise.is_some() || self.check.is_some() || self.interval.is_some()
    }
}

/// How a state stops.
#[derive(Clone)]
pub(crate) enum Stop {
    /// `stop = |value| ...` or `stop = path::to::function` (any expression for `state!`).
    Function(Expr),
    /// `stop(value) => expression;` in `defstate!`: a binding for the value and a body.
    Binding { pat: Pat, body: Expr },
}

/// `key = "value"` of `meta(...)`.
#[derive(Clone)]
pub(crate) struct MetaPair {
    pub(crate) key: Ident,
    pub(crate) value: LitStr,
}

/// What `#[defstate]` was put on.
pub(crate) enum Annotated {
    /// A `static` (or something close enough to name the mistake precisely).
    State(Box<StaticState>),
    /// Anything else, re-emitted unchanged next to the error so its uses still resolve.
    Other(Box<syn::Item>),
}

impl Parse for Annotated {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let ahead = input.fork();
        ahead.call(Attribute::parse_outer)?;
        ahead.parse::<Visibility>()?;
        if ahead.peek(Token![static]) || (ahead.peek(Token![const]) && ahead.peek2(Ident)) {
            let attrs = input.call(Attribute::parse_outer)?;
            let state = parse_static(input, attrs, Options::default())?;
            if !input.is_empty() {
                return Err(input.error("unexpected tokens after the static"));
            }
            Ok(Annotated::State(Box::new(state)))
        } else {
            input.parse().map(|item| Annotated::Other(Box::new(item)))
        }
    }
}

/// Parses `vis static [mut] NAME[<...>][: Type][= init];` after its attributes.
pub(crate) fn parse_static(
    input: ParseStream,
    attrs: Vec<Attribute>,
    options: Options,
) -> syn::Result<StaticState> {
    let mut state = parse_static_header(input, attrs, options)?;
    state.init = parse_static_init(input, &state)?;
    Ok(state)
}

/// Everything up to the initializer; `init` is left `None`.
pub(crate) fn parse_static_header(
    input: ParseStream,
    attrs: Vec<Attribute>,
    options: Options,
) -> syn::Result<StaticState> {
    let vis: Visibility = input.parse()?;
    let lookahead = input.lookahead1();
    let keyword = if lookahead.peek(Token![static]) {
        Keyword::Static(input.parse()?)
    } else if lookahead.peek(Token![const]) {
        Keyword::Const(input.parse()?)
    } else {
        return Err(lookahead.error());
    };
    let mutability = input.parse()?;
    let ident = input.parse()?;
    let generics: Generics = input.parse()?;
    let ty = if input.peek(Token![:]) && !input.peek(Token![::]) {
        input.parse::<Token![:]>()?;
        Some(input.parse()?)
    } else {
        None
    };
    Ok(StaticState {
        attrs,
        vis,
        keyword,
        mutability,
        ident,
        generics,
        ty,
        init: None,
        options,
    })
}

/// `= init;` or `;`.
pub(crate) fn parse_static_init(
    input: ParseStream,
    state: &StaticState,
) -> syn::Result<Option<Init>> {
    let has_type = state.ty.is_some();
    let init = if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Some(Init::new(input.parse()?))
    } else if input.peek(Token![;]) {
        None
    } else {
        let lookahead = input.lookahead1();
        if !has_type {
            lookahead.peek(Token![:]);
        }
        lookahead.peek(Token![=]);
        lookahead.peek(Token![;]);
        return Err(lookahead.error());
    };
    if !input.peek(Token![;]) {
        return Err(input.error(format!("expected `;` to end the static `{}`", state.ident)));
    }
    input.parse::<Token![;]>()?;
    Ok(init)
}

/// A local state: `state!(expr)` or `state! { start: expr, ... }`.
pub(crate) struct LocalState {
    pub(crate) start: Init,
    pub(crate) options: Options,
    /// The whole invocation, for "missing `start`" and for the default name.
    pub(crate) call_site: Span,
}

/// What `defstate! { ... }` declares.
pub(crate) struct StateBlock {
    /// States that parsed; `valid` may still reject some.
    pub(crate) states: Vec<StaticState>,
    /// States with a syntax error after their type: declared by the fallback only, so that
    /// their uses do not add errors to the one reported.
    pub(crate) broken: Vec<StaticState>,
    /// Syntax errors. Parsing resumes after the next `;`, so every state gets checked.
    pub(crate) errors: Errors,
}
