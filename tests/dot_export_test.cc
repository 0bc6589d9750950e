// Graphviz export: the DOT text is checked by parsing it back with a small
// structural DOT reader (balanced braces, every edge between declared nodes,
// clusters and their members) and asserting properties of the graph drawn.
#include "rnnflow/graph/dot_export.h"

#include <cctype>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "rnnflow/graph/builder.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/graph/model_loader.h"

namespace rnnflow {
namespace {

// ---------------------------------------------------------------------------
// A reader for the DOT subset the exporter writes: digraph, subgraphs,
// node/edge/graph defaults, `key=value;`, node statements and `a -> b`
// edges, every ID a bare word or a quoted string.

struct DotEdge {
  std::string from, to;
  std::map<std::string, std::string> attrs;
};

struct DotCluster {
  std::string label;
  std::vector<std::string> nodes;
};

struct DotGraph {
  std::string name;
  std::map<std::string, std::map<std::string, std::string>> nodes;
  std::vector<DotEdge> edges;
  std::map<std::string, DotCluster> clusters;
};

class DotReader {
 public:
  explicit DotReader(const std::string& text) : text_(text) {}

  // Parses the whole text; false with `error()` set when it is malformed.
  bool Read(DotGraph* g) {
    if (!Tokenize()) return false;
    if (!ExpectWord("digraph") || !Id(&g->name) || !Expect("{")) return false;
    if (!Statements(g, nullptr)) return false;
    if (!Expect("}")) return false;
    if (pos_ != tokens_.size()) return Fail("text after the closing brace");
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  struct Token {
    std::string text;
    bool quoted = false;
  };

  bool Fail(const std::string& why) {
    if (error_.empty()) error_ = why + " at token " + std::to_string(pos_);
    return false;
  }

  bool Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
      } else if (c == '"') {
        Token t{"", true};
        ++i;
        while (i < text_.size() && text_[i] != '"') {
          // \" and \\ are escapes; others (\n) are kept as written.
          if (text_[i] == '\\' && i + 1 < text_.size() &&
              (text_[i + 1] == '"' || text_[i + 1] == '\\')) {
            ++i;
          } else if (text_[i] == '\\' && i + 1 < text_.size()) {
            t.text += text_[i++];
          }
          t.text += text_[i++];
        }
        if (i >= text_.size()) return Fail("unterminated string");
        ++i;
        tokens_.push_back(t);
      } else if (c == '-' && i + 1 < text_.size() && text_[i + 1] == '>') {
        tokens_.push_back({"->", false});
        i += 2;
      } else if (std::string("{}[];=,").find(c) != std::string::npos) {
        tokens_.push_back({std::string(1, c), false});
        ++i;
      } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') {
        Token t;
        while (i < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[i])) ||
                                    text_[i] == '_' || text_[i] == '.')) {
          t.text += text_[i++];
        }
        tokens_.push_back(t);
      } else {
        return Fail(std::string("unexpected character '") + c + "'");
      }
    }
    return true;
  }

  const Token* Peek(size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() ? &tokens_[pos_ + ahead] : nullptr;
  }
  bool IsPunct(const Token* t, const char* p) const {
    return t != nullptr && !t->quoted && t->text == p;
  }
  bool Expect(const char* p) {
    if (!IsPunct(Peek(), p)) return Fail(std::string("expected '") + p + "'");
    ++pos_;
    return true;
  }
  bool ExpectWord(const char* w) { return Expect(w); }
  bool Id(std::string* out) {
    const Token* t = Peek();
    if (t == nullptr ||
        (!t->quoted && std::string("{}[];=,->").find(t->text) != std::string::npos)) {
      return Fail("expected an ID");
    }
    *out = t->text;
    ++pos_;
    return true;
  }

  bool Attrs(std::map<std::string, std::string>* attrs) {
    if (!IsPunct(Peek(), "[")) return true;
    ++pos_;
    while (!IsPunct(Peek(), "]")) {
      std::string key, value;
      if (!Id(&key) || !Expect("=") || !Id(&value)) return false;
      (*attrs)[key] = value;
      if (IsPunct(Peek(), ",")) ++pos_;
    }
    ++pos_;
    return true;
  }

  bool Statements(DotGraph* g, DotCluster* cluster) {
    while (Peek() != nullptr && !IsPunct(Peek(), "}")) {
      const Token* t = Peek();
      if (!t->quoted && t->text == "subgraph") {
        ++pos_;
        std::string name;
        if (!Id(&name) || !Expect("{")) return false;
        if (g->clusters.count(name)) return Fail("duplicate subgraph " + name);
        DotCluster& c = g->clusters[name];
        if (!Statements(g, &c) || !Expect("}")) return false;
        continue;
      }
      if (!t->quoted && (t->text == "node" || t->text == "edge" || t->text == "graph")) {
        ++pos_;
        std::map<std::string, std::string> ignored;
        if (!Attrs(&ignored) || !Expect(";")) return false;
        continue;
      }
      std::string id;
      if (!Id(&id)) return false;
      if (IsPunct(Peek(), "=")) {  // a graph attribute
        ++pos_;
        std::string value;
        if (!Id(&value) || !Expect(";")) return false;
        if (id == "label" && cluster != nullptr) cluster->label = value;
        continue;
      }
      if (IsPunct(Peek(), "->")) {
        ++pos_;
        DotEdge e;
        e.from = id;
        if (!Id(&e.to) || !Attrs(&e.attrs) || !Expect(";")) return false;
        g->edges.push_back(e);
        continue;
      }
      if (g->nodes.count(id)) return Fail("node declared twice: " + id);
      if (!Attrs(&g->nodes[id]) || !Expect(";")) return false;
      if (cluster != nullptr) cluster->nodes.push_back(id);
    }
    return true;
  }

  std::string text_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  std::string error_;
};

// Braces balance outside quoted strings.
bool BracesBalance(const std::string& text) {
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth < 0) return false;
    }
  }
  return depth == 0 && !quoted;
}

// Parses `text` and checks the structural invariants every export has.
DotGraph ParseDot(const std::string& text) {
  EXPECT_TRUE(BracesBalance(text)) << text;
  DotGraph g;
  DotReader reader(text);
  EXPECT_TRUE(reader.Read(&g)) << reader.error() << "\n" << text;
  for (const DotEdge& e : g.edges) {
    EXPECT_TRUE(g.nodes.count(e.from)) << "edge from undeclared node " << e.from;
    EXPECT_TRUE(g.nodes.count(e.to)) << "edge to undeclared node " << e.to;
  }
  return g;
}

const DotEdge* FindEdge(const DotGraph& g, const std::string& from, const std::string& to) {
  for (const DotEdge& e : g.edges) {
    if (e.from == from && e.to == to) return &e;
  }
  return nullptr;
}

std::string Attr(const DotEdge* e, const std::string& key) {
  if (e == nullptr) return "<no edge>";
  auto it = e->attrs.find(key);
  return it == e->attrs.end() ? "" : it->second;
}

// The step of an unrolled copy "node:x@3", or -1.
int64_t StepOf(const std::string& id) {
  const size_t at = id.rfind('@');
  int64_t step = -1;
  if (at == std::string::npos || !absl::SimpleAtoi(id.substr(at + 1), &step)) return -1;
  return step;
}

// ---------------------------------------------------------------------------
// Models

struct Built {
  LoadedModel loaded;
  Graph graph;
};

std::unique_ptr<Built> Textbook() {
  auto b = std::make_unique<Built>();
  auto loaded = LoadModelFile(RNNFLOW_SOURCE_DIR "/tests/testdata/textbook_relu_rnn.pbtxt");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  b->loaded = *std::move(loaded);
  auto graph = Graph::Build(b->loaded.model, b->loaded.source);
  EXPECT_TRUE(graph.ok()) << graph.status();
  b->graph = *std::move(graph);
  return b;
}

Graph CharLm() {
  GraphBuilder b("char_lm");
  TensorRef tokens = b.Input("tokens", INT32, {"T", "N"}, TOKENS);
  TensorRef targets = b.Input("targets", INT32, {"T", "N"}, NEXT_TOKENS);
  NodeRef emb = b.Node("embed", "Embedding", {tokens}, {{"vocab", 256}, {"dim", 64}});
  NodeRef lstm1 = b.Node("lstm1", "LSTM", {emb}, {{"hidden", 256}});
  NodeRef lstm2 = b.Node("lstm2", "LSTM", {lstm1}, {{"hidden", 256}});
  NodeRef logits = b.Node("logits", "Dense", {lstm2}, {{"units", 256}});
  b.Loss(b.Node("loss", "SoftmaxCrossEntropy", {logits, targets}));
  b.Output(lstm2.out("h_n"));
  auto graph = b.BuildGraph();
  EXPECT_TRUE(graph.ok()) << graph.status();
  return *std::move(graph);
}

// ---------------------------------------------------------------------------
// Rolled

TEST(DotExportTest, RolledTextbookCell) {
  auto m = Textbook();
  const DotGraph g = ParseDot(RolledDot(m->graph));
  EXPECT_EQ(g.name, "textbook_relu_rnn");
  // 2 inputs + 5 params + 1 state + 8 nodes + 2 output sinks + the loss sink.
  EXPECT_EQ(g.nodes.size(), 19u);
  EXPECT_EQ(g.nodes.at("param:W_xh").at("shape"), "box");
  EXPECT_EQ(g.nodes.at("input:x").at("label"), "x\\nFLOAT32 [T,N,1]");

  // The state link is a dashed back-edge from the update to the state.
  const DotEdge* back = FindEdge(g, "node:h_t", "state:h");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(Attr(back, "label"), "t-1");
  EXPECT_EQ(Attr(back, "style"), "dashed");
  EXPECT_EQ(Attr(FindEdge(g, "state:h", "node:hw"), "label"), "[N,1]");

  // The recurrent region is one cluster; the rest sits outside it.
  ASSERT_EQ(g.clusters.count("cluster_recurrence"), 1u);
  std::set<std::string> region(g.clusters.at("cluster_recurrence").nodes.begin(),
                               g.clusters.at("cluster_recurrence").nodes.end());
  EXPECT_EQ(region, (std::set<std::string>{"node:hw", "node:pre", "node:pre_b", "node:h_t"}));

  // Edge labels are shapes as the consumer sees them: per step inside the
  // recurrence, [T, ...] outside.
  EXPECT_EQ(Attr(FindEdge(g, "node:xw", "node:pre"), "label"), "[N,1]");
  EXPECT_EQ(Attr(FindEdge(g, "input:x", "node:xw"), "label"), "[T,N,1]");
  EXPECT_EQ(Attr(FindEdge(g, "node:h_t", "node:yw"), "label"), "[T,N,1]");
  EXPECT_EQ(Attr(FindEdge(g, "node:loss", "loss:"), "label"), "[]");
  // Every node input is an edge: 15 node inputs, the back-edge, 3 sinks.
  EXPECT_EQ(g.edges.size(), 15u + 1u + 3u);
}

TEST(DotExportTest, RolledCharLmShowsOpsAttrsAndOwnedParams) {
  const Graph graph = CharLm();
  const DotGraph g = ParseDot(RolledDot(graph));
  // 2 inputs + 9 params (table, 2 x 3 LSTM, kernel, bias) + 5 nodes + 1
  // output + loss.
  EXPECT_EQ(g.nodes.size(), 18u);
  EXPECT_TRUE(g.nodes.count("param:lstm2/l0/w_h"));
  EXPECT_EQ(g.nodes.at("param:embed/table").at("label"), "embed/table\\n[256,64]");
  // Required attributes are shown, defaults are not.
  EXPECT_EQ(g.nodes.at("node:lstm1").at("label"), "lstm1\\nLSTM\\nhidden=256");
  EXPECT_EQ(g.nodes.at("node:logits").at("label"), "logits\\nDense\\nunits=256");
  EXPECT_EQ(Attr(FindEdge(g, "node:lstm2", "output:0"), "label"), "h_n [1,N,256]");
  EXPECT_EQ(Attr(FindEdge(g, "node:embed", "node:lstm1"), "label"), "[T,N,64]");
  EXPECT_EQ(Attr(FindEdge(g, "param:lstm1/l0/w_x", "node:lstm1"), "label"), "[64,1024]");
  // No custom recurrence: an empty region and no back-edges.
  EXPECT_TRUE(g.clusters.at("cluster_recurrence").nodes.empty());
  for (const DotEdge& e : g.edges) EXPECT_NE(Attr(&e, "style"), "dashed");
}

// ---------------------------------------------------------------------------
// Unrolled

TEST(DotExportTest, UnrolledTextbookCopiesTheRegionPerStep) {
  auto m = Textbook();
  constexpr int64_t kT = 3;
  auto dot = UnrolledDot(m->graph, kT);
  ASSERT_TRUE(dot.ok()) << dot.status();
  const DotGraph g = ParseDot(*dot);
  // 2 inputs + 5 params + 1 initial state + 4 region nodes x 3 steps + 4
  // batched nodes (xw, yw, y, loss) + 3 sinks.
  EXPECT_EQ(g.nodes.size(), 2u + 5u + 1u + 12u + 4u + 3u);
  ASSERT_EQ(g.clusters.size(), static_cast<size_t>(kT));
  for (int64_t t = 0; t < kT; ++t) {
    const std::string name = "cluster_t" + std::to_string(t);
    ASSERT_EQ(g.clusters.count(name), 1u) << name;
    const DotCluster& c = g.clusters.at(name);
    EXPECT_EQ(c.label, "t=" + std::to_string(t));
    ASSERT_EQ(c.nodes.size(), 4u);
    for (const std::string& id : c.nodes) EXPECT_EQ(StepOf(id), t) << id;
  }
  // State edges go from step t-1's update to step t's readers.
  EXPECT_EQ(Attr(FindEdge(g, "state:h@init", "node:hw@0"), "style"), "dashed");
  for (int64_t t = 1; t < kT; ++t) {
    const DotEdge* e =
        FindEdge(g, "node:h_t@" + std::to_string(t - 1), "node:hw@" + std::to_string(t));
    ASSERT_NE(e, nullptr) << t;
    EXPECT_EQ(Attr(e, "label"), "h (t-1) [N,1]");
  }
  // Time only moves forward.
  for (const DotEdge& e : g.edges) {
    if (StepOf(e.from) >= 0 && StepOf(e.to) >= 0) {
      EXPECT_LE(StepOf(e.from), StepOf(e.to)) << e.from << " -> " << e.to;
    }
  }
  // Batched nodes appear once, marked "x T", and feed each step its slice.
  EXPECT_TRUE(absl::StrContains(g.nodes.at("node:xw").at("label"), "x T"))
      << g.nodes.at("node:xw").at("label");
  EXPECT_EQ(Attr(FindEdge(g, "node:xw", "node:pre@2"), "label"), "[t=2] [N,1]");
  EXPECT_EQ(Attr(FindEdge(g, "node:h_t@1", "node:yw"), "label"), "[t=1] [N,1]");
  EXPECT_FALSE(g.nodes.count("node:hw"));
  EXPECT_FALSE(g.nodes.count("node:xw@0"));
}

TEST(DotExportTest, UnrolledFusedLayersAreChainsOfCells) {
  const Graph graph = CharLm();
  constexpr int64_t kT = 4;
  auto dot = UnrolledDot(graph, kT);
  ASSERT_TRUE(dot.ok()) << dot.status();
  const DotGraph g = ParseDot(*dot);
  ASSERT_EQ(g.clusters.size(), static_cast<size_t>(kT));
  for (int64_t t = 0; t < kT; ++t) {
    const std::string s = std::to_string(t);
    EXPECT_EQ(g.clusters.at("cluster_t" + s).nodes,
              (std::vector<std::string>{"node:lstm1@" + s, "node:lstm2@" + s}));
    EXPECT_EQ(Attr(FindEdge(g, "node:embed", "node:lstm1@" + s), "label"), "[t=" + s + "] [N,64]");
    EXPECT_EQ(Attr(FindEdge(g, "node:lstm1@" + s, "node:lstm2@" + s), "label"), "[N,256]");
    EXPECT_NE(FindEdge(g, "param:lstm2/l0/w_x", "node:lstm2@" + s), nullptr);
    if (t > 0) {
      const std::string p = std::to_string(t - 1);
      EXPECT_EQ(Attr(FindEdge(g, "node:lstm1@" + p, "node:lstm1@" + s), "label"), "h, c (t-1)");
    }
  }
  // The final state leaves the last cell only.
  EXPECT_NE(FindEdge(g, "node:lstm2@3", "output:0"), nullptr);
  EXPECT_EQ(FindEdge(g, "node:lstm2@2", "output:0"), nullptr);
  // 2 inputs + 9 params + 2 x 4 cells + 3 batched nodes + 2 sinks.
  EXPECT_EQ(g.nodes.size(), 2u + 9u + 8u + 3u + 2u);
}

TEST(DotExportTest, UnrolledRejectsBadStepCounts) {
  auto m = Textbook();
  EXPECT_EQ(UnrolledDot(m->graph, 0).status().message(),
            "unrolled graph: T must be in [1, 1000]; got 0");
  EXPECT_EQ(UnrolledDot(m->graph, -5).status().message(),
            "unrolled graph: T must be in [1, 1000]; got -5");
  EXPECT_EQ(UnrolledDot(m->graph, 1001).status().message(),
            "unrolled graph: T must be in [1, 1000]; got 1001 (too many steps to draw)");
  auto one = UnrolledDot(m->graph, 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(ParseDot(*one).clusters.size(), 1u);
  auto most = UnrolledDot(m->graph, kMaxUnrolledSteps);
  ASSERT_TRUE(most.ok());
  const DotGraph g = ParseDot(*most);
  EXPECT_EQ(g.clusters.size(), 1000u);
  EXPECT_EQ(g.nodes.size(), 2u + 5u + 1u + 4u * 1000u + 4u + 3u);
}

TEST(DotExportTest, NamesAreQuoted) {
  GraphBuilder b("a \"quoted\" \\ name");
  TensorRef x = b.Input("x", FLOAT32, {"T", "N", 2});
  b.Output(b.Node("r", "Relu", {x}));
  auto graph = b.BuildGraph({/*require_loss=*/false});
  ASSERT_TRUE(graph.ok()) << graph.status();
  const DotGraph g = ParseDot(RolledDot(*graph));
  EXPECT_EQ(g.name, "a \"quoted\" \\ name");
}

}  // namespace
}  // namespace rnnflow
