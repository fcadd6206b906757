#ifndef ROOMQ_PROTO_NODE_CURVE_H_
#define ROOMQ_PROTO_NODE_CURVE_H_

// CURVE key files, shared by the broker (server side) and every node
// (gateway, services, CLI: client side), and the client-side socket setup.
// ZeroMQ's CURVE (CurveZMQ) encrypts the connection and, with the broker's
// ZAP handler (broker/security), admits only listed client public keys.
//
// Key file format: text; blank lines and lines starting with '#' are
// ignored; exactly one other line holds the key as the 40 Z85 characters
// zmq_curve_keypair() produces (surrounding whitespace ignored).
//   NAME.pub   the public key; hand it out (the broker's to every node, a
//              node's into the broker's --curve-clients DIR).
//   NAME.key   the secret key, mode 0600; the public key is derived from it.
// `roomq keygen NAME` writes a fresh pair (see WriteCurveKeyPair).
//
// Thread safety: every function is reentrant. The socket setup is in
// curve_socket.h, so that this header (part of roomq/client.h's options)
// does not bring in ZeroMQ.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace roomq::node {

inline constexpr size_t kCurveKeyZ85Chars = 40;

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};

// What a node needs to talk CURVE to the broker. Empty server_public_key =
// CURVE off (plain TCP, as without the flags).
struct CurveClientOptions {
  std::string server_public_key;  // Z85: the broker's public key
  CurveKeyPair client;            // this node's key pair
  bool enabled() const { return !server_public_key.empty(); }
};

// FailedPrecondition when this libzmq was built without CURVE.
absl::Status CheckCurveAvailable();

// InvalidArgument unless `key` is 40 Z85 characters that decode to 32 bytes.
absl::Status ValidateCurveKey(const std::string& key);

// A public key file (NAME.pub). Errors name the path: the errno-derived
// code when it cannot be read, InvalidArgument when it holds no valid key.
absl::StatusOr<std::string> LoadCurvePublicKey(const std::string& path);
// A secret key file (NAME.key); the public half is derived from it.
absl::StatusOr<CurveKeyPair> LoadCurveSecretKey(const std::string& path);
// Every "*.pub" file in `dir` (other files are ignored), sorted by file
// name, duplicates removed. InvalidArgument when one is not a valid key
// file or there is none: a broker admitting nobody is a mistake.
absl::StatusOr<std::vector<std::string>> LoadCurvePublicKeyDir(const std::string& dir);

// Both files given: the options; neither: CURVE off; one: InvalidArgument.
absl::StatusOr<CurveClientOptions> LoadCurveClientOptions(const std::string& server_public_key_file,
                                                          const std::string& secret_key_file);

// A fresh key pair (zmq_curve_keypair).
absl::StatusOr<CurveKeyPair> GenerateCurveKeyPair();
// Writes `base`.key (mode 0600) and `base`.pub. AlreadyExists rather than
// overwrite either.
absl::Status WriteCurveKeyPair(const CurveKeyPair& pair, const std::string& base);

}  // namespace roomq::node

#endif  // ROOMQ_PROTO_NODE_CURVE_H_
