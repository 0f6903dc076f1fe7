#include "wecom/callback.h"

#include <openssl/sha.h>

#include <algorithm>
#include <array>

#include "core/text.h"
#include "wecom/xml.h"

namespace siyu::wecom {
namespace {

std::string content_id(std::string_view xml, std::string_view part) {
  std::string joined(xml);
  joined += '\n';
  joined += part;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(joined.data()), joined.size(), digest);
  return "wecom-" + to_hex(std::string_view(reinterpret_cast<const char*>(digest), 12));
}

/// External contacts' ids start with "wm" or "wo"; staff members' userids do not.
bool is_external(std::string_view id) { return starts_with(id, "wm") || starts_with(id, "wo"); }

}  // namespace

Result<std::vector<store::PendingEvent>> callback_events(std::string_view xml,
                                                         const WecomSettings& settings,
                                                         const customer::IdentityCodec& codec,
                                                         const StaffResolver& staff, EpochMs now) {
  std::vector<store::PendingEvent> out;
  const std::string event = xml_field(xml, "Event").value_or(xml_field(xml, "InfoType").value_or(""));
  const std::string change = xml_field(xml, "ChangeType").value_or("");
  const std::string created = xml_field(xml, "CreateTime").value_or(xml_field(xml, "TimeStamp").value_or(""));
  EpochMs ts = now;
  if (!created.empty() && created.size() < 12 &&
      created.find_first_not_of("0123456789") == std::string::npos) {
    ts = std::stoll(created) * 1000;
  }
  auto make = [&](const std::string& type, const std::string& external, Json props,
                  std::optional<store::RelationChange> relation) -> Status {
    store::PendingEvent p;
    SIYU_ASSIGN_OR_RETURN(store::Identity id,
                          codec.make("wecom_external_userid", external, "", "ExternalUserID"));
    p.identity = std::move(id);
    p.event.event_id = content_id(xml, external);
    p.event.type = type;
    p.event.ts = ts;
    p.event.channel = "wecom";
    p.event.properties_json = props.dump();
    p.relation = std::move(relation);
    out.push_back(std::move(p));
    return Status::ok();
  };
  if (event == "change_external_contact") {
    const std::string userid = xml_field(xml, "UserID").value_or("");
    const std::string external = xml_field(xml, "ExternalUserID").value_or("");
    if (external.empty()) return invalid("callback has no ExternalUserID");
    const std::string staff_id = staff(userid).value_or("wecom:" + userid);
    Json props = {{"wecom_userid", userid}};
    if (change == "add_external_contact" || change == "add_half_external_contact") {
      if (auto state = xml_field(xml, "State"); state && !state->empty()) props["state"] = *state;
      if (auto code = xml_field(xml, "WelcomeCode"); code && !code->empty()) {
        props["welcome_code"] = *code;
      }
      SIYU_RETURN_IF_ERROR(make("add_friend", external, props,
                                store::RelationChange{"friend", staff_id, true}));
      out.back().event.staff = staff_id;
      out.back().event.campaign = props.value("state", "");
    } else if (change == "del_external_contact" || change == "del_follow_user") {
      props["by"] = change == "del_follow_user" ? "customer" : "staff";
      SIYU_RETURN_IF_ERROR(make("remove_friend", external, props,
                                store::RelationChange{"friend", staff_id, false}));
      out.back().event.staff = staff_id;
    }
    return out;
  }
  if (event == "change_external_chat" && change == "update") {
    const std::string detail = xml_field(xml, "UpdateDetail").value_or("");
    if (detail != "add_member" && detail != "del_member") return out;
    const std::string chat = xml_field(xml, "ChatId").value_or("");
    std::string group = "wecom:" + chat;
    for (const auto& [id, chat_id] : settings.chats) {
      if (chat_id == chat) group = std::to_string(id);
    }
    const bool join = detail == "add_member";
    for (const std::string& member : xml_items(xml, "MemChangeList")) {
      if (!is_external(member)) continue;
      Json props = {{"group_id", group}, {"chat_id", chat}};
      const std::string scene = xml_field(xml, join ? "JoinScene" : "QuitScene").value_or("");
      if (!scene.empty()) props[join ? "join_scene" : "quit_scene"] = scene;
      // JoinScene: 0 invited by a member, 1 invitation link, 3 scanned the group QR code.
      // QuitScene: 0 left, 1 removed by the owner or an admin.
      const std::string source = !join          ? "wecom"
                                 : scene == "1" ? "wecom:link"
                                 : scene == "3" ? "wecom:qr"
                                                : "wecom:invite";
      SIYU_RETURN_IF_ERROR(make(join ? "join_group" : "leave_group", member, props,
                                store::RelationChange{"group", group, join, source,
                                                      !join && scene == "1"}));
    }
  }
  return out;
}

Result<std::optional<RelayedMessage>> callback_group_message(std::string_view xml, EpochMs now) {
  const std::string type = xml_field(xml, "MsgType").value_or("");
  const std::string chat = xml_field(xml, "ChatId").value_or("");
  if (type.empty() || type == "event" || chat.empty()) return std::optional<RelayedMessage>();
  RelayedMessage m;
  m.chat_id = chat;
  m.msg_id = xml_field(xml, "MsgId").value_or("");
  m.from = xml_field(xml, "FromUserName").value_or("");
  if (m.msg_id.empty() || m.from.empty()) return invalid("group message has no MsgId or FromUserName");
  m.from_customer = is_external(m.from);
  m.type = type == "miniprogram" ? "mini_program" : type;
  static constexpr std::array<std::string_view, 7> kTypes = {"text", "image", "link", "file",
                                                             "voice", "video", "mini_program"};
  if (std::find(kTypes.begin(), kTypes.end(), m.type) == kTypes.end()) m.type = "file";
  m.text = xml_field(xml, "Content").value_or(xml_field(xml, "Title").value_or(""));
  if (m.type == "link") m.text += " " + xml_field(xml, "Url").value_or("");
  m.qr = xml_field(xml, "HasQrCode").value_or("") == "1";
  const std::string created = xml_field(xml, "CreateTime").value_or("");
  m.at = now;
  if (!created.empty() && created.size() < 12 &&
      created.find_first_not_of("0123456789") == std::string::npos) {
    m.at = std::stoll(created) * 1000;
  }
  return std::optional<RelayedMessage>(std::move(m));
}

}  // namespace siyu::wecom
