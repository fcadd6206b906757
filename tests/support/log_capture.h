#ifndef ROOMQ_TESTS_SUPPORT_LOG_CAPTURE_H_
#define ROOMQ_TESTS_SUPPORT_LOG_CAPTURE_H_

// Captures what spdlog's default logger writes while a LogCapture lives, at
// level info (the gateway's default: debug lines are dropped, as they are in
// production), one "<level> <message>" string per line. Single-threaded
// tests only (the sink is not synchronized).

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace roomq::testing {

class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(stream_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", std::move(sink));
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(std::move(logger));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(stream_.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  // Lines containing `text`.
  std::vector<std::string> Grep(const std::string& text) const {
    std::vector<std::string> out;
    for (std::string& line : Lines()) {
      if (line.find(text) != std::string::npos) out.push_back(std::move(line));
    }
    return out;
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace roomq::testing

#endif  // ROOMQ_TESTS_SUPPORT_LOG_CAPTURE_H_
