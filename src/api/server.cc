#include "api/server.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "api/routes.h"
#include "core/text.h"
#include "core/time_format.h"
#include "wecom/channel.h"

namespace siyu::api {
namespace {

constexpr const char* kSessionCookie = "siyu_session";

Json error_json(const Status& s) {
  Json e = {{"code", std::string(error_code_name(s.code()))}, {"message", s.message()}};
  e["field"] = s.field().empty() ? Json(nullptr) : Json(s.field());
  return Json{{"error", std::move(e)}};
}

void write_error(httplib::Response& res, const Status& s) {
  res.status = http_status(s.code());
  res.set_content(error_json(s).dump(), "application/json; charset=utf-8");
}

std::string cookie_value(const httplib::Request& req, std::string_view name) {
  const std::string header = req.get_header_value("Cookie");
  for (auto part : split(header, ';')) {
    part = trim(part);
    if (starts_with(part, name) && part.size() > name.size() && part[name.size()] == '=') {
      return std::string(part.substr(name.size() + 1));
    }
  }
  return {};
}

/// Turns "/v1/customers/{id}/tags/{tag}" into an anchored regex with capture groups.
std::string path_regex(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const size_t end = path.find('}', i);
      out += "([^/]+)";
      i = end;
    } else if (path[i] == '.') {
      out += "\\.";
    } else {
      out.push_back(path[i]);
    }
  }
  return out;
}

bool is_unsafe(const std::string& method) { return method != "GET" && method != "HEAD"; }

}  // namespace

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return 200;
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kUnprocessable: return 422;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kUnavailable: return 503;
  }
  return 500;
}

struct Server::Impl {
  explicit Impl(ServerDeps d)
      : deps(std::move(d)),
        services{deps.store, deps.vault, deps.clock,
                 customer::CustomerService(deps.store, deps.vault, deps.clock), Metrics{},
                 LoginLimiter{}, index::IndexRegistry(deps.store, deps.clock)},
        tag_engine(deps.store, services.indexes, deps.clock),
        dispatcher(deps.store, deps.clock, deps.deliveries_log,
                   [this](WorkspaceId ws, const std::string&) { return wecom_channel(ws); }),
        journeys(journey::EngineDeps{
            deps.store, services.indexes, deps.clock,
            [this](WorkspaceId ws, const std::vector<CustomerId>& ids) {
              (void)services.indexes.refresh(ws, ids);
              tag_engine.touch(ws, ids);
            },
            [this] { dispatcher.wake(); }}),
        community(deps.store, deps.clock, [this] { dispatcher.wake(); }),
        analytics(deps.store, deps.clock) {
    services.tag_engine = &tag_engine;
    services.analytics = &analytics;
    services.community = &community;
    services.journeys = &journeys;
    services.dispatcher = &dispatcher;
    deps.store.on_events_committed(
        [this](store::EventsCommitted n) { services.indexes.events_committed(std::move(n)); });
  }
  ~Impl() { deps.store.on_events_committed(nullptr); }

  /// The WeCom channel of a workspace, from its WeCom settings.
  Result<std::unique_ptr<outbox::Channel>> wecom_channel(WorkspaceId ws) {
    SIYU_ASSIGN_OR_RETURN(auto settings, wecom::load_wecom_settings(deps.store, deps.vault, ws));
    if (!settings.configured()) {
      return unprocessable("the workspace's WeCom connection is not configured");
    }
    SIYU_ASSIGN_OR_RETURN(store::Workspace w, deps.store.workspace(ws));
    SIYU_ASSIGN_OR_RETURN(int offset, zone_offset_minutes(w.timezone));
    return std::unique_ptr<outbox::Channel>(
        std::make_unique<wecom::WecomChannel>(deps.store, ws, settings, deps.clock, offset));
  }

  ServerDeps deps;
  Services services;
  rules::TagEngine tag_engine;
  outbox::Dispatcher dispatcher;
  journey::JourneyEngine journeys;
  community::CommunityService community;
  analytics::AnalyticsEngine analytics;
  httplib::Server http;
  std::vector<Route> routes;

  /// Authenticates a request: an API key ("Authorization: Bearer sk_...") or a console
  /// session cookie, which also needs the X-CSRF-Token header on unsafe methods.
  Result<Principal> authenticate(const httplib::Request& req) {
    const std::string auth = req.get_header_value("Authorization");
    if (!auth.empty()) {
      if (!starts_with(auth, "Bearer ")) {
        return Status(ErrorCode::kUnauthenticated, "authorization must be \"Bearer <api key>\"");
      }
      const std::string token(trim(std::string_view(auth).substr(7)));
      auto key = deps.store.api_key_by_digest(security::token_digest(token));
      if (!key || key->revoked_at) {
        return Status(ErrorCode::kUnauthenticated, "api key is unknown or revoked");
      }
      // Last use is kept to the minute, so busy keys cost one write a minute, not one a call.
      const EpochMs now = deps.clock.now_ms();
      if (!key->last_used_at || *key->last_used_at < now - 60'000) {
        (void)deps.store.touch_api_key(key->id, now);
      }
      return Principal{key->workspace, key->role, "key:" + std::to_string(key->id.value),
                       UserId(), false, ""};
    }
    const std::string cookie = cookie_value(req, kSessionCookie);
    if (cookie.empty()) {
      return Status(ErrorCode::kUnauthenticated, "sign in or send an api key");
    }
    auto ses = deps.store.session(security::token_digest(cookie));
    if (!ses || ses->expires_at < deps.clock.now_ms()) {
      return Status(ErrorCode::kUnauthenticated, "session expired; sign in again");
    }
    auto user = deps.store.user(ses->workspace, ses->user);
    if (!user || user->disabled) {
      return Status(ErrorCode::kUnauthenticated, "session expired; sign in again");
    }
    if (is_unsafe(req.method) &&
        !security::equal_constant_time(req.get_header_value("X-CSRF-Token"), ses->csrf_token)) {
      return permission_denied("missing or wrong X-CSRF-Token header");
    }
    return Principal{ses->workspace, user->role, "user:" + std::to_string(user->id.value),
                     user->id,      true,       ses->csrf_token};
  }

  void dispatch(const Route& route, const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    Principal who;
    Status failure;
    if (route.permission) {
      auto p = authenticate(req);
      if (!p) {
        failure = p.error();
      } else if (!allows(p->role, *route.permission)) {
        failure = permission_denied("role " + std::string(store::role_name(p->role)) +
                                    " may not " + route.summary);
      } else {
        who = std::move(p).value();
      }
    }
    if (failure.is_ok()) {
      Result<Reply> reply = route.handler(req, who);
      if (!reply) {
        failure = reply.error();
      } else {
        res.status = reply->status;
        for (const auto& [k, v] : reply->headers) res.set_header(k, v);
        if (!reply->raw.empty() || !reply->content_type.empty()) {
          res.set_content(reply->raw, reply->content_type);
        } else if (reply->status != 204) {
          res.set_content(reply->body.dump(-1, ' ', false, Json::error_handler_t::replace),
                          "application/json; charset=utf-8");
        }
      }
    }
    if (!failure.is_ok()) write_error(res, failure);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    services.metrics.observe_request(route.method + " " + route.path, res.status, secs);
  }

  Json openapi() const {
    Json paths = Json::object();
    for (const Route& r : routes) {
      Json op = {{"summary", r.summary},
                 {"responses",
                  {{"200", {{"description", "success"}}},
                   {"default",
                    {{"description", "error: {\"error\":{\"code\",\"message\",\"field\"}}"}}}}}};
      if (r.permission) op["security"] = Json::array({{{"apiKey", Json::array()}}, {{"session", Json::array()}}});
      Json params = Json::array();
      for (size_t i = r.path.find('{'); i != std::string::npos; i = r.path.find('{', i + 1)) {
        const std::string name = r.path.substr(i + 1, r.path.find('}', i) - i - 1);
        params.push_back({{"name", name}, {"in", "path"}, {"required", true},
                          {"schema", {{"type", "string"}}}});
      }
      if (!params.empty()) op["parameters"] = params;
      paths[r.path][ascii_lower(r.method)] = op;
    }
    for (const char* p : {"/healthz", "/metrics", "/v1/openapi.json"}) {
      paths[p]["get"] = {{"summary", std::string("operations: ") + p},
                         {"responses", {{"200", {{"description", "success"}}}}}};
    }
    return {{"openapi", "3.0.3"},
            {"info", {{"title", "Siyu API"}, {"version", "0.1.0"}}},
            {"paths", paths},
            {"components",
             {{"securitySchemes",
               {{"apiKey", {{"type", "http"}, {"scheme", "bearer"}}},
                {"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", kSessionCookie}}}}}}}};
  }

  std::string store_metrics() const {
    const store::StoreStats s = deps.store.stats();
    char buf[1024];
    std::snprintf(
        buf, sizeof buf,
        "# TYPE siyu_store_commits_total counter\nsiyu_store_commits_total %lld\n"
        "# TYPE siyu_store_commit_seconds_total counter\n"
        "siyu_store_commit_seconds_total %f\n"
        "# TYPE siyu_store_disk_flushes_total counter\nsiyu_store_disk_flushes_total %lld\n"
        "# TYPE siyu_store_reads_total counter\nsiyu_store_reads_total %lld\n"
        "# TYPE siyu_store_read_seconds_total counter\nsiyu_store_read_seconds_total %f\n"
        "# HELP siyu_store_tag_log_rows Tag operations not yet applied to the tag tables.\n"
        "# TYPE siyu_store_tag_log_rows gauge\nsiyu_store_tag_log_rows %lld\n"
        "# TYPE siyu_store_tag_holders_bytes gauge\nsiyu_store_tag_holders_bytes %lld\n",
        static_cast<long long>(s.commits), static_cast<double>(s.commit_micros) / 1e6,
        static_cast<long long>(s.disk_flushes), static_cast<long long>(s.reads),
        static_cast<double>(s.read_micros) / 1e6, static_cast<long long>(s.tag_log_rows),
        static_cast<long long>(s.tag_holders_bytes));
    const auto ix = services.indexes.stats();
    char more[512];
    std::snprintf(more, sizeof more,
                  "# TYPE siyu_index_customers gauge\nsiyu_index_customers %llu\n"
                  "# TYPE siyu_index_bytes gauge\nsiyu_index_bytes %zu\n"
                  "# HELP siyu_index_bytes_per_customer Segment index memory per live customer.\n"
                  "# TYPE siyu_index_bytes_per_customer gauge\nsiyu_index_bytes_per_customer %.1f\n",
                  static_cast<unsigned long long>(ix.customers), ix.bytes,
                  ix.customers > 0 ? static_cast<double>(ix.bytes) / static_cast<double>(ix.customers)
                                   : 0.0);
    const auto an = analytics.stats();
    char snapshots[512];
    std::snprintf(snapshots, sizeof snapshots,
                  "# HELP siyu_analytics_snapshot_bytes Memory of the analytics snapshots.\n"
                  "# TYPE siyu_analytics_snapshot_bytes gauge\nsiyu_analytics_snapshot_bytes %zu\n"
                  "# TYPE siyu_analytics_snapshots gauge\nsiyu_analytics_snapshots %zu\n"
                  "# HELP siyu_analytics_build_seconds The slowest latest snapshot build.\n"
                  "# TYPE siyu_analytics_build_seconds gauge\nsiyu_analytics_build_seconds %f\n",
                  an.bytes, an.snapshots, an.build_seconds);
    return std::string(buf) + more + snapshots;
  }

  void install() {
    routes = make_routes(services);
    http.new_task_queue = [] { return new httplib::ThreadPool(8); };
    // The events route allows 8 MiB; a little over that lets the handler answer 413 in JSON.
    http.set_payload_max_length(9 * 1024 * 1024);
    http.set_read_timeout(30, 0);
    for (const Route& r : routes) {
      const std::string pattern = path_regex(r.path);
      auto fn = [this, &r](const httplib::Request& req, httplib::Response& res) {
        dispatch(r, req, res);
      };
      if (r.method == "GET") http.Get(pattern, fn);
      else if (r.method == "POST") http.Post(pattern, fn);
      else if (r.method == "PATCH") http.Patch(pattern, fn);
      else if (r.method == "DELETE") http.Delete(pattern, fn);
      else if (r.method == "PUT") http.Put(pattern, fn);
    }
    http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      auto ws = deps.store.workspaces();
      if (!ws) {
        write_error(res, Status(ErrorCode::kUnavailable, "store is not answering"));
        return;
      }
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(services.metrics.render(store_metrics()), "text/plain; version=0.0.4");
    });
    http.Get("/v1/openapi.json", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(openapi().dump(2), "application/json");
    });
    if (!deps.static_dir.empty() && std::filesystem::exists(deps.static_dir + "/index.html")) {
      http.set_mount_point("/", deps.static_dir);
      // The console routes in the browser (/customers/42): any other GET outside the API
      // answers its index.html.
      const std::string index = deps.static_dir + "/index.html";
      http.Get(R"(/(?!v1/|v1$|assets/|metrics$|healthz$).*)", [index](const httplib::Request&,
                                                           httplib::Response& res) {
        std::ifstream in(index, std::ios::binary);
        std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        res.set_header("Cache-Control", "no-cache");
        res.set_content(html, "text/html; charset=utf-8");
      });
      http.set_file_request_handler([](const httplib::Request& req, httplib::Response& res) {
        // Vite puts content-hashed files under /assets/: cache them for a year.
        res.set_header("Cache-Control", starts_with(req.path, "/assets/")
                                            ? "public, max-age=31536000, immutable"
                                            : "no-cache");
      });
    }
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 404) {
        write_error(res, not_found("no route for " + req.method + " " + req.path));
      } else if (res.status == 413) {
        write_error(res, Status(ErrorCode::kPayloadTooLarge, "request body is too large"));
      } else if (res.status == 400) {
        write_error(res, invalid("malformed HTTP request"));
      } else {
        res.set_content(error_json(Status(ErrorCode::kInternal, "http error")).dump(),
                        "application/json");
      }
    });
    http.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"unhandled exception\",\"path\":\"%s\",\"what\":%s}\n",
                       req.path.c_str(), Json(what).dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
          write_error(res, internal_error("internal error"));
        });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      Json line = {{"ts", format_timestamp(deps.clock.now_ms())},
                   {"level", res.status >= 500 ? "error" : "info"},
                   {"method", req.method},
                   {"path", req.path},
                   {"status", res.status},
                   {"remote", req.remote_addr}};
      std::fprintf(stderr, "%s\n", line.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
    });
  }
};

Server::Server(ServerDeps deps) : impl_(std::make_unique<Impl>(std::move(deps))) {
  impl_->install();
}

Server::~Server() = default;

Result<int> Server::bind(const std::string& host, int port) {
  if (port == 0) {
    const int bound = impl_->http.bind_to_any_port(host);
    if (bound <= 0) return Status(ErrorCode::kUnavailable, "cannot bind " + host);
    return bound;
  }
  if (!impl_->http.bind_to_port(host, port)) {
    return Status(ErrorCode::kUnavailable,
                  "cannot listen on " + host + ":" + std::to_string(port) + " (in use?)");
  }
  return port;
}

void Server::start_delivery() {
  if (impl_->deps.run_journeys) impl_->dispatcher.start();
}

Status Server::build_indexes() { return impl_->services.indexes.build_all(); }

Status Server::serve() {
  impl_->tag_engine.start();
  if (impl_->deps.run_journeys) {
    impl_->dispatcher.start();
    impl_->journeys.start();
    impl_->community.start();
  }
  const bool ok = impl_->http.listen_after_bind();
  impl_->community.stop();
  if (Status st = impl_->community.settle_all(); !st.is_ok()) {
    std::fprintf(stderr, "{\"level\":\"error\",\"msg\":\"message figures not written\",\"error\":%s}\n",
                 Json(st.to_string()).dump().c_str());
  }
  impl_->journeys.stop();
  impl_->dispatcher.stop();
  impl_->tag_engine.stop();
  if (!ok) return internal_error("http server stopped with an error");
  return Status::ok();
}

void Server::stop() { impl_->http.stop(); }

}  // namespace siyu::api
