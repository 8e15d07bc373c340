//! Every operation: success and each error outcome at each path depth, and
//! the atomicity the issue asks for (issue 3, "Tests that must exist").

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::attributes::write_attributes;
use super::bootstrap::{
    bootstrap_delete, bootstrap_discover, bootstrap_finish, bootstrap_read, bootstrap_write,
};
use super::composite::{read_composite, write_composite};
use super::create::create;
use super::delete::delete;
use super::discover::{ObjectListOptions, discover, object_list, parse_depth};
use super::execute::execute;
use super::read::read;
use super::write::{WriteMode, write, write_chunk};
use crate::buf::Writer;
use crate::content::{DecodeError, Entry};
use crate::dm::testutil::*;
use crate::dm::{
    AttributeStore, Attributes, DataType, Iid, Lwm2mVersion, Object, ObjectDef, Operations, Origin,
    Path, Registry, ResourceDef, Rid, Riid, Value,
};
use crate::error::DmError;

const S: Origin = Origin::Server(101);
const BS: Origin = Origin::Bootstrap;

fn do_read(reg: &Registry, origin: Origin, path: &str) -> Result<Recorder, DmError> {
    let mut rec = Recorder::default();
    let mut buf = [0u8; 16];
    let mut w = Writer::new(&mut buf);
    read(reg, origin, &p(path), &mut rec, &mut w).map(|()| rec)
}

fn read_err(reg: &Registry, origin: Origin, path: &str) -> DmError {
    do_read(reg, origin, path).unwrap_err()
}

fn s(v: &str) -> Value<'static> {
    Value::String(v.to_string().into())
}

/// An object that supports nothing but Read.
struct ReadOnly;
const RO_DEF: ObjectDef = ObjectDef::new(
    1003,
    &[ResourceDef::new(0, "v", Operations::R, DataType::Integer)],
);
impl Object for ReadOnly {
    fn def(&self) -> &'static ObjectDef {
        &RO_DEF
    }
    fn read(&self, _: Iid, _: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        Ok(Value::Integer(5))
    }
}

mod composite_bootstrap;
mod discover_attributes;
mod execute_create_delete;
mod read_write;
