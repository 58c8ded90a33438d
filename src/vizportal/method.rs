//! What kind of call a Vizportal method is. The kind decides the safety policy: whether the
//! call may be retried, whether `--dry-run` holds it back, and whether it is audited.

use crate::wire;

/// The safety class of a method, decided from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// Reads (`get*`): retried, never held back. Anything else counts as a write, as the
    /// contract's dry-run rule says, even a harmless-looking `checkConnection`.
    Read,
    /// Session plumbing (`generatePublicKey`, `login`, `switchSite`, `logout`): not a
    /// mutation of server content; never held back by `--dry-run`.
    Session,
    /// Writes that set state to a given value (`set*`, `update*`): repeating them is
    /// harmless, so they are retried like reads.
    IdempotentWrite,
    /// Everything else (`run*`, `create*`, `delete*`, ...): retried only when the request
    /// certainly did not reach the server.
    NonIdempotentWrite,
}

impl MethodKind {
    /// Classify a method name.
    pub fn of(method: &str) -> MethodKind {
        const READ_PREFIXES: &[&str] = &["get"];
        const IDEMPOTENT_PREFIXES: &[&str] = &["set", "update"];
        if wire::method::SESSION.contains(&method) {
            MethodKind::Session
        } else if has_verb(method, READ_PREFIXES) {
            MethodKind::Read
        } else if has_verb(method, IDEMPOTENT_PREFIXES) {
            MethodKind::IdempotentWrite
        } else {
            MethodKind::NonIdempotentWrite
        }
    }

    /// True for calls that change server content (held back by `--dry-run`, audited).
    pub fn is_mutation(self) -> bool {
        matches!(
            self,
            MethodKind::IdempotentWrite | MethodKind::NonIdempotentWrite
        )
    }

    /// True when repeating the call after an ambiguous failure cannot double its effect.
    pub fn is_repeatable(self) -> bool {
        matches!(self, MethodKind::Read | MethodKind::IdempotentWrite)
    }
}

/// `getX` is a read but `getaway` is not: the verb must be followed by an upper-case letter.
fn has_verb(method: &str, verbs: &[&str]) -> bool {
    verbs.iter().any(|verb| {
        method
            .strip_prefix(verb)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })
}

#[cfg(test)]
mod tests {
    use super::MethodKind::*;
    use super::*;

    #[test]
    fn classifies_the_methods_scripts_use() {
        assert_eq!(MethodKind::of("getExtractTasks"), Read);
        assert_eq!(MethodKind::of("getServerSettingsUnauthenticated"), Read);
        assert_eq!(MethodKind::of("switchSite"), Session);
        assert_eq!(MethodKind::of("setExtractTasksSchedule"), IdempotentWrite);
        assert_eq!(MethodKind::of("updateSchedule"), IdempotentWrite);
        assert_eq!(MethodKind::of("runExtractTasks"), NonIdempotentWrite);
        assert_eq!(MethodKind::of("createSchedule"), NonIdempotentWrite);
        assert_eq!(MethodKind::of("deleteExtractTasks"), NonIdempotentWrite);
        assert_eq!(MethodKind::of("markRecentlyViewed"), NonIdempotentWrite);
        assert_eq!(MethodKind::of("settle"), NonIdempotentWrite);
    }

    #[test]
    fn mutations_are_exactly_the_writes() {
        assert!(!Read.is_mutation() && !Session.is_mutation());
        assert!(IdempotentWrite.is_mutation() && NonIdempotentWrite.is_mutation());
        assert!(IdempotentWrite.is_repeatable() && !NonIdempotentWrite.is_repeatable());
    }
}
