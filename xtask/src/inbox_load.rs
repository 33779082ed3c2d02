//! `cargo xtask inbox-load`: et-inbox on a real PostgreSQL, under load and a
//! crash, on loopback only and bounded in count and time.
//!
//! Builds et-inbox's `inbox_load` example and runs it as separate
//! processes: 4 receiver instances sharing the database of
//! `ET_INBOX_PG_URL` (`.ci/run` sets it up), and a sender playing ET with
//! 20,000 deliveries, 10% duplicates, some sent at the same moment to two
//! instances. When a third of the deliveries are acknowledged, instance 2
//! is killed with SIGKILL and restarted on the same port; the sender keeps
//! retrying what was not acknowledged, as ET does. The sender then waits
//! for the consumers and checks the database: its last line is the result,
//! `N delivered, N stored once, 0 lost, 0 duplicated`, with the throughput.

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::{cargo, root, run_status};

const INSTANCES: usize = 4;
const DELIVERIES: usize = 20_000;
/// The whole send-and-check phase, at most.
const TIME_LIMIT_SECS: u64 = 300;
/// The instance killed mid-run.
const VICTIM: usize = 1;

/// A receiver instance and the lines it prints.
struct Instance {
    child: Child,
    addr: String,
}

impl Instance {
    fn start(binary: &PathBuf, url: &str, listen: &str) -> Result<Self, String> {
        let mut child = Command::new(binary)
            .args(["node", "--pg", url, "--listen", listen])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not start an instance: {e}"))?;
        let stdout = child.stdout.take().ok_or("instance has no stdout")?;
        let line = BufReader::new(stdout)
            .lines()
            .next()
            .and_then(Result::ok)
            .unwrap_or_default();
        let addr = line
            .strip_prefix("listening ")
            .ok_or_else(|| format!("instance did not start (said {line:?})"))?
            .to_owned();
        Ok(Instance { child, addr })
    }

    fn kill(&mut self) {
        // `Child::kill` sends SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn run() -> Result<(), String> {
    let url = std::env::var("ET_INBOX_PG_URL").map_err(|_| {
        "ET_INBOX_PG_URL is not set: run .ci/run once (it installs and starts PostgreSQL), \
         or point it at a PostgreSQL database"
            .to_owned()
    })?;
    run_status(
        "cargo build --release -p et-inbox --example inbox_load",
        cargo().args([
            "build",
            "--release",
            "-p",
            "et-inbox",
            "--example",
            "inbox_load",
        ]),
    )?;
    let binary = root().join("target/release/examples/inbox_load");
    run_status(
        "inbox_load reset",
        Command::new(&binary).args(["reset", "--pg", &url]),
    )?;
    let mut instances = (0..INSTANCES)
        .map(|_| Instance::start(&binary, &url, "127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    let result = drive(&binary, &url, &mut instances);
    for instance in &mut instances {
        instance.kill();
    }
    result
}

/// Runs the sender, killing and restarting the victim along the way.
fn drive(binary: &PathBuf, url: &str, instances: &mut [Instance]) -> Result<(), String> {
    let nodes: Vec<&str> = instances.iter().map(|i| i.addr.as_str()).collect();
    let mut sender = Command::new(binary)
        .args(["send", "--pg", url, "--nodes", &nodes.join(",")])
        .args(["--deliveries", &DELIVERIES.to_string()])
        .args(["--seconds", &TIME_LIMIT_SECS.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start the sender: {e}"))?;
    let stdout = sender.stdout.take().ok_or("sender has no stdout")?;
    let lines: Lines<BufReader<ChildStdout>> = BufReader::new(stdout).lines();
    let mut killed = false;
    for line in lines.map_while(Result::ok) {
        let progress = line
            .strip_prefix("progress ")
            .and_then(|n| n.parse::<usize>().ok());
        match progress {
            Some(n) if !killed && n >= DELIVERIES / 3 => {
                killed = true;
                let victim = &mut instances[VICTIM];
                let addr = victim.addr.clone();
                victim.kill();
                println!(
                    "{line}: instance {} ({addr}) killed with SIGKILL",
                    VICTIM + 1
                );
                std::thread::sleep(Duration::from_millis(500));
                *victim = Instance::start(binary, url, &addr)?;
                println!("instance {} restarted on {addr}", VICTIM + 1);
            }
            _ => println!("{line}"),
        }
    }
    let status = sender.wait().map_err(|e| e.to_string())?;
    if !killed {
        return Err("the run ended before the kill: not a valid inbox-load result".into());
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!("inbox-load failed ({status})"))
    }
}
