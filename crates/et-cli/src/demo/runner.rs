//! Runs steps one after another, reporting each as it finishes and
//! stopping at the first failure.

use std::future::Future;
use std::time::Instant;

use super::report::{Step, StepError};

/// Records steps and stops the run at the first failure.
pub(super) struct Runner<'a> {
    pub(super) steps: Vec<Step>,
    on_step: Box<dyn FnMut(&Step) + Send + 'a>,
}

impl<'a> Runner<'a> {
    pub(super) fn new(on_step: impl FnMut(&Step) + Send + 'a) -> Self {
        Runner {
            steps: Vec::new(),
            on_step: Box::new(on_step),
        }
    }

    /// Runs one step: `Some(value)` if it passed.
    pub(super) async fn step<T>(
        &mut self,
        name: &'static str,
        work: impl Future<Output = Result<(T, String), StepError>>,
    ) -> Option<T> {
        let started = Instant::now();
        let (value, outcome) = match work.await {
            Ok((value, detail)) => (Some(value), Ok(detail)),
            Err(reason) => (None, Err(reason)),
        };
        let step = Step {
            name,
            outcome,
            elapsed: started.elapsed(),
        };
        (self.on_step)(&step);
        self.steps.push(step);
        value
    }
}
