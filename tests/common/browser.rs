//! A cookie-keeping HTTP client that behaves like a browser for the OAuth
//! flows: it keeps cookies per name, never follows redirects by itself (the
//! tests look at every hop), and can fill in the hub's forms.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Response, StatusCode};

pub struct Browser {
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

/// A response read whole: status, `Location`, body.
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// The value of a hidden input in the page's form, HTML-unescaped.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(unescape(&self.body[start..end]))
    }

    /// Every hidden input of the page, in order.
    pub fn hidden_fields(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = self.body.as_str();
        while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
            rest = &rest[i + 27..];
            let Some(name_end) = rest.find('"') else {
                break;
            };
            let name = rest[..name_end].to_string();
            let Some(v) = rest.find("value=\"") else {
                break;
            };
            let value_rest = &rest[v + 7..];
            let Some(value_end) = value_rest.find('"') else {
                break;
            };
            out.push((name, unescape(&value_rest[..value_end])));
            rest = &value_rest[value_end..];
        }
        out
    }

    /// A query parameter of the `Location` header.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let location = self.location.as_deref()?;
        let url = url::Url::parse(location).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

impl Browser {
    pub fn new() -> Browser {
        let _ = federation_tests::http(); // installs the TLS provider
        Browser {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub fn forget_cookies(&mut self) {
        self.cookies.clear();
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, r: Response) -> Page {
        for value in r.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || attrs.contains("Max-Age=0") {
                self.cookies.remove(k.trim());
            } else {
                self.cookies
                    .insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        Page {
            status: r.status(),
            location: r
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let r = self
            .client
            .get(url)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(r).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> Page {
        self.post_form_via(url, form, None).await
    }

    /// As [`Browser::post_form`], arriving through a proxy that says the
    /// browser's address is `forwarded_for`.
    pub async fn post_form_via(
        &mut self,
        url: &str,
        form: &[(&str, &str)],
        forwarded_for: Option<&str>,
    ) -> Page {
        let mut request = self
            .client
            .post(url)
            .header(COOKIE, self.cookie_header())
            .form(form);
        if let Some(ip) = forwarded_for {
            request = request.header("x-forwarded-for", ip);
        }
        let r = request.send().await.unwrap();
        self.read(r).await
    }

    /// POSTs a `multipart/form-data` form (an upload), with the cookies.
    pub async fn post_multipart(&mut self, url: &str, form: reqwest::multipart::Form) -> Page {
        let r = self
            .client
            .post(url)
            .header(COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.read(r).await
    }
}
