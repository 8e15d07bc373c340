//! The zero-set-up tour (no `--server`): the bundled LwM2M server runs in
//! this process on 127.0.0.1 (a free port), the client registers to it,
//! and a script plays the server's side, printing each step for a person:
//! register, read the Device object, write the lifetime, observe the
//! temperature, trigger a registration update, de-register.
//!
//! The client runs in the main thread as it always does ([`app::run`]); the
//! script runs in a second thread through the server's blocking handle and
//! stops the client (its [`Stopper`]) for the last step. Everything takes
//! a few seconds: the temperature steps every `--sensor-period` (1 s) and
//! is observed with `pmin=1&pmax=2`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use lwm2m::core::content::Entry;
use lwm2m::core::dm::{Path, Value};
use lwm2m::core::objects::device;
use lwm2m_server::ServerEvent;
use lwm2m_server::core::{Body, Operation, ServerConfig};
use lwm2m_server::driver::{ObserveEvent, ServerHandle};

use crate::app;
use crate::cli::{Options, Verbosity};
use crate::clock::{Clock, iso8601};
use crate::log::{Log, format_name};
use crate::objects::temperature;
use crate::stop::{Stopper, stop_pipe};

/// How long any one step may wait for the client.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Notifications to show.
const NOTIFICATIONS: usize = 3;
/// The lifetime the tour writes.
const NEW_LIFETIME: i64 = 60;

/// Runs the tour; `Err` is one line saying what went wrong.
pub fn run(o: &Options, clock: Clock) -> Result<(), String> {
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let server = lwm2m_server::driver::spawn(any, ServerConfig::dm())
        .map_err(|e| format!("cannot start the bundled server on 127.0.0.1: {e}"))?
        .with_timeout(STEP_TIMEOUT);
    let events = server
        .subscribe()
        .map_err(|e| format!("bundled server: {e}"))?;
    let uri = format!("coap://{}", server.local_addr());

    // The tour's own server, and no state from an earlier run.
    let mut client = o.clone();
    client.servers = vec![uri.clone()];
    client.bootstrap = false;
    client.state_file = None;
    let log = Log::new(clock, o.verbosity == Verbosity::Verbose);
    let (stopper, pipe) = stop_pipe().map_err(|e| format!("cannot set up: {e}"))?;
    stopper
        .on_signals()
        .map_err(|e| format!("cannot catch signals: {e}"))?;

    say(&format!(
        "lwm2m-client tour: this client and the bundled LwM2M server, in one process, over UDP on 127.0.0.1\n\
         server: coap://{} (Device Management)   client: endpoint \"{}\"",
        server.local_addr(),
        o.endpoint
    ));
    let finished = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel();
    let script = Script {
        server,
        events,
        ep: o.endpoint.clone(),
        stopper,
        finished: finished.clone(),
        clock,
    };
    std::thread::Builder::new()
        .name("tour".into())
        .spawn(move || {
            let r = script.play();
            let _ = done_tx.send(r);
            // `script` drops here, stopping the client.
        })
        .map_err(|e| format!("cannot start the tour: {e}"))?;

    app::run(&client, &pipe, log, clock)?;
    if !finished.load(Ordering::SeqCst) {
        // SIGINT / SIGTERM, not the script: the client de-registered;
        // leave the script where it is.
        say("tour interrupted");
        return Ok(());
    }
    done_rx
        .recv_timeout(STEP_TIMEOUT)
        .map_err(|_| "the tour did not finish".to_string())?
}

/// Prints one line of the tour; a closed standard output (`| head`) is
/// not an error worth stopping for.
fn say(s: &str) {
    let _ = writeln!(std::io::stdout(), "{s}");
}

/// The server's side of the tour. Dropping it (at the end, or if it
/// panics) stops the client, so the process never outlives the script.
struct Script {
    server: ServerHandle,
    events: Receiver<ServerEvent>,
    ep: String,
    stopper: Stopper,
    finished: Arc<AtomicBool>,
    clock: Clock,
}

impl Drop for Script {
    fn drop(&mut self) {
        self.stop_client();
    }
}

impl Script {
    fn play(&self) -> Result<(), String> {
        let start = self.clock.elapsed();
        self.register()?;
        self.read_device()?;
        self.write_lifetime()?;
        self.observe_temperature()?;
        self.update_trigger()?;
        self.deregister()?;
        say(&format!(
            "\nDone in {:.1} s. Next, at your desk: `lwm2m-server` in one terminal, and\n\
             `lwm2m-client --server coap://127.0.0.1:5683` in another (--help for more).",
            (self.clock.elapsed() - start).as_secs_f64()
        ));
        Ok(())
    }

    fn register(&self) -> Result<(), String> {
        say("\n1. Register");
        let r = self
            .server
            .wait_for_registration(&self.ep, STEP_TIMEOUT)
            .map_err(|e| format!("the client did not register: {e}"))?;
        say(&format!(
            "   registered as rd/{}: LwM2M {}, lifetime {} s, binding {}",
            r.location, r.version, r.lifetime, r.binding
        ));
        // Instances, and objects without one (`</1>;ver=1.1` is said by
        // `</1/0>` already).
        let paths: Vec<Path> = r.objects.objects.iter().map(|l| l.path).collect();
        let shown: Vec<String> = paths
            .iter()
            .filter(|p| {
                !paths
                    .iter()
                    .any(|q| q.len() > p.len() && q.truncated(p.len()) == **p)
            })
            .map(Path::to_string)
            .collect();
        say(&format!("   objects {}", shown.join(" ")));
        Ok(())
    }

    fn read_device(&self) -> Result<(), String> {
        let path = Path::instance(3, 0);
        let r = self
            .server
            .request(&self.ep, Operation::Read { path, accept: None })
            .map_err(|e| format!("Read /3/0 failed: {e}"))?;
        let Body::Entries { format, entries } = r.body else {
            return Err("Read /3/0 answered without values".into());
        };
        say(&format!(
            "\n2. Read /3/0, the Device object (answered in {})",
            format_name(format.number())
        ));
        for row in two_columns(&device_lines(&entries)) {
            say(&format!("   {row}"));
        }
        Ok(())
    }

    fn write_lifetime(&self) -> Result<(), String> {
        say(&format!(
            "\n3. Write /1/0/1 (Lifetime) = {NEW_LIFETIME}: the client updates its registration"
        ));
        self.drain_events();
        self.server
            .write(
                &self.ep,
                Path::resource(1, 0, 1),
                Value::Integer(NEW_LIFETIME),
                None,
            )
            .map_err(|e| format!("Write /1/0/1 failed: {e}"))?;
        self.wait_update()?;
        let lt = self
            .server
            .registration(&self.ep)
            .ok()
            .flatten()
            .map_or(0, |r| r.lifetime);
        say(&format!("   Update received: lifetime now {lt} s"));
        Ok(())
    }

    fn observe_temperature(&self) -> Result<(), String> {
        let path = Path::resource(temperature::OID, 0, temperature::rid::VALUE);
        say(&format!(
            "\n4. Observe {path} (Temperature), with Write-Attributes pmin=1&pmax=2"
        ));
        self.server
            .write_attributes(&self.ep, path, "pmin=1&pmax=2")
            .map_err(|e| format!("Write-Attributes failed: {e}"))?;
        let obs = self
            .server
            .observe(&self.ep, path, None)
            .map_err(|e| format!("Observe failed: {e}"))?;
        say(&format!("   now      {}", celsius(&obs.initial)));
        let t0 = self.clock.elapsed();
        for i in 1..=NOTIFICATIONS {
            match obs.notifications.recv_timeout(STEP_TIMEOUT) {
                Ok(ObserveEvent::Notify { entries, .. }) => say(&format!(
                    "   +{:.1} s   {}   (notification {i})",
                    (self.clock.elapsed() - t0).as_secs_f64(),
                    celsius(&entries)
                )),
                Ok(ObserveEvent::Ended(why)) => {
                    return Err(format!("the observation ended: {why:?}"));
                }
                Err(_) => return Err("no notification".into()),
            }
        }
        self.server
            .cancel_observation(obs.id, true)
            .map_err(|e| format!("Cancel Observation failed: {e}"))?;
        say("   observation cancelled");
        Ok(())
    }

    fn update_trigger(&self) -> Result<(), String> {
        say("\n5. Execute /1/0/8 (Registration Update Trigger)");
        self.drain_events();
        self.server
            .execute(&self.ep, Path::resource(1, 0, 8), None)
            .map_err(|e| format!("Execute /1/0/8 failed: {e}"))?;
        self.wait_update()?;
        say("   Update received");
        Ok(())
    }

    fn deregister(&self) -> Result<(), String> {
        say("\n6. De-register (what Ctrl-C does too)");
        self.stop_client();
        self.server
            .wait_for_deregistration(&self.ep, STEP_TIMEOUT)
            .map_err(|e| format!("the client did not de-register: {e}"))?;
        say("   De-register received: the client has left");
        Ok(())
    }

    /// Stops the client, telling the main thread it was the script.
    fn stop_client(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.stopper.stop();
    }

    fn drain_events(&self) {
        while self.events.try_recv().is_ok() {}
    }

    fn wait_update(&self) -> Result<(), String> {
        loop {
            match self.events.recv_timeout(STEP_TIMEOUT) {
                Ok(ServerEvent::Updated { endpoint, .. }) if endpoint == self.ep => {
                    return Ok(());
                }
                Ok(_) => {}
                Err(_) => return Err("the client sent no registration Update".into()),
            }
        }
    }
}

/// The Device object's values as `(name, value)` lines, resource
/// instances joined on one line.
fn device_lines(entries: &[Entry<'static>]) -> Vec<(&'static str, String)> {
    let mut lines: Vec<(u16, &'static str, String)> = Vec::new();
    for e in entries {
        let Some(rid) = e.path.rid() else { continue };
        let v = match (rid, &e.value) {
            (device::rid::CURRENT_TIME, Value::Time(t) | Value::Integer(t)) => iso8601(*t),
            (device::rid::BATTERY_LEVEL, v) => format!("{} %", show(v)),
            (device::rid::MEMORY_FREE | device::rid::MEMORY_TOTAL, v) => {
                format!("{} KiB", show(v))
            }
            (_, v) => show(v),
        };
        match lines.last_mut() {
            Some((r, _, joined)) if *r == rid && e.path.riid().is_some() => {
                joined.push_str(", ");
                joined.push_str(&v);
            }
            _ => {
                let name = device::DEF.resource(rid).map_or("?", |d| d.name);
                lines.push((rid, name, v));
            }
        }
    }
    lines.into_iter().map(|(_, n, v)| (n, v)).collect()
}

/// Width of a cell of [`two_columns`].
const CELL: usize = 44;

/// `name: value` cells, two per row, so the Device object fits in half its
/// lines.
fn two_columns(lines: &[(&str, String)]) -> Vec<String> {
    lines
        .chunks(2)
        .map(|pair| {
            let mut row = String::new();
            for (i, (name, value)) in pair.iter().enumerate() {
                let cell = format!("{name}: {value}");
                if i == 0 && pair.len() == 2 {
                    row.push_str(&format!("{cell:<width$} ", width = CELL - 1));
                } else {
                    row.push_str(&cell);
                }
            }
            row
        })
        .collect()
}

fn show(v: &Value<'_>) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Integer(i) | Value::Time(i) => i.to_string(),
        Value::Unsigned(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Opaque(b) => format!("{} bytes", b.len()),
        Value::Objlnk(l) => format!("{}:{}", l.oid, l.iid),
        Value::Corelnk(s) => s.to_string(),
    }
}

fn celsius(entries: &[Entry<'static>]) -> String {
    entries
        .first()
        .and_then(|e| e.value.as_f64())
        .map_or_else(|| "?".into(), |c| format!("{c:.1} °C"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_columns_align() {
        let rows = two_columns(&[
            ("A", "1".into()),
            ("Bb", "2".into()),
            ("C", "x".repeat(50)),
            ("D", "4".into()),
            ("E", "5".into()),
        ]);
        assert_eq!(rows[0], format!("{:<43} Bb: 2", "A: 1"));
        assert_eq!(rows[1], format!("C: {} D: 4", "x".repeat(50)));
        assert_eq!(rows[2], "E: 5");
    }

    #[test]
    fn device_values_are_named_and_grouped() {
        let e = |p: Path, v: Value<'static>| Entry::new(p, v);
        let lines = device_lines(&[
            e(Path::resource(3, 0, 0), Value::str("ACME")),
            e(Path::resource_instance(3, 0, 7, 0), Value::Integer(5000)),
            e(Path::resource_instance(3, 0, 7, 1), Value::Integer(3700)),
            e(Path::resource(3, 0, 9), Value::Integer(87)),
            e(Path::resource(3, 0, 13), Value::Time(0)),
        ]);
        assert_eq!(
            lines,
            vec![
                ("Manufacturer", "ACME".to_string()),
                ("Power Source Voltage", "5000, 3700".to_string()),
                ("Battery Level", "87 %".to_string()),
                ("Current Time", "1970-01-01T00:00:00Z".to_string()),
            ]
        );
    }
}
