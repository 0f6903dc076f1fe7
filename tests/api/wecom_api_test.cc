// The WeCom connection through the API: settings with sealed secrets, URL verification, an
// encrypted add-contact callback that becomes a customer, an event and a welcome message sent
// through the fake WeCom within 20 seconds; duplicates stored once; tampered, stale and
// misaddressed callbacks refused.
#include <chrono>

#include "api/api_fixture.h"
#include "core/time_format.h"
#include "support/fake_wecom.h"
#include "wecom/crypt.h"
#include "wecom/xml.h"

namespace siyu::api {
namespace {

constexpr const char* kAesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

class WecomApiTest : public ApiTest {
 protected:
  /// A signed callback request path and body for `xml`, sent at `at` (Unix seconds).
  std::pair<std::string, std::string> callback(const std::string& xml, int64_t at,
                                               const std::string& slug = "brand-a") {
    auto crypt = wecom::MsgCrypt::create("token", kAesKey, "wwcorp");
    const std::string encrypted = crypt->encrypt(xml, "0123456789abcdef");
    const std::string ts = std::to_string(at);
    const std::string sig = wecom::msg_signature("token", ts, "n1", encrypted);
    return {"/v1/wecom/callback/" + slug + "?msg_signature=" + sig + "&timestamp=" + ts +
                "&nonce=n1",
            "<xml><ToUserName>" + wecom::cdata("wwcorp") + "</ToUserName><Encrypt>" +
                wecom::cdata(encrypted) + "</Encrypt><AgentID>1</AgentID></xml>"};
  }

  static std::string url_encoded(const std::string& base64) {
    std::string out;
    for (char ch : base64) {
      if (ch == '+') out += "%2B";
      else if (ch == '/') out += "%2F";
      else if (ch == '=') out += "%3D";
      else out += ch;
    }
    return out;
  }

  int64_t now_s() const { return SystemClock::instance().now_ms() / 1000; }

  testing::FakeWecom fake_;
};

TEST_F(WecomApiTest, AnAddContactCallbackWelcomesTheCustomerThroughWecom) {
  store::User u;
  u.workspace = a_;
  u.email = "amy@a.example";
  u.display_name = "Amy";
  ASSERT_TRUE(store_->create_user(u));
  auto bad = call("PUT", "/v1/settings/wecom", key_a_, R"({"encoding_aes_key":"short"})");
  EXPECT_EQ(bad.body["error"]["field"], "encoding_aes_key");
  EXPECT_EQ(call("PUT", "/v1/settings/wecom", analyst_a_, "{}").status, 403);
  auto saved = call("PUT", "/v1/settings/wecom", key_a_,
                    Json{{"corp_id", "wwcorp"}, {"secret", "secret"}, {"token", "token"},
                         {"encoding_aes_key", kAesKey}, {"api_base", fake_.base()},
                         {"allow_private", true}, {"staff_userids", {{"amy@a.example", "amy"}}}}
                        .dump());
  ASSERT_EQ(saved.status, 200) << saved.raw;
  EXPECT_EQ(saved.body["configured"], true);
  EXPECT_FALSE(saved.body.contains("secret"));
  EXPECT_EQ(saved.raw.find("\"secret\":\"secret\""), std::string::npos);
  // Stored sealed: the plain secret is not in the settings row.
  EXPECT_EQ(store_->setting(a_, "wecom")->value().find("\"token\""), std::string::npos);
  EXPECT_EQ(call("GET", "/v1/settings/wecom", key_b_).body["configured"], false);
  ASSERT_EQ(call("PUT", "/v1/settings/delivery", key_a_, R"({"channel":"wecom"})").status, 200);
  auto j = call("POST", "/v1/journeys", key_a_,
                R"({"name":"加好友欢迎","definition":{"trigger":{"type":"event","event":"add_friend"},
                    "steps":[{"type":"send","class":"key","content":{"text":"欢迎添加，我是 {staff}"}}]}})");
  ASSERT_EQ(j.status, 201) << j.raw;
  ASSERT_EQ(call("POST", "/v1/journeys/" + std::to_string(j.body["id"].get<int64_t>()) + "/status",
                 key_a_, R"({"status":"active"})").status, 200);

  // URL verification.
  auto crypt = wecom::MsgCrypt::create("token", kAesKey, "wwcorp");
  const std::string echo = crypt->encrypt("echo-123", "abcdefabcdefabcd");
  const std::string ts = std::to_string(now_s());
  auto verified = call("GET", "/v1/wecom/callback/brand-a?msg_signature=" +
                                  wecom::msg_signature("token", ts, "n0", echo) + "&timestamp=" + ts +
                                  "&nonce=n0&echostr=" + url_encoded(echo), "");
  EXPECT_EQ(verified.status, 200);
  EXPECT_EQ(verified.raw, "echo-123");

  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the engine's cursor starts
  const std::string xml =
      "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
      "<CreateTime>" + std::to_string(now_s()) + "</CreateTime><MsgType><![CDATA[event]]></MsgType>"
      "<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>"
      "<UserID><![CDATA[amy]]></UserID><ExternalUserID><![CDATA[wmXYZ]]></ExternalUserID>"
      "<State><![CDATA[门店海报]]></State><WelcomeCode><![CDATA[CODE9]]></WelcomeCode></xml>";
  auto [path, body] = callback(xml, now_s());
  auto first = call("POST", path, "", body, "text/xml");
  ASSERT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.raw, "success");
  // WeCom retries deliver the same callback again: stored once.
  EXPECT_EQ(call("POST", path, "", body, "text/xml").status, 200);
  auto id = store_->find_identity(a_, "wecom_external_userid", "", "wmXYZ");
  ASSERT_TRUE(id && *id);
  EXPECT_EQ(store_->events(a_, (*id)->customer, std::nullopt, 10)->size(), 1u);
  const auto start = std::chrono::steady_clock::now();
  while (fake_.welcomes().empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(15)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(fake_.welcomes().size(), 1u);
  EXPECT_EQ(fake_.welcomes()[0]["welcome_code"], "CODE9");
  EXPECT_EQ(fake_.welcomes()[0]["text"]["content"], "欢迎添加，我是 Amy");
  // The staff member befriended became the customer's owner.
  EXPECT_TRUE(store_->customer(a_, (*id)->customer)->owner_staff.has_value());

  // Tampered, stale and misaddressed callbacks are refused and change nothing.
  const std::string wrong_sig = path.substr(0, path.find("msg_signature=") + 14) + "00" +
                                path.substr(path.find("msg_signature=") + 16);
  EXPECT_EQ(call("POST", wrong_sig, "", body, "text/xml").status, 403);
  auto [stale_path, stale_body] = callback(xml, now_s() - 3600);
  EXPECT_EQ(call("POST", stale_path, "", stale_body, "text/xml").status, 403);
  auto [other_path, other_body] = callback(xml, now_s(), "brand-b");
  EXPECT_EQ(call("POST", other_path, "", other_body, "text/xml").status, 404);
  auto [nobody_path, nobody_body] = callback(xml, now_s(), "nobody");
  EXPECT_EQ(call("POST", nobody_path, "", nobody_body, "text/xml").status, 404);
  EXPECT_EQ(store_->events(a_, (*id)->customer, std::nullopt, 10)->size(), 1u);
}

TEST_F(WecomApiTest, GroupMessagesRelayedInCallbacksGoThroughModeration) {
  auto g = call("POST", "/v1/groups", key_a_, R"({"name":"茶友群"})");
  ASSERT_EQ(g.status, 201);
  const std::string gid = std::to_string(g.body["id"].get<int64_t>());
  ASSERT_EQ(call("PUT", "/v1/settings/wecom", key_a_,
                 Json{{"corp_id", "wwcorp"}, {"secret", "secret"}, {"token", "token"},
                      {"encoding_aes_key", kAesKey}, {"api_base", fake_.base()}, {"allow_private", true},
                      {"chats", {{gid, "wrCHAT"}}}}.dump()).status, 200);
  ASSERT_EQ(call("POST", "/v1/moderation/rules", key_a_, R"({"name":"广告","kind":"ads"})").status, 201);
  auto known = call("POST", "/v1/identify", key_a_,
                    R"({"identities":[{"type":"wecom_external_userid","value":"wmKNOWN"}]})");
  ASSERT_EQ(known.status, 200) << known.raw;
  auto message = [&](const std::string& id, const std::string& chat, const std::string& from,
                     const std::string& text) {
    return "<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[" + from +
           "]]></FromUserName><CreateTime>" + std::to_string(now_s()) +
           "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + text +
           "]]></Content><MsgId>" + id + "</MsgId><ChatId><![CDATA[" + chat + "]]></ChatId></xml>";
  };
  for (const auto& xml : {message("1", "wrCHAT", "wmKNOWN", "加 Ｖ 信领红包"), message("2", "wrCHAT", "zhangsan", "大家好"),
                          message("3", "wrOTHER", "wmKNOWN", "加vx")}) {
    auto [path, body] = callback(xml, now_s());
    auto r = call("POST", path, "", body, "text/xml");
    ASSERT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.raw, "success");
  }
  // The retried first message is stored once.
  auto [path, body] = callback(message("1", "wrCHAT", "wmKNOWN", "加 Ｖ 信领红包"), now_s());
  EXPECT_EQ(call("POST", path, "", body, "text/xml").status, 200);
  auto messages = call("GET", "/v1/groups/" + gid + "/messages", key_a_);
  ASSERT_EQ(messages.body["items"].size(), 2u) << messages.raw;
  auto log = call("GET", "/v1/moderation/log", key_a_);
  ASSERT_EQ(log.body["items"].size(), 1u);
  EXPECT_EQ(log.body["items"][0]["customer_id"], known.body["customer"]["id"]);
  // The sender seen in the group became a member.
  auto members = call("GET", "/v1/groups/" + gid + "/members", key_a_);
  EXPECT_EQ(members.body["items"].size(), 1u);
}

TEST_F(WecomApiTest, CustomerGroupsImportFromWecomOnce) {
  store::User u;
  u.workspace = a_;
  u.email = "amy@a.example";
  u.display_name = "Amy";
  const auto amy = *store_->create_user(u);
  EXPECT_EQ(call("POST", "/v1/wecom/groups:sync", key_a_).status, 422);  // not connected yet
  ASSERT_EQ(call("PUT", "/v1/settings/wecom", key_a_,
                 Json{{"corp_id", "wwcorp"}, {"secret", "secret"}, {"token", "token"},
                      {"encoding_aes_key", kAesKey}, {"api_base", fake_.base()}, {"allow_private", true},
                      {"staff_userids", {{"amy@a.example", "amy"}}}}.dump()).status, 200);
  auto r = call("POST", "/v1/wecom/groups:sync", key_a_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["chats"], 2);
  EXPECT_EQ(r.body["groups_created"], 2);
  EXPECT_EQ(r.body["members_joined"], 3);  // two external members, one of them in both groups
  auto groups = call("GET", "/v1/groups", key_a_);
  ASSERT_EQ(groups.body["items"].size(), 2u);
  EXPECT_EQ(groups.body["items"][0]["name"], "销售客服群");
  EXPECT_EQ(groups.body["items"][0]["owner_staff_id"], amy.id.value);
  EXPECT_EQ(groups.body["items"][0]["members"], 2);
  auto members = call("GET", "/v1/groups/" + std::to_string(groups.body["items"][0]["id"].get<int64_t>()) + "/members", key_a_);
  ASSERT_EQ(members.body["items"].size(), 2u);
  EXPECT_EQ(members.body["items"][0]["source"], "wecom:qr");
  // The chats are mapped in the settings; a second sync adds nothing.
  EXPECT_EQ(call("GET", "/v1/settings/wecom", key_a_).body["chats"].size(), 2u);
  auto again = call("POST", "/v1/wecom/groups:sync", key_a_);
  EXPECT_EQ(again.body["groups_created"], 0);
  EXPECT_EQ(again.body["members_joined"], 0);
  EXPECT_EQ(call("POST", "/v1/wecom/groups:sync", analyst_a_).status, 403);
}

}  // namespace
}  // namespace siyu::api
