//! The few operating-system calls the priority rules need (Linux; elsewhere they do nothing and
//! say so): lowering a thread's or a child's CPU priority, pinning it to CPUs, stopping and
//! continuing a child, and tying a child's life to its parent's.

use std::io;

/// The CPUs this process may run on (`sched_getaffinity`), else `0..available_parallelism`.
pub fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; the call fills it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
        if r == 0 {
            let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
                .filter(|c| unsafe { libc::CPU_ISSET(*c, &set) })
                .collect();
            if !cpus.is_empty() {
                return cpus;
            }
        }
    }
    (0..std::thread::available_parallelism().map_or(1, |n| n.get())).collect()
}

/// Lowers the calling thread's priority to `nice` (0 = normal, 19 = lowest) and pins it to
/// `cpus` (all if empty). Threads it creates later inherit both.
pub fn lower_current_thread(nice: i32, cpus: &[usize]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value.
        let tid = unsafe { libc::gettid() } as libc::id_t;
        if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid, nice) } != 0 {
            return Err(io::Error::last_os_error());
        }
        pin(0, cpus)?;
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (nice, cpus);
    Ok(())
}

#[cfg(target_os = "linux")]
fn pin(pid: libc::pid_t, cpus: &[usize]) -> io::Result<()> {
    if cpus.is_empty() {
        return Ok(());
    }
    // SAFETY: as above; CPU_SET stays within the set for c < CPU_SETSIZE.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    for c in cpus.iter().filter(|c| **c < libc::CPU_SETSIZE as usize) {
        unsafe { libc::CPU_SET(*c, &mut set) };
    }
    if unsafe { libc::sched_setaffinity(pid, std::mem::size_of_val(&set), &set) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Prepares `cmd`'s child: the lowest priority `nice`, pinned to `cpus`, and killed if the
/// thread that spawns it dies (so a crashed daemon leaves no stopped or running prover behind;
/// the spawning thread must wait for the child).
pub fn lower_child(cmd: &mut std::process::Command, nice: i32, cpus: Vec<usize>) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(io::Error::last_os_error());
                }
                if libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0 {
                    return Err(io::Error::last_os_error());
                }
                // Pinning may be refused in some containers; priority alone still holds.
                let _ = pin(0, &cpus);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (cmd, nice, cpus);
}

/// Stops (`stop`) or continues (`!stop`) the process `pid`.
pub fn pause_process(pid: u32, stop: bool) -> io::Result<()> {
    #[cfg(unix)]
    {
        let sig = if stop { libc::SIGSTOP } else { libc::SIGCONT };
        if unsafe { libc::kill(pid as libc::pid_t, sig) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(unix))]
    let _ = (pid, stop);
    Ok(())
}

/// Blocks until child `pid` has exited, without reaping it: its pid stays ours (no other
/// process can take it) until the caller reaps it with `Child::wait`.
pub fn wait_exited_unreaped(pid: u32) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    loop {
        // SAFETY: siginfo_t is plain data; waitid fills it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        Ok(())
    }
}

/// CPU time the calling thread has used.
pub fn thread_cpu_time() -> std::time::Duration {
    #[cfg(unix)]
    {
        // SAFETY: timespec is plain data; clock_gettime fills it.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
        }
    }
    std::time::Duration::ZERO
}

/// The share of the sealing cores a thread at priority `nice` gets now (0..=1): one spinning
/// thread per core for `wall`, CPU time obtained over wall time. 0.5 means sealing would take
/// twice its idle time, because something else uses the machine.
pub fn cpu_share(nice: i32, cpus: &[usize], wall: std::time::Duration) -> f64 {
    let n = cpus.len().max(1);
    let shares: Vec<f64> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..n)
            .map(|_| {
                s.spawn(move || {
                    let _ = lower_current_thread(nice, cpus);
                    let (t0, c0) = (std::time::Instant::now(), thread_cpu_time());
                    let mut x = 0u64;
                    while t0.elapsed() < wall {
                        for i in 0..10_000u64 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6364136223846793005).wrapping_add(i),
                            );
                        }
                    }
                    (thread_cpu_time() - c0).as_secs_f64() / t0.elapsed().as_secs_f64()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(1.0)).collect()
    });
    (shares.iter().sum::<f64>() / n as f64).clamp(0.01, 1.0)
}

/// This machine's memory in bytes (`MemTotal` of `/proc/meminfo`; 0 if unreadable).
pub fn total_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}
