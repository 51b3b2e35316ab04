//! The two wire formats of activities, as pure code (no I/O): JSON-LD
//! (ActivityStreams 2.0, what the fediverse speaks) and sexp (the co-op's
//! S-expressions, specified in `docs/sexp.md`).
//!
//! - [`sexp`]: the S-expression data type, its reader (with limits and
//!   line:column errors), printers and canonical form.
//! - [`markup`]: a post body's markup tree rendered to safe HTML through
//!   an allow-list, with depth, node and output limits (`docs/sexp.md` §5).

pub mod markup;
pub mod sexp;
