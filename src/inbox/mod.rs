//! Inbox (not built yet; arrives with the "Federation core" issue).
//!
//! Will own receiving: the per-actor inboxes (`/actors/{name}/inbox`) and
//! the shared inbox (`/inbox`) that the actor documents already advertise;
//! body and nesting limits, HTTP Signature and Digest verification with key
//! fetching as the instance actor, origin checks, dedup of activity ids,
//! and one handler per activity type (Follow, Undo, Create, Like, …).
//! Until then those URLs answer 404 and nothing is accepted.
