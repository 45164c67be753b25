//! One HTTP/1.1 connection to a plain-HTTP target, without a task of its own: whoever uses it
//! polls it (see `upstream`).

use crate::upstream::UpstreamError;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct TargetConnection {
    pub sender: SendRequest<Incoming>,
    /// Boxed: it moves in and out of the pool with every request.
    connection: Pin<Box<Connection<TokioIo<TargetStream>, Incoming>>>,
    /// The connection ended (closed by either side, or failed): only the sender's error is left.
    closed: bool,
}

impl TargetConnection {
    pub async fn connect(address: SocketAddr) -> Result<Self, UpstreamError> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
            .await
            .map_err(|_| "connect timed out")??;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::Builder::new().handshake(TokioIo::new(TargetStream(stream))).await?;
        Ok(Self { sender, connection: Box::pin(connection), closed: false })
    }

    /// Lets the connection write what it was given and read what came in; it wakes `cx` when
    /// it can make progress again.
    pub fn drive(&mut self, cx: &mut Context<'_>) {
        if self.closed {
            return;
        }
        if let Poll::Ready(result) = self.connection.as_mut().poll(cx) {
            self.closed = true;
            if let Err(error) = result {
                tracing::debug!(%error, "target connection ended with an error");
            }
        }
    }

    /// Drives the connection until `exchange` (a request sent on it) has its answer.
    pub async fn drive_until<T>(&mut self, exchange: impl Future<Output = T>) -> T {
        let mut exchange = pin!(exchange);
        poll_fn(|cx| {
            self.drive(cx);
            exchange.as_mut().poll(cx)
        })
        .await
    }

    /// Open and idle, able to take a request now. Polls the connection once (with no one to
    /// wake: the next user polls it again), which is how a close by the target is noticed.
    pub fn reusable(&mut self) -> bool {
        self.drive(&mut Context::from_waker(Waker::noop()));
        !self.closed && self.sender.is_ready()
    }
}

/// A target's TCP stream. Shutting it down is left to the close that follows at once: hyper
/// shuts a connection down before it ends it, and for targets that close after every response
/// (busybox httpd) that was one `shutdown` call more per request for the same FIN.
struct TargetStream(TcpStream);

impl AsyncRead for TargetStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TargetStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
