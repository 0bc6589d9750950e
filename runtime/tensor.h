// A non-owning view of a dense, row-major tensor. Buffers are owned by the
// memory plan (runtime/session.h); kernels only ever see views, so the
// steady-state step allocates nothing.
#ifndef RNNFLOW_RUNTIME_TENSOR_H_
#define RNNFLOW_RUNTIME_TENSOR_H_

#include <cstdint>
#include <cstring>

#include "rnnflow/graph/shape.h"
#include "rnnflow/proto/rnnflow.pb.h"

namespace rnnflow {

inline size_t DataTypeSize(DataType dt) { return dt == INT32 ? sizeof(int32_t) : sizeof(float); }

class Tensor {
 public:
  Tensor() = default;
  Tensor(DataType dtype, Shape shape, void* data)
      : dtype_(dtype), shape_(std::move(shape)), data_(data) {}

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[i < 0 ? shape_.size() + i : i]; }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t num_bytes() const { return num_elements() * DataTypeSize(dtype_); }
  bool valid() const { return data_ != nullptr; }

  float* f32() const { return static_cast<float*>(data_); }
  int32_t* i32() const { return static_cast<int32_t*>(data_); }
  void* data() const { return data_; }

  // Re-points the view (same shape); used to walk time steps without
  // allocating.
  void set_data(void* data) { data_ = data; }

  void SetZero() const {
    if (data_ != nullptr) std::memset(data_, 0, num_bytes());
  }

  // The sub-tensor [index] along axis 0, e.g. time step t of a [T, N, C]
  // sequence is a [N, C] view.
  Tensor Slice0(int64_t index) const {
    Shape inner(shape_.begin() + 1, shape_.end());
    const size_t stride = NumElements(inner) * DataTypeSize(dtype_);
    return Tensor(dtype_, inner, static_cast<char*>(data_) + index * stride);
  }

 private:
  DataType dtype_ = FLOAT32;
  Shape shape_;
  void* data_ = nullptr;
};

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_TENSOR_H_
