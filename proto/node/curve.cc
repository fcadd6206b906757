#include "proto/node/curve.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/node/curve_socket.h"

namespace roomq::node {
namespace {

absl::StatusOr<std::string> ReadKeyLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    const int error = errno != 0 ? errno : ENOENT;
    return absl::ErrnoToStatus(error, absl::StrCat("CURVE key file ", path));
  }
  std::string key;
  std::string line;
  int keys = 0;
  while (std::getline(in, line)) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    key = std::string(trimmed);
    ++keys;
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("CURVE key file ", path, ": read error"));
  if (keys != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("CURVE key file ", path,
                     ": expected exactly one key line (40 Z85 characters), found ", keys));
  }
  if (absl::Status valid = ValidateCurveKey(key); !valid.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("CURVE key file ", path, ": ", valid.message()));
  }
  return key;
}

}  // namespace

absl::Status CheckCurveAvailable() {
  if (zmq_has("curve") == 0) {
    return absl::FailedPreconditionError(
        "this libzmq was built without CURVE (zmq_has(\"curve\") is 0)");
  }
  return absl::OkStatus();
}

absl::Status ValidateCurveKey(const std::string& key) {
  if (key.size() != kCurveKeyZ85Chars) {
    return absl::InvalidArgumentError(
        absl::StrCat("a key is 40 Z85 characters, this one has ", key.size()));
  }
  uint8_t decoded[32];
  if (zmq_z85_decode(decoded, key.c_str()) == nullptr) {
    return absl::InvalidArgumentError("the key is not valid Z85");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LoadCurvePublicKey(const std::string& path) {
  return ReadKeyLine(path);
}

absl::StatusOr<CurveKeyPair> LoadCurveSecretKey(const std::string& path) {
  absl::StatusOr<std::string> secret = ReadKeyLine(path);
  if (!secret.ok()) return secret.status();
  char public_key[kCurveKeyZ85Chars + 1];
  if (zmq_curve_public(public_key, secret->c_str()) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("CURVE key file ", path,
                                                   ": cannot derive the public key (",
                                                   zmq_strerror(zmq_errno()), ")"));
  }
  return CurveKeyPair{std::string(public_key, kCurveKeyZ85Chars), *std::move(secret)};
}

absl::StatusOr<std::vector<std::string>> LoadCurvePublicKeyDir(const std::string& dir) {
  std::error_code error;
  std::vector<std::string> paths;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code type_error;  // the non-throwing overload: a bad entry is skipped
    if (it->path().extension() == ".pub" && it->is_regular_file(type_error)) {
      paths.push_back(it->path());
    }
  }
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("CURVE client key dir ", dir, ": ", error.message()));
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::string> keys;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> key = ReadKeyLine(path);
    if (!key.ok()) return absl::InvalidArgumentError(key.status().message());
    if (std::find(keys.begin(), keys.end(), *key) == keys.end()) keys.push_back(*std::move(key));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CURVE client key dir ", dir, ": no *.pub key file"));
  }
  return keys;
}

absl::StatusOr<CurveClientOptions> LoadCurveClientOptions(const std::string& server_public_key_file,
                                                          const std::string& secret_key_file) {
  CurveClientOptions options;
  if (server_public_key_file.empty() && secret_key_file.empty()) return options;
  if (server_public_key_file.empty() || secret_key_file.empty()) {
    return absl::InvalidArgumentError(
        "CURVE needs both --curve-server-key (the broker's public key) and --curve-secret-key "
        "(this node's secret key)");
  }
  if (absl::Status available = CheckCurveAvailable(); !available.ok()) return available;
  absl::StatusOr<std::string> server = LoadCurvePublicKey(server_public_key_file);
  if (!server.ok()) return absl::InvalidArgumentError(server.status().message());
  absl::StatusOr<CurveKeyPair> client = LoadCurveSecretKey(secret_key_file);
  if (!client.ok()) return absl::InvalidArgumentError(client.status().message());
  options.server_public_key = *std::move(server);
  options.client = *std::move(client);
  return options;
}

absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair() {
  if (absl::Status available = CheckCurveAvailable(); !available.ok()) return available;
  char public_key[kCurveKeyZ85Chars + 1];
  char secret_key[kCurveKeyZ85Chars + 1];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return absl::InternalError(absl::StrCat("zmq_curve_keypair: ", zmq_strerror(zmq_errno())));
  }
  return CurveKeyPair{std::string(public_key, kCurveKeyZ85Chars),
                      std::string(secret_key, kCurveKeyZ85Chars)};
}

absl::Status WriteCurveKeyPair(const CurveKeyPair& pair, const std::string& base) {
  const std::string name = std::filesystem::path(base).filename().string();
  const struct {
    std::string path;
    mode_t mode;
    std::string text;
  } files[] = {
      {base + ".key", 0600,
       absl::StrCat("# roomq CURVE secret key: keep it private. Its public key is ", name, ".pub\n",
                    pair.secret_key, "\n")},
      {base + ".pub", 0644,
       absl::StrCat("# roomq CURVE public key (the secret key is ", name, ".key)\n",
                    pair.public_key, "\n")},
  };
  for (const auto& file : files) {
    if (::access(file.path.c_str(), F_OK) == 0) {
      return absl::AlreadyExistsError(absl::StrCat(file.path, " exists; not overwriting it"));
    }
  }
  for (const auto& file : files) {
    const int fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, file.mode);
    if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("create ", file.path));
    const ssize_t written = ::write(fd, file.text.data(), file.text.size());
    const int error = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(file.text.size())) {
      return absl::ErrnoToStatus(written < 0 ? error : EIO, absl::StrCat("write ", file.path));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyCurveClient(zmq::socket_t& socket, const CurveClientOptions& options) {
  if (!options.enabled()) return absl::OkStatus();
  try {
    socket.set(zmq::sockopt::curve_serverkey, options.server_public_key);
    socket.set(zmq::sockopt::curve_publickey, options.client.public_key);
    socket.set(zmq::sockopt::curve_secretkey, options.client.secret_key);
  } catch (const zmq::error_t& e) {
    return absl::InternalError(absl::StrCat("CURVE client options: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace roomq::node
