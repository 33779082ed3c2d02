//! Who may use the dashboard and the admin routes ([`Exposure`]).
//!
//! A loopback sandbox answers them only when `Host` names loopback: a
//! DNS-rebinding page is same-origin with the sandbox but names its own
//! domain there. A sandbox exposed beyond loopback also requires its
//! secret, made at each start: `Authorization: Bearer SECRET` (scripts,
//! `et sandbox admin`), or a cookie that opening `/?secret=SECRET` once
//! sets (`HttpOnly`, `SameSite=Strict`: no other site's page sends it).
//!
//! Whatever the exposure, a browser's cross-site request never changes
//! anything ([`cross_site`]), and the checkout's form carries a token
//! ([`random_token`]) that only a page the sandbox served holds.

use std::net::IpAddr;

use bytes::Bytes;
use http::{header, HeaderMap, Method, Request};
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;

use crate::config::Exposure;

/// Length of a secret or token (alphanumeric: about 190 bits).
const TOKEN_LEN: usize = 32;
/// The query parameter that hands a browser the secret once.
const SECRET_PARAM: &str = "secret";

/// Who may use the dashboard and the admin routes.
#[derive(Debug)]
pub(crate) enum Access {
    /// Requests whose `Host` names loopback.
    Loopback,
    /// Requests whose `Host` is an address or `localhost`, with the secret.
    Secret {
        /// The secret.
        secret: String,
        /// The cookie that carries it (named after the port: browsers keep
        /// one cookie jar per host, whatever the port).
        cookie: String,
    },
}

/// Why a request for a private route is not served.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Denied {
    /// `Host` names no address this sandbox answers to: 403.
    Host,
    /// No secret, or a wrong one: 401.
    Secret,
    /// The right secret in a page's query: 303 to `location`, the same page
    /// without it, setting `cookie`.
    Welcome {
        /// Where to go.
        location: String,
        /// The `Set-Cookie` value.
        cookie: String,
    },
}

impl Access {
    /// The access `exposure` asks for, on `port`; a fresh secret if exposed.
    pub(crate) fn new(exposure: Exposure, port: u16) -> Self {
        match exposure {
            Exposure::Loopback => Access::Loopback,
            Exposure::Network => Access::Secret {
                secret: random_token(),
                cookie: format!("et-sandbox-secret-{port}"),
            },
        }
    }

    /// The secret, when one is required.
    pub(crate) fn secret(&self) -> Option<&str> {
        match self {
            Access::Loopback => None,
            Access::Secret { secret, .. } => Some(secret),
        }
    }

    /// Whether `req` may use a dashboard or admin route.
    pub(crate) fn check(&self, req: &Request<Bytes>) -> Result<(), Denied> {
        let host = host(req);
        match self {
            Access::Loopback if host.is_loopback() => Ok(()),
            Access::Loopback => Err(Denied::Host),
            Access::Secret { .. } if !host.is_address() => Err(Denied::Host),
            Access::Secret { secret, cookie } => {
                if presented(req, cookie).is_some_and(|p| same(p, secret)) {
                    return Ok(());
                }
                welcome(req, secret, cookie)
            }
        }
    }
}

/// A fresh random token: 32 letters and digits from the OS's generator.
pub(crate) fn random_token() -> String {
    Alphanumeric.sample_string(&mut OsRng, TOKEN_LEN)
}

/// Whether a browser says `req` comes from another origin's page: its
/// `Sec-Fetch-Site` is anything but `same-origin` or `none` (a `same-site`
/// page may be another port of this host), or its `Origin` is not this
/// sandbox as `Host` names it under `scheme` (`http`, or `https` with
/// `--tls`; `null` included). A request with neither
/// header is not a modern browser's, or is a navigation; the checkout's
/// token covers old browsers.
pub(crate) fn cross_site(headers: &HeaderMap, scheme: &str) -> bool {
    let header = |name| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    let fetched_elsewhere =
        header("sec-fetch-site").is_some_and(|site| !matches!(site, "same-origin" | "none"));
    let foreign_origin = header(header::ORIGIN.as_str()).is_some_and(|origin| {
        let ours = header(header::HOST.as_str()).map(|host| format!("{scheme}://{host}"));
        !ours.is_some_and(|ours| ours.eq_ignore_ascii_case(origin))
    });
    fetched_elsewhere || foreign_origin
}

/// Compares in constant time: the secret and the form token are
/// credentials.
pub(crate) fn same(presented: &str, secret: &str) -> bool {
    bool::from(presented.as_bytes().ct_eq(secret.as_bytes()))
}

/// What `Host` names.
#[derive(Debug, PartialEq, Eq)]
enum Host {
    /// No `Host` (an HTTP/1.0 tool): the connection itself reached us.
    Absent,
    /// An IP address.
    Ip(IpAddr),
    /// `localhost` or a `*.localhost` name (RFC 6761: always loopback).
    Localhost,
    /// Anything else: a domain, or not a host at all.
    Other,
}

impl Host {
    fn is_loopback(&self) -> bool {
        match self {
            Host::Absent | Host::Localhost => true,
            Host::Ip(ip) => ip.is_loopback(),
            Host::Other => false,
        }
    }

    /// Whether it names this machine by an address (or `localhost`), not
    /// by a domain a rebinding page controls.
    fn is_address(&self) -> bool {
        !matches!(self, Host::Other)
    }
}

fn host(req: &Request<Bytes>) -> Host {
    let Some(value) = req.headers().get(header::HOST) else {
        return Host::Absent;
    };
    let Ok(value) = value.to_str() else {
        return Host::Other;
    };
    if let Some(bracketed) = value.strip_prefix('[') {
        // An IPv6 literal, `[::1]:port`.
        return bracketed
            .split_once(']')
            .and_then(|(ip, _)| ip.parse().ok())
            .map_or(Host::Other, |ip| Host::Ip(IpAddr::V6(ip)));
    }
    let name = value
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(value, |(name, _)| name)
        .to_ascii_lowercase();
    if let Ok(ip) = name.parse() {
        Host::Ip(IpAddr::V4(ip))
    } else if name == "localhost" || name.ends_with(".localhost") {
        Host::Localhost
    } else {
        Host::Other
    }
}

/// The secret the request presents: `Authorization: Bearer`, else the
/// cookie.
fn presented<'r>(req: &'r Request<Bytes>, cookie: &str) -> Option<&'r str> {
    let text = |name| {
        req.headers()
            .get_all(name)
            .into_iter()
            .filter_map(|v| v.to_str().ok())
    };
    let bearer = text(header::AUTHORIZATION).find_map(|v| v.strip_prefix("Bearer "));
    bearer.or_else(|| {
        text(header::COOKIE)
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find_map(|(name, value)| (name == cookie).then_some(value))
    })
}

/// A page opened with the right `?secret=`: where to go without it, and
/// the cookie that carries it from now on.
fn welcome(req: &Request<Bytes>, secret: &str, cookie: &str) -> Result<(), Denied> {
    let query = req.uri().query().unwrap_or_default();
    let (given, rest): (Vec<_>, Vec<_>) =
        form_urlencoded::parse(query.as_bytes()).partition(|(name, _)| name == SECRET_PARAM);
    let page = matches!(*req.method(), Method::GET | Method::HEAD);
    if !page || !given.iter().any(|(_, value)| same(value, secret)) {
        return Err(Denied::Secret);
    }
    let mut location = req.uri().path().to_owned();
    if !rest.is_empty() {
        location.push('?');
        location.push_str(
            &form_urlencoded::Serializer::new(String::new())
                .extend_pairs(rest)
                .finish(),
        );
    }
    Err(Denied::Welcome {
        location,
        cookie: format!("{cookie}={secret}; Path=/; HttpOnly; SameSite=Strict"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(host: Option<&str>, uri: &str, headers: &[(&str, &str)]) -> Request<Bytes> {
        let mut req = Request::get(uri);
        if let Some(host) = host {
            req = req.header(header::HOST, host);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(Bytes::new()).expect("request")
    }

    #[test]
    fn a_loopback_sandbox_answers_only_to_loopback_names() {
        let check = |host| Access::Loopback.check(&request(host, "/", &[]));
        for local in [
            "127.0.0.1:8877",
            "127.0.0.1",
            "127.1.2.3:1",
            "localhost:1",
            "LOCALHOST",
            "app.localhost:9",
            "[::1]:8877",
        ] {
            assert_eq!(check(Some(local)), Ok(()), "{local}");
        }
        assert_eq!(check(None), Ok(()), "an HTTP/1.0 request without Host");
        for remote in [
            "10.0.0.5:80",
            "192.168.1.5:8877",
            "0.0.0.0:8877",
            "[fe80::1]:8877",
            "evil.example:8877",
            "127.0.0.1.evil.example",
            "localhost.evil.example:1",
            "[::1",
            "[evil]:1",
            "",
        ] {
            assert_eq!(check(Some(remote)), Err(Denied::Host), "{remote}");
        }
    }

    #[test]
    fn an_exposed_sandbox_wants_its_secret_from_any_address() {
        let access = Access::new(Exposure::Network, 8877);
        let secret = access.secret().expect("a secret").to_owned();
        assert_eq!(secret.len(), TOKEN_LEN);
        let lan = Some("192.168.1.5:8877");
        let check = |host: Option<&str>, uri: &str, headers: &[(&str, &str)]| {
            access.check(&request(host, uri, headers))
        };
        let bearer = format!("Bearer {secret}");
        let cookie = format!("a=b; et-sandbox-secret-8877={secret}");
        assert_eq!(check(lan, "/", &[("authorization", &bearer)]), Ok(()));
        assert_eq!(check(lan, "/", &[("cookie", &cookie)]), Ok(()));
        assert_eq!(check(lan, "/", &[]), Err(Denied::Secret));
        let wrong = format!("Bearer {}x", &secret[1..]);
        assert_eq!(
            check(lan, "/", &[("authorization", &wrong)]),
            Err(Denied::Secret)
        );
        let other_port = format!("et-sandbox-secret-8878={secret}");
        assert_eq!(
            check(lan, "/", &[("cookie", &other_port)]),
            Err(Denied::Secret)
        );
        assert_eq!(
            check(
                Some("evil.example:8877"),
                "/",
                &[("authorization", &bearer)]
            ),
            Err(Denied::Host),
            "a rebinding page never reaches the secret check"
        );
        match check(lan, &format!("/orders/ET1?secret={secret}&x=1"), &[]) {
            Err(Denied::Welcome { location, cookie }) => {
                assert_eq!(location, "/orders/ET1?x=1");
                assert!(cookie.starts_with(&format!("et-sandbox-secret-8877={secret};")));
                assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
            }
            other => panic!("expected a welcome, got {other:?}"),
        }
        assert_eq!(check(lan, "/?secret=nope", &[]), Err(Denied::Secret));
    }

    #[test]
    fn only_a_page_of_this_origin_is_not_cross_site() {
        let with = |headers: &[(&str, &str)]| {
            cross_site(
                request(Some("127.0.0.1:8877"), "/", headers).headers(),
                "http",
            )
        };
        assert!(!with(&[]), "no browser headers: a tool, or a navigation");
        assert!(!with(&[("origin", "http://127.0.0.1:8877")]));
        assert!(!with(&[("sec-fetch-site", "same-origin")]));
        assert!(!with(&[("sec-fetch-site", "none")]));
        for foreign in [
            &[("origin", "http://evil.example")][..],
            &[("origin", "null")],
            &[("origin", "http://127.0.0.1:8878")],
            &[("origin", "https://127.0.0.1:8877")],
            &[("sec-fetch-site", "same-site")],
            &[("sec-fetch-site", "cross-site")],
            &[
                ("origin", "http://127.0.0.1:8877"),
                ("sec-fetch-site", "cross-site"),
            ],
        ] {
            assert!(with(foreign), "{foreign:?}");
        }
        let hostless = Request::post("/")
            .header("origin", "http://127.0.0.1:8877")
            .body(Bytes::new())
            .expect("request");
        assert!(
            cross_site(hostless.headers(), "http"),
            "an Origin with nothing to match"
        );
        let over_tls = request(
            Some("127.0.0.1:8877"),
            "/",
            &[("origin", "https://127.0.0.1:8877")],
        );
        assert!(!cross_site(over_tls.headers(), "https"));
        let downgraded = request(
            Some("127.0.0.1:8877"),
            "/",
            &[("origin", "http://127.0.0.1:8877")],
        );
        assert!(cross_site(downgraded.headers(), "https"));
    }
}
