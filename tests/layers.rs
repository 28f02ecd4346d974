//! The layering rule of `lifecycle-core`, read from its source files: modules import
//! downwards only — no two modules import each other, directly or through a chain — and the
//! kernel imports nothing above the base modules.
//!
//! A module is a file (`x.rs`, `x/mod.rs`, `x/y.rs`); an import is any `crate::…`, `super::…`
//! or `self::…` path outside comments (in `use` lines and in code). An import between two
//! modules counts between their ancestors that are siblings (so `state/core.rs` importing
//! `kernel/world.rs` is `state` -> `kernel`); a module and its own submodules may use each
//! other. Set `LAYERS_SRC` to check another tree (`LAYERS_SRC=/path/to/lifecycle-core/src
//! cargo test --test layers` on the tree before the kernel reports its ten-file cycle).
//!
//! Each file's `//!` doc also says what it imports, in one checkable sentence
//! (``Imports `kernel` and `error`; must not import `state`.``): the backticked names before
//! "must not" must cover every top-level module the file imports, besides its own ancestors,
//! submodules and siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// The modules the kernel may import (besides its own submodules).
const KERNEL_MAY_IMPORT: &[&str] = &[
    "error", "exec", "info", "status", "thread", "unwind", "watch",
];

fn src_dir() -> PathBuf {
    std::env::var_os("LAYERS_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("lifecycle-core/src"),
        PathBuf::from,
    )
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(src).expect("under src");
    let mut parts: Module = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    match last.as_str() {
        "lib.rs" | "mod.rs" => {}
        name => parts.push(name.trim_end_matches(".rs").to_owned()),
    }
    parts
}

/// The source without comments (line comments and doc comments; block comments are not used).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every path that starts at `at` (just after `crate::`, `super::` or `self::`), expanding one
/// level of `{a::b, c}` groups: each as its segments.
fn paths_at(text: &str, at: usize) -> Vec<Vec<String>> {
    let rest = &text[at..];
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let inner = &group[..end];
        let mut items = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..]);
        return items
            .into_iter()
            .map(|item| segments(item.trim()))
            .filter(|segments| !segments.is_empty())
            .collect();
    }
    vec![segments(rest)]
}

fn segments(mut rest: &str) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let len = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
        if len == 0 {
            break;
        }
        out.push(rest[..len].to_owned());
        match rest[len..].strip_prefix("::") {
            Some(next) if next.starts_with(is_ident) => rest = next,
            _ => break,
        }
    }
    out
}

/// The modules a file refers to, resolved against the known modules, with the path written.
fn imports(
    module: &Module,
    is_mod_file: bool,
    text: &str,
    known: &BTreeSet<Module>,
) -> Vec<(Module, String)> {
    let text = code(text);
    // `super::` inside an inline module (`mod tests { use super::*; }`) is the file's module.
    let inline_mod = text
        .match_indices("mod ")
        .find(|(at, _)| {
            let rest = &text[at + 4..];
            let name = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
            name > 0 && rest[name..].trim_start().starts_with('{')
        })
        .map_or(usize::MAX, |(at, _)| at);
    let mut found = Vec::new();
    for (prefix, base) in [
        ("crate::", Vec::new()),
        ("super::", {
            // `super` of `x/y.rs` is `x`; of `x/mod.rs` (module `x`) it is the root.
            let mut parent = module.clone();
            parent.pop();
            parent
        }),
        ("self::", module.clone()),
    ] {
        let _ = is_mod_file;
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix) {
            let at = from + at;
            from = at + prefix.len();
            if at > 0 && text[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                continue; // `foo::crate::` or `x::self::` cannot be a path start we care about
            }
            for path in paths_at(&text, at + prefix.len()) {
                let mut full = if prefix == "super::" && at > inline_mod {
                    module.clone()
                } else {
                    base.clone()
                };
                full.extend(path.iter().cloned());
                let target = (0..=full.len())
                    .rev()
                    .map(|n| full[..n].to_vec())
                    .find(|candidate| known.contains(candidate))
                    .unwrap_or_default();
                found.push((target, format!("{prefix}{}", path.join("::"))));
            }
        }
    }
    found
}

struct Layers {
    /// sibling module -> sibling module it imports -> the files and paths that do it
    edges: BTreeMap<Module, BTreeMap<Module, BTreeSet<String>>>,
    /// imports of the crate root from a module (re-exports point back up at everything)
    root_imports: Vec<String>,
    kernel_violations: Vec<String>,
}

fn layers(src: &Path) -> Layers {
    let mut all = Vec::new();
    files(src, &mut all);
    let known: BTreeSet<Module> = all.iter().map(|file| module_of(src, file)).collect();
    let mut layers = Layers {
        edges: BTreeMap::new(),
        root_imports: Vec::new(),
        kernel_violations: Vec::new(),
    };
    for file in &all {
        let module = module_of(src, file);
        let name = file.strip_prefix(src).unwrap().display().to_string();
        let is_mod_file = file.ends_with("mod.rs");
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for (target, written) in imports(&module, is_mod_file, &text, &known) {
            let shared = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if target.is_empty() && !module.is_empty() {
                layers.root_imports.push(format!("{name}: {written}"));
                continue;
            }
            if shared == module.len() || shared == target.len() {
                continue; // a module and its own submodules
            }
            let from = module[..=shared].to_vec();
            let to = target[..=shared].to_vec();
            if module.first().map(String::as_str) == Some("kernel")
                && target.first().map(String::as_str) != Some("kernel")
                && !KERNEL_MAY_IMPORT.contains(&target[0].as_str())
            {
                layers
                    .kernel_violations
                    .push(format!("{name}: {written} (module {})", target.join("/")));
            }
            layers
                .edges
                .entry(from)
                .or_default()
                .entry(to)
                .or_default()
                .insert(format!("{name}: {written}"));
        }
    }
    layers
}

/// The strongly connected components with more than one module (Tarjan's algorithm).
fn cycles(edges: &BTreeMap<Module, BTreeMap<Module, BTreeSet<String>>>) -> Vec<Vec<Module>> {
    struct Search<'a> {
        edges: &'a BTreeMap<Module, BTreeMap<Module, BTreeSet<String>>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on_stack: BTreeSet<Module>,
        found: Vec<Vec<Module>>,
    }
    impl Search<'_> {
        fn visit(&mut self, at: &Module) {
            let n = self.index.len();
            self.index.insert(at.clone(), n);
            self.low.insert(at.clone(), n);
            self.stack.push(at.clone());
            self.on_stack.insert(at.clone());
            let next: Vec<Module> = self
                .edges
                .get(at)
                .map(|to| to.keys().cloned().collect())
                .unwrap_or_default();
            for to in next {
                if !self.index.contains_key(&to) {
                    self.visit(&to);
                    let low = self.low[at].min(self.low[&to]);
                    self.low.insert(at.clone(), low);
                } else if self.on_stack.contains(&to) {
                    let low = self.low[at].min(self.index[&to]);
                    self.low.insert(at.clone(), low);
                }
            }
            if self.low[at] == self.index[at] {
                let mut component = Vec::new();
                loop {
                    let top = self.stack.pop().unwrap();
                    self.on_stack.remove(&top);
                    let done = &top == at;
                    component.push(top);
                    if done {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    let nodes: Vec<Module> = edges.keys().cloned().collect();
    for node in nodes {
        if !search.index.contains_key(&node) {
            search.visit(&node);
        }
    }
    search.found
}

#[test]
fn modules_of_lifecycle_core_import_downwards_only() {
    let layers = layers(&src_dir());
    let mut report = String::new();
    for component in cycles(&layers.edges) {
        let names: Vec<String> = component.iter().map(|m| m.join("/")).collect();
        report.push_str(&format!(
            "\nimport cycle among {} modules: {}\n",
            names.len(),
            names.join(", ")
        ));
        for from in &component {
            for (to, sites) in &layers.edges[from] {
                if component.contains(to) {
                    for site in sites {
                        report.push_str(&format!(
                            "  {} -> {}: {site}\n",
                            from.join("/"),
                            to.join("/")
                        ));
                    }
                }
            }
        }
    }
    for site in &layers.root_imports {
        report.push_str(&format!(
            "\nimports the crate root (its re-exports import everything): {site}"
        ));
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn the_kernel_imports_only_base_modules() {
    let layers = layers(&src_dir());
    assert!(
        layers.kernel_violations.is_empty(),
        "the kernel may import only {KERNEL_MAY_IMPORT:?}:\n{}",
        layers.kernel_violations.join("\n")
    );
}

/// The sentence of a file's leading `//!` doc that starts with "Imports" (the module doc
/// format: ``Imports `kernel` and `error`; must not import `state`.``), without its period.
fn import_sentence(text: &str) -> Option<String> {
    let doc = text
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let start = doc
        .match_indices("Imports ")
        .map(|(at, _)| at)
        .find(|&at| at == 0 || doc[..at].trim_end().ends_with('.') || doc[..at].ends_with("  "))?;
    let sentence = &doc[start..];
    let end = sentence.find(". ").unwrap_or(sentence.len());
    Some(sentence[..end].trim_end_matches('.').to_owned())
}

/// The backticked names before "must not" in an import sentence (`state/` counts as `state`).
fn listed_imports(sentence: &str) -> BTreeSet<String> {
    let allowed = sentence.split("must not").next().unwrap_or_default();
    allowed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|name| name.trim_end_matches('/').to_owned())
        .collect()
}

#[test]
fn every_module_doc_lists_the_modules_it_imports() {
    let src = src_dir();
    let mut all = Vec::new();
    files(&src, &mut all);
    all.sort();
    let known: BTreeSet<Module> = all.iter().map(|file| module_of(&src, file)).collect();
    let mut report = String::new();
    for file in &all {
        let name = file.strip_prefix(&src).unwrap().display().to_string();
        let text = std::fs::read_to_string(file).expect("a readable source file");
        let Some(sentence) = import_sentence(&text) else {
            report.push_str(&format!(
                "\n{name}: its `//!` doc has no sentence starting with \"Imports\""
            ));
            continue;
        };
        let listed = listed_imports(&sentence);
        let module = module_of(&src, file);
        let parent = &module[..module.len().saturating_sub(1)];
        // top-level module -> the paths that import it
        let mut unlisted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (target, written) in imports(&module, false, &text, &known) {
            let related = target.starts_with(&module)
                || module.starts_with(&target)
                || (!parent.is_empty() && target.starts_with(parent));
            if related || listed.contains(&target[0]) {
                continue; // its ancestors, its submodules, its siblings, or listed
            }
            unlisted
                .entry(target[0].clone())
                .or_default()
                .insert(written);
        }
        if !unlisted.is_empty() {
            let unlisted: Vec<String> = unlisted
                .into_iter()
                .map(|(top, paths)| {
                    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
                    format!("`{top}` ({})", paths.join(", "))
                })
                .collect();
            report.push_str(&format!(
                "\n{name}: imports {}, not listed in \"{sentence}.\"",
                unlisted.join(", ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "each file's `//!` doc needs an import sentence naming, in backticks before \
         \"must not\", every top-level module it imports (`//! Imports `kernel` and `error`; \
         must not import `state`.`):{report}"
    );
}

#[test]
fn the_import_sentence_is_read_from_the_module_doc() {
    let text = "//! Owns the cell. Imports\n\
                //! `kernel`, `state/` and the kernel's `cell`; must not\n\
                //! import `global`.\n\
                \n\
                //! Imports `later`.\n\
                use crate::kernel;";
    let sentence = import_sentence(text).expect("an import sentence");
    assert_eq!(
        sentence,
        "Imports `kernel`, `state/` and the kernel's `cell`; must not import `global`"
    );
    assert_eq!(
        listed_imports(&sentence),
        ["cell", "kernel", "state"].map(String::from).into()
    );
    assert_eq!(
        import_sentence("//! Owns no Imports here.\nuse crate::kernel;"),
        None
    );
}

#[test]
fn the_check_sees_imports_in_every_form() {
    let known: BTreeSet<Module> = [
        vec![],
        vec!["a".into()],
        vec!["b".into()],
        vec!["b".into(), "c".into()],
    ]
    .into_iter()
    .collect();
    let text = "use crate::{a::X, b::c::{Y, Z}};\n// use crate::never;\nfn f() { super::c::g(); crate::Top; }";
    let module = vec!["b".to_owned(), "d".to_owned()];
    let found: Vec<Module> = imports(&module, false, text, &known)
        .into_iter()
        .map(|(target, _)| target)
        .collect();
    assert_eq!(
        found,
        [
            vec!["a".to_owned()],
            vec!["b".into(), "c".into()],
            vec![],
            vec!["b".into(), "c".into()]
        ]
    );
}
