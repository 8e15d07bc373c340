//! What the client tells its driver and its application.

use alloc::string::String;

use crate::dm::{ObjectEvent, Path, Ssid};

/// A connection to one server (or a download source), named by the core;
/// the driver maps it to a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u16);

/// A datagram written by [`super::Client::poll_transmit`]: send the first
/// `len` bytes of the buffer on `link`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// The link to send on.
    pub link: LinkId,
    /// Bytes written.
    pub len: usize,
}

/// A server URI split for the driver: `coap://host:port` or `coaps://...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUri {
    /// Whether the link is DTLS-secured (`coaps`).
    pub secure: bool,
    /// Host name or IP literal (without brackets).
    pub host: String,
    /// Port (5683 / 5684 by default).
    pub port: u16,
    /// The path part (`/fw/image.bin` for a download), `/` if none.
    pub path: String,
}

/// Why a registration or bootstrap attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// No answer after every retransmission.
    Timeout,
    /// The server answered with this error code (class.detail packed).
    Rejected(crate::coap::Code),
    /// The DTLS handshake failed.
    Handshake,
    /// The link could not be opened (the driver said so).
    Unreachable,
    /// The configuration cannot be used (bad URI, missing security).
    BadConfiguration,
}

/// Something the driver or the application must know.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Open a socket for `link` to `uri` (resolve the host, connect).
    /// Datagrams from it go to [`super::Client::handle_datagram`] with this
    /// link; a failure to open is reported with
    /// [`super::Client::link_failed`].
    Open {
        /// The new link.
        link: LinkId,
        /// Where it goes.
        uri: ServerUri,
    },
    /// Close the socket of `link`.
    Close {
        /// The link.
        link: LinkId,
    },
    /// Registered with the server `ssid` (Core 1.1 §6.2.1).
    Registered {
        /// Short Server ID.
        ssid: Ssid,
    },
    /// A Registration Update with `ssid` succeeded.
    Updated {
        /// Short Server ID.
        ssid: Ssid,
    },
    /// De-registered from `ssid` (or gave up trying).
    Deregistered {
        /// Short Server ID.
        ssid: Ssid,
    },
    /// A Register / Update attempt with `ssid` failed; the client retries
    /// as the Server object's communication settings say.
    RegistrationFailed {
        /// Short Server ID.
        ssid: Ssid,
        /// Why.
        reason: Failure,
    },
    /// The DTLS session with a server could not be opened or failed: a
    /// wrong PSK, a rejected certificate, no answer to the handshake, a
    /// security mode without a backend (Raw Public Key), unusable keys in
    /// the Security instance, or the server closing the association. The
    /// attempt that needed it fails with [`Failure::Handshake`] (or
    /// [`Failure::BadConfiguration`] when no session could be made) and is
    /// retried with back-off; the other servers are not affected. The
    /// error names what was wrong, never a key.
    SessionFailed {
        /// Short Server ID; `None` for the Bootstrap-Server or a firmware
        /// download source (whose failure then shows in the download's
        /// progress).
        ssid: Option<Ssid>,
        /// What went wrong.
        error: crate::session::SessionError,
    },
    /// A bootstrap session began (client- or server-initiated).
    BootstrapStarted,
    /// Bootstrap-Finish committed a valid configuration.
    BootstrapFinished,
    /// A bootstrap session was rolled back or the request failed.
    BootstrapFailed {
        /// Why.
        reason: Failure,
    },
    /// Security, Server, Access Control or attributes changed: save the
    /// state now (see `persist`).
    Persist,
    /// A Send (Core 1.1 §6.4.6) completed.
    SendDone {
        /// The id [`super::Client::send`] returned.
        id: u32,
        /// Whether the server acknowledged it with 2.04.
        ok: bool,
    },
    /// An object asks something of the application (reboot, factory
    /// reset, a trigger the engine acted on), after the request that caused
    /// it committed.
    Object(ObjectEvent),
    /// A value the application may want to know changed through a server
    /// write (the path that was written).
    Written(Path),
}
