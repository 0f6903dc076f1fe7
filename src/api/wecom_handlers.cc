// Routes of the WeCom connection: its settings, the enterprise mass-message tasks waiting for
// staff, and the callback endpoint WeCom calls (URL verification and encrypted events).
#include "api/request.h"
#include "core/text.h"
#include "core/time_format.h"
#include "customer/identity.h"
#include "wecom/callback.h"
#include "wecom/client.h"
#include "wecom/crypt.h"
#include "wecom/settings.h"
#include "wecom/xml.h"

namespace siyu::api {
namespace {

constexpr EpochMs kCallbackSkewMs = 10 * 60'000;

Reply text_reply(std::string text) {
  Reply r;
  r.raw = std::move(text);
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

class WecomHandlers {
 public:
  explicit WecomHandlers(Services& s) : s_(s) {}

  Result<Reply> get_settings(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto st, wecom::load_wecom_settings(s_.store, s_.vault, who.workspace));
    return json_reply(wecom::wecom_settings_json(st));
  }

  Result<Reply> put_settings(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(Json body, json_body(req));
    SIYU_ASSIGN_OR_RETURN(auto current, wecom::load_wecom_settings(s_.store, s_.vault, who.workspace));
    SIYU_ASSIGN_OR_RETURN(auto next, wecom::parse_wecom_settings(body, current));
    if (!next.encoding_aes_key.empty()) {
      SIYU_RETURN_IF_ERROR(
          wecom::MsgCrypt::create(next.token, next.encoding_aes_key, next.corp_id).status());
    }
    SIYU_RETURN_IF_ERROR(
        wecom::save_wecom_settings(s_.store, s_.vault, who.workspace, next, s_.clock.now_ms()));
    s_.dispatcher->settings_changed(who.workspace);
    Json shown = wecom::wecom_settings_json(next);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "settings.wecom", "workspace", shown));
    return json_reply(shown);
  }

  Result<Reply> tasks(const httplib::Request& req, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(int limit, page_limit(req, 50, 500));
    const bool open = req.get_param_value("status") != "all";
    SIYU_ASSIGN_OR_RETURN(auto rows, s_.store.wecom_tasks(who.workspace, open, limit));
    Json items = Json::array();
    const auto opt = [](const std::optional<EpochMs>& t) {
      return t ? Json(format_timestamp(*t)) : Json(nullptr);
    };
    for (const auto& t : rows) {
      items.push_back({{"msgid", t.msgid},
                       {"sender", t.sender},
                       {"chat_type", t.chat_type},
                       {"recipients", t.recipients},
                       {"created_at", format_timestamp(t.created_at)},
                       {"checked_at", opt(t.checked_at)},
                       {"sent_at", opt(t.sent_at)},
                       {"reminded_at", opt(t.reminded_at)}});
    }
    return json_reply({{"items", items}});
  }

  /// WeCom's callback: GET verifies the URL (echostr), POST carries an encrypted event. Both
  /// are signed; stale timestamps are refused, and a callback delivered twice is stored once.
  Result<Reply> callback(const httplib::Request& req, const Principal&) {
    const std::string slug = req.matches[1];
    auto ws = s_.store.workspace_by_slug(slug);
    if (!ws) return not_found("no workspace " + slug);
    SIYU_ASSIGN_OR_RETURN(auto settings, wecom::load_wecom_settings(s_.store, s_.vault, ws->id));
    if (settings.token.empty() || settings.encoding_aes_key.size() != 43) {
      return not_found("wecom callbacks are not configured for " + slug);
    }
    SIYU_ASSIGN_OR_RETURN(auto crypt, wecom::MsgCrypt::create(settings.token, settings.encoding_aes_key,
                                                              settings.corp_id));
    const std::string timestamp = req.get_param_value("timestamp");
    const std::string nonce = req.get_param_value("nonce");
    const std::string signature = req.get_param_value("msg_signature");
    const EpochMs now = s_.clock.now_ms();
    if (timestamp.empty() || timestamp.size() > 12 ||
        timestamp.find_first_not_of("0123456789") != std::string::npos ||
        std::llabs(std::stoll(timestamp) * 1000 - now) > kCallbackSkewMs) {
      return permission_denied("callback timestamp is missing or more than 10 minutes away");
    }
    if (req.method == "GET") {
      SIYU_ASSIGN_OR_RETURN(std::string echo, crypt.decrypt(signature, timestamp, nonce,
                                                            req.get_param_value("echostr")));
      return text_reply(echo);
    }
    auto encrypted = wecom::xml_field(req.body, "Encrypt");
    if (!encrypted) return invalid("callback body has no Encrypt element");
    SIYU_ASSIGN_OR_RETURN(std::string xml, crypt.decrypt(signature, timestamp, nonce, *encrypted));
    const customer::IdentityCodec codec(s_.vault, ws->id);
    SIYU_ASSIGN_OR_RETURN(auto users, s_.store.users(ws->id));
    const wecom::StaffResolver staff = [&](const std::string& userid) -> std::optional<std::string> {
      for (const auto& [email, id] : settings.staff_userids) {
        if (id != userid) continue;
        for (const auto& u : users) {
          if (u.email == email) return std::to_string(u.id.value);
        }
      }
      return std::nullopt;
    };
    SIYU_ASSIGN_OR_RETURN(auto relayed, wecom::callback_group_message(xml, now));
    if (relayed) {
      SIYU_RETURN_IF_ERROR(group_message(ws->id, *relayed, settings, codec));
      return text_reply("success");
    }
    SIYU_ASSIGN_OR_RETURN(auto events, wecom::callback_events(xml, settings, codec, staff, now));
    if (!events.empty()) {
      SIYU_ASSIGN_OR_RETURN(auto result, s_.store.ingest_events(ws->id, events, now));
      std::vector<CustomerId> touched;
      for (size_t i = 0; i < events.size(); ++i) {
        if (result.outcomes[i] == store::IngestOutcome::kStored) touched.push_back(events[i].event.customer);
      }
      reindex(s_, ws->id, std::move(touched));
    }
    return text_reply("success");
  }

 private:
 public:
  /// Imports the workspace's WeCom customer groups (groupchat/list, then groupchat/get for
  /// each): groups not mapped yet are created (name, owner through the staff userids) and
  /// mapped to their chat_id in the WeCom settings; external members become customers (One-ID
  /// on wecom_external_userid) and members with their join scene and time. Repeating it adds
  /// only what is new.
  Result<Reply> sync_groups(const httplib::Request&, const Principal& who) {
    SIYU_ASSIGN_OR_RETURN(auto settings, wecom::load_wecom_settings(s_.store, s_.vault, who.workspace));
    if (!settings.configured()) return unprocessable("the workspace's WeCom connection is not configured");
    wecom::Client client(settings, s_.clock);
    std::vector<std::string> chats;
    std::string cursor;
    do {
      SIYU_ASSIGN_OR_RETURN(Json page, client.post("externalcontact/groupchat/list",
                                                   {{"status_filter", 0}, {"cursor", cursor}, {"limit", 1000}}));
      for (const auto& g : page.value("group_chat_list", Json::array())) chats.push_back(g.value("chat_id", ""));
      cursor = page.value("next_cursor", "");
    } while (!cursor.empty() && chats.size() < 100'000);
    SIYU_ASSIGN_OR_RETURN(auto users, s_.store.users(who.workspace));
    const customer::IdentityCodec codec(s_.vault, who.workspace);
    const EpochMs now = s_.clock.now_ms();
    int64_t created = 0, joined = 0;
    std::vector<CustomerId> touched;
    for (const std::string& chat : chats) {
      if (chat.empty()) continue;
      SIYU_ASSIGN_OR_RETURN(Json got, client.post("externalcontact/groupchat/get", {{"chat_id", chat}, {"need_name", 1}}));
      const Json& info = got["group_chat"];
      std::optional<GroupId> group;
      for (const auto& [id, chat_id] : settings.chats) {
        if (chat_id == chat) group = GroupId(id);
      }
      if (!group) {
        store::Group g;
        g.name = info.value("name", "");
        if (g.name.empty()) g.name = "企业微信群 " + chat.substr(0, std::min<size_t>(chat.size(), 12));
        g.kind = "traffic";
        g.capacity = 500;
        g.created_at = info.value("create_time", int64_t{0}) * 1000;
        for (const auto& [email, userid] : settings.staff_userids) {
          if (userid != info.value("owner", "")) continue;
          for (const auto& u : users) {
            if (u.email == email) g.owner_staff = u.id;
          }
        }
        SIYU_ASSIGN_OR_RETURN(auto made, s_.store.create_group(who.workspace, g));
        group = made.id;
        settings.chats[made.id.value] = chat;
        ++created;
      }
      for (const auto& m : info.value("member_list", Json::array())) {
        if (m.value("type", 0) != 2) continue;  // staff members are not customers
        SIYU_ASSIGN_OR_RETURN(auto id, codec.make("wecom_external_userid", m.value("userid", ""), "", "member_list.userid"));
        SIYU_ASSIGN_OR_RETURN(auto who_is, s_.store.identify(who.workspace, {id}, now));
        const int scene = m.value("join_scene", 0);
        const std::string source = scene == 2 ? "wecom:link" : scene == 3 ? "wecom:qr" : "wecom:invite";
        SIYU_ASSIGN_OR_RETURN(bool added, s_.store.join_group(who.workspace, *group, who_is.customer, source, false,
                                                              m.value("join_time", now / 1000) * 1000));
        if (added) {
          ++joined;
          touched.push_back(who_is.customer);
        }
      }
    }
    if (created > 0) {
      SIYU_RETURN_IF_ERROR(wecom::save_wecom_settings(s_.store, s_.vault, who.workspace, settings, now));
    }
    reindex(s_, who.workspace, std::move(touched));
    s_.community->groups_changed(who.workspace);
    SIYU_RETURN_IF_ERROR(audit(s_, who, "wecom.groups.sync", "groups",
                               {{"chats", chats.size()}, {"created", created}, {"joined", joined}}));
    return json_reply({{"chats", chats.size()}, {"groups_created", created}, {"members_joined", joined}});
  }

 private:
  /// Stores a relayed group message through moderation; chats not mapped to a Siyu group
  /// are acknowledged and dropped (WeCom would otherwise retry them).
  Status group_message(WorkspaceId ws, const wecom::RelayedMessage& r,
                       const wecom::WecomSettings& settings, const customer::IdentityCodec& codec) {
    std::optional<int64_t> group;
    for (const auto& [id, chat_id] : settings.chats) {
      if (chat_id == r.chat_id) group = id;
    }
    if (!group) return Status::ok();
    community::IncomingMessage in;
    store::GroupMessage& m = in.message;
    m.group = GroupId(*group);
    m.msg_id = "wecom-" + r.msg_id;
    m.sender = r.from;
    m.type = r.type;
    m.text = r.text;
    m.at = r.at;
    in.qr = r.qr;
    if (r.from_customer) {
      SIYU_ASSIGN_OR_RETURN(auto id, codec.make("wecom_external_userid", r.from, "", "FromUserName"));
      SIYU_ASSIGN_OR_RETURN(auto found, s_.store.find_identity(ws, id.type, id.app_id, id.key));
      if (found) m.customer = found->customer;
    }
    std::vector<community::IncomingMessage> batch;
    batch.push_back(std::move(in));
    SIYU_ASSIGN_OR_RETURN(auto report, s_.community->ingest(ws, std::move(batch)));
    if (!report.touched.empty()) reindex(s_, ws, report.touched);
    return Status::ok();
  }

  Services& s_;
};

}  // namespace

std::vector<Route> wecom_routes(Services& s) {
  auto h = std::make_shared<WecomHandlers>(s);
  auto bind = [h](Result<Reply> (WecomHandlers::*fn)(const httplib::Request&, const Principal&)) {
    return [h, fn](const httplib::Request& req, const Principal& who) {
      return ((*h).*fn)(req, who);
    };
  };
  using P = Permission;
  using H = WecomHandlers;
  return {
      {"GET", "/v1/settings/wecom", P::kRead, "read the WeCom connection", bind(&H::get_settings)},
      {"PUT", "/v1/settings/wecom", P::kManageDelivery, "change the WeCom connection",
       bind(&H::put_settings)},
      {"GET", "/v1/wecom/tasks", P::kRead, "list WeCom mass-message tasks", bind(&H::tasks)},
      {"POST", "/v1/wecom/groups:sync", P::kManageCommunity, "import WeCom customer groups",
       bind(&H::sync_groups)},
      {"GET", "/v1/wecom/callback/{workspace}", std::nullopt, "verify the WeCom callback URL",
       bind(&H::callback)},
      {"POST", "/v1/wecom/callback/{workspace}", std::nullopt, "receive WeCom callbacks",
       bind(&H::callback)},
  };
}

}  // namespace siyu::api
