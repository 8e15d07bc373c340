//! The Device object through the data-model operations and the real
//! payload formats: the TS example instance read in every format (and byte
//! for byte in TLV), the writable resources written in every format,
//! invalid values refused at commit with nothing changed, the Execute
//! resources raising their events.

use super::*;
use crate::buf::Writer;
use crate::content::Format;
use crate::content::device_fixture::{device, hex};
use crate::content::tlv::TlvEncoder;
use crate::dm::ops::execute::execute;
use crate::dm::ops::read::read;
use crate::dm::ops::write::WriteMode;
use crate::dm::{Handle, Origin, Registry};
use crate::objects::testutil::*;

const S: Origin = Origin::Server(1);

/// The values of the Device instance of OMA-TS-LightweightM2M_Core 1.1
/// §7.4.3.2 (Table 7.4.3.2-2).
fn ts_example() -> StaticDeviceInfo {
    StaticDeviceInfo {
        manufacturer: Some("Open Mobile Alliance".into()),
        model_number: Some("Lightweight M2M Client".into()),
        serial_number: Some("345000123".into()),
        firmware_version: Some("1.0".into()),
        power_sources: alloc::vec![
            PowerSource {
                kind: PowerSourceKind::InternalBattery,
                voltage_mv: Some(3800),
                current_ma: Some(125),
            },
            PowerSource {
                kind: PowerSourceKind::Usb,
                voltage_mv: Some(5000),
                current_ma: Some(900),
            },
        ],
        battery_level: Some(100),
        memory_free: Some(15),
        current_time: Some(1_367_491_215),
        ..StaticDeviceInfo::default()
    }
}

fn setup(info: StaticDeviceInfo) -> (Registry, Handle<Device<StaticDeviceInfo>>) {
    let mut reg = Registry::new();
    let h = reg
        .add_object(Device::new(info).with_utc_offset("+02:00"))
        .unwrap();
    (reg, h)
}

/// [`setup`] with a Timezone too: absent optional resources cannot be
/// written on their own (only through their instance), so the writable
/// ones are all present here.
fn setup_tz() -> (Registry, Handle<Device<StaticDeviceInfo>>) {
    let mut reg = Registry::new();
    let d = Device::new(ts_example())
        .with_utc_offset("+02:00")
        .with_timezone("Europe/Paris");
    let h = reg.add_object(d).unwrap();
    (reg, h)
}

/// Core 1.1 §7.4.3.2, the TLV of that instance (the same listing as
/// `content/tlv_tests.rs`).
const DEVICE_3_0_TLV: &str = "
    C8 00 14 4F 70 65 6E 20 4D 6F 62 69 6C 65 20 41 6C 6C 69 61 6E 63 65
    C8 01 16 4C 69 67 68 74 77 65 69 67 68 74 20 4D 32 4D 20 43 6C 69 65 6E 74
    C8 02 09 33 34 35 30 30 30 31 32 33
    C3 03 31 2E 30
    86 06 41 00 01 41 01 05
    88 07 08 42 00 0E D8 42 01 13 88
    87 08 41 00 7D 42 01 03 84
    C1 09 64
    C1 0A 0F
    83 0B 41 00 00
    C4 0D 51 82 42 8F
    C6 0E 2B 30 32 3A 30 30
    C1 10 55";

#[test]
fn definition_matches_the_registry() {
    assert!(DEF.is_well_formed());
    assert_eq!((DEF.id, DEF.version.to_string().as_str()), (3, "1.1"));
    const { assert!(!DEF.multiple && DEF.mandatory) };
    assert_eq!(DEF.resources.len(), 23);
    let ids = |f: fn(&ResourceDef) -> bool| -> Vec<u16> {
        DEF.resources
            .iter()
            .filter(|r| f(r))
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(|r| r.mandatory), [4, 11, 16]);
    assert_eq!(ids(|r| r.multiple), [6, 7, 8, 11, 22]);
    assert_eq!(ids(|r| r.operations == Operations::E), [4, 5, 12]);
    assert_eq!(ids(|r| r.operations == Operations::RW), [13, 14, 15]);
}

#[test]
fn the_ts_example_reads_the_same_in_every_format() {
    let (reg, _) = setup(ts_example());
    for f in HIERARCHICAL {
        for path in ["/3", "/3/0"] {
            assert_eq!(read_as(&reg, S, path, f).unwrap(), device(), "{f:?} {path}");
        }
    }
    for f in ALL {
        for want in device() {
            let path = want.path.to_string();
            assert_eq!(read_as(&reg, S, &path, f).unwrap(), [want], "{f:?}");
        }
    }
    // byte for byte the TS listing
    let mut buf = [0u8; 256];
    let mut w = Writer::new(&mut buf);
    let base = p("/3/0");
    read(&reg, S, &base, &mut TlvEncoder::new(base), &mut w).unwrap();
    assert_eq!(w.written(), hex(DEVICE_3_0_TLV));
}

#[test]
fn optional_resources_are_absent_when_the_application_has_none() {
    let mut reg = Registry::new();
    reg.add_object(Device::new(StaticDeviceInfo::default()))
        .unwrap();
    let got = read_as(&reg, S, "/3/0", Format::Tlv).unwrap();
    assert_eq!(
        got,
        [
            e("/3/0/11/0", Value::Integer(0)),
            e("/3/0/16", Value::str("U")),
        ]
    );
    for path in [
        "/3/0/0", "/3/0/9", "/3/0/13", "/3/0/14", "/3/0/6", "/3/0/22",
    ] {
        assert_eq!(
            read_as(&reg, S, path, Format::Tlv),
            Err(DmError::NotFound),
            "{path}"
        );
    }
    // Current Time is absent without a clock: it cannot be written either
    let one = [e("/3/0/13", Value::Time(5))];
    assert_eq!(
        write_as(
            &mut reg,
            S,
            "/3/0/13",
            WriteMode::Replace,
            Format::Text,
            &one
        ),
        Err(DmError::NotFound)
    );
    // a power source without voltage leaves its resource instance out
    let info = StaticDeviceInfo {
        power_sources: alloc::vec![
            PowerSource {
                kind: PowerSourceKind::Dc,
                voltage_mv: None,
                current_ma: Some(10),
            },
            PowerSource {
                kind: PowerSourceKind::Solar,
                voltage_mv: Some(12_000),
                current_ma: None,
            },
        ],
        device_type: Some("sensor".into()),
        hardware_version: Some("B".into()),
        software_version: Some("2.1".into()),
        battery_status: Some(BatteryStatus::Charging),
        memory_total: Some(512),
        ext_dev_info: alloc::vec![ObjLnk { oid: 3, iid: 1 }],
        supported_binding_modes: "UQ".into(),
        ..StaticDeviceInfo::default()
    };
    let mut reg = Registry::new();
    reg.add_object(Device::new(info)).unwrap();
    for f in HIERARCHICAL {
        let got = read_as(&reg, S, "/3/0", f).unwrap();
        assert_eq!(
            pairs(&got),
            pairs(&[
                e("/3/0/6/0", Value::Integer(0)),
                e("/3/0/6/1", Value::Integer(7)),
                e("/3/0/7/1", Value::Integer(12_000)),
                e("/3/0/8/0", Value::Integer(10)),
                e("/3/0/11/0", Value::Integer(0)),
                e("/3/0/16", Value::str("UQ")),
                e("/3/0/17", Value::str("sensor")),
                e("/3/0/18", Value::str("B")),
                e("/3/0/19", Value::str("2.1")),
                e("/3/0/20", Value::Integer(1)),
                e("/3/0/21", Value::Integer(512)),
                e("/3/0/22/0", Value::Objlnk(ObjLnk { oid: 3, iid: 1 })),
            ]),
            "{f:?}"
        );
    }
    assert_eq!(
        read_as(&reg, S, "/3/0/7/0", Format::Text),
        Err(DmError::NotFound)
    );
}

#[test]
fn writable_resources_write_in_every_format() {
    let values = [
        e("/3/0/13", Value::Time(1_700_000_000)),
        e("/3/0/14", Value::str("-05:30")),
        e("/3/0/15", Value::str("America/New_York")),
    ];
    for f in HIERARCHICAL {
        let (mut reg, h) = setup_tz();
        write_as(&mut reg, S, "/3/0", WriteMode::Update, f, &values).unwrap();
        for v in &values {
            let path = v.path.to_string();
            assert_eq!(
                read_as(&reg, S, &path, f).unwrap(),
                core::slice::from_ref(v),
                "{f:?}"
            );
        }
        let d = reg.object(h).unwrap();
        assert_eq!(d.time_offset(), 1_700_000_000 - 1_367_491_215);
        assert_eq!(
            (d.utc_offset(), d.timezone()),
            (Some("-05:30"), Some("America/New_York"))
        );
    }
    for f in ALL {
        let (mut reg, _) = setup_tz();
        for v in &values {
            let path = v.path.to_string();
            write_as(
                &mut reg,
                S,
                &path,
                WriteMode::Replace,
                f,
                core::slice::from_ref(v),
            )
            .unwrap();
            assert_eq!(
                read_as(&reg, S, &path, f).unwrap(),
                core::slice::from_ref(v),
                "{f:?}"
            );
        }
    }
}

#[test]
fn current_time_follows_the_application_clock_plus_the_offset() {
    let (mut reg, h) = setup(ts_example());
    let one = [e("/3/0/13", Value::Time(2_000_000_000))];
    write_as(
        &mut reg,
        S,
        "/3/0/13",
        WriteMode::Replace,
        Format::Text,
        &one,
    )
    .unwrap();
    assert_eq!(
        reg.get_mut(3).unwrap().poll_event(),
        Some(ObjectEvent::CurrentTimeWritten {
            time: 2_000_000_000,
            offset: 2_000_000_000 - 1_367_491_215
        })
    );
    // ten seconds later on the application's clock
    let d = reg.object_mut(h).unwrap();
    d.info_mut().current_time = Some(1_367_491_225);
    assert_eq!(d.current_time(), Some(2_000_000_010));
    d.set_time_offset(0);
    let got = read_as(&reg, S, "/3/0/13", Format::Cbor).unwrap();
    assert_eq!(got, [e("/3/0/13", Value::Time(1_367_491_225))]);
}

#[test]
fn invalid_values_are_refused_with_nothing_changed() {
    let cases = [
        e("/3/0/14", Value::str("+2")),
        e("/3/0/14", Value::str("+15:00")),
        e("/3/0/14", Value::str("02:00")),
        e("/3/0/14", Value::str("+02:60")),
        e("/3/0/14", Value::str("")),
        e("/3/0/15", Value::str("")),
        e("/3/0/15", Value::str("Europe/ Warsaw")),
    ];
    for f in ALL {
        for bad in &cases {
            let (mut reg, h) = setup_tz();
            let path = bad.path.to_string();
            let before = (
                reg.object(h).unwrap().utc_offset().map(String::from),
                reg.object(h).unwrap().timezone().map(String::from),
            );
            assert_eq!(
                write_as(
                    &mut reg,
                    S,
                    &path,
                    WriteMode::Replace,
                    f,
                    core::slice::from_ref(bad)
                ),
                Err(DmError::BadRequest),
                "{f:?} {bad:?}"
            );
            if f.is_hierarchical() {
                // with a valid Current Time in the same request
                let both = [e("/3/0/13", Value::Time(1)), bad.clone()];
                let mut both = both.to_vec();
                both.sort_by_key(|n| n.path);
                assert_eq!(
                    write_as(&mut reg, S, "/3/0", WriteMode::Update, f, &both),
                    Err(DmError::BadRequest)
                );
            }
            let d = reg.object(h).unwrap();
            assert_eq!(
                (
                    d.utc_offset().map(String::from),
                    d.timezone().map(String::from)
                ),
                before
            );
            assert_eq!(d.time_offset(), 0, "{f:?}");
            assert_eq!(reg.get_mut(3).unwrap().poll_event(), None, "{f:?} {bad:?}");
        }
    }
    // the application's values are not writable
    let (mut reg, _) = setup_tz();
    for (path, v) in [("/3/0/0", Value::str("x")), ("/3/0/9", Value::Integer(5))] {
        let one = [e(path, v)];
        assert_eq!(
            write_as(&mut reg, S, path, WriteMode::Replace, Format::Tlv, &one),
            Err(DmError::MethodNotAllowed)
        );
    }
}

#[test]
fn an_absent_writable_resource_is_added_through_its_instance() {
    let (mut reg, h) = setup(ts_example());
    let tz = [e("/3/0/15", Value::str("Asia/Tokyo"))];
    assert_eq!(
        write_as(
            &mut reg,
            S,
            "/3/0/15",
            WriteMode::Replace,
            Format::Text,
            &tz
        ),
        Err(DmError::NotFound)
    );
    write_as(
        &mut reg,
        S,
        "/3/0",
        WriteMode::Update,
        Format::Lwm2mCbor,
        &tz,
    )
    .unwrap();
    assert_eq!(reg.object(h).unwrap().timezone(), Some("Asia/Tokyo"));
}

#[test]
fn write_replace_of_the_instance_resets_what_servers_wrote() {
    let (mut reg, h) = setup(ts_example());
    let tz = [e("/3/0/15", Value::str("Europe/Warsaw"))];
    write_as(
        &mut reg,
        S,
        "/3/0",
        WriteMode::Replace,
        Format::SenmlJson,
        &tz,
    )
    .unwrap();
    let d = reg.object(h).unwrap();
    assert_eq!(
        (d.utc_offset(), d.timezone()),
        (None, Some("Europe/Warsaw"))
    );
}

fn exec(reg: &mut Registry, path: &str) -> Result<(), DmError> {
    execute(reg, S, &p(path), b"", 4)
}

#[test]
fn executes_raise_events() {
    let (mut reg, h) = setup(ts_example());
    let ev = |reg: &mut Registry| reg.get_mut(3).unwrap().poll_event();
    exec(&mut reg, "/3/0/4").unwrap();
    exec(&mut reg, "/3/0/5").unwrap();
    assert_eq!(ev(&mut reg), Some(ObjectEvent::Reboot));
    assert_eq!(ev(&mut reg), Some(ObjectEvent::FactoryReset));
    assert_eq!(ev(&mut reg), None);
    {
        let d = reg.object_mut(h).unwrap();
        d.set_error(error_code::LOW_BATTERY);
        d.set_error(error_code::OUT_OF_MEMORY);
        d.set_error(error_code::LOW_BATTERY);
        assert_eq!(d.error_codes(), [1, 5]);
    }
    let got = read_as(&reg, S, "/3/0/11", Format::SenmlCbor).unwrap();
    assert_eq!(
        got,
        [
            e("/3/0/11/0", Value::Integer(1)),
            e("/3/0/11/1", Value::Integer(5))
        ]
    );
    exec(&mut reg, "/3/0/12").unwrap();
    assert_eq!(ev(&mut reg), Some(ObjectEvent::ErrorCodesReset));
    assert_eq!(reg.object(h).unwrap().error_codes(), [0]);
    // a request that fails validation raises nothing and clears nothing
    {
        let d = reg.object_mut(h).unwrap();
        d.set_error(error_code::GPS_FAILURE);
        d.kept.utc_offset = Some("bogus".into());
    }
    assert_eq!(exec(&mut reg, "/3/0/12"), Err(DmError::BadRequest));
    assert_eq!(exec(&mut reg, "/3/0/4"), Err(DmError::BadRequest));
    assert_eq!(ev(&mut reg), None);
    assert_eq!(reg.object(h).unwrap().error_codes(), [3]);
    // Factory Reset the application does not offer is absent
    struct NoReset;
    impl DeviceInfo for NoReset {
        fn factory_reset_supported(&self) -> bool {
            false
        }
    }
    let mut reg = Registry::new();
    reg.add_object(Device::new(NoReset)).unwrap();
    assert_eq!(exec(&mut reg, "/3/0/5"), Err(DmError::NotFound));
    assert_eq!(exec(&mut reg, "/3/0/0"), Err(DmError::NotFound));
    assert_eq!(exec(&mut reg, "/3/0/16"), Err(DmError::MethodNotAllowed));
    assert_eq!(exec(&mut reg, "/3/1/4"), Err(DmError::NotFound));
}

#[test]
fn error_codes_follow_the_ts_rules() {
    let mut d = Device::new(StaticDeviceInfo::default());
    assert_eq!(d.error_codes(), [0]);
    d.set_error(0);
    assert_eq!(d.error_codes(), [0]);
    d.set_error(7);
    d.set_error(8);
    d.clear_error(7);
    assert_eq!(d.error_codes(), [8]);
    d.clear_error(8);
    assert_eq!(d.error_codes(), [0]);
    for c in 100..200 {
        d.set_error(c);
    }
    assert_eq!(d.error_codes().len(), MAX_ERROR_CODES);
}

#[test]
fn utc_offsets_and_timezones() {
    for ok in [
        "Z",
        "+02:00",
        "-05:30",
        "+0530",
        "+14",
        "UTC+01:00",
        "UTC-11",
        "+00:00",
    ] {
        assert!(valid_utc_offset(ok), "{ok}");
    }
    for bad in [
        "", "02:00", "+2", "+15:00", "+02:60", "+02-00", "UTC", "+02:000", "+ab:cd", "z",
    ] {
        assert!(!valid_utc_offset(bad), "{bad}");
    }
    assert!(valid_timezone("Europe/Warsaw") && valid_timezone("UTC"));
    assert!(!valid_timezone("") && !valid_timezone("a b") && !valid_timezone(&"x".repeat(65)));
    assert_eq!(PowerSourceKind::Solar.code(), 7);
    assert_eq!(BatteryStatus::Unknown.code(), 6);
}
