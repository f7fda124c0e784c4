//! Inventories read ahead: each `inventory` statement is queued as soon as
//! the parser has read it, and worker threads parse the YAML (most of a
//! `check`'s work) while the rest of the policy is still being parsed. When
//! the resolver takes a file that no worker has started, it parses it itself,
//! and while it waits for one, it parses others. The largest file waiting goes
//! first, so the biggest inventory does not start last.
//!
//! The resolver takes the files in statement order and gives each its place
//! in the source map then, so file order, entries and diagnostics are those of
//! reading one file after the other.

use super::inventory::{self, Parsed, Request};
use super::{Cache, Root};
use crate::source::Open;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// What became of one file; a panic is carried to the resolver.
type Outcome = thread::Result<std::io::Result<Parsed>>;

struct Job {
    index: usize,
    path: PathBuf,
    request: Request,
    size: u64,
}

impl Job {
    fn run(&self, reading: &Reading) -> Outcome {
        std::panic::catch_unwind(|| reading.read(&self.path, &self.request))
    }
}

/// How files are read: the editor's buffers that stand for files, and the
/// inventories kept from an earlier run.
#[derive(Default)]
pub(super) struct Reading {
    pub open: Open,
    pub cache: Option<Cache>,
}

impl Reading {
    fn read(&self, path: &Path, request: &Request) -> std::io::Result<Parsed> {
        inventory::read(path, request, &self.open, self.cache.as_ref())
    }
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Job>,
    done: HashMap<usize, Outcome>,
    closed: bool,
}

impl Queue {
    fn largest(&mut self) -> Option<Job> {
        let (at, _) = self
            .waiting
            .iter()
            .enumerate()
            .max_by_key(|(at, job)| (job.size, std::cmp::Reverse(*at)))?;
        Some(self.waiting.remove(at))
    }
}

struct Shared {
    queue: Mutex<Queue>,
    changed: Condvar,
    reading: Reading,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self, index: usize, outcome: Outcome) {
        self.lock().done.insert(index, outcome);
        self.changed.notify_all();
    }
}

/// The files asked for and the workers reading them: one fewer than the CPUs,
/// the resolver's thread being the last. Dropping this waits for the workers.
pub(super) struct Ahead {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
    max_workers: usize,
    /// The file each job reads, by job; `None` once taken.
    asked: Vec<Option<(PathBuf, Request)>>,
    /// Where files may be read from; the includes are held to it too.
    pub(super) root: Root,
}

impl Ahead {
    pub fn new(root: Root, reading: Reading) -> Self {
        Self {
            root,
            shared: Arc::new(Shared {
                queue: Mutex::default(),
                changed: Condvar::new(),
                reading,
            }),
            workers: Vec::new(),
            max_workers: thread::available_parallelism().map_or(1, usize::from) - 1,
            asked: Vec::new(),
        }
    }

    /// Queues the inventory at `path`.
    pub fn ask(&mut self, path: PathBuf, request: Request) {
        if self.root.admit(&path).is_err() {
            // Never read: taking it reports why.
            return;
        }
        let index = self.asked.len();
        self.asked.push(Some((path.clone(), request.clone())));
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.shared.lock().waiting.push(Job {
            index,
            path,
            request,
            size,
        });
        if self.workers.len() < self.max_workers {
            let shared = Arc::clone(&self.shared);
            match thread::Builder::new().spawn(move || work(&shared)) {
                Ok(worker) => self.workers.push(worker),
                // No thread to be had: the resolver parses the file itself.
                Err(_) => self.max_workers = self.workers.len(),
            }
        } else {
            self.shared.changed.notify_one();
        }
    }

    /// The cache the inventories are read through, if any.
    pub fn cache(&self) -> Option<&Cache> {
        self.shared.reading.cache.as_ref()
    }

    /// The inventory at `path`: the one asked for (the first not taken yet),
    /// or read now if it was not asked for.
    pub fn take(&mut self, path: &Path, request: &Request) -> std::io::Result<Parsed> {
        self.root.admit(path)?;
        let asked = self
            .asked
            .iter()
            .position(|a| a.as_ref().is_some_and(|(p, r)| p == path && r == request));
        let Some(index) = asked else {
            return self.shared.reading.read(path, request);
        };
        self.asked[index] = None;
        let mut queue = self.shared.lock();
        let outcome = loop {
            if let Some(outcome) = queue.done.remove(&index) {
                break outcome;
            }
            if let Some(at) = queue.waiting.iter().position(|job| job.index == index) {
                let job = queue.waiting.remove(at);
                drop(queue);
                break job.run(&self.shared.reading);
            }
            // Another thread has the file: parse another meanwhile.
            if let Some(job) = queue.largest() {
                drop(queue);
                self.shared.finish(job.index, job.run(&self.shared.reading));
                queue = self.shared.lock();
            } else {
                queue = self
                    .shared
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A worker: parses the largest file waiting until the queue is closed
/// (files not taken by then are not wanted).
fn work(shared: &Shared) {
    let mut queue = shared.lock();
    loop {
        if queue.closed {
            return;
        }
        if let Some(job) = queue.largest() {
            drop(queue);
            shared.finish(job.index, job.run(&shared.reading));
            queue = shared.lock();
        } else {
            queue = shared
                .changed
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}
