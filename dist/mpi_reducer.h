// Data parallelism over MPI: process start-up checks and the bucketed,
// non-blocking gradient all-reduce that overlaps the backward pass.
#ifndef RNNFLOW_DIST_MPI_REDUCER_H_
#define RNNFLOW_DIST_MPI_REDUCER_H_

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/runtime/gradient_reducer.h"
#include "rnnflow/runtime/worker_group.h"

namespace rnnflow {

// MPI for one process: initialised once with MPI_THREAD_FUNNELED (only the
// main thread calls MPI; OpenMP threads never do), finalised on destruction.
class MpiWorld : public WorkerGroup {
 public:
  static absl::StatusOr<std::unique_ptr<MpiWorld>> Init(int* argc, char*** argv);
  ~MpiWorld() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

  absl::Status AllReduce(absl::Span<double> values, Op op) const override;
  absl::Status Gather(absl::Span<const float> local, absl::Span<float> all) const override;

  // Every rank passes its hash of `what`; all ranks return the same error
  // naming the ranks that differ from rank 0, instead of hanging later.
  absl::Status CheckSameEverywhere(const std::string& what, uint64_t hash) const;
  // Copies rank 0's tensors to every rank.
  absl::Status Broadcast(absl::Span<const Tensor> tensors) const;
  // Whether `ok` holds on every rank. Called at the same point by all ranks
  // after a stage that may fail on some of them, so that none is left
  // waiting in a later collective for a rank that gave up.
  bool AllOk(bool ok) const;
  // One line per rank: host, OpenMP threads and the CPUs it may run on, for
  // checking that ranks x threads do not oversubscribe the cores. Collective;
  // the text is complete on rank 0.
  std::string BindingMap(int omp_threads) const;

 private:
  MpiWorld() = default;
  int rank_ = 0, size_ = 1;
};

class BucketedAllReducer : public GradientReducer {
 public:
  // Buckets of about `bucket_bytes` (a gradient larger than that gets its own
  // bucket). A reduction that does not finish within `timeout_seconds`
  // fails with the bucket it waited for instead of hanging.
  BucketedAllReducer(MPI_Comm comm, int64_t bucket_bytes, double timeout_seconds = 60);
  ~BucketedAllReducer() override;

  absl::Status Plan(absl::Span<const Tensor> gradients) override;
  absl::Status Ready(int index) override;
  absl::Status Finish() override;
  float loss_gradient_scale() const override { return 1.f / static_cast<float>(size_); }

  int num_buckets() const { return static_cast<int>(buckets_.size()); }
  // A hash of the bucket layout, to compare across ranks at start-up.
  uint64_t PlanHash() const;
  double last_seconds() const override { return last_end_ - first_start_; }
  double last_exposed_seconds() const override { return last_wait_seconds_; }

 private:
  struct Bucket {
    std::vector<int> members;    // gradient indices
    int64_t count = 0;           // floats in the bucket
    std::vector<float> staging;  // packed members (buckets of two or more)
    int pending = 0;
    MPI_Request request = MPI_REQUEST_NULL;
  };
  absl::Status Start(Bucket& bucket);

  MPI_Comm comm_;
  int64_t bucket_bytes_;
  double timeout_seconds_;
  int size_ = 1;
  std::vector<Tensor> grads_;
  std::vector<int> bucket_of_;
  std::vector<Bucket> buckets_;
  std::vector<MPI_Request> requests_;
  double last_wait_seconds_ = 0;
  // This step's first MPI_Iallreduce start and last observed completion.
  double first_start_ = 0, last_end_ = 0;
  bool started_ = false;
};

}  // namespace rnnflow

#endif  // RNNFLOW_DIST_MPI_REDUCER_H_
