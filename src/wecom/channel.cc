#include "wecom/channel.h"

#include <map>

#include "core/text.h"
#include "core/time_format.h"

namespace siyu::wecom {
namespace {

using outbox::Receipt;

constexpr EpochMs kWelcomeWindowMs = 20'000;
constexpr size_t kMaxRecipients = 10'000;  // external_userid per add_msg_template call

Receipt failure(const Status& st) {
  const bool retry = st.code() == ErrorCode::kUnavailable || st.code() == ErrorCode::kRateLimited;
  return Receipt{retry ? Receipt::Outcome::kRetry : Receipt::Outcome::kRejected, st.message(), 0};
}

}  // namespace

Result<Json> WecomChannel::attachments(const Json& content) {
  Json out = Json::array();
  if (content.contains("image") && content["image"].is_string()) {
    SIYU_ASSIGN_OR_RETURN(std::string media, client_.image_media_id(content["image"]));
    out.push_back({{"msgtype", "image"}, {"image", {{"media_id", media}}}});
  }
  if (content.contains("link") && content["link"].is_string()) {
    out.push_back({{"msgtype", "link"},
                   {"link", {{"title", content.value("title", content.value("text", ""))},
                             {"url", content["link"]}}}});
  }
  return out;
}

std::optional<Receipt> WecomChannel::try_welcome(const store::OutboxItem& item,
                                                 const Json& payload) {
  if (!payload.contains("welcome_code")) return std::nullopt;
  if (clock_.now_ms() - item.created_at > kWelcomeWindowMs) return std::nullopt;
  auto extra = attachments(payload["content"]);
  if (!extra) return failure(extra.error());
  Json body = {{"welcome_code", payload["welcome_code"]},
               {"text", {{"content", payload["content"].value("text", "")}}}};
  if (!extra->empty()) body["attachments"] = *extra;
  auto reply = client_.post("externalcontact/send_welcome_msg", body);
  if (reply) return Receipt{Receipt::Outcome::kDelivered, "wecom welcome message", 0};
  // 41051: the customer started chatting or another app welcomed them: send as a task.
  if (reply.error().message().find("errcode 41051") != std::string::npos) return std::nullopt;
  return failure(reply.error());
}

void WecomChannel::mass_send(const std::vector<const store::OutboxItem*>& items,
                             const Json& payload, const std::string& sender,
                             std::vector<Receipt>& out, const std::vector<size_t>& positions) {
  const EpochMs now = clock_.now_ms();
  const int64_t today = local_day(now, offset_minutes_);
  const bool group = items.front()->kind == "group_post";
  auto extra = attachments(payload["content"]);
  if (!extra) {
    for (size_t p : positions) out[p] = failure(extra.error());
    return;
  }
  Json body = {{"chat_type", group ? "group" : "single"},
               {"sender", sender},
               {"text", {{"content", payload["content"].value("text", "")}}}};
  if (!extra->empty()) body["attachments"] = *extra;
  std::vector<size_t> sending;  // positions in this call
  std::map<std::string, size_t> by_external;
  std::vector<CustomerId> reserved;
  if (group) {
    Json chats = Json::array();
    for (size_t i = 0; i < items.size(); ++i) {
      auto chat = settings_.chats.find(items[i]->group.value);
      if (chat == settings_.chats.end()) {
        out[positions[i]] = Receipt{Receipt::Outcome::kRejected,
                                    "group " + std::to_string(items[i]->group.value) +
                                        " has no WeCom chat_id in the WeCom settings", 0};
        continue;
      }
      chats.push_back(chat->second);
      sending.push_back(i);
    }
    body["chat_id_list"] = chats;
  } else {
    std::vector<CustomerId> wanted;
    std::map<int64_t, std::pair<size_t, std::string>> external;  // customer → (index, id)
    for (size_t i = 0; i < items.size(); ++i) {
      auto ids = store_.identities(ws_, items[i]->customer);
      std::string eid;
      for (const store::Identity& id : ids ? *ids : std::vector<store::Identity>{}) {
        if (id.type == "wecom_external_userid") eid = id.key;
      }
      if (eid.empty()) {
        out[positions[i]] = Receipt{Receipt::Outcome::kRejected,
                                    "customer has no WeCom external_userid", 0};
        continue;
      }
      external[items[i]->customer.value] = {i, eid};
      wanted.push_back(items[i]->customer);
    }
    auto fresh = store_.reserve_mass_day(ws_, wanted, today);
    if (!fresh) {
      for (const auto& [c, entry] : external) out[positions[entry.first]] = failure(fresh.error());
      return;
    }
    reserved = *fresh;
    Json recipients = Json::array();
    for (const auto& [c, entry] : external) {
      const bool ok = std::find(reserved.begin(), reserved.end(), CustomerId(c)) != reserved.end();
      if (!ok) {
        // One enterprise mass message a day per customer: this one waits for tomorrow, 09:00.
        const EpochMs tomorrow = (today + 1) * kMsPerDay + (9 * 60 - offset_minutes_) * 60'000;
        out[positions[entry.first]] = Receipt{
            Receipt::Outcome::kDeferred,
            "WeCom allows one enterprise mass message a day per customer", tomorrow};
        continue;
      }
      recipients.push_back(entry.second);
      by_external[entry.second] = entry.first;
      sending.push_back(entry.first);
    }
    body["external_userid"] = recipients;
  }
  if (sending.empty()) return;
  auto reply = client_.post("externalcontact/add_msg_template", body);
  if (!reply) {
    if (!reserved.empty()) (void)store_.release_mass_day(ws_, reserved, today);
    for (size_t i : sending) out[positions[i]] = failure(reply.error());
    return;
  }
  const std::string msgid = reply->value("msgid", "");
  store::WecomTask task;
  task.msgid = msgid;
  task.sender = sender;
  task.chat_type = group ? "group" : "single";
  task.recipients = static_cast<int64_t>(sending.size());
  task.created_at = now;
  (void)store_.record_wecom_task(ws_, task);
  for (size_t i : sending) {
    out[positions[i]] = Receipt{Receipt::Outcome::kDelivered, "wecom task " + msgid, 0};
  }
  std::vector<CustomerId> refused;
  for (const Json& f : reply->value("fail_list", Json::array())) {
    auto it = by_external.find(f.get<std::string>());
    if (it == by_external.end()) continue;
    out[positions[it->second]] = Receipt{Receipt::Outcome::kRejected,
                                         "WeCom refused this recipient (fail_list)", 0};
    refused.push_back(items[it->second]->customer);
  }
  if (!refused.empty()) (void)store_.release_mass_day(ws_, refused, today);
}

std::vector<Receipt> WecomChannel::deliver(const std::vector<store::OutboxItem>& items) {
  std::vector<Receipt> out(items.size());
  // Rows with the same sender and content go out as one task.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> tasks;
  for (size_t i = 0; i < items.size(); ++i) {
    const store::OutboxItem& item = items[i];
    const Json payload = Json::parse(item.payload_json, nullptr, false);
    if (!payload.is_object() || !payload.contains("content")) {
      out[i] = Receipt{Receipt::Outcome::kRejected, "nothing to send", 0};
      continue;
    }
    auto sender = settings_.staff_userids.find(ascii_lower(item.staff));
    if (sender == settings_.staff_userids.end()) {
      out[i] = Receipt{Receipt::Outcome::kRejected,
                       "staff " + item.staff + " has no WeCom userid in the WeCom settings", 0};
      continue;
    }
    if (item.kind == "message") {
      if (auto welcome = try_welcome(item, payload)) {
        out[i] = *welcome;
        continue;
      }
    }
    Json content_key = payload["content"];
    content_key["kind"] = item.kind;
    tasks[{sender->second, content_key.dump()}].push_back(i);
  }
  for (const auto& [key, positions] : tasks) {
    for (size_t start = 0; start < positions.size(); start += kMaxRecipients) {
      std::vector<size_t> slice(positions.begin() + static_cast<ptrdiff_t>(start),
                                positions.begin() + static_cast<ptrdiff_t>(
                                                        std::min(positions.size(), start + kMaxRecipients)));
      std::vector<const store::OutboxItem*> rows;
      for (size_t p : slice) rows.push_back(&items[p]);
      const Json payload = Json::parse(items[slice.front()].payload_json);
      mass_send(rows, payload, key.first, out, slice);
    }
  }
  return out;
}

Status WecomChannel::maintain(EpochMs now) {
  SIYU_ASSIGN_OR_RETURN(std::vector<store::WecomTask> open, store_.wecom_tasks(ws_, true, 200));
  for (store::WecomTask& t : open) {
    SIYU_ASSIGN_OR_RETURN(Json reply, client_.post("externalcontact/get_groupmsg_task",
                                                   {{"msgid", t.msgid}, {"limit", 1000}}));
    t.checked_at = now;
    EpochMs sent = 0;
    bool all_sent = true;
    for (const Json& row : reply.value("task_list", Json::array())) {
      if (row.value("status", 0) == 2) {
        sent = std::max<EpochMs>(sent, row.value("send_time", int64_t{0}) * 1000);
      } else {
        all_sent = false;
      }
    }
    if (all_sent && sent > 0) {
      t.sent_at = sent;
    } else if (!t.reminded_at && now - t.created_at >= int64_t{settings_.remind_after_minutes} * 60'000) {
      SIYU_RETURN_IF_ERROR(
          client_.post("externalcontact/remind_groupmsg_send", {{"msgid", t.msgid}}).status());
      t.reminded_at = now;
    }
    SIYU_RETURN_IF_ERROR(store_.update_wecom_task(ws_, t));
  }
  return Status::ok();
}

}  // namespace siyu::wecom
