//! The Security object through the Bootstrap operations and the real
//! payload formats: only the Bootstrap-Server reaches it, every resource
//! is written and read back in every format, invalid configurations are
//! refused at commit with nothing changed, secrets stay out of `Debug`.

use super::*;
use crate::content::{Entry, Format};
use crate::dm::ops::write::WriteMode;
use crate::dm::{Handle, Origin};
use crate::objects::testutil::*;

const BS: Origin = Origin::Bootstrap;
const SECRET: &[u8] = b"\xde\xad\xbe\xef-psk";

fn setup() -> (Registry, Handle<Security>) {
    let mut reg = Registry::new();
    let sec = Security::default()
        .with(SecurityInstance::bootstrap(0, "coaps://bs.example:5684").with_psk(b"id-bs", SECRET))
        .with(SecurityInstance::server(1, 101, "coap://dm.example"));
    let h = reg.add_object(sec).unwrap();
    (reg, h)
}

/// A DM account with every resource set, at /0/2.
fn full() -> Vec<Entry<'static>> {
    alloc::vec![
        e("/0/2/0", Value::str("coaps://[2001:db8::1]:5684")),
        e("/0/2/1", Value::Boolean(false)),
        e("/0/2/2", Value::Integer(0)),
        e("/0/2/3", Value::bytes(b"client-identity")),
        e("/0/2/4", Value::bytes(&[1, 2, 3, 4])),
        e("/0/2/5", Value::bytes(SECRET)),
        e("/0/2/6", Value::Integer(3)),
        e("/0/2/7", Value::bytes(&[9, 8, 7, 6, 5, 4])),
        e("/0/2/8", Value::bytes(&[0x55; 16])),
        e("/0/2/9", Value::str("+48600000000")),
        e("/0/2/10", Value::Integer(202)),
        e("/0/2/11", Value::Integer(10)),
        e("/0/2/12", Value::Integer(0)),
        e("/0/2/13", Value::Unsigned(1)),
        e("/0/2/14", Value::str("dm.example")),
        e("/0/2/15", Value::Integer(3)),
        e("/0/2/16/0", Value::Integer(0xC0A8)),
        e("/0/2/16/1", Value::Integer(0xC0AE)),
        e("/0/2/17", Value::Objlnk(ObjLnk { oid: 21, iid: 0 })),
    ]
}

#[test]
fn definition_matches_the_registry() {
    assert!(DEF.is_well_formed());
    assert_eq!((DEF.id, DEF.version.to_string().as_str()), (0, "1.1"));
    const { assert!(DEF.multiple && DEF.mandatory) };
    assert_eq!(DEF.resources.len(), 18);
    assert!(
        DEF.resources
            .iter()
            .all(|r| r.operations == Operations::None)
    );
    let mandatory: Vec<u16> = DEF
        .resources
        .iter()
        .filter(|r| r.mandatory)
        .map(|r| r.id)
        .collect();
    assert_eq!(mandatory, [0, 1, 2, 3, 4, 5]);
    assert!(DEF.resource(16).unwrap().multiple);
    assert_eq!(
        DEF.resource(13).unwrap().data_type,
        DataType::UnsignedInteger
    );
    assert_eq!(DEF.resource(17).unwrap().data_type, DataType::Objlnk);
}

#[test]
fn bootstrap_writes_every_resource_in_every_format() {
    for f in HIERARCHICAL {
        let (mut reg, h) = setup();
        bootstrap_write_as(&mut reg, "/0/2", f, &full()).unwrap_or_else(|e| panic!("{f:?}: {e}"));
        for rf in HIERARCHICAL {
            let got = read_as(&reg, BS, "/0/2", rf).unwrap();
            assert_eq!(got, full(), "written in {f:?}, read in {rf:?}");
        }
        let inst = reg.object(h).unwrap().get(2).unwrap();
        assert_eq!(inst.ciphersuites, [(0, 0xC0A8), (1, 0xC0AE)]);
        assert_eq!(inst.mode, SecurityMode::Psk);
    }
    // one resource at a time, in the single-value formats
    let (mut reg, _) = setup();
    bootstrap_write_as(&mut reg, "/0/2", Format::Tlv, &full()).unwrap();
    let mut changed = full();
    changed[0] = e("/0/2/0", Value::str("coap://other.example:7000"));
    changed[4] = e("/0/2/4", Value::bytes(&[7; 20]));
    changed[10] = e("/0/2/10", Value::Integer(303));
    changed[13] = e("/0/2/13", Value::Unsigned(3));
    for n in changed.iter().filter(|n| n.path.riid().is_none()) {
        let path = n.path.to_string();
        let one = core::slice::from_ref(n);
        let formats: &[Format] = if n.value.data_type() == DataType::Opaque {
            &[Format::Opaque, Format::Text, Format::Cbor]
        } else {
            &[Format::Text, Format::Cbor]
        };
        for &f in formats {
            bootstrap_write_as(&mut reg, &path, f, one)
                .unwrap_or_else(|e| panic!("{f:?} {path}: {e}"));
            assert_eq!(read_as(&reg, BS, &path, f).unwrap(), one, "{f:?}");
        }
    }
    assert_eq!(
        read_as(&reg, BS, "/0/2", Format::SenmlCbor).unwrap(),
        changed
    );
}

#[test]
fn dm_servers_never_reach_it() {
    let (mut reg, h) = setup();
    let s = Origin::Server(101);
    assert_eq!(
        read_as(&reg, s, "/0", Format::Tlv),
        Err(DmError::Unauthorized)
    );
    assert_eq!(
        read_as(&reg, s, "/0/1/0", Format::Text),
        Err(DmError::Unauthorized)
    );
    let one = [e("/0/1/0", Value::str("coap://evil.example"))];
    assert_eq!(
        write_as(
            &mut reg,
            s,
            "/0/1/0",
            WriteMode::Replace,
            Format::Text,
            &one
        ),
        Err(DmError::Unauthorized)
    );
    assert_eq!(
        reg.object(h).unwrap().get(1).unwrap().uri,
        "coap://dm.example"
    );
}

#[test]
fn invalid_configurations_are_refused_with_nothing_changed() {
    let with = |rid: u16, v: Value<'static>| {
        let mut f = full();
        for n in &mut f {
            if n.path.rid() == Some(rid) && n.path.riid().is_none() {
                n.value = v.clone();
            }
        }
        f
    };
    let without = |rid: u16| {
        let mut f = full();
        f.retain(|n| n.path.rid() != Some(rid));
        f
    };
    let cases: Vec<(&str, Vec<Entry<'static>>)> = alloc::vec![
        ("http URI", with(0, Value::str("http://dm.example"))),
        ("URI without host", with(0, Value::str("coap://"))),
        ("URI with a fragment", with(0, Value::str("coap://h/#x"))),
        ("URI port", with(0, Value::str("coap://h:99999"))),
        ("mode 5", with(2, Value::Integer(5))),
        ("mode -1", with(2, Value::Integer(-1))),
        ("SSID 0", with(10, Value::Integer(0))),
        ("SSID 65535", with(10, Value::Integer(65535))),
        ("SSID beyond 16 bits", with(10, Value::Integer(65536))),
        ("duplicate SSID", with(10, Value::Integer(101))),
        ("no SSID", without(10)),
        ("second bootstrap account", with(1, Value::Boolean(true))),
        ("PSK without key", with(5, Value::bytes(b""))),
        ("PSK without identity", with(3, Value::bytes(b""))),
        ("matching type 4", with(13, Value::Unsigned(4))),
        ("certificate usage 4", with(15, Value::Integer(4))),
        ("SMS mode 256", with(6, Value::Integer(256))),
        ("negative hold-off", with(11, Value::Integer(-1))),
        ("ciphersuite beyond 32 bits", {
            let mut f = full();
            f[16].value = Value::Integer(1 << 33);
            f
        }),
    ];
    for f in HIERARCHICAL {
        for (what, payload) in &cases {
            let (mut reg, h) = setup();
            let before = reg.object(h).unwrap().entries().to_vec();
            assert_eq!(
                bootstrap_write_as(&mut reg, "/0/2", f, payload),
                Err(DmError::BadRequest),
                "{f:?}: {what}"
            );
            assert_eq!(reg.object(h).unwrap().entries(), before, "{f:?}: {what}");
        }
    }
    // RPK needs the server's key too
    let (mut reg, h) = setup();
    let mut rpk = with(2, Value::Integer(1));
    rpk.retain(|n| n.path.rid() != Some(4));
    rpk.push(e("/0/2/4", Value::bytes(b"")));
    rpk.sort_by_key(|n| n.path);
    assert_eq!(
        bootstrap_write_as(&mut reg, "/0/2", Format::Tlv, &rpk),
        Err(DmError::BadRequest)
    );
    assert_eq!(reg.object(h).unwrap().entries().len(), 2);
    // NoSec needs no key
    let nosec = with(2, Value::Integer(3));
    bootstrap_write_as(&mut reg, "/0/2", Format::Tlv, &nosec).unwrap();
}

#[test]
fn a_session_validates_at_its_end() {
    let (mut reg, h) = setup();
    let before = reg.object(h).unwrap().entries().to_vec();
    reg.begin_session().unwrap();
    // a half-written account is fine inside the session...
    let first = [e("/0/2/0", Value::str("coap://new.example"))];
    bootstrap_write_as(&mut reg, "/0/2", Format::SenmlJson, &first).unwrap();
    // ...but not at its end: back exactly to the start
    assert_eq!(reg.end_session(true), Err(DmError::BadRequest));
    assert_eq!(reg.object(h).unwrap().entries(), before);
    reg.begin_session().unwrap();
    bootstrap_write_as(&mut reg, "/0/2", Format::SenmlJson, &first).unwrap();
    let rest = [e("/0/2/10", Value::Integer(5))];
    bootstrap_write_as(&mut reg, "/0/2", Format::SenmlJson, &rest).unwrap();
    reg.end_session(true).unwrap();
    let inst = reg.object(h).unwrap().get(2).unwrap();
    assert_eq!(
        (inst.uri.as_str(), inst.ssid),
        ("coap://new.example", Some(5))
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let (mut reg, h) = setup();
    bootstrap_write_as(&mut reg, "/0/2", Format::Tlv, &full()).unwrap();
    let sec = reg.object(h).unwrap();
    let texts = [
        alloc::format!("{sec:?}"),
        alloc::format!("{:?}", sec.get(2).unwrap()),
        alloc::format!("{:?}", endpoint(&reg, 202).unwrap()),
        alloc::format!("{:?}", bootstrap_endpoint(&reg).unwrap()),
    ];
    for t in &texts {
        assert!(!t.contains("222, 173"), "{t}");
        assert!(!t.contains("de ad") && !t.contains("dead"), "{t}");
        assert!(!t.contains("psk\""), "{t}");
        assert!(!t.contains("85, 85, 85"), "{t}"); // SMS secret keys
    }
    assert!(texts[1].contains("<8 bytes redacted>"));
    assert!(texts[1].contains("coaps://[2001:db8::1]:5684"));
}

#[test]
fn endpoints_read_through_the_object_trait() {
    let (mut reg, _) = setup();
    bootstrap_write_as(&mut reg, "/0/2", Format::Tlv, &full()).unwrap();
    let all: Vec<_> = endpoints(&reg).collect();
    assert_eq!(all.iter().map(|e| e.iid).collect::<Vec<_>>(), [0, 1, 2]);
    let bs = bootstrap_endpoint(&reg).unwrap();
    assert!(bs.bootstrap && bs.ssid.is_none());
    assert_eq!(bs.mode, SecurityMode::Psk);
    assert_eq!(&*bs.secret_key, SECRET);
    // key material is lent, not copied
    assert!(matches!(bs.secret_key, Cow::Borrowed(_)));
    assert!(matches!(bs.uri, Cow::Borrowed(_)));
    let dm = endpoint(&reg, 202).unwrap();
    assert_eq!(dm.uri, "coaps://[2001:db8::1]:5684");
    assert_eq!(uri::parse(&dm.uri).unwrap().port_or_default(), 5684);
    assert_eq!(&*dm.public_key_or_identity, b"client-identity");
    assert_eq!(&*dm.server_public_key, &[1, 2, 3, 4]);
    assert_eq!(dm.client_hold_off, Some(Duration::from_secs(10)));
    assert_eq!(dm.bootstrap_account_timeout, None); // 0: never purged
    assert_eq!(dm.sni.as_deref(), Some("dm.example"));
    assert_eq!((dm.matching_type, dm.certificate_usage), (Some(1), Some(3)));
    assert_eq!(dm.ciphersuites, [0xC0A8, 0xC0AE]);
    // the DTLS seam's parameters
    let params = dm.client_params();
    assert_eq!(params.mode, SecurityMode::Psk);
    assert_eq!(
        (params.identity, params.secret_key),
        (&b"client-identity"[..], SECRET)
    );
    assert_eq!(params.server_name, Some("dm.example")); // SNI wins over the IPv6 host
    assert_eq!(
        params.certificate_usage,
        crate::session::CertificateUsage::DomainIssuedCertificate
    );
    let bs_params = bs.client_params();
    assert_eq!(bs_params.server_name, Some("bs.example")); // from the URI host
    let nosec = endpoint(&reg, 101).unwrap();
    assert_eq!(nosec.mode, SecurityMode::NoSec);
    assert!(nosec.secret_key.is_empty() && nosec.sni.is_none());
    assert!(endpoint(&reg, 999).is_none());
    assert_eq!(endpoints(&Registry::new()).count(), 0);
}

#[test]
fn instance_lifecycle() {
    let mut sec = Security::new(2).with(SecurityInstance::server(0, 1, "coap://a"));
    sec.create(1).unwrap();
    assert_eq!(sec.create(2), Err(DmError::Internal)); // bounded
    assert!(sec.resource_present(0, 0) && !sec.resource_present(0, 14));
    assert!(!sec.resource_present(1, 10)); // a created account has no SSID yet
    assert_eq!(sec.first_invalid(), Some(Path::resource(0, 1, 0)));
    sec.write(1, rid::CIPHERSUITE, Some(4), Value::Integer(1))
        .unwrap();
    let mut riids = Vec::new();
    sec.resource_instances(1, rid::CIPHERSUITE, &mut |r| riids.push(r));
    assert_eq!(riids, [4]);
    sec.reset(1, Some(rid::CIPHERSUITE)).unwrap();
    assert!(!sec.resource_present(1, rid::CIPHERSUITE));
    sec.write(1, rid::SNI, None, Value::str("x")).unwrap();
    sec.reset(1, None).unwrap();
    assert_eq!(sec.get(1), Some(&SecurityInstance::empty(1)));
    sec.delete(1).unwrap();
    assert_eq!(sec.delete(1), Err(DmError::NotFound));
    assert_eq!(sec.first_invalid(), None);
    for _ in 0..MAX_CIPHERSUITES {
        let n = sec.get(0).unwrap().ciphersuites.len() as u16;
        sec.write(0, rid::CIPHERSUITE, Some(n), Value::Integer(1))
            .unwrap();
    }
    assert_eq!(
        sec.write(0, rid::CIPHERSUITE, Some(999), Value::Integer(1)),
        Err(DmError::Internal)
    );
    assert_eq!(mode_code(SecurityMode::CertificateEst), 4);
    let k = SecurityInstance::server(0, 1, "coaps://a").with_keys(
        SecurityMode::RawPublicKey,
        b"pub",
        b"priv",
        b"srv",
    );
    assert_eq!(k.first_invalid(), None);
}
