// libFuzzer target for the broker's segment record framing
// (broker/storage/record_format.h): the bytes of a segment file read back
// after a crash or tampering are untrusted.
//
// The input is read as a segment is: record after record, looking past a
// record whose CRC does not match. Besides "never crash", it checks:
//   - a record that decodes (kOk) re-encodes to exactly the bytes it came
//     from, and its size is the header plus the payload;
//   - kBadCrc reports a size that lies within the input (so looking past
//     it never overruns);
//   - the input itself, encoded as one record's payload (type = first
//     byte), decodes back to the same type and payload, and a one-byte flip
//     anywhere in that record never decodes kOk to anything else;
//   - RecordCrc(type, p) is Crc32c of the type byte followed by p.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "broker/storage/record_format.h"

namespace storage = roomq::broker::storage;

namespace {

void ReadSegment(std::string_view bytes) {
  while (!bytes.empty()) {
    uint8_t type = 0;
    std::string_view payload;
    size_t size = 0;
    const storage::DecodeResult result = storage::DecodeRecord(bytes, &type, &payload, &size);
    if (storage::DecodeResultName(result) == nullptr) std::abort();
    if (result == storage::DecodeResult::kShortHeader) {
      if (bytes.size() >= storage::kRecordHeaderBytes) std::abort();
      return;
    }
    if (result == storage::DecodeResult::kShortPayload) return;
    if (size < storage::kRecordHeaderBytes || size > bytes.size()) std::abort();
    if (result == storage::DecodeResult::kOk) {
      if (size != storage::kRecordHeaderBytes + payload.size()) std::abort();
      if (payload.data() != bytes.data() + storage::kRecordHeaderBytes) std::abort();
      std::string again;
      storage::EncodeRecord(type, payload, again);
      if (again != bytes.substr(0, size)) std::abort();
    }
    bytes.remove_prefix(size);
  }
}

void RoundTrip(uint8_t type, std::string_view payload) {
  std::string typed(1, static_cast<char>(type));
  typed.append(payload);
  if (storage::RecordCrc(type, payload) != storage::Crc32c(typed)) std::abort();

  std::string record;
  storage::EncodeRecord(type, payload, record);
  uint8_t got_type = 0;
  std::string_view got_payload;
  size_t size = 0;
  if (storage::DecodeRecord(record, &got_type, &got_payload, &size) != storage::DecodeResult::kOk ||
      got_type != type || got_payload != payload || size != record.size()) {
    std::abort();
  }
  // A damaged byte past the length field (which only changes what is read)
  // is caught by the CRC: CRC-32C detects every burst up to 32 bits.
  const size_t at = payload.empty() ? 4 : 4 + (payload[0] & 0xFF) % (record.size() - 4);
  record[at] = static_cast<char>(record[at] ^ (1 + (type & 0x7F)));
  if (storage::DecodeRecord(record, &got_type, &got_payload, &size) == storage::DecodeResult::kOk) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ReadSegment(bytes);
  if (size > 0) RoundTrip(data[0], bytes.substr(1));
  return 0;
}
