//! Moderation: the rules an admin's actions follow, in plain functions the
//! CLI (and, with the Moderation issue, the admin pages and the API) call.
//! Today that is domain blocks; storage is in `db::domain_blocks`.

pub mod domain_blocks;
