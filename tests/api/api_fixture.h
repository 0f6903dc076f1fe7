// The API test fixture: a fresh SQLite store with workspaces A and B, API keys, and the real
// HTTP server on a loopback port.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <thread>

#include "api/server.h"
#include "core/json.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::api {

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(security::init().is_ok());
    store_ = testing::open_test_store(dir_);
    a_ = store_->create_workspace({WorkspaceId(), "brand-a", "A", "Asia/Shanghai", 0})->id;
    b_ = store_->create_workspace({WorkspaceId(), "brand-b", "B", "Asia/Shanghai", 0})->id;
    key_a_ = issue_api_key(*store_, a_, "t", store::Role::kAdmin, 1)->second;
    key_b_ = issue_api_key(*store_, b_, "t", store::Role::kAdmin, 1)->second;
    analyst_a_ = issue_api_key(*store_, a_, "t", store::Role::kAnalyst, 1)->second;
    server_ = std::make_unique<Server>(
        ServerDeps{*store_, vault_, clock(), "", dir_.str() + "/deliveries.log"});
    port_ = *server_->bind("127.0.0.1", 0);
    thread_ = std::thread([this] { (void)server_->serve(); });
  }

  /// The server's clock; fixtures that move time override it.
  virtual const Clock& clock() const { return SystemClock::instance(); }

  void TearDown() override {
    server_->stop();
    thread_.join();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30, 0);
    return c;
  }

  static httplib::Headers bearer(const std::string& key) {
    return {{"Authorization", "Bearer " + key}};
  }

  struct Response {
    int status = 0;
    Json body;
    std::string raw;
  };

  Response call(const std::string& method, const std::string& path, const std::string& key,
                const std::string& body = "", const std::string& type = "application/json",
                httplib::Headers headers = {}) const {
    auto c = client();
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    httplib::Result r = method == "GET"     ? c.Get(path, headers)
                        : method == "POST"  ? c.Post(path, headers, body, type)
                        : method == "PATCH" ? c.Patch(path, headers, body, type)
                        : method == "PUT"   ? c.Put(path, headers, body, type)
                                            : c.Delete(path, headers, body, type);
    Response out;
    if (!r) return out;
    out.status = r->status;
    out.raw = r->body;
    out.body = parse_json(r->body).value_or(Json());
    return out;
  }

  testing::TempDir dir_;
  security::Vault vault_ = security::Vault::from_key({});
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
  WorkspaceId a_, b_;
  std::string key_a_, key_b_, analyst_a_;
};

}  // namespace siyu::api
