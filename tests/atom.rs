//! `Atom<T>` as the container of a running server (the atom-based restart pattern), its
//! Clojure-like operations under contention, and closing the value it holds.

use lifecycle::prelude::*;
use lifecycle::{Closeable, Error};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A tiny server: answers every connection with a fixed line, on its own thread.
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(port: u16) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.write_all(b"App Server Running\n");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            // The listener drops here: the port is free when `stop` returns.
        });
        Ok(Server {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// Graceful: stops accepting and waits for the accept loop to end.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Resource for Server {
    fn close(mut self) -> Result<(), Error> {
        self.stop();
        Ok(())
    }
}

fn get(addr: SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

static SERVER: Atom<Server> = Atom::empty();

fn app_server_start(port: u16) -> Result<SocketAddr, Error> {
    if let Some(server) = SERVER.load() {
        return Ok(server.addr);
    }
    let server = Server::start(port)?;
    let addr = server.addr;
    SERVER.reset(server);
    Ok(addr)
}

fn app_server_stop() -> Result<(), Error> {
    SERVER.close()
}

fn app_server_restart(port: u16) -> Result<SocketAddr, Error> {
    app_server_stop()?;
    app_server_start(port)
}

#[test]
fn the_restart_pattern_frees_the_port_and_binds_it_again() {
    let addr = app_server_start(0).unwrap();
    assert_eq!(get(addr).unwrap(), "App Server Running\n");
    assert_eq!(app_server_start(0).unwrap(), addr, "start is idempotent");
    // Restart on the same port: it must be free when stop returns.
    for _ in 0..3 {
        let again = app_server_restart(addr.port()).unwrap();
        assert_eq!(again, addr);
        assert_eq!(get(addr).unwrap(), "App Server Running\n");
    }
    app_server_stop().unwrap();
    assert!(SERVER.load().is_none());
    assert!(get(addr).is_err(), "nothing listens after stop");
    app_server_stop().unwrap(); // stopping a stopped server is fine
}

#[test]
fn close_waits_for_snapshots_and_puts_the_value_back_if_they_stay() {
    let closed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&closed);
    let atom = Box::leak(Box::new(Atom::new(closeable(5, move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    }))));
    let snapshot = atom.load().unwrap();
    let error = atom.close_within(Duration::from_millis(50)).unwrap_err();
    assert!(matches!(error, Error::CloseInUse { .. }), "{error:?}");
    assert_eq!(closed.load(Ordering::SeqCst), 0);
    assert_eq!(**atom.load().unwrap(), 5, "the value was put back");
    // A snapshot released while close waits lets it finish.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        drop(snapshot);
    });
    atom.close_within(Duration::from_secs(5)).unwrap();
    releaser.join().unwrap();
    assert_eq!(closed.load(Ordering::SeqCst), 1);
    assert!(atom.is_empty());
    // A static atom is a resource.
    static PORT: Atom<Closeable<u16>> = Atom::empty();
    PORT.reset(closeable(6, |_| ()));
    Resource::close(&PORT).unwrap();
    assert!(PORT.is_empty());
}

#[test]
fn swap_from_many_threads_loses_no_update() {
    static HITS: Atom<u64> = Atom::empty();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..500 {
                    HITS.swap(|hits| hits.map_or(1, |n| n + 1));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(HITS.load().as_deref(), Some(&4000));
}

#[test]
fn reset_take_and_update_return_what_clojure_would() {
    let atom = Atom::empty();
    assert_eq!(atom.reset(1), None);
    assert_eq!(atom.reset(2).as_deref(), Some(&1));
    assert_eq!(atom.update(|n| n.map(|n| n * 10)).as_deref(), Some(&20));
    assert_eq!(*atom.swap(|n| n.copied().unwrap_or(0) + 1), 21);
    assert_eq!(atom.take().as_deref(), Some(&21));
    assert_eq!(atom.take(), None);
    assert_eq!(format!("{atom:?}"), "Atom(None)");
}
