//! Cross-checks of a system: every part has a type and an initializer, names are unique and
//! distinct from the parameters, parts carry only doc comments. Returns a usable model either
//! way (the broken parts repaired or dropped) for the fallback expansion.
//!
//! Imports `common` (`block`, `errors`, `krate`) and its own `parse`; must not import `expand` or
//! another macro's modules.

use super::parse::{Input, Param, PartDef};
use crate::common::block::BlockInput;
use crate::common::errors::Errors;
use crate::common::krate::CratePath;
use std::collections::HashSet;
use syn::{Attribute, Expr, Ident, Type, Visibility};

/// A system whose parts are complete.
pub(crate) struct System {
    pub(crate) krate: CratePath,
    /// The system's attributes other than `derive`.
    pub(crate) attrs: Vec<Attribute>,
    /// `derive` attributes: they go on the parts struct, which holds the data.
    pub(crate) derives: Vec<Attribute>,
    /// One of the derives is `Debug`: the system's `Debug` shows its parts.
    pub(crate) debug: bool,
    pub(crate) vis: Visibility,
    /// `async struct`: the async twin.
    pub(crate) is_async: bool,
    pub(crate) name: Ident,
    pub(crate) params: Vec<Param>,
    pub(crate) parts: Vec<Part>,
}

pub(crate) struct Part {
    pub(crate) docs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) ty: Type,
    pub(crate) init: Expr,
}

pub(crate) fn validate(input: BlockInput<Input>) -> (System, Errors) {
    let BlockInput {
        krate,
        mut errors,
        grammar:
            Input {
                attrs,
                vis,
                asyncness,
                name,
                params,
                parts: defs,
            },
    } = input;
    let (derives, attrs): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|attr| attr.path().is_ident("derive"));
    let mut debug = false;
    for derive in &derives {
        let parsed = derive.parse_nested_meta(|meta| {
            debug |= meta
                .path
                .segments
                .last()
                .is_some_and(|last| last.ident == "Debug");
            Ok(())
        });
        if let Err(error) = parsed {
            errors.push(error);
        }
    }
    let mut param_names = HashSet::new();
    for param in &params {
        if !param_names.insert(param.name.to_string()) {
            errors.push(syn::Error::new(
                param.name.span(),
                format!("the parameter `{}` is declared twice", param.name),
            ));
        }
    }
    let mut seen = HashSet::new();
    let mut parts = Vec::with_capacity(defs.len());
    for def in defs {
        if let Some(part) = check_part(def, &name, &param_names, &mut seen, &mut errors) {
            parts.push(part);
        }
    }
    let system = System {
        krate,
        attrs,
        derives,
        debug,
        vis,
        is_async: asyncness.is_some(),
        name,
        params,
        parts,
    };
    (system, errors)
}

fn check_part(
    def: PartDef,
    system: &Ident,
    params: &HashSet<String>,
    seen: &mut HashSet<String>,
    errors: &mut Errors,
) -> Option<Part> {
    let (name, ty, init, end) = (def.name, def.ty, def.init, def.end);
    let vis = def.vis;
    let (docs, others): (Vec<_>, Vec<_>) = def
        .attrs
        .into_iter()
        .partition(|attr| attr.path().is_ident("doc"));
    for attr in others {
        errors.push(syn::Error::new_spanned(
            attr,
            "only doc comments are allowed on a part of a system",
        ));
    }
    let key = name.to_string();
    if !seen.insert(key.clone()) {
        errors.push(syn::Error::new(
            name.span(),
            format!("the part `{name}` is declared twice in `{system}`; rename one of them"),
        ));
        return None;
    }
    if params.contains(&key) {
        errors.push(syn::Error::new(
            name.span(),
            format!(
                "the part `{name}` has the name of a parameter of `{system}`; rename one of \
                     them"
            ),
        ));
    }
    let Some(ty) = ty else {
        let example = match &init {
            Some(_) => format!("`{name}: Type = ...`"),
            None => format!("`{name}: Type = expression`"),
        };
        errors.push(syn::Error::new(
            name.span(),
            format!("the part `{name}` needs a type: write {example}"),
        ));
        return None;
    };
    let init = match init {
        Some(init) => init,
        None => {
            errors.push(syn::Error::new(
                end,
                format!(
                    "the part `{name}` needs an initializer: add `= expression` after its \
                         type"
                ),
            ));
            // The fallback still declares the part (so its uses report nothing more) and
            // runs no initializer; this one only gives the checks a span.
            syn::parse_quote_spanned!(end=> ())
        }
    };
    Some(Part {
        docs,
        vis,
        name,
        ty,
        init,
    })
}
