//! Moderation: the rules an admin's actions follow, in plain functions the
//! CLI and the admin pages call: domain blocks (severities, options, CSV
//! import and export) and the audit log every action is recorded in.
//! Storage is in `db::domain_blocks` and `db::audit_log`.

pub mod audit;
pub mod domain_blocks;
