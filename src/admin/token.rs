//! The token the admin page's POSTs need: generated, and checked against a request's headers.
//!
//! Imports nothing from the crate, nor from the page's other parts.

use axum::http::HeaderMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::SystemTime;

/// 128 random bits as 32 hex digits. `RandomState`'s SipHash keys come from the operating
/// system's randomness, so its hashes cannot be guessed without them: no random-number crate
/// is needed for one token per page.
pub(super) fn generate() -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    (0..2u64)
        .map(|half| {
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(half);
            hasher.write_u128(now);
            hasher.write_u32(std::process::id());
            format!("{:016x}", hasher.finish())
        })
        .collect()
}

/// True if the request carries `token` as `x-lifecycle-token: TOKEN` or `Authorization:
/// Bearer TOKEN`.
pub(super) fn allows(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get("x-lifecycle-token")
        .and_then(|value| value.to_str().ok())
        .or_else(|| {
            headers
                .get(axum::http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
        });
    given.is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
}

/// Compares in time that depends on the lengths only, not on where the first difference is.
fn same(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_are_long() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }

    #[test]
    fn either_header_carries_it() {
        let mut headers = HeaderMap::new();
        assert!(!allows(&headers, "t0k"));
        headers.insert("x-lifecycle-token", "t0k".parse().unwrap());
        assert!(allows(&headers, "t0k"));
        assert!(!allows(&headers, "t0ken"));
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", "Bearer t0k".parse().unwrap());
        assert!(allows(&bearer, "t0k"));
        bearer.insert("authorization", "Basic t0k".parse().unwrap());
        assert!(!allows(&bearer, "t0k"));
    }
}
