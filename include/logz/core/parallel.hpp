#pragma once
/// @file parallel.hpp
/// The one place where logz runs work on several threads. Work is split into tasks by
/// the caller, in a way that depends on the problem size only, never on the thread count;
/// reductions combine per-task results in task order. Together these make every result
/// bit-identical for 1 or N threads.
///
/// Tasks run on a pool of worker threads (src/core/parallel.cpp) and the calling thread,
/// each thread taking the next task as it becomes free, so a thread the OS has paused
/// (on a busy machine) holds up at most the one task it has started. Idle workers spin
/// for a few microseconds, then sleep: they do not take CPU time from other processes
/// between calls, as OpenMP's default active waiting did (with one other busy process,
/// AIS ran 1.6-3.9x slower at 2 threads than at 1; bench/RESULTS.md, "Under load").
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <cstddef>
#include <exception>
#include <mutex>
#include <type_traits>
#include <vector>

#include "logz/core/check.hpp"
#include "logz/core/observer.hpp"

namespace logz {

/// How many threads a call may use. Passed explicitly: there is no global thread count.
class Exec {
 public:
  /// `threads` = 0 means all cores.
  explicit Exec(int threads = 0) : threads_(threads > 0 ? threads : std::max(1, omp_get_num_procs())) {
    check_arg(threads >= 0, "Exec: threads must be >= 0 (0 = all cores), got {}", threads);
  }
  int threads() const { return threads_; }

 private:
  int threads_;
};

namespace detail {
/// Calls call(context, t) for t = 0 .. n_tasks-1 on up to `threads` threads (the caller
/// and pool workers); rethrows the first exception a task threw. A call made from inside
/// a task, or while another thread's call holds the pool, runs its tasks on the calling
/// thread alone.
void run_tasks(int threads, std::size_t n_tasks, void (*call)(void*, std::size_t), void* context);
/// Whether this thread is a pool worker (not a thread that called into logz).
bool on_worker_thread();
/// Whether this thread is running a task of a parallel_for (nested calls run serially).
bool in_task();
/// Thrown by stop_if_a_sibling_failed; parallel_for rethrows the first task's error instead.
struct TaskStopped {};
/// Inside a task: throws TaskStopped once another task of the same parallel_for (or of one
/// that encloses it) has thrown, so that long tasks end soon after an error or an interrupt
/// rather than running to their end. Progress reports call it (ProgressTicker).
void stop_if_a_sibling_failed();
}  // namespace detail

/// Calls f(task) for task = 0 .. n_tasks-1, spread over ex.threads() threads.
/// The first exception thrown by a task is rethrown on the calling thread; tasks not yet
/// started are then skipped, and running ones stop at their next progress report.
template <class F>
void parallel_for(const Exec& ex, std::size_t n_tasks, F&& f) {
  if (n_tasks == 0) return;
  if (ex.threads() == 1 || n_tasks == 1) {
    for (std::size_t t = 0; t < n_tasks; ++t) f(t);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  detail::run_tasks(int(std::min<std::size_t>(std::size_t(ex.threads()), n_tasks)), n_tasks,
                    [](void* c, std::size_t t) { (*static_cast<Fn*>(c))(t); }, const_cast<void*>(static_cast<const void*>(&f)));
}

/// Ordered reduction: partial[t] = map(t) in parallel, then combine(acc, partial[t]) in
/// task order, so the result does not depend on the thread count.
template <class T, class Map, class Combine>
T parallel_reduce(const Exec& ex, std::size_t n_tasks, T init, Map&& map, Combine&& combine) {
  std::vector<T> partial(n_tasks, init);
  parallel_for(ex, n_tasks, [&](std::size_t t) { partial[t] = map(t); });
  T acc = std::move(init);
  for (auto& p : partial) acc = combine(std::move(acc), std::move(p));
  return acc;
}

/// Work of fewer multiply-adds than this (about 50 µs on one core) runs on the calling
/// thread: waking a worker costs microseconds, and on a busy machine a worker the OS has
/// paused holds the region up for a scheduler time slice, so a region this small makes
/// two threads slower than one. Blocks stay as they are, so the bits do not change.
inline constexpr std::size_t min_parallel_work = std::size_t(1) << 18;
/// `ex`, or one thread when `work` (multiply-adds, or the like) is below min_parallel_work.
inline Exec exec_for_work(const Exec& ex, std::size_t work) { return work < min_parallel_work ? Exec(1) : ex; }

/// A fixed split of [0, n) into blocks of `block` items (the last may be shorter).
struct Blocks {
  std::size_t n, block;
  std::size_t count() const { return n == 0 ? 0 : (n + block - 1) / block; }
  std::size_t begin(std::size_t t) const { return t * block; }
  std::size_t end(std::size_t t) const { return std::min(n, (t + 1) * block); }
  std::size_t size(std::size_t t) const { return end(t) - begin(t); }
};

/// Row blocks for batched work over n rows: about 50 rows a block (two blocks for the
/// usual batch of 100, so two threads share it), at most 256 rows, depending on n only.
inline Blocks row_blocks(std::size_t n) {
  std::size_t blocks = std::max<std::size_t>((n + 255) / 256, std::min<std::size_t>(n / 50, 4));
  blocks = std::max<std::size_t>(blocks, 1);
  return Blocks{n, (n + blocks - 1) / blocks};
}

/// Column blocks for splitting a matrix product by output columns, so that each block
/// packs only its own slice of the large operand: two blocks of at most 512 columns
/// (more for wider outputs, always an even number), one below 64 columns.
inline Blocks column_blocks(std::size_t n) {
  const std::size_t blocks = n < 64 ? 1 : 2 * ((n + 1023) / 1024);
  return Blocks{n, (n + blocks - 1) / blocks};
}

/// Progress of work spread over threads: any thread adds finished units, and only the
/// calling thread (not a pool worker) talks to the Observer, which need not be thread-safe.
/// With `units_per_step` > 1 the Observer sees steps (units / units_per_step): blocks of
/// particles that each run every step report progress in the steps a user asked for.
class ProgressTicker {
 public:
  ProgressTicker(Observer& obs, std::string phase, std::size_t total, std::size_t units_per_step = 1)
      : obs_(obs), phase_(std::move(phase)), total_(total), per_(std::max<std::size_t>(1, units_per_step)) {}
  void add(std::size_t units) {
    const std::size_t d = done_.fetch_add(units, std::memory_order_relaxed) + units;
    detail::stop_if_a_sibling_failed();
    if (!detail::on_worker_thread()) obs_.progress(phase_, d / per_, total_ / per_);
  }
  void finish() { obs_.progress(phase_, total_ / per_, total_ / per_); }

 private:
  Observer& obs_;
  std::string phase_;
  std::size_t total_, per_;
  std::atomic<std::size_t> done_{0};
};

}  // namespace logz
