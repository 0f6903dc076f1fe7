// A local fake of WeCom's server API for tests, speaking the documented shapes
// (protocols/wecom.md §B): gettoken, add_msg_template, send_welcome_msg, get_groupmsg_task,
// remind_groupmsg_send and media/upload. It checks the access token, can expire it or
// throttle once, and records every call.
#pragma once

#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"

namespace siyu::testing {

class FakeWecom {
 public:
  FakeWecom() {
    server_.Get("/cgi-bin/gettoken", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++token_calls_;
      if (req.get_param_value("corpsecret") != "secret") {
        reply(res, {{"errcode", 40001}, {"errmsg", "invalid credential"}});
        return;
      }
      token_ = "T" + std::to_string(token_calls_);
      reply(res, {{"errcode", 0}, {"errmsg", "ok"}, {"access_token", token_}, {"expires_in", 7200}});
    });
    post("externalcontact/add_msg_template", [this](const Json& body) {
      const std::string msgid = "msg" + std::to_string(templates_.size() + 1);
      templates_.push_back(body);
      Json fail = Json::array();
      for (const Json& id : body.value("external_userid", Json::array())) {
        if (id.get<std::string>().rfind("wmbad", 0) == 0) fail.push_back(id);
      }
      task_status_[msgid] = 0;
      return Json{{"errcode", 0}, {"errmsg", "ok"}, {"fail_list", fail}, {"msgid", msgid}};
    });
    post("externalcontact/send_welcome_msg", [this](const Json& body) {
      welcomes_.push_back(body);
      const std::string code = body.value("welcome_code", "");
      if (!used_codes_.insert(code).second) {
        return Json{{"errcode", 41051}, {"errmsg", "externaluser has started chatting"}};
      }
      return Json{{"errcode", 0}, {"errmsg", "ok"}};
    });
    post("externalcontact/get_groupmsg_task", [this](const Json& body) {
      const std::string msgid = body.value("msgid", "");
      const int status = task_status_.count(msgid) ? task_status_[msgid] : 0;
      return Json{{"errcode", 0},
                  {"errmsg", "ok"},
                  {"task_list", {{{"userid", "amy"}, {"status", status}, {"send_time", status == 2 ? 1'700'000'000 : 0}}}}};
    });
    // Customer groups: two pages of one group each (the cursor is followed).
    post("externalcontact/groupchat/list", [](const Json& body) {
      const bool second = body.value("cursor", "") == "page2";
      return Json{{"errcode", 0},
                  {"errmsg", "ok"},
                  {"group_chat_list", {{{"chat_id", second ? "wrCHAT2" : "wrCHAT1"}, {"status", 0}}}},
                  {"next_cursor", second ? "" : "page2"}};
    });
    post("externalcontact/groupchat/get", [](const Json& body) {
      const bool first = body.value("chat_id", "") == "wrCHAT1";
      Json members = Json::array({{{"userid", "amy"}, {"type", 1}, {"join_time", 1'700'000'000}, {"join_scene", 1}},
                                  {{"userid", "wmMEMBER1"}, {"type", 2}, {"join_time", 1'700'000'100}, {"join_scene", 3}}});
      if (first) members.push_back({{"userid", "wmMEMBER2"}, {"type", 2}, {"join_time", 1'700'000'200}, {"join_scene", 2}});
      return Json{{"errcode", 0},
                  {"errmsg", "ok"},
                  {"group_chat", {{"chat_id", body.value("chat_id", "")},
                                  {"name", first ? "销售客服群" : "新品体验群"},
                                  {"owner", "amy"},
                                  {"create_time", 1'699'999'000},
                                  {"member_list", members}}}};
    });
    post("externalcontact/remind_groupmsg_send", [this](const Json& body) {
      reminders_.push_back(body.value("msgid", ""));
      return Json{{"errcode", 0}, {"errmsg", "ok"}};
    });
    server_.Post("/cgi-bin/media/upload", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (req.get_param_value("access_token") != token_ || !req.has_file("media")) {
        reply(res, {{"errcode", 40014}, {"errmsg", "invalid access_token"}});
        return;
      }
      ++uploads_;
      reply(res, {{"errcode", 0}, {"errmsg", "ok"}, {"type", "image"},
                  {"media_id", "media" + std::to_string(uploads_)}});
    });
    server_.Get("/image.jpg", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(64, 'x'), "image/jpeg");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeWecom() {
    server_.stop();
    thread_.join();
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/cgi-bin/"; }
  std::string image_url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/image.jpg"; }

  /// The next authenticated call answers "access_token expired" (42001).
  void expire_token() { expire_next_ = true; }
  /// The next authenticated call answers "api freq out of limit" (45009).
  void throttle_once() { throttle_next_ = true; }
  void set_task_status(const std::string& msgid, int status) {
    std::lock_guard lock(mu_);
    task_status_[msgid] = status;
  }

  int token_calls() { std::lock_guard lock(mu_); return token_calls_; }
  int uploads() { std::lock_guard lock(mu_); return uploads_; }
  std::vector<Json> templates() { std::lock_guard lock(mu_); return templates_; }
  std::vector<Json> welcomes() { std::lock_guard lock(mu_); return welcomes_; }
  std::vector<std::string> reminders() { std::lock_guard lock(mu_); return reminders_; }

 private:
  static void reply(httplib::Response& res, const Json& j) {
    res.set_content(j.dump(), "application/json");
  }

  template <typename F>
  void post(const std::string& path, F handler) {
    server_.Post("/cgi-bin/" + path, [this, handler](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      if (req.get_param_value("access_token") != token_ || token_.empty()) {
        reply(res, {{"errcode", 40014}, {"errmsg", "invalid access_token"}});
        return;
      }
      if (expire_next_.exchange(false)) {
        token_.clear();
        reply(res, {{"errcode", 42001}, {"errmsg", "access_token expired"}});
        return;
      }
      if (throttle_next_.exchange(false)) {
        reply(res, {{"errcode", 45009}, {"errmsg", "api freq out of limit"}});
        return;
      }
      auto body = parse_json(req.body);
      reply(res, body ? handler(*body) : Json{{"errcode", 47001}, {"errmsg", "data format error"}});
    });
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::string token_;
  int token_calls_ = 0;
  int uploads_ = 0;
  std::atomic<bool> expire_next_{false};
  std::atomic<bool> throttle_next_{false};
  std::vector<Json> templates_;
  std::vector<Json> welcomes_;
  std::vector<std::string> reminders_;
  std::set<std::string> used_codes_;
  std::map<std::string, int> task_status_;
};

}  // namespace siyu::testing
