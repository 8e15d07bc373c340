//! Deterministic simulation of LwM2M clients and servers in virtual time.
//!
//! - [`net`]: a seeded lossy network (loss, burst loss, delay, reordering,
//!   duplication) between addressed nodes;
//! - [`world`]: sans-IO nodes driven over that network by a virtual clock;
//! - [`client_node`]: an LwM2M [`lwm2m_core::client::Client`] as a node;
//! - [`scripted_server`], [`bootstrap_server`]: scripted DM and Bootstrap
//!   servers that record what clients send and issue requests through a
//!   real CoAP endpoint ([`exchanges`]), with typed outcomes ([`response`])
//!   for typed requests ([`request`]);
//! - [`server_node`]: the bundled server (`lwm2m-server`'s sans-IO core)
//!   as a node;
//! - [`objects`]: small test objects that log what the engine did to them;
//! - [`firmware`]: a firmware application storing packages in a simulated
//!   flash;
//! - [`setup`]: factory configurations in a few lines.
//!
//! Everything is reproducible from a seed: a failing test prints its seed and
//! replays exactly.

pub mod bootstrap_server;
pub mod client_node;
pub mod exchanges;
pub mod firmware;
pub mod net;
pub mod objects;
pub mod request;
pub mod response;
pub mod scripted_server;
pub mod server_node;
pub mod setup;
pub mod world;

pub use bootstrap_server::{BsSession, ScriptedBootstrapServer};
pub use client_node::ClientNode;
pub use exchanges::{Exchanges, OpId};
pub use firmware::FlashApp;
pub use net::{Addr, Burst, Datagram, LinkProfile, NetStats, Network};
pub use request::{Req, encode};
pub use response::{Notification, OpError, Recorded, Response, Types, decode};
pub use scripted_server::{RegScript, Registration, ScriptedServer, Sent};
pub use server_node::{FileGet, ServerNode};
pub use setup::Account;
pub use world::{Node, Stall, World};
