//! Outbound through an HTTP CONNECT proxy: the tunnel is opened here (a
//! bounded response head, credentials zeroized after each use) and TLS to
//! ET runs end to end inside it, so the proxy sees only the host name.

use std::fmt;
use std::net::IpAddr;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use crate::body::BoxError;

/// Largest CONNECT response head read from a proxy: a status line and a
/// few headers are well under 1 KiB.
pub(crate) const MAX_PROXY_HEAD: usize = 8 << 10;

/// An HTTP proxy that the client tunnels HTTPS through (`CONNECT`), with
/// optional basic authentication and hosts reached directly.
///
/// Only `https` requests go through it: plain `http` goes to loopback
/// hosts only ([`crate::Endpoint`]), which a proxy could not reach.
///
/// ```
/// use et_http::{Proxy, TransportConfig};
/// let proxy = Proxy::parse("http://proxy.internal:3128")?
///     .with_basic_auth("merchant", "s3cret")
///     .with_no_proxy("localhost,.corp.example,10.0.0.0/8");
/// assert!(!format!("{proxy:?}").contains("s3cret"));
/// let config = TransportConfig { proxy: Some(proxy), ..TransportConfig::default() };
/// # Ok::<(), et_http::ProxyError>(())
/// ```
///
/// The environment is read only when asked: [`Proxy::from_env`].
#[derive(Clone)]
pub struct Proxy {
    host: String,
    port: u16,
    credentials: Option<Credentials>,
    no_proxy: NoProxy,
}

/// Basic-authentication credentials, zeroized on drop.
#[derive(Clone)]
struct Credentials {
    user: Zeroizing<String>,
    password: Zeroizing<String>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("basic_auth", &self.credentials.is_some())
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// Why a proxy setting was refused or the proxy would not open a tunnel.
/// (A connection to the proxy that fails or breaks is a connect error,
/// retried like any other.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL is not `http://[user:password@]host[:port]`; says which part.
    InvalidUrl(&'static str),
    /// The proxy answered `CONNECT` with this status (407, or 401 from
    /// tinyproxy: credentials missing or refused; 403: the destination is not allowed; 502/504:
    /// the proxy could not reach ET).
    Refused {
        /// The proxy's status code.
        status: u16,
    },
    /// The proxy's response head exceeded `limit` bytes (8 KiB).
    HeadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The proxy's response head is not HTTP.
    MalformedHead,
    /// The proxy sent bytes after its `200` before the TLS handshake began.
    DataAfterHead,
    /// The proxy closed the connection before its response head ended.
    ClosedEarly,
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(why) => write!(f, "invalid proxy URL: {why}"),
            Self::Refused {
                status: status @ (401 | 407),
            } => write!(
                f,
                "the proxy refused CONNECT: authentication required ({status})"
            ),
            Self::Refused { status } => write!(f, "the proxy refused CONNECT with {status}"),
            Self::HeadTooLarge { limit } => {
                write!(f, "the proxy's response head exceeded {limit} bytes")
            }
            Self::MalformedHead => f.write_str("the proxy's response head is not HTTP"),
            Self::DataAfterHead => f.write_str("the proxy sent data before the TLS handshake"),
            Self::ClosedEarly => f.write_str("the proxy closed the connection during CONNECT"),
        }
    }
}

impl std::error::Error for ProxyError {}

impl Proxy {
    /// `http://[user:password@]host[:port]` (the scheme may be left out;
    /// the port defaults to 80). Percent-encoded user and password are
    /// decoded. An `https://` proxy (TLS to the proxy itself) is refused.
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some(_) => return Err(ProxyError::InvalidUrl("the scheme is not http")),
            None => url,
        };
        let authority = rest.trim_end_matches('/');
        if authority.contains(['/', '?', '#']) {
            return Err(ProxyError::InvalidUrl("a path after the host"));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, port) = split_host_port(hostport)?;
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                Some(Credentials {
                    user: percent_decode(user)?,
                    password: percent_decode(password)?,
                })
            }
        };
        Ok(Self {
            host,
            port,
            credentials,
            no_proxy: NoProxy::default(),
        })
    }

    /// The proxy named by `HTTPS_PROXY` (or `https_proxy`), reaching the
    /// hosts `NO_PROXY` (or `no_proxy`) lists directly; `None` when no
    /// proxy is set. Read only when called: a client never looks at the
    /// environment by itself.
    pub fn from_env() -> Result<Option<Self>, ProxyError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any variable lookup (upper-case
    /// names first, then lower-case; an empty value counts as unset).
    pub(crate) fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ProxyError> {
        let either = |upper: &str| {
            var(upper)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| var(&upper.to_ascii_lowercase()).filter(|v| !v.trim().is_empty()))
        };
        let Some(url) = either("HTTPS_PROXY").map(Zeroizing::new) else {
            return Ok(None);
        };
        let proxy = Self::parse(url.trim())?;
        Ok(Some(match either("NO_PROXY") {
            Some(list) => proxy.with_no_proxy(&list),
            None => proxy,
        }))
    }

    /// Sends `Proxy-Authorization: Basic` with each `CONNECT`.
    pub fn with_basic_auth(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some(Credentials {
            user: Zeroizing::new(user.to_owned()),
            password: Zeroizing::new(password.to_owned()),
        });
        self
    }

    /// Hosts reached directly, `NO_PROXY`-style, comma-separated: `*` (every
    /// host), a domain (`example.com` or `.example.com`: it and its
    /// subdomains), an IP address, or an IP block (`10.0.0.0/8`).
    pub fn with_no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = NoProxy::parse(list);
        self
    }

    /// The proxy's host and port.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// Whether a request to `host` goes through the proxy.
    pub fn applies_to(&self, host: &str) -> bool {
        !self.no_proxy.matches(host)
    }

    /// Connects to the proxy and opens a tunnel to `host:port`; the
    /// caller bounds the time (the transport's connect timeout). A refusal
    /// is a [`ProxyError`]; a failed connection an `io::Error`.
    pub(crate) async fn tunnel(&self, host: &str, port: u16) -> Result<TcpStream, BoxError> {
        let mut stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        let request = self.connect_request(host, port);
        stream.write_all(&request).await?;
        drop(request);
        read_connect_answer(&mut stream).await?;
        Ok(stream)
    }

    /// The `CONNECT` request; it holds the credentials, so it is zeroized
    /// once sent.
    fn connect_request(&self, host: &str, port: u16) -> Zeroizing<Vec<u8>> {
        let target = match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
            _ => format!("{host}:{port}"),
        };
        let mut request = Zeroizing::new(Vec::with_capacity(256));
        request.extend_from_slice(
            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n").as_bytes(),
        );
        if let Some(credentials) = &self.credentials {
            let pair = Zeroizing::new(format!("{}:{}", *credentials.user, *credentials.password));
            let encoded =
                Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
            request.extend_from_slice(b"Proxy-Authorization: Basic ");
            request.extend_from_slice(encoded.as_bytes());
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"\r\n");
        request
    }
}

/// Reads the proxy's answer to `CONNECT` up to the end of its head, at most
/// [`MAX_PROXY_HEAD`] bytes; any 2xx opens the tunnel.
async fn read_connect_answer(stream: &mut TcpStream) -> Result<(), BoxError> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let room = MAX_PROXY_HEAD - head.len();
        if room == 0 {
            return Err(ProxyError::HeadTooLarge {
                limit: MAX_PROXY_HEAD,
            }
            .into());
        }
        let take = room.min(chunk.len());
        let n = stream.read(&mut chunk[..take]).await?;
        if n == 0 {
            return Err(ProxyError::ClosedEarly.into());
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(status) = parse_head(&head)? {
            return match status {
                (200..=299, true) => Ok(()),
                (200..=299, false) => Err(ProxyError::DataAfterHead.into()),
                (status, _) => Err(ProxyError::Refused { status }.into()),
            };
        }
    }
}

/// The status of a complete head (its status line; the headers are not
/// needed), and whether the head ended exactly at the end of `bytes`;
/// `None` while incomplete.
fn parse_head(bytes: &[u8]) -> Result<Option<(u16, bool)>, ProxyError> {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    // `HTTP/1.x 200 reason`: a version digit, a space, three digits, then
    // a space or the line's end.
    let status = line
        .strip_prefix(b"HTTP/1.")
        .filter(|rest| matches!(rest.get(5), Some(b' ' | b'\r')))
        .and_then(|rest| rest.get(1..5))
        .filter(|code| code.first() == Some(&b' '))
        .and_then(|code| std::str::from_utf8(&code[1..]).ok())
        .filter(|code| code.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|code| code.parse().ok())
        .ok_or(ProxyError::MalformedHead)?;
    Ok(Some((status, end + 4 == bytes.len())))
}

fn split_host_port(hostport: &str) -> Result<(String, u16), ProxyError> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let (ip, after) = rest
            .split_once(']')
            .ok_or(ProxyError::InvalidUrl("an unclosed [IPv6] host"))?;
        (ip, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(ProxyError::InvalidUrl("no host"));
    }
    let port = match port {
        None => 80,
        Some(port) => port
            .parse()
            .map_err(|_| ProxyError::InvalidUrl("the port is not a number"))?,
    };
    Ok((host.to_owned(), port))
}

fn percent_decode(s: &str) -> Result<Zeroizing<String>, ProxyError> {
    let bytes = s.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(ProxyError::InvalidUrl("a bad %-escape in the credentials"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let text = std::str::from_utf8(&out)
        .map_err(|_| ProxyError::InvalidUrl("credentials that are not UTF-8"))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Hosts reached without the proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct NoProxy {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Everything,
    Domain(String),
    Block { net: IpAddr, prefix: u8 },
}

impl NoProxy {
    fn parse(list: &str) -> Self {
        let rules = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                if entry == "*" {
                    return Rule::Everything;
                }
                let (addr, prefix) = match entry.split_once('/') {
                    Some((addr, prefix)) => (addr, prefix.parse().ok()),
                    None => (entry, None),
                };
                let addr = addr.trim_start_matches('[').trim_end_matches(']');
                match addr.parse::<IpAddr>() {
                    Ok(net) => {
                        let full = if net.is_ipv4() { 32 } else { 128 };
                        Rule::Block {
                            net,
                            prefix: prefix.unwrap_or(full).min(full),
                        }
                    }
                    Err(_) => Rule::Domain(entry.trim_start_matches('.').to_ascii_lowercase()),
                }
            })
            .collect();
        Self { rules }
    }

    fn matches(&self, host: &str) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.rules.iter().any(|rule| match rule {
            Rule::Everything => true,
            Rule::Domain(domain) => {
                host == *domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|start| start.ends_with('.'))
            }
            Rule::Block { net, prefix } => ip.is_some_and(|ip| in_block(ip, *net, *prefix)),
        })
    }
}

fn in_block(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (ip, net, bits) = match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            (u128::from(ip.to_bits()), u128::from(net.to_bits()), 32)
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => (ip.to_bits(), net.to_bits(), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || (ip >> shift) == (net >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_url_names_host_port_and_decoded_credentials() {
        let p = Proxy::parse("http://us%40er:p%3Ass@proxy.example:3128/").unwrap();
        assert_eq!(p.address(), ("proxy.example", 3128));
        let c = p.credentials.as_ref().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("us@er", "p:ss"));
        assert_eq!(
            Proxy::parse("proxy:8080").unwrap().address(),
            ("proxy", 8080)
        );
        assert_eq!(Proxy::parse("http://[::1]").unwrap().address(), ("::1", 80));
        for bad in [
            "https://proxy:1",
            "socks5://p:1",
            "http://:1",
            "http://p:x",
            "http://p/a",
            "http://u:%zz@p",
        ] {
            assert!(
                matches!(Proxy::parse(bad), Err(ProxyError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn credentials_never_appear_in_debug() {
        let p = Proxy::parse("http://user:hunter2@proxy:3128").unwrap();
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("user"),
            "{shown}"
        );
        assert!(shown.contains("basic_auth: true"), "{shown}");
    }

    #[test]
    fn the_connect_request_carries_basic_auth() {
        let p = Proxy::parse("http://proxy:3128")
            .unwrap()
            .with_basic_auth("a", "b");
        let request = p.connect_request("::1", 443);
        assert_eq!(
            std::str::from_utf8(&request).unwrap(),
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\nProxy-Authorization: Basic YTpi\r\n\r\n"
        );
    }

    #[test]
    fn the_environment_is_read_upper_case_first_and_only_https() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(Proxy::from_vars(vars(&[("HTTP_PROXY", "http://p:1")]))
            .unwrap()
            .is_none());
        let p = Proxy::from_vars(vars(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("no_proxy", "internal.example"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(p.address(), ("upper", 1));
        assert!(!p.applies_to("api.internal.example"));
        let p = Proxy::from_vars(vars(&[("HTTPS_PROXY", " "), ("https_proxy", "lower:2")]))
            .unwrap()
            .unwrap();
        assert_eq!(p.address(), ("lower", 2));
    }

    #[test]
    fn no_proxy_matches_domains_on_label_boundaries_and_ip_blocks() {
        let p = Proxy::parse("p:1")
            .unwrap()
            .with_no_proxy(" .corp.example, localhost ,10.0.0.0/8,::1, 192.0.2.7");
        for direct in [
            "corp.example",
            "a.corp.example",
            "LOCALHOST",
            "10.1.2.3",
            "[::1]",
            "192.0.2.7",
        ] {
            assert!(!p.applies_to(direct), "{direct}");
        }
        for proxied in [
            "notcorp.example",
            "corp.example.net",
            "11.0.0.1",
            "192.0.2.8",
            "api.easytransfer.cn",
        ] {
            assert!(p.applies_to(proxied), "{proxied}");
        }
        assert!(!Proxy::parse("p:1")
            .unwrap()
            .with_no_proxy("*")
            .applies_to("anything"));
        assert!(Proxy::parse("p:1")
            .unwrap()
            .with_no_proxy("")
            .applies_to("anything"));
    }

    #[test]
    fn a_head_is_judged_only_once_complete() {
        assert!(parse_head(b"HTTP/1.1 200 OK\r\n").unwrap().is_none());
        assert_eq!(
            parse_head(b"HTTP/1.0 200 Connection established\r\n\r\n").unwrap(),
            Some((200, true))
        );
        assert_eq!(
            parse_head(b"HTTP/1.1 407 Auth\r\nA: b\r\n\r\nxx").unwrap(),
            Some((407, false))
        );
        for bad in [
            &b"SSH-2.0\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 20x\r\n\r\n",
        ] {
            assert_eq!(parse_head(bad), Err(ProxyError::MalformedHead));
        }
    }
}
