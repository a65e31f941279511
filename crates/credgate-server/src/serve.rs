//! Accepting and serving HTTP/1.1 connections with the limits
//! `axum::serve` lacks: a connection limit, a header-read time-out and a
//! keep-alive idle time-out.
//!
//! Each connection is in one of three phases, kept by [`Phase`]:
//!
//! - *head*: from the accept (or the first byte of a later request) until
//!   its headers are complete; bounded by `header_read_timeout_ms`, so a
//!   silent new connection and a client trickling header bytes are cut
//!   off;
//! - *busy*: a request is being answered; the handlers bound themselves
//!   (`request_timeout_secs`, the bulk job's own limits);
//! - *idle*: after a response, until the next request's first byte;
//!   bounded by `keep_alive_idle_ms`.
//!
//! Hyper's own `header_read_timeout` starts when hyper waits for a head
//! (idle time included), so it cannot keep the two limits apart; one
//! watchdog per connection enforces both instead. The connection limit
//! is a semaphore taken before `accept`: past the limit, new connections
//! wait in the kernel's backlog and cost the process no file descriptor.

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The connection limits (from [`crate::config::Config`]).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub keep_alive_idle: Duration,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops
/// accepting, lets every connection finish its in-flight request and
/// returns once all are closed.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => {
                p.expect("the semaphore is never closed")
            }
            () = &mut shutdown => break,
        };
        let tcp = tokio::select! {
            r = listener.accept() => match r {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and latency-bound: no Nagle delay.
        let _ = tcp.set_nodelay(true);
        tokio::spawn(connection(
            tcp,
            app.clone(),
            limits,
            stop_rx.clone(),
            permit,
        ));
    }
    // Closing the listener refuses new connections during the drain.
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a permit until it ends: when all are back,
    // every in-flight request has been answered.
    let _ = permits.acquire_many(max as u32).await;
    Ok(())
}

/// An accept that failed. Per-connection errors (the peer reset before
/// the accept) are skipped; others (out of file descriptors) get a pause
/// so the loop does not spin.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn connection(
    tcp: TcpStream,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    metrics::gauge!("credgate_connections_open").increment(1.0);
    let phase = Arc::new(Phase::new());
    let io = TokioIo::new(Watched { inner: tcp, phase: phase.clone() });
    let p = phase.clone();
    let service = hyper::service::service_fn(move |req: Request| {
        let busy = Busy::start(p.clone());
        let app = app.clone();
        async move {
            let resp = match app.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(resp.map(|body| Tracked { body, _busy: busy }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The watchdog below enforces the header time-out (see the module
    // comment); hyper's would also count idle time.
    builder.header_read_timeout(None);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "connection ended");
                }
                break;
            }
            reason = phase.expired(&limits) => {
                // Nothing is in flight (the watchdog has no deadline while
                // busy): dropping the connection closes the socket.
                metrics::counter!("credgate_connections_timed_out_total", "phase" => reason)
                    .increment(1);
                break;
            }
            r = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                if r.is_ok() {
                    // Finishes the in-flight response, then closes.
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
    metrics::gauge!("credgate_connections_open").decrement(1.0);
}

type Request = hyper::Request<Incoming>;

#[derive(Debug, Clone, Copy)]
enum State {
    /// Waiting for the headers of a request since this instant.
    Head(Instant),
    /// This many requests being answered.
    Busy(usize),
    /// Waiting for the first byte of the next request since this instant.
    Idle(Instant),
}

/// A connection's phase, shared by its socket, its requests and its
/// watchdog.
///
/// Changes are not announced to the watchdog: it looks at the phase when
/// it wakes, at the deadline it last saw or after `min(limits)` at the
/// latest. Every deadline a change sets lies at least that far ahead, so
/// the watchdog sees it in time and is never late. Waking it on every
/// change (three times a request, each re-arming a timer and re-polling
/// the connection) cost every request; this costs one wake-up per
/// `min(limits)` per connection.
#[derive(Debug)]
struct Phase {
    state: Mutex<State>,
}

impl Phase {
    fn new() -> Phase {
        Phase { state: Mutex::new(State::Head(Instant::now())) }
    }

    fn set(&self, f: impl FnOnce(State) -> State) {
        let mut s = self.state.lock().expect("phase lock");
        *s = f(*s);
    }

    fn byte_read(&self) {
        let mut s = self.state.lock().expect("phase lock");
        if matches!(*s, State::Idle(_)) {
            *s = State::Head(Instant::now());
        }
    }

    /// Resolves with the phase that ran out of time.
    async fn expired(&self, limits: &Limits) -> &'static str {
        let look_every =
            limits.header_read_timeout.min(limits.keep_alive_idle);
        loop {
            let now = Instant::now();
            let deadline = match *self.state.lock().expect("phase lock") {
                State::Head(t) => {
                    Some((t + limits.header_read_timeout, "header_read"))
                }
                State::Idle(t) => {
                    Some((t + limits.keep_alive_idle, "keep_alive_idle"))
                }
                State::Busy(_) => None,
            };
            let wake = match deadline {
                Some((at, why)) if at <= now => return why,
                Some((at, _)) => at.min(now + look_every),
                None => now + look_every,
            };
            tokio::time::sleep_until(wake).await;
        }
    }
}

/// Marks a request in flight until its response body is done (or
/// dropped): the connection is busy, not idle, while a response streams.
struct Busy(Arc<Phase>);

impl Busy {
    fn start(phase: Arc<Phase>) -> Busy {
        phase.set(|s| match s {
            State::Busy(n) => State::Busy(n + 1),
            _ => State::Busy(1),
        });
        Busy(phase)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.set(|s| match s {
            State::Busy(n) if n > 1 => State::Busy(n - 1),
            _ => State::Idle(Instant::now()),
        });
    }
}

/// A response body that keeps its request marked busy.
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket, reporting the first byte of each request to the phase.
struct Watched {
    inner: TcpStream,
    phase: Arc<Phase>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.phase.byte_read();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
