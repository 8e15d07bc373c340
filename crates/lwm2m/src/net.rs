//! One UDP socket per link: URI resolution, a connected non-blocking socket,
//! one datagram in or out per call.
//!
//! Each socket is `connect`ed to its server, so the kernel delivers only
//! that peer's datagrams: a request from an address that is not a
//! configured server never reaches the core (SPEC §5). The core names links,
//! not addresses ([`Event::Open`](lwm2m_core::client::Event::Open)); this
//! file is the whole mapping from one to the other.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};

use lwm2m_core::client::{LinkId, ServerUri};

/// The socket of one link.
#[derive(Debug)]
pub(crate) struct LinkSocket {
    /// The core's name for it.
    pub(crate) link: LinkId,
    /// Connected to the server, non-blocking.
    pub(crate) udp: UdpSocket,
    /// An I/O error made it unusable (reported with `link_failed`); it is no
    /// longer polled and stays until the core closes the link.
    pub(crate) failed: bool,
}

/// Resolves `uri`'s host and port; IPv4 and IPv6, the first address the
/// resolver gives wins.
///
/// A host name goes through the system resolver, which may wait on DNS:
/// the one place the driver can block, once per link opened. IP literals
/// (the usual LwM2M server URI) never wait.
pub(crate) fn resolve(uri: &ServerUri) -> io::Result<SocketAddr> {
    (uri.host.as_str(), uri.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "host has no address"))
}

/// Opens the socket of a link to `uri`: an ephemeral local port of the
/// server's address family, connected to the server, non-blocking.
pub(crate) fn open(link: LinkId, uri: &ServerUri) -> io::Result<LinkSocket> {
    let peer = resolve(uri)?;
    let local = match peer {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let udp = UdpSocket::bind(local)?;
    udp.connect(peer)?;
    udp.set_nonblocking(true)?;
    Ok(LinkSocket {
        link,
        udp,
        failed: false,
    })
}

/// What one non-blocking receive gave.
#[derive(Debug)]
pub(crate) enum Recv {
    /// A datagram of this many bytes is at the start of the buffer.
    Datagram(usize),
    /// A datagram filled the whole buffer and may have been cut: dropped.
    Oversized,
    /// Nothing to read now (or only a transient error, consumed).
    Nothing,
    /// The socket is unusable.
    Failed(io::Error),
}

/// Errors that say nothing about the link's health: no data, a signal, or
/// an ICMP port-unreachable from an earlier datagram (the server is not up
/// yet; CoAP's retransmissions deal with it like with a lost datagram).
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::ConnectionRefused
    )
}

/// Reads at most one datagram into `buf`, never waiting. `buf` should be
/// one byte larger than the largest datagram accepted, so that a datagram
/// the kernel truncated is recognised ([`Recv::Oversized`]).
pub(crate) fn recv(udp: &UdpSocket, buf: &mut [u8]) -> Recv {
    match udp.recv(buf) {
        Ok(n) if n >= buf.len() => Recv::Oversized,
        Ok(n) => Recv::Datagram(n),
        Err(e) if transient(&e) => Recv::Nothing,
        Err(e) => Recv::Failed(e),
    }
}

/// Sends one datagram, never waiting. `Ok(false)`: dropped for a transient
/// reason (a full send buffer, an earlier ICMP error), as the network might
/// have dropped it; CoAP retransmits what matters.
pub(crate) fn send(udp: &UdpSocket, datagram: &[u8]) -> io::Result<bool> {
    match udp.send(datagram) {
        Ok(_) => Ok(true),
        Err(e) if transient(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn uri(host: &str, port: u16) -> ServerUri {
        ServerUri {
            secure: false,
            host: host.into(),
            port,
            path: "/".into(),
        }
    }

    #[test]
    fn resolves_ip_literals_of_both_families() {
        assert_eq!(
            resolve(&uri("127.0.0.1", 5683)).unwrap(),
            "127.0.0.1:5683".parse().unwrap()
        );
        assert_eq!(
            resolve(&uri("::1", 5684)).unwrap(),
            "[::1]:5684".parse().unwrap()
        );
    }

    #[test]
    fn a_link_socket_hears_only_its_server() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let s = open(LinkId(7), &uri("127.0.0.1", port)).unwrap();
        let mut buf = [0u8; 16];
        assert!(matches!(recv(&s.udp, &mut buf), Recv::Nothing));

        // Out: the server sees the link's datagram from its local address.
        assert!(send(&s.udp, b"out").unwrap());
        server
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"out");
        assert_eq!(from, s.udp.local_addr().unwrap());

        // In: the stranger's datagram, sent first, is never delivered.
        stranger.send_to(b"stranger", from).unwrap();
        server.send_to(b"server", from).unwrap();
        s.udp.set_nonblocking(false).unwrap();
        s.udp
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let n = s.udp.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"server");
        s.udp.set_nonblocking(true).unwrap();
        assert!(matches!(recv(&s.udp, &mut buf), Recv::Nothing));
    }

    #[test]
    fn a_datagram_filling_the_buffer_is_oversized() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        let s = open(LinkId(0), &uri("127.0.0.1", port)).unwrap();
        send(&s.udp, b"x").unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (_, from) = server.recv_from(&mut [0u8; 4]).unwrap();
        server.send_to(&[1u8; 8], from).unwrap();
        server.send_to(&[2u8; 7], from).unwrap();
        let mut buf = [0u8; 8];
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while seen.len() < 2 {
            assert!(std::time::Instant::now() < deadline, "got {seen:?}");
            match recv(&s.udp, &mut buf) {
                Recv::Nothing => std::thread::yield_now(),
                other => seen.push(format!("{other:?}")),
            }
        }
        assert_eq!(seen, ["Oversized", "Datagram(7)"]);
    }
}
