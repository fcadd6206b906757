#ifndef ROOMQ_CLIENTS_CLI_FORMAT_H_
#define ROOMQ_CLIENTS_CLI_FORMAT_H_

// The one-line JSON form `roomq sub` prints for each received event:
//   {"namespace":"/chat","rooms":["general"],"event":"chat message","args":[{"text":"hi"}]}
// `args` is the publisher's JSON inserted as is; "attachments" (base64, in
// placeholder order) is added only when the event carries binary data. Args
// that are not a valid JSON array (a misbehaving publisher) are printed as
// a JSON string under "args_text" instead, so every line stays valid JSON.

#include <string>

#include "roomq/client.h"
#include "roomq/message.h"

namespace roomq::cli {

// Without the trailing newline.
std::string FormatMessageLine(const Message& message);

// The one-line JSON form `roomq sockets` prints for each socket:
//   {"id":"...","namespace":"/chat","rooms":["...","general"],"data":{...},
//    "address":"127.0.0.1:5000","userAgent":"...","subject":"","gateway":"gw-..."}
// `data` is socket.data inserted as is (null when none, a JSON string of
// the text when it is not JSON). Without the trailing newline.
std::string FormatSocketLine(const SocketInfo& socket);

}  // namespace roomq::cli

#endif  // ROOMQ_CLIENTS_CLI_FORMAT_H_
