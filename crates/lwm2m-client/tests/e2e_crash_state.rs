//! Crash safety of the demo client's state file, end to end (SPEC §4: "a
//! process killed at any instant leaves either the old or the new state,
//! never a corrupt one"; issue 6: "kills the client process (SIGKILL) at
//! random instants while a bootstrap server rewrites its configuration, 200
//! times, and checks after each restart that the state file holds the old or
//! the new configuration, never a mix or garbage").
//!
//! The real `lwm2m-client` bootstraps from a bundled Bootstrap-Server that
//! holds two configurations, A and B (two DM servers each, with different
//! Security / Server instance IDs, Short Server IDs, lifetimes, hold-off
//! times and Access Control instances). A churn thread keeps the
//! configuration changing: whenever the client registers with the first DM
//! server, it reads the registration's lifetime (which says whether the
//! client runs A or B), sets the Bootstrap-Server to the other one and
//! executes the Bootstrap-Request Trigger (/1/x/9, Core 1.1 Appendix E.2).
//! The client then bootstraps (Core 1.1 §6.1: Delete /0, /1, /2, the
//! writes, Finish), saves its state file on the committed Finish, registers
//! again, and the cycle repeats.
//!
//! The test kills the client with SIGKILL at seeded random instants, 200
//! times, restarting it with the same `--state-file` each time: a random
//! delay after the start, or a random delay after the n-th bootstrap step
//! the server saw (so kills land inside sessions), or a short random delay
//! after a Bootstrap-Finish was answered (so kills land inside the save).
//! After each kill the test loads the file with `lwm2m_core::persist::load`
//! into a fresh data model (the demo's factory Security, Server and Access
//! Control objects) and requires exactly A, exactly B, or the factory
//! configuration (no file yet, before the first committed bootstrap): the
//! whole content of objects 0, 1 and 2 is compared with what the same
//! bootstrap script produces on the engine's data model in this process.
//!
//! Where each kill lands depends on the machine; the assertion holds for
//! every instant, so nothing depends on timing to pass. The waits are
//! bounded; every child is killed and reaped, pass or fail.
//!
//! `LWM2M_CRASH_KILLS` overrides the number of kills (200 by default).
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lwm2m::persist::StateFile;
use lwm2m_core::dm::ops::bootstrap::{bootstrap_delete, bootstrap_finish, bootstrap_write};
use lwm2m_core::dm::{AttributeStore, Object, Path, Registry, oids};
use lwm2m_core::objects::{AccessControl, Security, Server};
use lwm2m_core::persist;
use lwm2m_core::rand::Rng;
use lwm2m_server::ServerEvent;
use lwm2m_server::core::{
    AclInstance, BootstrapConfig, ClientConfig, Operation, SecurityInstance, ServerConfig,
    ServerInstance,
};
use lwm2m_server::driver::{ServerHandle, spawn};

use common::{Client, DEADLINE, dm_server, localhost, temp_dir, uri};

const EP: &str = "e2e-crash-state";
const DEFAULT_KILLS: u32 = 200;
const SEED: u64 = 0x5eed_c0a5_0006;
/// Lifetimes of the first DM server's account in A and in B: the churn
/// thread tells the configurations apart by the registration's lifetime.
const LIFETIME_A: u32 = 300;
const LIFETIME_B: u32 = 450;
/// The first DM server's Server instance in A and in B (its
/// Bootstrap-Request Trigger is executed).
const DM1_SERVER_IID_A: u16 = 0;
const DM1_SERVER_IID_B: u16 = 2;
/// How long a kill waits for the server events it was planned after before
/// killing anyway (only when the churn stalls; never needed to pass).
const EVENT_WAIT: Duration = Duration::from_secs(3);

/// Read, Write, Execute, Delete, Create (Core 1.1 Appendix E.3).
const R: u16 = 1;
const W: u16 = 2;
const E: u16 = 4;
const D: u16 = 8;
const C: u16 = 16;

fn security(id: u16, uri: &str, ssid: u16, hold_off: i64) -> SecurityInstance {
    SecurityInstance {
        hold_off: Some(hold_off),
        ..SecurityInstance::nosec(id, uri, Some(ssid), false)
    }
}

fn server(
    id: u16,
    ssid: u16,
    lifetime: u32,
    pmin: u32,
    pmax: u32,
    storing: bool,
) -> ServerInstance {
    ServerInstance {
        id,
        short_server_id: ssid,
        lifetime,
        default_pmin: Some(pmin),
        default_pmax: Some(pmax),
        disable_timeout: Some(lifetime / 2),
        notification_storing: storing,
        binding: "U".to_string(),
    }
}

fn acl(id: u16, object_id: u16, instance_id: u16, acl: &[(u16, u16)], owner: u16) -> AclInstance {
    AclInstance {
        id,
        object_id,
        instance_id,
        acl: acl.to_vec(),
        owner,
    }
}

/// Everything the Bootstrap-Server replaces: Security, Server and Access
/// Control are deleted whole, so the result never depends on what the
/// client held before.
fn deletes() -> Vec<Path> {
    vec![
        Path::object(oids::SECURITY),
        Path::object(oids::SERVER),
        Path::object(oids::ACCESS_CONTROL),
    ]
}

/// Configuration A: DM servers 11 (dm1) and 12 (dm2).
fn config_a(dm1: &str, dm2: &str) -> ClientConfig {
    ClientConfig {
        delete: deletes(),
        security: vec![security(1, dm1, 11, 0), security(2, dm2, 12, 3)],
        servers: vec![
            server(DM1_SERVER_IID_A, 11, LIFETIME_A, 1, 60, true),
            server(1, 12, 600, 5, 120, false),
        ],
        acls: vec![
            acl(0, oids::DEVICE, 0, &[(11, R | W | E), (12, R)], 11),
            acl(1, oids::SERVER, DM1_SERVER_IID_A, &[(11, R | W | E)], 11),
            acl(2, oids::SERVER, 1, &[(12, R | W | E)], 12),
            acl(3, oids::FIRMWARE_UPDATE, 0, &[(11, R | W | E)], 11),
        ],
        ..ClientConfig::default()
    }
}

/// Configuration B: DM servers 21 (dm1) and 22 (dm2), every instance ID
/// different from A's, and one more Access Control instance.
fn config_b(dm1: &str, dm2: &str) -> ClientConfig {
    ClientConfig {
        delete: deletes(),
        security: vec![security(4, dm1, 21, 1), security(5, dm2, 22, 0)],
        servers: vec![
            server(DM1_SERVER_IID_B, 21, LIFETIME_B, 2, 90, false),
            server(3, 22, 900, 10, 300, true),
        ],
        acls: vec![
            acl(4, oids::DEVICE, 0, &[(0, R), (22, R | W | E)], 22),
            acl(5, oids::SERVER, DM1_SERVER_IID_B, &[(21, R | W | E)], 21),
            acl(6, oids::SERVER, 3, &[(22, R | W | E)], 22),
            acl(7, 3303, 0, &[(21, R), (22, R)], 21),
            acl(8, 32769, u16::MAX, &[(21, C)], 21),
            acl(9, oids::FIRMWARE_UPDATE, 0, &[(22, R | W | E | D)], 22),
        ],
        ..ClientConfig::default()
    }
}

fn only(config: &ClientConfig) -> BootstrapConfig {
    BootstrapConfig {
        clients: BTreeMap::from([(EP.to_string(), config.clone())]),
        default: None,
    }
}

/// The demo's factory Security, Server and Access Control objects for
/// `--bootstrap --server <bs>`: the Bootstrap-Server account only (what
/// `objects::factory_objects` builds in the binary).
fn factory(bs: &str) -> Registry {
    let mut sec = Security::default();
    sec.insert(lwm2m_core::objects::SecurityInstance::bootstrap(0, bs));
    let mut reg = Registry::new();
    reg.add_object(sec).unwrap();
    reg.add_object(Server::default()).unwrap();
    reg.add_object(AccessControl::default()).unwrap();
    reg
}

/// Objects 0, 1 and 2 as lines `/o/i/r[/ri] = value`, in path order: every
/// present, non-executable resource.
fn dump(reg: &Registry) -> Vec<String> {
    let mut out = Vec::new();
    for oid in persist::DEFAULT_OBJECTS {
        let obj: &dyn Object = reg.get(oid).unwrap();
        let mut iids = Vec::new();
        obj.instances(&mut |i| iids.push(i));
        out.push(format!("/{oid}: instances {iids:?}"));
        for iid in iids {
            for r in obj.def().resources {
                if r.operations.executable() || !obj.resource_present(iid, r.id) {
                    continue;
                }
                if r.multiple {
                    let mut riids = Vec::new();
                    obj.resource_instances(iid, r.id, &mut |ri| riids.push(ri));
                    for ri in riids {
                        let v = obj.read(iid, r.id, Some(ri));
                        out.push(format!("/{oid}/{iid}/{}/{ri} = {v:?}", r.id));
                    }
                } else {
                    let v = obj.read(iid, r.id, None);
                    out.push(format!("/{oid}/{iid}/{} = {v:?}", r.id));
                }
            }
        }
    }
    out
}

/// Runs the Bootstrap-Server's script for `config` on `reg` with the
/// engine's data model operations, in one bootstrap session; `deletes`
/// false leaves out its Bootstrap-Deletes.
fn bootstrap(reg: &mut Registry, config: &ClientConfig, deletes: bool) {
    let mut attrs = AttributeStore::new(16);
    reg.begin_session().unwrap();
    for op in config.script(None) {
        match op {
            Operation::BootstrapDelete { path } if deletes => {
                bootstrap_delete(reg, &mut attrs, &path).unwrap()
            }
            Operation::BootstrapDelete { .. } => {}
            Operation::BootstrapWrite { path, entries, .. } => {
                bootstrap_write(reg, &path, entries.into_iter().map(Ok)).unwrap()
            }
            Operation::BootstrapFinish => bootstrap_finish(reg).unwrap(),
            other => panic!("unexpected step {other:?}"),
        }
    }
}

/// What the client holds after a committed bootstrap with `config`, from
/// the factory configuration (or from any other: everything is deleted
/// first).
fn expected(config: &ClientConfig, bs: &str) -> Vec<String> {
    let mut reg = factory(bs);
    bootstrap(&mut reg, config, true);
    dump(&reg)
}

/// Factory, A and B as [`dump`]s.
fn known(a: &ClientConfig, b: &ClientConfig, bs: &str) -> [(Held, Vec<String>); 3] {
    [
        (Held::Factory, dump(&factory(bs))),
        (Held::A, expected(a, bs)),
        (Held::B, expected(b, bs)),
    ]
}

/// What a state file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Held {
    /// No file yet, or the factory configuration.
    Factory,
    A,
    B,
}

/// Loads state-file bytes into a fresh factory data model and names what
/// they hold; anything else (a load error, a mix, garbage) is an error
/// saying what was found.
fn classify(bytes: &[u8], bs: &str, known: &[(Held, Vec<String>)]) -> Result<Held, String> {
    let mut reg = factory(bs);
    let mut attrs = AttributeStore::new(64);
    persist::load(bytes, &mut reg, &mut attrs)
        .map_err(|e| format!("does not load: {e} ({} bytes)", bytes.len()))?;
    if attrs.iter().next().is_some() {
        return Err("holds attributes nobody wrote".into());
    }
    let got = dump(&reg);
    known
        .iter()
        .find(|(_, d)| *d == got)
        .map(|(h, _)| *h)
        .ok_or_else(|| {
            format!(
                "holds neither A, nor B, nor the factory configuration:\n{}",
                got.join("\n")
            )
        })
}

/// [`classify`] on the state file; `None` when there is none yet.
fn check(
    file: &StateFile,
    bs: &str,
    known: &[(Held, Vec<String>)],
) -> Result<Option<Held>, String> {
    match file.load() {
        Ok(Some(bytes)) => classify(&bytes, bs, known).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("cannot be read: {e}")),
    }
}

/// The thread that keeps the configuration changing; stopped and joined on
/// drop.
struct Churn {
    stop: Arc<AtomicBool>,
    /// Bootstrap-Request Triggers sent.
    triggers: Arc<AtomicU64>,
    /// Registrations with a lifetime neither A nor B gives.
    strange: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Churn {
    fn start(dm1: ServerHandle, bs: ServerHandle, a: ClientConfig, b: ClientConfig) -> Churn {
        let stop = Arc::new(AtomicBool::new(false));
        let triggers = Arc::new(AtomicU64::new(0));
        let strange = Arc::new(AtomicU64::new(0));
        let events = dm1.subscribe().unwrap();
        let thread = {
            let (stop, triggers, strange) = (stop.clone(), triggers.clone(), strange.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let registered = match events.recv_timeout(Duration::from_millis(50)) {
                        Ok(ServerEvent::Registered { endpoint, .. }) => endpoint == EP,
                        Ok(_) | Err(RecvTimeoutError::Timeout) => false,
                        Err(RecvTimeoutError::Disconnected) => return,
                    };
                    if !registered {
                        continue;
                    }
                    // The registration may already be gone or replaced:
                    // then a later event comes.
                    let Ok(Some(reg)) = dm1.registration(EP) else {
                        continue;
                    };
                    let (next, iid) = match reg.lifetime {
                        LIFETIME_A => (&b, DM1_SERVER_IID_A),
                        LIFETIME_B => (&a, DM1_SERVER_IID_B),
                        _ => {
                            strange.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    };
                    if bs.set_bootstrap_config(only(next)).is_err() {
                        return;
                    }
                    // Not waited for: a killed client never answers.
                    let path = Path::resource(oids::SERVER, iid, 9);
                    let sent = dm1.call(move |l| {
                        l.server
                            .request(l.now, EP, Operation::Execute { path, args: None })
                            .is_ok()
                    });
                    if sent == Ok(true) {
                        triggers.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        Churn {
            stop,
            triggers,
            strange,
            thread: Some(thread),
        }
    }
}

impl Drop for Churn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// When a kill lands, as planned.
#[derive(Clone, Copy, Debug)]
enum Plan {
    /// `us` microseconds after the start.
    Delay { us: u64 },
    /// `us` microseconds after the `n`-th event of the Bootstrap-Server
    /// (started, a step answered, finished) since the start.
    AfterEvents { n: u32, us: u64 },
    /// `us` microseconds after the `n`-th committed Bootstrap-Finish since
    /// the start: the client is saving then.
    AfterFinish { n: u32, us: u64 },
}

fn plan(rng: &mut Rng) -> Plan {
    match rng.below(10) {
        0..=2 => Plan::Delay {
            us: u64::from(rng.below(150_000)),
        },
        3..=6 => Plan::AfterEvents {
            n: 1 + rng.below(40),
            us: u64::from(rng.below(2_000)),
        },
        _ => Plan::AfterFinish {
            n: 1 + rng.below(2),
            us: u64::from(rng.below(1_500)),
        },
    }
}

/// Where the Bootstrap-Server stood, as far as the test saw, when a kill
/// landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// No bootstrap event yet in this life (starting, restoring,
    /// registering, or executing the trigger).
    NoSession,
    /// A session was open (started, steps answered, no Finish yet).
    InSession,
    /// The last session had just finished (the client saves, then
    /// registers).
    AfterFinish,
}

/// Waits until `pick` has matched `n` events (or [`EVENT_WAIT`] passed);
/// tracks the phase. Whether it waited in vain.
fn wait_events(
    events: &Receiver<ServerEvent>,
    n: u32,
    phase: &mut Phase,
    finishes: &mut u64,
    pick: impl Fn(&ServerEvent) -> bool,
) -> bool {
    let end = Instant::now() + EVENT_WAIT;
    let mut seen = 0;
    while seen < n {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(e) = events.recv_timeout(left) else {
            return true;
        };
        track(&e, phase, finishes);
        if pick(&e) {
            seen += 1;
        }
    }
    false
}

fn track(e: &ServerEvent, phase: &mut Phase, finishes: &mut u64) {
    match e {
        ServerEvent::BootstrapStarted { .. } | ServerEvent::BootstrapStep { .. } => {
            *phase = Phase::InSession
        }
        ServerEvent::BootstrapFinished { result, .. } => {
            if result.is_ok() {
                *finishes += 1;
                *phase = Phase::AfterFinish;
            } else {
                *phase = Phase::NoSession;
            }
        }
        _ => {}
    }
}

fn is_bootstrap_event(e: &ServerEvent) -> bool {
    matches!(
        e,
        ServerEvent::BootstrapStarted { .. }
            | ServerEvent::BootstrapStep { .. }
            | ServerEvent::BootstrapFinished { .. }
    )
}

fn is_finish(e: &ServerEvent) -> bool {
    matches!(e, ServerEvent::BootstrapFinished { result: Ok(()), .. })
}

fn spin(us: u64) {
    let end = Instant::now() + Duration::from_micros(us);
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[test]
fn sigkill_at_random_instants_leaves_the_old_or_the_new_configuration() {
    let kills: u32 = std::env::var("LWM2M_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_KILLS);
    let started = Instant::now();
    let dir = temp_dir("crash-state");
    let path = dir.join("client.state");
    let file = StateFile::new(&path);
    let dm1 = dm_server();
    let dm2 = dm_server();
    let (dm1_uri, dm2_uri) = (uri(&dm1), uri(&dm2));
    let a = config_a(&dm1_uri, &dm2_uri);
    let b = config_b(&dm1_uri, &dm2_uri);
    let bs = spawn(localhost(), ServerConfig::bootstrap(only(&a)))
        .unwrap()
        .with_timeout(DEADLINE);
    let bs_uri = uri(&bs);
    let bs_events = bs.subscribe().unwrap();

    let known = known(&a, &b, &bs_uri);
    let churn = Churn::start(dm1.clone(), bs.clone(), a, b);

    let args = [
        "--endpoint",
        EP,
        "--server",
        bs_uri.as_str(),
        "--bootstrap",
        "--state-file",
        path.to_str().unwrap(),
    ];
    let mut rng = Rng::new(SEED);
    let mut held: BTreeMap<Held, u32> = BTreeMap::new();
    let mut phases: BTreeMap<Phase, u32> = BTreeMap::new();
    let mut by_plan = [0u32; 3];
    let (mut mid_save, mut changed, mut waited_in_vain, mut finishes) = (0u32, 0u32, 0u32, 0u64);
    let mut previous: Option<Held> = None;
    let mut file_seen = false;
    let mut last_tmp = None;
    for kill in 0..kills {
        // Late events of the previous life are not this one's.
        while let Ok(e) = bs_events.try_recv() {
            track(&e, &mut Phase::NoSession, &mut finishes);
        }
        // The first kill comes early, often before the first committed
        // bootstrap: no file yet.
        let p = if kill == 0 {
            Plan::Delay {
                us: u64::from(rng.below(3_000)),
            }
        } else {
            plan(&mut rng)
        };
        let mut phase = Phase::NoSession;
        let mut client = Client::start(&args);
        let in_vain = match p {
            Plan::Delay { us } => {
                by_plan[0] += 1;
                // Places the kill; nothing is waited for.
                std::thread::sleep(Duration::from_micros(us));
                false
            }
            Plan::AfterEvents { n, us } => {
                by_plan[1] += 1;
                let v = wait_events(&bs_events, n, &mut phase, &mut finishes, is_bootstrap_event);
                spin(us);
                v
            }
            Plan::AfterFinish { n, us } => {
                by_plan[2] += 1;
                let v = wait_events(&bs_events, n, &mut phase, &mut finishes, is_finish);
                spin(us);
                v
            }
        };
        client.kill();
        // Whatever the server saw before the kill (the child is reaped).
        while let Ok(e) = bs_events.try_recv() {
            track(&e, &mut phase, &mut finishes);
        }
        waited_in_vain += u32::from(in_vain);
        *phases.entry(phase).or_default() += 1;
        // A temporary file the previous kill left and no save replaced
        // since is not counted twice.
        let tmp = std::fs::metadata(file.temp_path())
            .ok()
            .map(|m| (m.ino(), m.mtime(), m.mtime_nsec()));
        if tmp.is_some() && tmp != last_tmp {
            mid_save += 1;
        }
        last_tmp = tmp;
        let now = match check(&file, &bs_uri, &known) {
            Ok(Some(h)) => {
                file_seen = true;
                h
            }
            Ok(None) if !file_seen => Held::Factory,
            Ok(None) => panic!(
                "kill {kill} ({p:?}, {phase:?}): the state file disappeared; log:\n{}",
                client.log()
            ),
            Err(e) => panic!(
                "kill {kill} ({p:?}, {phase:?}): the state file {e}\nlog:\n{}",
                client.log()
            ),
        };
        *held.entry(now).or_default() += 1;
        if previous.is_some_and(|h| h != now) {
            changed += 1;
        }
        previous = Some(now);
    }
    let triggers = churn.triggers.load(Ordering::Relaxed);
    let strange = churn.strange.load(Ordering::Relaxed);
    drop(churn);
    for s in [&bs, &dm1, &dm2] {
        s.shutdown();
    }
    let report = format!(
        "{kills} kills in {:.1} s: state file held {held:?}; phase at the kill {phases:?}; \
         plans (delay, after events, after finish) {by_plan:?}; killed mid-save (temporary \
         file left) {mid_save}; changed since the previous kill {changed}; committed \
         bootstraps seen {finishes}; triggers {triggers}; waits in vain {waited_in_vain}",
        started.elapsed().as_secs_f64()
    );
    eprintln!("{report}");
    assert_eq!(
        strange, 0,
        "registrations with neither A's nor B's lifetime"
    );
    assert!(
        held.get(&Held::A).is_some_and(|&n| n > 0) && held.get(&Held::B).is_some_and(|&n| n > 0),
        "the configuration did not change while the client ran: {report}"
    );
}

/// The check is not vacuous: it recognises A, B and the factory
/// configuration whatever came before, and refuses a mix, a changed value
/// and damaged bytes.
#[test]
fn the_check_refuses_a_mix_and_garbage() {
    let (bs, dm1, dm2) = (
        "coap://127.0.0.1:5783",
        "coap://127.0.0.1:5683",
        "coap://127.0.0.1:5684",
    );
    let (a, b) = (config_a(dm1, dm2), config_b(dm1, dm2));
    let known = known(&a, &b, bs);
    let save = |reg: &Registry| {
        let attrs = AttributeStore::new(1);
        persist::save_to_vec(
            reg,
            &attrs,
            &persist::DEFAULT_OBJECTS,
            &[],
            StateFile::DEFAULT_MAX_LEN,
        )
        .unwrap()
    };
    let mut reg = factory(bs);
    assert_eq!(classify(&save(&reg), bs, &known), Ok(Held::Factory));
    bootstrap(&mut reg, &a, true);
    let bytes_a = save(&reg);
    assert_eq!(classify(&bytes_a, bs, &known), Ok(Held::A));
    bootstrap(&mut reg, &b, true);
    assert_eq!(classify(&save(&reg), bs, &known), Ok(Held::B));
    bootstrap(&mut reg, &a, true);
    assert_eq!(save(&reg), bytes_a, "A after B is A");

    // B's Access Control instances for what A has none for, written over
    // A: a mix.
    let b_acls = ClientConfig {
        security: Vec::new(),
        servers: Vec::new(),
        acls: b
            .acls
            .iter()
            .filter(|x| {
                !a.acls
                    .iter()
                    .any(|y| (y.object_id, y.instance_id) == (x.object_id, x.instance_id))
            })
            .cloned()
            .collect(),
        ..b.clone()
    };
    assert!(!b_acls.acls.is_empty());
    bootstrap(&mut reg, &b_acls, false);
    let err = classify(&save(&reg), bs, &known).unwrap_err();
    assert!(err.contains("neither"), "{err}");
    // A with one value changed.
    let mut a2 = a.clone();
    a2.servers[1].lifetime += 1;
    let mut reg = factory(bs);
    bootstrap(&mut reg, &a2, true);
    assert!(classify(&save(&reg), bs, &known).is_err());

    // Every truncation, and a flipped bit anywhere.
    for len in 0..bytes_a.len() {
        assert!(classify(&bytes_a[..len], bs, &known).is_err(), "{len}");
    }
    for i in 0..bytes_a.len() {
        let mut bad = bytes_a.clone();
        bad[i] ^= 1 << (i % 8);
        assert!(classify(&bad, bs, &known).is_err(), "byte {i}");
    }
}
