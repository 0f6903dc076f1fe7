// The HTTP API (/v1/...), operations endpoints (/healthz, /metrics, /v1/openapi.json) and the
// console's static files, on cpp-httplib. Routes are one table: each names its permission,
// and errors become HTTP replies in one place (error_reply).
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "security/crypto.h"
#include "store/store.h"

namespace siyu::api {

struct ServerDeps {
  store::Store& store;
  const security::Vault& vault;
  const Clock& clock;
  std::string static_dir;  // built console (web/dist); empty = none
  std::string deliveries_log = {};  // the log channel's file; empty = the log channel fails
  bool run_journeys = true;         // start the journey engine and outbox dispatcher
};

class Server {
 public:
  explicit Server(ServerDeps deps);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds `host:port` (port 0 picks a free one) and returns the bound port.
  Result<int> bind(const std::string& host, int port);
  /// Starts delivering the outbox (no index needed), so a restarted server resumes sending
  /// while build_indexes() still runs. serve() starts it too.
  void start_delivery();
  /// Builds every workspace's segment index from the store, so no request waits for it.
  Status build_indexes();
  /// Serves until stop(); returns when the listener closes and requests have drained.
  Status serve();
  /// Stops accepting and lets running requests finish. Thread-safe.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Creates an API key; returns the stored row and the secret, which is never stored or shown
/// again (only its digest is kept).
Result<std::pair<store::ApiKey, std::string>> issue_api_key(store::Store& store, WorkspaceId ws,
                                                            const std::string& name,
                                                            store::Role role, EpochMs now);

/// HTTP status for an error code (the one table of STYLE.md "Errors").
int http_status(ErrorCode code);

}  // namespace siyu::api
