// parallel_for / parallel_reduce / Blocks: every task runs once, errors reach the caller,
// and reductions do not depend on the thread count.
#include "logz/core/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "support/rbm_fixtures.hpp"

namespace logz {
namespace {

TEST(Exec, ThreadCounts) {
  EXPECT_EQ(Exec(1).threads(), 1);
  EXPECT_EQ(Exec(3).threads(), 3);
  EXPECT_GE(Exec(0).threads(), 1);
  EXPECT_GE(Exec().threads(), 1);
  try {
    Exec bad(-2);
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Exec: threads must be >= 0 (0 = all cores), got -2");
    EXPECT_EQ(e.code(), Exit::usage);
  }
}

TEST(ParallelFor, RunsEveryTaskExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    for (std::size_t n : {0u, 1u, 2u, 3u, 1000u}) {
      std::vector<std::atomic<int>> hits(n);
      for (auto& h : hits) h = 0;
      parallel_for(Exec(threads), n, [&](std::size_t t) { hits[t].fetch_add(1); });
      for (std::size_t t = 0; t < n; ++t) ASSERT_EQ(hits[t].load(), 1) << "threads " << threads << " n " << n << " task " << t;
    }
  }
}

TEST(ParallelFor, ExceptionsReachTheCaller) {
  for (int threads : {1, 2}) {
    std::atomic<int> ran{0};
    try {
      parallel_for(Exec(threads), 100, [&](std::size_t t) {
        ran.fetch_add(1);
        if (t == 37) fail(Exit::data, "task {} failed", t);
      });
      FAIL() << "no throw at " << threads << " threads";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "task 37 failed");
      EXPECT_EQ(e.code(), Exit::data);
    }
    EXPECT_GE(ran.load(), 1);
    // Non-logz exceptions too, and when every task throws, one of them arrives.
    EXPECT_THROW(parallel_for(Exec(threads), 10, [](std::size_t) { throw std::out_of_range("x"); }), std::out_of_range);
  }
}

TEST(ParallelFor, ATaskThatThrowsStopsItsSiblingsAtTheirNextProgressCheck) {
  // Task 0 waits until task 1 has started, then throws; task 1 (nested one level down, as a
  // replicate runs its own blocks) would run for a minute but checks between its steps.
  std::atomic<bool> second_started{false};
  std::atomic<int> steps{0};
  const auto t0 = std::chrono::steady_clock::now();
  try {
    parallel_for(Exec(2), 2, [&](std::size_t t) {
      if (t == 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!second_started.load() && std::chrono::steady_clock::now() < until) std::this_thread::yield();
        fail(Exit::software, "task 0 failed");
      }
      second_started = true;
      parallel_for(Exec(2), 3, [&](std::size_t) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < until) {
          steps.fetch_add(1);
          detail::stop_if_a_sibling_failed();
          std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
      });
    });
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "task 0 failed");  // the first error, not the sibling's stop
  }
  EXPECT_LT(seconds_since(t0), 20.0);
  // Outside a task the check never throws.
  EXPECT_NO_THROW(detail::stop_if_a_sibling_failed());
}

TEST(ParallelFor, TasksRunOnSeveralThreadsAndTheCaller) {
  // Tasks that wait for each other can only finish when two threads run them at once.
  std::atomic<int> started{0};
  std::atomic<bool> caller_ran{false};
  const auto caller = std::this_thread::get_id();
  parallel_for(Exec(2), 2, [&](std::size_t) {
    if (std::this_thread::get_id() == caller) caller_ran = true;
    started.fetch_add(1);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started.load() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  });
  EXPECT_EQ(started.load(), 2);
  EXPECT_TRUE(caller_ran.load());
  EXPECT_FALSE(detail::on_worker_thread());
}

TEST(ParallelFor, NestedAndConcurrentCallsRunEveryTaskOnce) {
  // A parallel_for inside a task, and parallel_fors from several threads at once (as
  // Python threads calling logz with the GIL released): each task once, same sums.
  std::vector<std::atomic<int>> hits(64 * 16);
  for (auto& h : hits) h = 0;
  parallel_for(Exec(2), 64, [&](std::size_t t) {
    parallel_for(Exec(2), 16, [&](std::size_t u) { hits[t * 16 + u].fetch_add(1); });
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  std::vector<double> sums(4);
  std::vector<std::thread> callers;
  for (std::size_t c = 0; c < sums.size(); ++c)
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round)
        sums[c] = parallel_reduce(Exec(2), 100, 0.0, [](std::size_t t) { return 1.0 / double(t + 1); },
                                  [](double a, double b) { return a + b; });
    });
  for (std::thread& t : callers) t.join();
  double serial = 0;
  for (std::size_t t = 0; t < 100; ++t) serial += 1.0 / double(t + 1);
  for (double v : sums) EXPECT_EQ(v, serial);
}

TEST(ProgressTicker, OnlyTheCallingThreadReports) {
  struct Counting : Observer {
    std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> calls{0}, foreign{0};
    void progress(std::string_view, std::size_t, std::size_t) override {
      calls.fetch_add(1);
      if (std::this_thread::get_id() != caller) foreign.fetch_add(1);
    }
  } obs;
  ProgressTicker ticker(obs, "work", 200);
  parallel_for(Exec(2), 200, [&](std::size_t) { ticker.add(1); });
  ticker.finish();
  EXPECT_GE(obs.calls.load(), 1);
  EXPECT_EQ(obs.foreign.load(), 0);
}

TEST(ParallelReduce, OrderFixedByTasksNotThreads) {
  // Values whose sum depends on the order of addition: 1e16 + 1 + 1 - 1e16 ... In
  // double, a left fold in task order gives one particular answer; every thread count
  // must give exactly that answer (bit for bit).
  Stream rng = Stream::derive(1, Purpose::user, 0);
  std::vector<double> x(999);
  for (std::size_t i = 0; i < x.size(); ++i) {
    // small, +1e16, -1e16, small, ...: each small value is partly absorbed by rounding.
    x[i] = (i % 3 == 0) ? rng.uniform_double() * 3 : (i % 3 == 1 ? 1e16 : -1e16);
  }
  double serial = 0;
  for (double v : x) serial += v;
  for (int threads : {1, 2, 3, 8}) {
    const double r = parallel_reduce(
        Exec(threads), x.size(), 0.0, [&](std::size_t t) { return x[t]; }, [](double a, double b) { return a + b; });
    EXPECT_EQ(std::bit_cast<std::uint64_t>(r), std::bit_cast<std::uint64_t>(serial)) << threads << " threads: " << r << " vs " << serial;
  }
  // A sum that is order dependent indeed (so that the check above means something).
  double reversed = 0;
  for (std::size_t i = x.size(); i-- > 0;) reversed += x[i];
  EXPECT_NE(reversed, serial);
  // Non-commutative combine: string concatenation in task order.
  const std::string s = parallel_reduce(
      Exec(2), 12, std::string(), [](std::size_t t) { return std::string(1, char('a' + t)); },
      [](std::string a, const std::string& b) { return a + b; });
  EXPECT_EQ(s, "abcdefghijkl");
  EXPECT_EQ(parallel_reduce(Exec(2), 0, 5, [](std::size_t) { return 1; }, [](int a, int b) { return a + b; }), 5);
}

TEST(Blocks, SplitCoversRangeInOrder) {
  EXPECT_EQ((Blocks{0, 4}).count(), 0u);
  const Blocks b{10, 3};
  EXPECT_EQ(b.count(), 4u);
  EXPECT_EQ(b.begin(0), 0u);
  EXPECT_EQ(b.end(0), 3u);
  EXPECT_EQ(b.begin(3), 9u);
  EXPECT_EQ(b.end(3), 10u);
  EXPECT_EQ(b.size(3), 1u);
  for (std::size_t n : {1u, 5u, 12u, 99u, 100u, 101u}) {
    for (std::size_t block : {1u, 2u, 7u, 100u, 200u}) {
      const Blocks bl{n, block};
      std::size_t covered = 0;
      for (std::size_t t = 0; t < bl.count(); ++t) {
        ASSERT_EQ(bl.begin(t), covered);
        ASSERT_GE(bl.size(t), 1u);
        ASSERT_LE(bl.size(t), block);
        covered = bl.end(t);
      }
      EXPECT_EQ(covered, n);
    }
  }
}

}  // namespace
}  // namespace logz
