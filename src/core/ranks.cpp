// The ranks of a distributed run (core/ranks.hpp). This file alone sees MPI's headers: a
// build without MPI (LOGZ_WITH_MPI undefined) has one rank, and refuses to run as one of
// several processes that mpirun started.
#include "logz/core/ranks.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>

#include "logz/core/check.hpp"

#ifdef LOGZ_WITH_MPI
#include <mpi.h>
#endif

namespace logz::ranks {
namespace {

int g_rank = 0, g_size = 1;
bool g_started = false;

/// The number of processes the launcher (mpirun; srun through PMI or PMIx) says it started,
/// 0 when none started this one, and -1 when one did without saying how many.
int launched_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) return std::atoi(v);
  return std::getenv("PMIX_RANK") ? -1 : 0;
}

}  // namespace

int rank() { return g_rank; }
int size() { return g_size; }

bool built_with_mpi() {
#ifdef LOGZ_WITH_MPI
  return true;
#else
  return false;
#endif
}

void init(int* argc, char*** argv) {
  const int launched = launched_size();
#ifdef LOGZ_WITH_MPI
  if (launched == 0 || g_started) return;  // not under mpirun: one rank, MPI never started
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  g_started = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  if (provided < MPI_THREAD_FUNNELED)
    fail(Exit::unavailable, "mpi: this MPI library does not let a threaded process call it (MPI_THREAD_FUNNELED)");
#else
  (void)argc, (void)argv;
  check_arg(launched <= 1,
        "mpi: started by mpirun as one of {} processes, but this logz was built without MPI (install "
        "libopenmpi-dev and rebuild), so each process would run the whole job alone",
        launched);
#endif
}

void finish() {
#ifdef LOGZ_WITH_MPI
  if (g_started) MPI_Finalize();
  g_started = false;
#endif
}

void abort(int code, const std::string& message) {
  std::fprintf(stderr, "logz: rank %d of %d: %s\n", g_rank, g_size, message.c_str());
  std::fflush(stderr);
#ifdef LOGZ_WITH_MPI
  if (g_started) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

namespace {
int g_alone = 0;  // Alone guards alive (set by the calling thread only)
}  // namespace

bool distributed() { return g_size > 1 && g_alone == 0; }
Alone::Alone() { ++g_alone; }
Alone::~Alone() { --g_alone; }

void share_strings(std::vector<std::string>& items) {
  if (g_size == 1) return;
  const std::size_t n = items.size();
  const Range mine = owned(n);
  std::vector<std::uint64_t> sizes(n);
  for (std::size_t i = mine.begin; i < mine.end; ++i) sizes[i] = items[i].size();
  share(sizes.data(), item_bounds(n, sizeof(std::uint64_t)));
  std::vector<std::size_t> start(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) start[i + 1] = start[i] + std::size_t(sizes[i]);
  std::string all(start[n], '\0');
  for (std::size_t i = mine.begin; i < mine.end; ++i) items[i].copy(all.data() + start[i], items[i].size());
  std::vector<std::size_t> bounds(std::size_t(g_size) + 1);
  for (int r = 0; r <= g_size; ++r) bounds[std::size_t(r)] = start[owned(n, r, g_size).begin];
  share(all.data(), bounds);
  for (std::size_t i = 0; i < n; ++i) items[i] = all.substr(start[i], start[i + 1] - start[i]);
}

std::vector<std::size_t> item_bounds(std::size_t n, std::size_t per_item) {
  std::vector<std::size_t> b(std::size_t(g_size) + 1);
  for (int r = 0; r <= g_size; ++r) b[std::size_t(r)] = owned(n, r, g_size).begin * per_item;
  return b;
}

namespace {
constexpr std::size_t kPiece = std::size_t(1) << 30;  // bytes a message: MPI's counts are ints
}  // namespace

void share(void* data, std::span<const std::size_t> bounds) {
  if (g_size == 1) return;
  check_arg(bounds.size() == std::size_t(g_size) + 1, "ranks::share: {} bounds for {} ranks", bounds.size(), g_size);
  for (int r = 0; r < g_size; ++r)
    check_arg(bounds[std::size_t(r)] <= bounds[std::size_t(r) + 1], "ranks::share: rank {}'s part [{}, {}) is not a range",
              r, bounds[std::size_t(r)], bounds[std::size_t(r) + 1]);
#ifdef LOGZ_WITH_MPI
  if (bounds.back() <= std::size_t(INT_MAX)) {
    std::vector<int> counts(static_cast<std::size_t>(g_size)), offsets(static_cast<std::size_t>(g_size));
    for (int r = 0; r < g_size; ++r) {
      counts[std::size_t(r)] = int(bounds[std::size_t(r) + 1] - bounds[std::size_t(r)]);
      offsets[std::size_t(r)] = int(bounds[std::size_t(r)]);
    }
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts.data(), offsets.data(), MPI_BYTE, MPI_COMM_WORLD);
    return;
  }
  // Beyond 2 GiB: each rank's part broadcast from it, in pieces.
  auto* bytes = static_cast<char*>(data);
  for (int r = 0; r < g_size; ++r)
    for (std::size_t b = bounds[std::size_t(r)]; b < bounds[std::size_t(r) + 1]; b += kPiece)
      MPI_Bcast(bytes + b, int(std::min(kPiece, bounds[std::size_t(r) + 1] - b)), MPI_BYTE, r, MPI_COMM_WORLD);
#else
  (void)data;
#endif
}

void gather(const void* mine, void* all, std::span<const std::size_t> bounds, int root) {
  check_arg(bounds.size() == std::size_t(g_size) + 1 && root >= 0 && root < g_size,
            "ranks::gather: {} bounds for {} ranks, root {}", bounds.size(), g_size, root);
  auto* out = static_cast<char*>(all);
  const std::size_t b = bounds[std::size_t(g_rank)], e = bounds[std::size_t(g_rank) + 1];
  if (g_rank == root && e > b && out + b != mine) std::memmove(out + b, mine, e - b);
  for (int r = 0; r < g_size; ++r) {
    if (r == root) continue;
    if (g_rank == r) send_receive(root, mine, e - b, g_rank, nullptr, 0);
    if (g_rank == root)
      send_receive(g_rank, nullptr, 0, r, out + bounds[std::size_t(r)], bounds[std::size_t(r) + 1] - bounds[std::size_t(r)]);
  }
}

void send_receive(int to, const void* send, std::size_t send_bytes, int from, void* receive, std::size_t receive_bytes) {
  if (g_size == 1) return;
  check_arg(to >= 0 && to < g_size && from >= 0 && from < g_size, "ranks::send_receive: ranks {} and {} of {}", to, from,
            g_size);
#ifdef LOGZ_WITH_MPI
  std::vector<MPI_Request> requests;
  auto* in = static_cast<char*>(receive);
  for (std::size_t b = 0, piece = 0; b < receive_bytes; b += kPiece, ++piece)
    MPI_Irecv(in + b, int(std::min(kPiece, receive_bytes - b)), MPI_BYTE, from, int(piece), MPI_COMM_WORLD,
              &requests.emplace_back());
  const auto* out = static_cast<const char*>(send);
  for (std::size_t b = 0, piece = 0; b < send_bytes; b += kPiece, ++piece)
    MPI_Isend(out + b, int(std::min(kPiece, send_bytes - b)), MPI_BYTE, to, int(piece), MPI_COMM_WORLD,
              &requests.emplace_back());
  MPI_Waitall(int(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
#else
  (void)send, (void)send_bytes, (void)receive, (void)receive_bytes;
#endif
}

}  // namespace logz::ranks
