//! The two runtimes the engines run on, as far as the server needs them: a listener that
//! accepts streams, and a way to give each connection a task of its own.

use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};

/// A connection's stream, as the server reads and writes it.
pub(crate) trait Stream:
    futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static
{
    /// Ends the sending side (a FIN) and leaves the receiving side open: a half-close, which
    /// closing the stream does not always do (async-io's only flushes).
    fn shut_write(&self) -> io::Result<()>;
}

/// What the connection loop asks of a runtime.
pub(crate) trait Runtime: 'static {
    type Listener: Send + Sync;
    type Stream: Stream;

    /// Adopts a bound listener: this runtime's reactor watches it from now on.
    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener>;
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + Send;
    fn spawn(task: impl Future<Output = ()> + Send + 'static);
}

/// tide's runtime.
pub(crate) struct AsyncStd;

impl Runtime for AsyncStd {
    type Listener = async_std::net::TcpListener;
    type Stream = async_std::net::TcpStream;

    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener> {
        Ok(async_std::net::TcpListener::from(listener))
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        nodelay(stream.set_nodelay(true));
        Ok((stream, peer))
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        async_std::task::spawn(task);
    }
}

/// axum's runtime.
pub(crate) struct Tokio;

impl Runtime for Tokio {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio_util::compat::Compat<tokio::net::TcpStream>;

    fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::from_std(listener)
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, SocketAddr)> {
        use tokio_util::compat::TokioAsyncReadCompatExt;
        let (stream, peer) = listener.accept().await?;
        nodelay(stream.set_nodelay(true));
        Ok((stream.compat(), peer))
    }

    fn spawn(task: impl Future<Output = ()> + Send + 'static) {
        tokio::spawn(task);
    }
}

impl Stream for async_std::net::TcpStream {
    fn shut_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl Stream for tokio_util::compat::Compat<tokio::net::TcpStream> {
    fn shut_write(&self) -> io::Result<()> {
        socket2::SockRef::from(self.get_ref()).shutdown(Shutdown::Write)
    }
}

/// Small responses are written whole; they must not wait for the client's ACK.
fn nodelay(set: io::Result<()>) {
    if let Err(e) = set {
        tracing::debug!(error = %e, "TCP_NODELAY refused");
    }
}
