//! Deterministic simulation of LwM2M clients and servers in virtual time.
