//! The supervisor's decisions for one state, as a pure state machine: the restart-intensity
//! window, the backoff between attempts, coalescing of failures, and what to do on each
//! input. No clock, no threads, no user code: the driver (`driver`) feeds it the time and
//! does what it answers.
//!
//! Imports only its sibling `config`; must not import `state`, `async_state`, `health`,
//! `shutdown` or `private`.

use super::config::Supervise;
use std::collections::VecDeque;
use std::time::Duration;

/// Where one supervised state is, as the supervisor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Running (or not started): a failure is acted on.
    Watching,
    /// A restart attempt is due at `at` (time since the driver's origin).
    Waiting { at: Duration, attempt: u32 },
    /// A restart attempt runs.
    Restarting { attempt: u32 },
    /// Failed more than `max_restarts` times within `within`: nothing more is done until
    /// [`Machine::reset`].
    GaveUp,
}

/// What the driver does after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing (the input was coalesced or ignored).
    None,
    /// Run restart attempt `attempt` once `delay` has passed.
    Schedule { attempt: u32, delay: Duration },
    /// Give up: stop the state and report it.
    GiveUp,
}

/// One state's supervision decisions.
#[derive(Debug, Clone)]
pub(crate) struct Machine {
    config: Supervise,
    phase: Phase,
    /// When the failures still inside the intensity window happened.
    failures: VecDeque<Duration>,
    /// Restarts that succeeded, over the state's life (health's `restarts`).
    restarts: u32,
    /// xorshift64 state: the jitter, deterministic for a seed.
    rng: u64,
}

impl Machine {
    pub(crate) fn new(config: Supervise, seed: u64) -> Self {
        Self {
            config,
            phase: Phase::Watching,
            failures: VecDeque::new(),
            restarts: 0,
            rng: seed | 1,
        }
    }

    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    pub(crate) fn restarts(&self) -> u32 {
        self.restarts
    }

    pub(crate) fn config(&self) -> &Supervise {
        &self.config
    }

    /// The state failed at `now` (its value reported it, or its check failed). While a
    /// restart is pending or running, or after giving up, the failure is coalesced: nothing.
    pub(crate) fn fail(&mut self, now: Duration) -> Action {
        match self.phase {
            Phase::Watching => self.count_failure(now, 1),
            Phase::Waiting { .. } | Phase::Restarting { .. } | Phase::GaveUp => Action::None,
        }
    }

    /// The attempt scheduled for `now` or earlier begins; `None` if none is due.
    pub(crate) fn begin_attempt(&mut self, now: Duration) -> Option<u32> {
        match self.phase {
            Phase::Waiting { at, attempt } if at <= now => {
                self.phase = Phase::Restarting { attempt };
                Some(attempt)
            }
            _ => None,
        }
    }

    /// The running attempt ended at `now`: `ok`, or its start failed, which counts as a
    /// failure and is retried after the backoff (or gives up).
    pub(crate) fn attempt_ended(&mut self, now: Duration, ok: bool) -> Action {
        let Phase::Restarting { attempt } = self.phase else {
            return Action::None;
        };
        if ok {
            self.restarts += 1;
            self.phase = Phase::Watching;
            Action::None
        } else {
            self.count_failure(now, attempt + 1)
        }
    }

    /// Supervision starts over (a user's restart or force close cleared a give-up, or the
    /// user stopped the state while an attempt waited): the window is emptied.
    pub(crate) fn reset(&mut self) {
        if !matches!(self.phase, Phase::Restarting { .. }) {
            self.phase = Phase::Watching;
        }
        self.failures.clear();
    }

    /// The attempt that began is not run: the state was stopped by its user (or a teardown)
    /// meanwhile. Nothing is counted.
    pub(crate) fn cancel(&mut self) {
        if matches!(self.phase, Phase::Restarting { .. }) {
            self.phase = Phase::Watching;
        }
    }

    /// When the pending attempt is due, if one is.
    pub(crate) fn due(&self) -> Option<Duration> {
        match self.phase {
            Phase::Waiting { at, .. } => Some(at),
            _ => None,
        }
    }

    fn count_failure(&mut self, now: Duration, attempt: u32) -> Action {
        let within = self.config.within;
        while self
            .failures
            .front()
            .is_some_and(|&at| now.saturating_sub(at) >= within)
        {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() > self.config.max_restarts as usize {
            self.phase = Phase::GaveUp;
            return Action::GiveUp;
        }
        let delay = self.backoff(self.failures.len() as u32);
        self.phase = Phase::Waiting {
            at: now + delay,
            attempt,
        };
        Action::Schedule { attempt, delay }
    }

    /// Exponential in the failures inside the window, with "equal jitter" (half fixed, half
    /// random), bounded by the configured range.
    fn backoff(&mut self, failures: u32) -> Duration {
        let (min, max) = (self.config.backoff_min, self.config.backoff_max);
        let exp = min.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        let base = exp.min(max);
        let half = base / 2;
        let jitter = half.mul_f64(self.next_unit());
        (half + jitter).clamp(min, max)
    }

    /// A number in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config(max_restarts: u32, within_ms: u64) -> Supervise {
        Supervise::new()
            .backoff(Duration::from_millis(100), Duration::from_secs(5))
            .max_restarts(max_restarts)
            .within(Duration::from_millis(within_ms))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A machine (5 restarts a minute) that failed at 0 and began its first attempt at 10 s.
    fn in_first_attempt() -> Machine {
        let mut m = Machine::new(config(5, 60_000), 7);
        m.fail(ms(0));
        m.begin_attempt(ms(10_000));
        m
    }

    #[test]
    fn a_failure_schedules_a_restart_and_success_counts_it() {
        let mut m = Machine::new(config(5, 60_000), 7);
        let Action::Schedule { attempt: 1, delay } = m.fail(ms(0)) else {
            panic!("a restart is scheduled")
        };
        assert!(delay >= ms(100) && delay <= ms(5000));
        assert_eq!(m.begin_attempt(ms(0)), None, "not due yet");
        assert_eq!(m.fail(ms(1)), Action::None, "coalesced while waiting");
        assert_eq!(m.begin_attempt(delay), Some(1));
        assert_eq!(m.fail(delay), Action::None, "coalesced while restarting");
        assert_eq!(m.attempt_ended(delay, true), Action::None);
        assert_eq!((m.phase(), m.restarts()), (Phase::Watching, 1));
    }

    #[test]
    fn a_cancelled_attempt_counts_nothing() {
        let mut m = in_first_attempt();
        m.cancel();
        assert_eq!((m.phase(), m.restarts()), (Phase::Watching, 0));
    }

    #[test]
    fn a_failed_attempt_is_retried_with_the_next_attempt_number() {
        let mut m = in_first_attempt();
        assert!(matches!(
            m.attempt_ended(ms(10_000), false),
            Action::Schedule { attempt: 2, .. }
        ));
    }

    #[test]
    fn more_than_max_restarts_within_the_window_gives_up_until_reset() {
        let mut m = Machine::new(config(2, 60_000), 7);
        for at in [0, 10_000] {
            assert!(matches!(m.fail(ms(at)), Action::Schedule { .. }));
            m.begin_attempt(ms(at + 5000));
            m.attempt_ended(ms(at + 5000), true);
        }
        assert_eq!(m.fail(ms(20_000)), Action::GiveUp);
        assert_eq!(m.fail(ms(20_001)), Action::None);
        m.reset();
        assert!(matches!(m.fail(ms(20_002)), Action::Schedule { .. }));
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let mut m = Machine::new(config(1, 1000), 7);
        m.fail(ms(0));
        m.begin_attempt(ms(5000));
        m.attempt_ended(ms(5000), true);
        assert!(matches!(m.fail(ms(6000)), Action::Schedule { .. }));
    }

    #[derive(Debug, Clone)]
    enum Input {
        Fail,
        Begin,
        End(bool),
        Reset,
    }

    fn input() -> impl Strategy<Value = (u64, Input)> {
        let kind = prop_oneof![
            4 => Just(Input::Fail),
            3 => Just(Input::Begin),
            3 => any::<bool>().prop_map(Input::End),
            1 => Just(Input::Reset),
        ];
        (0..3000u64, kind)
    }

    /// The model's rule for a counted failure: give up past `max_restarts`, else a backoff
    /// in range.
    fn counted(
        m: &Machine,
        cfg: &Supervise,
        window: &mut Vec<Duration>,
        now: Duration,
        action: Action,
    ) -> Result<(), TestCaseError> {
        window.retain(|&at| now.saturating_sub(at) < cfg.within);
        window.push(now);
        if window.len() > cfg.max_restarts as usize {
            prop_assert_eq!(action, Action::GiveUp);
            prop_assert_eq!(m.phase(), Phase::GaveUp);
        } else {
            let Action::Schedule { delay, .. } = action else {
                return Err(TestCaseError::fail(format!("expected a schedule, got {action:?}")));
            };
            prop_assert!(delay >= cfg.backoff_min && delay <= cfg.backoff_max);
            prop_assert_eq!(m.due(), Some(now + delay));
        }
        Ok(())
    }

    proptest! {
        /// Against a model: backoff stays in range, attempts never overlap, giving up happens
        /// exactly when the window holds more than `max_restarts` failures, and only a reset
        /// leaves it.
        #[test]
        fn the_machine_keeps_its_rules(
            max_restarts in 0..6u32,
            within in 1..20_000u64,
            seed in any::<u64>(),
            inputs in proptest::collection::vec(input(), 1..80),
        ) {
            let cfg = config(max_restarts, within);
            let mut m = Machine::new(cfg.clone(), seed);
            let mut now = Duration::ZERO;
            let mut window: Vec<Duration> = Vec::new();
            let mut restarts = 0;
            for (step, input) in inputs {
                now += ms(step);
                let before = m.phase();
                match input {
                    Input::Fail => {
                        let action = m.fail(now);
                        if before == Phase::Watching {
                            counted(&m, &cfg, &mut window, now, action)?;
                        } else {
                            prop_assert_eq!(action, Action::None);
                            prop_assert_eq!(m.phase(), before);
                        }
                    }
                    Input::Begin => {
                        let begun = m.begin_attempt(now);
                        match before {
                            Phase::Waiting { at, attempt } if at <= now => {
                                prop_assert_eq!(begun, Some(attempt));
                            }
                            _ => {
                                prop_assert_eq!(begun, None);
                                prop_assert_eq!(m.phase(), before);
                            }
                        }
                    }
                    Input::End(ok) => {
                        let action = m.attempt_ended(now, ok);
                        match before {
                            Phase::Restarting { .. } if ok => {
                                restarts += 1;
                                prop_assert_eq!(m.phase(), Phase::Watching);
                            }
                            Phase::Restarting { .. } => counted(&m, &cfg, &mut window, now, action)?,
                            _ => prop_assert_eq!(action, Action::None),
                        }
                    }
                    Input::Reset => {
                        m.reset();
                        window.clear();
                        if !matches!(before, Phase::Restarting { .. }) {
                            prop_assert_eq!(m.phase(), Phase::Watching);
                        }
                    }
                }
                prop_assert_eq!(m.restarts(), restarts);
            }
        }
    }
}
