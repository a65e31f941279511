//! Connection limits over raw sockets: header-read and keep-alive idle
//! time-outs, and the connection limit. Time-outs are set to a few
//! hundred milliseconds so the tests stay fast; every wait is bounded.

mod common;

use common::Harness;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: credgate\r\n\r\n";

fn addr(h: &Harness) -> String {
    h.base.strip_prefix("http://").unwrap().to_string()
}

/// Reads until the peer closes the connection (or `limit` passes, which
/// fails the test); returns what was read and when the close came.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => panic!(
                "still open after {limit:?}; read so far: {:?}",
                String::from_utf8_lossy(&out)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return out,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Reads one `/healthz` answer on a kept-alive connection.
async fn read_healthz(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    while !out.ends_with(b"\"ok\"}") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(n > 0, "closed before answering");
        out.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(out).unwrap()
}

/// A server with the given header-read and keep-alive idle time-outs.
async fn with_timeouts(
    header_ms: u64,
    idle_ms: u64,
    router: axum::Router<credgate_server::AppState>,
) -> Harness {
    Harness::start_with(
        |c| {
            c.header_read_timeout_ms = header_ms;
            c.keep_alive_idle_ms = idle_ms;
        },
        router,
    )
    .await
}

#[tokio::test]
async fn a_client_trickling_header_bytes_is_cut_off() {
    let mut h = with_timeouts(300, 60_000, axum::Router::new()).await;
    let mut s = TcpStream::connect(addr(&h)).await.unwrap();
    // One byte every 150 ms: the connection is never silent for long,
    // but its headers would take over 5 s to arrive.
    let mut sent = 0;
    for b in HEALTHZ {
        if s.write_all(&[*b]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(sent < HEALTHZ.len(), "all header bytes were taken, slowly");
    let got = read_until_closed(&mut s, Duration::from_secs(3)).await;
    assert!(got.is_empty(), "an answer to a trickled request: {got:?}");
    h.stop().await;
}

#[tokio::test]
async fn a_silent_new_connection_is_closed_after_the_header_timeout() {
    let mut h = with_timeouts(300, 60_000, axum::Router::new()).await;
    let mut s = TcpStream::connect(addr(&h)).await.unwrap();
    let started = Instant::now();
    let got = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(got.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(250));
    h.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let mut h = with_timeouts(60_000, 300, axum::Router::new()).await;
    let mut s = TcpStream::connect(addr(&h)).await.unwrap();
    // Two requests on one connection: a request in good time keeps it.
    for _ in 0..2 {
        s.write_all(HEALTHZ).await.unwrap();
        let answer = read_healthz(&mut s).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Then silence: the idle time-out, not the 60 s header time-out,
    // closes it.
    let started = Instant::now();
    let got = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(got.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(150));
    h.stop().await;
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let mut h = Harness::start_with(
        |c| {
            c.max_connections = 4;
            c.header_read_timeout_ms = 60_000;
            c.keep_alive_idle_ms = 60_000;
        },
        axum::Router::new(),
    )
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(addr(&h)).await.unwrap());
    }
    // The fifth is queued by the kernel, not served.
    let mut fifth = TcpStream::connect(addr(&h)).await.unwrap();
    fifth.write_all(HEALTHZ).await.unwrap();
    let mut buf = [0u8; 64];
    let early =
        tokio::time::timeout(Duration::from_millis(500), fifth.read(&mut buf))
            .await;
    assert!(early.is_err(), "answered past the limit: {early:?}");
    // One idle client leaves: the queued one is served.
    drop(idle.pop());
    let answer = read_healthz(&mut fifth).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(idle);
    drop(fifth);
    h.stop().await;
}

/// The watchdog is not woken when a request starts (it looks at its own
/// deadlines): a later request's header time-out must still hold when
/// it is much shorter than the idle time-out it replaces.
#[tokio::test]
async fn a_request_started_after_an_idle_spell_keeps_the_header_timeout() {
    let mut h = with_timeouts(300, 60_000, axum::Router::new()).await;
    let mut s = TcpStream::connect(addr(&h)).await.unwrap();
    s.write_all(HEALTHZ).await.unwrap();
    let answer = read_healthz(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The first byte of the next request, then silence: the 300 ms
    // header time-out closes it, not the 60 s idle one.
    s.write_all(b"G").await.unwrap();
    let started = Instant::now();
    let got = read_until_closed(&mut s, Duration::from_secs(3)).await;
    assert!(got.is_empty(), "{got:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    h.stop().await;
}

/// A request answered slower than both time-outs is not cut off: the
/// watchdog has no deadline while a request is busy.
#[tokio::test]
async fn a_slow_answer_outlasts_both_timeouts() {
    let slow = axum::Router::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(900)).await;
            "done"
        }),
    );
    let mut h = with_timeouts(200, 200, slow).await;
    let mut s = TcpStream::connect(addr(&h)).await.unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: credgate\r\n\r\n")
        .await
        .unwrap();
    let got = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.ends_with("done"), "{text}");
    h.stop().await;
}
