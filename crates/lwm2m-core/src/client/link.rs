//! One connection to a server: its CoAP endpoint, its security session and
//! what it is for.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::event::{LinkId, ServerUri};
use crate::coap::{Endpoint, Token};
use crate::dm::Ssid;
use crate::session::{Session, SessionState};
use crate::time::Instant;

/// What a link serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The LwM2M Bootstrap-Server.
    Bootstrap,
    /// A DM server, by Short Server ID.
    Server(Ssid),
    /// A file server a firmware package is downloaded from.
    Download,
}

/// What a request of ours on this link is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Register (with the block number being sent, for Block1).
    Register,
    /// Registration Update.
    Update,
    /// De-register.
    Deregister,
    /// Bootstrap-Request.
    BootstrapRequest,
    /// Send, by id.
    Send(u32),
}

/// A connection.
pub struct Link {
    /// Its id.
    pub id: LinkId,
    /// What it serves.
    pub role: Role,
    /// Where it goes.
    pub uri: ServerUri,
    /// CoAP state.
    pub endpoint: Endpoint,
    /// DTLS; `None` for NoSec.
    pub session: Option<Box<dyn Session>>,
    /// Our requests in flight and what each is for.
    pub pending: Vec<(Token, Purpose)>,
    /// Request bodies being sent block by block.
    pub uploads: Vec<super::outgoing::Upload>,
    /// Last datagram in or out (queue mode counts from it).
    pub last_activity: Instant,
    /// The driver reported the socket unusable.
    pub failed: bool,
}

impl Link {
    /// Whether CoAP traffic can flow: NoSec, or an established session.
    pub fn ready(&self) -> bool {
        !self.failed
            && match &self.session {
                None => true,
                Some(s) => s.state() == SessionState::Established,
            }
    }

    /// Whether the DTLS handshake failed or the session closed.
    pub fn session_failed(&self) -> bool {
        matches!(
            self.session.as_ref().map(|s| s.state()),
            Some(SessionState::Failed(_)) | Some(SessionState::Closed)
        )
    }

    /// Takes the purpose of our request `token`.
    pub fn take_pending(&mut self, token: Token) -> Option<Purpose> {
        let i = self.pending.iter().position(|(t, _)| *t == token)?;
        Some(self.pending.swap_remove(i).1)
    }

    /// Whether a request for `purpose` is in flight.
    pub fn has_pending(&self, purpose: Purpose) -> bool {
        self.pending.iter().any(|(_, p)| *p == purpose)
    }
}

impl core::fmt::Debug for Link {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Link")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("uri", &self.uri)
            .field("secure", &self.session.is_some())
            .finish_non_exhaustive()
    }
}
