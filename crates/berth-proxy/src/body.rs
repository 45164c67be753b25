//! The one response body type the proxy serves: a small body it made itself (errors, fixed
//! responses, redirects), or a target's body streamed through while the target keeps counting
//! the request as outstanding (least outstanding requests, and draining: the guard lives until
//! the body ends) and, for pooled targets, driving the connection it comes on.

use crate::targets::OutstandingGuard;
use crate::upstream::Pooled;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

pub enum ProxyBody {
    Local(Full<Bytes>),
    /// `pooled`: the target connection it came on, returned to its pool once the body ended.
    Upstream {
        body: Incoming,
        _guard: Option<OutstandingGuard>,
        pooled: Option<Pooled>,
    },
}

impl ProxyBody {
    pub fn local(bytes: impl Into<Bytes>) -> Self {
        Self::Local(Full::new(bytes.into()))
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            Self::Local(body) => Pin::new(body).poll_frame(cx).map_err(|never| match never {}),
            Self::Upstream { body, pooled, .. } => {
                // The target connection feeds `body` only when polled, and this is its poller.
                if let Some(pooled) = pooled {
                    pooled.drive(cx);
                }
                let polled = Pin::new(&mut *body).poll_frame(cx);
                if let Some(pooled) = pooled {
                    if matches!(polled, Poll::Ready(None)) || body.is_end_stream() {
                        pooled.finished();
                    }
                }
                polled
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Local(body) => body.is_end_stream(),
            Self::Upstream { body, .. } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Local(body) => body.size_hint(),
            Self::Upstream { body, .. } => body.size_hint(),
        }
    }
}
