// The JSON form of a recorded event: a CloudEvents 1.0 structured-mode envelope with our
// extensions. One place, so the HTTP API, SSE, exports and Kafka all show the same shape.
#pragma once

#include <string>
#include <string_view>

#include "common/rfc3339.hpp"
#include "eventstore/event.hpp"

namespace eventcrm::store {

// Appends the envelope to `out`:
// {"specversion":"1.0","id","source":"/eventcrm/<category>","type","subject":"<stream>",
//  "time":"<RFC 3339 UTC with ms>","datacontenttype":"application/json","data":{...},
//  "position":N,"streamversion":N,"actor","reason","correlationid","causationid",
//  "hash":"<hex>","metadata":{<extra keys>}}
// Empty optional attributes are omitted.
void append_cloudevent_json(std::string& out, const RecordedEvent& e);

// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T09:15:30.123Z.
std::string format_rfc3339_ms(std::int64_t unix_ms);
// (Without allocating: eventcrm::write_rfc3339_ms, common/rfc3339.hpp.)
// Parses RFC 3339 (with 'Z' or an offset, optional fraction); false when malformed.
bool parse_rfc3339_ms(std::string_view text, std::int64_t& unix_ms);

// Lowercase hex of bytes.
std::string to_hex(const Hash& h);
// The same into `out` (64 characters, not terminated).
void write_hex(const Hash& h, char (&out)[64]);

// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void append_json_string(std::string& out, std::string_view s);

}  // namespace eventcrm::store
