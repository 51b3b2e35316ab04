//! Test-only judge of post HTML, shared by the sexp renderer's tests and the
//! JSON-LD sanitiser's: it reads the HTML with html5ever's tokenizer, as a
//! browser's parser would read it inside the body, and holds it to the
//! allow-list of `docs/sexp.md` §5 whatever produced it.
//!
//! Tokens are enough: every way markup can run script (an element, an
//! attribute, a URL, a comment that hides a conditional, a doctype that
//! changes parsing) shows up as a token, so no DOM is needed.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

use super::{CONTAINERS, LINK_REL, VOIDS};

/// The element names the renderer may write (`docs/sexp.md` §5).
pub(crate) fn allowed_tag(name: &str) -> bool {
    CONTAINERS.contains(&name) || VOIDS.contains(&name) || name == "a"
}

/// What a clean document held, for tests that want more than "clean".
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Every `href`, as the parser decoded it.
    pub hrefs: Vec<String>,
    /// Start tags, in order.
    pub tags: Vec<String>,
    /// The tokenizer's parse errors (well-formed output has none).
    pub parse_errors: Vec<String>,
}

#[derive(Default)]
struct Sink {
    seen: RefCell<Seen>,
    violations: RefCell<Vec<String>>,
}

impl Sink {
    fn violation(&self, what: String) {
        self.violations.borrow_mut().push(what);
    }

    fn tag(&self, tag: &Tag) {
        let name = &*tag.name;
        if !allowed_tag(name) {
            self.violation(format!("element <{name}>"));
        }
        if tag.had_duplicate_attributes {
            self.violation(format!("repeated attribute on <{name}>"));
        }
        if tag.kind == TagKind::StartTag {
            self.seen.borrow_mut().tags.push(name.to_string());
        } else if !tag.attrs.is_empty() {
            self.violation(format!("attributes on </{name}>"));
        }
        for attr in &tag.attrs {
            let attr_name = &*attr.name.local;
            let value = &*attr.value;
            match (name, attr_name) {
                ("a", "href") => {
                    match url::Url::parse(value) {
                        Ok(url) if matches!(url.scheme(), "http" | "https" | "mailto") => {}
                        Ok(url) => {
                            self.violation(format!("href scheme {}: {value:?}", url.scheme()))
                        }
                        Err(e) => self.violation(format!("href not absolute ({e}): {value:?}")),
                    }
                    self.seen.borrow_mut().hrefs.push(value.to_string());
                }
                ("a", "rel") if value == LINK_REL => {}
                ("a", "rel") => self.violation(format!("rel {value:?}")),
                _ => self.violation(format!("attribute {attr_name}={value:?} on <{name}>")),
            }
        }
    }
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => self.tag(&tag),
            Token::CommentToken(text) => self.violation(format!("comment <!--{text}-->")),
            Token::DoctypeToken(doctype) => self.violation(format!("doctype {:?}", doctype.name)),
            Token::ParseError(e) => self.seen.borrow_mut().parse_errors.push(e.into_owned()),
            Token::CharacterTokens(_) | Token::NullCharacterToken | Token::EOFToken => {}
        }
        TokenSinkResult::Continue
    }
}

/// Reads `html` and returns what it held, or every way it breaks the rules:
/// an element outside the allow-list ([`allowed_tag`]), an attribute other than `href` and
/// `rel` on `a`, a `rel` other than [`LINK_REL`], an `href` that is not an
/// absolute http, https or mailto URL, a comment, a doctype (processing
/// instructions and CDATA come out of an HTML tokenizer as comments).
pub(crate) fn check(html: &str) -> Result<Seen, Vec<String>> {
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The sink never pauses the tokenizer, so one feed reads everything.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let sink = tokenizer.sink;
    let violations = sink.violations.into_inner();
    if violations.is_empty() {
        Ok(sink.seen.into_inner())
    } else {
        Err(violations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allow_list() {
        let seen = check(
            "<p>a<br>b<hr><em>c</em><a href=\"https://b.example/?a=1&amp;b=2\" rel=\"nofollow noopener noreferrer\">d</a> &lt;script&gt;</p>",
        )
        .unwrap();
        assert_eq!(seen.hrefs, ["https://b.example/?a=1&b=2"]);
        assert_eq!(seen.tags, ["p", "br", "hr", "em", "a"]);
        assert!(seen.parse_errors.is_empty(), "{:?}", seen.parse_errors);
    }

    #[test]
    fn refuses_what_could_run() {
        for (html, why) in [
            ("<script>alert(1)</script>", "element <script>"),
            ("<SCRIPT>alert(1)</SCRIPT>", "element <script>"),
            ("<img src=x onerror=alert(1)>", "element <img>"),
            ("<p onclick=alert(1)>x</p>", "attribute onclick"),
            ("<p title=x>x</p>", "attribute title"),
            (
                "<a href=javascript:alert(1)>x</a>",
                "href scheme javascript",
            ),
            (
                "<a href=\"&#106;avascript:alert(1)\">x</a>",
                "href scheme javascript",
            ),
            ("<a href=\"//b.example/\">x</a>", "href not absolute"),
            (
                "<a href=\"https://b.example/\" rel=opener>x</a>",
                "rel \"opener\"",
            ),
            ("<a href=x href=y>x</a>", "repeated attribute"),
            ("<!-- x -->", "comment"),
            ("<![CDATA[x]]>", "comment"),
            ("<?xml version=\"1.0\"?>", "comment"),
            ("<!DOCTYPE html>", "doctype"),
            ("</p foo=bar>", "attributes on </p>"),
            ("<svg><script>alert(1)</script></svg>", "element <svg>"),
        ] {
            let violations = check(html).unwrap_err();
            assert!(
                violations.iter().any(|v| v.starts_with(why)),
                "{html}: {violations:?}"
            );
        }
    }
}
