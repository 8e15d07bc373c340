//! CPU instructions per Read of /3/0 in TLV, counted by callgrind: the
//! client (and then the echo floor) runs under `valgrind --tool=callgrind`
//! for two request counts; the difference of the totals divided by the
//! difference of the counts leaves out start-up, registration and exit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lwm2m::core::coap::Code;

use crate::harness::drive;
use crate::requesters::Raw;
use crate::{Opts, Result, Rig, echo_reply, field, notify, observe, start_echo};

/// Generous: everything runs some 50 times slower under valgrind.
const SLOW: Duration = Duration::from_secs(120);

fn wrap(out: &Path) -> Vec<String> {
    vec![
        "valgrind".into(),
        "-q".into(),
        "--tool=callgrind".into(),
        format!("--callgrind-out-file={}", out.display()),
    ]
}

/// The total instruction count (Ir) of a callgrind output file.
fn totals(out: &Path) -> Result<u64> {
    let text = std::fs::read_to_string(out)?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no totals in {}", out.display()).into())
}

/// Runs the `--callgrind` mode.
pub fn run(o: &Opts) -> Result<()> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        return Err("valgrind is not installed (Debian: apt-get install valgrind)".into());
    }
    let exe = std::env::current_exe()?;
    let dir: PathBuf = exe
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        .join("callgrind");
    std::fs::create_dir_all(&dir)?;
    let (a, b) = o.counts;
    println!("instructions per Read of /3/0 (TLV, one at a time), callgrind, counts {a} and {b}");
    let mut client = Vec::new();
    let mut template = Vec::new();
    let mut answer = 0;
    for n in [a, b] {
        let out = dir.join(format!("client.{n}.out"));
        let mut rig = Rig::start(&wrap(&out), SLOW)?;
        let (t, len) = rig.probe_read()?;
        let mut q = Raw::template(rig.client_addr, 0x8000, Some(Code::CONTENT), t.clone());
        let run = drive(&mut rig.io, &mut q, 1, n, SLOW)?;
        if run.errors > 0 {
            return Err(format!("{} Reads failed", run.errors).into());
        }
        rig.client.finish(SLOW)?;
        let total = totals(&out)?;
        println!(
            "  client, {n:>6} Reads: {total:>14} instructions ({})",
            out.display()
        );
        client.push(total);
        (template, answer) = (t, len);
    }
    // Notifications: each is notify_changed, the driver's sched_run, and a
    // 100 µs event_loop_run with nothing to do (the child's timing loop).
    let (na, nb) = (a / 10, b / 10);
    let mut notif = Vec::new();
    for n in [na, nb] {
        let out = dir.join(format!("notify.{n}.out"));
        let mut rig = Rig::start(&wrap(&out), SLOW)?;
        rig.probe_read()?;
        observe(&mut rig)?;
        let (line, _) = notify(&mut rig, n, 20, 100, SLOW)?;
        if field(&line, "sent") as usize != n {
            return Err(format!("not every notification went out: {line}").into());
        }
        rig.client.finish(SLOW)?;
        let total = totals(&out)?;
        println!(
            "  client, {n:>6} notifications: {total:>6} instructions ({})",
            out.display()
        );
        notif.push(total);
    }
    let mut echo = Vec::new();
    for n in [a, b] {
        let out = dir.join(format!("echo.{n}.out"));
        let (mut p, addr) = start_echo(&wrap(&out))?;
        echo_reply(&mut p, answer)?;
        let mut q = Raw::template(addr, 0x8000, None, template.clone());
        drive(&mut crate::harness::Io::bind()?, &mut q, 1, n, SLOW)?;
        p.finish(SLOW)?;
        let total = totals(&out)?;
        println!(
            "  echo,   {n:>6} echoes: {total:>13} instructions ({})",
            out.display()
        );
        echo.push(total);
    }
    let per = |t: &[u64], a: usize, b: usize| match t {
        [x, y] => (*y as f64 - *x as f64) / (b - a).max(1) as f64,
        _ => 0.0,
    };
    let (c, e) = (per(&client, a, b), per(&echo, a, b));
    let nt = per(&notif, na, nb);
    println!(
        "\nRead of /3/0 (TLV): {c:.0} instructions per Read | floor (UDP echo, {} B in / {answer} B out): {e:.0} per echo | ratio {:.2}",
        template.len(),
        c / e.max(1.0)
    );
    println!(
        "target: <= 3x the floor ({:.0}): {}   (C reference client ~79,000; leanest C client ~12,800)",
        3.0 * e,
        if c <= 3.0 * e { "met" } else { "MISSED" }
    );
    println!(
        "notification (notify_changed + sched_run + an idle 100 µs event_loop_run): {nt:.0} instructions"
    );
    println!(
        "per-function profile: callgrind_annotate --inclusive=no {}",
        dir.join(format!("client.{b}.out")).display()
    );
    Ok(())
}
