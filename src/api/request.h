// Internal to api/: reading requests and building replies, shared by the handler files.
#pragma once

#include <optional>
#include <string>

#include "api/routes.h"
#include "ingest/ingest.h"
#include "segment/expr.h"

namespace siyu::api {

constexpr size_t kMaxJsonBody = 1024 * 1024;

/// A JSON reply with `status`.
Reply json_reply(Json body, int status = 200);
/// 204 with no body.
Reply no_content();
/// The request body as JSON: 413 over `limit`, 400 when empty or malformed.
Result<Json> json_body(const httplib::Request& req, size_t limit = kMaxJsonBody);
/// A whole decimal integer, or a 400 naming `name`.
Result<int64_t> parse_int(std::string_view s, const std::string& name);
/// Path capture `group` as a positive id.
Result<int64_t> path_id(const httplib::Request& req, size_t group, const std::string& name);
/// An optional integer query parameter within [min, max].
Result<std::optional<int64_t>> query_int(const httplib::Request& req, const std::string& name,
                                         int64_t min, int64_t max);
/// An optional text query parameter of at most `max_chars` clean characters.
Result<std::optional<std::string>> query_text(const httplib::Request& req, const std::string& name,
                                              size_t max_chars);
/// ?limit= within [1, max], `def` when absent.
Result<int> page_limit(const httplib::Request& req, int def = 50, int max = 500);
/// An optional date ("2026-01-31", midnight in Beijing) or ISO 8601 timestamp.
Result<std::optional<EpochMs>> query_time(const httplib::Request& req, const std::string& name);
/// The same reading for a body field's text.
Result<std::optional<EpochMs>> optional_time(const std::optional<std::string>& text,
                                             const std::string& name);

/// Parses a segment expression given at body field `field` in the caller's workspace (saved
/// segments resolve there); error paths are prefixed with `field`. `self`: segment being saved.
Result<segment::Expr> expression_at(Services& s, const Principal& who, const Json& j,
                                    const std::string& field,
                                    std::optional<int64_t> self = std::nullopt);

/// Brings the segment index up to date with customers a committed write touched, and lets the
/// tag engine and journeys react. The write stands even if this fails; the failure is logged
/// and the next touch repairs it.
void reindex(Services& s, WorkspaceId ws, std::vector<CustomerId> ids);
/// The same after an event ingest. The events reach the index from the store's notices, so
/// only `reread` (customers whose relationships changed) are read back; rules and segments
/// re-check `reread` and `created` for anything, and the customers of `events` for rules and
/// segments reading events of the types they had.
void reindex_ingested(Services& s, WorkspaceId ws, std::vector<CustomerId> reread,
                      const std::vector<CustomerId>& created,
                      const std::vector<std::pair<CustomerId, std::string_view>>& events);
/// The same after a bulk change of one tag: only that tag is read back.
void reindex_tag(Services& s, WorkspaceId ws, const std::string& tag, std::vector<CustomerId> ids);

/// A file download: CSV or NDJSON named `<name>.csv|ndjson`.
Reply download(std::string content, bool ndjson, const std::string& name);

/// Per-item errors of a batch as JSON ({index, code, message, field}).
Json errors_json(const std::vector<ingest::ItemError>& errors);
/// Whether the request body is NDJSON (by content type or ?format=ndjson).
bool wants_ndjson(const httplib::Request& req);

/// Rows of an import body: CSV with a header row (GB18030 or UTF-8) as objects of text, or
/// NDJSON objects. kPayloadTooLarge over `max_rows` rows of `what`.
Result<std::vector<Json>> import_rows(const httplib::Request& req, size_t max_rows,
                                      const char* what);

/// The UTC offset in minutes of the workspace's time zone.
Result<int> workspace_offset(Services& s, WorkspaceId ws);

/// Writes an audit entry for the caller, now.
Status audit(Services& s, const Principal& who, const std::string& action,
             const std::string& target, const Json& detail = Json::object());

}  // namespace siyu::api
