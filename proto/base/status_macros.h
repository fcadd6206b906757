#ifndef ROOMQ_PROTO_BASE_STATUS_MACROS_H_
#define ROOMQ_PROTO_BASE_STATUS_MACROS_H_

// Debian's Abseil (20220623) ships absl::Status but not the propagation
// macros; these are the two roomq needs.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define ROOMQ_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status roomq_status_ = (expr);         \
    if (!roomq_status_.ok()) return roomq_status_; \
  } while (0)

#define ROOMQ_STATUS_CONCAT_INNER_(a, b) a##b
#define ROOMQ_STATUS_CONCAT_(a, b) ROOMQ_STATUS_CONCAT_INNER_(a, b)

// `lhs = value of expr` (an absl::StatusOr<T>), or returns its status.
#define ROOMQ_ASSIGN_OR_RETURN(lhs, expr) \
  ROOMQ_ASSIGN_OR_RETURN_IMPL_(ROOMQ_STATUS_CONCAT_(roomq_statusor_, __LINE__), lhs, expr)
#define ROOMQ_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#endif  // ROOMQ_PROTO_BASE_STATUS_MACROS_H_
