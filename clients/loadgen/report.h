#ifndef ROOMQ_CLIENTS_LOADGEN_REPORT_H_
#define ROOMQ_CLIENTS_LOADGEN_REPORT_H_

// Renders a Report: a human table, and one JSON object on one line (flat,
// numbers and one string) for scripts such as tests/bench/run.sh.
//
// Thread safety: stateless functions.

#include <string>

#include "clients/loadgen/load_options.h"

namespace roomq::loadgen {

std::string FormatTable(const Report& report);
std::string FormatJson(const Report& report);

}  // namespace roomq::loadgen

#endif  // ROOMQ_CLIENTS_LOADGEN_REPORT_H_
