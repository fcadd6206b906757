#include "proto/base/random_id.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <limits>

#include "absl/strings/escaping.h"

namespace roomq::base {

std::string RandomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (count > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    std::fprintf(stderr, "fatal: RAND_bytes failed; refusing to hand out guessable ids\n");
    std::abort();
  }
  return bytes;
}

std::string RandomUrlId(size_t bytes) {
  std::string id;
  absl::WebSafeBase64Escape(RandomBytes(bytes), &id);
  return id;
}

}  // namespace roomq::base
