//! The `vizscript` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    tune_allocator();
    vizscript::app::main().into()
}

/// Two parameters of glibc's allocator:
/// - it grows each thread's malloc heap by what one allocation needs, a `mprotect` call
///   each time: reading 10,000 tasks over 8 connections made about 1,270 of them. Asking
///   for 16 MiB of slack per growth leaves a few dozen (it is address space; pages still
///   count only once used).
/// - it gives threads up to eight heaps per processor, each with pages of its own to
///   touch: the threads that read a list's pages at once share one heap per processor
///   instead (about 160 fewer page faults reading 10,000 tasks on two processors).
///
/// A parameter the environment sets (`MALLOC_TOP_PAD_`, `MALLOC_ARENA_MAX`, or
/// `GLIBC_TUNABLES` naming it) is left as the user set it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    let set_by_user = |variable: &str, tunable: &str| {
        std::env::var_os(variable).is_some()
            || std::env::var_os("GLIBC_TUNABLES")
                .is_some_and(|t| t.to_string_lossy().contains(tunable))
    };
    // SAFETY: `mallopt` sets a parameter of glibc's allocator, which is safe to change
    // at any time; this runs first in `main`, before any other thread exists.
    // `sched_getaffinity` writes the set of processors this process may run on into a
    // zeroed set of the size given.
    unsafe {
        if !set_by_user("MALLOC_TOP_PAD_", "glibc.malloc.top_pad") {
            libc::mallopt(libc::M_TOP_PAD, 16 << 20);
        }
        let mut cpus: libc::cpu_set_t = std::mem::zeroed();
        if !set_by_user("MALLOC_ARENA_MAX", "glibc.malloc.arena_max")
            && libc::sched_getaffinity(0, size_of::<libc::cpu_set_t>(), &mut cpus) == 0
        {
            libc::mallopt(libc::M_ARENA_MAX, libc::CPU_COUNT(&cpus).max(1));
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
