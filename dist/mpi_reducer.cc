#include "rnnflow/dist/mpi_reducer.h"

#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rnnflow/base/status_macros.h"
#include "rnnflow/runtime/initializer.h"

namespace rnnflow {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

absl::Status MpiError(int code, const char* what) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return absl::InternalError(absl::StrCat(what, ": ", std::string(text, len)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<MpiWorld>> MpiWorld::Init(int* argc, char*** argv) {
  // Open MPI 4.1's non-blocking all-reduce (libnbc) picks a binomial tree by
  // default, which reached only 30-45% of MPI_Allreduce's bandwidth for 1-16
  // MiB here; the ring algorithm reached 77-86% (bench/allreduce_bench.cc).
  // A value the user set (environment or mpirun -mca) wins.
  setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", /*overwrite=*/0);
  int provided = 0;
  int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Init_thread");
  if (provided < MPI_THREAD_FUNNELED) {
    MPI_Finalize();
    return absl::FailedPreconditionError(
        absl::StrCat("MPI provides thread level ", provided,
                     "; rnnflow needs MPI_THREAD_FUNNELED (only the main thread calls MPI)"));
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  std::unique_ptr<MpiWorld> w(new MpiWorld());
  MPI_Comm_rank(MPI_COMM_WORLD, &w->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &w->size_);
  return w;
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

absl::Status MpiWorld::CheckSameEverywhere(const std::string& what, uint64_t hash) const {
  std::vector<uint64_t> all(size_);
  int rc = MPI_Allgather(&hash, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Allgather");
  std::vector<int> differ;
  for (int r = 1; r < size_; ++r) {
    if (all[r] != all[0]) differ.push_back(r);
  }
  if (differ.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(what, " differs between rank 0 and rank", differ.size() > 1 ? "s " : " ",
                   absl::StrJoin(differ, ", "), " of ", size_,
                   "; every rank must run the same model and configuration"));
}

absl::Status MpiWorld::Broadcast(absl::Span<const Tensor> tensors) const {
  for (const Tensor& t : tensors) {
    int rc = MPI_Bcast(t.data(), static_cast<int>(t.num_bytes()), MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Bcast");
  }
  return absl::OkStatus();
}

absl::Status MpiWorld::AllReduce(absl::Span<double> values, Op op) const {
  int rc = MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                         op == Op::kSum ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Allreduce");
  return absl::OkStatus();
}

absl::Status MpiWorld::Gather(absl::Span<const float> local, absl::Span<float> all) const {
  if (rank_ == 0 && all.size() != local.size() * size_) {
    return absl::InvalidArgumentError(
        absl::StrCat("Gather: ", all.size(), " floats for ", size_, " ranks x ", local.size()));
  }
  int rc = MPI_Gather(local.data(), static_cast<int>(local.size()), MPI_FLOAT,
                      rank_ == 0 ? all.data() : nullptr, static_cast<int>(local.size()), MPI_FLOAT,
                      0, MPI_COMM_WORLD);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Gather");
  return absl::OkStatus();
}

bool MpiWorld::AllOk(bool ok) const {
  int mine = ok ? 1 : 0, all = 0;
  MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

std::string MpiWorld::BindingMap(int omp_threads) const {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  std::string line = absl::StrCat("rank ", rank_, " on ", host, ": ", omp_threads,
                                  " OpenMP threads, CPUs ", absl::StrJoin(cpus, ","));
  line.resize(240, ' ');
  std::vector<char> all(rank_ == 0 ? 240 * size_ : 0);
  MPI_Gather(line.data(), 240, MPI_CHAR, all.data(), 240, MPI_CHAR, 0, MPI_COMM_WORLD);
  std::string out;
  for (int r = 0; r < static_cast<int>(all.size()) / 240; ++r) {
    std::string l(all.data() + 240 * r, 240);
    l.erase(l.find_last_not_of(' ') + 1);
    absl::StrAppend(&out, l, "\n");
  }
  return out;
}

BucketedAllReducer::BucketedAllReducer(MPI_Comm comm, int64_t bucket_bytes, double timeout_seconds)
    : comm_(comm), bucket_bytes_(bucket_bytes), timeout_seconds_(timeout_seconds) {
  MPI_Comm_size(comm_, &size_);
}

BucketedAllReducer::~BucketedAllReducer() {
  for (Bucket& b : buckets_) {
    if (b.request != MPI_REQUEST_NULL) MPI_Request_free(&b.request);
  }
}

absl::Status BucketedAllReducer::Plan(absl::Span<const Tensor> gradients) {
  grads_.assign(gradients.begin(), gradients.end());
  buckets_.clear();
  bucket_of_.assign(grads_.size(), -1);
  int64_t bytes = 0;
  for (size_t i = 0; i < grads_.size(); ++i) {
    if (buckets_.empty() || bytes + static_cast<int64_t>(grads_[i].num_bytes()) > bucket_bytes_) {
      buckets_.emplace_back();
      bytes = 0;
    }
    Bucket& b = buckets_.back();
    b.members.push_back(static_cast<int>(i));
    bucket_of_[i] = static_cast<int>(buckets_.size()) - 1;
    bytes += grads_[i].num_bytes();
  }
  for (Bucket& b : buckets_) {
    b.count = 0;
    for (int i : b.members) b.count += grads_[i].num_elements();
    if (b.members.size() > 1) b.staging.assign(b.count, 0.f);
    b.pending = static_cast<int>(b.members.size());
  }
  requests_.assign(buckets_.size(), MPI_REQUEST_NULL);
  return absl::OkStatus();
}

uint64_t BucketedAllReducer::PlanHash() const {
  std::string layout;
  for (const Bucket& b : buckets_) {
    absl::StrAppend(&layout, "[");
    for (int i : b.members) absl::StrAppend(&layout, grads_[i].num_elements(), ",");
    absl::StrAppend(&layout, "]");
  }
  return StableHash(layout);
}

absl::Status BucketedAllReducer::Start(Bucket& b) {
  // A bucket of one gradient is reduced in place; several are packed into
  // the bucket's staging buffer so they travel as one message.
  float* data = b.staging.data();
  if (b.members.size() == 1) {
    data = grads_[b.members[0]].f32();
  } else {
    float* dst = data;
    for (int i : b.members) {
      std::memcpy(dst, grads_[i].data(), grads_[i].num_bytes());
      dst += grads_[i].num_elements();
    }
  }
  if (!started_) {
    first_start_ = Now();
    started_ = true;
  }
  int rc = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(b.count), MPI_FLOAT, MPI_SUM, comm_,
                          &b.request);
  if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Iallreduce");
  return absl::OkStatus();
}

absl::Status BucketedAllReducer::Ready(int index) {
  if (index < 0 || index >= static_cast<int>(bucket_of_.size())) {
    return absl::InvalidArgumentError(absl::StrCat("gradient ", index, " is not in the plan"));
  }
  Bucket& b = buckets_[bucket_of_[index]];
  if (--b.pending == 0) RF_RETURN_IF_ERROR(Start(b));
  // Let MPI progress the reductions already started.
  for (Bucket& other : buckets_) {
    if (other.request == MPI_REQUEST_NULL) continue;
    int done = 0;
    MPI_Test(&other.request, &done, MPI_STATUS_IGNORE);
    if (done) {
      last_end_ = std::max(last_end_, Now());
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status BucketedAllReducer::Finish() {
  const double start = Now();
  for (size_t k = 0; k < buckets_.size(); ++k) {
    Bucket& b = buckets_[k];
    if (b.pending != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("bucket ", k, " finished the backward pass with ", b.pending,
                       " gradients not reported ready"));
    }
    while (b.request != MPI_REQUEST_NULL) {
      int done = 0;
      int rc = MPI_Test(&b.request, &done, MPI_STATUS_IGNORE);
      if (rc != MPI_SUCCESS) return MpiError(rc, "MPI_Test");
      if (done) {
        last_end_ = std::max(last_end_, Now());
        break;
      }
      if (Now() - start > timeout_seconds_) {
        return absl::DeadlineExceededError(
            absl::StrCat("gradient all-reduce of bucket ", k, " (", b.count * sizeof(float),
                         " bytes) did not complete within ", timeout_seconds_,
                         " s: another rank died or stalled"));
      }
    }
    // The gradients were scaled by 1 / ranks at the loss (loss_gradient_scale),
    // so the sum is already the mean; packed buckets are unpacked.
    if (b.members.size() > 1) {
      const float* src = b.staging.data();
      for (int i : b.members) {
        std::memcpy(grads_[i].data(), src, grads_[i].num_bytes());
        src += grads_[i].num_elements();
      }
    }
    b.pending = static_cast<int>(b.members.size());
  }
  last_wait_seconds_ = Now() - start;
  started_ = false;
  return absl::OkStatus();
}

}  // namespace rnnflow
