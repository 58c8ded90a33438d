//! The emulator on the network: a tokio runtime of its own, on a thread of its own, accepting
//! on 127.0.0.1 and serving HTTP/1.1 keep-alive connections with hyper, plain or over TLS.
//!
//! The runtime never runs on the caller's thread: the tests and the client are synchronous
//! and use blocking reqwest, which must not run inside a runtime, and an emulator started or
//! dropped inside someone else's runtime must not disturb it. Every connection is a task, so
//! idle keep-alive connections cost nothing and a new connection is always answered; every
//! socket has Nagle's algorithm off, so the tail of a large answer is not held back until
//! the client's delayed ACK (some 40 ms per request).

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use socket2::{SockRef, Socket};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::http::{self, Connection};
use super::state::Shared;
use super::tls::TlsIdentity;

/// Threads doing network I/O (and TLS); handlers run on separate blocking threads.
const IO_THREADS: usize = 2;

/// How long stopping waits for requests in flight before it drops them.
const GRACE: Duration = Duration::from_secs(5);

/// After a failed accept (out of file descriptors, say): a pause, since there is nothing
/// to wait for that would say the next accept can succeed.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A running server; dropping it stops it.
pub(crate) struct Server {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Binds 127.0.0.1:`port` and serves `shared` on a new thread; returns once listening.
    /// `handlers` bounds the threads running method handlers at once.
    pub(crate) fn start(
        port: u16,
        tls: Option<&TlsIdentity>,
        handlers: usize,
        shared: Arc<Shared>,
    ) -> io::Result<Server> {
        let acceptor = tls.map(TlsIdentity::acceptor);
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let (ready, listening) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("vizportal-emulator".to_owned())
            .spawn(move || {
                let runtime = match runtime(handlers) {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let accepting = runtime.block_on(async {
                    let listener = TcpListener::from_std(listener)?;
                    let _ = ready.send(Ok(()));
                    accept(listener, acceptor, shared, stopped).await;
                    Ok(())
                });
                if let Err(e) = accepting {
                    let _ = ready.send(Err(e));
                }
                runtime.shutdown_timeout(GRACE);
            })?;
        let server = Server {
            addr,
            stop,
            thread: Some(thread),
        };
        match listening.recv() {
            Ok(Ok(())) => Ok(server),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::other("the emulator thread ended while starting")),
        }
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets requests in flight finish (for up to [`GRACE`]), closes every
    /// connection and joins the thread.
    pub(crate) fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.stop.send_replace(true);
        // A panic on the server thread has nothing left to clean up.
        let _ = thread.join();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn runtime(handlers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(IO_THREADS)
        .max_blocking_threads(handlers.max(1))
        .thread_name("vizportal-emulator")
        .enable_io()
        .enable_time()
        .build()
}

/// Accepts connections until told to stop, then waits for them to wind down.
async fn accept(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            biased;
            _ = stopped.wait_for(|&stop| stop) => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let serving = serve(
                    stream,
                    peer,
                    acceptor.clone(),
                    Arc::clone(&shared),
                    stopped.clone(),
                );
                connections.spawn(serving);
            }
            Err(error) => {
                tracing::debug!(%error, "emulator: accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let winding_down = async { while connections.join_next().await.is_some() {} };
    // Connections still open after the grace period are aborted when `connections` drops.
    let _ = tokio::time::timeout(GRACE, winding_down).await;
}

/// How a connection ended.
enum Ending {
    /// The client closed it, or the server stopped.
    Closed,
    /// An injected reset (`Faults::reset_rate`).
    Cut,
}

/// One accepted connection, from the TLS handshake (if any) to the last answer.
async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "emulator: cannot set TCP_NODELAY");
    }
    // A second handle on the socket, to reset it after the connection let go of its own.
    let spare = match SockRef::from(&stream).try_clone() {
        Ok(spare) => spare,
        Err(error) => {
            tracing::debug!(%error, "emulator: cannot duplicate a socket");
            return;
        }
    };
    let connection = Connection {
        peer,
        secure: acceptor.is_some(),
        cut: Arc::new(Notify::new()),
    };
    let ending = match acceptor {
        None => drive(stream, shared, connection, stopped).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                biased;
                _ = stopped.wait_for(|&stop| stop) => return,
                handshake = acceptor.accept(stream) => handshake,
            };
            match handshake {
                Ok(stream) => drive(stream, shared, connection, stopped).await,
                Err(error) => {
                    tracing::debug!(%error, "emulator: TLS handshake failed");
                    return;
                }
            }
        }
    };
    if let Ending::Cut = ending {
        reset(spare);
    }
}

/// Serves HTTP/1.1 on one connection until the client closes it, the server stops (after
/// the request in flight), or an answer is to be cut.
async fn drive<S>(
    stream: S,
    shared: Arc<Shared>,
    connection: Connection,
    mut stopped: watch::Receiver<bool>,
) -> Ending
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let cut = Arc::clone(&connection.cut);
    let connection = Arc::new(connection);
    let service = service_fn(move |request| {
        let answer = http::respond(Arc::clone(&shared), Arc::clone(&connection), request);
        async move { Ok::<_, Infallible>(answer.await) }
    });
    let serving = http1::Builder::new()
        .keep_alive(true)
        // Tableau's Java client looks for `Set-Cookie` spelled exactly so.
        .title_case_headers(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(serving);
    let mut draining = false;
    loop {
        tokio::select! {
            biased;
            served = serving.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "emulator: connection ended with an error");
                }
                return Ending::Closed;
            }
            () = cut.notified() => return Ending::Cut,
            _ = stopped.wait_for(|&stop| stop), if !draining => {
                draining = true;
                serving.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Closes a socket, whose other handles are gone, with a TCP reset rather than an orderly
/// close: the client reads an error, not an end of file.
fn reset(last_handle: Socket) {
    if let Err(error) = last_handle.set_linger(Some(Duration::ZERO)) {
        tracing::debug!(%error, "emulator: cannot arm a reset");
    }
    drop(last_handle);
}
