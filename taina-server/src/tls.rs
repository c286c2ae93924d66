//! HTTPS without a reverse proxy: a listener that completes each TLS handshake (rustls) off the
//! accept loop, so a slow or silent client never holds up the others, and hands finished
//! connections to axum. Handshakes are bounded ([`HandshakeLimits`]): in time each, in number at
//! once, and in number at once from one client address (an IPv6 client: its /64), so silent
//! connections from one place can hold neither the listener nor everyone else's handshakes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::server::TlsStream;

/// How long a client has to finish its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress at most; further connections wait in the kernel's backlog.
pub const MAX_HANDSHAKES: usize = 256;

/// Handshakes in progress at most from one address (IPv6: one /64); further connections from it
/// are closed at once.
pub const MAX_HANDSHAKES_PER_PEER: usize = 16;

/// The bounds on TLS handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeLimits {
    /// How long a client has to finish its handshake ([`HANDSHAKE_TIMEOUT`]); then it is dropped.
    pub timeout: Duration,
    /// Handshakes in progress at most ([`MAX_HANDSHAKES`]).
    pub total: usize,
    /// Handshakes in progress at most from one address ([`MAX_HANDSHAKES_PER_PEER`]).
    pub per_peer: usize,
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        HandshakeLimits {
            timeout: HANDSHAKE_TIMEOUT,
            total: MAX_HANDSHAKES,
            per_peer: MAX_HANDSHAKES_PER_PEER,
        }
    }
}

/// Whom a connection counts against: its IPv4 address, or its IPv6 address's /64 (one client
/// holds a whole /64).
fn peer_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

/// Handshakes in progress by peer.
type InProgress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// One handshake in progress for a peer; given back when dropped.
struct PeerSlot {
    in_progress: InProgress,
    key: IpAddr,
}

impl PeerSlot {
    /// A slot for `key`, unless it already holds `limit`.
    fn take(in_progress: &InProgress, key: IpAddr, limit: usize) -> Option<PeerSlot> {
        let mut map = in_progress.lock().ok()?;
        let held = map.entry(key).or_insert(0);
        if *held >= limit {
            return None;
        }
        *held += 1;
        Some(PeerSlot {
            in_progress: in_progress.clone(),
            key,
        })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        if let Ok(mut map) = self.in_progress.lock()
            && let Some(held) = map.get_mut(&self.key)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Loads a PEM certificate chain and private key into a rustls server configuration (HTTP/1.1).
pub fn load_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("cannot read the TLS certificate {}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no PEM certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("cannot read the TLS key {}: {e}", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS: {e}"))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| format!("the TLS certificate and key do not fit: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TCP listener whose connections come out as finished TLS sessions.
#[derive(Debug)]
pub struct TlsListener {
    local_addr: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Starts accepting on `listener` with `config`, with the default [`HandshakeLimits`].
    pub fn new(listener: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<TlsListener> {
        TlsListener::with_limits(listener, config, HandshakeLimits::default())
    }

    /// Starts accepting on `listener` with `config`, handshakes bounded by `limits`.
    pub fn with_limits(
        listener: TcpListener,
        config: Arc<ServerConfig>,
        limits: HandshakeLimits,
    ) -> std::io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx, limits));
        Ok(TlsListener {
            local_addr,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
    limits: HandshakeLimits,
) {
    let handshakes = Arc::new(tokio::sync::Semaphore::new(limits.total.max(1)));
    let in_progress = InProgress::default();
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (tcp, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = PeerSlot::take(&in_progress, peer_key(peer.ip()), limits.per_peer) else {
            tracing::debug!(%peer, "too many TLS handshakes from one address at once: closed");
            drop(tcp);
            continue;
        };
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _slot = slot;
            match tokio::time::timeout(limits.timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop ended (only when the listener is going away): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v6_client_counts_as_its_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(peer_key(a), peer_key(b));
        assert_ne!(peer_key(a), peer_key(c));
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(peer_key(mapped), v4);
    }

    #[test]
    fn peer_slots_are_given_back() {
        let in_progress = InProgress::default();
        let key: IpAddr = "192.0.2.7".parse().unwrap();
        let first = PeerSlot::take(&in_progress, key, 2).unwrap();
        let second = PeerSlot::take(&in_progress, key, 2).unwrap();
        assert!(PeerSlot::take(&in_progress, key, 2).is_none());
        drop(first);
        let third = PeerSlot::take(&in_progress, key, 2).unwrap();
        drop((second, third));
        assert!(in_progress.lock().unwrap().is_empty());
    }
}
