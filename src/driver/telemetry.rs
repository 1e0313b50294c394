//! Traces, metrics and security events of every operation (R-OPS-1 to R-OPS-3), emitted by both drivers
//! through one helper from what the engine decided ([`Report`]).
//!
//! # Traces (R-OPS-1)
//! Each operation runs in one `tracing` span, target `refresh_rotation`, named after the operation
//! (`sign_in`, `refresh`, `legacy_refresh`, `revoke`, `global_sign_out`, `introspect`), with the
//! fields `client_id`, `outcome` (see [`Outcome`]), `family` (the family's `origin_jti`, once its token
//! was authenticated) and `error` (the Cognito exception name, on failure). A reuse detection is also
//! a `WARN` event, a family revocation and a global sign-out `INFO` events, inside that span. No secret and no token is ever
//! recorded: not the client secret, the SECRET_HASH, the refresh token, the device key, nor a JWT.
//!
//! # Metrics (R-OPS-2)
//! Through the `metrics` facade: nothing is recorded until the host installs a recorder (for example
//! `metrics-exporter-prometheus`). No label carries a user or client identifier.
//!
//! | Name | Type | Labels | What |
//! |---|---|---|---|
//! | [`refresh_rotation_refresh_total`](REFRESH_TOTAL) | counter | `operation` (`refresh`, `legacy_refresh`), `outcome` | refresh requests by outcome |
//! | [`refresh_rotation_refresh_duration_seconds`](REFRESH_DURATION_SECONDS) | histogram | `operation` | time to answer a refresh, store I/O included |
//! | [`refresh_rotation_sign_in_total`](SIGN_IN_TOTAL) | counter | `outcome` (`issued`, `client_error`, `internal`, `cancelled`) | sign-ins |
//! | [`refresh_rotation_revoke_total`](REVOKE_TOTAL) | counter | `outcome` (`revoked`, `unchanged`, `client_error`, `internal`, `cancelled`) | RevokeToken requests |
//! | [`refresh_rotation_global_sign_out_total`](GLOBAL_SIGN_OUT_TOTAL) | counter | `outcome` (`revoked`, `unchanged`, `client_error`, `internal`, `cancelled`) | global sign-outs |
//! | [`refresh_rotation_introspect_total`](INTROSPECT_TOTAL) | counter | `outcome` (`active`, `inactive`, `client_error`, `internal`, `cancelled`) | introspection requests |
//! | [`refresh_rotation_revocations_total`](REVOCATIONS_TOTAL) | counter | `cause` (`revoke_token`, `reuse`, `client_deleted`, `global_sign_out`) | families revoked |
//! | [`refresh_rotation_reuse_detected_total`](REUSE_DETECTED_TOTAL) | counter | `policy` (`reject`, `revoke_family`) | reuse detections, one per [`SecurityEvent::ReuseDetected`] |
//!
//! The refresh outcomes are `advanced`, `retry`, `no_rotation`, `reuse`, `revoked`, `expired`,
//! `invalid`, `client_error`, `internal` and `cancelled` ([`Outcome`]). [`describe_metrics`] gives a
//! recorder the help text of each.
//!
//! # Cancellation
//! With the asynchronous driver a request's future can be dropped before it ends (a caller that hung
//! up, a timeout); a panic unwinding through it is not a cancellation and is not recorded. The drop
//! still records the request: outcome `cancelled`, and the traces and metrics of
//! the security events it had come to, including a reuse it had detected while it awaited the family's
//! revocation (which may or may not have been written). Those events are offered to an
//! [`AsyncSecurityEventSink`](crate::events::AsyncSecurityEventSink) with one poll each: a sink that
//! completes at once (a channel send) receives them, one that would wait does not. Likewise, the sink is
//! awaited inside the request's future: a request dropped while a sink call waits leaves its later
//! events undelivered to the sink (they are traced and counted already). A host that needs every event
//! in its sink gives one that completes at once, or runs each request to its end (in a spawned task).
//!
//! # Security events (R-OPS-3)
//! After the flow is over, and so after every store write it made, the driver hands each
//! [`SecurityEvent`] of the report to the host's sink, once.

use std::time::Instant;

use metrics::{Key, Label, Level, Metadata};
use tracing::Span;

use crate::engine::{ClientId, Operation, Outcome, Report, ReusePolicy};
use crate::error::Error;
use crate::events::{RevocationCause, SecurityEvent};

/// Counter: refresh requests (GetTokensFromRefreshToken and the legacy flow), labelled `operation` and
/// `outcome`.
pub const REFRESH_TOTAL: &str = "refresh_rotation_refresh_total";
/// Histogram, in seconds: the time to answer a refresh, store I/O included; labelled `operation`.
pub const REFRESH_DURATION_SECONDS: &str = "refresh_rotation_refresh_duration_seconds";
/// Counter: sign-ins, labelled `outcome`.
pub const SIGN_IN_TOTAL: &str = "refresh_rotation_sign_in_total";
/// Counter: RevokeToken requests, labelled `outcome`.
pub const REVOKE_TOTAL: &str = "refresh_rotation_revoke_total";
/// Counter: global sign-outs, labelled `outcome`.
pub const GLOBAL_SIGN_OUT_TOTAL: &str = "refresh_rotation_global_sign_out_total";
/// Counter: introspection requests (R-OAUTH-7), labelled `outcome`.
pub const INTROSPECT_TOTAL: &str = "refresh_rotation_introspect_total";
/// Counter: families revoked, labelled `cause`.
pub const REVOCATIONS_TOTAL: &str = "refresh_rotation_revocations_total";
/// Counter: reuse detections (R-ROT-4, R-ROT-7), labelled `policy`.
pub const REUSE_DETECTED_TOTAL: &str = "refresh_rotation_reuse_detected_total";

/// Describes every metric to the installed recorder (units and help text, the `# HELP` lines of a
/// Prometheus exporter). Call it once after installing the recorder; without one it does nothing.
pub fn describe_metrics() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(
        REFRESH_TOTAL,
        Unit::Count,
        "Refresh requests by operation and outcome"
    );
    describe_histogram!(
        REFRESH_DURATION_SECONDS,
        Unit::Seconds,
        "Time to answer a refresh, store I/O included"
    );
    describe_counter!(SIGN_IN_TOTAL, Unit::Count, "Sign-ins by outcome");
    describe_counter!(REVOKE_TOTAL, Unit::Count, "RevokeToken requests by outcome");
    describe_counter!(
        GLOBAL_SIGN_OUT_TOTAL,
        Unit::Count,
        "Global sign-outs by outcome"
    );
    describe_counter!(
        INTROSPECT_TOTAL,
        Unit::Count,
        "Introspection requests by outcome"
    );
    describe_counter!(REVOCATIONS_TOTAL, Unit::Count, "Families revoked, by cause");
    describe_counter!(
        REUSE_DETECTED_TOTAL,
        Unit::Count,
        "Refresh token reuse detections, by reuse policy"
    );
}

const METADATA: Metadata<'static> =
    Metadata::new("refresh_rotation", Level::INFO, Some(module_path!()));

// Every key is a static built from static labels, so recording allocates nothing and hashes nothing at
// run time: the hot path pays one recorder lookup per metric.
macro_rules! static_key {
    ($name:expr, [$($k:literal => $v:literal),*]) => {{
        static LABELS: [Label; 0 $(+ { let _ = $k; 1 })*] = [$(Label::from_static_parts($k, $v)),*];
        static KEY: Key = Key::from_static_parts($name, &LABELS);
        &KEY
    }};
}

macro_rules! outcome_key {
    ($outcome:expr, $name:expr, [$($k:literal => $v:literal),*]) => {
        match $outcome {
            Outcome::Issued => static_key!($name, [$($k => $v,)* "outcome" => "issued"]),
            Outcome::Advanced => static_key!($name, [$($k => $v,)* "outcome" => "advanced"]),
            Outcome::Retry => static_key!($name, [$($k => $v,)* "outcome" => "retry"]),
            Outcome::NoRotation => static_key!($name, [$($k => $v,)* "outcome" => "no_rotation"]),
            Outcome::Reuse => static_key!($name, [$($k => $v,)* "outcome" => "reuse"]),
            Outcome::Revoked => static_key!($name, [$($k => $v,)* "outcome" => "revoked"]),
            Outcome::Expired => static_key!($name, [$($k => $v,)* "outcome" => "expired"]),
            Outcome::Invalid => static_key!($name, [$($k => $v,)* "outcome" => "invalid"]),
            Outcome::Unchanged => static_key!($name, [$($k => $v,)* "outcome" => "unchanged"]),
            Outcome::ClientError => static_key!($name, [$($k => $v,)* "outcome" => "client_error"]),
            Outcome::Cancelled => static_key!($name, [$($k => $v,)* "outcome" => "cancelled"]),
            Outcome::Internal => static_key!($name, [$($k => $v,)* "outcome" => "internal"]),
            Outcome::Active => static_key!($name, [$($k => $v,)* "outcome" => "active"]),
            Outcome::Inactive => static_key!($name, [$($k => $v,)* "outcome" => "inactive"]),
        }
    };
}

fn outcome_key(operation: Operation, outcome: Outcome) -> &'static Key {
    match operation {
        Operation::Refresh => outcome_key!(outcome, REFRESH_TOTAL, ["operation" => "refresh"]),
        Operation::LegacyRefresh => {
            outcome_key!(outcome, REFRESH_TOTAL, ["operation" => "legacy_refresh"])
        }
        Operation::SignIn => outcome_key!(outcome, SIGN_IN_TOTAL, []),
        Operation::Revoke => outcome_key!(outcome, REVOKE_TOTAL, []),
        Operation::GlobalSignOut => outcome_key!(outcome, GLOBAL_SIGN_OUT_TOTAL, []),
        Operation::Introspect => outcome_key!(outcome, INTROSPECT_TOTAL, []),
    }
}

fn duration_key(operation: Operation) -> &'static Key {
    if operation == Operation::LegacyRefresh {
        static_key!(REFRESH_DURATION_SECONDS, ["operation" => "legacy_refresh"])
    } else {
        static_key!(REFRESH_DURATION_SECONDS, ["operation" => "refresh"])
    }
}

fn revocation_key(cause: RevocationCause) -> &'static Key {
    match cause {
        RevocationCause::RevokeToken => static_key!(REVOCATIONS_TOTAL, ["cause" => "revoke_token"]),
        RevocationCause::Reuse => static_key!(REVOCATIONS_TOTAL, ["cause" => "reuse"]),
        RevocationCause::ClientDeleted => {
            static_key!(REVOCATIONS_TOTAL, ["cause" => "client_deleted"])
        }
        RevocationCause::GlobalSignOut => {
            static_key!(REVOCATIONS_TOTAL, ["cause" => "global_sign_out"])
        }
    }
}

fn reuse_key(policy: ReusePolicy) -> &'static Key {
    match policy {
        ReusePolicy::Reject => static_key!(REUSE_DETECTED_TOTAL, ["policy" => "reject"]),
        ReusePolicy::RevokeFamily => {
            static_key!(REUSE_DETECTED_TOTAL, ["policy" => "revoke_family"])
        }
    }
}

fn count(key: &Key, n: u64) {
    metrics::with_recorder(|r| r.register_counter(key, &METADATA)).increment(n);
}

/// The policy's snake-case name, for traces.
fn policy_name(policy: ReusePolicy) -> &'static str {
    match policy {
        ReusePolicy::Reject => "reject",
        ReusePolicy::RevokeFamily => "revoke_family",
    }
}

/// The families one revocation pass of a client's deletion revoked in a linked family store (R-REV-7):
/// counted under `cause="client_deleted"` and traced, as global sign-out's are (R-OPS-2). The
/// registry calls it after each pass; a pass that found nothing left to revoke is not traced.
pub(crate) fn record_client_deletion(client_id: &str, families_revoked: usize) {
    if families_revoked == 0 {
        return;
    }
    let n = u64::try_from(families_revoked).unwrap_or(u64::MAX);
    count(revocation_key(RevocationCause::ClientDeleted), n);
    tracing::info!(
        target: "refresh_rotation",
        client_id,
        families_revoked = n,
        cause = RevocationCause::ClientDeleted.as_str(),
        "client deleted: its refresh token families revoked"
    );
}

/// Records a request refused before any issuer ran it, as a driver records the requests it answers: the
/// operation's span (with `client_id`, `outcome` and `error`) and its outcome counted. For what decides
/// outside the engine: the wire adapter's password checks, or a host's router that finds no pool for the
/// client a request names, so that such refusals (password guessing, probing for client ids) are as
/// visible as the issuer's own (R-OPS-1, R-OPS-2). `client_id` is the one the request named, recorded
/// only if it has a client id's shape (else as `***`: a malformed id may be anything). A value of that
/// shape is recorded as given, as the issuers' own spans record the client id a request names: a
/// client secret pasted into the ClientId field has that shape too, and is then recorded like an id.
/// No value from a secret field is recorded. No latency is sampled: the request never reached
/// an issuer.
pub fn record_refusal(operation: Operation, client_id: Option<&str>, error: &Error) {
    let client_id = client_id.map(|id| match ClientId::parse(id) {
        Ok(_) => id,
        Err(_) => "***",
    });
    let observation = Observation::start(operation, client_id);
    let _entered = observation.span().enter();
    // No latency sample: the request never reached an issuer, and a flood of such refusals would pull
    // the refresh latency percentiles down. A refusal carries no security event: nothing was read or
    // written.
    let report = Report::new(operation);
    let outcome = report.outcome(Some(error));
    let _no_events = observation.conclude(&report, outcome, Some(error), Vec::new());
}

/// One operation being observed: its span and its start.
pub(crate) struct Observation {
    span: Span,
    started: Instant,
}

impl Observation {
    /// Opens the operation's span. `client_id` is the client named by the request (not a secret).
    pub(crate) fn start(operation: Operation, client_id: Option<&str>) -> Observation {
        macro_rules! span {
            ($name:literal) => {
                tracing::info_span!(
                    target: "refresh_rotation",
                    $name,
                    client_id = client_id,
                    outcome = tracing::field::Empty,
                    family = tracing::field::Empty,
                    error = tracing::field::Empty,
                )
            };
        }
        let span = match operation {
            Operation::SignIn => span!("sign_in"),
            Operation::Refresh => span!("refresh"),
            Operation::LegacyRefresh => span!("legacy_refresh"),
            Operation::Revoke => span!("revoke"),
            Operation::GlobalSignOut => span!("global_sign_out"),
            Operation::Introspect => span!("introspect"),
        };
        Observation {
            span,
            started: Instant::now(),
        }
    }

    /// The span, for the driver to run the operation in.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// Records how the operation ended, from the engine's report: the span's fields, the metrics, the
    /// events' traces. Returns the security events, for the driver to hand to the sink.
    pub(crate) fn finish<T>(
        &self,
        report: &mut Report,
        result: &Result<T, Error>,
    ) -> Vec<SecurityEvent> {
        let error = result.as_ref().err();
        let operation = report.operation();
        if operation.is_refresh() {
            let elapsed = self.started.elapsed();
            metrics::with_recorder(|r| r.register_histogram(duration_key(operation), &METADATA))
                .record(elapsed);
        }
        let outcome = report.outcome(error);
        let events = report.take_events();
        self.conclude(report, outcome, error, events)
    }

    /// Records a request dropped before it ended (R-OPS-1 to R-OPS-3): the outcome `cancelled`, and the
    /// traces and metrics of the security events it had come to, the one whose store write it was still
    /// awaiting included. Returns those events, for the driver to offer to the sink.
    pub(crate) fn cancelled(&self, report: &mut Report) -> Vec<SecurityEvent> {
        tracing::info!(
            target: "refresh_rotation",
            parent: &self.span,
            "cancelled before it ended; a store write it awaited may or may not have happened"
        );
        let events = report.take_events_cancelled();
        self.conclude(report, Outcome::Cancelled, None, events)
    }

    /// What every ending records: the outcome counted, the span's fields, each event's trace and
    /// metrics. Returns the events.
    fn conclude(
        &self,
        report: &Report,
        outcome: Outcome,
        error: Option<&Error>,
        events: Vec<SecurityEvent>,
    ) -> Vec<SecurityEvent> {
        count(outcome_key(report.operation(), outcome), 1);
        let span = &self.span;
        if !span.is_disabled() {
            span.record("outcome", outcome.as_str());
            if let Some(family) = report.family() {
                span.record("family", family.to_uuid_string());
            }
            if let Some(e) = error {
                span.record("error", e.exception_name());
            }
        }
        for event in &events {
            emit(span, event);
        }
        events
    }
}

/// The metrics and the trace of one security event.
fn emit(span: &Span, event: &SecurityEvent) {
    match event {
        SecurityEvent::ReuseDetected {
            family,
            client_id,
            presented_generation,
            current_generation,
            policy,
            ..
        } => {
            count(reuse_key(*policy), 1);
            tracing::warn!(
                target: "refresh_rotation",
                parent: span,
                family = family.as_str(),
                client_id = client_id.as_str(),
                presented_generation,
                current_generation,
                policy = policy_name(*policy),
                "refresh token reuse detected"
            );
        }
        SecurityEvent::FamilyRevoked {
            family,
            client_id,
            cause,
            ..
        } => {
            count(revocation_key(*cause), 1);
            tracing::info!(
                target: "refresh_rotation",
                parent: span,
                family = family.as_str(),
                client_id = client_id.as_str(),
                cause = cause.as_str(),
                "refresh token family revoked"
            );
        }
        SecurityEvent::GlobalSignOut {
            families_revoked, ..
        } => {
            let n = u64::try_from(*families_revoked).unwrap_or(u64::MAX);
            if n > 0 {
                count(revocation_key(RevocationCause::GlobalSignOut), n);
            }
            tracing::info!(
                target: "refresh_rotation",
                parent: span,
                families_revoked = n,
                "global sign-out"
            );
        }
    }
}
