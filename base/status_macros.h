// Small helpers for absl::Status plumbing. Abseil 20220623 ships no
// RETURN_IF_ERROR / ASSIGN_OR_RETURN macros, so we keep our own here.
#ifndef RNNFLOW_BASE_STATUS_MACROS_H_
#define RNNFLOW_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RF_CONCAT_INNER_(a, b) a##b
#define RF_CONCAT_(a, b) RF_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` yields a non-OK status.
#define RF_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status rf_status_ = (expr);      \
    if (!rf_status_.ok()) return rf_status_; \
  } while (0)

// `RF_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a StatusOr, or returns
// its error.
#define RF_ASSIGN_OR_RETURN(lhs, expr) \
  RF_ASSIGN_OR_RETURN_IMPL_(RF_CONCAT_(rf_statusor_, __LINE__), lhs, expr)
#define RF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

#endif  // RNNFLOW_BASE_STATUS_MACROS_H_
