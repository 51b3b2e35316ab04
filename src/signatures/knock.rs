//! Which HTTP signature scheme to sign a request to a host with: RFC 9421
//! (Ed25519) first, and draft-cavage (RSA) for hosts that refused it: the
//! "double-knock" Fedify introduced. A request signed with RFC 9421 that a
//! host answers 400 or 401 is sent again at once signed with draft-cavage;
//! when that one is taken, the host is remembered as draft-cavage-only for
//! [`CAVAGE_FOR`], after which RFC 9421 is tried again (hosts upgrade).
//!
//! [`HostSchemes`] is that memory for one process, shared by deliveries and
//! signed GETs; the delivery worker also keeps it in the database
//! (`hosts.cavage_until`), so it outlives restarts and is shared between
//! processes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::{cavage, rfc9421, Algorithm};
use crate::error::AppError;
use crate::formats::actor::ed25519_key_id;
use crate::keys::InstanceKeys;

/// How long a host that refused RFC 9421 is sent draft-cavage only.
pub const CAVAGE_FOR_MS: i64 = 7 * 24 * 3600 * 1000;
/// Most hosts remembered in memory (the database keeps them all).
const MAX_HOSTS: usize = 100_000;

/// An HTTP signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Rfc9421,
    Cavage,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Rfc9421 => "rfc9421",
            Scheme::Cavage => "cavage",
        }
    }
}

/// Whether an answer to an RFC 9421 request means "sign it the old way":
/// servers that do not read `Signature-Input` refuse the request as
/// unsigned or malformed.
pub fn refused(status: u16) -> bool {
    matches!(status, 400 | 401)
}

/// Hosts that refused RFC 9421, and until when (ms since the epoch) they
/// are sent draft-cavage. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct HostSchemes {
    cavage_until: Arc<Mutex<HashMap<String, i64>>>,
    /// Sign draft-cavage only, whatever the host (`--http-signatures cavage`).
    cavage_only: bool,
    /// Where what [`HostSchemes::learn`] learns is sent to be kept (the
    /// database, through a task the instance starts).
    keep: Option<tokio::sync::mpsc::UnboundedSender<(String, Option<i64>)>>,
}

impl HostSchemes {
    pub fn new(cavage_only: bool) -> HostSchemes {
        HostSchemes {
            cavage_until: Arc::default(),
            cavage_only,
            keep: None,
        }
    }

    /// Sends what [`HostSchemes::learn`] learns to `keep` from now on.
    pub fn keep_with(&mut self, keep: tokio::sync::mpsc::UnboundedSender<(String, Option<i64>)>) {
        self.keep = Some(keep);
    }

    /// As [`HostSchemes::set`], and kept (in the database) when a keeper
    /// is set: what a signed GET learns outlives the process too.
    pub fn learn(&self, host: &str, until_ms: Option<i64>) {
        self.set(host, until_ms);
        if let Some(keep) = &self.keep {
            let _ = keep.send((host.to_string(), until_ms));
        }
    }

    /// The scheme to try first for `host` at `now_ms`.
    pub fn first_for(&self, host: &str, now_ms: i64) -> Scheme {
        if self.cavage_only {
            return Scheme::Cavage;
        }
        let until = self
            .cavage_until
            .lock()
            .ok()
            .and_then(|m| m.get(host).copied());
        match until {
            Some(until) if until > now_ms => Scheme::Cavage,
            _ => Scheme::Rfc9421,
        }
    }

    /// Whether a double-knock may follow a refusal of `first`.
    pub fn may_fall_back(&self, first: Scheme) -> bool {
        first == Scheme::Rfc9421
    }

    /// Records that `host` takes draft-cavage only, until `until_ms` (or
    /// forgets it, with `None`: the host took RFC 9421).
    pub fn set(&self, host: &str, until_ms: Option<i64>) {
        let Ok(mut map) = self.cavage_until.lock() else {
            return;
        };
        match until_ms {
            Some(until) => {
                if map.len() >= MAX_HOSTS && !map.contains_key(host) {
                    map.clear();
                }
                map.insert(host.to_string(), until);
            }
            None => {
                map.remove(host);
            }
        }
    }

    /// Whether anything is remembered for `host` (so that a success with
    /// RFC 9421 is worth recording).
    pub fn knows(&self, host: &str) -> bool {
        self.cavage_until.lock().is_ok_and(|m| m.contains_key(host))
    }
}

/// The headers that sign a request by `key_id` (an actor's `#main-key`)
/// with `scheme`: RFC 9421 with the actor's Ed25519 key, or draft-cavage
/// with its RSA key. `Date` is sent either way.
pub fn sign(
    keys: &InstanceKeys,
    scheme: Scheme,
    key_id: &str,
    method: &str,
    url: &url::Url,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<Vec<(&'static str, String)>, AppError> {
    match scheme {
        Scheme::Cavage => cavage::sign(keys, key_id, method, url, body, now),
        Scheme::Rfc9421 => {
            let actor = key_id.split('#').next().unwrap_or(key_id);
            let mut headers = rfc9421::sign(
                keys,
                &ed25519_key_id(actor),
                Algorithm::Ed25519,
                method,
                url,
                body,
                now,
            )?;
            headers.push(("date", httpdate::fmt_http_date(now)));
            Ok(headers)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusing_host_is_sent_cavage_until_the_preference_expires() {
        let schemes = HostSchemes::default();
        assert_eq!(schemes.first_for("a.example", 0), Scheme::Rfc9421);
        assert!(!schemes.knows("a.example"));
        schemes.set("a.example", Some(1000));
        assert_eq!(schemes.first_for("a.example", 999), Scheme::Cavage);
        assert_eq!(schemes.first_for("b.example", 999), Scheme::Rfc9421);
        assert_eq!(schemes.first_for("a.example", 1000), Scheme::Rfc9421);
        assert!(schemes.knows("a.example"));
        schemes.set("a.example", None);
        assert!(!schemes.knows("a.example"));
        assert!(HostSchemes::new(true).first_for("a.example", 0) == Scheme::Cavage);
        assert!(refused(401) && refused(400) && !refused(403) && !refused(500));
    }

    #[test]
    fn each_scheme_signs_with_its_key() {
        let keys = InstanceKeys::from_stored(&InstanceKeys::generate().unwrap()).unwrap();
        let url = url::Url::parse("https://r.example/inbox").unwrap();
        let now = SystemTime::now();
        let modern = sign(
            &keys,
            Scheme::Rfc9421,
            "https://h/actors/a#main-key",
            "POST",
            &url,
            Some(b"{}"),
            now,
        )
        .unwrap();
        let input = &modern
            .iter()
            .find(|(k, _)| *k == "signature-input")
            .unwrap()
            .1;
        assert!(
            input.contains("keyid=\"https://h/actors/a#ed25519-key\""),
            "{input}"
        );
        assert!(input.contains("alg=\"ed25519\""), "{input}");
        assert!(modern.iter().any(|(k, _)| *k == "date"));
        let old = sign(
            &keys,
            Scheme::Cavage,
            "https://h/actors/a#main-key",
            "POST",
            &url,
            Some(b"{}"),
            now,
        )
        .unwrap();
        let sig = &old.iter().find(|(k, _)| *k == "signature").unwrap().1;
        assert!(
            sig.contains("keyId=\"https://h/actors/a#main-key\""),
            "{sig}"
        );
        assert!(!old.iter().any(|(k, _)| *k == "signature-input"));
    }
}
