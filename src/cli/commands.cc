#include "cli/commands.h"

#include <csignal>
#include <cstdio>
#include <thread>

#include "api/server.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/time_format.h"
#include "demo/demo.h"
#include "demo/online_retail.h"
#include "io/csv.h"
#include "security/crypto.h"
#include "store/store.h"

namespace siyu::cli {
namespace {

int fail(const Status& s) {
  std::fprintf(stderr, "siyu: %s\n", s.to_string().c_str());
  return 1;
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "siyu: %s\n", msg.c_str());
  return 2;
}

/// The store and key file of a data directory.
struct DataDir {
  std::unique_ptr<store::Store> store;
  std::optional<security::Vault> vault;
};

Result<DataDir> open_data(const Args& a) {
  const std::string dir = a.get("data");
  if (dir.empty()) return invalid("--data DIR is required", "data");
  SIYU_RETURN_IF_ERROR(security::init());
  DataDir w;
  store::StoreConfig cfg;
  cfg.data_dir = dir;
  SIYU_ASSIGN_OR_RETURN(w.store, store::open_store(cfg));
  SIYU_ASSIGN_OR_RETURN(auto vault, security::Vault::open(dir + "/secret.key"));
  w.vault = vault;
  return w;
}

/// The --workspace and --role flags that `keys create` and `users create` share.
struct Grant {
  store::Workspace workspace;
  store::Role role = store::Role::kAnalyst;
};

Result<Grant> grant_flags(store::Store& store, const Args& a) {
  auto role = store::parse_role(a.get("role"));
  if (!role) return invalid("--role must be owner, admin, operator, staff or analyst", "role");
  SIYU_ASSIGN_OR_RETURN(auto ws, store.workspace_by_slug(a.get("workspace")));
  return Grant{std::move(ws), *role};
}

api::Server* g_server = nullptr;

void on_signal(int) {
  if (g_server != nullptr) g_server->stop();
}

}  // namespace

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

Args parse_args(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string w = argv[i];
    if (w.rfind("--", 0) == 0) {
      std::string name = w.substr(2);
      const auto eq = name.find('=');
      if (eq != std::string::npos) {
        a.flags[name.substr(0, eq)] = name.substr(eq + 1);
      } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        a.flags[name] = argv[++i];
      } else {
        a.flags[name] = "true";
      }
    } else {
      a.words.push_back(w);
    }
  }
  return a;
}

int cmd_serve(const Args& a) {
  auto data = open_data(a);
  if (!data) return fail(data.error());
  const std::string listen = a.get("listen", "127.0.0.1:8080");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return usage_error("--listen must be HOST:PORT");
  const std::string host = listen.substr(0, colon);
  const int port = std::atoi(listen.substr(colon + 1).c_str());
  api::Server server({*data->store, *data->vault, SystemClock::instance(), a.get("static", "web/dist"),
                      a.get("data", "") + "/deliveries.log"});
  server.start_delivery();
  if (Status built = server.build_indexes(); !built.is_ok()) return fail(built);
  auto bound = server.bind(host, port);
  if (!bound) return fail(bound.error());
  g_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::fprintf(stderr, "{\"level\":\"info\",\"msg\":\"listening\",\"address\":\"http://%s:%d\"}\n",
               host.c_str(), *bound);
  Status s = server.serve();
  g_server = nullptr;
  std::fprintf(stderr, "{\"level\":\"info\",\"msg\":\"stopped\"}\n");
  return s.is_ok() ? 0 : fail(s);
}

int cmd_keys(const Args& a) {
  if (a.words.empty() || a.words[0] != "create") return usage_error("usage: siyu keys create ...");
  auto data = open_data(a);
  if (!data) return fail(data.error());
  auto grant = grant_flags(*data->store, a);
  if (!grant) return fail(grant.error());
  const store::Workspace* ws = &grant->workspace;
  auto key = api::issue_api_key(*data->store, ws->id, a.get("name", "cli"), grant->role,
                                SystemClock::instance().now_ms());
  if (!key) return fail(key.error());
  (void)data->store->audit(ws->id, {0, SystemClock::instance().now_ms(), "cli", "key.create",
                                    "key:" + std::to_string(key->first.id.value),
                                    Json{{"role", a.get("role")}}.dump()});
  if (a.has("json")) {
    std::printf("%s\n", Json{{"id", key->first.id.value},
                             {"workspace", ws->slug},
                             {"role", a.get("role")},
                             {"key", key->second}}
                            .dump()
                            .c_str());
  } else {
    std::printf("%s\n", key->second.c_str());
  }
  return 0;
}

int cmd_workspace(const Args& a) {
  if (a.words.empty() || a.words[0] != "create") {
    return usage_error("usage: siyu workspace create ...");
  }
  auto data = open_data(a);
  if (!data) return fail(data.error());
  store::Workspace w;
  w.slug = a.get("slug");
  w.name = a.get("name", w.slug);
  w.timezone = a.get("timezone", "Asia/Shanghai");
  w.created_at = SystemClock::instance().now_ms();
  if (w.slug.empty() || w.slug.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") !=
                            std::string::npos) {
    return usage_error("--slug must use a-z, 0-9 and -");
  }
  if (!zone_offset_minutes(w.timezone)) return usage_error("--timezone is not supported");
  auto made = data->store->create_workspace(w);
  if (!made) return fail(made.error());
  std::printf("%s\n", Json{{"id", made->id.value}, {"slug", made->slug}}.dump().c_str());
  return 0;
}

int cmd_users(const Args& a) {
  if (a.words.empty() || a.words[0] != "create") return usage_error("usage: siyu users create ...");
  auto data = open_data(a);
  if (!data) return fail(data.error());
  auto grant = grant_flags(*data->store, a);
  if (!grant) return fail(grant.error());
  store::User u;
  u.workspace = grant->workspace.id;
  u.email = a.get("email");
  u.display_name = a.get("name", u.email);
  u.role = grant->role;
  u.created_at = SystemClock::instance().now_ms();
  const std::string password = a.get("password");
  if (password.size() < 10) return usage_error("--password needs at least 10 characters");
  auto hash = security::hash_password(password);
  if (!hash) return fail(hash.error());
  u.password_hash = *hash;
  auto made = data->store->create_user(u);
  if (!made) return fail(made.error());
  std::printf("%s\n", Json{{"id", made->id.value}, {"email", made->email}}.dump().c_str());
  return 0;
}

int cmd_demo(const Args& a) {
  auto data = open_data(a);
  if (!data) return fail(data.error());
  demo::DemoOptions opt;
  opt.slug = a.get("workspace", "demo");
  opt.customers = std::atoll(a.get("customers", "100000").c_str());
  opt.seed = static_cast<uint64_t>(std::atoll(a.get("seed", "42").c_str()));
  if (opt.customers < 1 || opt.customers > 10'000'000) {
    return usage_error("--customers must be between 1 and 10000000");
  }
  auto out = demo::build_demo(*data->store, *data->vault, opt, SystemClock::instance());
  if (!out) return fail(out.error());
  auto key = api::issue_api_key(*data->store, out->workspace, "demo", store::Role::kAdmin,
                                SystemClock::instance().now_ms());
  if (!key) return fail(key.error());
  Json summary = {{"workspace", opt.slug},
                 {"created", out->created},
                 {"login", {{"workspace", opt.slug},
                            {"email", out->owner_email},
                            {"password", out->owner_password}}},
                 {"api_key", key->second},
                 {"customers", out->customers},
                 {"events", out->events}};
  if (out->created) summary["orders"] = out->orders;
  std::printf("%s\n", summary.dump(2).c_str());
  return 0;
}

int cmd_import(const Args& a) {
  if (a.words.empty() || a.words[0] != "online-retail") {
    return usage_error("import knows one format: siyu import online-retail --data DIR --file PATH");
  }
  const std::string path = a.get("file");
  if (path.empty()) return usage_error("--file PATH is required");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return usage_error("cannot open " + path);
  std::string raw;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) raw.append(buf, n);
  std::fclose(f);
  auto text = io::to_utf8(raw);
  if (!text) return fail(text.error());
  auto data = open_data(a);
  if (!data) return fail(data.error());
  const std::string slug = a.get("workspace", "online-retail");
  auto ws = data->store->workspace_by_slug(slug);
  if (!ws) {
    // The shop is in the UK; its winter times are UTC, the zone the file is read in.
    ws = data->store->create_workspace({WorkspaceId(), slug, a.get("name", "Online Retail (UCI)"), "UTC",
                                        SystemClock::instance().now_ms()});
    if (!ws) return fail(ws.error());
  }
  auto report = demo::import_online_retail(*data->store, ws->id, *text, SystemClock::instance());
  if (!report) return fail(report.error());
  const demo::RetailImport& r = *report;
  Json summary = {{"workspace", slug},          {"lines", r.lines},
                  {"orders", r.invoices},       {"guest_orders", r.guest_orders},
                  {"customers", r.customers},   {"customers_created", r.customers_created},
                  {"cancellations", r.cancellations}, {"refund_lines_matched", r.refunds_matched},
                  {"refund_only_orders", r.refund_orders}, {"skipped_invoices", r.skipped_invoices},
                  {"gmv_pence", r.gmv},         {"refunded_pence", r.refunded}};
  std::printf("%s\n", summary.dump(2).c_str());
  return 0;
}

}  // namespace siyu::cli
