//! One listening socket and its connections. The socket stays bound for as long as documents
//! keep a listener on its address; each document only swaps the routing table the connections
//! read (per request), so changing rules or targets drops no connection. A connection with no
//! bytes in either direction for the listener's idle timeout (and no request waiting for a
//! target) is closed.

use crate::forward::{handle, ConnectionContext, TargetConnector};
use crate::routing::ListenerTable;
use crate::targets::now_millis;
use crate::workers::Workers;
use arc_swap::ArcSwap;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::server::conn::{http1, http2};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

/// A bound listener: the table its connections read and one accept loop per worker.
pub struct BoundListener {
    pub table: Arc<ArcSwap<ListenerTable>>,
    pub local_addr: SocketAddr,
    accept_tasks: Vec<JoinHandle<()>>,
}

impl Drop for BoundListener {
    fn drop(&mut self) {
        // Dropping the accept loops closes the sockets; connections already accepted finish
        // their current exchanges and then meet the idle timeout.
        for task in &self.accept_tasks {
            task.abort();
        }
    }
}

impl BoundListener {
    /// Binds one socket per worker on the same address (the first decides the port when `bind`
    /// asks for port 0) and starts their accept loops on the workers.
    pub fn bind(bind: SocketAddr, table: Arc<ListenerTable>, workers: &Workers) -> io::Result<Self> {
        let table = Arc::new(ArcSwap::new(table));
        let mut local_addr = bind;
        let mut accept_tasks: Vec<JoinHandle<()>> = Vec::with_capacity(workers.workers.len());
        for worker in &workers.workers {
            let listener = {
                // The socket registers with the reactor of the runtime it is made in.
                let _entered = worker.handle.enter();
                match reuse_port_listener(local_addr) {
                    Ok(listener) => listener,
                    Err(error) => {
                        for task in &accept_tasks {
                            task.abort();
                        }
                        return Err(error);
                    }
                }
            };
            local_addr = listener.local_addr()?;
            accept_tasks.push(worker.handle.spawn(accept_loop(
                listener,
                Arc::clone(&table),
                worker.client.clone(),
                local_addr,
            )));
        }
        Ok(Self { table, local_addr, accept_tasks })
    }
}

/// A listening socket that other sockets of this proxy may share (SO_REUSEPORT). A port held by
/// anyone else without SO_REUSEPORT still fails with "address in use", as it should.
fn reuse_port_listener(address: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.set_reuseport(true)?;
    socket.bind(address)?;
    socket.listen(1024)
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    table: Arc<ArcSwap<ListenerTable>>,
    client: Client<TargetConnector, Incoming>,
    local_addr: SocketAddr,
) {
    let local_port_header = HeaderValue::from(local_addr.port());
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let context = Arc::new(ConnectionContext {
                    table: Arc::clone(&table),
                    client: client.clone(),
                    peer,
                    local_port: local_addr.port(),
                    peer_ip_header: HeaderValue::try_from(peer.ip().to_string())
                        .expect("an IP address is a valid header value"),
                    local_port_header: local_port_header.clone(),
                    in_flight: Default::default(),
                });
                tokio::spawn(serve_connection(stream, context));
            }
            Err(error) => {
                // Out of file descriptors and the like: back off a little instead of spinning.
                tracing::warn!(%local_addr, %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn serve_connection(stream: TcpStream, context: Arc<ConnectionContext>) {
    let table = context.table.load_full();
    let idle_timeout = table.idle_timeout;
    let activity = Arc::new(AtomicU64::new(now_millis()));
    let stream = ActivityStream { inner: stream, activity: Arc::clone(&activity) };
    let service_context = Arc::clone(&context);
    let service = hyper::service::service_fn(move |request| handle(Arc::clone(&service_context), request));
    match &table.tls {
        Some(tls) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls));
            let stream = match tokio::time::timeout(idle_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(peer = %context.peer, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                let connection = http2::Builder::new(TokioExecutor::new())
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service);
                drive(connection, |connection| connection.graceful_shutdown(), &context, &activity, idle_timeout).await;
            } else {
                let connection = http1_builder(idle_timeout).serve_connection(TokioIo::new(stream), service);
                let connection = connection.with_upgrades();
                drive(connection, |connection| connection.graceful_shutdown(), &context, &activity, idle_timeout).await;
            }
        }
        None => {
            // ALB speaks HTTP/2 to clients only over TLS (ALPN), so a plain listener is
            // HTTP/1 alone, with no preface sniffing in front of it.
            let connection = http1_builder(idle_timeout).serve_connection(TokioIo::new(stream), service);
            let connection = connection.with_upgrades();
            drive(connection, |connection| connection.graceful_shutdown(), &context, &activity, idle_timeout).await;
        }
    }
}

fn http1_builder(idle_timeout: Duration) -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(idle_timeout).keep_alive(true);
    builder
}

/// Serves `connection` until it ends or stays idle for the idle timeout; `graceful_shutdown`
/// is its own (hyper's HTTP/1 and HTTP/2 connections have one each, with no trait in common).
async fn drive<C>(
    connection: C,
    graceful_shutdown: impl FnOnce(Pin<&mut C>),
    context: &ConnectionContext,
    activity: &AtomicU64,
    idle_timeout: Duration,
) where
    C: Future<Output = Result<(), hyper::Error>>,
{
    let mut connection = std::pin::pin!(connection);
    let idle_millis = u64::try_from(idle_timeout.as_millis()).unwrap_or(u64::MAX);
    loop {
        let last = activity.load(Ordering::Relaxed);
        let idle_for = now_millis().saturating_sub(last);
        let wait = Duration::from_millis(idle_millis.saturating_sub(idle_for).max(10));
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(peer = %context.peer, %error, "client connection ended with an error");
                }
                return;
            }
            () = tokio::time::sleep(wait) => {
                let idle_for = now_millis().saturating_sub(activity.load(Ordering::Relaxed));
                if idle_for >= idle_millis && context.in_flight.load(Ordering::Relaxed) == 0 {
                    graceful_shutdown(connection.as_mut());
                    // Bounded: a connection that does not finish closing is simply dropped.
                    let _ = tokio::time::timeout(Duration::from_secs(1), connection.as_mut()).await;
                    return;
                }
            }
        }
    }
}

/// A TCP stream that stamps the time of every successful read or write, for the idle timer.
struct ActivityStream {
    inner: TcpStream,
    activity: Arc<AtomicU64>,
}

impl ActivityStream {
    fn touch(&self) {
        self.activity.store(now_millis(), Ordering::Relaxed);
    }
}

impl AsyncRead for ActivityStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.touch();
        }
        result
    }
}

impl AsyncWrite for ActivityStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            this.touch();
        }
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(written)) if written > 0) {
            this.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
