//! The Vizportal client: login with the RSA-encrypted password, a cookie jar and the XSRF
//! header, typed errors, retries by method kind, re-login on expiry, paging, and the
//! mutation gate. Knows HTTP and the protocol, nothing of scripts.

mod audit;
mod before;
mod client;
mod crypto;
mod error;
mod jar;
mod job_wait;
mod jobs;
mod listing;
mod local_filter;
mod merged_pages;
mod method;
mod options;
mod page_answer;
mod parallel;
mod recreate;
mod rest;
mod retry;
mod schedule_fields;
mod session;
mod sign_in;
mod task_names;
mod transport;
mod trust;
mod undo;

pub use audit::{AuditLine, AuditLog, Outcome};
pub(crate) use before::ids_of;
pub use client::{
    BatchSummary, Client, ItemFailure, PlannedCall, PlannedChange, ServerPlan, is_planned_id,
    planned_id, refuses_filter,
};
pub use crypto::encrypt_password;
pub use error::{ErrorClass, LoginFailure, VizportalError};
pub use job_wait::{
    CLOCK_MARGIN, JobReport, JobsBefore, WaitHooks, WaitOutcome, WaitPlan, WatchedTask,
};
pub use jobs::{JobState, classify as classify_job_status};
pub use listing::{ConvertFn, ProgressFn, ReadFn, SideTables};
pub use merged_pages::items_member;
pub use method::MethodKind;
pub use options::{ConnectOptions, holds_credentials, without_credentials};
pub use page_answer::{PageAnswer, page_text, read_page};
pub use recreate::{Recreated, Recreation};
pub use retry::{RetryPolicy, interrupt};
pub use schedule_fields::{SCHEDULE_FIELDS, check_name as check_schedule_name, check_schedule};
pub use session::{Session, SessionInfo};
pub use sign_in::{ExistingSession, SessionOrigin, SignIn};
pub use task_names::{TASK_NAME_FIELDS, TaskNames};
pub use undo::{
    Kind as UndoKind, NotUndoable, PutBack, Skipped, UndoCall, UndoHistory, UndoPlan,
    deleted_schedules,
};
