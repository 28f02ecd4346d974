//! The admin page as the examples mount it: at `/lifecycle`, with one token for the whole
//! run (from `$LIFECYCLE_TOKEN`, else generated once), so a restarted server keeps it.

use lifecycle::admin::Admin;
use std::sync::OnceLock;

/// The token the page's buttons need.
pub fn token() -> &'static str {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| {
        std::env::var("LIFECYCLE_TOKEN").unwrap_or_else(|_| Admin::new().token_value().to_owned())
    })
}

/// The page's settings with the run's token.
pub fn admin() -> Admin {
    Admin::new().token(token())
}

/// Prints where the page is, token included: `admin page: http://127.0.0.1:8888/lifecycle#token=...`.
pub fn print_url(host: &str, port: u16) {
    println!(
        "admin page: http://{host}:{port}/lifecycle#token={}",
        token()
    );
}
