#include "community/service.h"

#include <charconv>
#include <iostream>

#include "community/message_figures.h"
#include "community/topics.h"
#include "core/time_format.h"

namespace siyu::community {
namespace {

constexpr EpochMs kDayMs = 86'400'000;
constexpr const char* kRetentionSetting = "community.text_retention_days";

}  // namespace

CommunityService::CommunityService(store::Store& store, const Clock& clock,
                                   std::function<void()> outbox_written)
    : store_(store),
      clock_(clock),
      outbox_written_(std::move(outbox_written)),
      folder_(TextFolder::shared()) {}

CommunityService::~CommunityService() { stop(); }

Result<CommunityService::Workspace*> CommunityService::workspace(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  auto& slot = workspaces_[ws.value];
  if (!slot) slot = std::make_unique<Workspace>();
  return slot.get();
}

void CommunityService::rules_changed(WorkspaceId ws) {
  std::lock_guard lock(mu_);
  auto it = workspaces_.find(ws.value);
  if (it == workspaces_.end()) return;
  std::lock_guard wlock(it->second->mu);
  it->second->moderator.reset();
  it->second->responder.reset();
}

Status CommunityService::compile(WorkspaceId ws, Workspace& w) {
  SIYU_ASSIGN_OR_RETURN(store::Workspace row, store_.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(w.offset_minutes, zone_offset_minutes(row.timezone));
  SIYU_ASSIGN_OR_RETURN(auto rules, store_.moderation_rules(ws));
  auto moderator = std::make_unique<Moderator>(rules, folder_);
  SIYU_ASSIGN_OR_RETURN(auto counts,
                        store_.violation_counts(ws, clock_.now_ms() - kEscalationDays * kDayMs));
  moderator->set_violations(counts);
  SIYU_ASSIGN_OR_RETURN(auto replies, store_.auto_replies(ws));
  auto responder = std::make_unique<AutoResponder>(replies, folder_);
  SIYU_ASSIGN_OR_RETURN(auto fired, store_.auto_reply_fires(ws));
  responder->set_fired(fired);
  w.moderator = std::move(moderator);
  w.responder = std::move(responder);
  return Status::ok();
}

bool MemberSet::contains(GroupId group, CustomerId customer) const {
  auto it = by_group_.find(group.value);
  return it != by_group_.end() &&
         std::binary_search(it->second.begin(), it->second.end(), customer.value);
}

void MemberSet::add(GroupId group, CustomerId customer) {
  auto& ids = by_group_[group.value];
  auto at = std::lower_bound(ids.begin(), ids.end(), customer.value);
  if (at == ids.end() || *at != customer.value) ids.insert(at, customer.value);
}

void MemberSet::remove(GroupId group, CustomerId customer) {
  auto it = by_group_.find(group.value);
  if (it == by_group_.end()) return;
  auto at = std::lower_bound(it->second.begin(), it->second.end(), customer.value);
  if (at != it->second.end() && *at == customer.value) it->second.erase(at);
}

Status CommunityService::sync_members(WorkspaceId ws, Workspace& w) {
  SIYU_ASSIGN_OR_RETURN(auto facts, w.members_loaded ? store_.membership_changes_after(ws, w.members_through)
                                                     : store_.current_members(ws));
  for (const auto& c : facts.changes) {
    if (c.joined) {
      w.members.add(c.group, c.customer);
    } else {
      w.members.remove(c.group, c.customer);
    }
  }
  w.members_loaded = true;
  w.members_through = facts.through;
  w.member_leaves = facts.member_leaves;
  return Status::ok();
}

Status CommunityService::recount(WorkspaceId ws, Workspace& w) {
  if (w.recounted) return Status::ok();
  SIYU_ASSIGN_OR_RETURN(int64_t through, store_.message_figures_mark(ws));
  constexpr int kChunk = 10'000;
  for (;;) {
    SIYU_ASSIGN_OR_RETURN(auto chunk, store_.group_messages_after(ws, through, kChunk));
    if (chunk.empty()) break;
    if (w.figures.messages == 0) w.figures_since = clock_.now_ms();
    for (store::GroupMessage& m : chunk) {
      m.terms = extract_terms(*folder_, m.text);
      count_message(w.figures, m, w.offset_minutes);
    }
    through = chunk.back().id;
  }
  w.recounted = true;
  return Status::ok();
}

Status CommunityService::write_figures(WorkspaceId ws, Workspace& w) {
  if (w.figures.messages == 0) return Status::ok();
  SIYU_RETURN_IF_ERROR(store_.apply_message_figures(ws, w.figures));
  w.figures = store::MessageFigures{};
  return Status::ok();
}

Status CommunityService::settle(WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(ws));
  std::lock_guard lock(w->mu);
  if (!w->moderator) SIYU_RETURN_IF_ERROR(compile(ws, *w));
  SIYU_RETURN_IF_ERROR(recount(ws, *w));
  return write_figures(ws, *w);
}

Status CommunityService::settle_all() {
  std::vector<int64_t> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : workspaces_) ids.push_back(id);
  }
  for (int64_t id : ids) SIYU_RETURN_IF_ERROR(settle(WorkspaceId(id)));
  return Status::ok();
}

void CommunityService::write_aged_figures(EpochMs now) {
  std::vector<std::pair<int64_t, Workspace*>> all;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, w] : workspaces_) all.emplace_back(id, w.get());
  }
  for (auto [id, w] : all) {
    std::lock_guard lock(w->mu);
    if (w->figures.messages == 0 || now - w->figures_since < kFiguresMaxAgeMs) continue;
    if (Status st = write_figures(WorkspaceId(id), *w); !st.is_ok()) {
      std::cerr << "community: message figures: " << st.message() << "\n";
    }
  }
}

Result<IngestReport> CommunityService::ingest(WorkspaceId ws, std::vector<IncomingMessage> batch) {
  SIYU_ASSIGN_OR_RETURN(Workspace * w, workspace(ws));
  std::lock_guard lock(w->mu);
  if (!w->moderator) SIYU_RETURN_IF_ERROR(compile(ws, *w));
  SIYU_RETURN_IF_ERROR(recount(ws, *w));
  SIYU_RETURN_IF_ERROR(sync_members(ws, *w));
  store::MessageBatch out;
  out.offset_minutes = w->offset_minutes;
  out.messages.reserve(batch.size());
  IngestReport report;
  for (auto& in : batch) {
    store::GroupMessage& m = in.message;
    m.terms = extract_terms(*folder_, m.text);
    m.moderation = w->moderator->check(MessageView{m.group, m.customer, m.type, m.text, in.qr, m.at});
    if (!m.moderation && m.customer.valid()) {
      if (auto reply = w->responder->answer(m.group, m.text, m.at)) m.replies.push_back(*reply);
    }
    if (m.moderation && m.customer.valid()) report.touched.push_back(m.customer);
    out.sender_known.push_back(w->members.contains(m.group, m.customer));
    out.messages.push_back(std::move(m));
  }
  out.member_leaves = w->member_leaves;
  auto stored = store_.store_group_messages(ws, out, clock_.now_ms());
  if (!stored) {
    // The in-memory state counted messages that were not stored: rebuild it from the store.
    w->moderator.reset();
    w->responder.reset();
    return stored.status();
  }
  if (w->figures.messages == 0) w->figures_since = clock_.now_ms();
  for (size_t i = 0; i < out.messages.size(); ++i) {
    if (!stored->stored[i]) {
      ++report.duplicates;
      continue;
    }
    ++report.stored;
    store::GroupMessage& m = out.messages[i];
    m.id = stored->ids[i];
    m.reply_author = stored->reply_authors[i];
    count_message(w->figures, m, w->offset_minutes);
  }
  if (w->figures.members.size() >= kFiguresMaxMembers) {
    // The messages are stored either way: a failed write is tried again later.
    if (Status st = write_figures(ws, *w); !st.is_ok()) {
      std::cerr << "community: message figures: " << st.message() << "\n";
    }
  }
  report.violations = stored->violations;
  report.replies = stored->replies;
  if ((report.violations > 0 || report.replies > 0) && outbox_written_) outbox_written_();
  return report;
}

Result<int> CommunityService::greet(EpochMs now) {
  SIYU_ASSIGN_OR_RETURN(auto pending, store_.pending_welcomes());
  int written = 0;
  for (const auto& p : pending) {
    if (now - p.first_join_at < kWelcomeGatherMs) continue;
    SIYU_ASSIGN_OR_RETURN(store::Group g, store_.group(p.workspace, p.group));
    SIYU_ASSIGN_OR_RETURN(auto people, store_.customers_by_id(p.workspace, p.customers));
    std::string text = "欢迎";
    for (const auto& c : people) text += " @" + (c.name.empty() ? "新朋友" : c.name);
    text += " 加入「" + g.name + "」！";
    if (!g.welcome.empty()) text += "\n" + g.welcome;
    store::OutboxItem post;
    post.workspace = p.workspace;
    post.idem_key = "w" + std::to_string(p.workspace.value) + "-welcome-g" +
                    std::to_string(p.group.value) + "-j" + std::to_string(p.join_ids.front());
    post.kind = "group_post";
    post.message_class = "key";
    post.group = p.group;
    post.step = "welcome";
    if (g.owner_staff) {
      auto staff = store_.user(p.workspace, *g.owner_staff);
      if (staff) post.staff = staff->email;
    }
    post.payload_json = Json{{"content", {{"text", text}}},
                             {"welcomed", static_cast<int64_t>(p.customers.size())}}
                            .dump();
    post.not_before = now;
    post.created_at = now;
    SIYU_RETURN_IF_ERROR(store_.record_welcome(p.workspace, p.join_ids, post));
    ++written;
  }
  if (written > 0 && outbox_written_) outbox_written_();
  return written;
}

Result<std::shared_ptr<const HealthSnapshot>> CommunityService::build_health(WorkspaceId ws,
                                                                             int days) {
  SIYU_RETURN_IF_ERROR(settle(ws));
  SIYU_ASSIGN_OR_RETURN(store::Workspace row, store_.workspace(ws));
  SIYU_ASSIGN_OR_RETURN(int offset, zone_offset_minutes(row.timezone));
  auto snap = std::make_shared<HealthSnapshot>();
  snap->built_at = clock_.now_ms();
  const int64_t today = local_day(snap->built_at, offset);
  snap->window = HealthWindow{today - days + 1, today};
  SIYU_ASSIGN_OR_RETURN(snap->groups, store_.groups(ws));
  SIYU_ASSIGN_OR_RETURN(auto rows, store_.group_days(ws, std::nullopt, first_day_needed(snap->window),
                                                     snap->window.to_day));
  snap->figures = health_list(snap->groups, rows, snap->window);
  return std::shared_ptr<const HealthSnapshot>(std::move(snap));
}

Result<std::shared_ptr<const HealthSnapshot>> CommunityService::health(WorkspaceId ws, int days) {
  const EpochMs now = clock_.now_ms();
  {
    std::lock_guard lock(health_mu_);
    auto& entry = health_[{ws.value, days}];
    entry.last_asked = now;
    if (entry.snapshot && now - entry.snapshot->built_at < kHealthMaxAgeMs) return entry.snapshot;
  }
  SIYU_ASSIGN_OR_RETURN(auto snap, build_health(ws, days));
  std::lock_guard lock(health_mu_);
  auto& entry = health_[{ws.value, days}];
  if (!entry.snapshot || entry.snapshot->built_at < snap->built_at) entry.snapshot = snap;
  return snap;
}

void CommunityService::groups_changed(WorkspaceId ws) {
  std::lock_guard lock(health_mu_);
  for (auto& [key, entry] : health_) {
    if (key.first == ws.value) entry.snapshot.reset();
  }
}

void CommunityService::refresh_health(EpochMs now) {
  std::vector<std::pair<int64_t, int>> stale;
  {
    std::lock_guard lock(health_mu_);
    for (const auto& [key, entry] : health_) {
      const bool watched = now - entry.last_asked < 600'000;
      const bool aging = !entry.snapshot || now - entry.snapshot->built_at > kHealthMaxAgeMs / 2;
      if (watched && aging) stale.push_back(key);
    }
  }
  for (const auto& [ws, days] : stale) {
    auto snap = build_health(WorkspaceId(ws), days);
    if (!snap) {
      std::cerr << "community: health: " << snap.status().message() << "\n";
      continue;
    }
    std::lock_guard lock(health_mu_);
    auto& entry = health_[{ws, days}];
    if (!entry.snapshot || entry.snapshot->built_at < (*snap)->built_at) entry.snapshot = *snap;
  }
}

Result<int> CommunityService::text_retention_days(WorkspaceId ws) {
  SIYU_ASSIGN_OR_RETURN(auto value, store_.setting(ws, kRetentionSetting));
  int days = 0;
  if (!value || std::from_chars(value->data(), value->data() + value->size(), days).ec != std::errc()) {
    return kDefaultTextRetentionDays;
  }
  return days;
}

Result<int64_t> CommunityService::expire_texts(EpochMs now) {
  SIYU_ASSIGN_OR_RETURN(auto all, store_.workspaces());
  int64_t cleared = 0;
  for (const auto& w : all) {
    // Figures are counted from the text: messages after the written mark are counted first.
    SIYU_RETURN_IF_ERROR(settle(w.id));
    SIYU_ASSIGN_OR_RETURN(int days, text_retention_days(w.id));
    SIYU_ASSIGN_OR_RETURN(int64_t n, store_.expire_message_text(w.id, now - days * kDayMs));
    cleared += n;
  }
  return cleared;
}

void CommunityService::start() {
  std::lock_guard lock(run_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void CommunityService::stop() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CommunityService::run() {
  EpochMs last_expiry = 0;
  std::unique_lock lock(run_mu_);
  while (!stopping_) {
    lock.unlock();
    const EpochMs now = clock_.now_ms();
    if (auto r = greet(now); !r) std::cerr << "community: welcome: " << r.status().message() << "\n";
    write_aged_figures(now);
    refresh_health(now);
    if (now - last_expiry >= 3'600'000) {
      if (auto r = expire_texts(now); !r) {
        std::cerr << "community: text retention: " << r.status().message() << "\n";
      }
      last_expiry = now;
    }
    lock.lock();
    run_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; });
  }
}

}  // namespace siyu::community
