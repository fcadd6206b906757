#ifndef ROOMQ_BROKER_STORAGE_RECORD_FORMAT_H_
#define ROOMQ_BROKER_STORAGE_RECORD_FORMAT_H_

// The record framing of a segment file (see record_log.h for the whole
// on-disk format): u32 LE payload length | u32 LE CRC-32C over (type +
// payload) | u8 type | payload. Pure functions over bytes, no I/O, so the
// decoder can be tested (and fuzzed) on its own.
//
// Thread safety: all functions are reentrant.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace roomq::broker::storage {

inline constexpr size_t kRecordHeaderBytes = 9;

// CRC-32C (Castagnoli) of `type` followed by `payload`.
uint32_t RecordCrc(uint8_t type, std::string_view payload);
// CRC-32C of `bytes` (for tests: "123456789" -> 0xE3069283).
uint32_t Crc32c(std::string_view bytes);

// Appends one encoded record to `out`.
void EncodeRecord(uint8_t type, std::string_view payload, std::string& out);

enum class DecodeResult {
  kOk,            // *type, *payload and *size filled
  kShortHeader,   // fewer than 9 bytes left
  kShortPayload,  // the length runs past the end of `bytes`
  kBadCrc,        // complete, but the CRC does not match
};

// Decodes the record at the start of `bytes`. On kOk, `payload` views
// `bytes` and `size` is the whole record's length (header + payload). On
// kBadCrc, `size` is the length the header claims (for looking past it).
DecodeResult DecodeRecord(std::string_view bytes, uint8_t* type, std::string_view* payload,
                          size_t* size);

// "short header" / "short payload" / "CRC mismatch".
const char* DecodeResultName(DecodeResult result);

}  // namespace roomq::broker::storage

#endif  // ROOMQ_BROKER_STORAGE_RECORD_FORMAT_H_
