//! The code of `mk_system!`: the system struct, its parts struct, `start` (which rolls back on
//! failure), `close`, `Deref` to the parts, and the `Resource` impl that lets systems nest.
//!
//! ```text
//! pub struct App { __lifecycle_parts: System<AppParts> }    // closes the parts on drop
//! pub struct AppParts { pub db: Db, server: Server }        // `app.db` through Deref
//! impl App {
//!     pub fn start(port: u16) -> Result<App, Error> {
//!         let mut db = opened("App.db", resource::<Db>(Db::open()));  // `?` → rollback
//!         let mut server = match /* Server::start(port, &db) */ {
//!             Ok(v) => opened("App.server", v),
//!             Err(e) => return Outcome::finish(close_after(db, Outcome::failed(..))),
//!         };
//!         Ok(App { __lifecycle_parts: System::new(AppParts { db: opened_into_inner(db), .. }) })
//!     }
//! }
//! ```
//!
//! While the system starts, each part's name is its `Opened` guard (which derefs to it), so
//! later initializers see the earlier parts, and a panic closes them as the guards drop.
//!
//! `mk_system! { async struct App(...) { ... } }` is the async twin: `start` and `close` are
//! `async fn`s (initializers may `.await`), the parts are `AsyncResource`s held by an
//! `AsyncSystem`, and every close of the rollback and of `close` is awaited, newest first.
//!
//! Imports `common` (`resource`, `span`, `try_rewrite`) and its own `parse` and `valid`; must not
//! import another macro's modules.

use super::parse::Param;
use super::valid::{Part, System};
use crate::common::resource::{check_at, Flavor};
use crate::common::span::hidden;
use crate::common::try_rewrite;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Lifetime, LitStr};

/// The system; with `fallback`, `start` only fails (the input had errors).
pub(crate) fn expand(system: &System, fallback: bool) -> TokenStream {
    let System {
        krate,
        attrs,
        derives,
        debug,
        vis,
        is_async,
        name,
        params,
        parts,
    } = system;
    let flavor = Flavor::new(krate, *is_async);
    let parts_name = format_ident!("{}Parts", name);
    let debug_impl = debug.then(|| {
        quote! {
            #[automatically_derived]
            impl ::core::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    ::core::fmt::Debug::fmt(&**self, f)
                }
            }
        }
    });
    let field = hidden_field();
    let part_fields = parts.iter().map(|part| {
        let Part {
            docs,
            vis,
            name,
            ty,
            ..
        } = part;
        quote!(#(#docs)* #vis #name: #ty)
    });
    let names: Vec<_> = parts.iter().map(|part| &part.name).collect();
    let labels: Vec<LitStr> = parts
        .iter()
        .map(|part| LitStr::new(&format!("{name}.{}", part.name.unraw()), part.name.span()))
        .collect();
    // Hygienic, so a part named `closer` is not shadowed by it.
    let closer = hidden("__lifecycle_closer");
    let closes: Vec<TokenStream> = parts
        .iter()
        .zip(&labels)
        .rev()
        .map(|(part, label)| {
            let name = &part.name;
            let check = if *is_async {
                "resource_async"
            } else {
                "resource"
            };
            let span = part.init.span();
            let checked = check_at(check, krate, span, quote!(#name), Some(&part.ty));
            if *is_async {
                quote!(#krate::__private::close_into(&mut #closer, #label, #checked).await;)
            } else {
                quote!(#krate::__private::close_checked(&mut #closer, #label, #checked);)
            }
        })
        .collect();
    let start = if fallback {
        fallback_start_fn(system)
    } else {
        start_fn(system, &flavor, &parts_name, &labels)
    };
    let params_doc = if params.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = params.iter().map(|p| format!("`{}`", p.name)).collect();
        format!(" from {}", list.join(", "))
    };
    let start_doc = format!(
        " Starts the parts of `{name}`{params_doc}, in declaration order. If one fails, those \
         already started are closed in reverse order and the error is returned with any close \
         errors attached."
    );
    let parts_doc = format!(
        " The parts of [`{name}`], a system made with `mk_system!`: `{name}` derefs to them."
    );
    let holder = if *is_async {
        quote!(#krate::__private::AsyncSystem)
    } else {
        quote!(#krate::__private::System)
    };
    let close_fn = if *is_async {
        quote! {
            #vis async fn close(self) -> ::core::result::Result<(), #krate::Error> {
                #krate::__private::AsyncSystem::close(self.#field).await
            }
        }
    } else {
        quote! {
            #vis fn close(self) -> ::core::result::Result<(), #krate::Error> {
                #krate::__private::System::close(self.#field)
            }
        }
    };
    let resource_impls = if *is_async {
        quote! {
            #[automatically_derived]
            impl #krate::__private::AsyncResource for #name {
                async fn close_async(self) -> ::core::result::Result<(), #krate::Error> {
                    #name::close(self).await
                }
            }

            #[automatically_derived]
            impl #krate::__private::AsyncParts for #parts_name {
                async fn close_parts_async(self) -> ::core::result::Result<(), #krate::Error> {
                    let #parts_name { #(#names),* } = self;
                    let mut #closer = #krate::__private::closer();
                    #(#closes)*
                    #closer.finish()
                }
            }
        }
    } else {
        quote! {
            #[automatically_derived]
            impl #krate::__private::Resource for #name {
                fn close(self) -> ::core::result::Result<(), #krate::Error> {
                    #name::close(self)
                }
            }

            #[automatically_derived]
            impl #krate::__private::Parts for #parts_name {
                fn close_parts(self) -> ::core::result::Result<(), #krate::Error> {
                    let #parts_name { #(#names),* } = self;
                    let mut #closer = #krate::__private::closer();
                    #(#closes)*
                    #closer.finish()
                }
            }
        }
    };
    quote! {
        #(#attrs)*
        #vis struct #name {
            #field: #holder<#parts_name>,
        }

        #[doc = #parts_doc]
        #(#derives)*
        #vis struct #parts_name {
            #(#part_fields,)*
        }

        impl #name {
            #[doc = #start_doc]
            #start

            /// Closes the parts in reverse declaration order, trying every one; several
            /// failures come back together. Dropping the system closes it the same way.
            #close_fn
        }

        #debug_impl

        #[automatically_derived]
        impl ::core::ops::Deref for #name {
            type Target = #parts_name;

            #[inline]
            fn deref(&self) -> &#parts_name {
                &self.#field
            }
        }

        #[automatically_derived]
        impl ::core::ops::DerefMut for #name {
            #[inline]
            fn deref_mut(&mut self) -> &mut #parts_name {
                &mut self.#field
            }
        }

        #resource_impls
    }
}

/// The struct field that holds the parts. Fields are not hygienic, so a prefixed name.
fn hidden_field() -> syn::Ident {
    syn::Ident::new("__lifecycle_parts", Span::call_site())
}

/// A `start` that runs no initializer: next to the input's errors, the initializers would
/// only add more (or, for a missing one, an unreachable-code warning).
fn fallback_start_fn(system: &System) -> TokenStream {
    let System {
        krate,
        vis,
        params,
        is_async,
        ..
    } = system;
    let asyncness = is_async.then(|| quote!(async));
    let names = params.iter().map(|param| &param.name);
    let params = params.iter().map(
        |Param {
             mutability,
             name,
             ty,
         }| quote!(#mutability #name: #ty),
    );
    quote! {
        #vis #asyncness fn start(#(#params),*) -> ::core::result::Result<Self, #krate::Error> {
            #(let _ = &#names;)*
            ::core::result::Result::Err(#krate::Error::other("the input of `mk_system!` has errors"))
        }
    }
}

fn start_fn(
    system: &System,
    flavor: &Flavor,
    parts_name: &syn::Ident,
    labels: &[LitStr],
) -> TokenStream {
    let System {
        krate,
        vis,
        params,
        parts,
        is_async,
        ..
    } = system;
    let Flavor {
        open: open_fn,
        into_inner,
        close_after,
        wait,
        ..
    } = flavor;
    let asyncness = is_async.then(|| quote!(async));
    let params = params.iter().map(
        |Param {
             mutability,
             name,
             ty,
         }| { quote!(#mutability #name: #ty) },
    );
    // Each part's guard is bound to the part's own name, for the later initializers.
    let guards: Vec<_> = parts.iter().map(|part| &part.name).collect();
    let mut steps = Vec::with_capacity(parts.len());
    for (at, part) in parts.iter().enumerate() {
        let guard = guards[at];
        let label = &labels[at];
        let mut init = part.init.clone();
        let open = Lifetime::new("'__lifecycle_open", Span::mixed_site());
        let fallible = try_rewrite::rewrite(&mut init, &open, krate);
        let checked = flavor.check(krate, &init, Some(&part.ty));
        let make = if fallible {
            let value = hidden("__lifecycle_value");
            let error = hidden("__lifecycle_error");
            let opened = hidden("__lifecycle_opened");
            let failed = quote! {
                #krate::__private::Outcome::failed(#krate::__private::open_failed(#label, #error))
            };
            // Close what already started, newest first: arguments run before the call, so
            // the newest part goes innermost (the fold wraps the oldest around it last).
            let rollback = guards[..at].iter().rev().fold(
                failed,
                |inner, earlier| quote!(#close_after(#earlier, #inner) #wait),
            );
            quote! {
                let #opened = #open: {
                    ::core::result::Result::Ok::<_, #krate::Error>(#checked)
                };
                #[allow(unused_mut)]
                let mut #guard = match #opened {
                    ::core::result::Result::Ok(#value) => #open_fn(#label, #value),
                    ::core::result::Result::Err(#error) => {
                        return #krate::__private::Outcome::finish(#rollback);
                    }
                };
            }
        } else {
            quote! {
                #[allow(unused_mut)]
                let mut #guard = #open_fn(#label, #checked);
            }
        };
        steps.push(make);
    }
    let names = parts.iter().map(|part| &part.name);
    let field = hidden_field();
    let holder = if *is_async {
        quote!(#krate::__private::AsyncSystem)
    } else {
        quote!(#krate::__private::System)
    };
    quote! {
        #vis #asyncness fn start(#(#params),*) -> ::core::result::Result<Self, #krate::Error> {
            #(#steps)*
            ::core::result::Result::Ok(Self {
                #field: #holder::new(#parts_name {
                    #(#names: #into_inner(#guards),)*
                }),
            })
        }
    }
}
