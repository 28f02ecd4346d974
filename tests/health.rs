//! `lifecycle::health()` and `health_of()`, through the public API: readiness by name and by
//! `meta(ready = "true")`, each state's status, uptime and last error, `Display`, and the
//! JSON shape of the `serde` feature.
//!
//! Tests run in parallel in one process; each reads only its own states from the report.
//! Only `tagged` declares states with `meta(ready = "true")`.

use lifecycle::prelude::*;
use lifecycle::{Health, StateHealth, Status};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

fn state<'a>(health: &'a Health, name: &str) -> &'a StateHealth {
    health
        .states
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} in {health}"))
}

mod named {
    use super::*;

    #[defstate]
    pub static DB: u32 = 1;
    #[defstate]
    pub static SERVER: u32 = *DB.get() + 1;

    #[test]
    fn readiness_is_false_until_every_named_state_is_up() {
        let names = ["health::named::DB", "health::named::SERVER"];
        let health = lifecycle::health_of(&names);
        assert!(health.live);
        assert!(!health.ready);
        assert_eq!(health.not_ready, names);
        let db = state(&health, "health::named::DB");
        assert_eq!(
            (db.status, db.uptime, db.required),
            (Status::Unrealized, None, true)
        );

        DB.get();
        let health = lifecycle::health_of(&names);
        assert!(!health.ready);
        assert_eq!(health.not_ready, ["health::named::SERVER"]);
        let db = state(&health, "health::named::DB");
        assert_eq!(db.status, Status::Realized);
        assert!(db.uptime.is_some());
        assert_eq!((db.restarts, db.last_error.as_deref()), (0, None));

        SERVER.get();
        let health = lifecycle::health_of(&names);
        assert!(health.ready, "{health}");
        assert!(health.not_ready.is_empty());

        // Stopped (or restarting): not ready again.
        SERVER.stop().unwrap();
        let health = lifecycle::health_of(&names);
        assert_eq!(health.not_ready, ["health::named::SERVER"]);
        lifecycle::stop_where(|s| s.name().starts_with("health::named::")).unwrap();
    }

    #[test]
    fn an_unknown_name_is_not_ready() {
        let health = lifecycle::health_of(&["health::named::NOWHERE"]);
        assert!(!health.ready);
        assert_eq!(health.not_ready, ["health::named::NOWHERE"]);
    }
}

mod tagged {
    use super::*;

    #[defstate(meta(ready = "true"))]
    pub static PRIMARY: u32 = 1;
    #[defstate]
    pub static UNTAGGED: u32 = 2;

    #[test]
    fn readiness_counts_the_states_tagged_ready() {
        let health = lifecycle::health();
        assert!(!health.ready);
        assert_eq!(health.not_ready, ["health::tagged::PRIMARY"]);
        assert!(state(&health, "health::tagged::PRIMARY").required);
        assert!(!state(&health, "health::tagged::UNTAGGED").required);
        PRIMARY.get();
        let health = lifecycle::health();
        assert!(health.ready, "{health}");
        PRIMARY.stop().unwrap();
    }
}

mod errors {
    use super::*;

    static BROKEN: AtomicBool = AtomicBool::new(true);

    fn open() -> Result<u32, std::io::Error> {
        if BROKEN.load(SeqCst) {
            Err(std::io::Error::other("no route to db"))
        } else {
            Ok(5)
        }
    }

    #[defstate]
    pub static FLAKY: u32 = open()?;

    #[defstate(stop = |_| Err::<(), _>(std::io::Error::other("flush failed")))]
    pub static BAD_STOP: u32 = 3;

    #[test]
    fn the_last_failed_start_or_stop_is_reported() {
        assert!(FLAKY.try_get().is_err());
        let health = lifecycle::health_of(&["health::errors::FLAKY"]);
        let flaky = state(&health, "health::errors::FLAKY");
        assert_eq!(flaky.status, Status::Unrealized);
        let error = flaky.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("no route to db"), "{error}");
        let text = health.to_string();
        assert!(
            text.contains("health::errors::FLAKY unrealized, required for readiness, last error:"),
            "{text}"
        );

        // A start that succeeds later keeps the message (it is the *last* error) and is up.
        BROKEN.store(false, SeqCst);
        FLAKY.get();
        let health = lifecycle::health();
        let flaky = state(&health, "health::errors::FLAKY");
        assert_eq!(flaky.status, Status::Realized);
        assert!(flaky.last_error.is_some() && flaky.uptime.is_some());

        BAD_STOP.get();
        assert!(BAD_STOP.stop().is_err());
        let health = lifecycle::health();
        let bad = state(&health, "health::errors::BAD_STOP");
        assert_eq!(bad.status, Status::StopFailed);
        let error = bad.last_error.as_deref().unwrap_or_default();
        assert!(error.contains("flush failed"), "{error}");
        BAD_STOP.force_close().unwrap();
        FLAKY.stop().unwrap();
    }
}

mod json {
    use super::*;

    #[defstate]
    pub static CONFIG: u32 = 8080;

    /// The entry of `states` named `name` in the JSON of a `Health`.
    fn json_state<'a>(value: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
        value["states"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
    }

    #[test]
    fn the_serde_shape_is_plain_json() {
        CONFIG.get();
        let health = lifecycle::health_of(&["health::json::CONFIG"]);
        let value = serde_json::to_value(&health).unwrap();
        assert_eq!(value["live"], true);
        assert_eq!(value["ready"], true);
        assert_eq!(value["not_ready"], serde_json::json!([]));
        let config = json_state(&value, "health::json::CONFIG");
        assert_eq!(config["status"], "realized");
        assert_eq!(config["restarts"], 0);
        assert_eq!(config["required"], true);
        assert!(config["last_error"].is_null());
        assert!(config["uptime"].as_f64().unwrap() >= 0.0);
        let unrealized = json_state(&value, "health::tagged::UNTAGGED");
        assert_eq!(unrealized["status"], "unrealized");
        assert!(unrealized["uptime"].is_null());
        CONFIG.stop().unwrap();
    }
}
