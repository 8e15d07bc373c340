// Invariant for the built-in Security, Server and Device objects under
// arbitrary writes, shared by the fuzz target `objects_write` and the
// stable corpus replay test.
//
// The first byte picks the request (Bootstrap-Write to /0, /0/1, /1, /1/0;
// DM-server Write to /1/0 or /3/0; replace or update; TLV or SenML CBOR),
// the rest is the payload. Whatever the bytes: no panic; a refused request
// leaves every object exactly as it was ("invalid values refused at commit
// with nothing changed", issue 6); an accepted one leaves every object
// valid.

/// Checks one input; panics if an invariant is broken.
pub fn check(data: &[u8]) {
    use lwm2m_core::content::{DecodeLimits, Decoder, Entry, Format};
    use lwm2m_core::dm::ops::bootstrap::bootstrap_write;
    use lwm2m_core::dm::ops::write::{WriteMode, write};
    use lwm2m_core::dm::{Origin, Path, Registry};
    use lwm2m_core::objects::{
        Device, Security, SecurityInstance, Server, ServerInstance, StaticDeviceInfo,
    };

    let Some((&sel, payload)) = data.split_first() else {
        return;
    };
    let mut reg = Registry::new();
    let sec = reg
        .add_object(
            Security::default()
                .with(SecurityInstance::bootstrap(0, "coap://bs.example"))
                .with(SecurityInstance::server(1, 1, "coap://dm.example")),
        )
        .unwrap();
    let srv = reg
        .add_object(Server::default().with(ServerInstance::new(0, 1, 60)))
        .unwrap();
    let info = StaticDeviceInfo {
        current_time: Some(1_000),
        ..StaticDeviceInfo::default()
    };
    let dev = reg
        .add_object(Device::new(info).with_utc_offset("Z").with_timezone("UTC"))
        .unwrap();
    let snapshot = |reg: &Registry| {
        let d = reg.object(dev).unwrap();
        (
            reg.object(sec).unwrap().entries().to_vec(),
            reg.object(srv).unwrap().entries().to_vec(),
            (
                d.utc_offset().map(String::from),
                d.timezone().map(String::from),
                d.time_offset(),
            ),
        )
    };
    let before = snapshot(&reg);
    let (path, bootstrap) = match (sel & 0x3f) % 6 {
        0 => ("/0", true),
        1 => ("/0/1", true),
        2 => ("/1", true),
        3 => ("/1/0", false),
        4 => ("/3/0", false),
        _ => ("/1/0", true),
    };
    let format = if sel & 0x80 != 0 {
        Format::SenmlCbor
    } else {
        Format::Tlv
    };
    let mode = if sel & 0x40 != 0 {
        WriteMode::Replace
    } else {
        WriteMode::Update
    };
    let path = Path::parse(path).unwrap();
    let entries: Vec<_> = Decoder::new(format, payload, path, &reg, DecodeLimits::default())
        .unwrap()
        .map(|r| {
            r.map(|e| Entry {
                path: e.path,
                value: e.value.into_owned(),
                time: e.time,
            })
        })
        .collect();
    let result = if bootstrap {
        bootstrap_write(&mut reg, &path, entries)
    } else {
        write(&mut reg, Origin::Server(1), &path, mode, entries)
    };
    match result {
        Ok(()) => {
            assert_eq!(reg.object(sec).unwrap().first_invalid(), None);
            assert_eq!(reg.object(srv).unwrap().first_invalid(), None);
            assert_eq!(reg.object(dev).unwrap().first_invalid(), None);
        }
        Err(_) => assert!(snapshot(&reg) == before, "refused write changed state"),
    }
}
