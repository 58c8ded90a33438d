//! The `vizscript` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    grow_heaps_in_large_steps();
    vizscript::app::main().into()
}

/// glibc grows each thread's malloc heap by what one allocation needs, a `mprotect` call
/// each time: reading 10,000 tasks over 8 connections made about 1,270 of them. Asking
/// for 16 MiB of slack per growth leaves a few dozen (it is address space; pages still
/// count only once used).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn grow_heaps_in_large_steps() {
    // SAFETY: `mallopt` sets a parameter of glibc's allocator, which is safe to change
    // at any time; this runs first in `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, 16 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn grow_heaps_in_large_steps() {}
