//! Checks of a parsed state that the grammar alone cannot make: a state is a plain `static`
//! with a written type and an initializer, and its stop function takes the value.
//!
//! Every check reports on the smallest token that is wrong and says what to write instead.
//! All checks run, so one compile lists every mistake.
//!
//! Imports `common` (`errors`) and `ast`; must not import `parse`, `fallback`, `expand` or another
//! macro's modules.

use crate::common::errors::Errors;
use crate::defstate::ast::{Init, Keyword, LocalState, Options, StaticState, Stop};
use quote::ToTokens;
use syn::{Expr, Type};

/// Which macro a stop function was given to: statics take a closure or a path, `state!` any
/// expression that is a function.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    Static,
    Local,
}

pub(crate) fn static_state(state: &StaticState, errors: &mut Errors) {
    if let Keyword::Const(token) = &state.keyword {
        errors.spanned(
            token,
            "a state is a `static`, not a `const`: write `static` (a `const` is a new copy at \
             every use, with no identity to start and stop)",
        );
    }
    if let Some(token) = &state.mutability {
        errors.spanned(
            token,
            "a state cannot be `static mut`: remove `mut` (the state is changed by stopping, \
             restarting or redefining it, never by writing to the static)",
        );
    }
    if !state.generics.params.is_empty() || state.generics.where_clause.is_some() {
        errors.spanned(
            &state.generics,
            "a state cannot be generic: a `static` has exactly one type; declare one state per \
             type",
        );
    }
    match &state.ty {
        None => errors.spanned(
            &state.ident,
            format!(
                "a state needs its type: write `static {}: Type = ...`",
                state.ident
            ),
        ),
        Some(Type::Infer(infer)) => errors.spanned(
            infer,
            "a state's type must be written out; `_` is not allowed in the type of a static",
        ),
        Some(_) => {}
    }
    if state.init.is_none() {
        let ty = state.ty.as_ref().map_or_else(
            || "Type".to_owned(),
            |ty| ty.to_token_stream().to_string().replace(' ', ""),
        );
        errors.spanned(
            &state.ident,
            format!(
                "a state needs a start expression: write `static {}: {ty} = expression;`",
                state.ident
            ),
        );
    }
    for attr in &state.attrs {
        if attr
            .path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "defstate")
        {
            errors.spanned(
                attr,
                "`defstate` is given twice here; inside `defstate! { ... }` write the options \
                 as clauses after the static, like `name = \"db\";`",
            );
        }
    }
    let is_async = matches!(state.init, Some(Init::Async(_)));
    options(&state.options, Form::Static, is_async, errors);
    supervision(&state.options, errors);
}

/// `interval` once.
fn supervision(options: &Options, errors: &mut Errors) {
    let inner = options.supervise.as_ref().and_then(|s| s.interval);
    if let (Some(_), Some((at, _))) = (options.interval, inner) {
        errors.at(
            at,
            "`interval` is given twice (at the top level and inside `supervise(...)`); keep one",
        );
    }
}

pub(crate) fn local_state(state: &LocalState, errors: &mut Errors) {
    let is_async = matches!(state.start, Init::Async(_));
    options(&state.options, Form::Local, is_async, errors);
}

fn options(options: &Options, form: Form, is_async: bool, errors: &mut Errors) {
    if let Some(name) = &options.name {
        if name.value().is_empty() {
            errors.spanned(name, "a state's name cannot be empty");
        }
    }
    match &options.stop {
        Some(Stop::Function(function)) => stop_function(function, form, is_async, errors),
        Some(Stop::Binding { .. }) | None => {}
    }
}

fn stop_function(function: &Expr, form: Form, is_async: bool, errors: &mut Errors) {
    match function {
        Expr::Closure(closure) => {
            if let (Some(token), false) = (&closure.asyncness, is_async) {
                errors.spanned(
                    token,
                    "an async stop function needs an async state: start it with \
                     `async { ... }`, or stop this one with a blocking closure",
                );
            }
            match closure.inputs.len() {
                1 => {}
                0 => {
                    let (begin, end) = (&closure.inputs_begin, &closure.inputs_end);
                    errors.spanned(
                        quote::quote!(#begin #end),
                        "a stop function gets the state's value: write `|value| ...`",
                    );
                }
                _ => errors.spanned(
                    &closure.inputs[1],
                    "a stop function gets one argument, the state's value",
                ),
            }
        }
        Expr::Path(_) => {}
        _ if form == Form::Local => {}
        Expr::MethodCall(call) => {
            let suggestion = match &*call.receiver {
                Expr::Path(receiver) if receiver.path.get_ident().is_some() => format!(
                    "write `stop = |{}| {}`",
                    receiver.to_token_stream(),
                    tidy(function)
                ),
                _ => "write `stop = |value| value.close()`".to_owned(),
            };
            errors.spanned(
                function,
                format!("`stop` takes a function, not a call: {suggestion}"),
            );
        }
        Expr::Call(_) => errors.spanned(
            function,
            "`stop` takes a function, not a call: write `stop = |value| ...` or the function's \
             path, like `stop = Db::close`",
        ),
        _ => errors.spanned(
            function,
            "`stop` takes a closure `|value| ...` or the path of a function, like `stop = \
             Db::close`",
        ),
    }
}

/// Source-like text of an expression for a suggestion (`db.close()`, not `db . close ()`).
fn tidy(expr: &Expr) -> String {
    let text = expr.to_token_stream().to_string();
    text.replace(" . ", ".")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}
