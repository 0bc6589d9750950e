// Training checkpoints: everything a truncated-BPTT run needs to continue
// exactly where it stopped (parameters, optimizer state, step counters,
// stream offsets, carried hidden states, random-number state).
//
// File format (version 1). All integers are little-endian.
//
//   offset  size  field
//   0       8     magic "RNNFCKPT"
//   8       4     u32 format version (kCheckpointFormatVersion)
//   12      4     u32 number of records
//   16      8     u64 payload length P (bytes of all records)
//   24      P     records, each:
//                   u32 name length, name bytes (UTF-8, no terminator)
//                   u32 record type (CheckpointRecordType below)
//                   u32 rank, then rank x i64 dims
//                   u64 byte length B, then B bytes of data
//   24+P    4     u32 CRC32C (Castagnoli) of bytes [0, 24 + P)
//   28+P    4     end marker "RFCK"
//
// The file is exactly 32 + P bytes long; any other size is reported as a
// truncated (or over-long) file before the checksum is even computed.
//
// Record names: "meta/<field>" for the scalar fields of CheckpointData
// (I64 or U64 scalars, STRING for text), "param/<parameter>" for parameter
// values, "optimizer/<parameter>/<slot>" for optimizer state and
// "state/<carried state>" for carried hidden states (all F32). Readers
// ignore records they do not know, so later versions can add records (e.g.
// dropout RNG streams) without breaking older checkpoints.
//
// Files in a checkpoint directory are named "ckpt-<step>.rfck" (the step
// zero-padded to 10 digits). They are written to ".ckpt-<step>.rfck.tmp",
// fsynced, renamed into place and the directory is fsynced, so a crash at any
// moment leaves either the previous set of checkpoints or the new one; a
// leftover temporary file is never mistaken for a checkpoint.
#ifndef RNNFLOW_RUNTIME_CHECKPOINT_H_
#define RNNFLOW_RUNTIME_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "rnnflow/graph/shape.h"
#include "rnnflow/proto/rnnflow.pb.h"
#include "rnnflow/runtime/tensor.h"

namespace rnnflow {

inline constexpr char kCheckpointMagic[] = "RNNFCKPT";  // 8 bytes, no terminator stored
inline constexpr uint32_t kCheckpointFormatVersion = 1;

enum class CheckpointRecordType : uint32_t {
  kF32 = 1,
  kI64 = 2,
  kU64 = 3,
  kString = 4,
};

// A saved float tensor.
struct CheckpointTensor {
  std::string name;
  Shape shape;
  std::vector<float> values;
};

struct CheckpointData {
  // Identity of the model (ModelHash below), and its name for messages.
  uint64_t model_hash = 0;
  std::string model_name;

  int64_t step = 0;            // optimizer steps completed
  int64_t optimizer_step = 0;  // Optimizer::step() (Adam bias correction)
  int64_t schedule_step = 0;   // learning-rate schedule position
  int64_t total_steps = 0;     // the run's planned length (informational)

  // Truncated-BPTT layout: every column c reads the corpus at
  // c * stream_length + stream_position (TokenStreams::position()).
  // num_streams is the global column count C = ranks x streams per worker
  // of the run that wrote it; carried states hold all C columns.
  int64_t truncation_steps = 0;
  int64_t num_streams = 0;
  int64_t stream_length = 0;
  int64_t stream_position = 0;
  // Series models trained on windows of W rows (dataset/series_windows.h):
  // W; 0 for stateful training; -1 when the file does not say (older ones).
  int64_t series_window = 0;

  // Random state: the run's seed and one 64-bit RNG word reserved for
  // randomness drawn during training (dropout, sampling). Initialisation
  // depends only on (seed, parameter name).
  uint64_t seed = 0;
  uint64_t rng_state = 0;

  std::vector<CheckpointTensor> params;     // Graph::params() order
  std::vector<CheckpointTensor> optimizer;  // "<parameter>/<slot>"
  std::vector<CheckpointTensor> carried;    // Session::carried_state_names()

  std::string path;  // the file it was loaded from (set by Load*)
};

// The identity of a model for checkpoints: a stable hash of ModelToText of
// the model without what says how to compute rather than what: its training
// block (so changing the step count or learning rate keeps old checkpoints
// usable) and the recurrent nodes' `precision` (a float32 checkpoint resumes
// in bfloat16 and back).
uint64_t ModelHash(const ModelDef& model);

// Whether a checkpoint with `model_hash` belongs to `model`: ModelHash, or
// the hash of checkpoints written before `precision` left the identity.
bool CheckpointBelongsTo(uint64_t model_hash, const ModelDef& model);

// Writes `data` as "<dir>/ckpt-<step>.rfck" atomically (creating `dir` if
// needed), then deletes all but the newest `keep_last` checkpoints (by step;
// keep_last <= 0 keeps all) and leftover temporary files.
absl::Status SaveCheckpoint(const std::string& dir, const CheckpointData& data, int keep_last);

// Reads and verifies one checkpoint file: size, magic, version, checksum,
// record structure and the presence of every required record. Errors name
// the file and what is wrong.
absl::StatusOr<CheckpointData> LoadCheckpoint(const std::string& path);

// Checkpoint files in `dir`, oldest first (sorted by step). Temporary files
// and unrelated files are not listed. An absent directory lists nothing.
absl::StatusOr<std::vector<std::string>> ListCheckpoints(const std::string& dir);

// Loads the newest checkpoint of `dir` that verifies. A newer file that is
// corrupt is skipped, with a line naming it and the problem appended to
// `warnings` (when given). NotFound when `dir` holds no checkpoint; when
// every checkpoint is corrupt, DataLoss listing each file's problem.
absl::StatusOr<CheckpointData> LoadLatestCheckpoint(const std::string& dir,
                                                    std::vector<std::string>* warnings = nullptr);

// Copies saved tensors into `dst` (e.g. Session::params()), matching by
// name: `names[i]` is the name of `dst[i]`. Every destination must be found
// with the same shape, and the checkpoint may hold no other tensor of this
// kind; errors name `what` ("parameter", ...), the tensor, the expected and
// the found shape, and the file.
absl::Status RestoreCheckpointTensors(const std::string& path, const std::string& what,
                                      absl::Span<const CheckpointTensor> saved,
                                      absl::Span<const std::string> names,
                                      absl::Span<const Tensor> dst);

// Saves views as checkpoint tensors (copies the values).
std::vector<CheckpointTensor> SnapshotTensors(absl::Span<const std::string> names,
                                              absl::Span<const Tensor> tensors);

// CRC32C (Castagnoli polynomial, reflected, as in iSCSI / ext4) of `n`
// bytes, continuing from `crc` (0 to start).
uint32_t Crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace rnnflow

#endif  // RNNFLOW_RUNTIME_CHECKPOINT_H_
