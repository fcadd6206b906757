#include "proto/base/start_thread.h"

#include <spdlog/spdlog.h>

namespace roomq::base {

void MakeDefaultLogger() { (void)spdlog::default_logger_raw(); }

}  // namespace roomq::base
