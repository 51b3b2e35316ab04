//! Outbox (not built yet; arrives with the "Federation core" issue).
//!
//! Will own publishing and delivery: the member apps' publishing API, the
//! transactional outbox (activities written with their delivery jobs into
//! `ap_activities` and a persistent queue), and the delivery workers that
//! sign with the instance key and retry with backoff. The read side that
//! exists today, the paged `outbox` collection, lives in
//! [`crate::actors::routes`].
