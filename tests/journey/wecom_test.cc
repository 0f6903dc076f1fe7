// WeCom: WXBizMsgCrypt, the XML of its callbacks, callbacks as events, and the API client and
// channel against a local fake that speaks the documented protocol.
#include <gtest/gtest.h>

#include "core/text.h"
#include "core/time_format.h"
#include "security/crypto.h"
#include "support/fake_wecom.h"
#include "support/temp_dir.h"
#include "support/test_store.h"
#include "wecom/callback.h"
#include "wecom/channel.h"
#include "wecom/client.h"
#include "wecom/crypt.h"
#include "wecom/xml.h"

namespace siyu::wecom {
namespace {

constexpr const char* kAesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

constexpr const char* kAddContact = R"(<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[sys]]></FromUserName>
<CreateTime>1403610513</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[change_external_contact]]></Event>
<ChangeType><![CDATA[add_external_contact]]></ChangeType>
<UserID><![CDATA[zhangsan]]></UserID>
<ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID>
<State><![CDATA[teststate]]></State>
<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>
</xml >)";

TEST(WecomCryptTest, RoundTripsAndRefusesTamperingAndOtherReceivers) {
  auto crypt = MsgCrypt::create("token", kAesKey, "wwcorp");
  ASSERT_TRUE(crypt) << crypt.error().message();
  const std::string encrypted = crypt->encrypt(kAddContact, "0123456789abcdef");
  ASSERT_FALSE(encrypted.empty());
  const std::string sig = msg_signature("token", "1700000000", "nonce", encrypted);
  auto plain = crypt->decrypt(sig, "1700000000", "nonce", encrypted);
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_EQ(*plain, kAddContact);
  // Any change to the signed parts, or a flipped ciphertext byte, is refused.
  EXPECT_EQ(crypt->decrypt(sig, "1700000001", "nonce", encrypted).error().code(),
            ErrorCode::kPermissionDenied);
  std::string flipped = *base64_decode(encrypted);
  flipped[20] = static_cast<char>(flipped[20] ^ 1);
  const std::string tampered = base64_encode(flipped);
  EXPECT_FALSE(crypt->decrypt(msg_signature("token", "1", "n", tampered), "1", "n", tampered));
  auto other = MsgCrypt::create("token", kAesKey, "another-corp");
  EXPECT_EQ(other->decrypt(sig, "1700000000", "nonce", encrypted).error().code(),
            ErrorCode::kPermissionDenied);
  // The signature is SHA-1 over the sorted parts.
  EXPECT_EQ(msg_signature("b", "a", "d", "c"), msg_signature("d", "c", "b", "a"));
  EXPECT_EQ(msg_signature("", "", "", "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(MsgCrypt::create("t", "short", "c").error().field(), "encoding_aes_key");
}

TEST(WecomXmlTest, ReadsTheDocumentedShapes) {
  EXPECT_EQ(xml_field(kAddContact, "ExternalUserID"), "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA");
  EXPECT_EQ(xml_field(kAddContact, "CreateTime"), "1403610513");
  EXPECT_FALSE(xml_field(kAddContact, "Missing"));
  EXPECT_EQ(xml_field("<xml><A><![CDATA[x</A>y]]></A></xml>", "A"), "x</A>y");
  EXPECT_EQ(xml_field("<xml><A>a &amp; b</A></xml>", "A"), "a & b");
  const char* items = "<xml><MemChangeList><Item>Jack</Item><Item>wmRose</Item></MemChangeList></xml>";
  EXPECT_EQ(xml_items(items, "MemChangeList"), (std::vector<std::string>{"Jack", "wmRose"}));
  const char* joined = "<xml><MemChangeList><![CDATA[wmA,wmB]]></MemChangeList></xml>";
  EXPECT_EQ(xml_items(joined, "MemChangeList"), (std::vector<std::string>{"wmA", "wmB"}));
  EXPECT_EQ(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
}

class WecomCallbackTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(security::init().is_ok()); }
  security::Vault vault_ = security::Vault::from_key({});
  customer::IdentityCodec codec_{vault_, WorkspaceId(1)};
  StaffResolver staff_ = [](const std::string& u) -> std::optional<std::string> {
    return u == "zhangsan" ? std::optional<std::string>("7") : std::nullopt;
  };
};

TEST_F(WecomCallbackTest, AddAndRemoveContactBecomeFriendEvents) {
  WecomSettings s;
  auto events = callback_events(kAddContact, s, codec_, staff_, 0);
  ASSERT_TRUE(events) << events.error().message();
  ASSERT_EQ(events->size(), 1u);
  const store::PendingEvent& e = (*events)[0];
  EXPECT_EQ(e.event.type, "add_friend");
  EXPECT_EQ(e.event.ts, 1403610513000);
  EXPECT_EQ(e.event.staff, "7");
  EXPECT_EQ(e.event.campaign, "teststate");
  EXPECT_EQ(e.identity->type, "wecom_external_userid");
  EXPECT_EQ(e.relation->kind, "friend");
  const Json props = Json::parse(e.event.properties_json);
  EXPECT_EQ(props["welcome_code"], "WELCOMECODE");
  EXPECT_EQ(props["state"], "teststate");
  // The same callback again yields the same event id (stored once).
  EXPECT_EQ((*callback_events(kAddContact, s, codec_, staff_, 0))[0].event.event_id, e.event.event_id);
  std::string removed = kAddContact;
  removed.replace(removed.find("add_external_contact"), 20, "del_follow_user");
  auto gone = callback_events(removed, s, codec_, staff_, 0);
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_EQ((*gone)[0].event.type, "remove_friend");
  EXPECT_FALSE((*gone)[0].relation->active);
}

TEST_F(WecomCallbackTest, GroupMemberChangesCountExternalMembersOnly) {
  WecomSettings s;
  s.chats[12] = "CHAT_ID";
  const std::string xml = R"(<xml><ToUserName><![CDATA[toUser]]></ToUserName><CreateTime>1403610513</CreateTime>
<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_chat]]></Event>
<ChatId><![CDATA[CHAT_ID]]></ChatId><ChangeType><![CDATA[update]]></ChangeType>
<UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>3</JoinScene><QuitScene>0</QuitScene>
<MemChangeCnt>3</MemChangeCnt><MemChangeList><Item>Jack</Item><Item>wmEJiCwAAA9KG2</Item><Item>wmEJiCwBBBB</Item></MemChangeList></xml>)";
  auto events = callback_events(xml, s, codec_, staff_, 0);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].event.type, "join_group");
  EXPECT_EQ(Json::parse((*events)[0].event.properties_json)["group_id"], "12");
  EXPECT_NE((*events)[0].event.event_id, (*events)[1].event.event_id);
  std::string left = xml;
  left.replace(left.find("add_member"), 10, "del_member");
  EXPECT_EQ((*callback_events(left, s, codec_, staff_, 0))[0].event.type, "leave_group");
}

class WecomClientTest : public ::testing::Test {
 protected:
  WecomSettings settings() {
    WecomSettings s;
    s.corp_id = "wwcorp";
    s.secret = "secret";
    s.token = "token";
    s.encoding_aes_key = kAesKey;
    s.api_base = fake_.base();
    s.allow_private = true;
    s.staff_userids["amy@tea.example"] = "amy";
    return s;
  }
  testing::FakeWecom fake_;
  ManualClock clock_{*parse_timestamp("2026-11-27T10:00:00", 480)};
};

TEST_F(WecomClientTest, CachesTheTokenRefreshesItAndCapsCalls) {
  WecomSettings s = settings();
  s.per_minute = 8;
  Client c(s, clock_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.post("externalcontact/remind_groupmsg_send", {{"msgid", "m"}}));
  }
  EXPECT_EQ(fake_.token_calls(), 1);
  fake_.expire_token();
  ASSERT_TRUE(c.post("externalcontact/remind_groupmsg_send", {{"msgid", "m"}}));
  EXPECT_EQ(fake_.token_calls(), 2);
  // Seven calls so far this minute (two gettoken, five posts); the eighth is the last allowed.
  EXPECT_TRUE(c.post("externalcontact/remind_groupmsg_send", {{"msgid", "m"}}));
  EXPECT_EQ(c.post("externalcontact/remind_groupmsg_send", {{"msgid", "m"}}).error().code(),
            ErrorCode::kRateLimited);
  EXPECT_EQ(c.calls(), 8);
  clock_.advance(61'000);
  fake_.throttle_once();
  EXPECT_EQ(c.post("externalcontact/remind_groupmsg_send", {{"msgid", "m"}}).error().code(),
            ErrorCode::kRateLimited);
  EXPECT_TRUE(c.post("externalcontact/remind_groupmsg_send", {{"msgid", "m"}}));
}

TEST_F(WecomClientTest, MediaIsUploadedAgainBeforeItExpires) {
  Client c(settings(), clock_);
  auto first = c.image_media_id(fake_.image_url());
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(*c.image_media_id(fake_.image_url()), *first);
  EXPECT_EQ(fake_.uploads(), 1);
  clock_.advance(3 * kMsPerDay - 2 * 3'600'000);
  EXPECT_EQ(*c.image_media_id(fake_.image_url()), *first);
  clock_.advance(3'600'000);  // within an hour of the three days: upload again
  EXPECT_NE(*c.image_media_id(fake_.image_url()), *first);
  EXPECT_EQ(fake_.uploads(), 2);
}

class WecomChannelTest : public WecomClientTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(security::init().is_ok());
    store_ = testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "tea", "Tea", "Asia/Shanghai", 0})->id;
  }

  CustomerId customer(const std::string& external) {
    store::Customer c;
    c.workspace = ws_;
    c.name = external;
    store::Identity id;
    id.type = "wecom_external_userid";
    id.key = external;
    id.display = external;
    return store_->create_customer(c, {id})->id;
  }

  store::OutboxItem message(CustomerId c, const std::string& key, Json payload) {
    store::OutboxItem o;
    o.id = ++ids_;
    o.workspace = ws_;
    o.idem_key = key;
    o.kind = "message";
    o.customer = c;
    o.staff = "amy@tea.example";
    o.created_at = clock_.now_ms();
    o.payload_json = payload.dump();
    return o;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  WorkspaceId ws_;
  int64_t ids_ = 0;
};

TEST_F(WecomChannelTest, WelcomesWithinTwentySecondsAndOtherwiseCreatesOneTaskPerSender) {
  WecomChannel ch(*store_, ws_, settings(), clock_, 480);
  const CustomerId a = customer("wmA");
  const CustomerId b = customer("wmB");
  const CustomerId bad = customer("wmbadC");
  const Json hello = {{"content", {{"text", "你好"}}}, {"welcome_code", "CODE1"}};
  auto r = ch.deliver({message(a, "k1", hello)});
  EXPECT_EQ(r[0].outcome, outbox::Receipt::Outcome::kDelivered);
  EXPECT_EQ(r[0].detail, "wecom welcome message");
  ASSERT_EQ(fake_.welcomes().size(), 1u);
  EXPECT_EQ(fake_.welcomes()[0]["welcome_code"], "CODE1");
  // The code was used (41051): the next message goes out as a mass task instead; so does one
  // older than 20 seconds. Rows with the same sender and content make one task.
  const Json promo = {{"content", {{"text", "新品"}, {"image", fake_.image_url()}}}, {"welcome_code", "CODE1"}};
  auto late = message(b, "k3", {{"content", {{"text", "新品"}, {"image", fake_.image_url()}}}});
  clock_.advance(1000);
  r = ch.deliver({message(a, "k2", promo), late, message(bad, "k4", promo)});
  ASSERT_EQ(fake_.templates().size(), 1u);
  const Json task = fake_.templates()[0];
  EXPECT_EQ(task["chat_type"], "single");
  EXPECT_EQ(task["sender"], "amy");
  EXPECT_EQ(task["external_userid"].size(), 3u);
  EXPECT_EQ(task["attachments"][0]["msgtype"], "image");
  EXPECT_EQ(r[0].outcome, outbox::Receipt::Outcome::kDelivered);
  EXPECT_EQ(r[1].outcome, outbox::Receipt::Outcome::kDelivered);
  EXPECT_EQ(r[2].outcome, outbox::Receipt::Outcome::kRejected);  // in the fail_list
  // One enterprise mass message a day: a second one today waits for tomorrow 09:00; the
  // refused customer got none, so it may receive one.
  r = ch.deliver({message(a, "k5", {{"content", {{"text", "再来"}}}}),
                  message(bad, "k6", {{"content", {{"text", "再来"}}}})});
  EXPECT_EQ(r[0].outcome, outbox::Receipt::Outcome::kDeferred);
  EXPECT_EQ(r[0].not_before, *parse_timestamp("2026-11-28T09:00:00", 480));
  EXPECT_EQ(r[1].outcome, outbox::Receipt::Outcome::kRejected);
  EXPECT_EQ(fake_.templates().size(), 2u);
  // A staff member unknown to WeCom and a group without a chat id are refused with the reason.
  auto stranger = message(b, "k7", {{"content", {{"text", "x"}}}});
  stranger.staff = "bob@tea.example";
  EXPECT_NE(ch.deliver({stranger})[0].detail.find("no WeCom userid"), std::string::npos);
  store::OutboxItem post = message(CustomerId(), "k8", {{"content", {{"text", "群公告"}}}});
  post.kind = "group_post";
  post.group = GroupId(12);
  EXPECT_NE(ch.deliver({post})[0].detail.find("chat_id"), std::string::npos);
}

TEST_F(WecomChannelTest, GroupTasksAreCheckedAndStaffRemindedOnce) {
  WecomSettings s = settings();
  s.chats[12] = "wrCHAT";
  s.remind_after_minutes = 60;
  WecomChannel ch(*store_, ws_, s, clock_, 480);
  store::OutboxItem post = message(CustomerId(), "g1", {{"content", {{"text", "今晚 8 点分享"}}}});
  post.kind = "group_post";
  post.group = GroupId(12);
  ASSERT_EQ(ch.deliver({post})[0].outcome, outbox::Receipt::Outcome::kDelivered);
  EXPECT_EQ(fake_.templates()[0]["chat_type"], "group");
  EXPECT_EQ(fake_.templates()[0]["chat_id_list"][0], "wrCHAT");
  ASSERT_TRUE(ch.maintain(clock_.now_ms()).is_ok());
  EXPECT_TRUE(fake_.reminders().empty());
  clock_.advance(61 * 60'000);
  ASSERT_TRUE(ch.maintain(clock_.now_ms()).is_ok());
  ASSERT_TRUE(ch.maintain(clock_.now_ms()).is_ok());
  EXPECT_EQ(fake_.reminders(), (std::vector<std::string>{"msg1"}));
  fake_.set_task_status("msg1", 2);
  ASSERT_TRUE(ch.maintain(clock_.now_ms()).is_ok());
  auto tasks = store_->wecom_tasks(ws_, false, 10);
  ASSERT_EQ(tasks->size(), 1u);
  EXPECT_EQ((*tasks)[0].sent_at, 1'700'000'000'000);
  EXPECT_TRUE(store_->wecom_tasks(ws_, true, 10)->empty());
}

}  // namespace
}  // namespace siyu::wecom
