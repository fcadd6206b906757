#include "broker/storage/record_format.h"

#include <boost/crc.hpp>

namespace roomq::broker::storage {
namespace {

using Crc32cComputer = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

void PutU32(uint32_t value, std::string& out) {
  const char bytes[4] = {static_cast<char>(value), static_cast<char>(value >> 8),
                         static_cast<char>(value >> 16), static_cast<char>(value >> 24)};
  out.append(bytes, 4);
}

uint32_t GetU32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
}

}  // namespace

uint32_t Crc32c(std::string_view bytes) {
  Crc32cComputer crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

uint32_t RecordCrc(uint8_t type, std::string_view payload) {
  Crc32cComputer crc;
  crc.process_byte(type);
  crc.process_bytes(payload.data(), payload.size());
  return crc.checksum();
}

void EncodeRecord(uint8_t type, std::string_view payload, std::string& out) {
  PutU32(static_cast<uint32_t>(payload.size()), out);
  PutU32(RecordCrc(type, payload), out);
  out.push_back(static_cast<char>(type));
  out.append(payload);
}

DecodeResult DecodeRecord(std::string_view bytes, uint8_t* type, std::string_view* payload,
                          size_t* size) {
  if (bytes.size() < kRecordHeaderBytes) return DecodeResult::kShortHeader;
  const uint64_t length = GetU32(bytes.data());
  if (length > bytes.size() - kRecordHeaderBytes) return DecodeResult::kShortPayload;
  *size = kRecordHeaderBytes + length;
  *type = static_cast<uint8_t>(bytes[8]);
  *payload = bytes.substr(kRecordHeaderBytes, length);
  if (RecordCrc(*type, *payload) != GetU32(bytes.data() + 4)) return DecodeResult::kBadCrc;
  return DecodeResult::kOk;
}

const char* DecodeResultName(DecodeResult result) {
  switch (result) {
    case DecodeResult::kOk:
      return "ok";
    case DecodeResult::kShortHeader:
      return "short header";
    case DecodeResult::kShortPayload:
      return "short payload";
    case DecodeResult::kBadCrc:
      return "CRC mismatch";
  }
  return "unknown";
}

}  // namespace roomq::broker::storage
