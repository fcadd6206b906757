#ifndef ROOMQ_CLIENTS_INCLUDE_ROOMQ_ARGS_H_
#define ROOMQ_CLIENTS_INCLUDE_ROOMQ_ARGS_H_

// roomq::Args: the arguments of one event, built like Socket.IO's
// `emit("ev", arg1, arg2, ...)`: the JSON text of an array plus binary
// attachments. Binary arguments become Socket.IO placeholders
// {"_placeholder":true,"num":N} pointing at attachment N, exactly as
// socket.io-parser encodes them, so a browser receives an ArrayBuffer.
//
//   roomq::Args().Json(R"({"text":"hi"})").Number(2).Binary(bytes)
//     -> args_json  [{"text":"hi"},2,{"_placeholder":true,"num":0}]
//        attachments {bytes}
//
// Errors do not throw: the first invalid argument (malformed JSON, invalid
// UTF-8, a non-finite number) is kept in status(), later calls are ignored,
// and every Emit of these Args returns that status.
//
// Thread safety: a value type; distinct objects may be used on distinct
// threads. Limits: none besides memory; the broker and gateways bound
// message sizes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace roomq {

struct Message;

class Args {
 public:
  Args() = default;

  // The args of `json_array` (must be a JSON array) with these attachments.
  // InvalidArgument when the text is not a JSON array.
  static absl::StatusOr<Args> FromJsonArray(std::string_view json_array,
                                            std::vector<std::string> attachments = {});
  // The same args and attachments as a received message (to echo it back).
  static Args From(const Message& message);

  // One argument given as JSON text (validated: one complete JSON value).
  Args& Json(std::string_view json);
  Args& String(std::string_view utf8);
  Args& Number(double value);
  Args& Int(int64_t value);
  Args& Bool(bool value);
  Args& Null();
  // A binary argument; becomes a placeholder + attachment.
  Args& Binary(std::string_view bytes);

  // OK, or why an argument was rejected.
  const absl::Status& status() const { return status_; }
  // The JSON array text: "[]" for no args.
  std::string json() const;
  const std::vector<std::string>& attachments() const { return attachments_; }
  // Number of arguments.
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  // Appends the separator and `json_value` as one more argument.
  void Append(std::string_view json_value);

  std::string body_;  // the array's elements, comma-separated, without brackets
  std::vector<std::string> attachments_;
  size_t count_ = 0;
  absl::Status status_;
};

}  // namespace roomq

#endif  // ROOMQ_CLIENTS_INCLUDE_ROOMQ_ARGS_H_
