// Internal to api/: the route table shared by the server plumbing and the handlers.
#pragma once

#include <httplib.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/access.h"
#include "api/login_limiter.h"
#include "api/metrics.h"
#include "analytics/engine.h"
#include "community/service.h"
#include "core/json.h"
#include "customer/customer_service.h"
#include "index/registry.h"
#include "journey/engine.h"
#include "outbox/dispatcher.h"
#include "rules/tag_engine.h"

namespace siyu::api {

/// What a handler answers. JSON `body` unless `raw` is set (CSV, text).
struct Reply {
  int status = 200;
  Json body;
  std::string raw;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Services {
  store::Store& store;
  const security::Vault& vault;
  const Clock& clock;
  customer::CustomerService customers;
  Metrics metrics;
  LoginLimiter login_limiter;
  index::IndexRegistry indexes;
  rules::TagEngine* tag_engine = nullptr;  // owned by the server
  journey::JourneyEngine* journeys = nullptr;  // owned by the server
  outbox::Dispatcher* dispatcher = nullptr;    // owned by the server
  community::CommunityService* community = nullptr;  // owned by the server
  analytics::AnalyticsEngine* analytics = nullptr;   // owned by the server
};

using Handler = std::function<Result<Reply>(const httplib::Request&, const Principal&)>;

struct Route {
  std::string method;     // GET, POST, PATCH, DELETE
  std::string path;       // OpenAPI path, e.g. /v1/customers/{id}; turned into a regex
  std::optional<Permission> permission;  // nullopt: no authentication needed
  std::string summary;
  Handler handler;
};

/// Every /v1 route of the API.
std::vector<Route> make_routes(Services& s);

/// The routes of the tag engine (tag_handlers.cc), part of make_routes().
std::vector<Route> tag_routes(Services& s, rules::TagEngine& engine);

/// Journeys, SOP templates, the outbox, staff tasks and delivery settings
/// (journey_handlers.cc), part of make_routes().
std::vector<Route> journey_routes(Services& s);

/// The WeCom connection, its mass-message tasks and its callback (wecom_handlers.cc).
std::vector<Route> wecom_routes(Services& s);

/// Groups, members, messages, moderation, auto-replies, health and channel codes
/// (community_handlers.cc).
std::vector<Route> community_routes(Services& s);

/// Sales, funnels, retention, layers, acquisition, RFM and lifetime value
/// (analytics_handlers.cc).
std::vector<Route> analytics_routes(Services& s);

}  // namespace siyu::api
