//! Global sign-out (R-REV-3) as a state machine: by `sub`, or by username through the user directory
//! (AdminUserGlobalSignOut). A flow like the others so that its outcome and its security event reach the
//! drivers' one emitter (R-OPS-1, R-OPS-3).

use crate::clock::Timestamp;
use crate::error::Error;
use crate::events::SecurityEvent;

use super::checks;
use super::{out_of_order, Flow, Input, Need, Operation, Outcome, Report};

enum State {
    Start,
    AwaitUser,
    AwaitRevoke,
    Finished,
}

/// A global sign-out in progress: drive it through [`Flow`] (see the [engine](super)). Its answer is the
/// number of live families revoked.
pub struct GlobalSignOutFlow<'r> {
    subject: Option<&'r str>,
    username: Option<&'r str>,
    /// The `sub` found by username, owned because the directory's record is not borrowed by the flow.
    found: Option<Box<str>>,
    now: Timestamp,
    state: State,
    report: Report,
}

impl std::fmt::Debug for GlobalSignOutFlow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GlobalSignOutFlow").finish_non_exhaustive()
    }
}

type Step<'f> = Need<'f, usize>;

impl Flow for GlobalSignOutFlow<'_> {
    type Output = usize;

    fn next(&mut self, input: Input) -> Step<'_> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, input) {
            (State::Start, Input::Start) => match (self.subject, self.username) {
                (Some(subject), _) => {
                    self.state = State::AwaitRevoke;
                    Need::RevokeSubject(subject)
                }
                (None, Some(username)) => {
                    // UsernameType, before the directory is asked (R-SAFE-1), as sign-in checks it.
                    if let Err(e) = checks::check_username(username) {
                        return Need::Done(Err(e));
                    }
                    self.state = State::AwaitUser;
                    Need::UserByUsername(username)
                }
                (None, None) => out_of_order(),
            },
            (State::AwaitUser, Input::User(user)) => match user {
                None => Need::Done(Err(Error::UserNotFound)),
                Some(user) => {
                    self.state = State::AwaitRevoke;
                    Need::RevokeSubject(self.found.insert(Box::from(user.subject.as_str())))
                }
            },
            (State::AwaitRevoke, Input::RevokedSubject(count)) => {
                let subject = self.found.as_deref().or(self.subject).unwrap_or_default();
                self.report.succeeded(if count > 0 {
                    Outcome::Revoked
                } else {
                    Outcome::Unchanged
                });
                self.report.event(SecurityEvent::GlobalSignOut {
                    subject: subject.to_owned(),
                    families_revoked: count,
                    time: self.now,
                });
                Need::Done(Ok(count))
            }
            _ => out_of_order(),
        }
    }

    fn report(&mut self) -> &mut Report {
        &mut self.report
    }
}

impl<'r> GlobalSignOutFlow<'r> {
    pub(crate) fn by_subject(subject: &'r str, now: Timestamp) -> Self {
        Self::new(Some(subject), None, now)
    }

    pub(crate) fn by_username(username: &'r str, now: Timestamp) -> Self {
        Self::new(None, Some(username), now)
    }

    fn new(subject: Option<&'r str>, username: Option<&'r str>, now: Timestamp) -> Self {
        GlobalSignOutFlow {
            subject,
            username,
            found: None,
            now,
            state: State::Start,
            report: Report::new(Operation::GlobalSignOut),
        }
    }
}
