#ifndef ROOMQ_TESTS_SUPPORT_BINARIES_H_
#define ROOMQ_TESTS_SUPPORT_BINARIES_H_

// Where tests find the executables of this build (<build>/bin). The path
// comes from the ROOMQ_BIN_DIR compile definition that the
// roomq_test_support CMake target exports. A test that runs a binary must
// also add_dependencies() on that binary's target so it is built first.

#include <string>
#include <string_view>

#ifndef ROOMQ_BIN_DIR
#error "ROOMQ_BIN_DIR is not defined: link the roomq_test_support target"
#endif

namespace roomq::test_support {

inline constexpr std::string_view kBinDir = ROOMQ_BIN_DIR;

// BinaryPath("roomq-broker") == "<build>/bin/roomq-broker".
inline std::string BinaryPath(std::string_view name) {
  std::string path(kBinDir);
  path += '/';
  path += name;
  return path;
}

}  // namespace roomq::test_support

#endif  // ROOMQ_TESTS_SUPPORT_BINARIES_H_
