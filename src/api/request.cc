#include "api/request.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "core/text.h"
#include "core/time_format.h"
#include "io/csv.h"
#include "segment/saved.h"

namespace siyu::api {

Reply json_reply(Json body, int status) {
  Reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Reply no_content() {
  Reply r;
  r.status = 204;
  return r;
}

Result<Json> json_body(const httplib::Request& req, size_t limit) {
  if (req.body.size() > limit) {
    return Status(ErrorCode::kPayloadTooLarge,
                  "request body is larger than " + std::to_string(limit) + " bytes");
  }
  if (trim(req.body).empty()) return invalid("request body is empty; send a JSON object");
  return parse_json(req.body);
}

Result<int64_t> parse_int(std::string_view s, const std::string& name) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return invalid(name + " must be an integer", name);
  }
  return v;
}

Result<int64_t> path_id(const httplib::Request& req, size_t group, const std::string& name) {
  auto v = parse_int(req.matches[static_cast<int>(group)].str(), name);
  if (!v || *v <= 0 || *v > INT32_MAX) return invalid(name + " must be a positive integer", name);
  return v;
}

Result<std::optional<int64_t>> query_int(const httplib::Request& req, const std::string& name,
                                         int64_t min, int64_t max) {
  if (!req.has_param(name.c_str())) return std::optional<int64_t>();
  SIYU_ASSIGN_OR_RETURN(int64_t v, parse_int(req.get_param_value(name.c_str()), name));
  if (v < min || v > max) {
    return invalid(name + " must be between " + std::to_string(min) + " and " +
                       std::to_string(max),
                   name);
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<std::string>> query_text(const httplib::Request& req, const std::string& name,
                                              size_t max_chars) {
  if (!req.has_param(name.c_str())) return std::optional<std::string>();
  std::string v = req.get_param_value(name.c_str());
  if (auto p = text_problem(v, max_chars)) return invalid(name + " " + *p, name);
  return std::optional<std::string>(std::move(v));
}

Result<int> page_limit(const httplib::Request& req, int def, int max) {
  SIYU_ASSIGN_OR_RETURN(auto v, query_int(req, "limit", 1, max));
  return v ? static_cast<int>(*v) : def;
}

Result<std::optional<EpochMs>> query_time(const httplib::Request& req, const std::string& name) {
  SIYU_ASSIGN_OR_RETURN(auto text, query_text(req, name, 40));
  return optional_time(text, name);
}

Result<std::optional<EpochMs>> optional_time(const std::optional<std::string>& text,
                                             const std::string& name) {
  if (!text) return std::optional<EpochMs>();
  if (text->size() == 10) {
    auto d = parse_date(*text);
    if (!d) return invalid(name + " must be a date or ISO 8601 timestamp", name);
    return std::optional<EpochMs>(days_from_civil(*d) * kMsPerDay - 480 * 60'000);
  }
  auto t = parse_timestamp(*text, 480);
  if (!t) return invalid(name + " must be a date or ISO 8601 timestamp", name);
  return std::optional<EpochMs>(*t);
}

Result<segment::Expr> expression_at(Services& s, const Principal& who, const Json& j,
                                    const std::string& field, std::optional<int64_t> self) {
  auto parsed = segment::parse_in_workspace(s.store, who.workspace, j, self);
  if (!parsed) {
    const Status& e = parsed.error();
    return Status(e.code(), e.message(), e.field().empty() ? field : field + "." + e.field());
  }
  return parsed;
}

namespace {
/// Sorted, unique, valid ids.
std::vector<CustomerId> distinct_customers(std::vector<CustomerId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  ids.erase(std::remove_if(ids.begin(), ids.end(), [](CustomerId id) { return !id.valid(); }),
            ids.end());
  return ids;
}
}  // namespace


namespace {

/// A failed refresh leaves the index as it was (the next refresh catches up): logged, not
/// failed, since the write it follows is committed.
void log_refresh_failure(const Status& st) {
  if (st.is_ok()) return;
  std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"index refresh failed\",\"error\":%s}\n",
               Json(st.to_string()).dump().c_str());
}

/// Rules and journeys look at the changed customers.
void changed(Services& s, WorkspaceId ws, const std::vector<CustomerId>& ids) {
  s.tag_engine->touch(ws, ids);
  if (s.journeys != nullptr) s.journeys->wake();
}

}  // namespace

void reindex(Services& s, WorkspaceId ws, std::vector<CustomerId> ids) {
  ids = distinct_customers(std::move(ids));
  s.indexes.apply_committed();
  log_refresh_failure(s.indexes.refresh(ws, ids));
  changed(s, ws, ids);
}

void reindex_ingested(Services& s, WorkspaceId ws, std::vector<CustomerId> reread,
                      const std::vector<CustomerId>& created,
                      const std::vector<std::pair<CustomerId, std::string_view>>& events) {
  s.indexes.apply_committed();
  log_refresh_failure(s.indexes.refresh(ws, distinct_customers(reread)));
  reread.insert(reread.end(), created.begin(), created.end());
  s.tag_engine->touch_events(ws, events);
  changed(s, ws, distinct_customers(std::move(reread)));
}

void reindex_tag(Services& s, WorkspaceId ws, const std::string& tag, std::vector<CustomerId> ids) {
  ids = distinct_customers(std::move(ids));
  s.indexes.apply_committed();
  log_refresh_failure(s.indexes.refresh_tag(ws, tag, ids));
  changed(s, ws, ids);
}

Status audit(Services& s, const Principal& who, const std::string& action,
             const std::string& target, const Json& detail) {
  return s.store.audit(who.workspace, store::AuditEntry{0, s.clock.now_ms(), who.actor, action,
                                                        target, detail.dump()});
}

Reply download(std::string content, bool ndjson, const std::string& name) {
  Reply r;
  r.raw = std::move(content);
  r.content_type = ndjson ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8";
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=" + name + (ndjson ? ".ndjson" : ".csv"));
  return r;
}

Json errors_json(const std::vector<ingest::ItemError>& errors) {
  Json out = Json::array();
  for (const auto& e : errors) {
    out.push_back({{"index", e.index},
                   {"code", std::string(error_code_name(e.status.code()))},
                   {"message", e.status.message()},
                   {"field", e.status.field().empty() ? Json(nullptr) : Json(e.status.field())}});
  }
  return out;
}

bool wants_ndjson(const httplib::Request& req) {
  const std::string ct = req.get_header_value("Content-Type");
  return ct.find("ndjson") != std::string::npos || ct.find("jsonl") != std::string::npos ||
         req.get_param_value("format") == "ndjson";
}

Result<std::vector<Json>> import_rows(const httplib::Request& req, size_t max_rows,
                                      const char* what) {
  if (wants_ndjson(req)) return ingest::split_batch(req.body, true, max_rows, what);
  SIYU_ASSIGN_OR_RETURN(std::string text, io::to_utf8(req.body));
  SIYU_ASSIGN_OR_RETURN(auto table, io::parse_csv(text));
  if (table.empty()) return invalid("csv has no header row");
  if (table.size() - 1 > max_rows) {
    return Status(ErrorCode::kPayloadTooLarge,
                  std::string("csv has more than ") + std::to_string(max_rows) + " " + what);
  }
  const io::CsvRow& header = table.front();
  std::vector<Json> rows;
  for (size_t r = 1; r < table.size(); ++r) {
    Json row = Json::object();
    for (size_t c = 0; c < header.size() && c < table[r].size(); ++c) {
      const std::string key(trim(header[c]));
      if (!key.empty()) row[key] = std::string(trim(table[r][c]));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<int> workspace_offset(Services& s, WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(store::Workspace w, s.store.workspace(ws));
  return zone_offset_minutes(w.timezone);
}

}  // namespace siyu::api
