// All-reduce bandwidth of rnnflow's bucketed gradient path against a plain
// MPI_Allreduce of the same bytes, osu-style sizes.
//
//   mpirun -np 2 --bind-to core build/allreduce_bench [--max-mb 256] [--seconds 0.5]
//
// For each size S: "mpi" times MPI_Allreduce(MPI_IN_PLACE) of S bytes;
// "rnnflow bucket" times BucketedAllReducer::Ready + Finish on one gradient
// of S bytes in its own bucket (MPI_Iallreduce in place, waited for in
// Finish; the mean needs no pass, the loss gradient was scaled by 1/p), i.e.
// what a training step pays per bucket. Bus bandwidth = 2 (p-1)/p * S / t.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "rnnflow/dist/mpi_reducer.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of `fn` over repetitions filling about `budget` seconds;
// every rank runs the same number of repetitions (rank 0 decides).
template <typename Fn>
double Median(Fn fn, double budget, MPI_Comm comm) {
  fn();  // warm-up
  MPI_Barrier(comm);
  const double t0 = Now();
  fn();
  double once = Now() - t0;
  MPI_Bcast(&once, 1, MPI_DOUBLE, 0, comm);
  const int reps = std::clamp(static_cast<int>(budget / std::max(once, 1e-7)), 5, 2000);
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    MPI_Barrier(comm);
    const double s = Now();
    fn();
    times.push_back(Now() - s);
  }
  std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
  double median = times[reps / 2];
  MPI_Allreduce(MPI_IN_PLACE, &median, 1, MPI_DOUBLE, MPI_MAX, comm);
  return median;
}

}  // namespace

int main(int argc, char** argv) {
  auto world = rnnflow::MpiWorld::Init(&argc, &argv);
  if (!world.ok()) {
    std::fprintf(stderr, "%s\n", std::string(world.status().message()).c_str());
    return 1;
  }
  double max_mb = 256, budget = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--max-mb")) max_mb = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seconds")) budget = std::atof(argv[i + 1]);
  }
  const int p = (*world)->size();
  const MPI_Comm comm = (*world)->comm();
  if ((*world)->rank() == 0) {
    std::printf("# %d ranks; bus bandwidth GB/s = 2(p-1)/p * bytes / time; medians\n", p);
    std::printf(
        "| bytes | MPI_Allreduce us | GB/s | rnnflow bucket us | GB/s | **rnnflow / MPI** | "
        "with averaging pass us | / MPI |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  }
  for (double bytes = 4; bytes <= max_mb * (1 << 20); bytes *= 4) {
    const int64_t n = static_cast<int64_t>(bytes) / 4;
    std::vector<float> plain(n, 1.f), grad(n, 1.f);
    const double t_mpi = Median(
        [&] {
          MPI_Allreduce(MPI_IN_PLACE, plain.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, comm);
        },
        budget, comm);
    rnnflow::BucketedAllReducer reducer(comm, static_cast<int64_t>(bytes));
    rnnflow::Tensor t(rnnflow::FLOAT32, {n}, grad.data());
    if (!reducer.Plan({t}).ok()) return 1;
    const double t_rf = Median(
        [&] {
          (void)reducer.Ready(0);
          (void)reducer.Finish();
        },
        budget, comm);
    // The same plus the averaging pass Finish made before the loss gradient
    // was scaled by 1/p instead (g *= 1/p over the bucket, git 2207efa^):
    // what that pass cost.
    const float scale = 1.f / static_cast<float>(p);
    const double t_avg = Median(
        [&] {
          (void)reducer.Ready(0);
          (void)reducer.Finish();
          float* g = t.f32();
          for (int64_t j = 0; j < n; ++j) g[j] *= scale;
        },
        budget, comm);
    const double bus = 2.0 * (p - 1) / p * bytes;
    if ((*world)->rank() == 0) {
      std::printf("| %.0f | %.1f | %.2f | %.1f | %.2f | **%.2f** | %.1f | %.2f |\n", bytes,
                  t_mpi * 1e6, bus / t_mpi / 1e9, t_rf * 1e6, bus / t_rf / 1e9, t_mpi / t_rf,
                  t_avg * 1e6, t_mpi / t_avg);
      std::fflush(stdout);
    }
  }
  return 0;
}
