//! The LwM2M data model: paths, values, objects and the transactions that
//! make every request all-or-nothing.

pub mod path;
pub mod value;

pub use path::{Iid, Level, MAX_ID, Oid, Path, PathError, Rid, Riid};
pub use value::{DataType, ObjLnk, TypeMismatch, Value};
