#pragma once
/// @file ranks.hpp
/// The processes of one run started as `mpirun -np N logz ...`: MPI, the Message Passing
/// Interface (MPI Forum, "MPI: A Message-Passing Interface Standard", version 3.1, 2015),
/// through Debian's OpenMPI. Without mpirun, or in a build without MPI, there is one rank
/// and nothing here communicates.
///
/// Distribution keeps parallel_for's contract (core/parallel.hpp): work comes in blocks
/// fixed by the problem size, rank r of N owns the fixed range of blocks
/// [⌊rB/N⌋, ⌊(r+1)B/N⌋) and runs them on its threads, and the results are then shared so
/// that every rank holds all of them, in block order. Nothing is summed across ranks but
/// pairs of terms (a + b = b + a exactly), so a result is bit-identical for any number of
/// ranks and threads.
///
/// Only the calling thread of a run talks to other ranks (MPI_THREAD_FUNNELED), and only
/// outside parallel tasks: every rank makes the same calls in the same order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "logz/core/parallel.hpp"

namespace logz::ranks {

/// This process's rank (0 without MPI) and the number of ranks (1 without MPI).
int rank();
int size();
/// Whether work is spread over several ranks now: several ranks and no Alone alive.
bool distributed();
/// Whether the work about to start is spread: distributed() and not inside a parallel
/// task (a task's work stays on its rank; only the calling thread talks to other ranks).
inline bool spreading() { return distributed() && !logz::detail::in_task(); }

/// A range [begin, end) of blocks.
struct Range {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
};
/// The blocks of [0, n) that rank r owns: [⌊rn/N⌋, ⌊(r+1)n/N⌋).
inline Range owned(std::size_t n, int r, int ranks) {
  return {n * std::size_t(r) / std::size_t(ranks), n * std::size_t(r + 1) / std::size_t(ranks)};
}
inline Range owned(std::size_t n) { return owned(n, rank(), size()); }
/// This rank's blocks of [0, n) when the work is spread, else all of them.
inline Range owned_if(bool spread, std::size_t n) { return spread ? owned(n) : Range{0, n}; }
/// The rank that owns block i of [0, n) (i < n).
inline int owner(std::size_t i, std::size_t n) {
  int r = 0;
  while (owned(n, r, size()).end <= i) ++r;
  return r;
}

/// Sends every rank's part of `data` to all ranks, in place: rank r's part is the bytes
/// [bounds[r], bounds[r + 1]) (bounds has size() + 1 entries, non-decreasing). Every rank
/// calls it with the same bounds. Nothing happens with one rank.
void share(void* data, std::span<const std::size_t> bounds);

/// As share, but only rank `root` receives: every rank passes its own part, bytes
/// [bounds[r], bounds[r + 1]) of the whole, at `mine`; rank `root` gets the whole in `all`
/// (the others pass null). With one rank, `mine` is copied into place.
void gather(const void* mine, void* all, std::span<const std::size_t> bounds, int root);

/// Sends `send_bytes` bytes to rank `to` while receiving `receive_bytes` bytes from rank
/// `from` (each pair of ranks agrees on the sizes); the buffers must not overlap. Every rank
/// calls it at once, with its own partners. Nothing happens with one rank.
void send_receive(int to, const void* send, std::size_t send_bytes, int from, void* receive, std::size_t receive_bytes);

/// Every rank's part of `data`, n items of `per_item` bytes, where rank r owns the items
/// owned(n, r, size()): the bounds that `share` takes.
std::vector<std::size_t> item_bounds(std::size_t n, std::size_t per_item);

/// The same for data laid out by `blocks` (items in blocks of blocks.block), where rank r
/// owns the blocks owned(blocks.count(), r, size()): `per_item` bytes an item plus
/// `per_block` bytes a block.
inline std::vector<std::size_t> block_bounds(const Blocks& blocks, std::size_t per_item, std::size_t per_block = 0) {
  std::vector<std::size_t> b(std::size_t(size()) + 1);
  for (int r = 0; r <= size(); ++r) {
    const std::size_t b0 = owned(blocks.count(), r, size()).begin;
    b[std::size_t(r)] = std::min(blocks.n, blocks.begin(b0)) * per_item + b0 * per_block;
  }
  return b;
}

/// Sends rank `root`'s vector (its size and its items) to every rank; the others' are
/// replaced. Nothing happens with one rank.
template <class T>
void broadcast(std::vector<T>& v, int root) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (!distributed()) return;
  const auto from_root = [&](std::size_t bytes) {
    std::vector<std::size_t> b(std::size_t(size()) + 1, 0);
    for (std::size_t r = std::size_t(root) + 1; r < b.size(); ++r) b[r] = bytes;
    return b;
  };
  std::uint64_t n = v.size();
  share(&n, from_root(sizeof n));
  v.resize(std::size_t(n));
  share(v.data(), from_root(v.size() * sizeof(T)));
}

/// n byte strings of which each rank filled the ones it owns (owned(n)); afterwards every
/// rank holds them all. Nothing happens with one rank.
void share_strings(std::vector<std::string>& items);

/// While one lives, this process acts as a run of its own: distributed() is false, so
/// the work it starts stays on this rank (its runs are shared when they end).
class Alone {
 public:
  Alone();
  ~Alone();
  Alone(const Alone&) = delete;
  Alone& operator=(const Alone&) = delete;
};

/// parallel_reduce (core/parallel.hpp) spread over the ranks: each rank maps its own
/// range of the tasks on its threads, the partial results are shared, and every rank
/// combines all of them in task order: the result of one process, bit for bit. As
/// parallel_reduce when not distributed or inside a task. T is copied as bytes.
template <class T, class Map, class Combine>
T spread_reduce(const Exec& ex, std::size_t n_tasks, T init, Map&& map, Combine&& combine) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (!spreading())
    return parallel_reduce(ex, n_tasks, std::move(init), std::forward<Map>(map), std::forward<Combine>(combine));
  const Range mine = owned(n_tasks);
  std::vector<T> partial(n_tasks, init);
  parallel_for(ex, mine.size(), [&](std::size_t i) { partial[mine.begin + i] = map(mine.begin + i); });
  share(partial.data(), item_bounds(n_tasks, sizeof(T)));
  T acc = std::move(init);
  for (auto& p : partial) acc = combine(std::move(acc), std::move(p));
  return acc;
}

/// Starts MPI when this process was started by mpirun (and the build has MPI); throws
/// Error(Exit::usage) when it was started by mpirun with several ranks but the build has
/// no MPI (each process would run the whole job alone). Called once, by the CLI's main.
void init(int* argc, char*** argv);
/// Ends MPI (MPI_Finalize) if init started it.
void finish();
/// Ends every rank of the job with `code` after printing `message` (this rank's words) to
/// stderr: what a rank that fails alone must do, or the others would wait for it forever.
[[noreturn]] void abort(int code, const std::string& message);
/// Whether this build can run distributed (found MPI when it was configured).
bool built_with_mpi();

}  // namespace logz::ranks
