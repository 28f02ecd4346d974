//! What the examples share: the console of the reloaded workflow (`console`), `/healthz` and
//! `/readyz` built from `lifecycle::status()` (`health`), and logging (`init_logging`).
//!
//! Not an example of its own: cargo only builds `examples/*.rs` and `examples/*/main.rs`.

#![allow(dead_code)] // each example uses what it needs

pub mod console;
pub mod health;

use lifecycle::{Event, StateInfo};

/// INFO lines on stdout (`tracing`), and one line per lifecycle event of every state, so the
/// order of starts and stops can be read (and tested) from the output.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stdout)
        .init();
    lifecycle::watch("examples/log", |event: &Event, state: &StateInfo| {
        let name = state.name();
        match event {
            Event::Started => tracing::info!("started {name}"),
            Event::Stopping => tracing::info!("stopping {name}"),
            Event::Stopped => tracing::info!("stopped {name}"),
            // Failures are logged by the library itself, as warnings.
            _ => {}
        }
    });
}

/// The port: the first argument, else `$PORT`, else `default`.
pub fn port_from(args: &[String], env: Option<String>, default: u16) -> Result<u16, String> {
    let (text, from) = match (args.first(), env) {
        (Some(arg), _) => (arg.clone(), "the first argument"),
        (None, Some(env)) => (env, "$PORT"),
        (None, None) => return Ok(default),
    };
    text.trim()
        .parse()
        .map_err(|error| format!("the port in {from} (`{text}`) is not a port number: {error}"))
}
