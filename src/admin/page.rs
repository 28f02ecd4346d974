//! The page (`GET /`): one HTML file with its CSS and JS put inline, all shipped in the crate
//! (`page.html`, `page.css`, `page.js`), so it works on a machine without internet.
//!
//! Imports nothing from the crate (the page's files are included as text).

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;

static PAGE: LazyLock<String> = LazyLock::new(|| {
    include_str!("page.html")
        .replace("/*CSS*/", include_str!("page.css"))
        .replace("/*JS*/", include_str!("page.js"))
});

/// `GET /`.
pub(super) async fn page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE.as_str(),
    )
}
