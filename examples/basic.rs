//! A config and a file-backed store as states: lazy start, `status`, the dependency graph,
//! restart, and reverse-order `stop`, with every lifecycle event printed.
//!
//! ```text
//! cargo run --example basic            # data in $TMPDIR/lifecycle-basic
//! BASIC_DIR=/some/dir cargo run --example basic
//! ```

use lifecycle::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

/// Where the store lives; read from the environment on first use.
struct Config {
    data_file: PathBuf,
}

impl Config {
    fn load() -> std::io::Result<Self> {
        let dir = std::env::var_os("BASIC_DIR").map_or_else(
            || std::env::temp_dir().join("lifecycle-basic"),
            PathBuf::from,
        );
        std::fs::create_dir_all(&dir)?;
        Ok(Config {
            data_file: dir.join("store.txt"),
        })
    }
}

/// A tiny key-value store kept in memory and written to its file when it stops.
struct Store {
    file: PathBuf,
    entries: Mutex<BTreeMap<String, String>>,
}

impl Store {
    fn open(file: &std::path::Path) -> std::io::Result<Self> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(error),
        };
        let entries = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok(Store {
            file: file.to_owned(),
            entries: Mutex::new(entries),
        })
    }

    fn bump(&self, key: &str) -> u64 {
        let mut entries = self.entries.lock().unwrap();
        let next = entries
            .get(key)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        entries.insert(key.to_owned(), next.to_string());
        next
    }

    fn flush(self) -> std::io::Result<()> {
        let entries = self
            .entries
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let text: String = entries.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&self.file, text)
    }
}

/// The configuration, loaded on first use.
#[defstate(name = "basic/config")]
static CONFIG: Config = Config::load()?;

/// The store; reading `CONFIG` in its start records the dependency store -> config.
#[defstate(name = "basic/store", stop = Store::flush)]
static STORE: Store = Store::open(&CONFIG.get().data_file)?;

fn names(states: &[lifecycle::StateInfo]) -> Vec<&str> {
    states.iter().map(lifecycle::StateInfo::name).collect()
}

/// `#[lifecycle::main]`: SIGINT/SIGTERM handling, and `lifecycle::stop()` when main returns,
/// fails or panics — so the store is flushed however the program ends.
#[lifecycle::main]
fn main() -> Result<(), lifecycle::Error> {
    lifecycle::watch("print", |event, state| {
        println!("  event: {event:?} {}", state.name())
    });

    let declared: Vec<&str> = lifecycle::declared().iter().map(|d| d.name()).collect();
    println!("declared: {declared:?}");
    println!("status before first use: {:?}", names(&lifecycle::status()));

    let runs = STORE.get().bump("runs");
    println!("this example ran {runs} time(s) with this data file");
    println!("status: {:?}", names(&lifecycle::status()));
    print!("graph:\n{}", lifecycle::graph().to_dot());

    println!("restarting basic/config (stops basic/store first):");
    CONFIG.restart()?;
    println!("status after restart: {:?}", names(&lifecycle::status()));
    println!(
        "runs after restart (read back from the file): {}",
        STORE.get().bump("runs") - 1
    );

    println!("stopping everything, newest first:");
    let report = lifecycle::stop()?;
    println!("stopped: {:?}", report.stopped);

    // Started again and left running: `#[lifecycle::main]` stops it when main returns.
    STORE.get().bump("runs");
    println!("leaving basic/store running; main returns and the teardown stops it:");
    Ok(())
}
