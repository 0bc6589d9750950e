// What the data-parallel equivalence tests (tests/mpi/*_equivalence_test.cc,
// run under `mpiexec -np 2`) share: each trains a model once as this rank of
// the MPI world (N columns, gradients all-reduced) and once as one process
// holding every rank's columns, then requires the same parameters.
// tests/testing/mpi/mpi_test_main.cc is their main(): it initialises MPI and
// lets only rank 0 print results (every rank runs every test).
#ifndef RNNFLOW_TESTS_TESTING_MPI_EQUIVALENCE_H_
#define RNNFLOW_TESTS_TESTING_MPI_EQUIVALENCE_H_

#include <string>
#include <vector>

#include "rnnflow/dist/mpi_reducer.h"
#include "rnnflow/graph/graph.h"
#include "rnnflow/runtime/session.h"

namespace rnnflow {

// The MPI world of this test process.
MpiWorld* TestWorld();

// The values of every parameter of a session, in the graph's order.
using ParamValues = std::vector<std::vector<float>>;
ParamValues CopyParams(const Session& session);

// Asserts that the data-parallel run's parameters equal the one-process
// run's within `tolerance`, naming the first parameter and index that do not.
void ExpectSameParams(const Graph& graph, const ParamValues& parallel, const ParamValues& single,
                      double tolerance);

// A new empty folder of this rank's own for the test's data:
// TempDir()/NAME_rankR (each rank prepares its own copy).
std::string FreshRankDir(const std::string& name);

}  // namespace rnnflow

#endif  // RNNFLOW_TESTS_TESTING_MPI_EQUIVALENCE_H_
