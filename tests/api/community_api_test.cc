// Community operations through the API: groups with validation and workspace isolation, join
// requests against every threshold kind, messages through moderation and auto-replies, the
// moderation log and blacklist, roles, health views, and channel codes with QR images and
// their public landing.
#include "api/api_fixture.h"
#include "core/time_format.h"

namespace siyu::api {
namespace {

class CommunityApiTest : public ApiTest {
 protected:
  int64_t customer(const std::string& name) {
    auto r = call("POST", "/v1/customers", key_a_, Json{{"name", name}}.dump());
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body["id"].get<int64_t>();
  }

  int64_t group(const Json& body) {
    auto r = call("POST", "/v1/groups", key_a_, body.dump());
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body["id"].get<int64_t>();
  }

  Response join(int64_t g, const Json& body) {
    return call("POST", "/v1/groups/" + std::to_string(g) + "/join-requests", key_a_, body.dump());
  }

  static std::string now_iso() { return format_timestamp(SystemClock::instance().now_ms()); }
};

TEST_F(CommunityApiTest, GroupsAreValidatedAndStayInTheirWorkspace) {
  auto bad = call("POST", "/v1/groups", key_a_, R"({"name":"x","kind":"party"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["field"], "kind");
  auto bad_threshold = call("POST", "/v1/groups", key_a_,
                            R"({"name":"x","threshold":{"type":"identity","segment":{"tag":""}}})");
  EXPECT_EQ(bad_threshold.status, 400);
  EXPECT_EQ(bad_threshold.body["error"]["field"].get<std::string>().rfind("threshold.segment", 0), 0u)
      << bad_threshold.raw;
  EXPECT_EQ(call("POST", "/v1/groups", key_a_, R"({"name":"x","owner_staff_id":999})").body["error"]["field"],
            "owner_staff_id");
  EXPECT_EQ(call("POST", "/v1/groups", analyst_a_, R"({"name":"x"})").status, 403);
  const int64_t g = group({{"name", "新品体验群"}, {"kind", "conversion"}, {"slogan", "先人一步"}, {"capacity", 3}});
  auto got = call("GET", "/v1/groups/" + std::to_string(g), key_a_);
  EXPECT_EQ(got.body["slogan"], "先人一步");
  EXPECT_EQ(got.body["threshold"]["type"], "none");
  EXPECT_EQ(call("GET", "/v1/groups/" + std::to_string(g), key_b_).status, 404);
  EXPECT_EQ(call("GET", "/v1/groups", key_b_).body["items"].size(), 0u);
  auto patched = call("PATCH", "/v1/groups/" + std::to_string(g), key_a_, R"({"welcome":"欢迎！","capacity":2})");
  EXPECT_EQ(patched.body["welcome"], "欢迎！");
  EXPECT_EQ(patched.body["capacity"], 2);
  EXPECT_EQ(call("PATCH", "/v1/groups/" + std::to_string(g), key_b_, R"({"welcome":"x"})").status, 404);
}

TEST_F(CommunityApiTest, GroupsImportFromCsvRowByRow) {
  const std::string csv =
      "name,kind,capacity,slogan,welcome\n"
      "宝妈交流1群,traffic,300,一起带娃,欢迎新朋友\n"
      "车主俱乐部,organisational,,,\n"
      ",traffic,200,,\n"
      "超大群,traffic,5000,,\n";
  auto r = call("POST", "/v1/import/groups", key_a_, csv, "text/csv");
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["created"], 2);
  EXPECT_EQ(r.body["rejected"], 2);
  EXPECT_EQ(r.body["errors"][0]["index"], 2);
  EXPECT_EQ(r.body["errors"][1]["field"], "capacity");
  auto list = call("GET", "/v1/groups", key_a_);
  ASSERT_EQ(list.body["items"].size(), 2u);
  EXPECT_EQ(list.body["items"][0]["capacity"], 300);
  EXPECT_EQ(list.body["items"][1]["capacity"], 200);
  EXPECT_EQ(call("POST", "/v1/import/groups", analyst_a_, csv, "text/csv").status, 403);
}

TEST_F(CommunityApiTest, JoinRequestsCheckThresholdsAndSayWhy) {
  const int64_t paid = group({{"name", "付费学习群"}, {"kind", "organisational"},
                              {"threshold", {{"type", "price"}, {"price", 990}}}});
  const int64_t owners = group({{"name", "车主群"},
                                {"threshold", {{"type", "identity"}, {"segment", {{"tag", "车主"}}},
                                               {"description", "仅限车主"}}}});
  const int64_t form = group({{"name", "体验官群"},
                              {"threshold", {{"type", "action"}, {"event", "x_form_submitted"}, {"within_days", 7}}}});
  const int64_t small = group({{"name", "小群"}, {"capacity", 2}});
  const int64_t amy = customer("Amy"), bob = customer("Bob"), cat = customer("Cat");

  auto refused = join(paid, {{"customer_id", amy}});
  EXPECT_EQ(refused.body["admitted"], false);
  EXPECT_EQ(refused.body["code"], "payment_required");
  EXPECT_NE(refused.body["reason"].get<std::string>().find("9.90"), std::string::npos);
  auto admitted = join(paid, {{"customer_id", amy}, {"payment", {{"order_id", "entry-1"}, {"amount", 990}}}});
  EXPECT_EQ(admitted.status, 201) << admitted.raw;
  EXPECT_EQ(admitted.body["admitted"], true);
  auto order = call("GET", "/v1/orders/entry-1", key_a_);
  EXPECT_EQ(order.status, 200) << order.raw;
  EXPECT_EQ(order.body["amount"], 990);

  EXPECT_EQ(join(owners, {{"customer_id", bob}}).body["code"], "identity_required");
  ASSERT_EQ(call("POST", "/v1/customers/" + std::to_string(bob) + "/tags", key_a_, R"({"tag":"车主"})").status, 201);
  EXPECT_EQ(join(owners, {{"customer_id", bob}}).body["admitted"], true);

  EXPECT_EQ(join(form, {{"customer_id", cat}}).body["code"], "action_required");
  const Json event = {{"event_id", "f1"}, {"type", "x_form_submitted"}, {"timestamp", now_iso()},
                      {"customer", {{"id", cat}}}};
  ASSERT_EQ(call("POST", "/v1/events", key_a_, Json::array({event}).dump()).status, 200);
  EXPECT_EQ(join(form, {{"customer_id", cat}}).body["admitted"], true);

  EXPECT_EQ(join(small, {{"customer_id", amy}}).body["admitted"], true);
  EXPECT_EQ(join(small, {{"customer_id", bob}}).body["admitted"], true);
  EXPECT_EQ(join(small, {{"customer_id", cat}}).body["code"], "full");
  EXPECT_EQ(join(small, {{"customer_id", amy}}).body["code"], "already_member");

  ASSERT_EQ(call("PUT", "/v1/moderation/blacklist/" + std::to_string(cat), key_a_, R"({"reason":"广告"})").status, 204);
  EXPECT_EQ(join(paid, {{"customer_id", cat}, {"payment", {{"order_id", "entry-2"}, {"amount", 990}}}}).body["code"],
            "blacklisted");
  // Blacklisting took Cat out of the group she was in.
  auto members = call("GET", "/v1/groups/" + std::to_string(form) + "/members", key_a_);
  EXPECT_EQ(members.body["items"].size(), 0u);
  auto past = call("GET", "/v1/groups/" + std::to_string(form) + "/members?past=1", key_a_);
  ASSERT_EQ(past.body["items"].size(), 1u);
  EXPECT_EQ(past.body["items"][0]["leave_kind"], "removed");
  EXPECT_EQ(join(paid, {{"customer_id", 999999}}).status, 404);
  EXPECT_EQ(join(paid, {{"customer_id", amy}, {"payment", {{"order_id", "x"}}}}).body["error"]["field"],
            "payment.amount");
}

TEST_F(CommunityApiTest, MessagesGoThroughModerationAndAutoReplies) {
  const int64_t g = group({{"name", "护肤交流群"}});
  const int64_t amy = customer("Amy"), spam = customer("Spam");
  for (int64_t c : {amy, spam}) {
    ASSERT_EQ(call("POST", "/v1/groups/" + std::to_string(g) + "/members", key_a_, Json{{"customer_id", c}}.dump()).status, 201);
  }
  EXPECT_EQ(call("POST", "/v1/moderation/rules", key_a_, R"({"name":"竞品","kind":"competitors"})").body["error"]["field"],
            "words");
  ASSERT_EQ(call("POST", "/v1/moderation/rules", key_a_, R"({"name":"广告","kind":"ads","action":"warn"})").status, 201);
  ASSERT_EQ(call("POST", "/v1/moderation/rules", key_a_,
                 R"({"name":"竞品","kind":"competitors","words":["完美日记"],"action":"remove"})").status, 201);
  auto reply = call("POST", "/v1/auto-replies", key_a_,
                    R"({"name":"地址","match":"contains","keywords":["门店地址"],"reply":"南京西路 1 号","cooldown_seconds":600})");
  ASSERT_EQ(reply.status, 201) << reply.raw;
  const std::string at = now_iso();
  const Json batch = Json::array({
      {{"msg_id", "m1"}, {"group_id", g}, {"customer_id", amy}, {"text", "请问门店地址在哪？"}, {"at", at}},
      {{"msg_id", "m2"}, {"group_id", g}, {"customer_id", amy}, {"text", "門店地址呢"}, {"at", at}},
      {{"msg_id", "m3"}, {"group_id", g}, {"customer_id", spam}, {"text", "加 Ｖ 信 领福利"}, {"at", at}},
      {{"msg_id", "m4"}, {"group_id", 999}, {"customer_id", amy}, {"text", "x"}, {"at", at}},
      {{"msg_id", "m5"}, {"group_id", g}, {"text", "no sender"}, {"at", at}},
      {{"msg_id", "m6"}, {"group_id", g}, {"customer_id", spam}, {"text", "用完美日記吧"}, {"at", at}},
      {{"msg_id", "m7"}, {"group_id", g}, {"staff", "amy@a.example"}, {"type", "image"}, {"qr", true}, {"at", at}},
  });
  auto r = call("POST", "/v1/group-messages", key_a_, batch.dump());
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["accepted"], 5);
  EXPECT_EQ(r.body["rejected"], 2);
  EXPECT_EQ(r.body["violations"], 2);
  EXPECT_EQ(r.body["auto_replies"], 1);  // the second question is within the cooldown
  EXPECT_EQ(r.body["errors"][0]["field"], "messages[3].group_id");
  EXPECT_EQ(r.body["errors"][1]["index"], 4);
  auto again = call("POST", "/v1/group-messages", key_a_, Json::array({batch[0]}).dump());
  EXPECT_EQ(again.body["duplicates"], 1);
  auto log = call("GET", "/v1/moderation/log", key_a_);
  ASSERT_EQ(log.body["items"].size(), 2u);
  EXPECT_EQ(log.body["items"][1]["rule"], "广告");
  EXPECT_EQ(log.body["items"][1]["action"], "warn");
  EXPECT_EQ(log.body["items"][1]["msg_id"], "m3");
  EXPECT_EQ(log.body["items"][0]["action"], "blacklist");  // a second offence escalates a step
  EXPECT_EQ(log.body["items"][0]["matched"], "完美日记");
  EXPECT_EQ(call("GET", "/v1/moderation/log", key_b_).body["items"].size(), 0u);
  // The spammer is out (blacklisted); the warning and the answer wait in the outbox as group posts.
  auto members = call("GET", "/v1/groups/" + std::to_string(g) + "/members", key_a_);
  ASSERT_EQ(members.body["items"].size(), 1u);
  EXPECT_EQ(members.body["items"][0]["customer_id"], amy);
  EXPECT_EQ(members.body["items"][0]["messages"], 2);
  auto messages = call("GET", "/v1/groups/" + std::to_string(g) + "/messages", key_a_);
  EXPECT_EQ(messages.body["items"].size(), 5u);
  auto deliveries = call("GET", "/v1/outbox", key_a_);
  int posts = 0;
  for (const auto& d : deliveries.body["items"]) posts += d["kind"] == "group_post" ? 1 : 0;
  EXPECT_EQ(posts, 3) << deliveries.raw;  // two notices of the rules and one answer
  // Health: a day of activity, the heatmap and hot topics.
  auto health = call("GET", "/v1/groups/" + std::to_string(g) + "/health?days=7", key_a_);
  ASSERT_EQ(health.status, 200) << health.raw;
  EXPECT_EQ(health.body["health"]["messages"], 5);
  EXPECT_EQ(health.body["heatmap"].size(), 7u);
  EXPECT_EQ(health.body["heatmap"][0].size(), 24u);
  bool address = false;
  for (const auto& t : health.body["topics"]) address |= t["term"] == "门店地址" || t["term"] == "地址";
  EXPECT_TRUE(address) << health.body["topics"].dump(-1, 32, true);
  auto list = call("GET", "/v1/groups", key_a_);
  EXPECT_EQ(list.body["items"][0]["health"]["messages"], 5);
  EXPECT_EQ(list.body["items"][0]["health"]["removals"], 1);
  auto overview = call("GET", "/v1/community/overview", key_a_);
  EXPECT_EQ(overview.body["total"]["messages"], 5);
  EXPECT_FALSE(overview.body["topics"].empty());
}

TEST_F(CommunityApiTest, RolesAreSetByHandAndSuggestedWithReasons) {
  const int64_t g = group({{"name", "读书群"}});
  const int64_t amy = customer("Amy");
  ASSERT_EQ(call("POST", "/v1/groups/" + std::to_string(g) + "/members", key_a_, Json{{"customer_id", amy}}.dump()).status, 201);
  const std::string path = "/v1/groups/" + std::to_string(g) + "/members/" + std::to_string(amy) + "/role";
  EXPECT_EQ(call("PUT", path, key_a_, R"({"role":"king"})").body["error"]["field"], "role");
  EXPECT_EQ(call("PUT", path, analyst_a_, R"({"role":"admin"})").status, 403);
  ASSERT_EQ(call("PUT", path, key_a_, R"({"role":"admin"})").status, 200);
  auto members = call("GET", "/v1/groups/" + std::to_string(g) + "/members", key_a_);
  EXPECT_EQ(members.body["items"][0]["role_name"], "大管家");
  EXPECT_EQ(call("PUT", "/v1/groups/" + std::to_string(g) + "/members/999/role", key_a_, R"({"role":"core"})").status, 404);
  auto suggestions = call("GET", "/v1/groups/" + std::to_string(g) + "/role-suggestions", key_a_);
  EXPECT_EQ(suggestions.status, 200);
  EXPECT_EQ(suggestions.body["items"].size(), 0u);  // admins keep their role
}

TEST_F(CommunityApiTest, ChannelCodesRouteToGroupsWithRoomAndPrintAsQr) {
  auto bad = call("POST", "/v1/group-codes", key_a_, R"({"name":"福利","group_name":"福利群"})");
  EXPECT_EQ(bad.body["error"]["field"], "group_name");
  auto made = call("POST", "/v1/group-codes", key_a_, R"({"name":"福利","group_name":"福利{n}群","capacity":2})");
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string id = std::to_string(made.body["id"].get<int64_t>());
  const std::string token = made.body["token"];
  auto landing = call("GET", "/v1/public/group-codes/" + token, "");
  ASSERT_EQ(landing.status, 200) << landing.raw;
  EXPECT_EQ(landing.body["opens_new_group"], true);
  std::vector<std::string> landed;
  for (int i = 0; i < 5; ++i) {
    auto r = call("POST", "/v1/group-codes/" + id + "/joins", key_a_, Json{{"customer_id", customer("c")}}.dump());
    ASSERT_EQ(r.status, 201) << r.raw;
    landed.push_back(r.body["group"]["name"]);
  }
  EXPECT_EQ(landed, (std::vector<std::string>{"福利1群", "福利1群", "福利2群", "福利2群", "福利3群"}));
  auto listed = call("GET", "/v1/group-codes", key_a_);
  EXPECT_EQ(listed.body["items"][0]["groups"].size(), 3u);
  EXPECT_EQ(listed.body["items"][0]["members"], 5);
  EXPECT_EQ(call("GET", "/v1/public/group-codes/" + token, "").body["group"]["name"], "福利3群");
  EXPECT_EQ(call("GET", "/v1/group-codes", key_a_).body["items"][0]["scans"], 2);
  EXPECT_EQ(call("GET", "/v1/public/group-codes/nope", "").status, 404);
  auto c = client();
  auto png = c.Get("/v1/group-codes/" + id + "/qr.png", bearer(key_a_));
  ASSERT_TRUE(png);
  EXPECT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(png->body.substr(1, 3), "PNG");
  EXPECT_EQ(call("GET", "/v1/group-codes/" + id + "/qr.png", key_b_).status, 404);
}

}  // namespace
}  // namespace siyu::api
