//! A tower layer that extracts the propagated context of every incoming request into the
//! request's extensions, so handlers and the span layer read it from one place.

use super::context::{Carrier, PropagationContext};
use std::task::{Context, Poll};

/// Extracts [`PropagationContext`] (as [`Extracted`](super::context::Extracted), problems included) from each request's
/// headers and stores it in the request's extensions.
///
/// ```
/// use stellaops_telemetry_core::propagation::{Extracted, PropagationLayer};
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// #[derive(Clone)]
/// struct Echo;
/// impl Service<http::Request<()>> for Echo {
///     type Response = Option<String>;
///     type Error = std::convert::Infallible;
///     type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, req: http::Request<()>) -> Self::Future {
///         let tenant = req.extensions().get::<Extracted>().and_then(|e| e.context.tenant.clone());
///         std::future::ready(Ok(tenant))
///     }
/// }
///
/// let mut svc = PropagationLayer::http().layer(Echo);
/// let req = http::Request::builder().header("x-stella-tenant", "acme-corp").body(()).unwrap();
/// let fut = svc.call(req);
/// # let _ = fut;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PropagationLayer {
    carrier: Carrier,
}

impl PropagationLayer {
    /// For HTTP servers (`x-stella-*` headers).
    pub fn http() -> Self {
        Self {
            carrier: Carrier::Http,
        }
    }

    /// For gRPC servers (`stella-*` metadata).
    pub fn grpc() -> Self {
        Self {
            carrier: Carrier::Grpc,
        }
    }
}

impl<S> tower_layer::Layer<S> for PropagationLayer {
    type Service = PropagationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PropagationService {
            inner,
            carrier: self.carrier,
        }
    }
}

/// The service made by [`PropagationLayer`].
#[derive(Debug, Clone)]
pub struct PropagationService<S> {
    inner: S,
    carrier: Carrier,
}

impl<S, B> tower_service::Service<http::Request<B>> for PropagationService<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        let extracted = PropagationContext::extract_from(req.headers(), self.carrier);
        req.extensions_mut().insert(extracted);
        self.inner.call(req)
    }
}
