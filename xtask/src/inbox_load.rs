//! `cargo xtask inbox-load`: et-inbox on a real PostgreSQL, under load and
//! faults of its own and of the database, on loopback only and bounded in
//! count and time.
//!
//! Builds et-inbox's `inbox_load` example and runs it as separate
//! processes: 4 receiver instances sharing the database of
//! `ET_INBOX_PG_URL` (`.ci/run` sets it up), and a sender playing ET with
//! 20,000 deliveries, 10% duplicates, some sent at the same moment to two
//! instances. As the deliveries are acknowledged, three faults strike in
//! turn: at a quarter, instance 2 is killed with SIGKILL and restarted on
//! the same port; at half, every inbox connection is ended on the server
//! (`pg_terminate_backend`); at three quarters, PostgreSQL itself is
//! restarted (`pg_ctlcluster … restart`, found by the URL's port in
//! `pg_lsclusters`; as root, or through `sudo -n`). The instances reconnect
//! by themselves; the sender keeps retrying what was not acknowledged, as
//! ET does. The sender then waits for the consumers and checks the
//! database: its last line is the result, `N delivered, N stored once, 0
//! lost, 0 duplicated`, with the throughput.
//!
//! The reference, in the same command: PostgreSQL's own rate for
//! single-row `INSERT … ON CONFLICT DO NOTHING` transactions from four
//! clients (`inbox_load raw`), measured before the instances start and
//! again after they stop (a shared disk's fsync rate drifts), and the
//! inbox's throughput as a ratio of their mean.

use std::io::{BufRead, BufReader, Lines};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::{cargo, root, run_status, secs};

const INSTANCES: usize = 4;
const DELIVERIES: usize = 20_000;
/// The whole send-and-check phase, at most.
const TIME_LIMIT_SECS: u64 = 300;
/// The instance killed mid-run.
const VICTIM: usize = 1;
/// Clients and seconds of the raw insert reference.
const RAW_CLIENTS: usize = 4;
const RAW_SECS: u64 = 5;

/// The faults, in the order they strike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// SIGKILL one instance, restart it on its port.
    KillInstance,
    /// End every inbox connection on the server.
    TerminateConnections,
    /// Restart the PostgreSQL cluster.
    RestartPostgres,
}

/// Each fault and how many acknowledged deliveries it waits for.
const FAULTS: [(Fault, usize); 3] = [
    (Fault::KillInstance, DELIVERIES / 4),
    (Fault::TerminateConnections, DELIVERIES / 2),
    (Fault::RestartPostgres, DELIVERIES * 3 / 4),
];

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
    let raw_before = raw_rate(&binary, &url)?;
    let mut instances = (0..INSTANCES)
        .map(|_| Instance::start(&binary, &url, "127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    let result = drive(&binary, &url, &mut instances);
    for instance in &mut instances {
        instance.kill();
    }
    let inbox = result?;
    let raw = (raw_before + raw_rate(&binary, &url)?) / 2.0;
    println!(
        "ratio: the inbox's {inbox:.0} deliveries/s are {:.2}x PostgreSQL's {raw:.0} raw inserts/s ({RAW_CLIENTS} clients, mean of before and after)",
        inbox / raw
    );
    Ok(())
}

/// `inbox_load raw`: PostgreSQL's single-row insert rate, in inserts/s.
fn raw_rate(binary: &PathBuf, url: &str) -> Result<f64, String> {
    let output = Command::new(binary)
        .args(["raw", "--pg", url])
        .args(["--clients", &RAW_CLIENTS.to_string()])
        .args(["--seconds", &RAW_SECS.to_string()])
        .output()
        .map_err(|e| format!("could not run inbox_load raw: {e}"))?;
    let said = String::from_utf8_lossy(&output.stdout);
    println!("{}", said.trim());
    if !output.status.success() {
        return Err(format!(
            "inbox_load raw failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    rate_in(&said, "raw ", " inserts/s").ok_or_else(|| format!("inbox_load raw said {said:?}"))
}

/// The number between `before` and `after` on the first line that has both.
fn rate_in(text: &str, before: &str, after: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let (_, rest) = line.split_once(before)?;
        let (number, _) = rest.split_once(after)?;
        number.rsplit(['(', ' ']).next()?.parse().ok()
    })
}

/// Runs the sender, striking with each fault along the way; the inbox's
/// throughput in deliveries/s.
fn drive(binary: &PathBuf, url: &str, instances: &mut [Instance]) -> Result<f64, String> {
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
    let mut faults = FAULTS.iter().peekable();
    let mut rate = None;
    for line in lines.map_while(Result::ok) {
        println!("{line}");
        rate = rate.or_else(|| rate_in(&line, "duplicated (", " deliveries/s"));
        let progress = line
            .strip_prefix("progress ")
            .and_then(|n| n.parse::<usize>().ok());
        while let Some(&&(fault, at)) = faults.peek() {
            if progress.is_none_or(|n| n < at) {
                break;
            }
            faults.next();
            strike(fault, binary, url, instances)?;
        }
    }
    let status = sender.wait().map_err(|e| e.to_string())?;
    if let Some((fault, _)) = faults.next() {
        return Err(format!(
            "the run ended before {fault:?}: not a valid inbox-load result"
        ));
    }
    if status.success() {
        println!("faults: instance {} killed with SIGKILL and restarted, inbox connections terminated, PostgreSQL restarted", VICTIM + 1);
        rate.ok_or_else(|| "the sender printed no throughput".to_owned())
    } else {
        Err(format!("inbox-load failed ({status})"))
    }
}

fn strike(
    fault: Fault,
    binary: &PathBuf,
    url: &str,
    instances: &mut [Instance],
) -> Result<(), String> {
    match fault {
        Fault::KillInstance => {
            let victim = &mut instances[VICTIM];
            let addr = victim.addr.clone();
            victim.kill();
            println!("instance {} ({addr}) killed with SIGKILL", VICTIM + 1);
            std::thread::sleep(Duration::from_millis(500));
            *victim = Instance::start(binary, url, &addr)?;
            println!("instance {} restarted on {addr}", VICTIM + 1);
        }
        Fault::TerminateConnections => {
            let output = Command::new(binary)
                .args(["terminate", "--pg", url])
                .output()
                .map_err(|e| format!("could not run inbox_load terminate: {e}"))?;
            if !output.status.success() {
                return Err(format!(
                    "inbox_load terminate failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            let said = String::from_utf8_lossy(&output.stdout);
            println!("inbox connections {}", said.trim());
        }
        Fault::RestartPostgres => {
            let (version, cluster) = cluster_of(url)?;
            let took = run_status(
                "pg_ctlcluster restart",
                as_root("pg_ctlcluster").args([&version, &cluster, "restart"]),
            )?;
            println!("PostgreSQL {version}/{cluster} restarted ({})", secs(took));
        }
    }
    Ok(())
}

/// `program`, through `sudo -n` unless this is root.
fn as_root(program: &str) -> Command {
    if rustix::process::geteuid().is_root() {
        Command::new(program)
    } else {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", program]);
        sudo
    }
}

/// The version and name of the local cluster listening on `url`'s port.
fn cluster_of(url: &str) -> Result<(String, String), String> {
    let port = pg_port(url);
    let output = Command::new("pg_lsclusters")
        .arg("-h")
        .output()
        .map_err(|e| format!("cannot restart PostgreSQL: pg_lsclusters: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            let (version, cluster, at) = (fields.next()?, fields.next()?, fields.next()?);
            (at == port).then(|| (version.to_owned(), cluster.to_owned()))
        })
        .ok_or_else(|| format!("cannot restart PostgreSQL: no local cluster on port {port}"))
}

/// The port of a `postgresql://user:pass@host:port/db` URL (5432 when it
/// names none).
fn pg_port(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split(['/', '?']).next().unwrap_or_default();
    match host.rsplit_once(':') {
        Some((_, port)) if !port.is_empty() && !host.ends_with(']') => port,
        _ => "5432",
    }
}

#[cfg(test)]
mod tests {
    use super::{pg_port, rate_in};

    #[test]
    fn the_rates_are_read_from_the_result_lines() {
        let sender = "20000 delivered, 18182 stored once, 0 lost, 0 duplicated (2421 deliveries/s over 8.3 s)";
        assert_eq!(
            rate_in(sender, "duplicated (", " deliveries/s"),
            Some(2421.0)
        );
        assert_eq!(
            rate_in(
                "raw 7712 inserts/s (38560 by 4 clients)",
                "raw ",
                " inserts/s"
            ),
            Some(7712.0)
        );
        assert_eq!(rate_in("progress 1000", "raw ", " inserts/s"), None);
    }

    #[test]
    fn the_port_is_read_from_the_url_or_is_postgres_s_default() {
        assert_eq!(pg_port("postgresql://u:p@127.0.0.1:5433/db"), "5433");
        assert_eq!(pg_port("postgresql://u:p@127.0.0.1/db?x=1"), "5432");
        assert_eq!(pg_port("postgresql://u:p:w@[::1]:6000/db"), "6000");
        assert_eq!(pg_port("postgresql://u@[::1]/db"), "5432");
        assert_eq!(pg_port("postgresql://localhost"), "5432");
    }
}
