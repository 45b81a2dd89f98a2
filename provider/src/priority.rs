//! Proving has priority over sealing.
//!
//! Missing a WindowPoSt costs a fault fee and power; a seal finishing a few seconds later costs
//! nothing. So on a machine that does both:
//!
//! - **PoSt proves on the process's main rayon pool**, where nothing else runs: groth16 0.2 sends
//!   its multi-exponentiations to the pool of the calling thread and refuses (panics) to be waited
//!   on from inside a pool, so the main pool is the one Groth16 can use, and it is left to PoSt.
//! - **Sealing runs on its own pool** ([`sealing_pool`]) of low-priority threads (nice
//!   `sealing_nice`) pinned away from the `proving_threads` reserved cores, and pauses at its
//!   phase and progress points while a PoSt is being proven ([`ProvingGate::wait_clear`]).
//! - **The seal proof runs in a child process** (`strata prove seal`) at the same low priority
//!   and pinning, stopped with `SIGSTOP` while a PoSt is being proven and continued after:
//!   a Groth16 proof cannot pause itself, a process can be paused from outside. Without a
//!   prover binary (tests of this crate) the seal proof runs in process and only waits for
//!   running PoSts to finish before it starts.
//!
//! A PoSt marks itself with [`ProvingGate::post_begin`]; the returned guard ends it.

use crate::os;
use std::collections::HashSet;
use std::sync::{Arc, Condvar, Mutex};

/// Shared between the scheduler (PoSt) and the pipeline (sealing).
#[derive(Default)]
pub struct ProvingGate {
    state: Mutex<GateState>,
    clear: Condvar,
}

#[derive(Default)]
struct GateState {
    posts: usize,
    children: HashSet<u32>,
    paused_total: u64,
}

/// A PoSt in progress; dropping it lets sealing continue once no other PoSt runs.
pub struct PostGuard {
    gate: Arc<ProvingGate>,
}

impl ProvingGate {
    /// Marks a PoSt as being proven: registered seal-proof children are stopped now.
    pub fn post_begin(self: &Arc<Self>) -> PostGuard {
        let mut st = self.state.lock().expect("gate");
        st.posts += 1;
        if st.posts == 1 {
            for pid in &st.children {
                if let Err(e) = os::pause_process(*pid, true) {
                    tracing::warn!(pid, %e, "could not stop the seal-proof process");
                }
            }
            if !st.children.is_empty() {
                st.paused_total += 1;
            }
        }
        PostGuard { gate: self.clone() }
    }

    /// Whether a PoSt is being proven now.
    pub fn post_running(&self) -> bool {
        self.state.lock().expect("gate").posts > 0
    }

    /// How many times a seal-proof process was stopped for a PoSt.
    pub fn pauses(&self) -> u64 {
        self.state.lock().expect("gate").paused_total
    }

    /// Blocks the calling (sealing) thread while a PoSt is being proven.
    pub fn wait_clear(&self) {
        let st = self.state.lock().expect("gate");
        let _st = self.clear.wait_while(st, |s| s.posts > 0).expect("gate");
    }

    /// Registers a seal-proof child; it is stopped at once if a PoSt is running.
    pub fn add_child(&self, pid: u32) {
        let mut st = self.state.lock().expect("gate");
        st.children.insert(pid);
        if st.posts > 0 {
            let _ = os::pause_process(pid, true);
            st.paused_total += 1;
        }
    }

    /// Forgets a child (call after it exited and before it is reaped).
    pub fn remove_child(&self, pid: u32) {
        self.state.lock().expect("gate").children.remove(&pid);
    }
}

impl Drop for PostGuard {
    fn drop(&mut self) {
        let mut st = self.gate.state.lock().expect("gate");
        st.posts -= 1;
        if st.posts == 0 {
            for pid in &st.children {
                if let Err(e) = os::pause_process(*pid, false) {
                    tracing::warn!(pid, %e, "could not continue the seal-proof process");
                }
            }
            self.gate.clear.notify_all();
        }
    }
}

/// Progress that pauses sealing at each report while a PoSt is being proven.
pub struct YieldToProving<'a>(pub &'a ProvingGate);

impl strata_sealer::Progress for YieldToProving<'_> {
    fn start(&self, _: &str, _: u64) {
        self.0.wait_clear();
    }
    fn advance(&self, _: u64) {
        self.0.wait_clear();
    }
    fn finish(&self) {}
}

/// How the machine's cores are split: `reserved` for PoSt only, `sealing` for sealing and the
/// seal proof (all cores when none are reserved or too few exist to reserve).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuPlan {
    /// Cores no sealing thread runs on.
    pub reserved: Vec<usize>,
    /// Cores sealing and the seal proof run on.
    pub sealing: Vec<usize>,
}

impl CpuPlan {
    /// Reserves the first `proving_threads` of `cpus` (never all of them).
    pub fn new(cpus: &[usize], proving_threads: usize) -> CpuPlan {
        let k = proving_threads.min(cpus.len().saturating_sub(1));
        CpuPlan {
            reserved: cpus[..k].to_vec(),
            sealing: cpus[k..].to_vec(),
        }
    }
}

/// The sealing thread pool: `plan.sealing.len()` threads at priority `nice`, pinned to the
/// sealing cores.
pub fn sealing_pool(plan: &CpuPlan, nice: i32) -> Result<rayon::ThreadPool, String> {
    let cpus = plan.sealing.clone();
    rayon::ThreadPoolBuilder::new()
        .num_threads(plan.sealing.len().max(1))
        .thread_name(|i| format!("strata-seal-{i}"))
        .start_handler(move |_| {
            if let Err(e) = os::lower_current_thread(nice, &cpus) {
                tracing::warn!(%e, "sealing thread keeps normal priority");
            }
        })
        .build()
        .map_err(|e| format!("sealing thread pool: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    #[test]
    fn reserving_never_takes_every_core() {
        assert_eq!(
            CpuPlan::new(&[0, 1, 2, 3], 1),
            CpuPlan {
                reserved: vec![0],
                sealing: vec![1, 2, 3]
            }
        );
        assert_eq!(CpuPlan::new(&[0, 1], 5).sealing, vec![1]);
        assert_eq!(CpuPlan::new(&[3], 1).sealing, vec![3]);
        assert!(CpuPlan::new(&[0, 1], 0).reserved.is_empty());
    }

    #[test]
    fn sealing_waits_while_a_post_runs_and_resumes_after() {
        let gate = Arc::new(ProvingGate::default());
        let guard = gate.post_begin();
        let passed = Arc::new(AtomicBool::new(false));
        let (g2, p2) = (gate.clone(), passed.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            tx.send(()).unwrap();
            g2.wait_clear();
            p2.store(true, Ordering::SeqCst);
        });
        rx.recv().unwrap();
        // A second PoSt overlapping the first keeps sealing paused until both end.
        let second = gate.post_begin();
        drop(guard);
        assert!(gate.post_running());
        drop(second);
        t.join().unwrap();
        assert!(passed.load(Ordering::SeqCst));
        assert!(!gate.post_running());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_child_is_stopped_during_a_post_and_continued_after() {
        fn state(pid: u32) -> char {
            let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
            s.rsplit(')').next().unwrap().trim().chars().next().unwrap()
        }
        fn wait_state(pid: u32, want: &[char]) -> char {
            // The kernel delivers SIGSTOP/SIGCONT asynchronously; poll the state it reports.
            for _ in 0..2000 {
                let s = state(pid);
                if want.contains(&s) {
                    return s;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            state(pid)
        }
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let gate = Arc::new(ProvingGate::default());
        gate.add_child(pid);
        let guard = gate.post_begin();
        assert_eq!(wait_state(pid, &['T']), 'T');
        drop(guard);
        assert_ne!(wait_state(pid, &['S', 'R']), 'T');
        // A child registered during a PoSt is stopped at once.
        gate.remove_child(pid);
        let g = gate.post_begin();
        gate.add_child(pid);
        assert_eq!(wait_state(pid, &['T']), 'T');
        drop(g);
        assert_ne!(wait_state(pid, &['S', 'R']), 'T');
        assert_eq!(gate.pauses(), 2);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
