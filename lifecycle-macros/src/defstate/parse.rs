//! Options of a state, in each of the three syntaxes:
//!
//! * `#[defstate(stop = ..., name = "...", meta(k = "v"), reload, crate = path)]`
//! * clauses after a static in `defstate! { ... }`: `stop(value) => expr;`, `stop = f;`,
//!   `name = "...";`, `meta(k = "v");`, `reload;`, and `crate = path;` first in the block
//! * keys of `state! { start: expr, stop: f, name: "...", meta(k = "v"), reload, crate: path }`
//!
//! Keywords are `syn::custom_keyword!`s read through `lookahead1()`, so a wrong token gets
//! "expected one of ..." for free. An unknown word gets a "did you mean" instead. A mistake
//! whose extent is clear (a duplicate option, a value of the wrong kind, `:` for `=`) is
//! recorded and parsing goes on, so one compile reports every such mistake. A real syntax
//! error ends the attribute or `state!` where it is; in `defstate!` it ends only its clause or
//! state, and parsing resumes after the next `;`.
//!
//! Also the parser of the whole `defstate! { ... }` block (`impl Parse for StateBlock`), as
//! it mixes statics and clauses.
//!
//! Imports `common` (`errors`, `krate`, `list`, `recover`) and `ast`; must not import `valid`,
//! `fallback`, `expand` or another macro's modules, and `ast` never imports it.

use crate::common::errors::{closest, one_of, Errors};
use crate::common::list::comma_separated;
use crate::common::{krate, recover};
use crate::defstate::ast::{
    self, Init, LocalState, MetaPair, Options, StateBlock, StaticState, Stop, Supervision,
};
use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{Lookahead1, Parse, ParseStream};
use syn::{token, Attribute, Expr, Ident, Lit, LitStr, Pat, Path, Token};

mod kw {
    syn::custom_keyword!(start);
    syn::custom_keyword!(stop);
    syn::custom_keyword!(name);
    syn::custom_keyword!(meta);
    syn::custom_keyword!(reload);
    syn::custom_keyword!(supervise);
    syn::custom_keyword!(check);
    syn::custom_keyword!(interval);
    syn::custom_keyword!(backoff);
    syn::custom_keyword!(max_restarts);
    syn::custom_keyword!(within);
}

/// The options `#[defstate(...)]` knows.
const ATTR_OPTIONS: &[&str] = &[
    "stop",
    "name",
    "meta",
    "reload",
    "crate",
    "supervise",
    "check",
    "interval",
];
/// The options `supervise(...)` knows.
const SUPERVISE_OPTIONS: &[&str] = &["backoff", "max_restarts", "within", "interval"];
/// The clauses that may follow a static in `defstate! { ... }`.
const CLAUSES: &[&str] = &["stop", "name", "meta", "reload"];
/// The keys `state! { ... }` knows.
const LOCAL_KEYS: &[&str] = &["start", "stop", "name", "meta", "reload", "crate"];

/// Which syntax is being read, for messages that show the right way to write things.
#[derive(Clone, Copy, PartialEq)]
enum Syntax {
    /// `#[defstate(name = "x")]`
    Attribute,
    /// `name = "x";` after a static in `defstate!`
    Clause,
    /// `state! { name: "x" }`
    Local,
}

impl Syntax {
    /// The separator between a key and its value.
    fn separator(self) -> &'static str {
        match self {
            Syntax::Attribute | Syntax::Clause => "=",
            Syntax::Local => ":",
        }
    }

    /// What goes between a key and its value in examples: `name = "x"` or `name: "x"`.
    fn joiner(self) -> &'static str {
        match self {
            Syntax::Attribute | Syntax::Clause => " =",
            Syntax::Local => ":",
        }
    }

    fn place(self) -> &'static str {
        match self {
            Syntax::Attribute => "in `#[defstate(...)]`",
            Syntax::Clause => "in `defstate! { ... }`",
            Syntax::Local => "in `state! { ... }`",
        }
    }
}

/// Parses one of the options `#[defstate(...)]` and `state! { ... }` share — `stop`, `name`,
/// `meta`, `crate` — if it comes next; false if none does (its peeks still count towards
/// `lookahead`'s "expected one of ..." error).
fn parse_shared_option(
    lookahead: &Lookahead1,
    input: ParseStream,
    syntax: Syntax,
    options: &mut Options,
    errors: &mut Errors,
) -> syn::Result<bool> {
    if lookahead.peek(kw::stop) {
        let key: kw::stop = input.parse()?;
        separator(input, syntax, "stop", errors)?;
        let stop = Stop::Function(input.parse()?);
        set_once(&mut options.stop, stop, key.span, "stop", errors);
    } else if lookahead.peek(kw::name) {
        let key: kw::name = input.parse()?;
        separator(input, syntax, "name", errors)?;
        if let Some(name) = parse_name(input, syntax, errors)? {
            set_once(&mut options.name, name, key.span, "name", errors);
        }
    } else if lookahead.peek(kw::meta) {
        let key: kw::meta = input.parse()?;
        parse_meta(input, key.span, options, errors)?;
    } else if lookahead.peek(kw::reload) {
        let key: kw::reload = input.parse()?;
        parse_flag_value(input, syntax, "reload", errors);
        set_once(&mut options.reload, key.span, key.span, "reload", errors);
    } else if lookahead.peek(Token![crate]) {
        let key: Token![crate] = input.parse()?;
        separator(input, syntax, "crate", errors)?;
        if let Some(path) = parse_crate(input, syntax, errors)? {
            set_once(&mut options.krate, path, key.span, "crate", errors);
        }
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// Parses the arguments of `#[defstate(...)]`.
pub(crate) fn parse_attr_options(input: ParseStream, errors: &mut Errors) -> syn::Result<Options> {
    let mut options = Options::default();
    let syntax = Syntax::Attribute;
    parse_keyed(
        input,
        syntax,
        ATTR_OPTIONS,
        errors,
        |lookahead, input, errors| {
            // stop, name, meta or crate; supervise, check or interval.
            Ok(
                parse_shared_option(lookahead, input, syntax, &mut options, errors)?
                    || parse_supervision_option(lookahead, input, &mut options, errors)?,
            )
        },
    )?;
    Ok(options)
}

/// `key ..., key ...` (`#[defstate(...)]`, `state! { ... }`), a trailing `,` allowed: `entry`
/// reads an entry whose key it knows (false if it knows none; its peeks still count towards
/// `lookahead`'s "expected one of ..." error), and any other word is an unknown key, reported
/// against `known` with its value skipped. Returns whether there was an unknown key.
fn parse_keyed(
    input: ParseStream,
    syntax: Syntax,
    known: &[&str],
    errors: &mut Errors,
    mut entry: impl FnMut(&Lookahead1, ParseStream, &mut Errors) -> syn::Result<bool>,
) -> syn::Result<bool> {
    let mut unknown = false;
    comma_separated(input, |input| {
        let lookahead = input.lookahead1();
        if entry(&lookahead, input, errors)? {
            Ok(())
        } else if input.peek(Ident::peek_any) {
            unknown = true;
            unknown_key(input, syntax, known, errors)
        } else {
            Err(lookahead.error())
        }
    })?;
    Ok(unknown)
}

/// Parses `supervise`, `supervise(...)`, `check = expr` or `interval = "5s"` of
/// `#[defstate(...)]` if one comes next.
fn parse_supervision_option(
    lookahead: &Lookahead1,
    input: ParseStream,
    options: &mut Options,
    errors: &mut Errors,
) -> syn::Result<bool> {
    if lookahead.peek(kw::supervise) {
        let key: kw::supervise = input.parse()?;
        let mut supervision = Supervision {
            backoff: None,
            max_restarts: None,
            within: None,
            interval: None,
        };
        if input.peek(token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            parse_supervise_args(&content, &mut supervision, errors)?;
        }
        set_once(
            &mut options.supervise,
            supervision,
            key.span,
            "supervise",
            errors,
        );
    } else if lookahead.peek(kw::check) {
        let key: kw::check = input.parse()?;
        separator(input, Syntax::Attribute, "check", errors)?;
        let check: Expr = input.parse()?;
        set_once(&mut options.check, check, key.span, "check", errors);
    } else if lookahead.peek(kw::interval) {
        let key: kw::interval = input.parse()?;
        separator(input, Syntax::Attribute, "interval", errors)?;
        if let Some(interval) = parse_duration(input, "interval", "\"5s\"", errors)? {
            set_once(
                &mut options.interval,
                (key.span, interval),
                key.span,
                "interval",
                errors,
            );
        }
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// The arguments of `supervise(backoff = "100ms..5s", max_restarts = 5, within = "60s",
/// interval = "5s")`.
fn parse_supervise_args(
    input: ParseStream,
    supervision: &mut Supervision,
    errors: &mut Errors,
) -> syn::Result<()> {
    comma_separated(input, |input| {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::backoff) {
            let key: kw::backoff = input.parse()?;
            separator(input, Syntax::Attribute, "backoff", errors)?;
            if let Some(range) = parse_backoff(input, errors)? {
                set_once(&mut supervision.backoff, range, key.span, "backoff", errors);
            }
        } else if lookahead.peek(kw::max_restarts) {
            let key: kw::max_restarts = input.parse()?;
            separator(input, Syntax::Attribute, "max_restarts", errors)?;
            let value: Expr = input.parse()?;
            let parsed = match &value {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Int(int), ..
                }) => int.base10_parse::<u32>().ok(),
                _ => None,
            };
            match parsed {
                Some(n) => set_once(
                    &mut supervision.max_restarts,
                    n,
                    key.span,
                    "max_restarts",
                    errors,
                ),
                None => errors.spanned(
                    &value,
                    "`max_restarts` takes an integer literal: write `max_restarts = 5`",
                ),
            }
        } else if lookahead.peek(kw::within) {
            let key: kw::within = input.parse()?;
            separator(input, Syntax::Attribute, "within", errors)?;
            if let Some(within) = parse_duration(input, "within", "\"60s\"", errors)? {
                set_once(&mut supervision.within, within, key.span, "within", errors);
            }
        } else if lookahead.peek(kw::interval) {
            let key: kw::interval = input.parse()?;
            separator(input, Syntax::Attribute, "interval", errors)?;
            if let Some(interval) = parse_duration(input, "interval", "\"5s\"", errors)? {
                let value = (key.span, interval);
                set_once(
                    &mut supervision.interval,
                    value,
                    key.span,
                    "interval",
                    errors,
                );
            }
        } else if input.peek(Ident::peek_any) {
            let key = input.call(Ident::parse_any)?;
            let word = key.unraw().to_string();
            let message = match closest(&word, SUPERVISE_OPTIONS) {
                Some(meant) => {
                    format!("unknown option `{word}` of `supervise`; did you mean `{meant}`?")
                }
                None => format!(
                    "unknown option `{word}` of `supervise`; expected {} in `supervise(...)`",
                    one_of(SUPERVISE_OPTIONS)
                ),
            };
            errors.at(key.span(), message);
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                input.parse::<Expr>()?;
            }
        } else {
            return Err(lookahead.error());
        }
        Ok(())
    })
}

/// A duration string such as `"100ms"`; `None` (recorded) if it is not one.
fn parse_duration(
    input: ParseStream,
    key: &str,
    example: &str,
    errors: &mut Errors,
) -> syn::Result<Option<std::time::Duration>> {
    let value: Expr = input.parse()?;
    if let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(text),
        ..
    }) = &value
    {
        if let Some(duration) = duration(&text.value()) {
            return Ok(Some(duration));
        }
    }
    errors.spanned(
        &value,
        format!(
            "`{key}` takes a duration string: a number and a unit among `ms`, `s`, `m`, `h` \
             (or `us`), e.g. `{key} = {example}`"
        ),
    );
    Ok(None)
}

/// A backoff range such as `"100ms..5s"`; `None` (recorded) if it is not one.
fn parse_backoff(
    input: ParseStream,
    errors: &mut Errors,
) -> syn::Result<Option<(std::time::Duration, std::time::Duration)>> {
    let value: Expr = input.parse()?;
    if let Expr::Lit(syn::ExprLit {
        lit: Lit::Str(text),
        ..
    }) = &value
    {
        let text = text.value();
        if let Some((min, max)) = text.split_once("..") {
            if let (Some(min), Some(max)) = (duration(min), duration(max)) {
                if min <= max {
                    return Ok(Some((min, max)));
                }
            }
        }
    }
    errors.spanned(
        &value,
        "`backoff` takes a range of durations, the shorter first: write \
         `backoff = \"100ms..5s\"` (units `ms`, `s`, `m`, `h`, `us`)",
    );
    Ok(None)
}

/// `"100ms"`, `"5s"`, `"2m"`, `"1h"`, `"250us"` as a duration.
fn duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let nanos_per: u64 = match unit {
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    };
    Some(std::time::Duration::from_nanos(
        number.checked_mul(nanos_per)?,
    ))
}

/// Parses `crate = path;` at the start of `defstate! { ... }`.
pub(crate) fn parse_block_crate(
    input: ParseStream,
    errors: &mut Errors,
) -> syn::Result<Option<Path>> {
    if !(input.peek(Token![crate]) && input.peek2(Token![=])) {
        return Ok(None);
    }
    input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>()?;
    let path = parse_crate(input, Syntax::Clause, errors)?;
    input.parse::<Token![;]>()?;
    Ok(path)
}

/// Parses the clauses after a static in `defstate! { ... }`, up to the next state. A clause
/// with a syntax error is reported and skipped (up to its `;`), and parsing goes on.
pub(crate) fn parse_clauses(input: ParseStream, options: &mut Options, errors: &mut Errors) {
    loop {
        // On a fork: a syntax error inside a group would otherwise leave an "unexpected
        // token" mark on `input` that replaces every error at the end of the parse.
        let fork = input.fork();
        match parse_clause(&fork, options, errors) {
            Ok(true) => input.advance_to(&fork),
            Ok(false) => return,
            Err(error) => {
                errors.push(error);
                skip_past_semicolon(input);
            }
        }
    }
}

/// One clause; `false` at the start of the next state or at the end.
fn parse_clause(
    input: ParseStream,
    options: &mut Options,
    errors: &mut Errors,
) -> syn::Result<bool> {
    let syntax = Syntax::Clause;
    if input.is_empty() || input.peek(Token![const]) {
        return Ok(false);
    }
    let lookahead = input.lookahead1();
    if lookahead.peek(kw::stop) {
        let key: kw::stop = input.parse()?;
        let stop = parse_stop_clause(input)?;
        set_once(&mut options.stop, stop, key.span, "stop", errors);
        return Ok(true);
    } else if lookahead.peek(Token![#])
        || lookahead.peek(Token![pub])
        || lookahead.peek(Token![static])
    {
        return Ok(false);
    } else if input.peek(Token![crate]) {
        let key: Token![crate] = input.parse()?;
        errors.at(
            key.span,
            "`crate = ...;` goes first in `defstate! { ... }`, before every state: it applies \
             to all of them",
        );
        separator(input, syntax, "crate", errors)?;
        parse_crate(input, syntax, errors)?;
    } else if parse_shared_option(&lookahead, input, syntax, options, errors)? {
        // name or meta (`stop` and `crate` are taken above)
    } else if input.peek(Ident::peek_any) {
        // Its syntax is unknown too: skip the whole clause.
        unknown_key(input, syntax, CLAUSES, errors)?;
        skip_past_semicolon(input);
        return Ok(true);
    } else {
        return Err(lookahead.error());
    }
    input.parse::<Token![;]>()?;
    Ok(true)
}

/// `stop(binding) => expr;` or `stop = f;`, after the `stop` keyword.
fn parse_stop_clause(input: ParseStream) -> syn::Result<Stop> {
    let lookahead = input.lookahead1();
    if lookahead.peek(token::Paren) {
        let content;
        let parens = syn::parenthesized!(content in input);
        if content.is_empty() {
            return Err(syn::Error::new(
                parens.span.join(),
                "a stop gets the state's value: name it, as in `stop(db) => db.close();`",
            ));
        }
        let pat = within(&content, |content| {
            let pat = Pat::parse_single(content)?;
            if content.is_empty() {
                Ok(pat)
            } else {
                Err(content
                    .error("a stop gets one value, the state's: write `stop(db) => db.close();`"))
            }
        })?;
        if !input.peek(Token![=>]) {
            return Err(input.error("expected `=>`, as in `stop(db) => db.close();`"));
        }
        input.parse::<Token![=>]>()?;
        let body: Expr = input.parse()?;
        let block_body = matches!(body, Expr::Block(_));
        if !block_body || input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        }
        Ok(Stop::Binding { pat, body })
    } else if lookahead.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let function: Expr = input.parse()?;
        input.parse::<Token![;]>()?;
        Ok(Stop::Function(function))
    } else {
        Err(lookahead.error())
    }
}

/// Parses the tokens of `state!(...)`: one expression, or `key: value` pairs.
pub(crate) fn parse_local(
    input: ParseStream,
    call_site: Span,
    errors: &mut Errors,
) -> syn::Result<Option<LocalState>> {
    if input.is_empty() {
        return Err(syn::Error::new(
            call_site,
            "`state!` needs a start expression: `state!(expression)` or \
             `state! { start: expression, ... }`",
        ));
    }
    if !is_keyed(input) {
        let expr: Expr = input.parse()?;
        if !input.is_empty() {
            return Err(input.error(
                "unexpected tokens after the start expression; to give options, write \
                 `state! { start: expr, stop: |value| ..., name: \"...\" }`",
            ));
        }
        return Ok(Some(LocalState {
            start: Init::new(expr),
            options: Options::default(),
            call_site,
        }));
    }
    let syntax = Syntax::Local;
    let mut options = Options::default();
    let mut start = None;
    let unknown = parse_keyed(
        input,
        syntax,
        LOCAL_KEYS,
        errors,
        |lookahead, input, errors| {
            if !lookahead.peek(kw::start) {
                // stop, name, meta or crate.
                return parse_shared_option(lookahead, input, syntax, &mut options, errors);
            }
            let key: kw::start = input.parse()?;
            separator(input, syntax, "start", errors)?;
            let expr: Expr = input.parse()?;
            set_once(&mut start, Init::new(expr), key.span, "start", errors);
            Ok(true)
        },
    )?;
    match start {
        Some(start) => Ok(Some(LocalState {
            start,
            options,
            call_site,
        })),
        // An unknown key was most likely meant as `start`: its error is the one to show.
        None if unknown => Ok(None),
        None => Err(syn::Error::new(
            call_site,
            "`state! { ... }` needs `start: <expression>`, the value's constructor",
        )),
    }
}

/// True if `state!`'s input is `key: value` pairs rather than one expression.
fn is_keyed(input: ParseStream) -> bool {
    let key_then = |next_is: fn(ParseStream) -> bool| {
        (input.peek(Ident::peek_any) || input.peek(Token![crate])) && next_is(input)
    };
    // `start: ...`; a path `a::b` is an expression.
    let colon = |input: ParseStream| input.peek2(Token![:]) && !input.peek2(Token![::]);
    // `start = ...`, a mistake for `start: ...`; `a == b` and `x = y` stay expressions.
    let equals = |input: ParseStream| {
        let ahead = input.fork();
        let known = ahead
            .call(Ident::parse_any)
            .map(|key| LOCAL_KEYS.contains(&key.to_string().as_str()))
            .unwrap_or(false);
        known && input.peek2(Token![=]) && !input.peek2(Token![==]) && !input.peek2(Token![=>])
    };
    // `meta(k = "v"), start: ...`
    let meta_first = |input: ParseStream| {
        let ahead = input.fork();
        ahead.parse::<kw::meta>().is_ok()
            && ahead.peek(token::Paren)
            && ahead.parse::<proc_macro2::TokenTree>().is_ok()
            && ahead.peek(Token![,])
    };
    key_then(colon) || key_then(equals) || meta_first(input)
}

/// Reads the separator between a key and its value, accepting the other one with an error.
fn separator(
    input: ParseStream,
    syntax: Syntax,
    key: &str,
    errors: &mut Errors,
) -> syn::Result<()> {
    let (wanted, other) = match syntax {
        Syntax::Attribute | Syntax::Clause => (input.peek(Token![=]), input.peek(Token![:])),
        Syntax::Local => (input.peek(Token![:]), input.peek(Token![=])),
    };
    if wanted {
        input.parse::<proc_macro2::Punct>()?;
        Ok(())
    } else if other && !input.peek(Token![::]) && !input.peek(Token![==]) {
        let punct: proc_macro2::Punct = input.parse()?;
        errors.at(
            punct.span(),
            format!(
                "write `{key}{sep} ...` {place}",
                sep = syntax.joiner(),
                place = syntax.place(),
            ),
        );
        Ok(())
    } else {
        Err(input.error(format!("expected `{}` after `{key}`", syntax.separator())))
    }
}

/// Records `value` in `slot`, or a "given twice" error on the second key.
fn set_once<T>(slot: &mut Option<T>, value: T, key: Span, name: &str, errors: &mut Errors) {
    if slot.is_some() {
        errors.at(key, format!("`{name}` is given twice; keep one"));
    } else {
        *slot = Some(value);
    }
}

/// After a flag (`reload`): a value given to it (`reload = true`, `reload: true`,
/// `reload(...)`) is one error spanning that value, which is skipped.
fn parse_flag_value(input: ParseStream, syntax: Syntax, flag: &str, errors: &mut Errors) {
    let valued = (input.peek(Token![=]) && !input.peek(Token![==]))
        || (input.peek(Token![:]) && !input.peek(Token![::]))
        || input.peek(token::Paren);
    if !valued {
        return;
    }
    let mut value = proc_macro2::TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) && !input.peek(Token![;]) {
        match input.parse::<proc_macro2::TokenTree>() {
            Ok(token) => value.extend([token]),
            Err(_) => break,
        }
    }
    errors.spanned(
        value,
        format!(
            "`{flag}` is a flag and takes no value: write `{flag}` alone {}",
            syntax.place()
        ),
    );
}

/// An unknown key or option: says what it might have been, then skips its value.
fn unknown_key(
    input: ParseStream,
    syntax: Syntax,
    known: &[&str],
    errors: &mut Errors,
) -> syn::Result<()> {
    let key = input.call(Ident::parse_any)?;
    let word = key.unraw().to_string();
    let what = match syntax {
        Syntax::Attribute => "option",
        Syntax::Clause => "clause",
        Syntax::Local => "key",
    };
    let mut message = match closest(&word, known) {
        Some(meant) => format!("unknown {what} `{word}`; did you mean `{meant}`?"),
        None => format!(
            "unknown {what} `{word}`; expected {} {}",
            one_of(known),
            syntax.place()
        ),
    };
    if syntax == Syntax::Clause && word == "start" {
        message = "the start expression goes after `=` in the static: \
                   `static NAME: Type = expression;`"
            .to_owned();
    }
    errors.at(key.span(), message);
    if input.peek(token::Paren) {
        input.parse::<proc_macro2::TokenTree>()?;
    } else if (input.peek(Token![=]) || input.peek(Token![:])) && !input.peek(Token![::]) {
        input.parse::<proc_macro2::Punct>()?;
        input.parse::<Expr>()?;
    }
    Ok(())
}

/// The value of `name`: a string literal. Anything else is an error saying how to quote it.
fn parse_name(
    input: ParseStream,
    syntax: Syntax,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    if input.peek(LitStr) {
        return input.parse().map(Some);
    }
    let value: Expr = input.parse()?;
    let sep = syntax.joiner();
    let message = match &value {
        Expr::Path(path) if path.qself.is_none() => format!(
            "a state's name is a string literal: write `name{sep} \"{}\"`",
            path.path.to_token_stream().to_string().replace(' ', "")
        ),
        Expr::Lit(lit) if !matches!(lit.lit, Lit::Str(_)) => format!(
            "a state's name is a string literal: write `name{sep} \"{}\"`",
            lit.lit.to_token_stream()
        ),
        _ => format!(
            "a state's name is a string literal, like `name{sep} \"web/server\"`; for a name \
             computed at run time, make the state with `State::new(name, start)`"
        ),
    };
    errors.spanned(&value, message);
    Ok(None)
}

/// `(key = "value", ...)` after `meta`, into `options.meta`.
fn parse_meta(
    input: ParseStream,
    key: Span,
    options: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    const EXAMPLE: &str = "meta(bucket = \"web\")";
    if (input.peek(Token![=]) || input.peek(Token![:])) && !input.peek(Token![::]) {
        let punct: proc_macro2::Punct = input.parse()?;
        errors.at(
            punct.span(),
            format!("`meta` takes `key = \"value\"` pairs in parentheses: write `{EXAMPLE}`"),
        );
        input.parse::<Expr>()?;
        return Ok(());
    }
    if !input.peek(token::Paren) {
        return Err(syn::Error::new(
            key,
            format!("`meta` takes `key = \"value\"` pairs in parentheses: write `{EXAMPLE}`"),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    within(&content, |content| {
        parse_meta_pairs(content, options, errors)
    })
}

/// `key = "value", ...` inside `meta(...)`.
fn parse_meta_pairs(
    content: ParseStream,
    options: &mut Options,
    errors: &mut Errors,
) -> syn::Result<()> {
    const EXAMPLE: &str = "meta(bucket = \"web\")";
    comma_separated(content, |content| {
        let meta_key = if content.peek(LitStr) {
            let lit: LitStr = content.parse()?;
            errors.spanned(
                &lit,
                format!(
                    "a meta key is a name, not a string: write `meta({} = \"...\")`",
                    lit.value()
                ),
            );
            None
        } else if content.peek(Ident::peek_any) {
            Some(content.call(Ident::parse_any)?)
        } else {
            return Err(content.error(format!("expected a meta key, as in `{EXAMPLE}`")));
        };
        if content.peek(Token![:]) && !content.peek(Token![::]) {
            let colon: Token![:] = content.parse()?;
            errors.at(
                colon.span,
                format!("write meta pairs with `=`, as in `{EXAMPLE}`"),
            );
        } else if content.peek(Token![=]) {
            content.parse::<Token![=]>()?;
        } else {
            let message = format!("expected `= \"value\"` after the meta key, as in `{EXAMPLE}`");
            return Err(match (&meta_key, content.is_empty()) {
                (Some(meta_key), true) => syn::Error::new(meta_key.span(), message),
                _ => content.error(message),
            });
        }
        let value = parse_meta_value(content, errors)?;
        if let (Some(meta_key), Some(value)) = (meta_key, value) {
            let word = meta_key.unraw().to_string();
            if options.meta.iter().any(|pair| pair.key.unraw() == word) {
                errors.at(
                    meta_key.span(),
                    format!("meta key `{word}` is given twice; keep one"),
                );
            } else {
                options.meta.push(MetaPair {
                    key: meta_key,
                    value,
                });
            }
        }
        Ok(())
    })
}

/// A meta value: a string literal; other literals get "write it in quotes".
fn parse_meta_value(input: ParseStream, errors: &mut Errors) -> syn::Result<Option<LitStr>> {
    if input.peek(LitStr) {
        return input.parse().map(Some);
    }
    let value: Expr = input.parse()?;
    let message = match &value {
        Expr::Lit(lit) => format!(
            "meta values are string literals: write `\"{}\"`",
            lit.lit.to_token_stream()
        ),
        _ => "meta values are string literals, known at compile time".to_owned(),
    };
    errors.spanned(&value, message);
    Ok(None)
}

/// The value of `crate`, by the rule every macro shares (`common::krate`).
fn parse_crate(
    input: ParseStream,
    syntax: Syntax,
    errors: &mut Errors,
) -> syn::Result<Option<Path>> {
    krate::parse_value(input, syntax.joiner(), errors)
}

/// After a syntax error, resumes after the next top-level `;` so later states still parse.
pub(crate) fn skip_past_semicolon(input: ParseStream) {
    recover::skip_past(input, ';');
}

/// Parses the inside of a group; on error, drains the group, because tokens left in it would
/// turn every later parse of the enclosing stream into an "unexpected token" error.
fn within<T>(
    content: ParseStream,
    parse: impl FnOnce(ParseStream) -> syn::Result<T>,
) -> syn::Result<T> {
    parse(content).inspect_err(|_| {
        let _ = content.parse::<proc_macro2::TokenStream>();
    })
}

/// `defstate! { ... }`: the states and their clauses, resuming after a syntax error.
impl Parse for StateBlock {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut errors = Errors::new();
        let fork = input.fork();
        let krate = match parse_block_crate(&fork, &mut errors) {
            Ok(krate) => {
                input.advance_to(&fork);
                krate
            }
            Err(error) => {
                errors.push(error);
                skip_past_semicolon(input);
                None
            }
        };
        let mut states = Vec::new();
        let mut broken = Vec::new();
        let mut current: Option<StaticState> = None;
        loop {
            // Clauses after a state; after a broken one they are read only for their errors.
            let mut ignored = Options::default();
            let options = current
                .as_mut()
                .map_or(&mut ignored, |state| &mut state.options);
            parse_clauses(input, options, &mut errors);
            states.extend(current.take());
            if input.is_empty() {
                break;
            }
            // On a fork, like the clauses: a failed state leaves no mark on `input`, which
            // then skips past the state's `;`.
            let fork = input.fork();
            let header = fork.call(Attribute::parse_outer).and_then(|attrs| {
                let options = Options {
                    krate: krate.clone(),
                    ..Options::default()
                };
                ast::parse_static_header(&fork, attrs, options)
            });
            match header.map(|state| (ast::parse_static_init(&fork, &state), state)) {
                Ok((Ok(init), mut state)) => {
                    input.advance_to(&fork);
                    state.init = init;
                    current = Some(state);
                }
                Ok((Err(error), state)) => {
                    errors.push(error);
                    skip_past_semicolon(input);
                    broken.push(state);
                }
                Err(error) => {
                    errors.push(error);
                    skip_past_semicolon(input);
                }
            }
        }
        Ok(StateBlock {
            states,
            broken,
            errors,
        })
    }
}
