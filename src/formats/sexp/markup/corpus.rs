//! Test-only: hostile post bodies in both formats, and the helpers that
//! build markup trees in Rust (the sexp reader is not this module's to use).
//!
//! Each [`Case`] is one attack from the classic filter-evasion families
//! (script-bearing elements, event-handler attributes, script URLs in every
//! disguise, attribute break-outs, markup in text, mutation tricks, unicode
//! spoofs, depth and size bombs), written once as a sexp body with the exact
//! HTML the renderer must give (or the limit it must hit), and once as the
//! HTML string a JSON-LD peer would send for the same attack, which goes
//! through [`crate::sanitize::html`].

use crate::formats::sexp::markup::RenderError;
use crate::formats::sexp::Sexp;

pub(crate) fn text(s: &str) -> Sexp {
    Sexp::String(s.to_string())
}

pub(crate) fn kw(name: &str) -> Sexp {
    Sexp::Keyword(name.to_string())
}

pub(crate) fn sym(name: &str) -> Sexp {
    Sexp::Symbol(name.to_string())
}

/// `(tag item …)`: attributes are written as items, `kw("href"), text(…)`.
pub(crate) fn el(tag: &str, items: impl IntoIterator<Item = Sexp>) -> Sexp {
    Sexp::List(std::iter::once(sym(tag)).chain(items).collect())
}

/// `(node …)`, a list not headed by a symbol.
pub(crate) fn frag(items: impl IntoIterator<Item = Sexp>) -> Sexp {
    Sexp::List(items.into_iter().collect())
}

/// `(a :href href child …)`.
pub(crate) fn a(href: &str, children: impl IntoIterator<Item = Sexp>) -> Sexp {
    el("a", [kw("href"), text(href)].into_iter().chain(children))
}

/// `(tag (tag … (tag "x")))`, `depth` lists, built without recursion.
pub(crate) fn deep(tag: &str, depth: usize) -> Sexp {
    (1..depth).fold(el(tag, [text("x")]), |inner, _| el(tag, [inner]))
}

/// Drops a tree of any depth without recursing (the derived drop of a
/// 100,000-deep tree would overflow a test thread's stack).
pub(crate) fn dismantle(tree: Sexp) {
    let mut pending = vec![tree];
    while let Some(datum) = pending.pop() {
        if let Sexp::List(items) = datum {
            pending.extend(items);
        }
    }
}

/// What the renderer must do with a case's body.
#[derive(Debug)]
pub(crate) enum Expect {
    /// Exactly this HTML.
    Html(&'static str),
    /// Fail on this limit (with the default limits).
    Refused(RenderError),
}

pub(crate) struct Case {
    pub name: &'static str,
    pub body: Sexp,
    pub expect: Expect,
    /// The same attack as the HTML a JSON-LD peer would send, where HTML can
    /// carry it at all.
    pub html: Option<String>,
}

impl Drop for Case {
    fn drop(&mut self) {
        dismantle(std::mem::replace(&mut self.body, Sexp::Nil));
    }
}

fn case(name: &'static str, body: Sexp, expect: &'static str, html: &str) -> Case {
    Case {
        name,
        body,
        expect: Expect::Html(expect),
        html: Some(html.to_string()),
    }
}

/// A case with no HTML twin: what only a tree can say.
fn tree_only(name: &'static str, body: Sexp, expect: &'static str) -> Case {
    Case {
        name,
        body,
        expect: Expect::Html(expect),
        html: None,
    }
}

fn refused(name: &'static str, body: Sexp, error: RenderError, html: String) -> Case {
    Case {
        name,
        body,
        expect: Expect::Refused(error),
        html: Some(html),
    }
}

/// `(a :href href "x")`, which must lose its link and keep its text; `html`
/// is the `href` as it would be written, entities and all, in HTML.
fn unlinked(name: &'static str, href: &str, html: &str) -> Case {
    Case {
        name,
        body: a(href, [text("x")]),
        expect: Expect::Html("x"),
        html: Some(format!("<a href=\"{html}\">x</a>")),
    }
}

fn alert_script() -> Sexp {
    el("script", [text("alert(1)")])
}

fn onerror_img() -> Sexp {
    el(
        "img",
        [kw("src"), text("x"), kw("onerror"), text("alert(1)")],
    )
}

pub(crate) fn cases() -> Vec<Case> {
    let limits = super::RenderLimits::default();
    vec![
        // Elements that run script, load content or change the page.
        case(
            "script",
            alert_script(),
            "(script &quot;alert(1)&quot;)",
            "<script>alert(1)</script>",
        ),
        case(
            "script inside a paragraph",
            el("p", [text("hi "), alert_script()]),
            "<p>hi (script &quot;alert(1)&quot;)</p>",
            "<p>hi <script>alert(1)</script></p>",
        ),
        case(
            "script with src",
            el("script", [kw("src"), text("https://evil.example/x.js")]),
            "(script :src &quot;https://evil.example/x.js&quot;)",
            r#"<script src="https://evil.example/x.js"></script>"#,
        ),
        case(
            "upper-case SCRIPT",
            el("SCRIPT", [text("alert(1)")]),
            "(SCRIPT &quot;alert(1)&quot;)",
            "<SCRIPT>alert(1)</SCRIPT>",
        ),
        case(
            "upper-case P is not p",
            el("P", [kw("onclick"), text("alert(1)"), text("x")]),
            "(P :onclick &quot;alert(1)&quot; &quot;x&quot;)",
            "<P onclick=alert(1)>x</P>",
        ),
        case(
            "style with a script URL",
            el("style", [text("body{background:url(javascript:alert(1))}")]),
            "(style &quot;body{background:url(javascript:alert(1))}&quot;)",
            "<style>body{background:url(javascript:alert(1))}</style>",
        ),
        case(
            "iframe srcdoc",
            el("iframe", [kw("srcdoc"), text("<script>alert(1)</script>")]),
            "(iframe :srcdoc &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)",
            r#"<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>"#,
        ),
        case(
            "iframe with a javascript: src",
            el("iframe", [kw("src"), text("javascript:alert(1)")]),
            "(iframe :src &quot;javascript:alert(1)&quot;)",
            r#"<iframe src="javascript:alert(1)"></iframe>"#,
        ),
        case(
            "svg onload",
            el("svg", [kw("onload"), text("alert(1)")]),
            "(svg :onload &quot;alert(1)&quot;)",
            "<svg onload=alert(1)>",
        ),
        case(
            "script inside svg",
            el("svg", [alert_script()]),
            "(svg (script &quot;alert(1)&quot;))",
            "<svg><script>alert(1)</script></svg>",
        ),
        case(
            "svg link with xlink:href",
            el(
                "svg",
                [el(
                    "a",
                    [
                        kw("xlink:href"),
                        text("javascript:alert(1)"),
                        el("text", [text("x")]),
                    ],
                )],
            ),
            "(svg (a :xlink:href &quot;javascript:alert(1)&quot; (text &quot;x&quot;)))",
            r#"<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>"#,
        ),
        case(
            "svg style hiding an img (mutation XSS)",
            el("svg", [el("style", [onerror_img()])]),
            "(svg (style (img :src &quot;x&quot; :onerror &quot;alert(1)&quot;)))",
            "<svg><style><img src=x onerror=alert(1)></style></svg>",
        ),
        case(
            "math mglyph style (mutation XSS)",
            el(
                "math",
                [el(
                    "mtext",
                    [el(
                        "table",
                        [el("mglyph", [el("style", [text("<img src=x onerror=alert(1)>")])])],
                    )],
                )],
            ),
            "(math (mtext (table (mglyph (style &quot;&lt;img src=x onerror=alert(1)&gt;&quot;)))))",
            "<math><mtext><table><mglyph><style><!--</style><img title=\"--&gt;&lt;img src=1 onerror=alert(1)&gt;\">",
        ),
        case(
            "img onerror",
            onerror_img(),
            "(img :src &quot;x&quot; :onerror &quot;alert(1)&quot;)",
            "<img src=x onerror=alert(1)>",
        ),
        case(
            "img with a mixed-case javascript: src",
            el("img", [kw("src"), text("JaVaScRiPt:alert('XSS')")]),
            "(img :src &quot;JaVaScRiPt:alert(&#39;XSS&#39;)&quot;)",
            "<IMG SRC=JaVaScRiPt:alert('XSS')>",
        ),
        case(
            "object data",
            el("object", [kw("data"), text("javascript:alert(1)")]),
            "(object :data &quot;javascript:alert(1)&quot;)",
            r#"<object data="javascript:alert(1)"></object>"#,
        ),
        case(
            "embed a data: document",
            el(
                "embed",
                [
                    kw("src"),
                    text("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
                ],
            ),
            "(embed :src &quot;data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==&quot;)",
            r#"<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">"#,
        ),
        case(
            "form with a javascript: action",
            el(
                "form",
                [
                    kw("action"),
                    text("javascript:alert(1)"),
                    el("button", [text("go")]),
                ],
            ),
            "(form :action &quot;javascript:alert(1)&quot; (button &quot;go&quot;))",
            r#"<form action="javascript:alert(1)"><button>go</button></form>"#,
        ),
        case(
            "input autofocus onfocus",
            el(
                "input",
                [kw("autofocus"), text(""), kw("onfocus"), text("alert(1)")],
            ),
            "(input :autofocus &quot;&quot; :onfocus &quot;alert(1)&quot;)",
            "<input autofocus onfocus=alert(1)>",
        ),
        case(
            "base href",
            el("base", [kw("href"), text("https://evil.example/")]),
            "(base :href &quot;https://evil.example/&quot;)",
            r#"<base href="https://evil.example/">"#,
        ),
        case(
            "meta refresh",
            el(
                "meta",
                [
                    kw("http-equiv"),
                    text("refresh"),
                    kw("content"),
                    text("0;url=javascript:alert(1)"),
                ],
            ),
            "(meta :http-equiv &quot;refresh&quot; :content &quot;0;url=javascript:alert(1)&quot;)",
            r#"<meta http-equiv="refresh" content="0;url=javascript:alert(1)">"#,
        ),
        case(
            "link stylesheet",
            el(
                "link",
                [
                    kw("rel"),
                    text("stylesheet"),
                    kw("href"),
                    text("https://evil.example/x.css"),
                ],
            ),
            "(link :rel &quot;stylesheet&quot; :href &quot;https://evil.example/x.css&quot;)",
            r#"<link rel="stylesheet" href="https://evil.example/x.css">"#,
        ),
        case(
            "details ontoggle",
            el(
                "details",
                [kw("open"), text(""), kw("ontoggle"), text("alert(1)")],
            ),
            "(details :open &quot;&quot; :ontoggle &quot;alert(1)&quot;)",
            "<details open ontoggle=alert(1)>",
        ),
        case(
            "marquee onstart",
            el("marquee", [kw("onstart"), text("alert(1)")]),
            "(marquee :onstart &quot;alert(1)&quot;)",
            "<marquee onstart=alert(1)>",
        ),
        case(
            "video source onerror",
            el("video", [el("source", [kw("onerror"), text("alert(1)")])]),
            "(video (source :onerror &quot;alert(1)&quot;))",
            r#"<video><source onerror="alert(1)"></video>"#,
        ),
        case(
            "textarea break-out",
            el("textarea", [text("</textarea><script>alert(1)</script>")]),
            "(textarea &quot;&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)",
            "<textarea></textarea><script>alert(1)</script></textarea>",
        ),
        case(
            "noscript title (mutation XSS)",
            el(
                "noscript",
                [el(
                    "p",
                    [kw("title"), text("</noscript><img src=x onerror=alert(1)>")],
                )],
            ),
            "(noscript (p :title &quot;&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;&quot;))",
            r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>"#,
        ),
        case(
            "template around a script",
            el("template", [alert_script()]),
            "(template (script &quot;alert(1)&quot;))",
            "<template><script>alert(1)</script></template>",
        ),
        // Attributes on allowed elements.
        case(
            "onclick on p",
            el("p", [kw("onclick"), text("alert(1)"), text("x")]),
            "(p :onclick &quot;alert(1)&quot; &quot;x&quot;)",
            r#"<p onclick="alert(1)">x</p>"#,
        ),
        case(
            "style on span",
            el(
                "span",
                [
                    kw("style"),
                    text("background:url(javascript:alert(1))"),
                    text("x"),
                ],
            ),
            "(span :style &quot;background:url(javascript:alert(1))&quot; &quot;x&quot;)",
            r#"<span style="background:url(javascript:alert(1))">x</span>"#,
        ),
        case(
            "style expression on p",
            el(
                "p",
                [kw("style"), text("x:expression(alert(1))"), text("x")],
            ),
            "(p :style &quot;x:expression(alert(1))&quot; &quot;x&quot;)",
            r#"<p style="x:expression(alert(1))">x</p>"#,
        ),
        case(
            "onmouseover beside a good href",
            el(
                "a",
                [
                    kw("href"),
                    text("https://ok.example/"),
                    kw("onmouseover"),
                    text("alert(1)"),
                    text("x"),
                ],
            ),
            "(a :href &quot;https://ok.example/&quot; :onmouseover &quot;alert(1)&quot; &quot;x&quot;)",
            r#"<a href="https://ok.example/" onmouseover="alert(1)">x</a>"#,
        ),
        case(
            "target and rel=opener on a link",
            el(
                "a",
                [
                    kw("href"),
                    text("https://ok.example/"),
                    kw("target"),
                    text("_blank"),
                    kw("rel"),
                    text("opener"),
                    text("x"),
                ],
            ),
            "(a :href &quot;https://ok.example/&quot; :target &quot;_blank&quot; :rel &quot;opener&quot; &quot;x&quot;)",
            r#"<a href="https://ok.example/" target="_blank" rel="opener">x</a>"#,
        ),
        case(
            "onclick on br",
            el("br", [kw("onclick"), text("alert(1)")]),
            "(br :onclick &quot;alert(1)&quot;)",
            "<br onclick=alert(1)>",
        ),
        case(
            "cite URL on blockquote",
            el(
                "blockquote",
                [kw("cite"), text("javascript:alert(1)"), text("q")],
            ),
            "(blockquote :cite &quot;javascript:alert(1)&quot; &quot;q&quot;)",
            r#"<blockquote cite="javascript:alert(1)">q</blockquote>"#,
        ),
        case(
            "upper-case HREF",
            el("a", [kw("HREF"), text("javascript:alert(1)"), text("x")]),
            "(a :HREF &quot;javascript:alert(1)&quot; &quot;x&quot;)",
            r#"<a HREF="javascript:alert(1)">x</a>"#,
        ),
        case(
            "quoted keyword with a space",
            el("p", [kw("x onclick"), text("alert(1)"), text("y")]),
            "(p :&quot;x onclick&quot; &quot;alert(1)&quot; &quot;y&quot;)",
            r#"<p x onclick="alert(1)">y</p>"#,
        ),
        case(
            "keyword with a quote in its name",
            el("p", [kw("\"onclick"), text("alert(1)"), text("y")]),
            "(p :&quot;\\&quot;onclick&quot; &quot;alert(1)&quot; &quot;y&quot;)",
            r#"<p "onclick="alert(1)">y</p>"#,
        ),
        case(
            "two hrefs, the second a script",
            el(
                "a",
                [
                    kw("href"),
                    text("https://ok.example/"),
                    kw("href"),
                    text("javascript:alert(1)"),
                    text("x"),
                ],
            ),
            "(a :href &quot;https://ok.example/&quot; :href &quot;javascript:alert(1)&quot; &quot;x&quot;)",
            r#"<a href="https://ok.example/" href="javascript:alert(1)">x</a>"#,
        ),
        case(
            "title and lang on p",
            el("p", [kw("title"), text("x"), kw("lang"), text("en"), text("y")]),
            "(p :title &quot;x&quot; :lang &quot;en&quot; &quot;y&quot;)",
            r#"<p title="x" lang="en">y</p>"#,
        ),
        case(
            "start on ol",
            el("ol", [kw("start"), text("5"), el("li", [text("x")])]),
            "(ol :start &quot;5&quot; (li &quot;x&quot;))",
            r#"<ol start="5"><li>x</li></ol>"#,
        ),
        case(
            "hreflang beside a good href",
            el(
                "a",
                [
                    kw("href"),
                    text("https://ok.example/"),
                    kw("hreflang"),
                    text("en"),
                    text("x"),
                ],
            ),
            "(a :href &quot;https://ok.example/&quot; :hreflang &quot;en&quot; &quot;x&quot;)",
            r#"<a href="https://ok.example/" hreflang="en">x</a>"#,
        ),
        tree_only(
            "href that is a list",
            el(
                "a",
                [kw("href"), frag([text("javascript:alert(1)")]), text("x")],
            ),
            "(a :href (&quot;javascript:alert(1)&quot;) &quot;x&quot;)",
        ),
        tree_only(
            "href that is nil",
            el("a", [kw("href"), Sexp::Nil, text("x")]),
            "(a :href nil &quot;x&quot;)",
        ),
        tree_only(
            "href that is a symbol",
            el("a", [kw("href"), sym("javascript:alert"), text("x")]),
            "(a :href javascript:alert &quot;x&quot;)",
        ),
        tree_only(
            "attribute without a value",
            el("p", [kw("onclick")]),
            "(p :onclick)",
        ),
        // Script URLs in every disguise: each keeps its text, loses its link.
        unlinked("javascript:", "javascript:alert(1)", "javascript:alert(1)"),
        unlinked("JaVaScRiPt:", "JaVaScRiPt:alert(1)", "JaVaScRiPt:alert(1)"),
        unlinked("JAVASCRIPT:", "JAVASCRIPT:alert(1)", "JAVASCRIPT:alert(1)"),
        unlinked(
            "javascript: after spaces",
            "  javascript:alert(1)",
            "  javascript:alert(1)",
        ),
        unlinked(
            "javascript: after a tab",
            "\tjavascript:alert(1)",
            "\tjavascript:alert(1)",
        ),
        unlinked(
            "tab inside the scheme",
            "java\tscript:alert(1)",
            "java\tscript:alert(1)",
        ),
        unlinked(
            "newline inside the scheme",
            "java\nscript:alert(1)",
            "java\nscript:alert(1)",
        ),
        unlinked(
            "carriage return inside the scheme",
            "java\rscript:alert(1)",
            "java&#13;script:alert(1)",
        ),
        unlinked(
            "NUL inside the scheme",
            "java\u{0}script:alert(1)",
            "java&#0;script:alert(1)",
        ),
        unlinked(
            "control character before the scheme",
            "\u{1}javascript:alert(1)",
            "&#1;javascript:alert(1)",
        ),
        unlinked(
            "javascript: with trailing spaces",
            "javascript:alert(1)  ",
            "javascript:alert(1)  ",
        ),
        unlinked(
            "decimal entity for j",
            "&#106;avascript:alert(1)",
            "&#106;avascript:alert(1)",
        ),
        unlinked(
            "hex entities for j and the colon",
            "&#x6A;avascript&#x3A;alert(1)",
            "&#x6A;avascript&#x3A;alert(1)",
        ),
        unlinked(
            "named entity for the colon",
            "javascript&colon;alert(1)",
            "javascript&colon;alert(1)",
        ),
        unlinked(
            "entity tab inside the scheme",
            "jav&#x09;ascript:alert(1)",
            "jav&#x09;ascript:alert(1)",
        ),
        unlinked(
            "javascript: padded to dodge prefix checks",
            "javascript://https://ok.example/%0Aalert(1)",
            "javascript://https://ok.example/%0Aalert(1)",
        ),
        unlinked("vbscript:", "vbscript:msgbox(1)", "vbscript:msgbox(1)"),
        unlinked("VBScript:", "VBScript:MsgBox(1)", "VBScript:MsgBox(1)"),
        unlinked(
            "data: document",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
            "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        ),
        unlinked(
            "DATA: with markup",
            "DATA:text/html,<script>alert(1)</script>",
            "DATA:text/html,&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        unlinked(
            "data: after a space",
            " data:text/html,x",
            " data:text/html,x",
        ),
        unlinked(
            "protocol-relative",
            "//evil.example/",
            "//evil.example/",
        ),
        unlinked(
            "protocol-relative with backslashes",
            "\\\\evil.example/",
            "\\\\evil.example/",
        ),
        unlinked("relative path", "/relative/path", "/relative/path"),
        unlinked(
            "https: without slashes",
            "https:evil.example",
            "https:evil.example",
        ),
        unlinked("https: without a host", "https://", "https://"),
        unlinked("file:", "file:///etc/passwd", "file:///etc/passwd"),
        unlinked(
            "intent:",
            "intent://evil.example#Intent;scheme=javascript;end",
            "intent://evil.example#Intent;scheme=javascript;end",
        ),
        unlinked(
            "zero-width space inside the scheme",
            "java\u{200B}script:alert(1)",
            "java&#x200B;script:alert(1)",
        ),
        unlinked(
            "right-to-left override before the URL",
            "\u{202E}https://ok.example/",
            "&#x202E;https://ok.example/",
        ),
        unlinked(
            "full-width javascript",
            "ｊａｖａｓｃｒｉｐｔ:alert(1)",
            "ｊａｖａｓｃｒｉｐｔ:alert(1)",
        ),
        unlinked(
            "quote and space break-out",
            "https://ok.example/\" onclick=\"alert(1)",
            "https://ok.example/&quot; onclick=&quot;alert(1)",
        ),
        // Break-outs that are valid URLs: the link stays, escaped.
        case(
            "quote break-out without spaces",
            a("https://ok.example/\"onmouseover=\"alert(1)", [text("x")]),
            r#"<a href="https://ok.example/&quot;onmouseover=&quot;alert(1)" rel="nofollow noopener noreferrer">x</a>"#,
            r#"<a href='https://ok.example/"onmouseover="alert(1)'>x</a>"#,
        ),
        case(
            "apostrophe and tag break-out",
            a(
                "https://ok.example/'><script>alert(1)</script>",
                [text("x")],
            ),
            r#"<a href="https://ok.example/&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" rel="nofollow noopener noreferrer">x</a>"#,
            r#"<a href="https://ok.example/'><script>alert(1)</script>">x</a>"#,
        ),
        case(
            "ampersands in a query",
            a("https://ok.example/?a=1&lt=2", [text("x")]),
            r#"<a href="https://ok.example/?a=1&amp;lt=2" rel="nofollow noopener noreferrer">x</a>"#,
            r#"<a href="https://ok.example/?a=1&amp;lt=2">x</a>"#,
        ),
        case(
            "upper-case https",
            a("HTTPS://OK.EXAMPLE/", [text("x")]),
            r#"<a href="HTTPS://OK.EXAMPLE/" rel="nofollow noopener noreferrer">x</a>"#,
            r#"<a href="HTTPS://OK.EXAMPLE/">x</a>"#,
        ),
        case(
            "mailto",
            a("mailto:someone@ok.example", [text("mail")]),
            r#"<a href="mailto:someone@ok.example" rel="nofollow noopener noreferrer">mail</a>"#,
            r#"<a href="mailto:someone@ok.example">mail</a>"#,
        ),
        case(
            "link text spoofing another URL",
            a(
                "https://ok.example/",
                [text("https://\u{202E}elpmaxe.knab")],
            ),
            "<a href=\"https://ok.example/\" rel=\"nofollow noopener noreferrer\">https://\u{202E}elpmaxe.knab</a>",
            "<a href=\"https://ok.example/\">https://\u{202E}elpmaxe.knab</a>",
        ),
        case(
            "a without href around an img",
            el("a", [onerror_img()]),
            "(img :src &quot;x&quot; :onerror &quot;alert(1)&quot;)",
            "<a><img src=x onerror=alert(1)></a>",
        ),
        case(
            "link inside a link",
            a("https://one.example/", [a("https://two.example/", [text("x")])]),
            r#"<a href="https://one.example/" rel="nofollow noopener noreferrer"><a href="https://two.example/" rel="nofollow noopener noreferrer">x</a></a>"#,
            r#"<a href="https://one.example/"><a href="https://two.example/">x</a></a>"#,
        ),
        // Markup inside text.
        case(
            "script in text",
            text("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            "<script>alert(1)</script>",
        ),
        case(
            "img onerror in text",
            text("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;",
            "<img src=x onerror=alert(1)>",
        ),
        case(
            "comment in text",
            el("p", [text("<!-- x --><script>alert(1)</script>")]),
            "<p>&lt;!-- x --&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>",
            "<p>x</p><!--<img src=x onerror=alert(1)>-->",
        ),
        case(
            "CDATA in text",
            text("<![CDATA[<script>alert(1)</script>]]>"),
            "&lt;![CDATA[&lt;script&gt;alert(1)&lt;/script&gt;]]&gt;",
            "<![CDATA[<script>alert(1)</script>]]>",
        ),
        case(
            "closing tag in text",
            el("p", [text("</p><script>alert(1)</script><p>")]),
            "<p>&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;</p>",
            "<p></p><script>alert(1)</script><p></p>",
        ),
        case(
            "processing instruction and doctype in text",
            text("<?xml version=\"1.0\"?><!DOCTYPE html>"),
            "&lt;?xml version=&quot;1.0&quot;?&gt;&lt;!DOCTYPE html&gt;",
            "<?xml version=\"1.0\"?><!DOCTYPE html><p>x</p>",
        ),
        case(
            "entities in text stay text",
            text("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        case(
            "quotes in text",
            text("\"'><svg onload=alert(1)>"),
            "&quot;&#39;&gt;&lt;svg onload=alert(1)&gt;",
            "\"'><svg onload=alert(1)>",
        ),
        case(
            "doubled angle brackets",
            text("<<script>alert(1);//<</script>"),
            "&lt;&lt;script&gt;alert(1);//&lt;&lt;/script&gt;",
            "<<script>alert(1);//<</script>",
        ),
        case(
            "quotes in a bogus attribute",
            text("<img \"\"\"><script>alert(1)</script>\">"),
            "&lt;img &quot;&quot;&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;",
            "<img \"\"\"><script>alert(1)</script>\">",
        ),
        case(
            "markup in code",
            el("pre", [el("code", [text("<script>\n</script>")])]),
            "<pre><code>&lt;script&gt;\n&lt;/script&gt;</code></pre>",
            "<pre><code><script>\n</script></code></pre>",
        ),
        // Unicode tricks.
        case(
            "right-to-left override in text",
            el("p", [text("\u{202E}gpj.exe")]),
            "<p>\u{202E}gpj.exe</p>",
            "<p>\u{202E}gpj.exe</p>",
        ),
        case(
            "zero-width space in a tag name",
            el("scr\u{200B}ipt", [text("alert(1)")]),
            "(scr\u{200B}ipt &quot;alert(1)&quot;)",
            "<scr\u{200B}ipt>alert(1)</scr\u{200B}ipt>",
        ),
        case(
            "full-width angle brackets",
            text("＜script＞alert(1)＜/script＞"),
            "＜script＞alert(1)＜/script＞",
            "＜script＞alert(1)＜/script＞",
        ),
        tree_only(
            "markup in a symbol",
            el("p onclick=alert(1)", [text("x")]),
            "(p onclick=alert(1) &quot;x&quot;)",
        ),
        tree_only(
            "markup in a keyword",
            el("p", [kw("<script>"), text("alert(1)")]),
            "(p :&lt;script&gt; &quot;alert(1)&quot;)",
        ),
        // Shapes.
        tree_only(
            "numbers, booleans, nil, keywords and symbols as children",
            el(
                "p",
                [
                    Sexp::Integer(1),
                    Sexp::Decimal("2.50".into()),
                    Sexp::Bool(true),
                    Sexp::Nil,
                    kw("k"),
                    sym("script"),
                ],
            ),
            "<p>12.50#tnil:kscript</p>",
        ),
        tree_only(
            "br with a script child",
            el("br", [alert_script()]),
            "(br (script &quot;alert(1)&quot;))",
        ),
        case(
            "fragment with a script",
            frag([el("p", [text("one")]), alert_script()]),
            "<p>one</p>(script &quot;alert(1)&quot;)",
            "<p>one</p><script>alert(1)</script>",
        ),
        tree_only(
            "fragment headed by a list",
            frag([el("script", []), text("alert(1)")]),
            "(script)alert(1)",
        ),
        case("empty fragment", frag([]), "", ""),
        case(
            "pre starting with a newline",
            el("pre", [text("\n<b>x</b>")]),
            "<pre>\n&lt;b&gt;x&lt;/b&gt;</pre>",
            "<pre>\n<b>x</b></pre>",
        ),
        // Bombs.
        refused(
            "nesting one past the depth limit",
            deep("span", limits.max_depth + 1),
            RenderError::TooDeep {
                limit: limits.max_depth,
            },
            format!(
                "{}<script>alert(1)</script>",
                "<span>".repeat(limits.max_depth + 1)
            ),
        ),
        refused(
            "100,000 nested unknown elements",
            deep("script", 100_000),
            RenderError::TooDeep {
                limit: limits.max_depth,
            },
            // Shallower as HTML: html5ever's tree builder takes time
            // quadratic in the nesting of block elements (100,000 `<div>`
            // take some 40 s in a release build), too slow for a unit test.
            format!("{}<img src=x onerror=alert(1)>", "<div>".repeat(2_000)),
        ),
        refused(
            "20,000 paragraphs",
            frag((0..20_000).map(|_| el("p", [text("x")]))),
            RenderError::TooManyNodes {
                limit: limits.max_nodes,
            },
            "<p>x</p>".repeat(20_000),
        ),
        refused(
            "6,000 onclick attributes",
            el(
                "p",
                (0..6_000).flat_map(|_| [kw("onclick"), text("alert(1)")]),
            ),
            RenderError::TooManyNodes {
                limit: limits.max_nodes,
            },
            format!("<p{}>x</p>", " onclick=alert(1)".repeat(6_000)),
        ),
        refused(
            "text that escapes to four times its size",
            el("p", [text(&"<".repeat(100_000))]),
            RenderError::TooLarge {
                limit: limits.max_output,
            },
            "<".repeat(100_000),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::{check::check, to_html, RenderLimits};
    use super::*;

    #[test]
    fn corpus_is_broad() {
        let cases = cases();
        assert!(cases.len() >= 60, "{} cases", cases.len());
        let names: HashSet<_> = cases.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), cases.len(), "case names repeat");
        let twins = cases.iter().filter(|c| c.html.is_some()).count();
        assert!(twins >= 60, "{twins} HTML twins");
    }

    #[test]
    fn renderer_meets_every_case_and_the_checker() {
        let mut failures = Vec::new();
        for case in cases() {
            let got = to_html(&case.body, &RenderLimits::default());
            match (&case.expect, got) {
                (Expect::Html(want), Ok(html)) => {
                    if html != *want {
                        failures.push(format!("{}: got {html:?}, want {want:?}", case.name));
                    }
                    match check(&html) {
                        Ok(seen) if !seen.parse_errors.is_empty() => failures.push(format!(
                            "{}: parse errors {:?} in {html:?}",
                            case.name, seen.parse_errors
                        )),
                        Ok(_) => {}
                        Err(v) => failures.push(format!("{}: {v:?} in {html:?}", case.name)),
                    }
                }
                (Expect::Refused(want), Err(err)) if *want == err => {}
                (want, got) => failures.push(format!("{}: got {got:?}, want {want:?}", case.name)),
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
