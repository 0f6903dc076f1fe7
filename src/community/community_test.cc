// Community operations: text folding, word matching (checked against a plain search on random
// words), moderation on mixed-script and obfuscated input with escalation, auto-replies and
// their cooldowns, thresholds, role suggestions, topics, QR images; then, on a real store:
// welcome batching, channel-code rotation under concurrent joins, blacklisting, message
// aggregates and health figures checked against a plain evaluation of random activity.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "community/auto_reply.h"
#include "community/health.h"
#include "community/matcher.h"
#include "community/moderation.h"
#include "community/qr_png.h"
#include "community/roles.h"
#include "community/service.h"
#include "community/text_fold.h"
#include "community/threshold.h"
#include "community/topics.h"
#include "core/text.h"
#include "core/time_format.h"
#include "store/store.h"
#include "support/store_file.h"
#include "support/temp_dir.h"
#include "support/test_store.h"

namespace siyu::community {
namespace {

constexpr EpochMs kDay = 86'400'000;
const EpochMs kT0 = *parse_timestamp("2026-11-02T10:00:00+08:00");  // a Monday

std::shared_ptr<const TextFolder> folder() { return TextFolder::shared(); }

store::ModerationRule rule(int64_t id, std::string kind, std::vector<std::string> words = {},
                           std::string action = "warn") {
  store::ModerationRule r;
  r.id = id;
  r.name = kind + "-" + std::to_string(id);
  r.kind = std::move(kind);
  r.words = std::move(words);
  r.action = std::move(action);
  return r;
}

MessageView text(std::string t, int64_t customer = 1, EpochMs at = kT0) {
  return MessageView{GroupId(1), CustomerId(customer), "text", std::move(t), false, at};
}

TEST(TextFoldTest, FoldsScriptWidthCaseAndSeparators) {
  EXPECT_EQ(encode_utf8(folder()->fold("廣告 發財")), "广告发财");
  EXPECT_EQ(encode_utf8(folder()->fold("加 ＶＸ：abc")), "加vxabc");
  EXPECT_EQ(encode_utf8(folder()->fold("微-信*号")), "微信号");
  EXPECT_EQ(encode_utf8(folder()->fold("Hello, 世界!")), "hello世界");
}

TEST(WordMatcherTest, FindsWhatAPlainSearchFinds) {
  std::mt19937 rng(7);
  const std::u32string alphabet = U"abc广告微";
  auto random_text = [&](size_t max) {
    std::u32string s(rng() % max + 1, U'a');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<std::u32string> words;
    for (int i = 0; i < 1 + static_cast<int>(rng() % 6); ++i) words.push_back(random_text(4));
    std::vector<int> tags(words.size());
    for (size_t i = 0; i < tags.size(); ++i) tags[i] = static_cast<int>(i);
    const WordMatcher m(words, tags);
    for (int t = 0; t < 20; ++t) {
      const std::u32string text = random_text(12);
      // Reference: the word that ends first in the text (ties: the shortest ending there).
      std::optional<size_t> first_end;
      for (const auto& w : words) {
        const size_t at = text.find(w);
        if (at != std::u32string::npos && (!first_end || at + w.size() < *first_end)) first_end = at + w.size();
      }
      const auto hit = m.find(text);
      ASSERT_EQ(hit.has_value(), first_end.has_value()) << encode_utf8(text);
      if (hit) {
        const auto& w = words[hit->word];
        const size_t found = text.find(w);
        ASSERT_NE(found, std::u32string::npos);
        EXPECT_EQ(text.substr(*first_end - w.size(), w.size()), w);
      }
    }
  }
}

TEST(ModerationTest, CatchesMixedScriptAndObfuscatedWords) {
  Moderator m({rule(1, "ads"), rule(2, "competitors", {"喜茶", "Heytea"}),
               rule(3, "words", {"傻瓜"})},
              folder());
  EXPECT_FALSE(m.check(text("今天的奶茶真好喝")));
  auto ad = m.check(text("需要的 加 Ｖ Ｘ 私聊", 11));
  ASSERT_TRUE(ad);
  EXPECT_EQ(ad->rule_id, 1);
  auto spaced = m.check(text("兼.职.日.结，快来", 12));
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->rule_id, 1);
  auto traditional = m.check(text("去喜茶吧", 13));
  ASSERT_TRUE(traditional);
  EXPECT_EQ(traditional->matched, "喜茶");
  auto latin = m.check(text("HEY-TEA is better", 14));
  ASSERT_TRUE(latin);
  EXPECT_EQ(latin->rule_id, 2);
  auto words = m.check(text("你這個傻　瓜", 15));
  ASSERT_TRUE(words);
  EXPECT_EQ(words->rule_id, 3);
  // Staff and unknown senders are not moderated.
  EXPECT_FALSE(m.check(text("加vx", 0)));
}

TEST(ModerationTest, LinksQrImagesAndFlooding) {
  store::ModerationRule flood = rule(3, "flood");
  flood.flood_messages = 3;
  flood.flood_seconds = 10;
  Moderator m({rule(1, "links"), rule(2, "qr_image"), flood}, folder());
  EXPECT_TRUE(m.check(text("看这里 https://x.example/a", 21)));
  EXPECT_TRUE(m.check(text("w w w . shop . com", 22)));
  EXPECT_TRUE(m.check(text("ｆｏｏ．ＣＮ 有惊喜", 23)));
  EXPECT_FALSE(m.check(text("3.5 折，版本 1.2.3", 24)));
  MessageView image{GroupId(1), CustomerId(25), "image", "", true, kT0};
  EXPECT_EQ(m.check(image)->rule_id, 2);
  image.qr = false;
  EXPECT_FALSE(m.check(image));
  MessageView link{GroupId(1), CustomerId(26), "link", "一篇文章", false, kT0};
  EXPECT_EQ(m.check(link)->rule_id, 1);
  EXPECT_FALSE(m.check(text("一", 27, kT0)));
  EXPECT_FALSE(m.check(text("二", 27, kT0 + 2000)));
  auto third = m.check(text("三", 27, kT0 + 4000));
  ASSERT_TRUE(third);
  EXPECT_EQ(third->rule_id, 3);
  // Slow talk is not flooding.
  EXPECT_FALSE(m.check(text("a", 28, kT0)));
  EXPECT_FALSE(m.check(text("b", 28, kT0 + 6000)));
  EXPECT_FALSE(m.check(text("c", 28, kT0 + 12000)));
  // An hour later (senders quiet since are forgotten), the same burst floods again.
  const EpochMs later = kT0 + 3'600'000;
  EXPECT_FALSE(m.check(text("一", 27, later)));
  EXPECT_FALSE(m.check(text("二", 27, later + 1000)));
  EXPECT_EQ(m.check(text("三", 27, later + 2000))->rule_id, 3);
}

TEST(ModerationTest, RepeatsEscalateWarnRemoveBlacklist) {
  Moderator m({rule(1, "words", {"滚"}), rule(2, "links", {}, "remove")}, folder());
  m.set_violations({{CustomerId(9), 0}});
  EXPECT_EQ(m.check(text("滚", 5))->action, "warn");
  EXPECT_EQ(m.check(text("滚", 5))->action, "remove");
  EXPECT_EQ(m.check(text("滚", 5))->action, "blacklist");
  EXPECT_EQ(m.check(text("滚", 5))->action, "blacklist");
  // A rule may start higher; violations loaded from the log count.
  EXPECT_EQ(m.check(text("www.a.com", 6))->action, "remove");
  m.set_violations({{CustomerId(7), 1}});
  EXPECT_EQ(m.check(text("滚", 7))->action, "remove");
  EXPECT_FALSE(m.check(text("滚", 5))->warning.empty());
}

TEST(ModerationTest, RuleBodiesAreValidated) {
  EXPECT_TRUE(parse_rule(Json{{"name", "ads"}, {"kind", "ads"}}));
  EXPECT_EQ(parse_rule(Json{{"name", "x"}, {"kind", "spam"}}).status().field(), "kind");
  EXPECT_EQ(parse_rule(Json{{"name", "x"}, {"kind", "words"}}).status().field(), "words");
  EXPECT_EQ(parse_rule(Json{{"name", "x"}, {"kind", "flood"}, {"flood_messages", 5}}).status().field(),
            "flood_seconds");
  EXPECT_EQ(parse_rule(Json{{"name", "x"}, {"kind", "ads"}, {"colour", 1}}).status().field(), "colour");
}

TEST(AutoReplyTest, MatchesExactContainsAndRegexWithCooldowns) {
  store::AutoReply exact;
  exact.id = 1;
  exact.match = "exact";
  exact.keywords = {"地址"};
  exact.reply = "门店地址：xx路1号";
  exact.cooldown_seconds = 60;
  store::AutoReply contains;
  contains.id = 2;
  contains.keywords = {"营业时间"};
  contains.reply = "每天 10:00–22:00";
  contains.group = GroupId(2);
  contains.cooldown_seconds = 60;
  store::AutoReply regex;
  regex.id = 3;
  regex.match = "regex";
  regex.keywords = {"^(优惠|折扣)券?"};
  regex.reply = "本周优惠见群公告";
  regex.cooldown_seconds = 0;
  AutoResponder r({exact, contains, regex}, folder());
  EXPECT_EQ(r.answer(GroupId(1), "地址？", kT0)->reply_id, 1);
  EXPECT_FALSE(r.answer(GroupId(1), "地址在哪", kT0 + 1000));  // not exact
  // Cooldown per group: the same question again within 60 s is not answered there...
  EXPECT_FALSE(r.answer(GroupId(1), "地址", kT0 + 30'000));
  // ...but another group gets its answer, and the first group again after the cooldown.
  EXPECT_EQ(r.answer(GroupId(3), "地址", kT0 + 30'000)->reply_id, 1);
  EXPECT_EQ(r.answer(GroupId(1), "地 址", kT0 + 61'000)->reply_id, 1);
  // Group-scoped rule.
  EXPECT_FALSE(r.answer(GroupId(1), "请问營業時間是？", kT0));
  EXPECT_EQ(r.answer(GroupId(2), "请问營業時間是？", kT0)->reply_id, 2);
  EXPECT_EQ(r.answer(GroupId(1), "折扣券还有吗", kT0)->reply_id, 3);
  EXPECT_EQ(r.answer(GroupId(1), "折扣", kT0 + 1)->reply_id, 3);  // no cooldown
  EXPECT_FALSE(r.answer(GroupId(1), "有优惠吗", kT0));
  // Cooldowns survive a restart through the recorded fires.
  AutoResponder again({exact}, folder());
  again.set_fired({{{1, GroupId(1)}, kT0}});
  EXPECT_FALSE(again.answer(GroupId(1), "地址", kT0 + 10'000));
  EXPECT_EQ(parse_auto_reply(Json{{"name", "x"}, {"match", "regex"}, {"keywords", {"(("}}, {"reply", "r"}})
                .status()
                .field(),
            "keywords[0]");
}

TEST(ThresholdTest, DecidesWithReasons) {
  auto price = parse_threshold(Json{{"type", "price"}, {"price", 990}}, "threshold");
  ASSERT_TRUE(price);
  JoinFacts facts;
  auto refused = decide_join(*price, facts);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.code, "payment_required");
  EXPECT_NE(refused.reason.find("9.90"), std::string::npos);
  facts.paid = 990;
  EXPECT_TRUE(decide_join(*price, facts).admitted);
  facts.full = true;
  EXPECT_EQ(decide_join(*price, facts).code, "full");
  facts.blacklisted = true;
  EXPECT_EQ(decide_join(*price, facts).code, "blacklisted");

  auto identity = parse_threshold(
      Json{{"type", "identity"}, {"segment", {{"tag", "车主"}}}, {"description", "仅限车主"}}, "threshold");
  ASSERT_TRUE(identity);
  auto no = decide_join(*identity, JoinFacts{});
  EXPECT_EQ(no.code, "identity_required");
  EXPECT_NE(no.reason.find("仅限车主"), std::string::npos);
  JoinFacts owner;
  owner.identity_ok = true;
  EXPECT_TRUE(decide_join(*identity, owner).admitted);

  auto action = parse_threshold(Json{{"type", "action"}, {"event", "form_submitted"}}, "threshold");
  ASSERT_TRUE(action);
  EXPECT_EQ(decide_join(*action, JoinFacts{}).code, "action_required");
  EXPECT_EQ(parse_threshold(Json{{"type", "price"}}, "threshold").status().field(), "threshold.price");
  EXPECT_EQ(parse_threshold(Json{{"type", "identity"}}, "threshold").status().field(), "threshold.segment");
  EXPECT_TRUE(decide_join(*parse_threshold(Json{{"type", "none"}}, "t"), JoinFacts{}).admitted);
}

store::GroupMember member(int64_t id, int64_t messages, int64_t replies, int64_t days, int64_t violations,
                          int64_t joined_day, int64_t last_day) {
  store::GroupMember m;
  m.customer = CustomerId(id);
  m.messages = messages;
  m.replies_drawn = replies;
  m.active_days = days;
  m.violations = violations;
  m.joined_at = joined_day * kDay;
  m.last_active_day = last_day;
  return m;
}

TEST(RolesTest, SuggestsRolesFromBehaviourWithReasons) {
  const int64_t today = 20'000;
  std::vector<store::GroupMember> ms = {
      member(1, 3, 0, 2, 2, today - 40, today - 1),     // violator
      member(2, 6, 20, 5, 0, today - 40, today - 2),    // expert: few messages, many replies
      member(3, 90, 95, 20, 0, today - 40, today),      // favourite
      member(4, 120, 30, 25, 0, today - 40, today),     // core
      member(5, 0, 0, 0, 0, today - 20, -1),            // lurker
      member(6, 4, 1, 3, 0, today - 40, today - 3),     // supporter
      member(7, 0, 0, 0, 0, today - 3, -1),             // too new to call a lurker
  };
  for (int i = 8; i < 20; ++i) ms.push_back(member(i, 2, 0, 1, 0, today - 40, today - 5));
  ms[5].role = "supporter";  // already has the suggested role
  auto s = suggest_roles(ms, today);
  std::map<int64_t, std::string> got;
  for (const auto& r : s) {
    got[r.customer.value] = r.role;
    EXPECT_FALSE(r.reason.empty());
  }
  EXPECT_EQ(got[1], "violator");
  EXPECT_EQ(got[2], "expert");
  EXPECT_EQ(got[3], "favourite");
  EXPECT_EQ(got[4], "core");
  EXPECT_EQ(got[5], "lurker");
  EXPECT_FALSE(got.contains(6));
  EXPECT_FALSE(got.contains(7));
  EXPECT_EQ(role_name("expert"), "隐藏大佬");
}

TEST(TopicsTest, ExtractsPhrasesWithoutStopWords) {
  auto terms = extract_terms(*folder(), "周六的护肤分享会，大家记得来！Skincare 123");
  auto has = [&](const std::string& t) { return std::find(terms.begin(), terms.end(), t) != terms.end(); };
  EXPECT_TRUE(has("护肤"));
  EXPECT_TRUE(has("分享会"));
  EXPECT_TRUE(has("skincare"));
  EXPECT_FALSE(has("的护"));
  EXPECT_FALSE(has("大家"));
  EXPECT_FALSE(has("123"));
  // A phrase's parts give way to it when they rarely occur without it.
  auto top = top_terms({{"护肤", 10}, {"护肤品", 9}, {"肤品", 9}, {"分享", 4}}, 3);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].first, "护肤品");
  EXPECT_EQ(top[1].first, "分享");
  auto both = top_terms({{"护肤", 10}, {"护肤品", 5}}, 3);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].first, "护肤");
  // A longer fixed phrase is assembled from its overlapping four-character pieces; a piece that
  // also stands on its own (杨枝甘露, far more often) stays.
  std::map<std::string, int64_t> counts;
  for (int i = 0; i < 40; ++i) {
    for (const auto& t : extract_terms(*folder(), "杨枝甘露真好喝")) ++counts[t];
  }
  for (int i = 0; i < 60; ++i) {
    for (const auto& t : extract_terms(*folder(), "杨枝甘露")) ++counts[t];
  }
  auto assembled = top_terms({counts.begin(), counts.end()}, 5);
  ASSERT_GE(assembled.size(), 2u);
  EXPECT_EQ(assembled[0].first, "杨枝甘露");
  EXPECT_EQ(assembled[0].second, 100);
  EXPECT_EQ(assembled[1].first, "杨枝甘露真好喝");
  EXPECT_EQ(assembled[1].second, 40);
  for (const auto& [t, n] : assembled) EXPECT_NE(t, "甘露真好") << "a fragment is listed";
}

TEST(QrPngTest, WritesAScannableLayout) {
  auto png = qr_png("http://127.0.0.1:8080/v1/public/group-codes/abc", 4);
  ASSERT_TRUE(png);
  ASSERT_GT(png->size(), 100u);
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // IHDR: width and height (a multiple of the scale, square).
  auto be32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>((*png)[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>((*png)[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>((*png)[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>((*png)[at + 3]));
  };
  EXPECT_EQ(be32(16), be32(20));
  EXPECT_EQ(be32(16) % 4, 0u);
  EXPECT_FALSE(qr_png(std::string(8000, 'x'), 4));
}

TEST(HealthTest, HeatmapCountsByWeekdayAndHour) {
  const int64_t monday = local_day(kT0, 480);
  std::vector<store::GroupHour> rows = {{GroupId(1), monday, 10, 5}, {GroupId(1), monday + 6, 21, 2},
                                        {GroupId(2), monday + 7, 10, 1}};
  auto h = heatmap(rows);
  EXPECT_EQ(h[0][10], 6);
  EXPECT_EQ(h[6][21], 2);
}

// ------------------------------------------------------------------ on a real store

class CommunityStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::open_test_store(dir_);
    ws_ = store_->create_workspace({WorkspaceId(), "brand", "Brand", "Asia/Shanghai", 0})->id;
  }

  CustomerId customer(const std::string& name) {
    store::Customer c;
    c.workspace = ws_;
    c.name = name;
    c.created_at = kT0 - 100 * kDay;
    return store_->create_customer(c, {})->id;
  }

  store::Group group(const std::string& name, int capacity = 200, std::string welcome = "") {
    store::Group g;
    g.name = name;
    g.kind = "traffic";
    g.capacity = capacity;
    g.welcome = std::move(welcome);
    g.created_at = kT0 - 60 * kDay;
    return *store_->create_group(ws_, g);
  }

  std::vector<store::OutboxItem> outbox() {
    return *store_->outbox_items(ws_, store::OutboxFilter{});
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  WorkspaceId ws_;
};

TEST_F(CommunityStoreTest, OneWelcomeGreetsEveryoneWhoJoinedInTheMinute) {
  ManualClock clock(kT0);
  CommunityService service(*store_, clock);
  const auto g = group("新品体验群", 200, "群规：不发广告，每周六 20:00 分享。");
  const auto quiet = group("无欢迎语群");
  const auto amy = customer("Amy"), bob = customer("Bob"), cat = customer("Cat"), dan = customer("Dan");
  ASSERT_TRUE(store_->join_group(ws_, g.id, amy, "qr", false, kT0));
  ASSERT_TRUE(store_->join_group(ws_, g.id, bob, "qr", false, kT0 + 10'000));
  ASSERT_TRUE(store_->join_group(ws_, quiet.id, dan, "qr", false, kT0));
  // Not yet: joins are gathered for 30 s.
  EXPECT_EQ(*service.greet(kT0 + 20'000), 0);
  ASSERT_TRUE(store_->join_group(ws_, g.id, cat, "qr", false, kT0 + 25'000));
  EXPECT_EQ(*service.greet(kT0 + 31'000), 1);
  auto posts = outbox();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].kind, "group_post");
  EXPECT_EQ(posts[0].group, g.id);
  const Json payload = Json::parse(posts[0].payload_json);
  const std::string greeting = payload["content"]["text"];
  EXPECT_NE(greeting.find("@Amy"), std::string::npos);
  EXPECT_NE(greeting.find("@Bob"), std::string::npos);
  EXPECT_NE(greeting.find("@Cat"), std::string::npos);
  EXPECT_NE(greeting.find("每周六"), std::string::npos);
  EXPECT_EQ(payload["welcomed"], 3);
  // Nothing twice; a later joiner gets the next greeting.
  EXPECT_EQ(*service.greet(kT0 + 40'000), 0);
  const auto eve = customer("Eve");
  ASSERT_TRUE(store_->join_group(ws_, g.id, eve, "qr", false, kT0 + 120'000));
  EXPECT_EQ(*service.greet(kT0 + 151'000), 1);
  posts = outbox();
  ASSERT_EQ(posts.size(), 2u);
  const std::string second = Json::parse(posts[0].payload_json)["content"]["text"];
  const std::string first = Json::parse(posts[1].payload_json)["content"]["text"];
  EXPECT_NE((second + first).find("@Eve"), std::string::npos);
  EXPECT_EQ((second + first).find("@Dan"), std::string::npos);
}

TEST_F(CommunityStoreTest, ChannelCodeRotationNeverOverfillsUnderConcurrentJoins) {
  store::Channel ch;
  ch.name = "门店海报";
  ch.kind = "store";
  ch.created_at = kT0;
  const auto channel = store_->create_channel(ws_, ch)->id;
  store::GroupCode code;
  code.name = "双十一福利";
  code.token = "tok123";
  code.group_name = "{name}{n}群";
  code.capacity = 7;
  code.channel = channel;
  code.created_at = kT0;
  const auto made = *store_->create_group_code(ws_, code);
  constexpr int kThreads = 8, kPer = 12;
  std::vector<std::vector<CustomerId>> people(kThreads);
  for (auto& list : people) {
    for (int i = 0; i < kPer; ++i) list.push_back(customer("c"));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (CustomerId c : people[static_cast<size_t>(t)]) {
        if (!store_->join_by_code(ws_, made.id, c, kT0)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto groups = *store_->groups(ws_);
  int64_t total = 0;
  std::set<int> numbers;
  for (const auto& g : groups) {
    EXPECT_LE(g.members, g.capacity) << g.name;
    EXPECT_EQ(static_cast<int64_t>(store_->group_members(ws_, g.id, false)->size()), g.members);
    total += g.members;
    numbers.insert(g.series_no);
  }
  EXPECT_EQ(total, kThreads * kPer);
  EXPECT_EQ(groups.size(), static_cast<size_t>((kThreads * kPer + 6) / 7));
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), static_cast<int>(groups.size()));
  EXPECT_EQ(groups[0].name, "双十一福利1群");
  // The code's channel becomes the customer's acquisition channel; a second scan is no join.
  EXPECT_EQ(store_->customer(ws_, people[0][0])->channel, channel);
  auto again = store_->join_by_code(ws_, made.id, people[0][0], kT0 + 1000);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->already_member);
}

TEST_F(CommunityStoreTest, MessagesKeepMemberActivityAndModerationActsAcrossGroups) {
  ManualClock clock(kT0);
  CommunityService service(*store_, clock);
  const auto g1 = group("一群"), g2 = group("二群");
  const auto amy = customer("Amy"), spammer = customer("Spam");
  for (auto g : {g1.id, g2.id}) {
    ASSERT_TRUE(store_->join_group(ws_, g, amy, "qr", false, kT0 - kDay));
    ASSERT_TRUE(store_->join_group(ws_, g, spammer, "qr", false, kT0 - kDay));
  }
  store::ModerationRule ads;
  ads.name = "广告";
  ads.kind = "ads";
  ads.action = "warn";
  ASSERT_TRUE(store_->put_moderation_rule(ws_, ads));
  auto msg = [&](std::string id, GroupId g, CustomerId c, std::string t, EpochMs at, std::string reply_to = "") {
    IncomingMessage in;
    in.message.msg_id = std::move(id);
    in.message.group = g;
    in.message.customer = c;
    in.message.text = std::move(t);
    in.message.at = at;
    in.message.reply_to = std::move(reply_to);
    return in;
  };
  auto r = service.ingest(ws_, {msg("m1", g1.id, amy, "早上好，今天分享护肤", kT0),
                                msg("m2", g1.id, spammer, "加 V 信 领红包", kT0 + 1000),
                                msg("m3", g1.id, spammer, "回复一下", kT0 + 2000, "m1")});
  ASSERT_TRUE(r) << r.status().message();
  EXPECT_EQ(r->stored, 3);
  EXPECT_EQ(r->violations, 1);
  // Repeats are acknowledged and change nothing.
  auto again = service.ingest(ws_, {msg("m1", g1.id, amy, "早上好，今天分享护肤", kT0)});
  EXPECT_EQ(again->duplicates, 1);
  ASSERT_TRUE(service.settle(ws_).is_ok());
  auto members = *store_->group_members(ws_, g1.id, false);
  auto find = [&](CustomerId c) { return *std::find_if(members.begin(), members.end(), [&](auto& m) { return m.customer == c; }); };
  EXPECT_EQ(find(amy).messages, 1);
  EXPECT_EQ(find(amy).replies_drawn, 1);
  EXPECT_EQ(find(spammer).violations, 1);
  // Second offence (other group): removal; third: blacklist and out of every group.
  ASSERT_TRUE(service.ingest(ws_, {msg("m4", g2.id, spammer, "兼职刷单日结", kT0 + kDay)}));
  EXPECT_EQ(store_->groups_of(ws_, spammer)->size(), 1u);
  ASSERT_TRUE(service.ingest(ws_, {msg("m5", g1.id, spammer, "加vx", kT0 + kDay + 1)}));
  EXPECT_TRUE(*store_->is_blacklisted(ws_, spammer));
  EXPECT_TRUE(store_->groups_of(ws_, spammer)->empty());
  // A late message of a blacklisted sender is kept but does not bring them back.
  ASSERT_TRUE(service.ingest(ws_, {msg("m6", g2.id, spammer, "你好", kT0 + kDay + 2)}));
  EXPECT_TRUE(store_->groups_of(ws_, spammer)->empty());
  auto log = *store_->moderation_log(ws_, 0, 10);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].action, "blacklist");
  EXPECT_EQ(log[1].action, "remove");
  EXPECT_EQ(log[2].action, "warn");
  EXPECT_EQ(log[2].msg_id, "m2");
  // A warning went to the group.
  bool warned = false;
  for (const auto& o : outbox()) warned |= o.step == "moderation" && o.group == g1.id;
  EXPECT_TRUE(warned);
  // Removals count in the day figures.
  ASSERT_TRUE(service.settle(ws_).is_ok());
  const int64_t day1 = local_day(kT0 + kDay, 480);
  auto days = *store_->group_days(ws_, g2.id, day1, day1);
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].removals, 1);
}

/// Migration 10 moves member activity out of the membership rows: a store written before it
/// (the activity put back into group_members, the new table dropped) reads the same after.
TEST_F(CommunityStoreTest, MemberActivitySurvivesTheMoveToItsOwnTable) {
  ManualClock clock(kT0);
  const auto g = group("一群");
  const auto amy = customer("Amy"), bob = customer("Bob"), quiet = customer("Quiet");
  for (auto c : {amy, bob, quiet}) ASSERT_TRUE(store_->join_group(ws_, g.id, c, "qr", false, kT0 - kDay));
  {
    CommunityService service(*store_, clock);
    std::vector<IncomingMessage> batch;
    for (int i = 0; i < 5; ++i) {
      IncomingMessage in;
      in.message.msg_id = "m" + std::to_string(i);
      in.message.group = g.id;
      in.message.customer = i < 3 ? amy : bob;
      in.message.text = "早上好";
      in.message.at = kT0 + i * kDay;
      in.message.reply_to = i == 3 ? "m0" : "";
      batch.push_back(std::move(in));
    }
    ASSERT_TRUE(service.ingest(ws_, std::move(batch)));
    ASSERT_TRUE(service.settle(ws_).is_ok());
  }
  const auto before = *store_->group_members(ws_, g.id, false);
  store_.reset();
  const char* to_version_9 =
      "ALTER TABLE group_members ADD COLUMN messages INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE group_members ADD COLUMN replies_drawn INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE group_members ADD COLUMN active_days INTEGER NOT NULL DEFAULT 0;"
      "ALTER TABLE group_members ADD COLUMN last_active_day INTEGER NOT NULL DEFAULT -1;"
      "ALTER TABLE group_members ADD COLUMN violations INTEGER NOT NULL DEFAULT 0;"
      "UPDATE group_members AS m SET messages=a.messages, replies_drawn=a.replies_drawn, "
      "active_days=a.active_days, last_active_day=a.last_active_day, violations=a.violations "
      "FROM member_activity AS a WHERE a.workspace_id=m.workspace_id AND a.group_id=m.group_id "
      "AND a.customer_id=m.customer_id;"
      "DROP TABLE member_activity;"
      "DELETE FROM schema_migrations WHERE version=10;";
  ASSERT_EQ(testing::run_sql_on_store(dir_, to_version_9), "");
  store_ = testing::open_test_store(dir_);
  const auto after = *store_->group_members(ws_, g.id, false);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].customer, before[i].customer);
    EXPECT_EQ(after[i].messages, before[i].messages);
    EXPECT_EQ(after[i].replies_drawn, before[i].replies_drawn);
    EXPECT_EQ(after[i].active_days, before[i].active_days);
    EXPECT_EQ(after[i].last_active_day, before[i].last_active_day);
  }
  auto find = [&](CustomerId c) { return *std::find_if(after.begin(), after.end(), [&](auto& m) { return m.customer == c; }); };
  EXPECT_EQ(find(amy).messages, 3);
  EXPECT_EQ(find(amy).active_days, 3);
  EXPECT_EQ(find(amy).replies_drawn, 1);
  EXPECT_EQ(find(bob).messages, 2);
  EXPECT_EQ(find(quiet).messages, 0);
  EXPECT_EQ(find(quiet).last_active_day, -1);
}

/// Retention clears text older than the setting, each time from where the last clearing
/// stopped; a message arriving later with an older time keeps no text; figures stay.
TEST_F(CommunityStoreTest, TextRetentionClearsOldTextOnceAndKeepsFigures) {
  ManualClock clock(kT0);
  CommunityService service(*store_, clock);
  const auto g = group("一群");
  const auto amy = customer("Amy");
  ASSERT_TRUE(store_->join_group(ws_, g.id, amy, "qr", false, kT0 - 30 * kDay));
  auto msg = [&](std::string id, EpochMs at) {
    IncomingMessage in;
    in.message.msg_id = std::move(id);
    in.message.group = g.id;
    in.message.customer = amy;
    in.message.text = "今天分享护肤心得";
    in.message.at = at;
    return in;
  };
  ASSERT_TRUE(service.ingest(ws_, {msg("old", kT0 - 10 * kDay), msg("mid", kT0 - 5 * kDay),
                                   msg("new", kT0 - 3'600'000)}));
  ASSERT_TRUE(store_->put_setting(ws_, "community.text_retention_days", "7", kT0).is_ok());
  auto texts = [&] {
    std::map<std::string, std::string> out;
    const auto rows = *store_->group_messages(ws_, g.id, 0, INT64_MAX, 100);
    for (const auto& m : rows) out[m.msg_id] = m.text;
    return out;
  };
  EXPECT_EQ(*service.expire_texts(kT0), 1);
  EXPECT_EQ(texts(), (std::map<std::string, std::string>{
                         {"old", ""}, {"mid", "今天分享护肤心得"}, {"new", "今天分享护肤心得"}}));
  EXPECT_EQ(*service.expire_texts(kT0 + 60'000), 0);
  // Late, with a time before the clearing: stored and counted, without its text.
  ASSERT_TRUE(service.ingest(ws_, {msg("late", kT0 - 8 * kDay)}));
  EXPECT_EQ(texts(), (std::map<std::string, std::string>{{"old", ""},
                                                          {"late", ""},
                                                          {"mid", "今天分享护肤心得"},
                                                          {"new", "今天分享护肤心得"}}));
  EXPECT_EQ(*service.expire_texts(kT0 + 3 * kDay), 1);
  EXPECT_EQ(texts()["mid"], "");
  EXPECT_EQ(texts()["new"], "今天分享护肤心得");
  ASSERT_TRUE(service.settle(ws_).is_ok());
  for (EpochMs at : {kT0 - 10 * kDay, kT0 - 8 * kDay, kT0 - 5 * kDay}) {
    const int64_t day = local_day(at, 480);
    const auto days = *store_->group_days(ws_, g.id, day, day);
    ASSERT_EQ(days.size(), 1u);
    EXPECT_EQ(days[0].messages, 1) << day;
  }
  const auto members = *store_->group_members(ws_, g.id, false);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].messages, 4);
}

/// The service keeps the current memberships; one that ends is dropped, so the store looks again.
TEST_F(CommunityStoreTest, ASenderWhoLeftAndSpeaksAgainJoinsAgain) {
  ManualClock clock(kT0);
  CommunityService service(*store_, clock);
  const auto g = group("一群");
  const auto amy = customer("Amy"), bob = customer("Bob");
  ASSERT_TRUE(store_->join_group(ws_, g.id, amy, "qr", false, kT0 - kDay));
  ASSERT_TRUE(store_->join_group(ws_, g.id, bob, "qr", false, kT0 - kDay));
  auto say = [&](const std::string& id, CustomerId who, EpochMs at) {
    IncomingMessage in;
    in.message.msg_id = id;
    in.message.group = g.id;
    in.message.customer = who;
    in.message.text = "你好";
    in.message.at = at;
    return service.ingest(ws_, {in});
  };
  ASSERT_TRUE(say("a1", amy, kT0));
  ASSERT_TRUE(say("b1", bob, kT0 + 1));
  ASSERT_TRUE(store_->leave_group(ws_, g.id, amy, false, "test", kT0 + 2).is_ok());
  EXPECT_TRUE(store_->groups_of(ws_, amy)->empty());
  ASSERT_TRUE(say("a2", amy, kT0 + 3));
  EXPECT_EQ(store_->groups_of(ws_, amy)->size(), 1u);
  // Bob, still a member, is not joined twice.
  ASSERT_TRUE(say("b2", bob, kT0 + 4));
  const auto events = *store_->group_member_events(ws_, g.id, 0, 100);
  int joins = 0;
  for (const auto& e : events) joins += e.kind == "join" ? 1 : 0;
  EXPECT_EQ(joins, 3);  // amy, bob, amy again
}

/// Health figures from the aggregates equal a plain evaluation of the raw random activity,
/// although the service writes its message figures behind at random moments and loses the
/// unwritten ones in random crashes (its successor counts them again from the messages).
TEST_F(CommunityStoreTest, HealthEqualsAPlainEvaluationOnRandomData) {
  ManualClock clock(kT0);
  auto service = std::make_unique<CommunityService>(*store_, clock);
  std::mt19937 rng(42);
  std::vector<store::Group> groups;
  for (int i = 0; i < 4; ++i) groups.push_back(group("g" + std::to_string(i), 40));
  std::vector<CustomerId> people;
  for (int i = 0; i < 60; ++i) people.push_back(customer("p" + std::to_string(i)));
  // Raw facts, generated in time order.
  struct Fact { EpochMs at; int kind; size_t g; CustomerId c; };  // 0 join, 1 quit, 2 message
  std::vector<Fact> facts;
  std::map<std::pair<size_t, int64_t>, EpochMs> joined;  // current membership
  EpochMs t = kT0;
  for (int step = 0; step < 3000; ++step) {
    t += static_cast<EpochMs>(rng() % 1'200'000);
    const size_t g = rng() % groups.size();
    const CustomerId c = people[rng() % people.size()];
    const bool member = joined.contains({g, c.value});
    const int roll = static_cast<int>(rng() % 10);
    if (!member && roll < 6) {
      facts.push_back({t, 0, g, c});
      joined[{g, c.value}] = t;
    } else if (member && roll == 0) {
      facts.push_back({t, 1, g, c});
      joined.erase({g, c.value});
    } else if (member) {
      facts.push_back({t, 2, g, c});
    }
  }
  int n = 0;
  for (const auto& f : facts) {
    clock.set(f.at);
    if (f.kind == 0) {
      ASSERT_TRUE(store_->join_group(ws_, groups[f.g].id, f.c, "test", false, f.at));
    } else if (f.kind == 1) {
      ASSERT_TRUE(store_->leave_group(ws_, groups[f.g].id, f.c, false, "test", f.at).is_ok());
    } else {
      IncomingMessage in;
      in.message.msg_id = "r" + std::to_string(n++);
      in.message.group = groups[f.g].id;
      in.message.customer = f.c;
      in.message.text = "你好";
      in.message.at = f.at;
      ASSERT_TRUE(service->ingest(ws_, {in}));
    }
    const auto roll = rng() % 100;
    if (roll < 3) {
      service = std::make_unique<CommunityService>(*store_, clock);  // a crash: nothing settled
    } else if (roll < 6) {
      ASSERT_TRUE(service->settle(ws_).is_ok());
    }
  }
  ASSERT_TRUE(service->settle(ws_).is_ok());
  const int64_t last_day = local_day(t, 480);
  const HealthWindow w{last_day - 13, last_day};
  auto rows = *store_->group_days(ws_, std::nullopt, first_day_needed(w), w.to_day);
  auto fresh_groups = *store_->groups(ws_);
  auto health = health_list(fresh_groups, rows, w);
  // Group 0 rows hold the sums across groups: days and hours.
  std::map<int64_t, int64_t> per_day, across_day;
  for (const auto& r : rows) (r.group.valid() ? per_day : across_day)[r.day] += r.messages;
  EXPECT_EQ(per_day, across_day);
  int64_t hour_sum = 0, across_hours = 0;
  for (const auto& g : groups) {
    const auto hours = *store_->group_hours(ws_, g.id, w.from_day, w.to_day);
    for (const auto& h : hours) hour_sum += h.messages;
  }
  const auto across = *store_->group_hours(ws_, std::nullopt, w.from_day, w.to_day);
  for (const auto& h : across) across_hours += h.messages;
  EXPECT_EQ(hour_sum, across_hours);
  int64_t window_messages = 0;
  for (const auto& [d, m] : across_day) window_messages += d >= w.from_day ? m : 0;
  EXPECT_EQ(health.back().messages, window_messages);
  for (size_t g = 0; g < groups.size(); ++g) {
    // Plain evaluation over the raw facts.
    std::map<int64_t, std::set<int64_t>> active;  // day → customers
    int64_t messages = 0, joins = 0, quits = 0, members = 0, cohort = 0, early = 0;
    std::map<int64_t, EpochMs> since;
    for (const auto& f : facts) {
      if (f.g != g) continue;
      const int64_t d = local_day(f.at, 480);
      if (f.kind == 0) since[f.c.value] = f.at;
      const bool in_window = d >= w.from_day && d <= w.to_day;
      if (f.kind == 2 && in_window) {
        ++messages;
        active[d].insert(f.c.value);
      }
      if (f.kind == 0 && in_window) ++joins;
      if (f.kind == 1 && in_window) ++quits;
      if (f.kind == 1) since.erase(f.c.value);
    }
    members = static_cast<int64_t>(since.size());
    // Retention cohort: joins on days [to-36, to-7]; early leave within 7 days of joining.
    for (size_t i = 0; i < facts.size(); ++i) {
      const auto& f = facts[i];
      if (f.g != g || f.kind != 0) continue;
      const int64_t d = local_day(f.at, 480);
      if (d < w.to_day - 36 || d > w.to_day - 7) continue;
      ++cohort;
      for (size_t k = i + 1; k < facts.size(); ++k) {
        const auto& l = facts[k];
        if (l.g == g && l.c == f.c && l.kind == 1) {
          if (l.at - f.at < 7 * kDay) ++early;
          break;
        }
      }
    }
    int64_t active_sum = 0;
    for (const auto& [d, set] : active) active_sum += static_cast<int64_t>(set.size());
    const auto& h = health[g];
    EXPECT_EQ(h.members, members) << g;
    EXPECT_EQ(h.messages, messages) << g;
    EXPECT_EQ(h.joins, joins) << g;
    EXPECT_EQ(h.quits, quits) << g;
    EXPECT_NEAR(h.daily_active, static_cast<double>(active_sum) / 14.0, 1e-9) << g;
    ASSERT_EQ(h.retention_7d.has_value(), cohort > 0) << g;
    if (cohort > 0) {
      EXPECT_NEAR(*h.retention_7d, 1.0 - static_cast<double>(early) / static_cast<double>(cohort), 1e-9);
    }
    // Member activity: each message counted once on its sender's row, each day with one active.
    std::map<int64_t, std::pair<int64_t, std::set<int64_t>>> talk;  // customer → messages, days
    for (const auto& f : facts) {
      if (f.g != g || f.kind != 2) continue;
      auto& [count, days] = talk[f.c.value];
      ++count;
      days.insert(local_day(f.at, 480));
    }
    const auto rows_of_group = *store_->group_members(ws_, groups[g].id, true);
    ASSERT_FALSE(rows_of_group.empty());
    for (const auto& m : rows_of_group) {
      const auto it = talk.find(m.customer.value);
      EXPECT_EQ(m.messages, it == talk.end() ? 0 : it->second.first) << g;
      EXPECT_EQ(m.active_days, it == talk.end() ? 0 : static_cast<int64_t>(it->second.second.size()));
      EXPECT_EQ(m.last_active_day, it == talk.end() ? -1 : *it->second.second.rbegin());
    }
  }
}

}  // namespace
}  // namespace siyu::community
