#include "rnnflow/training/batch_source.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "rnnflow/base/status_macros.h"

namespace rnnflow {

int InputFed(const Graph& graph, Feed feed) {
  for (int id : graph.graph_inputs()) {
    if (graph.model().input(graph.tensor(id).index).feed() == feed) return id;
  }
  return -1;
}

std::string WorkerCount(int ranks) {
  return absl::StrFormat("%d worker%s", ranks, ranks > 1 ? "s" : "");
}

std::string DescribeStreamBatch(int64_t steps, int64_t streams, int ranks, const char* unit) {
  return absl::StrFormat("T=%d steps x N=%d streams x %s = %d %s per update", steps, streams,
                         WorkerCount(ranks), steps * streams * ranks, unit);
}

Score BatchSource::Accuracy(const Session&) const { return Score(); }

std::string BatchSource::DescribeData(const BatchSource*) const { return std::string(); }

std::string BatchSource::LossNote(const Evaluation& ev) const {
  return absl::StrFormat(" (%.3f bits/token)", ev.loss / std::log(2.0));
}

std::string BatchSource::MetricFields(const Evaluation& ev) const {
  return absl::StrFormat(", \"valid_bits_per_token\": %.9g", ev.loss / std::log(2.0));
}

absl::StatusOr<Evaluation> Evaluate(Session& session, BatchSource& source, int64_t batches) {
  Evaluation ev;
  ev.has_accuracy = source.has_accuracy();
  double weighted = 0;
  int64_t count = 0;
  session.ResetStates();
  for (int64_t b = 0; b < batches; ++b) {
    const BatchFeed feed = source.FeedNext(session);
    if (feed.zero_states) session.ResetStates();
    RF_RETURN_IF_ERROR(session.Forward());
    weighted += static_cast<double>(session.loss()) * feed.weight;
    count += feed.weight;
    ev.examples += feed.examples;
    ev.truncated += feed.truncated;
    ev.target_truncated += feed.target_truncated;
    if (ev.has_accuracy) {
      const Score s = source.Accuracy(session);
      ev.score.correct += s.correct;
      ev.score.total += s.total;
    }
    if (source.carries_state()) session.CarryStates();
  }
  ev.batches = batches;
  ev.loss = count > 0 ? weighted / static_cast<double>(count) : 0.0;
  return ev;
}

}  // namespace rnnflow
