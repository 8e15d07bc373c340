//! State-machine tests of the client in virtual time.
