//! Just enough of a web client for the demo and `et sandbox admin`: GET a
//! page, submit its form (no JavaScript) as a browser would, follow the
//! redirect, download a file, POST to the sandbox's JSON admin routes.
//! Plain HTTP only, which is all the local sandbox speaks.

use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};

/// Largest page or file read (the voucher is a few kilobytes).
const MAX_BODY: usize = 4 << 20;
/// Time allowed for one request, body included.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// A fetched page or file.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    /// Where it came from (after redirects).
    pub url: Uri,
    /// The final status.
    pub status: StatusCode,
    /// `Location`, if any.
    pub location: Option<String>,
    /// The body.
    pub body: Bytes,
}

impl Page {
    /// The body as text (lossy).
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request body: its `Content-Type` and text.
type Body = (&'static str, String);

/// Why a page could not be fetched or its form submitted.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebError {
    /// A URL (given, or a link of a page) that does not parse.
    BadUrl {
        /// The URL as written.
        url: String,
        /// Why it does not parse.
        source: http::Error,
    },
    /// The page has no `<form>` to submit.
    NoForm,
    /// The form has no field of this name.
    NoField(String),
    /// The form's method is not `post` (the sandbox's pages only post).
    NotPost(String),
    /// Redirects went on past the limit.
    TooManyRedirects,
    /// The client could not be set up: its extra root certificate (a
    /// sandbox's `--tls` one) does not load.
    Setup(Box<dyn std::error::Error + Send + Sync>),
    /// The request failed on the way (connection, protocol, body too large).
    Transport {
        /// `METHOD URL`.
        request: String,
        /// The transport's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No whole answer within the time allowed for one request.
    Timeout {
        /// `METHOD URL`.
        request: String,
    },
}

impl std::fmt::Display for WebError {
    /// One line, with the causes of a transport failure.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::BadUrl { url, source } => write!(f, "bad URL {url:?}: {source}"),
            WebError::NoForm => f.write_str("the page has no <form>"),
            WebError::NoField(name) => write!(f, "the form has no field {name:?}"),
            WebError::NotPost(method) => write!(f, "the form's method is {method:?}, not post"),
            WebError::TooManyRedirects => write!(f, "more than {MAX_REDIRECTS} redirects"),
            WebError::Setup(source) => write!(f, "the client's extra root: {source}"),
            WebError::Transport { request, source } => {
                // hyper's errors say "client error (Connect)"; the cause is below.
                write!(f, "{request}: {source}")?;
                let mut cause = source.source();
                while let Some(e) = cause {
                    write!(f, ": {e}")?;
                    cause = e.source();
                }
                Ok(())
            }
            WebError::Timeout { request } => {
                write!(f, "{request}: no answer within {TIMEOUT:?}")
            }
        }
    }
}

impl std::error::Error for WebError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WebError::BadUrl { source, .. } => Some(source),
            WebError::Transport { source, .. } | WebError::Setup(source) => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// `url` as a URI, or [`WebError::BadUrl`].
fn parse_url(url: &str) -> Result<Uri, WebError> {
    url.parse::<Uri>().map_err(|e| WebError::BadUrl {
        url: url.to_owned(),
        source: e.into(),
    })
}

/// An HTTP(S) client with a browser's habits.
#[derive(Debug, Clone)]
pub(crate) struct WebClient {
    client: et_http::HttpsClient,
    /// Sent as `Authorization: Bearer` (an exposed sandbox's secret).
    bearer: Option<String>,
}

impl WebClient {
    /// A new client with its own connection pool, trusting `root` (a PEM
    /// certificate, e.g. a sandbox's `--tls` one) besides web PKI's roots.
    pub(crate) fn new(root: Option<&str>) -> Result<Self, WebError> {
        let mut config = et_http::TransportConfig::default();
        if let Some(root) = root {
            config
                .add_root_certificates_pem(root.as_bytes())
                .map_err(|e| WebError::Setup(e.into()))?;
        }
        Ok(WebClient {
            client: et_http::HttpsClient::new(&config).map_err(|e| WebError::Setup(e.into()))?,
            bearer: None,
        })
    }

    /// This client, sending `secret` (if any) as `Authorization: Bearer`
    /// with every request.
    pub(crate) fn with_bearer(self, secret: Option<&str>) -> Self {
        WebClient {
            bearer: secret.map(|s| format!("Bearer {s}")),
            ..self
        }
    }

    /// GET `url`, following redirects.
    pub(crate) async fn get(&self, url: &str) -> Result<Page, WebError> {
        self.fetch(Method::GET, parse_url(url)?, None).await
    }

    /// POST the JSON `body` to `url`, following redirects: the sandbox's
    /// admin routes take only `application/json`, which a cross-site HTML
    /// form cannot send.
    pub(crate) async fn post_json(&self, url: &str, body: &str) -> Result<Page, WebError> {
        let json = Some(("application/json", body.into()));
        self.fetch(Method::POST, parse_url(url)?, json).await
    }

    /// Submit the page's first form as a browser would: its method, its
    /// action resolved against the page's URL, its named inputs
    /// form-urlencoded; then follow the redirect.
    pub(crate) async fn submit_first_form(&self, page: &Page) -> Result<Page, WebError> {
        self.fill_and_submit_first_form(page, &[]).await
    }

    /// Fill the first form's named inputs with `values`, as a user types
    /// into them, then submit it. A name the form does not have is an
    /// error: a user can only fill in what the page asks for.
    pub(crate) async fn fill_and_submit_first_form(
        &self,
        page: &Page,
        values: &[(&str, &str)],
    ) -> Result<Page, WebError> {
        let html = page.text();
        let mut form = Form::first_in(&html).ok_or(WebError::NoForm)?;
        for &(name, value) in values {
            let field = form
                .fields
                .iter_mut()
                .find(|(k, _)| k == name)
                .ok_or_else(|| WebError::NoField(name.to_owned()))?;
            field.1 = value.to_owned();
        }
        let action = resolve(&page.url, &form.action)?;
        if form.method.eq_ignore_ascii_case("post") {
            let mut body = form_urlencoded::Serializer::new(String::new());
            body.extend_pairs(&form.fields);
            let form = ("application/x-www-form-urlencoded", body.finish());
            self.fetch(Method::POST, action, Some(form)).await
        } else {
            Err(WebError::NotPost(form.method))
        }
    }

    async fn fetch(
        &self,
        method: Method,
        mut uri: Uri,
        mut body: Option<Body>,
    ) -> Result<Page, WebError> {
        let mut method = method;
        let authority = uri.authority().cloned();
        for _ in 0..=MAX_REDIRECTS {
            // The secret goes only where it was meant to, never along a redirect elsewhere.
            let bearer = self
                .bearer
                .as_deref()
                .filter(|_| uri.authority() == authority.as_ref());
            let page = self
                .once(method.clone(), uri.clone(), body.take(), bearer)
                .await?;
            match page.location.filter(|_| page.status.is_redirection()) {
                Some(location) => {
                    uri = resolve(&uri, &location)?;
                    method = Method::GET;
                }
                None => {
                    return Ok(Page {
                        location: None,
                        ..page
                    })
                }
            }
        }
        Err(WebError::TooManyRedirects)
    }

    async fn once(
        &self,
        method: Method,
        uri: Uri,
        body: Option<Body>,
        bearer: Option<&str>,
    ) -> Result<Page, WebError> {
        let mut request = Request::builder().method(method.clone()).uri(uri.clone());
        if let Some(bearer) = bearer {
            request = request.header(AUTHORIZATION, bearer);
        }
        let mut text = String::new();
        if let Some((content_type, body)) = body {
            request = request.header(CONTENT_TYPE, content_type);
            text = body;
        }
        let shown = || format!("{method} {uri}");
        let failed = |source: Box<dyn std::error::Error + Send + Sync>| WebError::Transport {
            request: shown(),
            source,
        };
        let request = request
            .body(Full::new(Bytes::from(text)))
            .map_err(|e| failed(e.into()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| failed(e.into()))?;
            let status = response.status();
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v: &http::HeaderValue| v.to_str().ok())
                    .map(str::to_owned)
            };
            let location = header(LOCATION);
            let body = Limited::new(response.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(failed)?
                .to_bytes();
            Ok(Page {
                url: uri.clone(),
                status,
                location,
                body,
            })
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| WebError::Timeout { request: shown() })?
    }
}

/// A form found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Form {
    method: String,
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    /// The first `<form>` of `html` with its named `<input>`s, `<button>`s
    /// and `<select>`s (a select's value is its selected option's, else its
    /// first option's, as a browser sends it).
    fn first_in(html: &str) -> Option<Form> {
        let lower = html.to_ascii_lowercase();
        let start = lower.find("<form")?;
        let tag_end = start + lower[start..].find('>')?;
        let end = lower[tag_end..]
            .find("</form")
            .map_or(html.len(), |i| tag_end + i);
        let tag = &html[start..tag_end];
        let mut fields = Vec::new();
        let mut rest = tag_end;
        while let Some(i) = next_control(&lower[rest..end]) {
            let open = rest + i;
            let close = lower[open..end].find('>').map_or(end, |j| open + j);
            let control = &html[open..close];
            rest = close;
            let Some(name) = attr(control, "name") else {
                continue;
            };
            if lower[open..].starts_with("<select") {
                let options_end = lower[close..end]
                    .find("</select")
                    .map_or(end, |j| close + j);
                fields.push((name, chosen_option(&html[close..options_end])));
                rest = options_end;
            } else {
                fields.push((name, attr(control, "value").unwrap_or_default()));
            }
        }
        Some(Form {
            method: attr(tag, "method").unwrap_or_else(|| "get".to_owned()),
            action: attr(tag, "action").unwrap_or_default(),
            fields,
        })
    }
}

/// The value a select's `options` (its inner HTML) send: the selected
/// option's, else the first's (empty when there is none).
fn chosen_option(options: &str) -> String {
    let lower = options.to_ascii_lowercase();
    let tags: Vec<&str> = lower
        .match_indices("<option")
        .map(|(i, _)| {
            let close = lower[i..].find('>').map_or(options.len(), |j| i + j);
            &options[i..close]
        })
        .collect();
    let selected = tags.iter().find(|tag| {
        tag.to_ascii_lowercase()
            .split(|c: char| c.is_whitespace() || c == '=')
            .any(|word| word == "selected")
    });
    selected
        .or(tags.first())
        .and_then(|tag| attr(tag, "value"))
        .unwrap_or_default()
}

fn next_control(lower: &str) -> Option<usize> {
    [
        lower.find("<input"),
        lower.find("<button"),
        lower.find("<select"),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// The value of attribute `name` in a tag, quoted or bare, entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let at = from + i;
        from = at + name.len();
        let preceded = at > 0
            && lower
                .as_bytes()
                .get(at - 1)
                .is_some_and(u8::is_ascii_whitespace);
        let rest = tag[from..].trim_start();
        if !preceded || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        let raw = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or_default(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or_default(),
        };
        return Some(unescape(raw));
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `reference` resolved against `base` (absolute URL, absolute path, or relative path).
fn resolve(base: &Uri, reference: &str) -> Result<Uri, WebError> {
    let bad = |e: http::Error| WebError::BadUrl {
        url: reference.to_owned(),
        source: e,
    };
    if reference.starts_with("http://") || reference.starts_with("https://") {
        return parse_url(reference);
    }
    let path = if reference.is_empty() {
        base.path_and_query().map_or("/", |p| p.as_str()).to_owned()
    } else if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{reference}")
    };
    let mut parts = base.clone().into_parts();
    let path: http::uri::PathAndQuery = path
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(e.into()))?;
    parts.path_and_query = Some(path);
    Uri::from_parts(parts).map_err(|e| bad(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_form_and_its_fields() {
        let html = r#"<p>x</p><FORM method="post" action="/pay/ET1?a=1&amp;b=2">
            <input type="hidden" name="token" value='t&quot;1'><input type=text name=who value=me>
            <button type="submit">Pay</button></form><input name="outside" value="no">"#;
        let form = Form::first_in(html).expect("a form");
        assert_eq!(form.method, "post");
        assert_eq!(form.action, "/pay/ET1?a=1&b=2");
        assert_eq!(
            form.fields,
            vec![
                ("token".to_owned(), "t\"1".to_owned()),
                ("who".to_owned(), "me".to_owned())
            ]
        );
    }

    #[test]
    fn a_select_sends_its_selected_option_else_its_first() {
        let html = r#"<form method="post" action="/jump/t">
            <select name="institution_code"><option value="">None</option>
            <option value="GBR-OXFORD" selected>Oxford</option></select>
            <select name=currency_code><option value="AUD">AUD</option><option value="GBP">GBP</option></select>
            <input name="name_ch" value=""></form>"#;
        let form = Form::first_in(html).expect("a form");
        let field = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(
            form.fields,
            vec![
                field("institution_code", "GBR-OXFORD"),
                field("currency_code", "AUD"),
                field("name_ch", ""),
            ]
        );
    }

    #[test]
    fn no_form_is_none() {
        assert_eq!(Form::first_in("<p>paid</p>"), None);
    }

    #[test]
    fn resolves_links() {
        let base: Uri = "http://127.0.0.1:9/pay/ET1".parse().expect("uri");
        assert_eq!(
            resolve(&base, "/pay/ET1").expect("abs").to_string(),
            "http://127.0.0.1:9/pay/ET1"
        );
        assert_eq!(
            resolve(&base, "done").expect("rel").to_string(),
            "http://127.0.0.1:9/pay/done"
        );
        assert_eq!(
            resolve(&base, "").expect("self").to_string(),
            "http://127.0.0.1:9/pay/ET1"
        );
        assert!(resolve(&base, "/a b").is_err());
    }
}
