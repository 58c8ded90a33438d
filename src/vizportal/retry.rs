//! When a failed call is tried again. The rule follows the method's [`MethodKind`]: reads
//! and idempotent writes are retried after any transient failure; other writes only when
//! the server certainly did not act on the request.

use std::cell::Cell;
use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};

use super::method::MethodKind;
use super::transport::Attempt;

/// Backoff settings for transient failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 turns retrying off).
    pub max_retries: usize,
    /// Delay before the first retry; it doubles each time, with jitter.
    pub min_delay: Duration,
    /// Upper bound for one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// The longest wait a server's `Retry-After` earns before one retry: past it, the retries
/// left would outlast any run a user waits for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How many times the user pressed Ctrl-C (see [`interrupt`]).
static INTERRUPTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Ctrl-C: a retry's wait under way ends, and no retry is made of the call it waits for.
pub fn interrupt() {
    INTERRUPTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Whether Ctrl-C came since this thread's call began retrying.
fn interrupted() -> bool {
    INTERRUPTS.load(std::sync::atomic::Ordering::SeqCst) != CALL_START.get()
}

/// Sleep `wait`, waking early on Ctrl-C (a server may ask for a minute).
fn pause(wait: Duration) {
    let until = std::time::Instant::now() + wait;
    loop {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || interrupted() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

thread_local! {
    /// [`INTERRUPTS`] when this thread's call began retrying.
    static CALL_START: Cell<u64> = const { Cell::new(0) };
    /// The `Retry-After` of the last answer this thread read (429 or 503), if it had one.
    static RETRY_AFTER: Cell<Option<Duration>> = const { Cell::new(None) };
    /// The wait chosen for the retry about to sleep (the backoff's, or longer when the
    /// server asked for more).
    static WAIT: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Note the `Retry-After` of an answer just read (`None` when it had none), for the retry
/// of the call it answered, which runs on this thread.
pub(crate) fn note_retry_after(after: Option<Duration>) {
    RETRY_AFTER.set(after);
}

/// An answer's `Retry-After`: seconds, or an HTTP date (how long until then).
pub(crate) fn retry_after_of(response: &reqwest::blocking::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    parse_retry_after(value.to_str().ok()?, chrono::Utc::now())
}

/// A `Retry-After` value at `now`: digits are seconds (too many to count are as good as
/// forever), else an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), a date past is no wait.
fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (at.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default(),
    )
}

impl RetryPolicy {
    /// Run `op` until it succeeds, fails for good, or the retries are used up.
    pub(crate) fn run<T>(
        &self,
        method: &str,
        kind: MethodKind,
        op: impl FnMut() -> Result<T, Attempt>,
    ) -> Result<T, Attempt> {
        self.run_noting(method, kind, &std::cell::Cell::new(false), op)
    }

    /// [`RetryPolicy::run`], noting in `reached` (kept across runs of one call, e.g. around
    /// a session renewal) whether an attempt broke after its request was sent: a change may
    /// then have been applied, however a later attempt ends.
    pub(crate) fn run_noting<T>(
        &self,
        method: &str,
        kind: MethodKind,
        reached: &std::cell::Cell<bool>,
        op: impl FnMut() -> Result<T, Attempt>,
    ) -> Result<T, Attempt> {
        // Nothing an earlier call on this thread left decides this call's waits.
        RETRY_AFTER.set(None);
        WAIT.set(None);
        CALL_START.set(INTERRUPTS.load(std::sync::atomic::Ordering::SeqCst));
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter();
        // backon sends the next attempt right after its wait: one that Ctrl-C cut short
        // is not followed by another request.
        let mut op = op;
        let mut tried = false;
        let op = move || {
            if std::mem::replace(&mut tried, true) && interrupted() {
                return Err(Attempt::NotSent(
                    "interrupted (Ctrl-C) while waiting to try again; not sent again".into(),
                ));
            }
            op()
        };
        let result = op
            .retry(backoff)
            .sleep(|delay| pause(WAIT.take().unwrap_or(delay)))
            .when(|failure| failure.may_retry(kind) && !interrupted())
            .notify(|failure, delay| {
                reached.set(reached.get() || matches!(failure, Attempt::Ambiguous(_)));
                // A server that says how long to wait is waited for (up to a minute).
                let asked = RETRY_AFTER.take();
                let delay = asked.map_or(delay, |after| after.min(MAX_RETRY_AFTER).max(delay));
                WAIT.set(Some(delay));
                let why = match asked {
                    Some(after) if after > MAX_RETRY_AFTER => format!(
                        " (the server asked for {} s; a retry waits {} s at most)",
                        after.as_secs(),
                        MAX_RETRY_AFTER.as_secs()
                    ),
                    Some(after) => format!(" (the server asked for {} s)", after.as_secs()),
                    None => String::new(),
                };
                tracing::warn!(
                    "{method}: {failure}; retrying in {} ms{why}",
                    delay.as_millis()
                );
            })
            .call();
        result.map_err(|failure| match failure {
            Attempt::NotSent(_) | Attempt::Declined(_) if reached.get() && kind.is_mutation() => {
                Attempt::Ambiguous(format!(
                    "{failure}, after an earlier attempt broke once its request was sent"
                ))
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-01T08:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let read = |value: &str| parse_retry_after(value, now);
        assert_eq!(read(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(
            read("99999999999999999999"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            read("Tue, 01 Dec 2026 08:00:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(read("Tue, 01 Dec 2026 07:00:00 GMT"), Some(Duration::ZERO));
        assert_eq!(read("soon"), None);
        assert_eq!(read("-1"), None);
    }

    #[test]
    fn a_change_sent_before_a_renewal_is_not_reported_as_unsent_after_it() {
        let policy = RetryPolicy {
            max_retries: 1,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        let kind = MethodKind::of("setExtractTasksSchedule");
        let reached = std::cell::Cell::new(false);
        // First: the answer is lost, then the session turns out to have expired.
        let mut first = [
            Attempt::Ambiguous("cut".into()),
            Attempt::Unauthorized(401, Vec::new()),
        ]
        .into_iter();
        let ended = policy.run_noting("m", kind, &reached, || Err::<(), _>(first.next().unwrap()));
        assert!(matches!(ended, Err(Attempt::Unauthorized(..))));
        // After signing in again, the server cannot be reached at all.
        let ended = policy.run_noting("m", kind, &reached, || {
            Err::<(), _>(Attempt::NotSent("refused".into()))
        });
        assert!(matches!(ended, Err(Attempt::Ambiguous(_))), "{ended:?}");
    }
}
