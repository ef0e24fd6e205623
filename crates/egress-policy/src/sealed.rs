//! Sealed mode: the run-time air-gap state, how others observe it, and the policy that keeps
//! every exporter on this host while the site is sealed.
//!
//! [`SealedMode`] is shared state, not configuration: it can change while a service runs, and
//! exporters are decided again when it does (through [`SealWatcher`] or a listener). No async
//! runtime is needed.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use crate::policy::{EgressDecision, EgressPolicy, EgressRequest};
use stellaops_telemetry_model::sync::{lock, wait_timeout_while};

/// Whether the site is sealed (air-gapped: nothing may leave the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealState {
    /// Exporters may reach remote endpoints (subject to other policies).
    Unsealed,
    /// Only local endpoints: loopback, Unix sockets, files.
    Sealed,
}

impl SealState {
    /// `sealed` or `unsealed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SealState::Unsealed => "unsealed",
            SealState::Sealed => "sealed",
        }
    }

    /// Whether this is [`SealState::Sealed`].
    pub const fn is_sealed(self) -> bool {
        matches!(self, SealState::Sealed)
    }
}

impl fmt::Display for SealState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input to [`SealState::from_str`] was not a seal state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a seal state of sealed or unsealed (or true/false), found `{found}`")]
pub struct UnknownSealState {
    /// What was found.
    pub found: String,
}

impl FromStr for SealState {
    type Err = UnknownSealState;

    /// Parses `sealed`/`true`/`1` and `unsealed`/`false`/`0`, in any case (the forms an
    /// environment variable is likely to hold).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sealed" | "true" | "1" => Ok(SealState::Sealed),
            "unsealed" | "false" | "0" => Ok(SealState::Unsealed),
            _ => Err(UnknownSealState {
                found: s.to_owned(),
            }),
        }
    }
}

/// A change of [`SealedMode`]: the new state and the generation it started.
///
/// Generations increase by one per change, so an observer that sees a generation it has
/// already handled can ignore the notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealChange {
    /// The state after the change.
    pub state: SealState,
    /// The generation after the change (0 is the initial state).
    pub generation: u64,
}

type Listener = Arc<dyn Fn(SealChange) + Send + Sync>;

struct Shared {
    current: Mutex<SealChange>,
    changed: Condvar,
    listeners: Mutex<Listeners>,
}

#[derive(Default)]
struct Listeners {
    next_id: u64,
    by_id: BTreeMap<u64, Listener>,
}

/// The site's sealed state, shared and changeable at run time. Clones share the same state.
///
/// ```
/// use stellaops_egress_policy::{SealedMode, SealState};
/// use std::time::Duration;
///
/// let mode = SealedMode::new(SealState::Unsealed);
/// let mut watcher = mode.subscribe();
/// let seen = std::thread::spawn(move || watcher.wait_timeout(Duration::from_secs(30)));
/// mode.seal();
/// let change = seen.join().unwrap().expect("the watcher sees the change");
/// assert_eq!(change.state, SealState::Sealed);
/// assert_eq!(change.generation, 1);
/// ```
#[derive(Clone)]
pub struct SealedMode {
    shared: Arc<Shared>,
}

impl SealedMode {
    /// New shared state, starting at generation 0.
    pub fn new(initial: SealState) -> Self {
        SealedMode {
            shared: Arc::new(Shared {
                current: Mutex::new(SealChange {
                    state: initial,
                    generation: 0,
                }),
                changed: Condvar::new(),
                listeners: Mutex::new(Listeners::default()),
            }),
        }
    }

    /// The current state.
    pub fn state(&self) -> SealState {
        self.snapshot().state
    }

    /// Whether the site is sealed now.
    pub fn is_sealed(&self) -> bool {
        self.state().is_sealed()
    }

    /// How many changes there have been.
    pub fn generation(&self) -> u64 {
        self.snapshot().generation
    }

    /// The current state and generation, read together.
    pub fn snapshot(&self) -> SealChange {
        *lock(&self.shared.current)
    }

    /// Seals the site. Returns the change, or `None` if it was already sealed.
    pub fn seal(&self) -> Option<SealChange> {
        self.set(SealState::Sealed)
    }

    /// Unseals the site. Returns the change, or `None` if it was already unsealed.
    pub fn unseal(&self) -> Option<SealChange> {
        self.set(SealState::Unsealed)
    }

    /// Sets the state. Setting the current state again is no change: the generation stays and
    /// nobody is notified. On a change, waiting watchers wake and listeners run on this thread
    /// (after the state is updated, without any lock held).
    pub fn set(&self, state: SealState) -> Option<SealChange> {
        let change = {
            let mut current = lock(&self.shared.current);
            if current.state == state {
                return None;
            }
            current.state = state;
            current.generation = current.generation.saturating_add(1);
            *current
        };
        self.shared.changed.notify_all();
        let listeners: Vec<Listener> = lock(&self.shared.listeners)
            .by_id
            .values()
            .cloned()
            .collect();
        for listener in listeners {
            listener(change);
        }
        Some(change)
    }

    /// A watcher that reports changes after this call.
    pub fn subscribe(&self) -> SealWatcher {
        SealWatcher {
            seen: self.generation(),
            mode: self.clone(),
        }
    }

    /// Calls `listener` on every change until the returned [`ListenerHandle`] is dropped.
    ///
    /// Listeners run on the thread that changed the state and should return quickly (decide
    /// the exporters again, or signal a thread that does). When two threads change the state
    /// at once, listeners may see the changes out of order: compare
    /// [`SealChange::generation`] to drop stale ones.
    pub fn on_change(
        &self,
        listener: impl Fn(SealChange) + Send + Sync + 'static,
    ) -> ListenerHandle {
        let mut listeners = lock(&self.shared.listeners);
        let id = listeners.next_id;
        listeners.next_id = listeners.next_id.wrapping_add(1);
        listeners.by_id.insert(id, Arc::new(listener));
        ListenerHandle {
            shared: Arc::downgrade(&self.shared),
            id,
        }
    }
}

impl Default for SealedMode {
    /// Unsealed.
    fn default() -> Self {
        SealedMode::new(SealState::Unsealed)
    }
}

impl fmt::Debug for SealedMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.snapshot();
        f.debug_struct("SealedMode")
            .field("state", &snapshot.state)
            .field("generation", &snapshot.generation)
            .finish()
    }
}

/// Keeps a listener registered with [`SealedMode::on_change`]; dropping it unregisters.
#[must_use = "dropping the handle unregisters the listener"]
pub struct ListenerHandle {
    shared: Weak<Shared>,
    id: u64,
}

impl fmt::Debug for ListenerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListenerHandle")
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.listeners).by_id.remove(&self.id);
        }
    }
}

/// Observes a [`SealedMode`]: reports each generation it has not reported yet.
///
/// Several changes between two looks are reported once, with the latest state (exporters only
/// need deciding against the state that holds now).
#[derive(Debug, Clone)]
pub struct SealWatcher {
    mode: SealedMode,
    seen: u64,
}

impl SealWatcher {
    /// Whether the state changed since the last reported change (or since subscribing).
    pub fn has_changed(&self) -> bool {
        self.mode.generation() != self.seen
    }

    /// The change, if there was one since the last look; never blocks.
    pub fn changed(&mut self) -> Option<SealChange> {
        let now = self.mode.snapshot();
        self.report(now)
    }

    /// Waits up to `timeout` for a change; returns at once if one is pending. `None` when the
    /// timeout passed without a change.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<SealChange> {
        let seen = self.seen;
        let guard = lock(&self.mode.shared.current);
        let (guard, _timed_out) =
            wait_timeout_while(&self.mode.shared.changed, guard, timeout, |current| {
                current.generation == seen
            });
        let now = *guard;
        drop(guard);
        self.report(now)
    }

    /// The state now, without marking anything as seen.
    pub fn current(&self) -> SealChange {
        self.mode.snapshot()
    }

    fn report(&mut self, now: SealChange) -> Option<SealChange> {
        if now.generation == self.seen {
            return None;
        }
        self.seen = now.generation;
        Some(now)
    }
}

/// Remediation for an exporter refused because the site is sealed.
const SEALED_REMEDIATION: &str = "sealed mode allows only loopback, unix-socket or file \
     exporters: point the exporter at a collector on this host \
     (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317, or the signal's \
     OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT; unix:///path/to/otel.sock also works) or use the file \
     exporter. If data may leave this host, the site must be unsealed by its air-gap \
     administrator (`stella-telemetry egress check ENDPOINT` without --sealed shows what \
     unsealed allows)";

/// Sealed mode as a policy: while the [`SealedMode`] is sealed, only loopback, Unix socket and
/// file endpoints are allowed; while unsealed, every valid endpoint is. Reads the state on
/// every decision.
///
/// ```
/// use stellaops_egress_policy::*;
///
/// let policy = SealedModePolicy::new(SealedMode::new(SealState::Sealed));
/// let decide = |e: &str| policy.decide(&EgressRequest::new("otlp", Signal::Metrics, Endpoint::parse(e)));
/// assert!(decide("unix:///run/otel.sock").allowed());
/// let refused = decide("https://collector.example:4318");
/// assert!(!refused.allowed());
/// assert!(refused.remediation().unwrap().contains("127.0.0.1:4317"));
/// ```
#[derive(Debug, Clone)]
pub struct SealedModePolicy {
    mode: SealedMode,
}

impl SealedModePolicy {
    /// A policy following `mode` (keep a clone of `mode` to seal and unseal).
    pub fn new(mode: SealedMode) -> Self {
        SealedModePolicy { mode }
    }

    /// The state this policy follows.
    pub fn mode(&self) -> &SealedMode {
        &self.mode
    }
}

impl EgressPolicy for SealedModePolicy {
    fn decide(&self, request: &EgressRequest) -> EgressDecision {
        let endpoint = request.endpoint();
        if endpoint.error().is_some() {
            return EgressDecision::deny_invalid(request);
        }
        if !self.mode.is_sealed() {
            return EgressDecision::allow(format!(
                "sealed mode is off, so {} may be used",
                endpoint.explain()
            ));
        }
        if endpoint.is_local() {
            return EgressDecision::allow(format!(
                "sealed mode is on and {} stays on this host",
                endpoint.explain()
            ));
        }
        EgressDecision::deny(
            format!(
                "sealed mode is on and {} is a {} endpoint, not a local one; local means \
                 loopback, a Unix socket or a file, and names other than localhost are never \
                 resolved to decide",
                endpoint.explain(),
                endpoint.class()
            ),
            SEALED_REMEDIATION,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Endpoint, Signal};
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn setting_the_same_state_is_no_change() {
        let mode = SealedMode::new(SealState::Sealed);
        assert_eq!(mode.seal(), None);
        assert_eq!(mode.generation(), 0);
        assert_eq!(
            mode.unseal(),
            Some(SealChange {
                state: SealState::Unsealed,
                generation: 1
            })
        );
        assert!(!mode.is_sealed());
    }

    #[test]
    fn watchers_report_each_pending_change_once_with_the_latest_state() {
        let mode = SealedMode::default();
        let mut watcher = mode.subscribe();
        assert!(!watcher.has_changed());
        assert_eq!(watcher.changed(), None);
        mode.seal();
        mode.unseal();
        mode.seal();
        assert!(watcher.has_changed());
        assert_eq!(
            watcher.changed(),
            Some(SealChange {
                state: SealState::Sealed,
                generation: 3
            })
        );
        assert_eq!(watcher.changed(), None);
        // A pending change is returned at once, and no change times out (zero timeout).
        mode.unseal();
        assert_eq!(
            watcher
                .wait_timeout(Duration::from_secs(60))
                .map(|c| c.state),
            Some(SealState::Unsealed)
        );
        assert_eq!(watcher.wait_timeout(Duration::ZERO), None);
    }

    #[test]
    fn a_waiting_thread_wakes_on_a_change() {
        let mode = SealedMode::default();
        let mut watcher = mode.subscribe();
        let waiter = std::thread::spawn(move || watcher.wait_timeout(Duration::from_secs(60)));
        mode.seal();
        assert_eq!(
            waiter.join().unwrap().map(|c| c.state),
            Some(SealState::Sealed)
        );
    }

    #[test]
    fn listeners_run_on_change_until_their_handle_drops() {
        let mode = SealedMode::default();
        let seen = Arc::new(AtomicU64::new(0));
        let handle = {
            let seen = Arc::clone(&seen);
            mode.on_change(move |change| seen.store(change.generation, Ordering::SeqCst))
        };
        mode.seal();
        assert_eq!(seen.load(Ordering::SeqCst), 1);
        mode.seal();
        assert_eq!(seen.load(Ordering::SeqCst), 1, "no change, no call");
        drop(handle);
        mode.unseal();
        assert_eq!(seen.load(Ordering::SeqCst), 1, "unregistered");
    }

    #[test]
    fn a_listener_may_read_and_change_the_state_without_deadlock() {
        let mode = SealedMode::default();
        let inner = mode.clone();
        let _handle = mode.on_change(move |change| {
            if change.state.is_sealed() {
                assert!(inner.is_sealed());
                inner.unseal();
            }
        });
        mode.seal();
        assert_eq!(mode.state(), SealState::Unsealed);
        assert_eq!(mode.generation(), 2);
    }

    #[test]
    fn the_policy_reads_the_state_on_every_decision() {
        let mode = SealedMode::default();
        let policy = SealedModePolicy::new(mode.clone());
        let request = EgressRequest::new(
            "otlp",
            Signal::Traces,
            Endpoint::parse("https://collector.example:4318"),
        );
        assert!(policy.decide(&request).allowed());
        mode.seal();
        let denied = policy.decide(&request);
        assert!(!denied.allowed());
        assert!(denied.reason().contains("collector.example"));
        let remediation = denied.remediation().unwrap();
        assert!(remediation.contains("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317"));
        assert!(remediation.contains("file exporter"));
        mode.unseal();
        assert!(policy.decide(&request).allowed());
    }

    #[test]
    fn seal_states_parse_from_environment_forms() {
        assert_eq!("Sealed".parse(), Ok(SealState::Sealed));
        assert_eq!("true".parse(), Ok(SealState::Sealed));
        assert_eq!(" 0 ".parse(), Ok(SealState::Unsealed));
        assert!("maybe".parse::<SealState>().is_err());
    }
}
