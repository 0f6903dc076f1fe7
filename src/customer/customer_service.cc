#include "customer/customer_service.h"

#include <map>

#include "core/text.h"
#include "core/time_format.h"

namespace siyu::customer {
namespace {

std::string hex_encode(const std::string& bytes) { return to_hex(bytes); }

Result<std::string> hex_decode(const std::string& hex) {
  if (hex.size() % 2 != 0) return internal_error("sealed custom field is corrupt");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
  }
  return out;
}

Status check_custom_value(const store::FieldDef& def, const Json& v, const std::string& path) {
  if (def.type == "string") {
    if (!v.is_string()) return invalid(path + " must be a string", path);
    if (auto p = text_problem(v.get_ref<const std::string&>(), 1000)) {
      return invalid(path + " " + *p, path);
    }
  } else if (def.type == "number") {
    if (!v.is_number()) return invalid(path + " must be a number", path);
  } else if (def.type == "boolean") {
    if (!v.is_boolean()) return invalid(path + " must be true or false", path);
  } else if (def.type == "date") {
    if (!v.is_string() || !parse_date(v.get_ref<const std::string&>())) {
      return invalid(path + " must be a date YYYY-MM-DD", path);
    }
  }
  return Status::ok();
}

}  // namespace

Status CustomerService::apply_attributes(WorkspaceId ws, const Json& body, store::Customer& c,
                                         std::vector<store::Identity>& implied) {
  JsonFields f(body, "");
  const IdentityCodec codec(vault_, ws);
  if (auto v = f.opt_string("name", 64)) c.name = std::string(trim(*v));
  if (f.is_null("name")) c.name.clear();
  if (auto v = f.opt_enum("gender", {"male", "female", "unknown"})) c.gender = *v;
  if (f.is_null("gender")) c.gender = "unknown";
  if (auto v = f.opt_string("birthday", 10)) {
    auto d = parse_date(*v);
    if (!d) {
      f.fail("birthday", "must be a date YYYY-MM-DD");
    } else {
      c.birthday = *v;
    }
  }
  if (f.is_null("birthday")) c.birthday.clear();
  if (auto v = f.opt_string("city", 64)) c.city = std::string(trim(*v));
  if (f.is_null("city")) c.city.clear();
  if (auto v = f.opt_string("phone", 32)) {
    auto norm = normalize_phone(*v, "phone");
    if (!norm) {
      f.fail("phone", "must be a mobile number such as 13800138000");
    } else {
      c.phone_sealed = codec.seal(*norm, "phone");
      c.phone_masked = mask_phone(*norm);
      auto id = codec.make("phone", *norm, "", "phone");
      if (id) implied.push_back(*id);
    }
  }
  if (f.is_null("phone")) c.phone_sealed.clear(), c.phone_masked.clear();
  if (auto v = f.opt_string("email", 254)) {
    auto norm = normalize_email(*v, "email");
    if (!norm) {
      f.fail("email", "must be an e-mail address");
    } else {
      c.email_sealed = codec.seal(*norm, "email");
      c.email_masked = mask_email(*norm);
      auto id = codec.make("email", *norm, "", "email");
      if (id) implied.push_back(*id);
    }
  }
  if (f.is_null("email")) c.email_sealed.clear(), c.email_masked.clear();
  if (auto v = f.opt_int("owner_staff_id", 1, INT32_MAX)) {
    if (!store_.user(ws, UserId(*v))) {
      f.fail("owner_staff_id", "names no staff member of this workspace");
    } else {
      c.owner_staff = UserId(*v);
    }
  }
  if (f.is_null("owner_staff_id")) c.owner_staff.reset();
  if (auto v = f.opt_int("referrer_staff_id", 1, INT32_MAX)) {
    if (!store_.user(ws, UserId(*v))) {
      f.fail("referrer_staff_id", "names no staff member of this workspace");
    } else {
      c.referrer_staff = UserId(*v);
    }
  }
  if (f.is_null("referrer_staff_id")) c.referrer_staff.reset();
  if (auto v = f.opt_int("channel_id", 1, INT32_MAX)) {
    if (!store_.channel(ws, ChannelId(*v))) {
      f.fail("channel_id", "names no channel of this workspace");
    } else {
      c.channel = ChannelId(*v);
    }
  }
  if (f.is_null("channel_id")) c.channel.reset();
  if (auto v = f.opt_string("campaign", 128)) c.campaign = *v;
  if (f.is_null("campaign")) c.campaign.clear();
  if (auto v = f.opt_string("content", 128)) c.content = *v;
  if (f.is_null("content")) c.content.clear();
  if (auto v = f.opt_string("referrer_partner", 128)) c.referrer_partner = *v;
  if (f.is_null("referrer_partner")) c.referrer_partner.clear();
  if (const Json* custom = f.opt_any("custom"); custom != nullptr && !custom->is_null() && f.ok()) {
    if (!custom->is_object()) {
      f.fail("custom", "must be an object");
    } else {
      auto defs = store_.field_defs(ws);
      if (!defs) return defs.error();
      std::map<std::string, store::FieldDef, std::less<>> by_name;
      for (const auto& d : *defs) by_name.emplace(d.name, d);
      Json merged = parse_json(c.custom_json).value_or(Json::object());
      for (auto it = custom->begin(); it != custom->end(); ++it) {
        const std::string path = "custom." + it.key();
        auto def = by_name.find(it.key());
        if (def == by_name.end()) {
          return invalid(path + " is not a declared custom field", path);
        }
        if (it->is_null()) {
          merged.erase(it.key());
          continue;
        }
        SIYU_RETURN_IF_ERROR(check_custom_value(def->second, *it, path));
        merged[it.key()] = def->second.personal
                               ? Json(hex_encode(codec.seal(it->dump(), "custom." + it.key())))
                               : *it;
      }
      c.custom_json = merged.dump();
    }
  }
  f.allow("identities");
  return f.finish();
}

Result<Json> CustomerService::create(WorkspaceId ws, const Json& body, const View& view) {
  store::Customer c;
  c.workspace = ws;
  c.created_at = c.updated_at = clock_.now_ms();
  std::vector<store::Identity> ids;
  SIYU_RETURN_IF_ERROR(apply_attributes(ws, body, c, ids));
  if (auto it = body.find("identities"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return invalid("identities must be an array", "identities");
    if (it->size() > 50) return invalid("identities has more than 50 entries", "identities");
    const IdentityCodec codec(vault_, ws);
    for (size_t i = 0; i < it->size(); ++i) {
      SIYU_ASSIGN_OR_RETURN(auto id, codec.parse((*it)[i], "identities[" + std::to_string(i) + "]"));
      ids.push_back(std::move(id));
    }
  }
  // The same identity named twice (phone field and identities list) is one identity.
  std::vector<store::Identity> unique;
  for (auto& id : ids) {
    bool dup = false;
    for (const auto& u : unique) dup = dup || (u.type == id.type && u.app_id == id.app_id && u.key == id.key);
    if (!dup) unique.push_back(std::move(id));
  }
  SIYU_ASSIGN_OR_RETURN(store::Customer made, store_.create_customer(c, unique));
  return get(ws, made.id, view);
}

Result<Json> CustomerService::update(WorkspaceId ws, CustomerId id, const Json& body,
                                     const View& view) {
  SIYU_ASSIGN_OR_RETURN(store::Customer c, store_.customer(ws, id));
  if (c.merged_into || c.erased_at) {
    return not_found("customer " + std::to_string(id.value) + " not found");
  }
  if (body.is_object() && body.contains("identities")) {
    return invalid("identities can't be changed here; use POST /v1/identify", "identities");
  }
  std::vector<store::Identity> implied;
  SIYU_RETURN_IF_ERROR(apply_attributes(ws, body, c, implied));
  for (const auto& i : implied) {
    SIYU_ASSIGN_OR_RETURN(auto existing, store_.find_identity(ws, i.type, i.app_id, i.key));
    if (existing && existing->customer != id) {
      return conflict(i.type + " belongs to customer " + std::to_string(existing->customer.value) +
                          "; use POST /v1/identify to merge",
                      i.type);
    }
  }
  c.anonymous = c.anonymous && c.name.empty() && c.phone_sealed.empty() && c.email_sealed.empty();
  c.updated_at = clock_.now_ms();
  SIYU_RETURN_IF_ERROR(store_.update_customer(c));
  if (!implied.empty()) {
    SIYU_ASSIGN_OR_RETURN(auto out, store_.identify(ws, [&] {
      auto all = implied;
      // Anchor the call on one identity the customer surely has, so nothing merges.
      auto own = store_.identities(ws, id);
      if (own && !own->empty()) all.push_back(own->front());
      return all;
    }(), c.updated_at));
    (void)out;
  }
  return get(ws, id, view);
}

Json CustomerService::render(const store::Customer& c, const View& view) const {
  const IdentityCodec codec(vault_, c.workspace);
  auto opt_id = [](const auto& v) { return v ? Json(v->value) : Json(nullptr); };
  Json j = {
      {"id", c.id.value},
      {"name", view.pii_allowed ? c.name : mask_name(c.name)},
      {"gender", c.gender},
      {"birthday", c.birthday.empty() ? Json(nullptr) : Json(view.pii_allowed ? c.birthday : "****-**-**")},
      {"city", c.city},
      {"phone", c.phone_masked.empty() ? Json(nullptr) : Json(c.phone_masked)},
      {"email", c.email_masked.empty() ? Json(nullptr) : Json(c.email_masked)},
      {"owner_staff_id", opt_id(c.owner_staff)},
      {"channel_id", opt_id(c.channel)},
      {"campaign", c.campaign},
      {"content", c.content},
      {"referrer_staff_id", opt_id(c.referrer_staff)},
      {"referrer_partner", c.referrer_partner},
      {"layer", c.layer},
      {"anonymous", c.anonymous},
      {"created_at", format_timestamp(c.created_at)},
      {"updated_at", format_timestamp(c.updated_at)},
  };
  if (view.reveal) {
    if (!c.phone_sealed.empty()) {
      if (auto p = codec.unseal(c.phone_sealed, "phone")) j["phone"] = *p;
    }
    if (!c.email_sealed.empty()) {
      if (auto e = codec.unseal(c.email_sealed, "email")) j["email"] = *e;
    }
  }
  Json custom = parse_json(c.custom_json).value_or(Json::object());
  auto defs = store_.field_defs(c.workspace);
  if (defs) {
    for (const auto& d : *defs) {
      if (!d.personal || !custom.contains(d.name)) continue;
      if (!view.reveal) {
        custom[d.name] = "****";
        continue;
      }
      auto bytes = hex_decode(custom[d.name].get<std::string>());
      auto plain = bytes ? codec.unseal(*bytes, "custom." + d.name) : Result<std::string>(bytes.error());
      custom[d.name] = plain ? parse_json(*plain).value_or(Json(nullptr)) : Json(nullptr);
    }
  }
  j["custom"] = std::move(custom);
  return j;
}

Result<Json> CustomerService::get(WorkspaceId ws, CustomerId id, const View& view) {
  SIYU_ASSIGN_OR_RETURN(store::Customer c, store_.customer(ws, id));
  if (c.merged_into) {
    SIYU_ASSIGN_OR_RETURN(c, store_.customer(ws, *c.merged_into));
  }
  if (c.erased_at) return not_found("customer " + std::to_string(id.value) + " was erased");
  Json j = render(c, view);
  SIYU_ASSIGN_OR_RETURN(auto ids, store_.identities(ws, c.id));
  const IdentityCodec codec(vault_, ws);
  Json jids = Json::array();
  for (const auto& i : ids) {
    std::string value = i.display;
    if (view.reveal && !i.sealed.empty()) {
      if (auto p = codec.unseal(i.sealed, i.type)) value = *p;
    }
    Json ji = {{"type", i.type}, {"value", value}, {"created_at", format_timestamp(i.created_at)}};
    if (!i.app_id.empty()) ji["app_id"] = i.app_id;
    jids.push_back(std::move(ji));
  }
  j["identities"] = std::move(jids);
  SIYU_ASSIGN_OR_RETURN(auto tags, store_.tags(ws, c.id));
  Json jtags = Json::array();
  for (const auto& t : tags) jtags.push_back(t.tag);
  j["tags"] = std::move(jtags);
  SIYU_ASSIGN_OR_RETURN(auto rels, store_.relations(ws, c.id));
  Json jrels = Json::array();
  for (const auto& [kind, target] : rels) jrels.push_back({{"kind", kind}, {"target", target}});
  j["relations"] = std::move(jrels);
  SIYU_ASSIGN_OR_RETURN(auto merges, store_.merges(ws, c.id));
  Json jm = Json::array();
  for (const auto& m : merges) {
    jm.push_back({{"merged", m.merged.value}, {"reason", m.reason}, {"at", format_timestamp(m.at)}});
  }
  j["merges"] = std::move(jm);
  if (c.id != id) j["requested_id"] = id.value;
  return j;
}

Result<Json> CustomerService::list(WorkspaceId ws, const store::CustomerFilter& filter,
                                   const View& view) {
  SIYU_ASSIGN_OR_RETURN(auto rows, store_.customers(ws, filter));
  Json items = Json::array();
  for (const auto& c : rows) items.push_back(render(c, view));
  Json out = {{"items", std::move(items)}};
  Json next(nullptr);
  if (static_cast<int>(rows.size()) == filter.limit && !rows.empty()) {
    const store::Customer& last = rows.back();
    next = filter.by_created
               ? std::to_string(last.created_at) + "." + std::to_string(last.id.value)
               : std::to_string(last.id.value);
  }
  out["next_cursor"] = std::move(next);
  return out;
}

Status CustomerService::erase(WorkspaceId ws, CustomerId id) {
  return store_.erase_customer(ws, id, clock_.now_ms());
}

Result<Json> CustomerService::identify(WorkspaceId ws, const Json& body, const View& view) {
  JsonFields f(body, "");
  const Json* list = f.opt_any("identities");
  const Json* attrs = f.opt_any("attributes");
  SIYU_RETURN_IF_ERROR(f.finish());
  if (list == nullptr || !list->is_array() || list->empty()) {
    return invalid("identities must be a non-empty array", "identities");
  }
  if (list->size() > 50) return invalid("identities has more than 50 entries", "identities");
  const IdentityCodec codec(vault_, ws);
  std::vector<store::Identity> ids;
  for (size_t i = 0; i < list->size(); ++i) {
    SIYU_ASSIGN_OR_RETURN(auto id, codec.parse((*list)[i], "identities[" + std::to_string(i) + "]"));
    ids.push_back(std::move(id));
  }
  if (attrs != nullptr && !attrs->is_null() && !attrs->is_object()) {
    return invalid("attributes must be an object", "attributes");
  }
  if (attrs != nullptr && attrs->is_object()) {
    // Validate before anything is written, so bad attributes change nothing.
    store::Customer scratch;
    std::vector<store::Identity> ignored;
    Status st = apply_attributes(ws, *attrs, scratch, ignored);
    if (!st.is_ok()) return Status(st.code(), "attributes." + st.message(), "attributes." + st.field());
  }
  SIYU_ASSIGN_OR_RETURN(auto outcome, store_.identify(ws, ids, clock_.now_ms()));
  if (attrs != nullptr && attrs->is_object() && !attrs->empty()) {
    SIYU_ASSIGN_OR_RETURN(auto updated, update(ws, outcome.customer, *attrs, view));
    (void)updated;
  }
  SIYU_ASSIGN_OR_RETURN(Json customer, get(ws, outcome.customer, view));
  Json merged = Json::array();
  for (auto m : outcome.merged) merged.push_back(m.value);
  return Json{{"customer", std::move(customer)},
              {"created", outcome.created},
              {"merged", std::move(merged)},
              {"identities_added", outcome.identities_added}};
}

Result<std::optional<CustomerId>> CustomerService::find_by_identity_value(WorkspaceId ws,
                                                                          std::string_view value) {
  const IdentityCodec codec(vault_, ws);
  for (const char* type : kIdentityTypes) {
    if (std::string_view(type) == "wechat_openid") continue;
    auto id = codec.make(type, value, "", "q");
    if (!id) continue;
    SIYU_ASSIGN_OR_RETURN(auto found, store_.find_identity(ws, id->type, "", id->key));
    if (found) return std::optional<CustomerId>(found->customer);
  }
  return std::optional<CustomerId>();
}

Status CustomerService::define_field(WorkspaceId ws, const Json& body) {
  JsonFields f(body, "");
  store::FieldDef d;
  d.name = f.req_string("name", 40);
  d.type = f.opt_enum("type", {"string", "number", "boolean", "date"}).value_or("");
  d.personal = f.opt_bool("personal").value_or(false);
  d.label = f.opt_string("label", 64).value_or("");
  SIYU_RETURN_IF_ERROR(f.finish());
  if (d.type.empty()) return invalid("type is required", "type");
  for (char ch : d.name) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
      return invalid("name must use a-z, 0-9 and _", "name");
    }
  }
  return store_.put_field_def(ws, d);
}

}  // namespace siyu::customer
