//! A safety net for production: a read-only copy of a server in the emulator's data format
//! ([`capture`]), and what changed between two such copies ([`Difference`]), grouped so
//! a human can check a rehearsal or a real run in seconds.

mod capture;
mod difference;
mod render;

pub use capture::{BarFn, capture};
pub use difference::{Difference, FieldChange, Moved, ScheduleChange, ScheduleRef, TaskCount};
