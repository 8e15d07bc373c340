//! Deterministic simulation of LwM2M clients and servers in virtual time.
//!
//! - [`net`]: a seeded lossy network (loss, burst loss, delay, reordering,
//!   duplication) between addressed nodes;
//! - [`world`]: sans-IO nodes driven over that network by a virtual clock;
//! - [`client_node`]: an LwM2M [`lwm2m_core::client::Client`] as a node.
//!
//! Everything is reproducible from a seed: a failing test prints its seed and
//! replays exactly.

pub mod client_node;
pub mod net;
pub mod world;

pub use client_node::ClientNode;
pub use net::{Addr, Burst, Datagram, LinkProfile, NetStats, Network};
pub use world::{Node, Stall, World};
