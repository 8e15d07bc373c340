//! The interactive commands: parsing a line, running it through the
//! server handles, printing the outcome for a person (or as JSON).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use lwm2m_core::content::{Entry, Format};
use lwm2m_core::dm::Path;
use lwm2m_server::config_file::parse_format;
use lwm2m_server::core::{ReqId, RequestError, fmt_path, model};
use lwm2m_server::driver::{ServerError, ServerHandle};
use serde_json::json;

use super::json;
use super::values;

/// The command reference printed by `help`.
pub const HELP: &str = "\
Commands (EP is an endpoint name, PATH like /3/0/1, FORMAT one of
text, opaque, tlv, senml-json, senml-cbor, lwm2m-cbor, json, cbor or a number):
  list                          registered clients
  show EP                       one client in detail
  read EP PATH [FORMAT]         Read (FORMAT is the Accept)
  write EP PATH VALUE [FORMAT]  Write (replace) one resource; VALUE is typed from
                                the object model, or prefixed: int: uint: float:
                                bool: str: hex: time: objlnk:
  update EP PATH VALUE [FORMAT] Write (partial update) of one resource
  exec EP PATH [ARGS]           Execute, ARGS like 0='a',1
  create EP PATH [RID=VALUE]... Create an instance (/o or /o/i)
  delete EP PATH                Delete an instance
  discover EP PATH              Discover
  attr EP PATH ATTRS            Write-Attributes, ATTRS like pmin=10&pmax=60
  observe EP PATH [FORMAT]      Observe; notifications are printed as they come
  cancel EP PATH [passive]      Cancel the observation of PATH (active by default)
  bootstrap EP                  Bootstrap EP again (server-initiated)
  help                          this text
  quit                          stop the server and exit";

/// Where commands go and how results are shown.
pub struct Ctx {
    pub dm: Option<ServerHandle>,
    pub bs: Option<ServerHandle>,
    pub json: bool,
    /// Where each endpoint last bootstrapped from (from events).
    pub bs_peers: Arc<Mutex<HashMap<String, SocketAddr>>>,
    observations: HashMap<(String, Path), ReqId>,
}

/// What a line asked for.
pub enum Outcome {
    Continue,
    Quit,
}

struct Line<'a> {
    rest: &'a str,
}

impl<'a> Line<'a> {
    fn word(&mut self) -> Option<&'a str> {
        let s = self.rest.trim_start();
        if s.is_empty() {
            return None;
        }
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        let (w, r) = s.split_at(end);
        self.rest = r;
        Some(w)
    }

    fn rest(&self) -> &'a str {
        self.rest.trim()
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(s)
}

fn path(s: Option<&str>) -> Result<Path, String> {
    let s = s.ok_or("missing PATH")?;
    Path::parse(s).map_err(|e| format!("bad path {s:?}: {e}"))
}

fn format_arg(s: Option<&str>) -> Result<Option<Format>, String> {
    match s {
        None => Ok(None),
        Some(f) => parse_format(f)
            .map(Some)
            .ok_or_else(|| format!("unknown format {f:?}")),
    }
}

impl Ctx {
    pub fn new(dm: Option<ServerHandle>, bs: Option<ServerHandle>, json: bool) -> Ctx {
        Ctx {
            dm,
            bs,
            json,
            bs_peers: Arc::new(Mutex::new(HashMap::new())),
            observations: HashMap::new(),
        }
    }

    fn dm(&self) -> Result<&ServerHandle, String> {
        self.dm
            .as_ref()
            .ok_or_else(|| "no DM server is running".to_string())
    }

    fn ok(&self, cmd: &str, ep: &str, human: String, extra: serde_json::Value) {
        if self.json {
            let mut j = json!({"command": cmd, "endpoint": ep, "ok": true});
            if let (Some(m), Some(e)) = (j.as_object_mut(), extra.as_object()) {
                m.extend(e.clone());
            }
            println!("{j}");
        } else {
            println!("{human}");
        }
    }

    fn fail(&self, cmd: &str, msg: &str) {
        if self.json {
            println!("{}", json!({"command": cmd, "ok": false, "error": msg}));
        } else {
            println!("error: {msg}");
        }
    }

    /// Runs one input line.
    pub fn run(&mut self, line: &str) -> Outcome {
        let mut l = Line { rest: line };
        let Some(cmd) = l.word() else {
            return Outcome::Continue;
        };
        match cmd {
            "quit" | "exit" => return Outcome::Quit,
            "help" | "?" => println!("{HELP}"),
            _ => {
                if let Err(e) = self.dispatch(cmd, &mut l) {
                    self.fail(cmd, &e);
                }
            }
        }
        Outcome::Continue
    }

    fn dispatch(&mut self, cmd: &str, l: &mut Line<'_>) -> Result<(), String> {
        if cmd == "list" || cmd == "ls" {
            return self.list();
        }
        let known = [
            "show",
            "read",
            "write",
            "update",
            "exec",
            "create",
            "delete",
            "discover",
            "attr",
            "observe",
            "cancel",
            "bootstrap",
        ];
        if !known.contains(&cmd) {
            return Err(format!("unknown command {cmd:?} (try help)"));
        }
        let ep = l.word().ok_or("missing EP")?.to_string();
        let err = |e: ServerError| match e {
            ServerError::Request(RequestError::UnknownEndpoint) => {
                format!("{ep} is not registered")
            }
            e => e.to_string(),
        };
        match cmd {
            "show" => self.show(&ep),
            "read" => {
                let p = path(l.word())?;
                let f = format_arg(l.word())?;
                let es = self.dm()?.read(&ep, p, f).map_err(err)?;
                self.print_entries("read", &ep, &es);
                Ok(())
            }
            "write" | "update" => {
                let p = path(l.word())?;
                let rest = l.rest();
                let (value, f) = match rest.rsplit_once(char::is_whitespace) {
                    Some((v, f)) if parse_format(f).is_some() && !f.contains(':') => {
                        (v.trim(), Some(f))
                    }
                    _ => (rest, None),
                };
                if value.is_empty() {
                    return Err("missing VALUE".into());
                }
                let v = values::parse_value(&p, unquote(value))?;
                let f = format_arg(f)?;
                let replace = cmd == "write";
                self.dm()?
                    .write_entries(&ep, p, replace, vec![Entry::new(p, v)], f)
                    .map_err(err)?;
                self.ok(cmd, &ep, "ok".into(), json!({}));
                Ok(())
            }
            "exec" => {
                let p = path(l.word())?;
                let args = unquote(l.rest());
                let args = (!args.is_empty()).then_some(args);
                self.dm()?.execute(&ep, p, args).map_err(err)?;
                self.ok(cmd, &ep, "ok".into(), json!({}));
                Ok(())
            }
            "create" => {
                let p = path(l.word())?;
                let inst = if p.len() == 2 {
                    p
                } else {
                    p.child(0).ok_or("bad path")?
                };
                let mut es = Vec::new();
                while let Some(kv) = l.word() {
                    let (k, v) = kv
                        .split_once('=')
                        .ok_or_else(|| format!("{kv:?}: expected RID=VALUE"))?;
                    let rid: u16 = k
                        .parse()
                        .map_err(|_| format!("{k:?} is not a resource id"))?;
                    let rp = inst.child(rid).ok_or("bad resource id")?;
                    es.push(Entry::new(rp, values::parse_value(&rp, unquote(v))?));
                }
                let created = self.dm()?.create(&ep, p, es, None).map_err(err)?;
                let shown = created.map_or("(location not given)".to_string(), |p| fmt_path(&p));
                self.ok(
                    cmd,
                    &ep,
                    format!("created {shown}"),
                    json!({"created": created.map(|p| fmt_path(&p))}),
                );
                Ok(())
            }
            "delete" => {
                let p = path(l.word())?;
                self.dm()?.delete(&ep, p).map_err(err)?;
                self.ok(cmd, &ep, "ok".into(), json!({}));
                Ok(())
            }
            "discover" => {
                let p = path(l.word())?;
                let links = self.dm()?.discover(&ep, p).map_err(err)?;
                let shown: Vec<String> = links.iter().map(ToString::to_string).collect();
                self.ok(cmd, &ep, shown.join("\n"), json!({"links": shown}));
                Ok(())
            }
            "attr" => {
                let p = path(l.word())?;
                let a = l.rest();
                if a.is_empty() {
                    return Err("missing ATTRS (pmin=10&pmax=60)".into());
                }
                self.dm()?.write_attributes(&ep, p, a).map_err(err)?;
                self.ok(cmd, &ep, "ok".into(), json!({}));
                Ok(())
            }
            "observe" => {
                let p = path(l.word())?;
                let f = format_arg(l.word())?;
                let obs = self.dm()?.observe(&ep, p, f).map_err(err)?;
                self.observations.insert((ep.clone(), p), obs.id);
                if self.json {
                    self.ok(
                        cmd,
                        &ep,
                        String::new(),
                        json!({"observation": obs.id.0, "entries": json::entries(&obs.initial)}),
                    );
                } else {
                    for e in &obs.initial {
                        println!("{}", values::show_entry(e));
                    }
                    println!(
                        "observing {} on {ep} ({}); notifications follow",
                        fmt_path(&p),
                        obs.id
                    );
                }
                Ok(())
            }
            "cancel" => {
                let p = path(l.word())?;
                let passive = l.word() == Some("passive");
                let id = self
                    .observations
                    .remove(&(ep.clone(), p))
                    .ok_or_else(|| format!("no observation of {} on {ep}", fmt_path(&p)))?;
                self.dm()?.cancel_observation(id, !passive).map_err(err)?;
                self.ok(cmd, &ep, "cancelled".into(), json!({}));
                Ok(())
            }
            "bootstrap" => self.bootstrap(&ep),
            _ => Err(format!("unknown command {cmd:?}")),
        }
    }

    fn print_entries(&self, cmd: &str, ep: &str, es: &[Entry<'static>]) {
        if self.json {
            self.ok(
                cmd,
                ep,
                String::new(),
                json!({"entries": json::entries(es)}),
            );
        } else if es.is_empty() {
            println!("(no values)");
        } else {
            for e in es {
                println!("{}", values::show_entry(e));
            }
        }
    }

    fn list(&self) -> Result<(), String> {
        let regs = self.dm()?.registrations().map_err(|e| e.to_string())?;
        if self.json {
            println!(
                "{}",
                json!({"command": "list", "ok": true, "clients": regs.iter().map(json::registration).collect::<Vec<_>>()})
            );
            return Ok(());
        }
        if regs.is_empty() {
            println!("no clients registered");
        }
        for r in regs {
            let binding = if r.queue {
                format!("{}Q", r.binding)
            } else {
                r.binding.clone()
            };
            println!(
                "{}  {}  lifetime {}s  lwm2m {}  binding {}  rd/{}\n    {}",
                r.endpoint,
                r.peer,
                r.lifetime,
                r.version,
                binding,
                r.location,
                r.objects.to_link_format()
            );
        }
        Ok(())
    }

    fn show(&self, ep: &str) -> Result<(), String> {
        let r = self
            .dm()?
            .registration(ep)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{ep} is not registered"))?;
        if self.json {
            self.ok("show", ep, String::new(), json::registration(&r));
            return Ok(());
        }
        println!("{}  at {}  (rd/{})", r.endpoint, r.peer, r.location);
        println!(
            "  lifetime {}s, LwM2M {}, binding {}{}",
            r.lifetime,
            r.version,
            r.binding,
            if r.queue { " (queue mode)" } else { "" }
        );
        if !r.objects.formats.is_empty() {
            println!("  content formats {:?}", r.objects.formats);
        }
        for o in &r.objects.objects {
            let name = o.path.oid().and_then(model::object).map_or("", |d| d.name);
            let ver = o
                .version
                .as_ref()
                .map(|v| format!(" ver {v}"))
                .unwrap_or_default();
            println!("  {} {name}{ver}", fmt_path(&o.path));
        }
        Ok(())
    }

    fn bootstrap(&self, ep: &str) -> Result<(), String> {
        let peer = self.bs_peers.lock().ok().and_then(|m| m.get(ep).copied());
        let bs = self.bs.as_ref().or(self.dm.as_ref());
        match (bs, peer) {
            // The Bootstrap Server knows where this client is: server-initiated
            // bootstrap (Core 1.1, Server-Initiated Bootstrap).
            (Some(h), Some(peer)) if self.bs.is_some() => {
                h.bootstrap(ep, peer).map_err(|e| e.to_string())?;
                self.ok("bootstrap", ep, "bootstrap finished".into(), json!({}));
                Ok(())
            }
            // Otherwise ask the registered client to go to its Bootstrap
            // Server (Bootstrap-Request Trigger, /1/x/9).
            _ => {
                self.dm()?
                    .trigger_bootstrap(ep)
                    .map_err(|e| e.to_string())?;
                self.ok(
                    "bootstrap",
                    ep,
                    "bootstrap triggered (/1/x/9)".into(),
                    json!({}),
                );
                Ok(())
            }
        }
    }
}

/// An event for a person.
pub fn show_event(e: &lwm2m_server::ServerEvent, server: &str) -> String {
    use lwm2m_server::ServerEvent as E;
    let body = match e {
        E::Registered {
            endpoint,
            location,
            peer,
            replaced,
        } => format!(
            "registered {endpoint} from {peer} (rd/{location}){}",
            if *replaced {
                ", replacing its old registration"
            } else {
                ""
            }
        ),
        E::Updated {
            endpoint,
            peer,
            objects_changed,
        } => format!(
            "updated {endpoint} from {peer}{}",
            if *objects_changed {
                " (new object list)"
            } else {
                ""
            }
        ),
        E::Deregistered { endpoint, reason } => format!("deregistered {endpoint} ({reason:?})"),
        E::Response { .. } => return String::new(),
        E::Notification {
            endpoint,
            observation,
            seq,
            entries,
            ..
        } => {
            let head = format!(
                "notify {endpoint} {observation}{}",
                seq.map(|s| format!(" seq {s}")).unwrap_or_default()
            );
            let lines: Vec<String> = entries
                .iter()
                .map(|x| format!("  {}", values::show_entry(x)))
                .collect();
            format!("{head}\n{}", lines.join("\n"))
        }
        E::ObservationEnded {
            endpoint,
            observation,
            reason,
        } => {
            format!("observation {observation} of {endpoint} ended ({reason:?})")
        }
        E::Send {
            endpoint, entries, ..
        } => {
            let lines: Vec<String> = entries
                .iter()
                .map(|x| format!("  {}", values::show_entry(x)))
                .collect();
            format!("send from {endpoint}\n{}", lines.join("\n"))
        }
        E::BootstrapStarted {
            endpoint,
            peer,
            requested,
        } => format!(
            "bootstrap of {endpoint} at {peer} {}",
            if *requested {
                "requested"
            } else {
                "started by the server"
            }
        ),
        E::BootstrapStep {
            endpoint,
            step,
            result,
        } => match result {
            Ok(c) => format!("bootstrap {endpoint}: {step} -> {c}"),
            Err(err) => format!("bootstrap {endpoint}: {step} failed: {err}"),
        },
        E::BootstrapFinished { endpoint, result } => match result {
            Ok(()) => format!("bootstrap of {endpoint} finished"),
            Err(err) => format!("bootstrap of {endpoint} failed: {err}"),
        },
        E::QueueFlushed { endpoint, count } => {
            format!("{endpoint} woke up: {count} queued request(s) sent")
        }
        E::FileServed { peer, name, size } => format!("served {name} ({size} bytes) to {peer}"),
        E::Rejected {
            peer,
            request,
            code,
            reason,
        } => format!("refused {request} from {peer}: {code} {reason}"),
        other => format!("{other:?}"),
    };
    format!("[{server}] {body}")
}
