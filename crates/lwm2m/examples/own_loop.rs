//! The minimal client driven by the application's own `poll(2)` loop, which
//! also runs a timer of its own: every five seconds the temperature changes
//! and observers are told (`notify_changed`). The library never waits: the
//! loop sleeps until a socket is readable, Ctrl-C, the library's next job
//! (`time_to_next_job`) or the application's tick, whichever comes first.
//!
//! ```text
//! cargo run -p lwm2m --example own_loop -- coap://127.0.0.1:5683
//! ```

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use lwm2m::Driver;
use lwm2m::core::DmError;
use lwm2m::core::config::Config;
use lwm2m::core::dm::{
    DataType, Iid, Object, ObjectDef, Operations, Path, ResourceDef, Rid, Riid, Value,
};
use lwm2m::core::objects::{Security, SecurityInstance, Server, ServerInstance};
use rustix::event::{PollFd, PollFlags, Timespec, poll};

const TICK: Duration = Duration::from_secs(5);

/// A temperature sensor (IPSO object 3303) the application updates.
struct Temperature {
    celsius: f64,
}

const TEMPERATURE: ObjectDef = ObjectDef::new(
    3303,
    &[
        ResourceDef::new(5700, "Sensor Value", Operations::R, DataType::Float).mandatory(),
        ResourceDef::new(5701, "Sensor Units", Operations::R, DataType::String),
    ],
)
.multiple();

impl Object for Temperature {
    fn def(&self) -> &'static ObjectDef {
        &TEMPERATURE
    }
    fn read(&self, _: Iid, rid: Rid, _: Option<Riid>) -> Result<Value<'_>, DmError> {
        Ok(if rid == 5700 {
            Value::Float(self.celsius)
        } else {
            Value::str("Cel")
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = std::env::args().nth(1);
    let server = server.as_deref().unwrap_or("coap://127.0.0.1:5683");

    let mut client = Driver::new(Config::new("own-loop-rs"))?;
    // One DM server account: Security and Server instance 0, Short Server ID 1.
    client.add_object(Security::default().with(SecurityInstance::server(0, 1, server)))?;
    client.add_object(Server::default().with(ServerInstance::new(0, 1, 60)))?;
    let sensor = client.add_object(Temperature { celsius: 20.0 })?;

    // The application's own self-pipe for Ctrl-C, polled with the sockets.
    let (ctrl_c, ctrl_c_writer) = UnixStream::pair()?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, ctrl_c_writer)?;

    let mut next_tick = Instant::now() + TICK;
    loop {
        let until_tick = next_tick.saturating_duration_since(Instant::now());
        let timeout = client
            .time_to_next_job()
            .map_or(until_tick, |d| d.min(until_tick));

        // The poll set: Ctrl-C first, then one entry per library socket.
        let mut fds = vec![PollFd::new(&ctrl_c, PollFlags::IN)];
        let mut links = Vec::new();
        for (link, socket) in client.sockets() {
            fds.push(PollFd::new(socket, PollFlags::IN));
            links.push(link);
        }
        match poll(&mut fds, Some(&Timespec::try_from(timeout)?)) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        if fds.first().is_some_and(|f| !f.revents().is_empty()) {
            break;
        }
        let ready: Vec<_> = (links.into_iter().zip(fds.iter().skip(1)))
            .filter(|(_, f)| !f.revents().is_empty())
            .map(|(link, _)| link)
            .collect();
        drop(fds);

        for link in ready {
            client.serve(link); // one datagram, never waits
        }
        client.sched_run(); // whatever is due: Register, Update, notifications

        if Instant::now() >= next_tick {
            next_tick += TICK;
            if let Some(t) = client.object_mut(sensor) {
                t.celsius = if t.celsius >= 30.0 {
                    20.0
                } else {
                    t.celsius + 0.5
                };
            }
            client.notify_changed(Path::resource(3303, 0, 5700));
        }
        while let Some(event) = client.poll_event() {
            println!("{event:?}");
        }
    }
    let clean = client.shutdown(Duration::from_secs(10))?;
    println!("de-registered: {clean}");
    Ok(())
}
