//! Moderation: the rules an admin's actions follow, in plain functions the
//! CLI, the admin pages and the API call: domain blocks (severities,
//! options, CSV import and export), reports (filed, resolved, forwarded)
//! and the audit log every action is recorded in. Storage is in
//! `db::domain_blocks`, `db::reports` and `db::audit_log`.

pub mod actions;
pub mod audit;
pub mod domain_blocks;
pub mod reports;
