//! What the examples share: `/healthz` and `/readyz` served from `lifecycle::health()`
//! (`health`), the admin page at `/lifecycle` (`admin`), `POST /crash` for a demo of
//! supervision (`crash`), and logging (`init_logging`). The console and the server are library code:
//! `lifecycle::console` and `lifecycle::server`.
//!
//! Not an example of its own: cargo only builds `examples/*.rs` and `examples/*/main.rs`.

#![allow(dead_code)] // each example uses what it needs

pub mod admin;
pub mod crash;
pub mod health;

use lifecycle::{Event, StateInfo};

/// INFO lines on stderr (`tracing`), and one line per lifecycle event of every state, so the
/// order of starts and stops can be read (and tested) from the output. The console's replies
/// go to stdout: the two never share a line.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
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
