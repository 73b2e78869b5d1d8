// The thread pool behind parallel_for (core/parallel.hpp).
//
// One job at a time: the caller publishes it, wakes the workers it may use and takes
// tasks itself; every thread takes the next task index from one atomic counter until none
// is left. The job lives in a shared_ptr, so a worker that wakes after the caller has
// returned finds the counter past the end and touches nothing else. Idle threads spin a
// few microseconds (a parallel_for right after another is common: one per annealing
// step) and then sleep on a condition variable (workers) or a futex (the caller waiting
// for the last tasks), so they give their core away on a busy machine.
#include <pthread.h>

#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <memory>
#include <thread>

#include "logz/core/parallel.hpp"

namespace logz::detail {

namespace {

thread_local bool t_worker = false;   // this thread is a pool worker
struct Job;
// The job whose task this thread runs (innermost), null outside tasks: nested calls run serially.
thread_local const Job* t_job = nullptr;

/// Tells the core this thread is polling (frees the pipeline for a sibling hardware thread).
inline void relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// How long an idle thread polls before it sleeps (LOGZ_SPIN_US overrides it).
const std::chrono::microseconds kSpin = [] {
  const char* v = std::getenv("LOGZ_SPIN_US");
  return std::chrono::microseconds(v ? std::atol(v) : 50);
}();

struct Job {
  void (*call)(void*, std::size_t) = nullptr;
  void* context = nullptr;
  std::size_t n = 0;
  int helpers = 0;                    ///< workers that may join
  std::atomic<int> joined{0};
  std::atomic<std::size_t> next{0};   ///< the next task to take
  std::atomic<std::size_t> done{0};   ///< tasks finished
  std::atomic<bool> failed{false};    ///< a task threw: the others stop
  const Job* parent = nullptr;        ///< the job whose task made this one (nested), if any
  std::mutex error_mutex;
  std::exception_ptr error;

  bool stopping() const {
    for (const Job* j = this; j; j = j->parent)
      if (j->failed.load(std::memory_order_relaxed)) return true;
    return false;
  }

  /// Takes and runs tasks until none is left; after a task threw, the rest are skipped.
  void work() {
    const Job* outer_job = t_job;  // a nested call runs inside another task
    for (std::size_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < n;) {
      if (!stopping()) {
        t_job = this;
        try {
          call(context, t);
        } catch (...) {
          failed.store(true, std::memory_order_relaxed);
          std::lock_guard lock(error_mutex);
          if (!error) error = std::current_exception();
        }
        t_job = outer_job;
      }
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == n) done.notify_all();
    }
  }
};

class Pool {
 public:
  /// Runs `job` on the caller and up to job->helpers workers; returns when every task is done.
  void run(const std::shared_ptr<Job>& job) {
    using Clock = std::chrono::steady_clock;
    grow(job->helpers);
    {
      std::lock_guard lock(mutex_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (sleeping_.load(std::memory_order_acquire) > 0) wake_.notify_all();
    job->work();
    // Wait for the tasks other threads have started: poll briefly, then sleep.
    const auto until = Clock::now() + kSpin;
    std::size_t d;
    while ((d = job->done.load(std::memory_order_acquire)) < job->n) {
      relax();
      if (Clock::now() < until) continue;
      job->done.wait(d, std::memory_order_acquire);
    }
    std::lock_guard lock(mutex_);
    job_.reset();
  }

  /// Held by the thread whose job runs; another caller meanwhile runs serially.
  std::mutex& owner() { return owner_; }

 private:
  void grow(int workers) {
    while (int(threads_.size()) < workers) {
      threads_.emplace_back([this] { loop(); });
      threads_.back().detach();  // the pool lives until the process ends
    }
  }

  void loop() {
    t_worker = true;
    std::uint64_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      // A new job soon after the last is common: poll before sleeping.
      const auto until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen && std::chrono::steady_clock::now() < until) relax();
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mutex_);
        if (generation_.load(std::memory_order_relaxed) == seen) {
          sleeping_.fetch_add(1, std::memory_order_release);
          wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
          sleeping_.fetch_sub(1, std::memory_order_relaxed);
        }
        seen = generation_.load(std::memory_order_relaxed);
        job = job_;
      }
      if (job && job->joined.fetch_add(1, std::memory_order_relaxed) < job->helpers) job->work();
    }
  }

  std::mutex owner_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> sleeping_{0};
  std::shared_ptr<Job> job_;
  std::vector<std::thread> threads_;
};

Pool* g_pool = nullptr;

Pool& pool() {
  static const bool once = [] {
    g_pool = new Pool;  // never destroyed: its workers sleep until the process ends
    // A forked child has the pool's memory but not its threads (nor maybe its locks'
    // owners): it starts a pool of its own.
    pthread_atfork(nullptr, nullptr, [] { g_pool = new Pool; });
    return true;
  }();
  (void)once;
  return *g_pool;
}

}  // namespace

bool on_worker_thread() { return t_worker; }
bool in_task() { return t_job != nullptr; }

void stop_if_a_sibling_failed() {
  if (t_job && t_job->stopping()) throw TaskStopped{};
}

void run_tasks(int threads, std::size_t n_tasks, void (*call)(void*, std::size_t), void* context) {
  auto job = std::make_shared<Job>();
  job->call = call, job->context = context, job->n = n_tasks, job->helpers = threads - 1, job->parent = t_job;
  Pool& p = pool();
  std::unique_lock owner(p.owner(), std::try_to_lock);
  if (t_job || !owner.owns_lock()) {
    job->work();  // nested, or the pool is busy with another caller's job
  } else {
    p.run(job);
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace logz::detail
