//! Group commit (issue #18): concurrent commands of one kind share one transaction.
//!
//! Every intake takes its agency's code of the day, a row that stays locked until its
//! transaction commits; one transaction per dossier makes a busy agency wait for one
//! commit per dossier, and each dossier pays its own round trips, statement start-up and
//! commit. Here the callers line up: the first one that finds no batch running leads — it
//! takes the queue (at most `max` jobs, oldest first), runs them through `batch` (one
//! transaction), hands every caller its own answer and wakes them; the others wait. Who
//! arrives while a batch runs goes into the next one, so a lone caller waits for nobody
//! and a crowd is served in a few transactions. There is no timer: a batch is what queued
//! while the previous one ran.
//!
//! `batch` decides what a failure means for each job (the intake writes them again one by
//! one, so that one bad request fails alone and the others keep their answers). A leader
//! that panics gives its batch's callers `None` and then goes on unwinding.

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

/// A line of callers whose jobs run in batches (see the module).
pub struct Group<J, R> {
    max: usize,
    state: Mutex<State<J, R>>,
    wake: Condvar,
}

struct State<J, R> {
    next_id: u64,
    queue: VecDeque<(u64, J)>,
    /// Answers not yet collected, by job id (`None`: its batch panicked).
    done: HashMap<u64, Option<R>>,
    leading: bool,
}

impl<J, R> Group<J, R> {
    /// Batches of at most `max` jobs (1: every job alone, in its caller's thread).
    pub fn new(max: usize) -> Self {
        Group {
            max: max.max(1),
            state: Mutex::new(State {
                next_id: 0,
                queue: VecDeque::new(),
                done: HashMap::new(),
                leading: false,
            }),
            wake: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<J, R>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `job` in a batch and returns its answer: `batch` takes the jobs in the order
    /// they came and returns one answer per job, in the same order. `None`: the batch
    /// that held the job panicked (in another caller's thread).
    pub fn run(&self, job: J, batch: impl Fn(Vec<J>) -> Vec<R>) -> Option<R> {
        let mut s = self.lock();
        let id = s.next_id;
        s.next_id += 1;
        s.queue.push_back((id, job));
        loop {
            if let Some(answer) = s.done.remove(&id) {
                return answer;
            }
            if s.leading {
                s = self.wake.wait(s).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            s.leading = true;
            let take = s.queue.len().min(self.max);
            let (ids, jobs): (Vec<u64>, Vec<J>) = s.queue.drain(..take).unzip();
            drop(s);
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| batch(jobs)));
            s = self.lock();
            s.leading = false;
            match out {
                Ok(answers) => {
                    assert_eq!(answers.len(), ids.len(), "one answer per job");
                    for (i, a) in ids.into_iter().zip(answers) {
                        s.done.insert(i, Some(a));
                    }
                    self.wake.notify_all();
                }
                Err(panic) => {
                    for i in ids {
                        s.done.insert(i, None);
                    }
                    // This caller's own job, if it was still waiting for a later batch,
                    // is withdrawn: nobody would collect its answer.
                    s.queue.retain(|(i, _)| *i != id);
                    s.done.remove(&id);
                    self.wake.notify_all();
                    drop(s);
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_lone_caller_runs_its_job_alone() {
        let g: Group<u32, u32> = Group::new(8);
        let sizes = Mutex::new(Vec::new());
        for i in 0..3 {
            let a = g.run(i, |jobs| {
                sizes.lock().unwrap().push(jobs.len());
                jobs.into_iter().map(|j| j * 10).collect()
            });
            assert_eq!(a, Some(i * 10));
        }
        assert_eq!(*sizes.lock().unwrap(), vec![1, 1, 1]);
    }

    #[test]
    fn concurrent_callers_share_batches_and_each_gets_its_own_answer() {
        let g = Arc::new(Group::<usize, (usize, usize)>::new(4));
        let batches = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let (g, batches, most, start) =
                    (g.clone(), batches.clone(), most.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let mut mine = Vec::new();
                    for k in 0..50 {
                        let job = t * 1000 + k;
                        let a = g
                            .run(job, |jobs| {
                                batches.fetch_add(1, Ordering::Relaxed);
                                most.fetch_max(jobs.len(), Ordering::Relaxed);
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                let n = jobs.len();
                                jobs.into_iter().map(|j| (j, n)).collect()
                            })
                            .unwrap();
                        assert_eq!(a.0, job, "the caller's own answer");
                        mine.push(a.1);
                    }
                    mine
                })
            })
            .collect();
        let mut sizes = Vec::new();
        for t in threads {
            sizes.extend(t.join().unwrap());
        }
        assert_eq!(sizes.len(), 800);
        assert!(most.load(Ordering::Relaxed) <= 4, "never more than max");
        assert!(
            batches.load(Ordering::Relaxed) < 800,
            "some jobs shared a batch: {} batches",
            batches.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn a_panicking_batch_answers_none_to_the_others_and_the_line_goes_on() {
        let g = Arc::new(Group::<u32, u32>::new(8));
        let start = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8u32)
            .map(|t| {
                let (g, start) = (g.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        g.run(t, |jobs| {
                            if jobs.contains(&3) {
                                panic!("job 3");
                            }
                            std::thread::sleep(std::time::Duration::from_millis(2));
                            jobs
                        })
                    }))
                })
            })
            .collect();
        for (t, h) in threads.into_iter().enumerate() {
            // Its own answer, from a batch without job 3; in job 3's batch: no answer
            // (a follower) or the panic (the leader).
            if let Ok(Some(a)) = h.join().unwrap() {
                assert!(a == t as u32 && t != 3, "thread {t} got {a}");
            }
        }
        // The line still works afterwards.
        assert_eq!(g.run(42, |jobs| jobs), Some(42));
    }
}
