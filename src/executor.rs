//! The one executor of the online half: "every host, at most `--forks` at once".
//!
//! plan, status, apply, rollback and history all do the same thing per host (connect, run
//! one script, maybe keep the connection for a second one) and differ only in the job. This
//! owns the tokio runtime those jobs run on and bounds how many run at once; results come
//! back in the order of the input, whatever order the hosts answer in.

use std::future::Future;
use std::sync::Arc;

pub struct Executor {
    runtime: tokio::runtime::Runtime,
    forks: usize,
}

impl Executor {
    pub fn new(forks: usize) -> Executor {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
        Executor { runtime, forks: forks.max(1) }
    }

    /// Run `job` on every item, each on its own task, at most `forks` at once.
    pub fn each<T, R, F, Fut>(&self, items: impl IntoIterator<Item = T>, job: F) -> Vec<R>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> Fut,
        Fut: Future<Output = R> + Send + 'static,
    {
        let limit = Arc::new(tokio::sync::Semaphore::new(self.forks));
        self.runtime.block_on(async {
            let tasks: Vec<_> = items
                .into_iter()
                .map(|item| {
                    let limit = limit.clone();
                    let fut = job(item);
                    tokio::spawn(async move {
                        let _permit = limit.acquire_owned().await.expect("semaphore open");
                        fut.await
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(tasks.len());
            for t in tasks {
                out.push(t.await.expect("a host's task panicked"));
            }
            out
        })
    }

    /// Like `each`, for jobs that borrow (open connections): driven together on this thread,
    /// at most `forks` at once.
    pub fn each_borrowed<'a, T, R, F, Fut>(&self, items: impl IntoIterator<Item = T>, job: F) -> Vec<R>
    where
        F: Fn(T) -> Fut,
        Fut: Future<Output = R> + 'a,
    {
        let limit = Arc::new(tokio::sync::Semaphore::new(self.forks));
        let futures: Vec<_> = items
            .into_iter()
            .map(|item| {
                let limit = limit.clone();
                let fut = job(item);
                async move {
                    let _permit = limit.acquire_owned().await.expect("semaphore open");
                    fut.await
                }
            })
            .collect();
        self.runtime.block_on(join_all(futures))
    }

    /// Run one future to completion (closing connections, background work).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Spawn a background task (apply's Ctrl-C watcher).
    pub fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) {
        self.runtime.spawn(f);
    }
}

/// Poll every future on this task until all are ready; outputs in input order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if results[i].is_some() {
                continue;
            }
            match f.as_mut().poll(cx) {
                std::task::Poll::Ready(v) => results[i] = Some(v),
                std::task::Poll::Pending => pending = true,
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    results.into_iter().map(|r| r.expect("ready")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Never more than `forks` jobs at once, and results in input order.
    #[test]
    fn bounds_concurrency_and_keeps_order() {
        for forks in [1, 3] {
            let ex = Executor::new(forks);
            let running = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let out = ex.each(0..10u64, |i| {
                let (running, peak) = (running.clone(), peak.clone());
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20 - 2 * i)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    i * 2
                }
            });
            assert_eq!(out, (0..10).map(|i| i * 2).collect::<Vec<_>>());
            assert_eq!(peak.load(Ordering::SeqCst), forks);
            let borrowed: Vec<u64> = out.iter().map(|x| x + 1).collect();
            let peak = AtomicUsize::new(0);
            let running = AtomicUsize::new(0);
            let got = ex.each_borrowed(&borrowed, |x| {
                let (running, peak) = (&running, &peak);
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    *x
                }
            });
            assert_eq!(got, borrowed);
            assert_eq!(peak.load(Ordering::SeqCst), forks);
        }
    }
}
