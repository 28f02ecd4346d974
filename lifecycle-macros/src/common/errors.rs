//! The one error accumulator of every macro: collecting every mistake of one macro input
//! before reporting, and "did you mean" hints.
//!
//! Parsing stops at the first syntax error (like rustc's parser), but everything that parses
//! is checked in full: an unknown option, a duplicate option and an empty name in the same
//! attribute are three errors in one compile, not three rounds of fix-and-retry.
//!
//! Imports nothing from the crate (the rest of `common` builds on it).

use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Display;

/// The errors found so far in one macro input.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records every error of `errors`.
    pub(crate) fn extend(&mut self, errors: impl IntoIterator<Item = syn::Error>) {
        errors.into_iter().for_each(|error| self.push(error));
    }

    /// An error on `tokens` (their whole span where the compiler can show it).
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// An error on one span.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Keeps the value of `result`, or records its error.
    pub(crate) fn ok<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// Every error as a `compile_error!`, or nothing.
    pub(crate) fn into_tokens(self) -> proc_macro2::TokenStream {
        self.into_error()
            .map(syn::Error::into_compile_error)
            .unwrap_or_default()
    }

    /// All errors as one (they stay separate diagnostics when emitted).
    pub(crate) fn into_error(self) -> Option<syn::Error> {
        self.combined
    }
}

/// The known word `word` was most likely meant as, if any: a small typo, a known synonym, or a
/// different spelling (`metadata`, `on_stop`).
pub(crate) fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    const SYNONYMS: &[(&str, &str)] = &[
        ("close", "stop"),
        ("drop", "stop"),
        ("teardown", "stop"),
        ("shutdown", "stop"),
        ("on_stop", "stop"),
        ("init", "start"),
        ("new", "start"),
        ("open", "start"),
        ("value", "start"),
        ("on_start", "start"),
        ("id", "name"),
        ("label", "name"),
        ("metadata", "meta"),
        ("tags", "meta"),
        ("krate", "crate"),
        ("path", "crate"),
    ];
    let lower = word.to_ascii_lowercase();
    if let Some(found) = known.iter().find(|k| **k == lower) {
        return Some(found);
    }
    if let Some((_, meant)) = SYNONYMS.iter().find(|(alias, _)| *alias == lower) {
        if let Some(found) = known.iter().find(|k| *k == meant) {
            return Some(found);
        }
    }
    known
        .iter()
        .map(|k| (distance(&lower, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len().min(lower.len()))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// `expected one of `a`, `b` and `c``-style list of known words.
pub(crate) fn one_of(known: &[&str]) -> String {
    let quoted: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Edit distance where swapping two neighbouring letters counts as one edit.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::{closest, one_of};

    const OPTIONS: &[&str] = &["stop", "name", "meta", "crate"];

    #[test]
    fn typos_and_synonyms_find_the_option() {
        assert_eq!(closest("stpo", OPTIONS), Some("stop"));
        assert_eq!(closest("nmae", OPTIONS), Some("name"));
        assert_eq!(closest("names", OPTIONS), Some("name"));
        assert_eq!(closest("Stop", OPTIONS), Some("stop"));
        assert_eq!(closest("metadata", OPTIONS), Some("meta"));
        assert_eq!(closest("on_stop", OPTIONS), Some("stop"));
        assert_eq!(closest("krate", OPTIONS), Some("crate"));
        assert_eq!(closest("strat", &["start", "stop"]), Some("start"));
    }

    #[test]
    fn unrelated_words_find_nothing() {
        assert_eq!(closest("timeout", OPTIONS), None);
        assert_eq!(closest("x", OPTIONS), None);
        assert_eq!(closest("init", OPTIONS), None); // `start` is not an option here
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(one_of(&["a"]), "`a`");
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
