//! `?` inside an opening expression (a `with_resources!` binding, a `mk_system!`
//! initializer): instead of leaving the enclosing function, it ends the opening with the
//! error, so the macro can close what is already open and return the error.
//!
//! Each `expr?` becomes a `match` on `__private::Branch::branch(expr)` whose error arm breaks
//! out of a labeled block around the opening expression. Closures, `async` blocks, `const`
//! blocks and nested items have their own `?` and are left alone, and so are the bodies of
//! macro calls (their tokens are not parsed).
//!
//! Imports only `common`'s `krate` and `span`; must not import any macro's module (they are all
//! built on `common`).

use super::krate::CratePath;
use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Lifetime};

/// Rewrites every `?` of `expr` to break to `label`; returns whether there was one.
pub(crate) fn rewrite(expr: &mut Expr, label: &Lifetime, krate: &CratePath) -> bool {
    let mut rewriter = Rewriter {
        label,
        krate,
        found: false,
    };
    rewriter.visit_expr_mut(expr);
    rewriter.found
}

struct Rewriter<'a> {
    label: &'a Lifetime,
    krate: &'a CratePath,
    found: bool,
}

impl VisitMut for Rewriter<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        match expr {
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) | Expr::TryBlock(_) => {}
            Expr::Try(try_expr) => {
                self.visit_expr_mut(&mut try_expr.expr);
                let inner = &try_expr.expr;
                let attrs = &try_expr.attrs;
                // Everything is spanned at the `?`, so a value it cannot be used on is
                // reported there (and only there).
                let question = try_expr.question_token.span();
                let (label, krate) = (self.label, self.krate);
                let value = super::span::hidden("__lifecycle_value");
                let error = super::span::hidden("__lifecycle_error");
                let rewritten: TokenStream = quote_spanned! {question=>
                    #(#attrs)*
                    match #krate::__private::Branch::branch(#inner) {
                        #krate::__private::ControlFlow::Continue(#value) => #value,
                        #krate::__private::ControlFlow::Break(#error) => {
                            break #label ::core::result::Result::Err(#error)
                        }
                    }
                };
                *expr = Expr::Verbatim(rewritten);
                self.found = true;
            }
            _ => visit_mut::visit_expr_mut(self, expr),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn rewritten(expr: &str) -> (bool, String) {
        let mut expr: Expr = syn::parse_str(expr).unwrap();
        let label = Lifetime::new("'open", proc_macro2::Span::call_site());
        let found = rewrite(&mut expr, &label, &CratePath::default());
        (found, quote!(#expr).to_string())
    }

    #[test]
    fn rewrites_nested_question_marks() {
        let (found, code) = rewritten("open(config()?)?");
        assert!(found);
        assert_eq!(code.matches("break 'open").count(), 2, "{code}");
        assert!(!code.contains('?'), "{code}");
    }

    #[test]
    fn leaves_closures_async_blocks_and_items_alone() {
        let (found, code) =
            rewritten("{ fn inner() -> R { x()? } let f = || y()?; async { z()? }; w }");
        assert!(!found);
        assert_eq!(code.matches('?').count(), 3, "{code}");
    }
}
