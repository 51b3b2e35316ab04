//! The activity model and its two wire formats, as pure code (no I/O).
//!
//! Everything the hub sends and receives is an ActivityStreams 2.0
//! document. In memory that is one model: the AS2 tree (AS2 is defined
//! over JSON's data model, so the tree is a [`serde_json::Value`]) and the
//! typed views the handlers work with. On the wire it has two syntaxes:
//! JSON-LD, which the whole fediverse speaks, and sexp, the co-op's
//! S-expressions (`docs/sexp.md`). Each is decoded once, at the edge, into
//! the model; everything after that is shared.
//!
//! - [`as2`]: the vocabulary: ids, origins, addressing, the bounds on ids.
//! - [`activity`]: [`activity::Activity`], a received activity checked for
//!   the fields every handler relies on; and the builders of the activities
//!   our actors send.
//! - [`actor`]: actor documents, rendered for our actors and parsed from
//!   remote ones.
//! - [`collection`]: ordered collections and their pages.
//! - [`jcs`]: the JSON Canonicalization Scheme (RFC 8785), the bytes that
//!   FEP-8b32 `eddsa-jcs-2022` proofs hash.
//! - [`jsonld`]: the JSON-LD codec (bytes ↔ tree, with its guards).
//! - [`sexp`]: the S-expression data type, its reader (with limits and
//!   line:column errors), printers, canonical form, and the markup of post
//!   bodies rendered to safe HTML.

pub mod activity;
pub mod actor;
pub mod as2;
pub mod collection;
pub mod jcs;
pub mod jsonld;
pub mod sexp;

/// What the edge decoders accept.
#[derive(Debug, Clone)]
pub struct DecodeLimits {
    /// Deepest JSON nesting.
    pub max_json_depth: usize,
    pub sexp: sexp::Limits,
}

/// A received activity, decoded once into the model, and for sexp the
/// envelope that signed it (not yet verified: that needs the signer's key).
#[derive(Debug, Clone)]
pub struct Received {
    pub format: Format,
    pub activity: activity::Activity,
    pub envelope: Option<sexp::Envelope>,
}

/// Decodes an inbox body of `format` into the model.
pub fn decode(format: Format, body: &[u8], limits: &DecodeLimits) -> Result<Received, FormatError> {
    let (doc, envelope) = match format {
        Format::JsonLd => (jsonld::decode(body, limits.max_json_depth)?, None),
        Format::Sexp => sexp::as2::decode_activity(body, &limits.sexp)?,
    };
    Ok(Received {
        format,
        activity: activity::Activity::from_doc(doc)?,
        envelope,
    })
}

/// Why a document cannot be used. Always the sender's fault: the edge
/// answers 400 (or 413 for [`FormatError::TooLarge`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Malformed syntax, or a document missing what its kind requires.
    #[error("{0}")]
    Invalid(String),
    /// Beyond a size limit.
    #[error("{0}")]
    TooLarge(String),
}

impl FormatError {
    pub fn invalid(why: impl Into<String>) -> FormatError {
        FormatError::Invalid(why.into())
    }
}

/// The wire formats, by media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `application/activity+json` (also read: `application/ld+json`,
    /// `application/json`).
    JsonLd,
    /// `application/sexp`.
    Sexp,
}

impl Format {
    /// The media type this hub sends the format as.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::JsonLd => jsonld::MEDIA_TYPE,
            Format::Sexp => sexp::MEDIA_TYPE,
        }
    }

    /// The format of a `Content-Type` value, if it is one we read. sexp
    /// text is UTF-8 only (`docs/sexp.md`): with a `charset` parameter
    /// other than `utf-8` it is not one we read.
    pub fn from_content_type(value: &str) -> Option<Format> {
        let mut parts = value.split(';');
        let media = parts.next().unwrap_or("").trim();
        if jsonld::READ_MEDIA_TYPES
            .iter()
            .any(|m| media.eq_ignore_ascii_case(m))
        {
            Some(Format::JsonLd)
        } else if media.eq_ignore_ascii_case(sexp::MEDIA_TYPE) {
            let utf8 = parts
                .filter_map(|p| p.split_once('='))
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .all(|(_, v)| v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8"));
            utf8.then_some(Format::Sexp)
        } else {
            None
        }
    }

    /// A short name for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonLd => "jsonld",
            Format::Sexp => "sexp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            Format::from_content_type("application/activity+json"),
            Some(Format::JsonLd)
        );
        assert_eq!(
            Format::from_content_type(
                "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
            ),
            Some(Format::JsonLd)
        );
        assert_eq!(
            Format::from_content_type("Application/Sexp; charset=utf-8"),
            Some(Format::Sexp)
        );
        assert_eq!(
            Format::from_content_type("application/sexp;charset=\"UTF-8\""),
            Some(Format::Sexp)
        );
        assert_eq!(
            Format::from_content_type("application/sexp; charset=iso-8859-1"),
            None
        );
        assert_eq!(Format::from_content_type("text/html"), None);
    }
}
