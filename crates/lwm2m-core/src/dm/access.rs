//! Access control: which server may do what (OMA-TS-LightweightM2M_Core 1.1
//! §7.3 "Access Control"; the Access Control object, Appendix E.3; the
//! Security object, Appendix E.1).
//!
//! The rules, in the order they are applied:
//! 1. The Bootstrap-Server is not subject to access control.
//! 2. The Security object (0) is not accessible to any DM server ("MUST NOT
//!    be accessible by any other LwM2M Server", E.1): 4.01.
//! 3. Discover is always allowed (the ACL has no bit for it).
//! 4. Without an Access Control object, or with at most one DM server (one
//!    Server object instance), that server has every right.
//! 5. On the Access Control object itself any server may Read, Observe and
//!    Write-Attributes; only the instance's Access Control Owner may Write
//!    (or Execute); Create and Delete are the Bootstrap-Server's (E.3:
//!    "only such an LwM2M Server can manage the Resources of this Object
//!    Instance").
//! 6. Otherwise the Access Control instance whose Object ID / Object Instance
//!    ID resources name the target decides (for Create, the instance naming
//!    Object Instance ID 65535 (MAX_ID) grants object-level creation): the
//!    ACL resource instance keyed by the server's Short Server ID, else the
//!    default ACL resource instance 0, else full rights except Create for
//!    the instance's Access Control Owner, else nothing. No Access Control
//!    instance for the target: nothing (4.01).
//!
//! When a DM server creates an instance, the client creates the matching
//! Access Control instance owned by that server, with its rights (all but
//! Create) in its own ACL entry; deleting an instance deletes the Access
//! Control instances that name it.
//!
//! Everything is read through the [`Object`] trait, so any implementation of
//! object 2 works, not only [`crate::objects::AccessControl`].

use alloc::vec::Vec;

use super::object::Object;
use super::oids::{ACCESS_CONTROL, SECURITY, SERVER};
use super::path::{Iid, MAX_ID, Oid, Rid, Riid};
use super::registry::Registry;
use super::txn::Transaction;
use super::value::Value;
use crate::error::DmError;

/// A Short Server ID (1..=65534 for DM servers).
pub type Ssid = u16;

/// Who sends a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// The LwM2M Bootstrap-Server.
    Bootstrap,
    /// A DM server, by Short Server ID.
    Server(Ssid),
}

/// What a request does, as far as access control is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read or Observe.
    Read,
    /// Write (replace or partial update, composite).
    Write,
    /// Execute.
    Execute,
    /// Create an instance.
    Create,
    /// Delete an instance.
    Delete,
    /// Discover.
    Discover,
    /// Write-Attributes (needs the Read right).
    WriteAttributes,
}

/// ACL bits (E.3, ACL resource: 1st LSB Read/Observe/Write-Attributes, then
/// Write, Execute, Delete, Create).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct AccessMask(pub u16);

impl AccessMask {
    /// No right.
    pub const NONE: AccessMask = AccessMask(0);
    /// Read, Observe, Write-Attributes.
    pub const READ: AccessMask = AccessMask(1);
    /// Write.
    pub const WRITE: AccessMask = AccessMask(2);
    /// Execute.
    pub const EXECUTE: AccessMask = AccessMask(4);
    /// Delete.
    pub const DELETE: AccessMask = AccessMask(8);
    /// Create.
    pub const CREATE: AccessMask = AccessMask(16);
    /// Every right on an instance (Create is meaningful only on MAX_ID).
    pub const INSTANCE_FULL: AccessMask = AccessMask(1 | 2 | 4 | 8);

    /// Whether every bit of `other` is set here.
    pub const fn contains(self, other: AccessMask) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Action {
    /// The ACL bit the action needs.
    pub const fn required(self) -> AccessMask {
        match self {
            Action::Read | Action::WriteAttributes => AccessMask::READ,
            Action::Write => AccessMask::WRITE,
            Action::Execute => AccessMask::EXECUTE,
            Action::Delete => AccessMask::DELETE,
            Action::Create => AccessMask::CREATE,
            Action::Discover => AccessMask::NONE,
        }
    }
}

/// Access Control object resources (E.3).
mod rid {
    use crate::dm::path::Rid;
    pub const OBJECT_ID: Rid = 0;
    pub const INSTANCE_ID: Rid = 1;
    pub const ACL: Rid = 2;
    pub const OWNER: Rid = 3;
}

fn read_u16(obj: &dyn Object, iid: Iid, rid: Rid, riid: Option<Riid>) -> Option<u16> {
    let v = obj.read(iid, rid, riid).ok()?.as_i64()?;
    u16::try_from(v).ok()
}

/// The number of DM servers: instances of the Server object (1).
pub fn server_count(reg: &Registry) -> usize {
    let mut n = 0;
    if let Some(server) = reg.get(SERVER) {
        server.instances(&mut |_| n += 1);
    }
    n
}

/// The Access Control instance naming object instance `/oid/iid` (`iid`
/// 65535 for object-level creation rights).
pub fn find_acl(ac: &dyn Object, oid: Oid, iid: u16) -> Option<Iid> {
    let mut found = None;
    ac.instances(&mut |aiid| {
        if found.is_none()
            && read_u16(ac, aiid, rid::OBJECT_ID, None) == Some(oid)
            && read_u16(ac, aiid, rid::INSTANCE_ID, None) == Some(iid)
        {
            found = Some(aiid);
        }
    });
    found
}

/// The rights of server `ssid` on `/oid/iid` (`iid` 65535: object level)
/// from the Access Control object, by rule 6 of the module documentation.
pub fn mask(reg: &Registry, ssid: Ssid, oid: Oid, iid: u16) -> AccessMask {
    let Some(ac) = reg.get(ACCESS_CONTROL) else {
        return AccessMask::NONE;
    };
    let Some(aiid) = find_acl(ac, oid, iid) else {
        return AccessMask::NONE;
    };
    let mut own = None;
    let mut default = None;
    ac.resource_instances(aiid, rid::ACL, &mut |riid| {
        if riid == ssid {
            own = read_u16(ac, aiid, rid::ACL, Some(riid));
        } else if riid == 0 {
            default = read_u16(ac, aiid, rid::ACL, Some(riid));
        }
    });
    match own.or(default) {
        Some(m) => AccessMask(m),
        None if read_u16(ac, aiid, rid::OWNER, None) == Some(ssid) => AccessMask::INSTANCE_FULL,
        None => AccessMask::NONE,
    }
}

/// Rule 2: a DM server never reaches the Security object.
pub fn check_object(origin: Origin, oid: Oid) -> Result<(), DmError> {
    match origin {
        Origin::Server(_) if oid == SECURITY => Err(DmError::Unauthorized),
        _ => Ok(()),
    }
}

/// Whether `origin` may do `action` on `/oid/iid` (for [`Action::Create`]
/// `iid` is ignored: the right is object-level). 4.01 when not.
pub fn check(
    reg: &Registry,
    origin: Origin,
    action: Action,
    oid: Oid,
    iid: Iid,
) -> Result<(), DmError> {
    let ssid = match origin {
        Origin::Bootstrap => return Ok(()),
        Origin::Server(s) => s,
    };
    check_object(origin, oid)?;
    if action == Action::Discover {
        return Ok(());
    }
    let Some(ac) = reg.get(ACCESS_CONTROL) else {
        return Ok(());
    };
    if server_count(reg) <= 1 {
        return Ok(());
    }
    let allowed = if oid == ACCESS_CONTROL {
        match action {
            Action::Read | Action::WriteAttributes | Action::Discover => true,
            Action::Create | Action::Delete => false,
            Action::Write | Action::Execute => read_u16(ac, iid, rid::OWNER, None) == Some(ssid),
        }
    } else {
        let target = if action == Action::Create {
            MAX_ID
        } else {
            iid
        };
        mask(reg, ssid, oid, target).contains(action.required())
    };
    if allowed {
        Ok(())
    } else {
        Err(DmError::Unauthorized)
    }
}

/// The lowest instance id `obj` does not use.
pub(crate) fn first_free_iid(obj: &dyn Object) -> Option<Iid> {
    let mut next: u32 = 0;
    let mut done = false;
    obj.instances(&mut |i| {
        if !done {
            if u32::from(i) == next {
                next += 1;
            } else if u32::from(i) > next {
                done = true;
            }
        }
    });
    u16::try_from(next).ok().filter(|&i| i != MAX_ID)
}

/// After a DM server created `/oid/iid`: gives it an Access Control instance
/// owned by that server (unless one exists or there is no object 2).
pub(crate) fn on_created(
    txn: &mut Transaction<'_>,
    origin: Origin,
    oid: Oid,
    iid: Iid,
) -> Result<(), DmError> {
    let Origin::Server(ssid) = origin else {
        return Ok(());
    };
    if oid == SECURITY || oid == ACCESS_CONTROL || !txn.registry().contains(ACCESS_CONTROL) {
        return Ok(());
    }
    let ac = txn.object(ACCESS_CONTROL)?;
    if find_acl(ac, oid, iid).is_some() {
        return Ok(());
    }
    let aiid = first_free_iid(ac).ok_or(DmError::Internal)?;
    let ac = txn.object_mut(ACCESS_CONTROL)?;
    ac.create(aiid)?;
    ac.write(aiid, rid::OBJECT_ID, None, Value::Integer(oid.into()))?;
    ac.write(aiid, rid::INSTANCE_ID, None, Value::Integer(iid.into()))?;
    ac.write(
        aiid,
        rid::ACL,
        Some(ssid),
        Value::Integer(AccessMask::INSTANCE_FULL.0.into()),
    )?;
    ac.write(aiid, rid::OWNER, None, Value::Integer(ssid.into()))
}

/// After `/oid/iid` was deleted: deletes the Access Control instances that
/// name it.
pub(crate) fn on_deleted(txn: &mut Transaction<'_>, oid: Oid, iid: Iid) -> Result<(), DmError> {
    if oid == ACCESS_CONTROL || !txn.registry().contains(ACCESS_CONTROL) {
        return Ok(());
    }
    let ac = txn.object(ACCESS_CONTROL)?;
    let mut doomed = Vec::new();
    ac.instances(&mut |aiid| {
        if read_u16(ac, aiid, rid::OBJECT_ID, None) == Some(oid)
            && read_u16(ac, aiid, rid::INSTANCE_ID, None) == Some(iid)
        {
            doomed.push(aiid);
        }
    });
    if doomed.is_empty() {
        return Ok(());
    }
    let ac = txn.object_mut(ACCESS_CONTROL)?;
    doomed.into_iter().try_for_each(|aiid| ac.delete(aiid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::Writer;
    use crate::dm::ops::create::create;
    use crate::dm::ops::delete::delete;
    use crate::dm::ops::discover::discover;
    use crate::dm::ops::execute::execute;
    use crate::dm::ops::read::read;
    use crate::dm::ops::write::{WriteMode, write};
    use crate::dm::testutil::*;
    use crate::dm::{Handle, Path};
    use crate::objects::{AccessControl, AclInstance};

    const A: Origin = Origin::Server(101);
    const B: Origin = Origin::Server(102);

    /// Two servers (101, 102). /1000/0: 101 has R|W|E|D, default ACL gives
    /// Read; /1000/1: owned by 102, empty ACL; object 1000: 101 may create;
    /// /1001/0: no Access Control instance.
    fn two_servers() -> (Dm, Handle<AccessControl>) {
        let mut d = dm();
        d.reg.remove_object(1);
        d.reg
            .add_object(Servers::default().with(0, 101).with(1, 102))
            .unwrap();
        let mut ac = AccessControl::default();
        ac.insert(
            AclInstance::new(0, 1000, 0, 101)
                .with(101, 0b1111)
                .with(0, 0b0001),
        );
        ac.insert(AclInstance::new(1, 1000, 1, 102));
        ac.insert(AclInstance::new(2, 1000, MAX_ID, MAX_ID).with(101, 0b10000));
        let h = d.reg.add_object(ac).unwrap();
        (d, h)
    }

    fn rd(d: &Dm, o: Origin, path: &str) -> Result<Vec<alloc::string::String>, DmError> {
        let mut rec = Recorder::default();
        let mut buf = [0u8; 4];
        let mut w = Writer::new(&mut buf);
        read(&d.reg, o, &p(path), &mut rec, &mut w).map(|()| rec.paths())
    }
    /// A partial update of the instance, setting the resource at `path`.
    fn wr(d: &mut Dm, o: Origin, path: &str) -> Result<(), DmError> {
        let target = p(path).truncated(2);
        let items = [(path, Value::Integer(5))];
        write(&mut d.reg, o, &target, WriteMode::Update, payload(&items))
    }
    fn ex(d: &mut Dm, o: Origin, path: &str) -> Result<(), DmError> {
        execute(&mut d.reg, o, &p(path), b"", 10)
    }
    fn del(d: &mut Dm, o: Origin, path: &str) -> Result<(), DmError> {
        delete(&mut d.reg, &mut d.attrs, o, &p(path))
    }
    fn disc(d: &Dm, o: Origin, path: &str) -> Result<(), DmError> {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        discover(&d.reg, &d.attrs, o, &p(path), None, &mut w)
    }
    const DENIED: Result<(), DmError> = Err(DmError::Unauthorized);

    #[test]
    fn own_acl_entry_then_default_acl() {
        let (mut d, _) = two_servers();
        assert!(rd(&d, A, "/1000/0/0").is_ok());
        assert!(rd(&d, B, "/1000/0/0").is_ok()); // default ACL: Read
        assert_eq!(wr(&mut d, A, "/1000/0/1"), Ok(()));
        assert_eq!(wr(&mut d, B, "/1000/0/1"), DENIED);
        assert_eq!(ex(&mut d, A, "/1000/0/4"), Ok(()));
        assert_eq!(ex(&mut d, B, "/1000/0/4"), DENIED);
        assert_eq!(del(&mut d, B, "/1000/0"), DENIED);
        assert_eq!(disc(&d, B, "/1000/0"), Ok(())); // Discover is always allowed
        assert_eq!(mask(&d.reg, 102, 1000, 0), AccessMask::READ);
        assert_eq!(mask(&d.reg, 101, 1000, 0), AccessMask::INSTANCE_FULL);
    }

    #[test]
    fn owner_with_empty_acl_has_every_right_but_create() {
        let (mut d, _) = two_servers();
        assert!(rd(&d, B, "/1000/1").is_ok());
        assert_eq!(rd(&d, A, "/1000/1"), Err(DmError::Unauthorized));
        assert_eq!(wr(&mut d, B, "/1000/1/1"), Ok(()));
        assert_eq!(wr(&mut d, A, "/1000/1/1"), DENIED);
        assert_eq!(ex(&mut d, B, "/1000/1/4"), Ok(()));
        assert_eq!(mask(&d.reg, 102, 1000, 1), AccessMask::INSTANCE_FULL);
        assert_eq!(del(&mut d, A, "/1000/1"), DENIED);
        assert_eq!(del(&mut d, B, "/1000/1"), Ok(()));
        // its Access Control instance went with it
        assert_eq!(find_acl(d.reg.get(ACCESS_CONTROL).unwrap(), 1000, 1), None);
    }

    #[test]
    fn no_acl_instance_means_no_access_and_reads_skip_hidden_instances() {
        let (mut d, _) = two_servers();
        assert_eq!(rd(&d, A, "/1001/0"), Err(DmError::Unauthorized));
        assert_eq!(wr(&mut d, B, "/1001/0/1"), DENIED);
        assert_eq!(disc(&d, A, "/1001/0"), Ok(()));
        // Reading an object shows only the instances the server may read.
        let paths = rd(&d, A, "/1000").unwrap();
        assert!(paths.iter().all(|p| p.starts_with("/1000/0/")), "{paths:?}");
        assert_eq!(
            rd(&d, A, "/1001").unwrap(),
            Vec::<alloc::string::String>::new()
        );
    }

    #[test]
    fn create_right_and_the_new_instance_owned_by_its_creator() {
        let (mut d, ac) = two_servers();
        let item = [("/1000/0/0", Value::str("new"))];
        assert_eq!(
            create(&mut d.reg, B, 1000, None, payload(&item)),
            Err(DmError::Unauthorized)
        );
        assert_eq!(
            create(&mut d.reg, A, 1001, None, payload(&item)),
            Err(DmError::Unauthorized)
        );
        let iid = create(&mut d.reg, A, 1000, None, payload(&item)).unwrap();
        assert_eq!(iid, 2);
        let acl = d.reg.object(ac).unwrap().entries().last().unwrap().clone();
        assert_eq!(
            (
                acl.target_oid,
                acl.target_iid,
                acl.owner,
                acl.acl.as_slice()
            ),
            (1000, 2, 101, &[(101, 0b1111)][..])
        );
        assert!(rd(&d, A, "/1000/2").is_ok());
        assert_eq!(rd(&d, B, "/1000/2"), Err(DmError::Unauthorized));
        // a failed create leaves no Access Control instance either
        let before = d.reg.object(ac).unwrap().entries().len();
        let bad = [
            ("/1000/0/0", Value::str("n")),
            ("/1000/0/1", Value::Integer(13)),
        ];
        assert!(create(&mut d.reg, A, 1000, None, payload(&bad)).is_err());
        assert_eq!(d.reg.object(ac).unwrap().entries().len(), before);
    }

    #[test]
    fn the_access_control_object_itself() {
        let (mut d, ac) = two_servers();
        assert!(rd(&d, B, "/2/0").is_ok()); // anyone reads
        assert_eq!(wr(&mut d, B, "/2/0/3"), DENIED); // owner is 101
        let items = [("/2/0/2/102", Value::Integer(0b0011))];
        write(
            &mut d.reg,
            A,
            &p("/2/0/2"),
            WriteMode::Update,
            payload(&items),
        )
        .unwrap();
        assert_eq!(wr(&mut d, B, "/1000/0/1"), Ok(())); // the owner granted Write
        assert_eq!(del(&mut d, A, "/2/0"), DENIED);
        assert_eq!(
            create(&mut d.reg, A, 2, None, payload(&[])),
            Err(DmError::Unauthorized)
        );
        assert_eq!(d.reg.object(ac).unwrap().entries().len(), 3);
    }

    #[test]
    fn single_server_or_no_access_control_object_allows_everything() {
        let (mut d, _) = two_servers();
        d.reg.remove_object(1);
        d.reg.add_object(Servers::default().with(0, 101)).unwrap();
        assert_eq!(server_count(&d.reg), 1);
        assert!(rd(&d, A, "/1001/0").is_ok());
        assert_eq!(wr(&mut d, A, "/1000/1/1"), Ok(()));
        let (mut d, _) = two_servers();
        d.reg.remove_object(ACCESS_CONTROL);
        assert_eq!(wr(&mut d, B, "/1001/0/1"), Ok(()));
        assert_eq!(del(&mut d, B, "/1000/0"), Ok(()));
    }

    #[test]
    fn bootstrap_server_bypasses_access_control() {
        let (d, _) = two_servers();
        for (action, oid, iid) in [
            (Action::Read, 1001, 0),
            (Action::Write, 0, 1),
            (Action::Delete, 2, 0),
            (Action::Create, 2, 0),
            (Action::Execute, 1000, 1),
        ] {
            assert_eq!(check(&d.reg, Origin::Bootstrap, action, oid, iid), Ok(()));
        }
        assert!(rd(&d, Origin::Bootstrap, "/0/1").is_ok());
    }

    #[test]
    fn security_object_is_refused_to_every_dm_server() {
        // even when access control would allow everything
        let mut d = dm();
        assert_eq!(rd(&d, A, "/0"), Err(DmError::Unauthorized));
        assert_eq!(wr(&mut d, A, "/0/1/10"), DENIED);
        assert_eq!(ex(&mut d, A, "/0/1/0"), DENIED);
        assert_eq!(del(&mut d, A, "/0/1"), DENIED);
        assert_eq!(disc(&d, A, "/0"), DENIED);
        assert_eq!(
            create(&mut d.reg, A, 0, None, payload(&[])),
            Err(DmError::Unauthorized)
        );
        for action in [Action::Read, Action::Discover, Action::WriteAttributes] {
            assert_eq!(check(&d.reg, A, action, 0, 1), DENIED);
        }
        let _ = Path::ROOT;
    }

    #[test]
    fn free_instance_ids() {
        let d = dm();
        assert_eq!(first_free_iid(d.reg.get(1000).unwrap()), Some(2));
        assert_eq!(first_free_iid(d.reg.get(1).unwrap()), Some(1));
        let t = Thing::new(&THING_A).with(1, inst("x")).with(2, inst("y"));
        assert_eq!(first_free_iid(&t), Some(0));
    }
}
