//! A minimal HTTP/1.1 keep-alive client on hyper: one connection per
//! worker, no pool, so the generator spends as little CPU as it can of the
//! machine it shares with the server.

use crate::report::Outcome;
use crate::workload::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use std::time::Duration;

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: std::net::SocketAddr,
    pub host: String,
}

impl Target {
    pub fn parse(url: &str) -> anyhow::Result<Target> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            anyhow::anyhow!("--url {url}: only http:// is supported")
        })?;
        let host = rest.split('/').next().unwrap_or("").to_string();
        use std::net::ToSocketAddrs;
        let addr = host
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| anyhow::anyhow!("--url {url}: no address"))?;
        Ok(Target { addr, host })
    }
}

type Driver = hyper::client::conn::http1::Connection<
    hyper_util::rt::TokioIo<tokio::net::TcpStream>,
    Full<Bytes>,
>;

/// One open connection. Its driver (hyper's connection future) is
/// polled by the same task that awaits the answer, not spawned: a
/// spawned driver cost two task wake-ups per request (request to the
/// driver, answer back), often across threads, which is client time
/// the server is then blamed for; pgbench, the peer's client, is one
/// blocking thread per connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: std::pin::Pin<Box<Driver>>,
    host: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("host", &self.host).finish()
    }
}

impl Connection {
    pub async fn open(t: &Target) -> Result<Connection, &'static str> {
        let stream = tokio::net::TcpStream::connect(t.addr)
            .await
            .map_err(|_| "connect")?;
        let _ = stream.set_nodelay(true);
        let (sender, driver) = hyper::client::conn::http1::handshake(
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .map_err(|_| "connect")?;
        Ok(Connection {
            sender,
            driver: Box::pin(driver),
            host: t.host.clone(),
        })
    }

    /// Runs `work` while driving the connection; an error when the
    /// connection ends first.
    async fn drive<T>(
        driver: &mut std::pin::Pin<Box<Driver>>,
        work: impl std::future::Future<Output = T>,
    ) -> Result<T, &'static str> {
        tokio::pin!(work);
        tokio::select! {
            biased;
            r = &mut work => Ok(r),
            _ = driver.as_mut() => Err("transport"),
        }
    }

    /// Sends a JSON POST; the status and the body's length.
    pub async fn post(
        &mut self,
        path: &str,
        key: &str,
        body: Bytes,
    ) -> Result<(u16, usize), &'static str> {
        let req = hyper::Request::post(path)
            .header("host", &self.host)
            .header("x-api-key", key)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .map_err(|_| "request")?;
        // The driver may still be finishing the last exchange.
        Self::drive(&mut self.driver, self.sender.ready())
            .await?
            .map_err(|_| "transport")?;
        let sent = self.sender.send_request(req);
        let resp = Self::drive(&mut self.driver, sent)
            .await?
            .map_err(|_| "transport")?;
        let status = resp.status().as_u16();
        let body = Self::drive(&mut self.driver, resp.into_body().collect())
            .await?
            .map_err(|_| "body")?;
        Ok((status, body.to_bytes().len()))
    }
}

/// Screens one body over `conn` (opened on first use, dropped on error),
/// with a 10 s time limit.
pub async fn screen(
    target: &Target,
    conn: &mut Option<Connection>,
    key: &str,
    body: &Body,
) -> Outcome {
    let run = async {
        if conn.is_none() {
            *conn = Some(Connection::open(target).await?);
        }
        let c = conn.as_mut().expect("opened above");
        c.post("/v1/screen", key, body.json.clone()).await
    };
    match tokio::time::timeout(Duration::from_secs(10), run).await {
        Ok(Ok((200, _))) => Outcome::Ok(body.class),
        Ok(Ok((status, _))) => Outcome::Status(status),
        Ok(Err(kind)) => {
            *conn = None;
            Outcome::Transport(kind)
        }
        Err(_) => {
            *conn = None;
            Outcome::Transport("timeout")
        }
    }
}
