//! `et demo`: a whole order lifecycle, as a merchant would run it, against
//! a local sandbox on loopback.
//!
//! [`run`] starts a sandbox (temporary state directory, sped-up clock) and
//! an et-http webhook receiver (module `setup`), then plays a script
//! (module `script`): a table of typed actions (the lifecycle, or the jump
//! run in `jump`), each one step (module `steps`). The merchant acts
//! through et-http's `Client`, the student through a small browser on
//! ET's pages (opening them, submitting their forms), ET through the
//! sandbox's admin actions (`AdminAction`, as the dashboard and `et
//! sandbox admin` name them); what a page shows is read from the
//! sandbox's typed `OrderView`, never from the page's markup. The demo
//! waits (bounded) for each notification (module `arrivals`). Each step
//! becomes a [`Step`] (module `report`); the run passes only if every step
//! did: every response verified, every notification arrived, verified and
//! was acknowledged.

use std::time::{Duration, Instant};

mod arrivals;
mod inbox;
mod jump;
mod options;
mod report;
mod runner;
mod script;
mod setup;
mod steps;

pub use self::options::DemoOptions;
pub use self::report::{DemoReport, Step, StepError};
pub use crate::web_client::WebError;

/// The school both demo runs order for, looked up by its English name.
const SCHOOL: &str = "University of Edinburgh";

/// Runs the demo, calling `on_step` as each step finishes.
pub async fn run(options: &DemoOptions, on_step: impl FnMut(&Step) + Send) -> DemoReport {
    let started = Instant::now();
    let mut runner = runner::Runner::new(on_step);
    let mut notifications = 0;
    if let Some(mut env) = setup::setup(&mut runner, options).await {
        // `None` means a step failed; the runner has recorded which.
        if options.jump {
            script::play(&mut runner, &mut env, jump::SCRIPT).await;
        } else if script::play(&mut runner, &mut env, script::LIFECYCLE)
            .await
            .is_some()
        {
            if let Some(store) = env.store.clone() {
                inbox::steps(&mut runner, &env, &store).await;
            }
        }
        notifications = env.arrivals.received;
        env.shutdown().await;
    }
    DemoReport {
        steps: runner.steps,
        notifications,
        total: started.elapsed(),
    }
}

/// `et demo`: run, print each step as it finishes, then a summary line.
pub(crate) async fn command(args: &crate::cli::DemoArgs) -> crate::CliResult {
    let options = DemoOptions {
        bits: args.bits as usize,
        time_scale: args.time_scale,
        notify_timeout: Duration::from_secs(args.timeout),
        receiver_salt: None,
        jump: args.jump,
        inbox: args.inbox,
        tls: args.tls,
        merchant_key: args.merchant_key.clone(),
    };
    crate::output::line(if options.jump {
        "et demo: an order the student places at ET (third-party jump), against a local ET sandbox"
    } else {
        "et demo: one order's whole life against a local ET sandbox"
    })?;
    let mut unprinted = None;
    let report = run(&options, |step| {
        if let Err(e) = crate::output::line(step) {
            unprinted.get_or_insert(e);
        }
    })
    .await;
    if let Some(e) = unprinted {
        return Err(e);
    }
    let total_ms = report.total.as_secs_f64() * 1e3;
    match report.failure() {
        None => crate::output::line(format_args!(
            "passed: {} steps, every response verified, {} notifications verified and acknowledged, {total_ms:.0} ms",
            report.steps.len(),
            report.notifications,
        )),
        Some(step) => {
            let reason = step.outcome.as_ref().err().map(ToString::to_string);
            Err(crate::Failure::rejected(format!(
                "demo failed at {:?}: {}",
                step.name,
                reason.unwrap_or_default()
            )))
        }
    }
}
