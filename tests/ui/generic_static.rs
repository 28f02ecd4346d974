use lifecycle::prelude::*;

#[defstate]
static EMPTY<T>: Vec<T> = Vec::new();

lifecycle::decl::defstate! {
    static CACHE<K, V>: std::collections::HashMap<K, V> = std::collections::HashMap::new();

    static LABEL<'a>: &'a str = "label";
}

fn main() {}
