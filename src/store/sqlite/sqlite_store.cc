// SQLite backend of the Store: one writer connection behind a mutex (SQLite allows one
// writer at a time), a small pool of reader connections for concurrent reads in WAL mode.
// Every write runs in a BEGIN IMMEDIATE transaction of a group commit; a returned write is on
// disk (see WalSync).
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "core/json.h"
#include "store/sqlite/analytics_sql.h"
#include "store/sqlite/community_sql.h"
#include "store/sqlite/db.h"
#include "store/sqlite/event_key_index.h"
#include "store/sqlite/identity_cache.h"
#include "store/sqlite/journey_sql.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/segment_feed_sql.h"
#include "store/sqlite/tag_holders.h"
#include "store/sqlite/tag_log.h"
#include "store/sqlite/wal_sync.h"
#include "store/store.h"

namespace siyu::store {
namespace sqlite {
namespace {

using Clock = std::chrono::steady_clock;

int64_t micros_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

constexpr const char* kUserCols =
    "id, workspace_id, email, display_name, role, password_hash, disabled, created_at";
User read_user(const Statement& s) {
  User u;
  u.id = UserId(s.int_at(0));
  u.workspace = WorkspaceId(s.int_at(1));
  u.email = s.text_at(2);
  u.display_name = s.text_at(3);
  u.role = parse_role(s.text_at(4)).value_or(Role::kAnalyst);
  u.password_hash = s.text_at(5);
  u.disabled = s.int_at(6) != 0;
  u.created_at = s.int_at(7);
  return u;
}

constexpr const char* kKeyCols =
    "id, workspace_id, name, role, prefix, digest, created_at, revoked_at, last_used_at";
ApiKey read_key(const Statement& s) {
  ApiKey k;
  k.id = ApiKeyId(s.int_at(0));
  k.workspace = WorkspaceId(s.int_at(1));
  k.name = s.text_at(2);
  k.role = parse_role(s.text_at(3)).value_or(Role::kAnalyst);
  k.prefix = s.text_at(4);
  k.digest = s.text_at(5);
  k.created_at = s.int_at(6);
  k.revoked_at = s.opt_int_at(7);
  k.last_used_at = s.opt_int_at(8);
  return k;
}

constexpr const char* kCustomerCols =
    "workspace_id, id, name, gender, birthday, city, phone_sealed, phone_masked, email_sealed, "
    "email_masked, custom, owner_staff, channel_id, campaign, content, referrer_staff, "
    "referrer_partner, layer, anonymous, merged_into, erased_at, created_at, updated_at";
Customer read_customer(const Statement& s) {
  Customer c;
  c.workspace = WorkspaceId(s.int_at(0));
  c.id = CustomerId(s.int_at(1));
  c.name = s.text_at(2);
  c.gender = s.text_at(3);
  c.birthday = s.text_at(4);
  c.city = s.text_at(5);
  c.phone_sealed = s.blob_at(6);
  c.phone_masked = s.text_at(7);
  c.email_sealed = s.blob_at(8);
  c.email_masked = s.text_at(9);
  c.custom_json = s.text_at(10);
  if (auto v = s.opt_int_at(11)) c.owner_staff = UserId(*v);
  if (auto v = s.opt_int_at(12)) c.channel = ChannelId(*v);
  c.campaign = s.text_at(13);
  c.content = s.text_at(14);
  if (auto v = s.opt_int_at(15)) c.referrer_staff = UserId(*v);
  c.referrer_partner = s.text_at(16);
  c.layer = s.text_at(17);
  c.anonymous = s.int_at(18) != 0;
  if (auto v = s.opt_int_at(19)) c.merged_into = CustomerId(*v);
  c.erased_at = s.opt_int_at(20);
  c.created_at = s.int_at(21);
  c.updated_at = s.int_at(22);
  return c;
}

std::string last4_of_masked(const std::string& masked) {
  return masked.size() >= 4 ? masked.substr(masked.size() - 4) : std::string();
}

constexpr const char* kIdentityCols =
    "type, app_id, key, sealed, display, customer_id, created_at";
Identity read_identity(const Statement& s) {
  Identity i;
  i.type = s.text_at(0);
  i.app_id = s.text_at(1);
  i.key = s.text_at(2);
  i.sealed = s.blob_at(3);
  i.display = s.text_at(4);
  i.customer = CustomerId(s.int_at(5));
  i.created_at = s.int_at(6);
  return i;
}

constexpr const char* kOrderCols =
    "order_id, customer_id, status, amount, refund_amount, currency, store, channel, staff, "
    "items, ordered_at, paid_at, refunded_at, updated_at";
Order read_order(const Statement& s) {
  Order o;
  o.order_id = s.text_at(0);
  o.customer = CustomerId(s.int_at(1));
  o.status = s.text_at(2);
  o.amount = s.int_at(3);
  o.refund_amount = s.int_at(4);
  o.currency = s.text_at(5);
  o.store = s.text_at(6);
  o.channel = s.text_at(7);
  o.staff = s.text_at(8);
  o.items_json = s.text_at(9);
  o.ordered_at = s.int_at(10);
  o.paid_at = s.opt_int_at(11);
  o.refunded_at = s.opt_int_at(12);
  o.updated_at = s.int_at(13);
  return o;
}

constexpr const char* kChannelCols = "id, kind, name, code, created_at";
Channel read_channel(const Statement& s) {
  Channel c;
  c.id = ChannelId(s.int_at(0));
  c.kind = s.text_at(1);
  c.name = s.text_at(2);
  c.code = s.text_at(3);
  c.created_at = s.int_at(4);
  return c;
}

Event read_event(const Statement& r) {
  Event e;
  e.seq = r.int_at(0);
  e.event_id = r.text_at(1);
  e.customer = CustomerId(r.int_at(2));
  e.type = r.text_at(3);
  e.ts = r.int_at(4);
  e.amount = r.int_at(5);
  e.channel = r.text_at(6);
  e.campaign = r.text_at(7);
  e.content = r.text_at(8);
  e.staff = r.text_at(9);
  e.properties_json = r.text_at(10);
  e.received_at = r.int_at(11);
  return e;
}

Status apply_migrations(Connection& c) {
  SIYU_RETURN_IF_ERROR(c.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT "
      "NOT NULL, applied_at INTEGER NOT NULL)"));
  for (const Migration& m : kMigrations) {
    SIYU_PREPARE(q, c, "SELECT 1 FROM schema_migrations WHERE version = ?");
    q->bind(1, int64_t{m.version});
    const bool applied = q->step();
    q->reset();
    if (applied) continue;
    Transaction tx(c);
    SIYU_RETURN_IF_ERROR(tx.begin_status());
    SIYU_RETURN_IF_ERROR(c.exec(m.sql));
    SIYU_PREPARE(ins, c,
                 "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, "
                 "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))");
    ins->bind(1, int64_t{m.version}).bind(2, m.name);
    SIYU_RETURN_IF_ERROR(ins->run());
    SIYU_RETURN_IF_ERROR(tx.commit());
  }
  return Status::ok();
}

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> open(const StoreConfig& config) {
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) return internal_error("cannot create data directory " + config.data_dir);
    ::chmod(config.data_dir.c_str(), 0700);
    const std::string path = config.data_dir + "/siyu.db";
    auto store = std::unique_ptr<SqliteStore>(new SqliteStore(
        config.event_keys_file_at, config.event_runs_per_level, config.event_merge_slice));
    store->path_ = path;
    store->durable_ = config.durable;
    store->wal_ = std::make_unique<WalSync>(path + "-wal", config.durable);
    SIYU_ASSIGN_OR_RETURN(store->writer_, Connection::open(path, config.durable));
    SIYU_RETURN_IF_ERROR(apply_migrations(*store->writer_));
    {
      SIYU_PREPARE(q, *store->writer_,
                   "SELECT value FROM store_counters WHERE name='next_event_seq'");
      SIYU_ASSIGN_OR_RETURN(store->next_event_seq_, scalar(*q));
    }
    SIYU_RETURN_IF_ERROR(store->keys_.open(*store->writer_));
    SIYU_RETURN_IF_ERROR(store->apply_whole_tag_log());
    store->tag_apply_step_ = std::max<size_t>(1, config.tag_apply_step);
    for (int i = 0; i < std::max(1, config.reader_connections); ++i) {
      SIYU_ASSIGN_OR_RETURN(auto reader, Connection::open(path, config.durable));
      SIYU_RETURN_IF_ERROR(reader->exec("PRAGMA query_only=ON"));
      store->free_readers_.push_back(reader.get());
      store->readers_.push_back(std::move(reader));
    }
    SIYU_ASSIGN_OR_RETURN(store->checkpointer_, Connection::open(path, config.durable));
    store->checkpoint_thread_ = std::thread([s = store.get()] { s->checkpoint_loop(); });
    if (config.apply_tags_in_background) {
      store->tag_apply_thread_ = std::thread([s = store.get()] { s->tag_apply_loop(); });
    }
    return store;
  }

  // ---------------------------------------------------------------- workspaces
  Result<Workspace> create_workspace(const Workspace& w) override {
    return write<Workspace>([&](Connection& c) -> Result<Workspace> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO workspaces (slug, name, timezone, created_at) VALUES (?,?,?,?)");
      s->bind(1, w.slug).bind(2, w.name).bind(3, w.timezone).bind(4, w.created_at);
      Status st = s->run();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("workspace \"" + w.slug + "\" already exists", "slug");
      }
      SIYU_RETURN_IF_ERROR(st);
      Workspace out = w;
      out.id = WorkspaceId(c.last_insert_rowid());
      return out;
    });
  }

  Result<Workspace> workspace_by_slug(const std::string& slug) override {
    return read<Workspace>([&](Connection& c) -> Result<Workspace> {
      SIYU_PREPARE(s, c, "SELECT id, slug, name, timezone, created_at FROM workspaces WHERE slug=?");
      s->bind(1, slug);
      return one_workspace(*s, "workspace \"" + slug + "\" not found");
    });
  }

  Result<Workspace> workspace(WorkspaceId id) override {
    return read<Workspace>([&](Connection& c) -> Result<Workspace> {
      SIYU_PREPARE(s, c, "SELECT id, slug, name, timezone, created_at FROM workspaces WHERE id=?");
      s->bind(1, id.value);
      return one_workspace(*s, "workspace " + std::to_string(id.value) + " not found");
    });
  }

  Result<std::vector<Workspace>> workspaces() override {
    return read<std::vector<Workspace>>([&](Connection& c) -> Result<std::vector<Workspace>> {
      SIYU_PREPARE(s, c, "SELECT id, slug, name, timezone, created_at FROM workspaces ORDER BY id");
      std::vector<Workspace> out;
      while (s->step()) out.push_back(workspace_row(*s));
      SIYU_RETURN_IF_ERROR(s->status());
      return out;
    });
  }

  Status rename_workspace(WorkspaceId id, const std::string& slug) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c, "UPDATE workspaces SET slug=? WHERE id=?");
      s->bind(1, slug).bind(2, id.value);
      Status st = s->run();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("workspace \"" + slug + "\" already exists", "slug");
      }
      SIYU_RETURN_IF_ERROR(st);
      if (c.changes() == 0) return not_found("workspace " + std::to_string(id.value) + " not found");
      return Status::ok();
    });
  }

  // ---------------------------------------------------------------- users and sessions
  Result<User> create_user(const User& u) override {
    return write<User>([&](Connection& c) -> Result<User> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO users (workspace_id, email, display_name, role, password_hash, "
                   "disabled, created_at) VALUES (?,?,?,?,?,?,?)");
      s->bind(1, u.workspace.value)
          .bind(2, u.email)
          .bind(3, u.display_name)
          .bind(4, role_name(u.role))
          .bind(5, u.password_hash)
          .bind(6, int64_t{u.disabled ? 1 : 0})
          .bind(7, u.created_at);
      Status st = s->run();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("user \"" + u.email + "\" already exists", "email");
      }
      SIYU_RETURN_IF_ERROR(st);
      User out = u;
      out.id = UserId(c.last_insert_rowid());
      return out;
    });
  }

  Result<User> user(WorkspaceId ws, UserId id) override {
    return read<User>([&](Connection& c) -> Result<User> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kUserCols + " FROM users WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id.value);
      return one<User>(*s, read_user, "user " + std::to_string(id.value) + " not found");
    });
  }

  Result<User> user_by_email(WorkspaceId ws, const std::string& email) override {
    return read<User>([&](Connection& c) -> Result<User> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kUserCols +
                       " FROM users WHERE workspace_id=? AND email=?");
      s->bind(1, ws.value).bind(2, email);
      return one<User>(*s, read_user, "user \"" + email + "\" not found");
    });
  }

  Result<std::vector<User>> users(WorkspaceId ws) override {
    return read<std::vector<User>>([&](Connection& c) -> Result<std::vector<User>> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kUserCols +
                       " FROM users WHERE workspace_id=? ORDER BY id");
      s->bind(1, ws.value);
      return all<User>(*s, read_user);
    });
  }

  Status update_user(const User& u) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "UPDATE users SET display_name=?, role=?, password_hash=?, disabled=? WHERE "
                   "workspace_id=? AND id=?");
      s->bind(1, u.display_name)
          .bind(2, role_name(u.role))
          .bind(3, u.password_hash)
          .bind(4, int64_t{u.disabled ? 1 : 0})
          .bind(5, u.workspace.value)
          .bind(6, u.id.value);
      SIYU_RETURN_IF_ERROR(s->run());
      if (c.changes() == 0) return not_found("user " + std::to_string(u.id.value) + " not found");
      if (u.disabled) {
        SIYU_PREPARE(d, c, "DELETE FROM sessions WHERE user_id=?");
        d->bind(1, u.id.value);
        SIYU_RETURN_IF_ERROR(d->run());
      }
      return Status::ok();
    });
  }

  Status create_session(const Session& ses) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(del, c, "DELETE FROM sessions WHERE expires_at < ?");
      del->bind(1, ses.expires_at - int64_t{30} * 86'400'000);
      SIYU_RETURN_IF_ERROR(del->run());
      SIYU_PREPARE(s, c,
                   "INSERT INTO sessions (digest, user_id, workspace_id, csrf_token, expires_at) "
                   "VALUES (?,?,?,?,?)");
      s->bind(1, ses.digest)
          .bind(2, ses.user.value)
          .bind(3, ses.workspace.value)
          .bind(4, ses.csrf_token)
          .bind(5, ses.expires_at);
      return s->run();
    });
  }

  Result<Session> session(const std::string& digest) override {
    return read<Session>([&](Connection& c) -> Result<Session> {
      SIYU_PREPARE(s, c,
                   "SELECT digest, user_id, workspace_id, csrf_token, expires_at FROM sessions "
                   "WHERE digest=?");
      s->bind(1, digest);
      return one<Session>(
          *s,
          [](const Statement& r) {
            return Session{r.text_at(0), UserId(r.int_at(1)), WorkspaceId(r.int_at(2)),
                           r.text_at(3), r.int_at(4)};
          },
          "session not found");
    });
  }

  Status delete_session(const std::string& digest) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c, "DELETE FROM sessions WHERE digest=?");
      s->bind(1, digest);
      return s->run();
    });
  }

  // ---------------------------------------------------------------- API keys
  Result<ApiKey> create_api_key(const ApiKey& k) override {
    return write<ApiKey>([&](Connection& c) -> Result<ApiKey> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO api_keys (workspace_id, name, role, prefix, digest, created_at) "
                   "VALUES (?,?,?,?,?,?)");
      s->bind(1, k.workspace.value)
          .bind(2, k.name)
          .bind(3, role_name(k.role))
          .bind(4, k.prefix)
          .bind(5, k.digest)
          .bind(6, k.created_at);
      SIYU_RETURN_IF_ERROR(s->run());
      ApiKey out = k;
      out.id = ApiKeyId(c.last_insert_rowid());
      return out;
    });
  }

  Result<ApiKey> api_key_by_digest(const std::string& digest) override {
    return read<ApiKey>([&](Connection& c) -> Result<ApiKey> {
      SIYU_PREPARE(s, c, std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE digest=?");
      s->bind(1, digest);
      return one<ApiKey>(*s, read_key, "api key not found");
    });
  }

  Result<std::vector<ApiKey>> api_keys(WorkspaceId ws) override {
    return read<std::vector<ApiKey>>([&](Connection& c) -> Result<std::vector<ApiKey>> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kKeyCols +
                       " FROM api_keys WHERE workspace_id=? ORDER BY id");
      s->bind(1, ws.value);
      return all<ApiKey>(*s, read_key);
    });
  }

  Status touch_api_key(ApiKeyId id, EpochMs at) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c, "UPDATE api_keys SET last_used_at=? WHERE id=?");
      s->bind(1, at).bind(2, id.value);
      return s->run();
    });
  }

  Status revoke_api_key(WorkspaceId ws, ApiKeyId id, EpochMs at) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "UPDATE api_keys SET revoked_at=coalesce(revoked_at, ?) WHERE workspace_id=? "
                   "AND id=?");
      s->bind(1, at).bind(2, ws.value).bind(3, id.value);
      SIYU_RETURN_IF_ERROR(s->run());
      if (c.changes() == 0) {
        return not_found("api key " + std::to_string(id.value) + " not found");
      }
      return Status::ok();
    });
  }

  // ---------------------------------------------------------------- customers
  Result<Customer> create_customer(const Customer& cust,
                                   const std::vector<Identity>& ids) override {
    SIYU_ASSIGN_OR_RETURN(auto made, create_customers(cust.workspace, {{cust, ids}}));
    Customer out = cust;
    out.id = made.front();
    return out;
  }

  Result<std::vector<CustomerId>> create_customers(
      WorkspaceId ws,
      const std::vector<std::pair<Customer, std::vector<Identity>>>& batch) override {
    return write<std::vector<CustomerId>>([&](Connection& c) -> Result<std::vector<CustomerId>> {
      std::vector<CustomerId> out;
      out.reserve(batch.size());
      for (const auto& [cust, ids] : batch) {
        Customer row = cust;
        row.workspace = ws;
        for (const Identity& i : ids) {
          SIYU_ASSIGN_OR_RETURN(auto owner, identity_owner(c, ws, i));
          if (owner) {
            return conflict("identity " + i.type + " \"" + i.display +
                                "\" already belongs to customer " + std::to_string(owner->value),
                            "identities");
          }
        }
        SIYU_ASSIGN_OR_RETURN(Customer made, insert_customer(c, row));
        for (Identity i : ids) {
          i.customer = made.id;
          i.created_at = row.created_at;
          SIYU_RETURN_IF_ERROR(insert_identity(c, ws, i));
        }
        out.push_back(made.id);
      }
      return out;
    });
  }

  Result<Customer> customer(WorkspaceId ws, CustomerId id) override {
    return read<Customer>([&](Connection& c) { return load_customer(c, ws, id); });
  }

  Result<std::vector<Customer>> customers_by_id(WorkspaceId ws,
                                                const std::vector<CustomerId>& ids) override {
    return read<std::vector<Customer>>([&](Connection& c) -> Result<std::vector<Customer>> {
      std::vector<Customer> out;
      out.reserve(ids.size());
      for (CustomerId id : ids) {
        auto one = load_customer(c, ws, id);
        if (one) {
          out.push_back(std::move(*one));
        } else if (one.error().code() != ErrorCode::kNotFound) {
          return one.error();
        }
      }
      return out;
    });
  }

  Status update_customer(const Customer& cust) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_ASSIGN_OR_RETURN(Customer existing, load_customer(c, cust.workspace, cust.id));
      if (existing.merged_into || existing.erased_at) {
        return not_found("customer " + std::to_string(cust.id.value) + " not found");
      }
      SIYU_PREPARE(s, c,
                   "UPDATE customers SET name=?, gender=?, birthday=?, city=?, phone_sealed=?, "
                   "phone_masked=?, phone_last4=?, email_sealed=?, email_masked=?, custom=?, "
                   "owner_staff=?, channel_id=?, campaign=?, content=?, referrer_staff=?, "
                   "referrer_partner=?, anonymous=?, updated_at=? WHERE workspace_id=? AND id=?");
      bind_attributes(*s, cust);
      s->bind(18, cust.updated_at).bind(19, cust.workspace.value).bind(20, cust.id.value);
      return s->run();
    });
  }

  Result<std::vector<Customer>> customers(WorkspaceId ws, const CustomerFilter& f) override {
    return read<std::vector<Customer>>([&](Connection& c) -> Result<std::vector<Customer>> {
      // The tag's holders are customer_tags with the pending log's changes of it, in this
      // snapshot (a burst's log is not waited for).
      tag_log::TagDelta pending;
      if (f.tag) {
        SIYU_ASSIGN_OR_RETURN(pending, tag_log::pending_delta(c, ws, *f.tag));
      }
      const bool with_pending = !pending.gained.empty() || !pending.lost.empty();
      std::string sql = std::string("SELECT ") + kCustomerCols +
                        " FROM customers WHERE workspace_id=?1 AND merged_into IS NULL AND "
                        "erased_at IS NULL";
      if (f.layer) sql += " AND layer=?2";
      if (f.channel) sql += " AND channel_id=?3";
      if (f.owner_staff) sql += " AND owner_staff=?4";
      if (f.city) sql += " AND city=?5";
      if (f.tag && !with_pending) {
        sql += " AND id IN (SELECT customer_id FROM customer_tags WHERE workspace_id=?1 AND tag=?6)";
      } else if (f.tag) {
        sql +=
            " AND ((id IN (SELECT customer_id FROM customer_tags WHERE workspace_id=?1 AND "
            "tag=?6) AND id NOT IN (SELECT value FROM json_each(?15))) OR id IN (SELECT value "
            "FROM json_each(?16)))";
      }
      // The "<> ''" terms let SQLite use the partial indexes.
      if (f.name_prefix) sql += " AND name <> '' AND name >= ?7 AND name < ?7 || char(1114111)";
      if (f.phone_last4) sql += " AND phone_last4 <> '' AND phone_last4=?8";
      if (f.identity_customer) sql += " AND id=?9";
      if (f.created_from) sql += " AND created_at >= ?10";
      if (f.created_to) sql += " AND created_at < ?11";
      if (!f.include_anonymous) sql += " AND anonymous=0";
      const char* cmp = f.ascending ? ">" : "<";
      const char* dir = f.ascending ? " ASC" : " DESC";
      if (f.by_created) {
        if (f.before) sql += std::string(" AND (created_at, id) ") + cmp + " (?14, ?12)";
        sql += std::string(" ORDER BY created_at") + dir + ", id" + dir + " LIMIT ?13";
      } else {
        if (f.before) sql += std::string(" AND id ") + cmp + " ?12";
        sql += std::string(" ORDER BY id") + dir + " LIMIT ?13";
      }
      SIYU_PREPARE(s, c, sql);
      s->bind(1, ws.value);
      if (f.layer) s->bind(2, *f.layer);
      if (f.channel) s->bind(3, f.channel->value);
      if (f.owner_staff) s->bind(4, f.owner_staff->value);
      if (f.city) s->bind(5, *f.city);
      if (f.tag) s->bind(6, *f.tag);
      if (with_pending)
        s->bind(15, Json(pending.lost).dump()).bind(16, Json(pending.gained).dump());
      if (f.name_prefix) s->bind(7, *f.name_prefix);
      if (f.phone_last4) s->bind(8, *f.phone_last4);
      if (f.identity_customer) s->bind(9, f.identity_customer->value);
      if (f.created_from) s->bind(10, *f.created_from);
      if (f.created_to) s->bind(11, *f.created_to);
      if (f.before) s->bind(12, f.before->value);
      if (f.before && f.by_created) s->bind(14, f.before_created.value_or(0));
      s->bind(13, int64_t{f.limit});
      return all<Customer>(*s, read_customer);
    });
  }

  Result<int64_t> count_customers(WorkspaceId ws) override {
    return read<int64_t>([&](Connection& c) -> Result<int64_t> {
      SIYU_PREPARE(s, c,
                   "SELECT count(*) FROM customers WHERE workspace_id=? AND merged_into IS NULL "
                   "AND erased_at IS NULL");
      s->bind(1, ws.value);
      return scalar(*s);
    });
  }

  Status erase_customer(WorkspaceId ws, CustomerId id, EpochMs at) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_ASSIGN_OR_RETURN(Customer existing, load_customer(c, ws, id));
      if (existing.merged_into || existing.erased_at) {
        return not_found("customer " + std::to_string(id.value) + " not found");
      }
      identities_.invalidate();
      SIYU_RETURN_IF_ERROR(drain_tags(c, ws));
      if (holds_tags_of(ws, id)) tag_holders_.mark_gone(ws, static_cast<uint32_t>(id.value));
      static constexpr const char* kErase[] = {
          "DELETE FROM identities WHERE workspace_id=?1 AND customer_id=?2",
          "DELETE FROM customer_tags WHERE workspace_id=?1 AND customer_id=?2",
          "DELETE FROM tag_history WHERE workspace_id=?1 AND customer_id=?2",
          "DELETE FROM relations WHERE workspace_id=?1 AND customer_id=?2",
          "DELETE FROM customer_predictions WHERE workspace_id=?1 AND customer_id=?2",
          "UPDATE customers SET name='', gender='unknown', birthday='', city='', "
          "phone_sealed=NULL, phone_masked='', phone_last4='', email_sealed=NULL, "
          "email_masked='', custom='{}', referrer_partner='', layer='none', erased_at=?3, "
          "updated_at=?3 WHERE workspace_id=?1 AND id=?2",
      };
      for (const char* sql : kErase) {
        SIYU_PREPARE(s, c, sql);
        s->bind(1, ws.value).bind(2, id.value);
        if (std::string_view(sql).find("?3") != std::string_view::npos) s->bind(3, at);
        SIYU_RETURN_IF_ERROR(s->run());
      }
      SIYU_ASSIGN_OR_RETURN(const auto keys,
                            keys_.customer_keys(c, keys_.writer_view(), ws, id.value));
      SIYU_PREPARE(blank, c,
                   "UPDATE events SET properties='{}' WHERE workspace_id=? AND seq IN (SELECT "
                   "value FROM json_each(?))");
      blank->bind(1, ws.value).bind(2, seqs_of(keys));
      SIYU_RETURN_IF_ERROR(blank->run());
      return segment_feed_sql::forget_customer(c, ws, id);
    });
  }

  Result<std::vector<Identity>> identities(WorkspaceId ws, CustomerId id) override {
    return read<std::vector<Identity>>([&](Connection& c) -> Result<std::vector<Identity>> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kIdentityCols +
                       " FROM identities WHERE workspace_id=? AND customer_id=? ORDER BY "
                       "created_at, type");
      s->bind(1, ws.value).bind(2, id.value);
      return all<Identity>(*s, read_identity);
    });
  }

  Result<std::optional<Identity>> find_identity(WorkspaceId ws, const std::string& type,
                                                const std::string& app_id,
                                                const std::string& key) override {
    return read<std::optional<Identity>>(
        [&](Connection& c) -> Result<std::optional<Identity>> {
          SIYU_PREPARE(s, c,
                       std::string("SELECT ") + kIdentityCols +
                           " FROM identities WHERE workspace_id=? AND type=? AND app_id=? AND "
                           "key=?");
          s->bind(1, ws.value).bind(2, type).bind(3, app_id).bind(4, key);
          std::optional<Identity> out;
          if (s->step()) out = read_identity(*s);
          Status st = s->status();
          s->reset();
          SIYU_RETURN_IF_ERROR(st);
          return out;
        });
  }

  Result<IdentifyOutcome> identify(WorkspaceId ws, const std::vector<Identity>& ids,
                                   EpochMs at) override {
    return write<IdentifyOutcome>([&](Connection& c) -> Result<IdentifyOutcome> {
      IdentifyOutcome out;
      std::vector<CustomerId> owners;
      for (const Identity& i : ids) {
        SIYU_ASSIGN_OR_RETURN(auto owner, identity_owner(c, ws, i));
        if (owner && std::find(owners.begin(), owners.end(), *owner) == owners.end()) {
          owners.push_back(*owner);
        }
      }
      if (owners.empty()) {
        Customer fresh;
        fresh.workspace = ws;
        fresh.anonymous = true;
        fresh.created_at = fresh.updated_at = at;
        SIYU_ASSIGN_OR_RETURN(Customer made, insert_customer(c, fresh));
        out.customer = made.id;
        out.created = true;
      } else {
        std::sort(owners.begin(), owners.end());
        out.customer = owners.front();  // the oldest customer survives
        for (size_t k = 1; k < owners.size(); ++k) {
          SIYU_RETURN_IF_ERROR(merge(c, ws, out.customer, owners[k], at, "identify"));
          out.merged.push_back(owners[k]);
        }
      }
      for (Identity i : ids) {
        SIYU_ASSIGN_OR_RETURN(auto owner, identity_owner(c, ws, i));
        if (owner) continue;
        i.customer = out.customer;
        i.created_at = at;
        SIYU_RETURN_IF_ERROR(insert_identity(c, ws, i));
        ++out.identities_added;
      }
      if (!out.merged.empty()) SIYU_RETURN_IF_ERROR(recompute_layer(c, ws, out.customer, at));
      return out;
    });
  }

  Result<std::vector<MergeRecord>> merges(WorkspaceId ws, CustomerId survivor) override {
    return read<std::vector<MergeRecord>>([&](Connection& c) -> Result<std::vector<MergeRecord>> {
      SIYU_PREPARE(s, c,
                   "SELECT id, survivor, merged, reason, at FROM merges WHERE workspace_id=? AND "
                   "survivor=? ORDER BY id");
      s->bind(1, ws.value).bind(2, survivor.value);
      return all<MergeRecord>(*s, [](const Statement& r) {
        return MergeRecord{r.int_at(0), CustomerId(r.int_at(1)), CustomerId(r.int_at(2)),
                           r.text_at(3), r.int_at(4)};
      });
    });
  }

  Status put_field_def(WorkspaceId ws, const FieldDef& f) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "INSERT INTO field_defs (workspace_id, name, type, personal, label) VALUES "
                   "(?,?,?,?,?) ON CONFLICT (workspace_id, name) DO UPDATE SET label=excluded.label "
                   "WHERE type=excluded.type AND personal=excluded.personal");
      s->bind(1, ws.value)
          .bind(2, f.name)
          .bind(3, f.type)
          .bind(4, int64_t{f.personal ? 1 : 0})
          .bind(5, f.label);
      SIYU_RETURN_IF_ERROR(s->run());
      if (c.changes() == 0) {
        return conflict("field \"" + f.name + "\" exists with another type", "type");
      }
      return Status::ok();
    });
  }

  Result<std::vector<FieldDef>> field_defs(WorkspaceId ws) override {
    return read<std::vector<FieldDef>>([&](Connection& c) -> Result<std::vector<FieldDef>> {
      SIYU_PREPARE(s, c,
                   "SELECT name, type, personal, label FROM field_defs WHERE workspace_id=? ORDER "
                   "BY name");
      s->bind(1, ws.value);
      return all<FieldDef>(*s, [](const Statement& r) {
        return FieldDef{r.text_at(0), r.text_at(1), r.int_at(2) != 0, r.text_at(3)};
      });
    });
  }

  Status put_event_property(WorkspaceId ws, const EventProperty& p) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "INSERT INTO event_properties (workspace_id, name, label, created_at) VALUES "
                   "(?,?,?,?) ON CONFLICT (workspace_id, name) DO UPDATE SET label=excluded.label");
      s->bind(1, ws.value).bind(2, p.name).bind(3, p.label).bind(4, p.created_at);
      return s->run();
    });
  }

  Result<std::vector<EventProperty>> event_properties(WorkspaceId ws) override {
    return read<std::vector<EventProperty>>([&](Connection& c) -> Result<std::vector<EventProperty>> {
      SIYU_PREPARE(s, c,
                   "SELECT name, label, created_at FROM event_properties WHERE workspace_id=? "
                   "ORDER BY name");
      s->bind(1, ws.value);
      return all<EventProperty>(*s, [](const Statement& r) {
        return EventProperty{r.text_at(0), r.text_at(1), r.int_at(2)};
      });
    });
  }

  // ---------------------------------------------------------------- events and orders
  Result<IngestResult> ingest_events(WorkspaceId ws, std::vector<PendingEvent>& batch,
                                     EpochMs at) override {
    // Customers the writer already knows (by identity or id) are looked up here, on the
    // caller's thread; the writer takes them unless a merge or erase dropped the cache since.
    const uint64_t epoch = identities_.epoch_shared();
    std::vector<IdentityCache::Key> keys(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const PendingEvent& p = batch[i];
      if (p.customer) {
        keys[i] = identities_.customer_key(ws, p.customer->value);
      } else if (p.identity) {
        keys[i] = identities_.key_of(ws, p.identity->type, p.identity->app_id, p.identity->key);
      }
    }
    const std::vector<int64_t> known = identities_.find_all_shared(keys);
    // Identities the cache does not know may be new: their personal values are sealed here,
    // on the caller's thread, instead of in the writer when the identity is inserted.
    for (size_t i = 0; i < batch.size(); ++i) {
      std::optional<Identity>& identity = batch[i].identity;
      if (known[i] == 0 && identity && identity->sealed.empty() && identity->seal_on_insert) {
        identity->sealed = identity->seal_on_insert();
      }
    }
    return write<IngestResult>([&](Connection& c) -> Result<IngestResult> {
      IngestResult out;
      out.outcomes.reserve(batch.size());
      EventsCommitted notice{ws, 0, at, {}, {}};
      const bool known_hold = identities_.unchanged_since(epoch);
      int created = 0;
      for (size_t i = 0; i < batch.size(); ++i) {
        PendingEvent& p = batch[i];
        const int created_before = created;
        std::optional<CustomerId> who;
        if (known_hold && known[i] != 0) {
          who = CustomerId(known[i]);
        } else {
          SIYU_ASSIGN_OR_RETURN(who, resolve_subject(c, ws, p.customer, p.identity, at,
                                                     created));
        }
        if (!who) {
          out.outcomes.push_back(IngestOutcome::kUnknownCustomer);
          continue;
        }
        if (created != created_before) out.created.push_back(*who);
        Event& e = p.event;
        e.customer = *who;
        e.received_at = at;
        SIYU_ASSIGN_OR_RETURN(const bool stored, insert_event(c, ws, e, p.relation));
        out.outcomes.push_back(stored ? IngestOutcome::kStored : IngestOutcome::kDuplicate);
        if (stored && events_listener_) {
          notice.events.emplace_back(e.customer,
                                     ActivityRow{e.type, e.ts, e.amount, e.properties_json});
        }
      }
      SIYU_RETURN_IF_ERROR(save_event_seq(c));
      notice.created = out.created;
      if (events_listener_ && (!notice.events.empty() || !notice.created.empty())) {
        notice.generation = next_event_seq_;
        committed_events_.push_back(std::move(notice));
      }
      return out;
    });
  }

  Result<std::vector<Event>> events(WorkspaceId ws, CustomerId cust, std::optional<EpochMs> before,
                                    int limit) override {
    return read<std::vector<Event>>(
        [&](Connection& c, const EventKeyIndex::View& view) -> Result<std::vector<Event>> {
          SIYU_ASSIGN_OR_RETURN(const auto keys, keys_.customer_keys(c, view, ws, cust.value));
          SIYU_PREPARE(
              s, c,
              "SELECT seq, event_id, customer_id, type, ts, amount, coalesce(channel,''), "
              "coalesce(campaign,''), coalesce(content,''), coalesce(staff,''), "
              "coalesce(properties,'{}'), received_at FROM events WHERE workspace_id=? AND "
              "seq IN (SELECT value FROM json_each(?)) ORDER BY ts DESC, seq DESC");
          s->bind(1, ws.value).bind(2, newest_seqs(keys, before.value_or(INT64_MAX), limit));
          return all<Event>(*s, read_event);
        });
  }

  /// The seqs of the `limit` newest keys before `before`, as a JSON array.
  static std::string newest_seqs(const std::vector<event_keys::EventKey>& keys, EpochMs before,
                                 int limit) {
    Json seqs = Json::array();
    for (auto k = keys.rbegin(); k != keys.rend() && std::cmp_less(seqs.size(), limit); ++k) {
      if (k->ts < before) seqs.push_back(k->seq);
    }
    return seqs.dump();
  }

  /// The seqs of `keys` as a JSON array.
  static std::string seqs_of(const std::vector<event_keys::EventKey>& keys) {
    Json seqs = Json::array();
    for (const auto& k : keys) seqs.push_back(k.seq);
    return seqs.dump();
  }

  Result<int64_t> count_events(WorkspaceId ws) override {
    return read<int64_t>([&](Connection& c) -> Result<int64_t> {
      SIYU_PREPARE(s, c, "SELECT count(*) FROM events WHERE workspace_id=?");
      s->bind(1, ws.value);
      return scalar(*s);
    });
  }

  Result<std::vector<OrderResult>> upsert_orders(WorkspaceId ws, std::vector<PendingOrder>& batch,
                                                 EpochMs at) override {
    return write<std::vector<OrderResult>>([&](Connection& c) -> Result<std::vector<OrderResult>> {
      std::vector<OrderResult> out;
      out.reserve(batch.size());
      int created_customers = 0;
      for (PendingOrder& p : batch) {
        Order& o = p.order;
        o.customer = CustomerId(0);
        if (!p.guest) {
          SIYU_ASSIGN_OR_RETURN(auto who, resolve_subject(c, ws, p.customer, p.identity, at,
                                                          created_customers));
          if (!who) {
            out.push_back({OrderOutcome::kUnchanged,
                           not_found("customer " + std::to_string(p.customer->value) +
                                     " not found")});
            continue;
          }
          o.customer = *who;
        }
        o.updated_at = at;
        SIYU_ASSIGN_OR_RETURN(OrderResult r, upsert_order(c, ws, o));
        if (r.status.is_ok() && r.outcome != OrderOutcome::kUnchanged && o.customer.valid()) {
          SIYU_RETURN_IF_ERROR(recompute_layer(c, ws, o.customer, o.paid_at.value_or(at)));
        }
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  Result<Order> order(WorkspaceId ws, const std::string& order_id) override {
    return read<Order>([&](Connection& c) -> Result<Order> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kOrderCols +
                       " FROM orders WHERE workspace_id=? AND order_id=?");
      s->bind(1, ws.value).bind(2, order_id);
      return one<Order>(*s, read_order, "order \"" + order_id + "\" not found");
    });
  }

  Result<std::vector<Order>> orders(WorkspaceId ws, std::optional<std::string> before, int limit,
                                    std::optional<EpochMs> placed_from) override {
    return read<std::vector<Order>>([&](Connection& c) -> Result<std::vector<Order>> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kOrderCols +
                       " FROM orders WHERE workspace_id=? AND order_id < ? AND ordered_at >= ? "
                       "ORDER BY order_id DESC LIMIT ?");
      // Order ids are text; U+10FFFF sorts after any of them.
      s->bind(1, ws.value)
          .bind(2, before.value_or("\xF4\x8F\xBF\xBF"))
          .bind(3, placed_from.value_or(INT64_MIN))
          .bind(4, int64_t{limit});
      return all<Order>(*s, read_order);
    });
  }

  Result<std::vector<Order>> customer_orders(WorkspaceId ws, CustomerId cust, int limit) override {
    return read<std::vector<Order>>([&](Connection& c) -> Result<std::vector<Order>> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kOrderCols +
                       " FROM orders WHERE workspace_id=? AND customer_id=? ORDER BY ordered_at "
                       "DESC LIMIT ?");
      s->bind(1, ws.value).bind(2, cust.value).bind(3, int64_t{limit});
      return all<Order>(*s, read_order);
    });
  }

  Result<std::vector<std::pair<std::string, std::string>>> relations(WorkspaceId ws,
                                                                     CustomerId cust) override {
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    return read<Pairs>([&](Connection& c) -> Result<Pairs> {
      SIYU_PREPARE(s, c,
                   "SELECT kind, target FROM relations WHERE workspace_id=? AND customer_id=? AND "
                   "until_at IS NULL ORDER BY kind, target");
      s->bind(1, ws.value).bind(2, cust.value);
      return all<std::pair<std::string, std::string>>(
          *s, [](const Statement& r) { return std::make_pair(r.text_at(0), r.text_at(1)); });
    });
  }

  // ---------------------------------------------------------------- tags
  Status add_tag(WorkspaceId ws, const Tag& t) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_RETURN_IF_ERROR(require_live(c, ws, t.customer));
      return change_tag(c, ws, {t.customer.value}, t.tag, false, t.added_by, t.added_at,
                        t.expires_at)
          .status();
    });
  }

  Status remove_tag(WorkspaceId ws, CustomerId cust, const std::string& tag, const std::string& by,
                    EpochMs at) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_RETURN_IF_ERROR(require_live(c, ws, cust));
      return change_tag(c, ws, {cust.value}, tag, true, by, at, std::nullopt).status();
    });
  }

  Result<std::vector<Tag>> tags(WorkspaceId ws, CustomerId cust) override {
    return read<std::vector<Tag>>([&](Connection& c) -> Result<std::vector<Tag>> {
      SIYU_PREPARE(s, c,
                   "SELECT customer_id, tag, added_by, added_at, expires_at FROM customer_tags "
                   "WHERE workspace_id=? AND customer_id=?");
      s->bind(1, ws.value).bind(2, cust.value);
      std::map<std::string, Tag> held;  // by tag: the order of the answer
      while (s->step()) {
        held[s->text_at(1)] = Tag{CustomerId(s->int_at(0)), s->text_at(1), s->text_at(2),
                                  s->int_at(3), s->opt_int_at(4)};
      }
      Status st = s->status();
      s->reset();
      SIYU_RETURN_IF_ERROR(st);
      // Changes still in the tag log, in its order.
      SIYU_ASSIGN_OR_RETURN(const auto pending, tag_log::pending_of(c, ws, cust));
      for (const auto& [seq, e] : pending) {
        if (e.op == tag_log::Op::kAdd) {
          held[e.tag] = Tag{cust, e.tag, e.by, e.at, e.expires_at};
        } else if (e.op == tag_log::Op::kRemove) {
          held.erase(e.tag);
        } else if (auto it = held.find(e.tag); it != held.end()) {
          it->second.expires_at = e.expires_at;
        }
      }
      std::vector<Tag> out;
      out.reserve(held.size());
      for (auto& [tag, t] : held) out.push_back(std::move(t));
      return out;
    });
  }

  // ---------------------------------------------------------------- saved segments
  Result<Segment> create_segment(WorkspaceId ws, const Segment& seg) override {
    return write<Segment>([&](Connection& c) -> Result<Segment> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO segments (workspace_id, id, name, expression, created_by, "
                   "created_at, updated_at) VALUES (?1, (SELECT coalesce(max(id), 0) + 1 FROM "
                   "segments WHERE workspace_id=?1), ?2, ?3, ?4, ?5, ?5) RETURNING id");
      s->bind(1, ws.value).bind(2, seg.name).bind(3, seg.expression_json).bind(4, seg.created_by).bind(
          5, seg.created_at);
      Segment out = seg;
      out.updated_at = seg.created_at;
      if (s->step()) out.id = s->int_at(0);
      Status st = s->status();
      s->reset();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("a segment named \"" + seg.name + "\" exists", "name");
      }
      SIYU_RETURN_IF_ERROR(st);
      return out;
    });
  }

  Result<Segment> segment(WorkspaceId ws, int64_t id) override {
    return read<Segment>([&](Connection& c) -> Result<Segment> {
      SIYU_PREPARE(s, c,
                   "SELECT id, name, expression, created_by, created_at, updated_at FROM segments "
                   "WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id);
      return one<Segment>(*s, read_segment, "segment " + std::to_string(id) + " not found");
    });
  }

  Result<std::vector<Segment>> segments(WorkspaceId ws) override {
    return read<std::vector<Segment>>([&](Connection& c) -> Result<std::vector<Segment>> {
      SIYU_PREPARE(s, c,
                   "SELECT id, name, expression, created_by, created_at, updated_at FROM segments "
                   "WHERE workspace_id=? ORDER BY id");
      s->bind(1, ws.value);
      return all<Segment>(*s, read_segment);
    });
  }

  Status update_segment(WorkspaceId ws, const Segment& seg) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "UPDATE segments SET name=?, expression=?, updated_at=? WHERE workspace_id=? "
                   "AND id=?");
      s->bind(1, seg.name).bind(2, seg.expression_json).bind(3, seg.updated_at).bind(4, ws.value).bind(
          5, seg.id);
      Status st = s->run();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("a segment named \"" + seg.name + "\" exists", "name");
      }
      SIYU_RETURN_IF_ERROR(st);
      if (c.changes() == 0) return not_found("segment " + std::to_string(seg.id) + " not found");
      return Status::ok();
    });
  }

  Status delete_segment(WorkspaceId ws, int64_t id) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c, "DELETE FROM segments WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id);
      SIYU_RETURN_IF_ERROR(s->run());
      if (c.changes() == 0) return not_found("segment " + std::to_string(id) + " not found");
      SIYU_PREPARE(sizes, c, "DELETE FROM segment_sizes WHERE workspace_id=? AND segment_id=?");
      sizes->bind(1, ws.value).bind(2, id);
      SIYU_RETURN_IF_ERROR(sizes->run());
      return segment_feed_sql::forget_segment(c, ws, id);
    });
  }

  Result<int64_t> bulk_tag(WorkspaceId ws, const std::vector<CustomerId>& ids,
                           const std::string& tag, bool remove, const std::string& by,
                           EpochMs at, std::optional<EpochMs> expires_at) override {
    const std::vector<int64_t> sorted = sorted_ids(ids);
    return write<int64_t>([&](Connection& c) -> Result<int64_t> {
      return change_tag(c, ws, sorted, tag, remove, by, at, expires_at);
    });
  }

  Result<std::vector<CustomerId>> tagged_among(WorkspaceId ws, const std::string& tag,
                                               const std::vector<CustomerId>& ids) override {
    if (auto held = tag_holders_.holders_among(ws, tag, ids)) return std::move(*held);
    SIYU_RETURN_IF_ERROR(write_status([&](Connection& c) { return load_tag_holders(c, ws); }));
    if (auto held = tag_holders_.holders_among(ws, tag, ids)) return std::move(*held);
    return internal_error("the tag holders of workspace " + std::to_string(ws.value) +
                          " did not load");
  }

  Result<std::vector<CustomerId>> expire_tags(WorkspaceId ws, EpochMs now) override {
    // Most sweeps find nothing due: a read says so without queueing behind the writer.
    SIYU_ASSIGN_OR_RETURN(const bool due, read<bool>([&](Connection& c) -> Result<bool> {
                            SIYU_PREPARE(s, c,
                                         "SELECT 1 FROM customer_tags WHERE workspace_id=? AND "
                                         "expires_at IS NOT NULL AND expires_at<=? LIMIT 1");
                            s->bind(1, ws.value).bind(2, now);
                            SIYU_ASSIGN_OR_RETURN(const bool in_table, has_row(*s));
                            if (in_table) return true;
                            return tag_log::expiry_due(c, ws, now);
                          }));
    if (!due) return std::vector<CustomerId>();
    return write<std::vector<CustomerId>>([&](Connection& c) -> Result<std::vector<CustomerId>> {
      SIYU_RETURN_IF_ERROR(drain_tags(c, ws));
      SIYU_PREPARE(s, c,
                   "DELETE FROM customer_tags WHERE workspace_id=? AND expires_at IS NOT NULL AND "
                   "expires_at<=? RETURNING customer_id, tag");
      s->bind(1, ws.value).bind(2, now);
      std::vector<std::pair<CustomerId, std::string>> gone;
      while (s->step()) gone.emplace_back(CustomerId(s->int_at(0)), s->text_at(1));
      Status st = s->status();
      s->reset();
      SIYU_RETURN_IF_ERROR(st);
      std::vector<CustomerId> out;
      for (const auto& [id, tag] : gone) {
        SIYU_RETURN_IF_ERROR(tag_log::record_history(c, ws, id, tag, "remove", "expiry", now));
        if (holds_tags_of(ws, id)) tag_holders_.remove(ws, tag, static_cast<uint32_t>(id.value));
        out.push_back(id);
      }
      return out;
    });
  }

  // ---------------------------------------------------------------- tag catalogue
  Result<TagGroup> create_tag_group(WorkspaceId ws, const TagGroup& g) override {
    return write<TagGroup>([&](Connection& c) -> Result<TagGroup> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO tag_groups (workspace_id, id, name, description, created_at) "
                   "VALUES (?1, (SELECT coalesce(max(id), 0) + 1 FROM tag_groups WHERE "
                   "workspace_id=?1), ?2, ?3, ?4) RETURNING id");
      s->bind(1, ws.value).bind(2, g.name).bind(3, g.description).bind(4, g.created_at);
      TagGroup out = g;
      if (s->step()) out.id = s->int_at(0);
      Status st = s->status();
      s->reset();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("a tag group named \"" + g.name + "\" exists", "name");
      }
      SIYU_RETURN_IF_ERROR(st);
      return out;
    });
  }

  Result<std::vector<TagGroup>> tag_groups(WorkspaceId ws) override {
    return read<std::vector<TagGroup>>([&](Connection& c) -> Result<std::vector<TagGroup>> {
      SIYU_PREPARE(s, c,
                   "SELECT id, name, description, created_at FROM tag_groups WHERE workspace_id=? "
                   "ORDER BY id");
      s->bind(1, ws.value);
      return all<TagGroup>(*s, [](const Statement& r) {
        return TagGroup{r.int_at(0), r.text_at(1), r.text_at(2), r.int_at(3)};
      });
    });
  }

  Status update_tag_group(WorkspaceId ws, const TagGroup& g) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "UPDATE tag_groups SET name=?, description=? WHERE workspace_id=? AND id=?");
      s->bind(1, g.name).bind(2, g.description).bind(3, ws.value).bind(4, g.id);
      Status st = s->run();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("a tag group named \"" + g.name + "\" exists", "name");
      }
      SIYU_RETURN_IF_ERROR(st);
      if (c.changes() == 0) return not_found("tag group " + std::to_string(g.id) + " not found");
      return Status::ok();
    });
  }

  Status delete_tag_group(WorkspaceId ws, int64_t id) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c, "DELETE FROM tag_groups WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id);
      SIYU_RETURN_IF_ERROR(s->run());
      if (c.changes() == 0) return not_found("tag group " + std::to_string(id) + " not found");
      SIYU_PREPARE(u, c, "UPDATE tag_defs SET group_id=NULL WHERE workspace_id=? AND group_id=?");
      u->bind(1, ws.value).bind(2, id);
      return u->run();
    });
  }

  Status put_tag_def(WorkspaceId ws, const TagDef& d) override {
    return write_status([&](Connection& c) -> Status {
      if (d.group_id) {
        SIYU_PREPARE(g, c, "SELECT count(*) FROM tag_groups WHERE workspace_id=? AND id=?");
        g->bind(1, ws.value).bind(2, *d.group_id);
        SIYU_ASSIGN_OR_RETURN(int64_t n, scalar(*g));
        if (n == 0) {
          return Status(ErrorCode::kNotFound,
                        "tag group " + std::to_string(*d.group_id) + " not found", "group_id");
        }
      }
      SIYU_PREPARE(s, c,
                   "INSERT INTO tag_defs (workspace_id, name, group_id, description, created_by, "
                   "created_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                   "group_id=excluded.group_id, description=excluded.description");
      s->bind(1, ws.value).bind(2, d.name).bind_opt(3, d.group_id).bind(4, d.description).bind(
          5, d.created_by).bind(6, d.created_at);
      return s->run();
    });
  }

  Result<std::vector<TagDef>> tag_defs(WorkspaceId ws) override {
    return read<std::vector<TagDef>>([&](Connection& c) -> Result<std::vector<TagDef>> {
      SIYU_PREPARE(s, c,
                   "SELECT name, group_id, description, created_by, created_at FROM tag_defs "
                   "WHERE workspace_id=? ORDER BY name");
      s->bind(1, ws.value);
      return all<TagDef>(*s, [](const Statement& r) {
        return TagDef{r.text_at(0), r.opt_int_at(1), r.text_at(2), r.text_at(3), r.int_at(4)};
      });
    });
  }

  Result<std::vector<CustomerId>> delete_tag(WorkspaceId ws, const std::string& name,
                                             const std::string& by, EpochMs at) override {
    return write<std::vector<CustomerId>>([&](Connection& c) -> Result<std::vector<CustomerId>> {
      SIYU_RETURN_IF_ERROR(drain_tags(c, ws));
      SIYU_PREPARE(d, c, "DELETE FROM tag_defs WHERE workspace_id=? AND name=?");
      d->bind(1, ws.value).bind(2, name);
      SIYU_RETURN_IF_ERROR(d->run());
      const bool defined = c.changes() > 0;
      SIYU_PREPARE(s, c,
                   "DELETE FROM customer_tags WHERE workspace_id=? AND tag=? RETURNING customer_id");
      s->bind(1, ws.value).bind(2, name);
      std::vector<CustomerId> out;
      while (s->step()) out.emplace_back(s->int_at(0));
      Status st = s->status();
      s->reset();
      SIYU_RETURN_IF_ERROR(st);
      if (!defined && out.empty()) return not_found("tag \"" + name + "\" not found");
      for (CustomerId id : out) {
        SIYU_RETURN_IF_ERROR(tag_log::record_history(c, ws, id, name, "remove", by, at));
      }
      if (tag_holders_.loaded(ws)) tag_holders_.drop_tag(ws, name);
      return out;
    });
  }

  // ---------------------------------------------------------------- auto-tag rules
  static constexpr const char* kRuleCols =
      "id, name, tag, expression, enabled, created_by, created_at, updated_at, swept_at, "
      "last_gained, last_lost";
  static TagRule read_rule(const Statement& r) {
    return TagRule{r.int_at(0),  r.text_at(1),     r.text_at(2), r.text_at(3),
                   r.int_at(4) != 0, r.text_at(5), r.int_at(6),  r.int_at(7),
                   r.opt_int_at(8), r.int_at(9),   r.int_at(10)};
  }

  static Status rule_conflict(const Status& st, const TagRule& r) {
    if (st.code() == ErrorCode::kConflict) {
      return conflict("another rule already manages the tag \"" + r.tag + "\"", "tag");
    }
    return st;
  }

  Result<TagRule> create_tag_rule(WorkspaceId ws, const TagRule& r) override {
    return write<TagRule>([&](Connection& c) -> Result<TagRule> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO tag_rules (workspace_id, id, name, tag, expression, enabled, "
                   "created_by, created_at, updated_at) VALUES (?1, (SELECT coalesce(max(id), 0) "
                   "+ 1 FROM tag_rules WHERE workspace_id=?1), ?2, ?3, ?4, ?5, ?6, ?7, ?7) "
                   "RETURNING id");
      s->bind(1, ws.value).bind(2, r.name).bind(3, r.tag).bind(4, r.expression_json).bind(
          5, int64_t{r.enabled}).bind(6, r.created_by).bind(7, r.created_at);
      TagRule out = r;
      out.updated_at = r.created_at;
      if (s->step()) out.id = s->int_at(0);
      Status st = s->status();
      s->reset();
      SIYU_RETURN_IF_ERROR(rule_conflict(st, r));
      return out;
    });
  }

  Result<TagRule> tag_rule(WorkspaceId ws, int64_t id) override {
    return read<TagRule>([&](Connection& c) -> Result<TagRule> {
      SIYU_PREPARE(s, c, std::string("SELECT ") + kRuleCols +
                             " FROM tag_rules WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id);
      return one<TagRule>(*s, read_rule, "rule " + std::to_string(id) + " not found");
    });
  }

  Result<std::vector<TagRule>> tag_rules(WorkspaceId ws) override {
    return read<std::vector<TagRule>>([&](Connection& c) -> Result<std::vector<TagRule>> {
      SIYU_PREPARE(s, c, std::string("SELECT ") + kRuleCols +
                             " FROM tag_rules WHERE workspace_id=? ORDER BY id");
      s->bind(1, ws.value);
      return all<TagRule>(*s, read_rule);
    });
  }

  Status update_tag_rule(WorkspaceId ws, const TagRule& r) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "UPDATE tag_rules SET name=?, tag=?, expression=?, enabled=?, updated_at=? "
                   "WHERE workspace_id=? AND id=?");
      s->bind(1, r.name).bind(2, r.tag).bind(3, r.expression_json).bind(4, int64_t{r.enabled}).bind(
          5, r.updated_at).bind(6, ws.value).bind(7, r.id);
      SIYU_RETURN_IF_ERROR(rule_conflict(s->run(), r));
      if (c.changes() == 0) return not_found("rule " + std::to_string(r.id) + " not found");
      return Status::ok();
    });
  }

  Status delete_tag_rule(WorkspaceId ws, int64_t id) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c, "DELETE FROM tag_rules WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id);
      SIYU_RETURN_IF_ERROR(s->run());
      if (c.changes() == 0) return not_found("rule " + std::to_string(id) + " not found");
      return Status::ok();
    });
  }

  Status note_rule_sweep(WorkspaceId ws, int64_t id, EpochMs at, int64_t gained,
                         int64_t lost) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "UPDATE tag_rules SET swept_at=?, last_gained=?, last_lost=? WHERE "
                   "workspace_id=? AND id=?");
      s->bind(1, at).bind(2, gained).bind(3, lost).bind(4, ws.value).bind(5, id);
      return s->run();
    });
  }

  // ---------------------------------------------------------------- segment change feed
  Result<SegmentMembers> segment_members(WorkspaceId ws, int64_t id) override {
    return read<SegmentMembers>([&](Connection& c) -> Result<SegmentMembers> {
      SIYU_PREPARE(s, c,
                   "SELECT members, members_through FROM segments WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id);
      using Mark = std::pair<std::string, int64_t>;  // members, members_through
      const auto read_mark = [](const Statement& r) { return Mark{r.blob_at(0), r.int_at(1)}; };
      SIYU_ASSIGN_OR_RETURN(
          Mark mark, one<Mark>(*s, read_mark, "segment " + std::to_string(id) + " not found"));
      SIYU_ASSIGN_OR_RETURN(auto since, segment_feed_sql::changes(c, ws, id, mark.second,
                                                                  SIZE_MAX));
      return SegmentMembers{std::move(mark.first), std::move(since)};
    });
  }

  Status record_segment_sweeps(WorkspaceId ws, const std::vector<SegmentSweep>& sweeps) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(exists, c, "SELECT 1 FROM segments WHERE workspace_id=? AND id=?");
      SIYU_PREPARE(m, c,
                   "UPDATE segments SET members=?, members_through=? WHERE workspace_id=? AND "
                   "id=?");
      SIYU_PREPARE(z, c,
                   "INSERT INTO segment_sizes (workspace_id, segment_id, day, size) VALUES "
                   "(?,?,?,?) ON CONFLICT DO UPDATE SET size=excluded.size");
      SIYU_ASSIGN_OR_RETURN(const int64_t first_id, segment_feed_sql::next_change_id(c));
      int64_t next_id = first_id;
      for (const SegmentSweep& sw : sweeps) {
        exists->bind(1, ws.value).bind(2, sw.segment_id);
        SIYU_ASSIGN_OR_RETURN(const bool found, has_row(*exists));
        if (!found) continue;  // deleted meanwhile
        SIYU_ASSIGN_OR_RETURN(next_id, segment_feed_sql::record(c, ws, sw.segment_id, sw.at,
                                                                sw.entered, sw.exited, next_id));
        if (sw.members_blob) {
          SIYU_ASSIGN_OR_RETURN(const int64_t through,
                                segment_feed_sql::last_change_id(c, ws, sw.segment_id));
          m->bind_blob(1, *sw.members_blob).bind(2, through).bind(3, ws.value).bind(
              4, sw.segment_id);
          SIYU_RETURN_IF_ERROR(m->run());
        }
        z->bind(1, ws.value).bind(2, sw.segment_id).bind(3, sw.day).bind(4, sw.size);
        SIYU_RETURN_IF_ERROR(z->run());
      }
      if (next_id == first_id) return Status::ok();
      return segment_feed_sql::note_last_id(c, next_id - 1);
    });
  }

  Result<std::vector<SegmentChange>> segment_changes(WorkspaceId ws, int64_t id,
                                                     int64_t after_seq, int limit) override {
    return read<std::vector<SegmentChange>>(
        [&](Connection& c) -> Result<std::vector<SegmentChange>> {
          return segment_feed_sql::changes(c, ws, id, after_seq, static_cast<size_t>(limit));
        });
  }

  Result<std::vector<SegmentSize>> segment_sizes(WorkspaceId ws, int64_t id,
                                                 const std::string& from_day) override {
    return read<std::vector<SegmentSize>>([&](Connection& c) -> Result<std::vector<SegmentSize>> {
      SIYU_PREPARE(s, c,
                   "SELECT day, size FROM segment_sizes WHERE workspace_id=? AND segment_id=? AND "
                   "day>=? ORDER BY day");
      s->bind(1, ws.value).bind(2, id).bind(3, from_day);
      return all<SegmentSize>(*s, [](const Statement& r) {
        return SegmentSize{r.text_at(0), r.int_at(1)};
      });
    });
  }

  static Segment read_segment(const Statement& r) {
    return Segment{r.int_at(0), r.text_at(1), r.text_at(2), r.text_at(3), r.int_at(4), r.int_at(5)};
  }

  // ---------------------------------------------------------------- analytics
  Status scan_analytics(WorkspaceId ws, AnalyticsSink& sink) override {
    struct Unit {};
    return read<Unit>([&](Connection& c) -> Result<Unit> {
      SIYU_RETURN_IF_ERROR(analytics_sql::scan(c, ws, sink));
      return Unit{};
    }).status();
  }

  Status put_predictions(WorkspaceId ws, const std::vector<Prediction>& predictions,
                         EpochMs at) override {
    struct Unit {};
    return write<Unit>([&](Connection& c) -> Result<Unit> {
      SIYU_RETURN_IF_ERROR(analytics_sql::put_predictions(c, ws, predictions, at));
      return Unit{};
    }).status();
  }

  uint64_t write_generation() const override { return static_cast<uint64_t>(commits_.load()); }

  // ---------------------------------------------------------------- index feeds
  Result<FactsSnapshot> customer_facts(WorkspaceId ws, const std::vector<CustomerId>& ids,
                                       EpochMs activity_since, bool with_properties) override {
    FactSelection selection;
    selection.listed_ids = sorted_ids(ids);
    selection.listed = Json(selection.listed_ids).dump();
    return read<FactsSnapshot>([&](Connection& c,
                                   const EventKeyIndex::View& view) -> Result<FactsSnapshot> {
      std::unordered_map<int64_t, CustomerFacts> found;
      found.reserve(ids.size());
      FactsSnapshot out;
      SIYU_ASSIGN_OR_RETURN(out.generation, stream_facts(c, view, ws, selection, activity_since,
                                                         with_properties, [&](CustomerFacts& f) {
                                                           found.emplace(f.id.value, std::move(f));
                                                         }));
      // Their tags as the pending log leaves them, in this snapshot.
      SIYU_ASSIGN_OR_RETURN(auto pending, tag_log::pending_among(c, ws, selection.listed_ids));
      for (const tag_log::PendingChange& change : pending) {
        auto it = found.find(change.customer);
        if (it == found.end() || change.op == tag_log::Op::kExpiry) continue;
        std::vector<std::string>& tags = it->second.tags;  // in order, as customer_tags reads
        auto at = std::lower_bound(tags.begin(), tags.end(), change.tag);
        const bool held = at != tags.end() && *at == change.tag;
        if (change.op == tag_log::Op::kAdd && !held) tags.insert(at, change.tag);
        if (change.op == tag_log::Op::kRemove && held) tags.erase(at);
      }
      out.facts.reserve(ids.size());
      for (CustomerId id : ids) {
        auto it = found.find(id.value);
        if (it != found.end()) {
          out.facts.push_back(it->second);
        } else {
          out.facts.push_back(CustomerFacts{});
          out.facts.back().id = id;
        }
      }
      return out;
    });
  }

  /// Which customers a fact stream reads: those of a JSON array of ids, or those with ids in
  /// [first, last] (guest orders have customer 0, outside every range).
  struct FactSelection {
    std::optional<std::string> listed;
    std::vector<int64_t> listed_ids;  // the same ids, sorted
    int64_t first = 1;
    int64_t last = INT64_MAX;
  };

  /// The events feed of the facts: the keys (from `since`) of a window of customers at a time,
  /// and their events' properties when the workspace reads any.
  struct EventFeed {
    const EventKeyIndex* index = nullptr;
    const EventKeyIndex::View* view = nullptr;
    Connection* c = nullptr;
    WorkspaceId ws;
    EpochMs since = 0;
    bool with_properties = false;
    const std::vector<int64_t>* listed = nullptr;         // sorted; null for a range of ids
    int64_t last = INT64_MAX;                             // the range's last id
    int64_t loaded_to = 0;                                // the window read covers ids up to here
    std::vector<event_keys::EventKey> keys;               // of the window, from `since`
    std::unordered_map<int64_t, std::string> properties;  // by seq
    size_t pos = 0;

    static constexpr int64_t kWindowIds = 4096;
    static constexpr int64_t kDenseGap = 64;  // listed ids this close share one window

    void select(const FactSelection& selection) {
      listed = selection.listed ? &selection.listed_ids : nullptr;
      last = selection.last;
      loaded_to = 0;
      keys.clear();
      pos = 0;
    }
    /// Adds the events of customer f.id (ids come in increasing order).
    Status fill(CustomerFacts& f) {
      const int64_t id = f.id.value;
      if (id > loaded_to) SIYU_RETURN_IF_ERROR(load(id));
      while (pos < keys.size() && keys[pos].customer < id) ++pos;
      for (; pos < keys.size() && keys[pos].customer == id; ++pos) {
        const event_keys::EventKey& k = keys[pos];
        f.activity.push_back(
            {k.type, k.ts, k.amount, with_properties ? properties[k.seq] : std::string()});
      }
      return Status::ok();
    }
    /// Reads the window that starts at `id`: a range of ids, or a run of close listed ids.
    Status load(int64_t id) {
      int64_t to = std::min(last, id + kWindowIds - 1);
      if (listed) {
        auto it = std::upper_bound(listed->begin(), listed->end(), id);
        to = id;
        for (; it != listed->end() && *it - to <= kDenseGap && *it - id < kWindowIds; ++it)
          to = *it;
      }
      SIYU_ASSIGN_OR_RETURN(std::vector<event_keys::EventKey> read,
                            index->range_keys(*c, *view, ws, id, to));
      keys.clear();
      pos = 0;
      loaded_to = to;
      for (event_keys::EventKey& k : read) {
        if (k.ts >= since) keys.push_back(std::move(k));
      }
      if (!with_properties || keys.empty()) return Status::ok();
      properties.clear();
      Json seqs = Json::array();
      for (const event_keys::EventKey& k : keys) seqs.push_back(k.seq);
      SIYU_PREPARE(s, *c,
                   "SELECT seq, properties FROM events WHERE seq IN (SELECT value FROM "
                   "json_each(?))");
      s->bind(1, seqs.dump());
      while (s->step()) properties.emplace(s->int_at(0), s->text_at(1));
      const Status st = s->status();
      s->reset();
      return st;
    }
  };

  /// The per-customer queries behind CustomerFacts beyond the customer row: tags, groups,
  /// recent events, paid orders and predictions, each in customer order, for the customers of
  /// a FactSelection (kListedCustomers or kCustomerRange). Nothing else may constrain
  /// customer_id, or SQLite may scan instead of seeking.
  struct FactFeeds {
    Statement* tags = nullptr;
    Statement* groups = nullptr;
    Statement* orders = nullptr;
    Statement* predictions = nullptr;
    EventFeed events;
    WorkspaceId ws;
    static constexpr int kFeeds = 4;
    bool started[kFeeds] = {};
    bool more[kFeeds] = {};

    void bind(const FactSelection& selection) {
      for (Statement* s : {tags, groups, orders, predictions}) {
        s->reset();
        s->bind(1, ws.value);
        bind_selection(*s, selection);
      }
      for (bool& b : started) b = false;
    }
    /// Steps every feed to `f.id` and collects its rows (feeds sorted by customer).
    Status fill(CustomerFacts& f) {
      SIYU_RETURN_IF_ERROR(events.fill(f));
      Statement* feeds[kFeeds] = {tags, groups, orders, predictions};
      for (int i = 0; i < kFeeds; ++i) {
        Statement& s = *feeds[i];
        if (!started[i]) {
          more[i] = s.step();
          started[i] = true;
        }
        while (more[i] && s.int_at(0) < f.id.value) more[i] = s.step();
        while (more[i] && s.int_at(0) == f.id.value) {
          switch (i) {
            case 0: f.tags.push_back(s.text_at(1)); break;
            case 1: f.groups.push_back(s.text_at(1)); break;
            case 2:
              f.paid_orders = s.int_at(1);
              f.spend = s.int_at(2);
              f.last_paid_at = s.opt_int_at(3);
              break;
            default:
              f.predicted_value = s.int_at(1);
              f.p_alive = s.real_at(2);
          }
          more[i] = s.step();
        }
        SIYU_RETURN_IF_ERROR(s.status());
      }
      return Status::ok();
    }
    void reset() {
      for (Statement* s : {tags, groups, orders, predictions}) s->reset();
    }
  };

  /// Customer ids sorted, without repeats.
  static std::vector<int64_t> sorted_ids(const std::vector<CustomerId>& ids) {
    std::vector<int64_t> sorted;
    sorted.reserve(ids.size());
    for (CustomerId id : ids) sorted.push_back(id.value);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    return sorted;
  }

  static constexpr const char* kCustomerRange = "BETWEEN ?2 AND ?4";
  static constexpr const char* kListedCustomers = "IN (SELECT value FROM json_each(?2))";

  static const char* customer_filter(const FactSelection& selection) {
    return selection.listed ? kListedCustomers : kCustomerRange;
  }
  static void bind_selection(Statement& s, const FactSelection& selection) {
    if (selection.listed) {
      s.bind(2, *selection.listed);
    } else {
      s.bind(2, selection.first).bind(4, selection.last);
    }
  }

  Result<FactFeeds> prepare_feeds(Connection& c, const EventKeyIndex::View& view, WorkspaceId ws,
                                  EpochMs since, bool with_properties,
                                  const FactSelection& selection) const {
    const std::string customer_filter = SqliteStore::customer_filter(selection);
    FactFeeds f;
    SIYU_ASSIGN_OR_RETURN(
        f.tags, c.prepare("SELECT customer_id, tag FROM customer_tags WHERE workspace_id=?1 AND "
                          "customer_id " + customer_filter + " ORDER BY customer_id"));
    SIYU_ASSIGN_OR_RETURN(
        f.groups, c.prepare("SELECT customer_id, target FROM relations WHERE workspace_id=?1 AND "
                            "customer_id " + customer_filter +
                            " AND kind='group' AND until_at IS NULL ORDER BY customer_id"));
    // Properties live in the event rows, outside the keys: read only when needed.
    f.events.index = &keys_;
    f.events.view = &view;
    f.events.c = &c;
    f.events.ws = ws;
    f.events.since = since;
    f.events.with_properties = with_properties;
    f.events.select(selection);
    SIYU_ASSIGN_OR_RETURN(
        f.orders, c.prepare("SELECT customer_id, count(*), sum(amount-refund_amount), "
                            "max(paid_at) FROM orders INDEXED BY orders_by_customer WHERE workspace_id=?1 AND customer_id " +
                            customer_filter + " AND paid_at IS NOT NULL AND "
                            "amount>refund_amount GROUP BY customer_id ORDER BY customer_id"));
    SIYU_ASSIGN_OR_RETURN(
        f.predictions, c.prepare("SELECT customer_id, predicted_value, p_alive FROM "
                                 "customer_predictions WHERE workspace_id=?1 AND customer_id " +
                                 customer_filter + " ORDER BY customer_id"));
    f.ws = ws;
    f.bind(selection);
    return f;
  }

  Result<int64_t> scan_customer_facts(
      WorkspaceId ws, EpochMs activity_since, bool with_properties, int parts,
      const std::function<void(int part, const CustomerFacts&)>& fn,
      const std::function<void(int part)>& part_done) override {
    if (parts < 1 || parts > kMaxScanParts) {
      return invalid("a scan reads in 1 to " + std::to_string(kMaxScanParts) + " parts");
    }
    SIYU_RETURN_IF_ERROR(settle_tags(ws));
    const auto start = Clock::now();
    // Connections of its own: the readers stay free for requests during a minute-long scan.
    std::vector<std::unique_ptr<Connection>> owned;
    std::vector<Connection*> conns;
    Status st;
    for (int part = 0; part < parts && st.is_ok(); ++part) {
      auto c = Connection::open(path_, durable_);
      st = c ? (*c)->exec("PRAGMA query_only=ON") : c.status();
      if (!st.is_ok()) break;
      conns.push_back(c->get());
      owned.push_back(std::move(*c));
    }
    int64_t generation = 0;
    int64_t max_id = 0;
    EventKeyIndex::View view;
    if (st.is_ok()) st = begin_shared_snapshot(conns, ws, generation, max_id, view);
    if (st.is_ok()) {
      std::vector<Status> done(conns.size());
      std::atomic<bool> failed = false;
      const auto run_part = [&](int part) {
        done[static_cast<size_t>(part)] = stream_blocks(
            *conns[static_cast<size_t>(part)], view, ws, part, parts, max_id, activity_since,
            with_properties, failed, [&](CustomerFacts& f) { fn(part, f); });
        if (!done[static_cast<size_t>(part)].is_ok()) failed = true;
        part_done(part);
      };
      std::vector<std::thread> others;
      for (int part = 1; part < parts; ++part) others.emplace_back(run_part, part);
      run_part(0);
      for (std::thread& t : others) t.join();
      for (const Status& d : done) {
        if (st.is_ok()) st = d;
      }
    } else {
      for (int part = 0; part < parts; ++part) part_done(part);
    }
    for (Connection* c : conns) {
      c->reset_all();
      (void)c->exec("COMMIT");
    }
    reads_.fetch_add(1);
    read_micros_.fetch_add(micros_since(start));
    SIYU_RETURN_IF_ERROR(st);
    return generation;
  }

  void on_events_committed(std::function<void(EventsCommitted)> listener) override {
    std::lock_guard lock(write_mu_);
    events_listener_ = std::move(listener);
  }

  /// Begins a read transaction on every connection at the same snapshot: the writer's lock
  /// keeps commits out until each has read (SQLite fixes a snapshot at the first read). Gives
  /// the snapshot's event generation, the workspace's largest customer id and the unfiled
  /// event keys as of the snapshot.
  Status begin_shared_snapshot(const std::vector<Connection*>& conns, WorkspaceId ws,
                               int64_t& generation, int64_t& max_id, EventKeyIndex::View& view) {
    std::lock_guard no_commits(write_mu_);
    view = keys_.view();
    for (Connection* c : conns) {
      SIYU_RETURN_IF_ERROR(c->exec("BEGIN"));
      SIYU_PREPARE(seq, *c, "SELECT value FROM store_counters WHERE name='next_event_seq'");
      SIYU_ASSIGN_OR_RETURN(generation, scalar(*seq));
    }
    SIYU_PREPARE(last, *conns.front(),
                 "SELECT coalesce(max(id), 0) FROM customers WHERE workspace_id=?1");
    last->bind(1, ws.value);
    SIYU_ASSIGN_OR_RETURN(max_id, scalar(*last));
    return Status::ok();
  }

  /// Streams the blocks of ids that belong to `part` of `parts` (block b to part b % parts),
  /// in increasing order, until done or until another part `failed`.
  Status stream_blocks(Connection& c, const EventKeyIndex::View& view, WorkspaceId ws, int part,
                       int parts, int64_t max_id, EpochMs activity_since, bool with_properties,
                       const std::atomic<bool>& failed,
                       const std::function<void(CustomerFacts&)>& fn) {
    for (int64_t block = part; block * kFactBlockIds <= max_id && !failed; block += parts) {
      FactSelection selection;
      selection.first = std::max<int64_t>(1, block * kFactBlockIds);
      selection.last = (block + 1) * kFactBlockIds - 1;
      SIYU_RETURN_IF_ERROR(
          stream_selection(c, view, ws, selection, activity_since, with_properties, fn));
    }
    return Status::ok();
  }

  /// Calls `fn` for every live customer of `selection`, in id order: the customer rows and
  /// every feed merged in one pass. Returns the snapshot's event generation (FactsSnapshot).
  Result<int64_t> stream_facts(Connection& c, const EventKeyIndex::View& view, WorkspaceId ws,
                               const FactSelection& selection, EpochMs activity_since,
                               bool with_properties,
                               const std::function<void(CustomerFacts&)>& fn) {
    SIYU_PREPARE(seq, c, "SELECT value FROM store_counters WHERE name='next_event_seq'");
    SIYU_ASSIGN_OR_RETURN(const int64_t generation, scalar(*seq));
    SIYU_RETURN_IF_ERROR(
        stream_selection(c, view, ws, selection, activity_since, with_properties, fn));
    return generation;
  }

  Status stream_selection(Connection& c, const EventKeyIndex::View& view, WorkspaceId ws,
                          const FactSelection& selection, EpochMs activity_since,
                          bool with_properties, const std::function<void(CustomerFacts&)>& fn) {
    SIYU_PREPARE(rows, c,
                 std::string("SELECT layer, gender, city, channel_id, owner_staff, created_at, custom, "
                             "id FROM customers WHERE workspace_id=?1 AND id ") +
                     customer_filter(selection) +
                     " AND merged_into IS NULL AND erased_at IS NULL ORDER BY id");
    rows->bind(1, ws.value);
    bind_selection(*rows, selection);
    FactFeeds feeds;
    SIYU_ASSIGN_OR_RETURN(feeds,
                          prepare_feeds(c, view, ws, activity_since, with_properties, selection));
    Status st;
    CustomerFacts f;  // one for all rows: its strings and lists keep their capacity
    while (rows->step()) {
      clear_facts(f);
      f.live = true;
      read_facts(*rows, f);
      f.id = CustomerId(rows->int_at(7));
      st = feeds.fill(f);
      if (!st.is_ok()) break;
      fn(f);
    }
    if (st.is_ok()) st = rows->status();
    rows->reset();
    feeds.reset();
    return st;
  }

  /// Empties `f` for the next customer without giving back what its members allocated.
  static void clear_facts(CustomerFacts& f) {
    f.channel.reset();
    f.owner_staff.reset();
    f.tags.clear();
    f.groups.clear();
    f.activity.clear();
    f.paid_orders = 0;
    f.spend = 0;
    f.last_paid_at.reset();
    f.predicted_value.reset();
    f.p_alive.reset();
  }

  static void read_facts(const Statement& r, CustomerFacts& f) {
    f.layer.assign(r.view_at(0));
    f.gender.assign(r.view_at(1));
    f.city.assign(r.view_at(2));
    if (auto v = r.opt_int_at(3)) f.channel = ChannelId(*v);
    if (auto v = r.opt_int_at(4)) f.owner_staff = UserId(*v);
    f.created_at = r.int_at(5);
    f.custom_json.assign(r.view_at(6));
  }

  // ---------------------------------------------------------------- timeline
  Result<std::vector<TimelineItem>> timeline(WorkspaceId ws, CustomerId cust,
                                             std::optional<EpochMs> before, int limit) override {
    return read<std::vector<TimelineItem>>(
        [&](Connection& c, const EventKeyIndex::View& view) -> Result<std::vector<TimelineItem>> {
          // Of the events, only the `limit` newest before `before` can be among the items.
          SIYU_ASSIGN_OR_RETURN(const auto keys, keys_.customer_keys(c, view, ws, cust.value));
          SIYU_PREPARE(
              s, c,
              "SELECT at, kind, title, detail, seq FROM ("
              " SELECT ts AS at, 'event' AS kind, type AS title, json_object('event_id', "
              "event_id, 'amount', amount, 'channel', channel, 'campaign', campaign, 'content', "
              "content, 'staff', staff, 'properties', json(coalesce(properties, '{}'))) AS "
              "detail, seq FROM events WHERE workspace_id=?1 AND seq IN (SELECT value FROM "
              "json_each(?5))"
              " UNION ALL SELECT ordered_at, 'order', order_id, json_object('status', status, "
              "'amount', amount, 'refund_amount', refund_amount, 'store', store, 'channel', "
              "channel), rowid FROM orders WHERE workspace_id=?1 AND customer_id=?2 AND "
              "ordered_at < ?3"
              " UNION ALL SELECT at, 'tag', tag, json_object('action', action, 'by', by), id "
              "FROM tag_history WHERE workspace_id=?1 AND customer_id=?2 AND at < ?3"
              " UNION ALL SELECT at, 'layer', to_layer, json_object('from', from_layer, 'to', "
              "to_layer), id FROM layer_changes WHERE workspace_id=?1 AND customer_id=?2 AND at "
              "< ?3"
              " UNION ALL SELECT at, 'merge', 'merged customer ' || merged, json_object("
              "'merged', merged, 'reason', reason), id FROM merges WHERE workspace_id=?1 AND "
              "survivor=?2 AND at < ?3"
              ") ORDER BY at DESC, kind, seq DESC LIMIT ?4");
          s->bind(1, ws.value)
              .bind(2, cust.value)
              .bind(3, before.value_or(INT64_MAX))
              .bind(4, int64_t{limit})
              .bind(5, newest_seqs(keys, before.value_or(INT64_MAX), limit));
          SIYU_ASSIGN_OR_RETURN(auto items, all<TimelineItem>(*s, [](const Statement& r) {
                                  return TimelineItem{r.int_at(0), r.text_at(1), r.text_at(2),
                                                      r.text_at(3), r.int_at(4)};
                                }));
          // Tag changes still in the tag log join the history they will be applied to, after
          // every applied one (their history ids are not given yet).
          SIYU_ASSIGN_OR_RETURN(const auto pending, tag_log::pending_of(c, ws, cust));
          for (const auto& [seq, e] : pending) {
            if (e.op == tag_log::Op::kExpiry || e.at >= before.value_or(INT64_MAX)) continue;
            items.push_back(TimelineItem{
                e.at, "tag", e.tag,
                Json{{"action", e.op == tag_log::Op::kAdd ? "add" : "remove"}, {"by", e.by}}.dump(),
                kPendingHistorySeq + seq});
          }
          if (pending.empty()) return items;
          std::sort(items.begin(), items.end(), [](const TimelineItem& a, const TimelineItem& b) {
            return std::tie(b.at, a.kind, b.seq) < std::tie(a.at, b.kind, a.seq);
          });
          if (items.size() > static_cast<size_t>(limit)) items.resize(static_cast<size_t>(limit));
          return items;
        });
  }

  /// Where the seqs of tag history items still in the tag log start: after any history id.
  static constexpr int64_t kPendingHistorySeq = int64_t{1} << 62;

  // ---------------------------------------------------------------- channels
  Result<Channel> create_channel(WorkspaceId ws, const Channel& ch) override {
    return write<Channel>([&](Connection& c) -> Result<Channel> {
      SIYU_PREPARE(s, c,
                   "INSERT INTO channels (workspace_id, id, kind, name, code, created_at) VALUES "
                   "(?1, (SELECT coalesce(max(id), 0) + 1 FROM channels WHERE workspace_id=?1), "
                   "?2, ?3, ?4, ?5) RETURNING id");
      s->bind(1, ws.value).bind(2, ch.kind).bind(3, ch.name).bind(4, ch.code).bind(5,
                                                                                  ch.created_at);
      Channel out = ch;
      if (s->step()) out.id = ChannelId(s->int_at(0));
      Status st = s->status();
      s->reset();
      if (st.code() == ErrorCode::kConflict) {
        return conflict("channel code \"" + ch.code + "\" is already used", "code");
      }
      SIYU_RETURN_IF_ERROR(st);
      return out;
    });
  }

  Result<std::vector<Channel>> channels(WorkspaceId ws) override {
    return read<std::vector<Channel>>([&](Connection& c) -> Result<std::vector<Channel>> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kChannelCols +
                       " FROM channels WHERE workspace_id=? ORDER BY id");
      s->bind(1, ws.value);
      return all<Channel>(*s, read_channel);
    });
  }

  Result<Channel> channel(WorkspaceId ws, ChannelId id) override {
    return read<Channel>([&](Connection& c) -> Result<Channel> {
      SIYU_PREPARE(s, c,
                   std::string("SELECT ") + kChannelCols +
                       " FROM channels WHERE workspace_id=? AND id=?");
      s->bind(1, ws.value).bind(2, id.value);
      return one<Channel>(*s, read_channel, "channel " + std::to_string(id.value) + " not found");
    });
  }

  Result<ChannelCost> add_channel_cost(WorkspaceId ws, const ChannelCost& cost) override {
    return write<ChannelCost>([&](Connection& c) -> Result<ChannelCost> {
      SIYU_PREPARE(chk, c, "SELECT 1 FROM channels WHERE workspace_id=? AND id=?");
      chk->bind(1, ws.value).bind(2, cost.channel.value);
      const bool exists = chk->step();
      chk->reset();
      if (!exists) return not_found("channel " + std::to_string(cost.channel.value) + " not found");
      SIYU_PREPARE(s, c,
                   "INSERT INTO channel_costs (workspace_id, channel_id, day, amount, note) VALUES "
                   "(?,?,?,?,?)");
      s->bind(1, ws.value).bind(2, cost.channel.value).bind(3, cost.date).bind(4, cost.amount).bind(
          5, cost.note);
      SIYU_RETURN_IF_ERROR(s->run());
      ChannelCost out = cost;
      out.id = c.last_insert_rowid();
      return out;
    });
  }

  Result<std::vector<ChannelCost>> channel_costs(WorkspaceId ws, ChannelId id) override {
    return read<std::vector<ChannelCost>>([&](Connection& c) -> Result<std::vector<ChannelCost>> {
      SIYU_PREPARE(s, c,
                   "SELECT id, channel_id, day, amount, note FROM channel_costs WHERE "
                   "workspace_id=? AND channel_id=? ORDER BY day, id");
      s->bind(1, ws.value).bind(2, id.value);
      return all<ChannelCost>(*s, [](const Statement& r) {
        return ChannelCost{r.int_at(0), ChannelId(r.int_at(1)), r.text_at(2), r.int_at(3),
                           r.text_at(4)};
      });
    });
  }

  Result<std::vector<ChannelStats>> channel_stats(WorkspaceId ws) override {
    return read<std::vector<ChannelStats>>(
        [&](Connection& c) -> Result<std::vector<ChannelStats>> {
          // Both counts come from indexes alone: the live-customer partial index by channel
          // and the costs index.
          SIYU_PREPARE(s, c,
                       "SELECT ch.id, coalesce(cu.n, 0), coalesce(co.total, 0) FROM channels ch "
                       "LEFT JOIN (SELECT channel_id, count(*) AS n FROM customers WHERE "
                       "workspace_id=?1 AND channel_id IS NOT NULL AND merged_into IS NULL AND "
                       "erased_at IS NULL GROUP BY channel_id) cu ON cu.channel_id=ch.id "
                       "LEFT JOIN (SELECT channel_id, sum(amount) AS total FROM channel_costs "
                       "WHERE workspace_id=?1 GROUP BY channel_id) co ON co.channel_id=ch.id "
                       "WHERE ch.workspace_id=?1 ORDER BY ch.id");
          s->bind(1, ws.value);
          return all<ChannelStats>(*s, [](const Statement& r) {
            return ChannelStats{ChannelId(r.int_at(0)), r.int_at(1), r.int_at(2)};
          });
        });
  }

  // ---------------------------------------------------------------- groups
  Result<Group> create_group(WorkspaceId ws, const Group& g) override {
    return write<Group>([&](Connection& c) { return community_sql::create_group(c, ws, g); });
  }

  Result<std::vector<Group>> groups(WorkspaceId ws) override {
    return read<std::vector<Group>>([&](Connection& c) { return community_sql::groups(c, ws); });
  }

  Result<Group> group(WorkspaceId ws, GroupId id) override {
    return read<Group>([&](Connection& c) { return community_sql::group(c, ws, id); });
  }

  Status update_group(WorkspaceId ws, const Group& g) override {
    return write_status([&](Connection& c) { return community_sql::update_group(c, ws, g); });
  }

  Result<std::vector<GroupMember>> group_members(WorkspaceId ws, GroupId group,
                                                 bool include_past) override {
    return read<std::vector<GroupMember>>(
        [&](Connection& c) { return community_sql::members(c, ws, group, include_past); });
  }

  Result<std::vector<GroupId>> groups_of(WorkspaceId ws, CustomerId customer) override {
    return read<std::vector<GroupId>>(
        [&](Connection& c) { return community_sql::groups_of(c, ws, customer); });
  }

  Status set_member_role(WorkspaceId ws, GroupId group, CustomerId customer,
                         const std::string& role, const std::string& by, EpochMs at) override {
    return write_status(
        [&](Connection& c) { return community_sql::set_role(c, ws, group, customer, role, by, at); });
  }

  Result<bool> join_group(WorkspaceId ws, GroupId group, CustomerId customer,
                          const std::string& source, bool check_capacity, EpochMs at) override {
    return write<bool>([&](Connection& c) -> Result<bool> {
      SIYU_ASSIGN_OR_RETURN(Group g, community_sql::group(c, ws, group));
      SIYU_ASSIGN_OR_RETURN(customer, survivor_of(c, ws, customer));
      SIYU_ASSIGN_OR_RETURN(bool member, community_sql::is_member(c, ws, group, customer));
      if (member) return false;
      if (check_capacity && g.members >= g.capacity) {
        return conflict("group " + std::to_string(group.value) + " is full (" +
                        std::to_string(g.capacity) + " members)");
      }
      SIYU_RETURN_IF_ERROR(membership_event(c, ws, group, customer, true, false, source, at).status());
      return true;
    });
  }

  Status leave_group(WorkspaceId ws, GroupId group, CustomerId customer, bool removed,
                     const std::string& source, EpochMs at) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_ASSIGN_OR_RETURN(bool member, community_sql::is_member(c, ws, group, customer));
      if (!member) {
        return not_found("customer " + std::to_string(customer.value) +
                         " is not a member of group " + std::to_string(group.value));
      }
      return membership_event(c, ws, group, customer, false, removed, source, at).status();
    });
  }

  Result<std::vector<GroupMemberEvent>> group_member_events(WorkspaceId ws, GroupId group,
                                                            EpochMs since, int limit) override {
    return read<std::vector<GroupMemberEvent>>(
        [&](Connection& c) { return community_sql::member_events(c, ws, group, since, limit); });
  }

  Result<MembershipFacts> current_members(WorkspaceId ws) override {
    return read<MembershipFacts>([&](Connection& c) { return community_sql::current_members(c, ws); });
  }

  Result<MembershipFacts> membership_changes_after(WorkspaceId ws, int64_t after) override {
    return read<MembershipFacts>(
        [&](Connection& c) { return community_sql::membership_changes_after(c, ws, after); });
  }

  Result<MessageBatchResult> store_group_messages(WorkspaceId ws, const MessageBatch& batch,
                                                  EpochMs at) override {
    return write<MessageBatchResult>([&](Connection& c) {
      return community_sql::store_messages(c, ws, batch, at, adder(c, ws), remover(c, ws));
    });
  }

  Status apply_message_figures(WorkspaceId ws, const MessageFigures& figures) override {
    struct Unit {};
    return write<Unit>([&](Connection& c) -> Result<Unit> {
      SIYU_RETURN_IF_ERROR(community_sql::apply_figures(c, ws, figures));
      return Unit{};
    }).status();
  }

  Result<int64_t> message_figures_mark(WorkspaceId ws) override {
    return read<int64_t>([&](Connection& c) { return community_sql::figures_mark(c, ws); });
  }

  Result<std::vector<GroupMessage>> group_messages_after(WorkspaceId ws, int64_t after_id,
                                                         int limit) override {
    return read<std::vector<GroupMessage>>(
        [&](Connection& c) { return community_sql::messages_after(c, ws, after_id, limit); });
  }

  Result<std::vector<GroupMessage>> group_messages(WorkspaceId ws, GroupId group, EpochMs from,
                                                   EpochMs to, int limit) override {
    return read<std::vector<GroupMessage>>(
        [&](Connection& c) { return community_sql::messages(c, ws, group, from, to, limit); });
  }

  Result<int64_t> expire_message_text(WorkspaceId ws, EpochMs before) override {
    return write<int64_t>([&](Connection& c) { return community_sql::expire_text(c, ws, before); });
  }

  Result<std::vector<GroupDay>> group_days(WorkspaceId ws, std::optional<GroupId> group,
                                           int64_t from_day, int64_t to_day) override {
    return read<std::vector<GroupDay>>(
        [&](Connection& c) { return community_sql::days(c, ws, group, from_day, to_day); });
  }

  Result<std::vector<GroupHour>> group_hours(WorkspaceId ws, std::optional<GroupId> group,
                                             int64_t from_day, int64_t to_day) override {
    return read<std::vector<GroupHour>>(
        [&](Connection& c) { return community_sql::hours(c, ws, group, from_day, to_day); });
  }

  Result<std::vector<std::pair<std::string, int64_t>>> topics(WorkspaceId ws, int64_t from_day,
                                                              int64_t to_day, int limit) override {
    return read<std::vector<std::pair<std::string, int64_t>>>(
        [&](Connection& c) { return community_sql::topics(c, ws, from_day, to_day, limit); });
  }

  Result<ModerationRule> put_moderation_rule(WorkspaceId ws, const ModerationRule& r) override {
    return write<ModerationRule>([&](Connection& c) { return community_sql::put_rule(c, ws, r); });
  }

  Result<std::vector<ModerationRule>> moderation_rules(WorkspaceId ws) override {
    return read<std::vector<ModerationRule>>([&](Connection& c) { return community_sql::rules(c, ws); });
  }

  Status delete_moderation_rule(WorkspaceId ws, int64_t id) override {
    return write_status([&](Connection& c) { return community_sql::delete_rule(c, ws, id); });
  }

  Result<std::vector<ModerationLogEntry>> moderation_log(WorkspaceId ws, int64_t before,
                                                         int limit) override {
    return read<std::vector<ModerationLogEntry>>(
        [&](Connection& c) { return community_sql::moderation_log(c, ws, before, limit); });
  }

  Result<std::vector<std::pair<CustomerId, int64_t>>> violation_counts(WorkspaceId ws,
                                                                       EpochMs since) override {
    return read<std::vector<std::pair<CustomerId, int64_t>>>(
        [&](Connection& c) { return community_sql::violation_counts(c, ws, since); });
  }

  Result<std::vector<BlacklistEntry>> blacklist(WorkspaceId ws) override {
    return read<std::vector<BlacklistEntry>>(
        [&](Connection& c) { return community_sql::blacklist(c, ws); });
  }

  Result<bool> is_blacklisted(WorkspaceId ws, CustomerId customer) override {
    return read<bool>([&](Connection& c) { return community_sql::is_blacklisted(c, ws, customer); });
  }

  Status set_blacklisted(WorkspaceId ws, CustomerId customer, bool listed,
                         const std::string& reason, const std::string& by, EpochMs at) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_ASSIGN_OR_RETURN(customer, survivor_of(c, ws, customer));
      return community_sql::set_blacklisted(c, ws, customer, listed, reason, by, at,
                                            remover(c, ws));
    });
  }

  Result<AutoReply> put_auto_reply(WorkspaceId ws, const AutoReply& r) override {
    return write<AutoReply>([&](Connection& c) { return community_sql::put_auto_reply(c, ws, r); });
  }

  Result<std::vector<AutoReply>> auto_replies(WorkspaceId ws) override {
    return read<std::vector<AutoReply>>(
        [&](Connection& c) { return community_sql::auto_replies(c, ws); });
  }

  Status delete_auto_reply(WorkspaceId ws, int64_t id) override {
    return write_status([&](Connection& c) { return community_sql::delete_auto_reply(c, ws, id); });
  }

  Result<std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>> auto_reply_fires(
      WorkspaceId ws) override {
    return read<std::vector<std::pair<std::pair<int64_t, GroupId>, EpochMs>>>(
        [&](Connection& c) { return community_sql::auto_reply_fires(c, ws); });
  }

  Result<std::vector<PendingWelcome>> pending_welcomes() override {
    return read<std::vector<PendingWelcome>>(
        [&](Connection& c) { return community_sql::pending_welcomes(c); });
  }

  Status record_welcome(WorkspaceId ws, const std::vector<int64_t>& join_ids,
                        const OutboxItem& post) override {
    return write_status(
        [&](Connection& c) { return community_sql::record_welcome(c, ws, join_ids, post); });
  }

  Result<GroupCode> create_group_code(WorkspaceId ws, const GroupCode& code) override {
    return write<GroupCode>([&](Connection& c) { return community_sql::create_code(c, ws, code); });
  }

  Status update_group_code(WorkspaceId ws, const GroupCode& code) override {
    return write_status([&](Connection& c) { return community_sql::update_code(c, ws, code); });
  }

  Result<std::vector<GroupCode>> group_codes(WorkspaceId ws) override {
    return read<std::vector<GroupCode>>([&](Connection& c) { return community_sql::codes(c, ws); });
  }

  Result<GroupCode> group_code(WorkspaceId ws, int64_t id) override {
    return read<GroupCode>([&](Connection& c) { return community_sql::code(c, ws, id); });
  }

  Result<std::pair<WorkspaceId, GroupCode>> group_code_by_token(const std::string& token) override {
    return read<std::pair<WorkspaceId, GroupCode>>(
        [&](Connection& c) { return community_sql::code_by_token(c, token); });
  }

  Result<std::optional<Group>> scan_group_code(WorkspaceId ws, int64_t id) override {
    return write<std::optional<Group>>([&](Connection& c) -> Result<std::optional<Group>> {
      SIYU_RETURN_IF_ERROR(community_sql::code(c, ws, id).status());
      SIYU_RETURN_IF_ERROR(community_sql::count_scan(c, ws, id));
      return community_sql::open_group_of(c, ws, id);
    });
  }

  Result<CodeJoin> join_by_code(WorkspaceId ws, int64_t code_id, CustomerId customer,
                                EpochMs at) override {
    return write<CodeJoin>([&](Connection& c) -> Result<CodeJoin> {
      SIYU_ASSIGN_OR_RETURN(GroupCode code, community_sql::code(c, ws, code_id));
      SIYU_ASSIGN_OR_RETURN(customer, survivor_of(c, ws, customer));
      CodeJoin out;
      // Someone already in a group of the series stays there: a second scan is not a join.
      SIYU_ASSIGN_OR_RETURN(auto in, community_sql::groups_of(c, ws, customer));
      for (GroupId g : in) {
        SIYU_ASSIGN_OR_RETURN(Group group, community_sql::group(c, ws, g));
        if (group.code_id == code_id) {
          out.group = group;
          out.already_member = true;
          return out;
        }
      }
      SIYU_ASSIGN_OR_RETURN(auto open, community_sql::open_group_of(c, ws, code_id));
      if (open) {
        out.group = *open;
      } else {
        SIYU_ASSIGN_OR_RETURN(out.group, community_sql::open_next_group(c, ws, code, at));
        out.opened = true;
      }
      SIYU_RETURN_IF_ERROR(membership_event(c, ws, out.group.id, customer, true, false,
                                            "code:" + std::to_string(code_id), at)
                               .status());
      ++out.group.members;
      if (code.channel) {
        SIYU_RETURN_IF_ERROR(community_sql::set_channel_if_unset(c, ws, customer, *code.channel, at));
      }
      return out;
    });
  }

  /// The surviving customer of `id` (merges followed); kNotFound when missing or erased.
  Result<CustomerId> survivor_of(Connection& c, WorkspaceId ws, CustomerId id) {
    SIYU_ASSIGN_OR_RETURN(auto live, live_customer(c, ws, id));
    if (!live) return not_found("customer " + std::to_string(id.value) + " not found");
    return *live;
  }

  community_sql::AddMember adder(Connection& c, WorkspaceId ws) {
    return [this, &c, ws](GroupId g, CustomerId cust, EpochMs at) {
      return membership_event(c, ws, g, cust, true, false, "seen_in_group", at).status();
    };
  }

  community_sql::RemoveMember remover(Connection& c, WorkspaceId ws) {
    return [this, &c, ws](GroupId g, CustomerId cust, EpochMs at) {
      return membership_event(c, ws, g, cust, false, true, "moderation", at).status();
    };
  }

  // ---------------------------------------------------------------- overview
  Result<Overview> overview(WorkspaceId ws, EpochMs from, EpochMs to,
                            int offset_minutes) override {
    return read<Overview>([&](Connection& c) -> Result<Overview> {
      Overview out;
      SIYU_PREPARE(layers, c,
                   "SELECT layer, count(*) FROM customers WHERE workspace_id=? AND merged_into IS "
                   "NULL AND erased_at IS NULL GROUP BY layer");
      layers->bind(1, ws.value);
      SIYU_ASSIGN_OR_RETURN(out.layers, (all<std::pair<std::string, int64_t>>(*layers, [](const Statement& r) {
                              return std::make_pair(r.text_at(0), r.int_at(1));
                            })));
      SIYU_PREPARE(fresh, c,
                   "SELECT date((created_at + ?4) / 1000, 'unixepoch'), coalesce(channel_id, 0), "
                   "count(*) FROM customers WHERE workspace_id=?1 AND created_at >= ?2 AND "
                   "created_at < ?3 AND merged_into IS NULL AND erased_at IS NULL GROUP BY 1, 2 "
                   "ORDER BY 1, 2");
      fresh->bind(1, ws.value).bind(2, from).bind(3, to).bind(4, int64_t{offset_minutes} * 60'000);
      SIYU_ASSIGN_OR_RETURN(out.new_customers, all<Overview::NewCustomers>(*fresh, [](const Statement& r) {
                              return Overview::NewCustomers{r.text_at(0), r.int_at(1), r.int_at(2)};
                            }));
      SIYU_PREPARE(sales, c,
                   "SELECT count(*), coalesce(sum(amount - refund_amount), 0), count(DISTINCT "
                   "nullif(customer_id, 0)) FROM orders WHERE workspace_id=? AND ordered_at >= ? "
                   "AND ordered_at < ? AND status <> 'created'");
      sales->bind(1, ws.value).bind(2, from).bind(3, to);
      if (sales->step()) {
        out.orders = sales->int_at(0);
        out.gmv = sales->int_at(1);
        out.buyers = sales->int_at(2);
      }
      Status st = sales->status();
      sales->reset();
      SIYU_RETURN_IF_ERROR(st);
      return out;
    });
  }

  // ---------------------------------------------------------------- audit
  Status audit(WorkspaceId ws, const AuditEntry& e) override {
    return write_status([&](Connection& c) -> Status {
      SIYU_PREPARE(s, c,
                   "INSERT INTO audit_log (workspace_id, at, actor, action, target, detail) "
                   "VALUES (?,?,?,?,?,?)");
      s->bind(1, ws.value).bind(2, e.at).bind(3, e.actor).bind(4, e.action).bind(5, e.target).bind(
          6, e.detail_json);
      return s->run();
    });
  }

  Result<std::vector<AuditEntry>> audit_log(WorkspaceId ws, std::optional<int64_t> before,
                                            int limit) override {
    return read<std::vector<AuditEntry>>([&](Connection& c) -> Result<std::vector<AuditEntry>> {
      SIYU_PREPARE(s, c,
                   "SELECT id, at, actor, action, target, detail FROM audit_log WHERE "
                   "workspace_id=? AND id < ? ORDER BY id DESC LIMIT ?");
      s->bind(1, ws.value).bind(2, before.value_or(INT64_MAX)).bind(3, int64_t{limit});
      return all<AuditEntry>(*s, [](const Statement& r) {
        return AuditEntry{r.int_at(0), r.int_at(1), r.text_at(2),
                          r.text_at(3), r.text_at(4), r.text_at(5)};
      });
    });
  }

  StoreStats stats() const override {
    return {commits_.load(),
            commit_micros_.load(),
            static_cast<int64_t>(wal_->flushes()),
            reads_.load(),
            read_micros_.load(),
            tag_log_rows_.load(),
            static_cast<int64_t>(tag_holders_.memory_bytes())};
  }

  // ---------------------------------------------------------------- journeys and outbox
  Result<Journey> create_journey(WorkspaceId ws, const Journey& j) override {
    return write<Journey>([&](Connection& c) { return journey_sql::create_journey(c, ws, j); });
  }
  Result<Journey> journey(WorkspaceId ws, int64_t id) override {
    return read<Journey>([&](Connection& c) { return journey_sql::journey(c, ws, id); });
  }
  Result<std::vector<Journey>> journeys(WorkspaceId ws) override {
    return read<std::vector<Journey>>([&](Connection& c) { return journey_sql::journeys(c, ws); });
  }
  Result<int> save_journey_version(WorkspaceId ws, int64_t id, const std::string& name,
                                   const std::string& definition_json, const std::string& by,
                                   EpochMs at) override {
    return write<int>([&](Connection& c) {
      return journey_sql::save_version(c, ws, id, name, definition_json, by, at);
    });
  }
  Result<std::string> journey_definition(WorkspaceId ws, int64_t id, int version) override {
    return read<std::string>(
        [&](Connection& c) { return journey_sql::definition(c, ws, id, version); });
  }
  Status set_journey_status(WorkspaceId ws, int64_t id, const std::string& status,
                            EpochMs at) override {
    return write_status([&](Connection& c) { return journey_sql::set_status(c, ws, id, status, at); });
  }
  Result<int64_t> start_runs(WorkspaceId ws, const std::vector<RunStart>& starts,
                             const std::vector<std::pair<std::string, int64_t>>& cursors,
                             const std::vector<std::pair<int64_t, EpochMs>>& fired) override {
    return write<int64_t>(
        [&](Connection& c) { return journey_sql::start_runs(c, ws, starts, cursors, fired); });
  }
  Result<std::optional<int64_t>> journey_cursor(WorkspaceId ws, const std::string& name) override {
    return read<std::optional<int64_t>>([&](Connection& c) { return journey_sql::cursor(c, ws, name); });
  }
  Result<std::vector<JourneyRun>> due_runs(EpochMs until, int limit) override {
    return read<std::vector<JourneyRun>>(
        [&](Connection& c) { return journey_sql::due_runs(c, until, limit); });
  }
  Result<std::vector<JourneyRun>> journey_runs(WorkspaceId ws, int64_t journey_id) override {
    return read<std::vector<JourneyRun>>(
        [&](Connection& c) { return journey_sql::runs_of(c, ws, journey_id); });
  }
  Result<std::vector<JourneyRun>> runs_by_id(const std::vector<int64_t>& ids) override {
    return read<std::vector<JourneyRun>>([&](Connection& c) { return journey_sql::runs_by_id(c, ids); });
  }
  Result<std::pair<int64_t, int64_t>> trigger_heads(WorkspaceId ws) override {
    return read<std::pair<int64_t, int64_t>>(
        [&](Connection& c) { return journey_sql::trigger_heads(c, ws); });
  }
  Result<std::vector<CustomerId>> customers_with_anniversary(WorkspaceId ws,
                                                             const std::string& field,
                                                             const std::string& month_day) override {
    return read<std::vector<CustomerId>>(
        [&](Connection& c) { return journey_sql::anniversaries(c, ws, field, month_day); });
  }
  Result<std::vector<CustomerId>> journey_entrants(WorkspaceId ws, int64_t journey_id,
                                                   EpochMs since) override {
    return read<std::vector<CustomerId>>(
        [&](Connection& c) { return journey_sql::entrants(c, ws, journey_id, since); });
  }
  Result<AdvanceOutcome> advance_run(WorkspaceId ws, const RunAdvance& a) override {
    return write<AdvanceOutcome>([&](Connection& c) { return journey_sql::advance_run(c, ws, a); });
  }
  Result<std::vector<Event>> events_after(WorkspaceId ws, int64_t after_seq, int limit) override {
    return read<std::vector<Event>>([&](Connection& c) -> Result<std::vector<Event>> {
      SIYU_PREPARE(s, c,
                   "SELECT seq, event_id, customer_id, type, ts, amount, coalesce(channel,''), "
                   "coalesce(campaign,''), coalesce(content,''), coalesce(staff,''), "
                   "coalesce(properties,'{}'), received_at FROM events WHERE workspace_id=? AND "
                   "seq>? ORDER BY seq LIMIT ?");
      s->bind(1, ws.value).bind(2, after_seq).bind(3, int64_t{limit});
      return all<Event>(*s, read_event);
    });
  }
  Result<std::vector<SegmentChange>> segment_changes_after(WorkspaceId ws, int64_t after_seq,
                                                           int limit) override {
    return read<std::vector<SegmentChange>>(
        [&](Connection& c) -> Result<std::vector<SegmentChange>> {
          return segment_feed_sql::changes(c, ws, std::nullopt, after_seq,
                                           static_cast<size_t>(limit));
        });
  }
  Result<JourneyStats> journey_stats(WorkspaceId ws, int64_t id, const std::string& goal_event,
                                     EpochMs goal_within_ms) override {
    return read<JourneyStats>([&](Connection& c, const EventKeyIndex::View& view) {
      const auto goal_times = [&](CustomerId customer) -> Result<std::vector<EpochMs>> {
        SIYU_ASSIGN_OR_RETURN(const auto keys, keys_.customer_keys(c, view, ws, customer.value));
        std::vector<EpochMs> out;
        for (const auto& k : keys) {
          if (k.type == goal_event) out.push_back(k.ts);
        }
        return out;
      };
      return journey_sql::stats(c, ws, id, goal_event, goal_within_ms, goal_times);
    });
  }
  Result<std::vector<OutboxItem>> due_outbox(EpochMs until, int limit) override {
    return read<std::vector<OutboxItem>>(
        [&](Connection& c) { return journey_sql::due_outbox(c, until, limit); });
  }
  Status update_outbox(const std::vector<OutboxUpdate>& updates) override {
    return write_status([&](Connection& c) { return journey_sql::update_outbox(c, updates); });
  }
  Result<std::vector<OutboxItem>> outbox_items(WorkspaceId ws, const OutboxFilter& f) override {
    return read<std::vector<OutboxItem>>(
        [&](Connection& c) { return journey_sql::outbox_items(c, ws, f); });
  }
  Result<std::vector<std::pair<std::string, int64_t>>> outbox_counts(WorkspaceId ws) override {
    return read<std::vector<std::pair<std::string, int64_t>>>(
        [&](Connection& c) { return journey_sql::outbox_counts(c, ws); });
  }
  Result<std::vector<CustomerId>> reserve_mass_day(WorkspaceId ws, const std::vector<CustomerId>& ids,
                                                   int64_t day) override {
    return write<std::vector<CustomerId>>(
        [&](Connection& c) { return journey_sql::reserve_mass_day(c, ws, ids, day); });
  }
  Status release_mass_day(WorkspaceId ws, const std::vector<CustomerId>& ids, int64_t day) override {
    return write_status([&](Connection& c) { return journey_sql::release_mass_day(c, ws, ids, day); });
  }
  Status record_wecom_task(WorkspaceId ws, const WecomTask& t) override {
    return write_status([&](Connection& c) { return journey_sql::record_wecom_task(c, ws, t); });
  }
  Result<std::vector<WecomTask>> wecom_tasks(WorkspaceId ws, bool open_only, int limit) override {
    return read<std::vector<WecomTask>>(
        [&](Connection& c) { return journey_sql::wecom_tasks(c, ws, open_only, limit); });
  }
  Status update_wecom_task(WorkspaceId ws, const WecomTask& t) override {
    return write_status([&](Connection& c) { return journey_sql::update_wecom_task(c, ws, t); });
  }
  Result<std::vector<StaffTask>> staff_tasks(WorkspaceId ws, bool open_only,
                                             std::optional<UserId> staff, int limit) override {
    return read<std::vector<StaffTask>>(
        [&](Connection& c) { return journey_sql::staff_tasks(c, ws, open_only, staff, limit); });
  }
  Status complete_task(WorkspaceId ws, int64_t id, const std::string& by, EpochMs at) override {
    return write_status([&](Connection& c) { return journey_sql::complete_task(c, ws, id, by, at); });
  }
  Status set_opt_out(WorkspaceId ws, CustomerId c_id, bool opted_out, const std::string& source,
                     EpochMs at) override {
    return write_status(
        [&](Connection& c) { return journey_sql::set_opt_out(c, ws, c_id, opted_out, source, at); });
  }
  Result<std::vector<CustomerId>> opted_out(WorkspaceId ws,
                                            const std::vector<CustomerId>& ids) override {
    return read<std::vector<CustomerId>>(
        [&](Connection& c) { return journey_sql::opted_out(c, ws, ids); });
  }
  Result<std::optional<std::string>> setting(WorkspaceId ws, const std::string& name) override {
    return read<std::optional<std::string>>(
        [&](Connection& c) { return journey_sql::setting(c, ws, name); });
  }
  Status put_setting(WorkspaceId ws, const std::string& name, const std::string& value,
                     EpochMs at) override {
    return write_status([&](Connection& c) { return journey_sql::put_setting(c, ws, name, value, at); });
  }

 private:
  SqliteStore(size_t event_keys_file_at, size_t event_runs_per_level, size_t event_merge_slice)
      : keys_(event_keys_file_at, event_runs_per_level, event_merge_slice) {}

 public:
  ~SqliteStore() override {
    {
      std::lock_guard lock(background_mu_);
      stopping_ = true;
    }
    background_cv_.notify_all();
    if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
    if (tag_apply_thread_.joinable()) tag_apply_thread_.join();
    // Fold the whole log into the database file so the next start reads no WAL.
    if (checkpointer_) (void)checkpointer_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

 private:
  /// Copies committed WAL pages into the database file off the writer's path (the writer's
  /// own auto-checkpoint is disabled in db.cc). Runs every 200 ms until the store closes.
  /// Passive checkpoints never make a busy writer start the log over, so under a steady stream
  /// of writes the WAL would grow without bound (2.3 GB within a minute of message ingest) and
  /// every page read would search a larger WAL index: past kWalRestartFrames the checkpoint
  /// waits for the writer once, so the next transaction writes the log from its start.
  void checkpoint_loop() {
    std::unique_lock lock(background_mu_);
    while (!stopping_) {
      background_cv_.wait_for(lock, std::chrono::milliseconds(200));
      if (stopping_) break;
      lock.unlock();
      const auto frames = wal_frames("PRAGMA wal_checkpoint(PASSIVE)");
      if (frames && *frames >= kWalRestartFrames) (void)wal_frames("PRAGMA wal_checkpoint(RESTART)");
      lock.lock();
    }
  }

  static constexpr int64_t kWalRestartFrames = 65'536;  // 256 MiB of 4 KiB pages

  /// Applies the tag log in the background (docs/design/tag-log.md): large steps one after
  /// another while the writer is idle (no other job in flight, none for kTagApplyIdle), else a
  /// small step after nine steps' time, so the applier takes at most about a tenth of a busy
  /// writer and a burst of tag changes is appended at nearly full speed and applied after it.
  void tag_apply_loop() {
    std::unique_lock lock(background_mu_);
    auto next_step = Clock::now();
    while (!stopping_) {
      background_cv_.wait_for(lock, kTagApplyIdle);
      if (stopping_) break;
      if (tag_log_rows_.load() == 0) continue;
      const auto now = Clock::now();
      // Idle: no job waiting, running or flushing, and none for kTagApplyIdle (a job that
      // waited behind the applier's last step counts from its end).
      const bool idle =
          jobs_in_flight_.load() == 0 &&
          now.time_since_epoch() - std::chrono::nanoseconds(last_job_at_.load()) >= kTagApplyIdle;
      if (!idle && now < next_step) continue;
      lock.unlock();
      const size_t step = idle ? tag_apply_step_ * kTagApplyIdleFactor : tag_apply_step_;
      WriteJob job;
      job.background = true;
      job.run = [this, step](Connection& c) -> Status {
        SIYU_ASSIGN_OR_RETURN(tag_log::Applied applied, tag_log::apply(c, std::nullopt, step));
        staged_tag_rows_ -= static_cast<int64_t>(applied.rows);
        return Status::ok();
      };
      submit(job);
      if (!job.status.is_ok()) std::cerr << "store: tag log: " << job.status.message() << "\n";
      const auto took = Clock::now() - now;
      next_step = Clock::now() + 9 * took;
      lock.lock();
    }
  }

  static constexpr auto kTagApplyIdle = std::chrono::milliseconds(20);
  static constexpr size_t kTagApplyIdleFactor = 16;

  /// Runs a checkpoint pragma and returns the WAL's size in frames, or nullopt on failure.
  std::optional<int64_t> wal_frames(const char* pragma) {
    auto s = checkpointer_->prepare(pragma);
    if (!s) return std::nullopt;
    std::optional<int64_t> frames;
    if ((*s)->step()) frames = (*s)->int_at(1);
    (*s)->reset();
    return frames;
  }

  // ---------------------------------------------------------------- plumbing
  template <typename T, typename F>
  Result<T> read(F&& f) {
    const auto start = Clock::now();
    Connection* c = nullptr;
    {
      std::unique_lock lock(read_mu_);
      read_cv_.wait(lock, [&] { return !free_readers_.empty(); });
      c = free_readers_.back();
      free_readers_.pop_back();
    }
    // A read transaction gives every statement of `f` the same snapshot.
    Status begun = c->exec("BEGIN");
    Result<T> r = Result<T>(begun);
    if constexpr (std::is_invocable_v<F, Connection&, const EventKeyIndex::View&>) {
      // The unfiled event keys as of the snapshot: no commit comes between the view and the
      // snapshot's first read.
      EventKeyIndex::View view;
      if (begun.is_ok()) {
        std::shared_lock no_commits(commit_mu_);
        begun = c->exec("SELECT 1 FROM store_counters LIMIT 1");
        view = keys_.view();
      }
      r = begun.is_ok() ? Result<T>(f(*c, view)) : Result<T>(begun);
    } else {
      if (begun.is_ok()) r = Result<T>(f(*c));
    }
    c->reset_all();
    if (begun.is_ok()) (void)c->exec("COMMIT");
    {
      std::lock_guard lock(read_mu_);
      free_readers_.push_back(c);
    }
    read_cv_.notify_one();
    reads_.fetch_add(1);
    read_micros_.fetch_add(micros_since(start));
    return r;
  }

  /// One caller's share of a group commit.
  struct WriteJob {
    std::function<Status(Connection&)> run;
    Status status;
    bool done = false;
    bool background = false;  // the tag applier's, which does not count as the writer busy
  };

  /// Runs `f` in a write transaction and returns once it is durably committed. Concurrent
  /// callers are committed together (group commit): one leader runs every queued job in one
  /// transaction and one fsync acknowledges them all. `f` may run twice (when another job of
  /// its group fails, see commit_group), so it builds its result inside and changes nothing
  /// outside the transaction but the store's own caches.
  template <typename T, typename F>
  Result<T> write(F&& f) {
    std::optional<Result<T>> result;
    WriteJob job;
    job.run = [&](Connection& c) -> Status {
      result.emplace(f(c));
      return result->status();
    };
    submit(job);
    if (!job.status.is_ok()) return job.status;
    return std::move(*result);
  }

  /// Queues `job` and returns once it is committed and on disk. The leader commits its group
  /// under the writer's lock, lets the next leader start and then flushes the WAL, so one
  /// group's writes run while the one before reaches the disk.
  void submit(WriteJob& job) {
    if (!job.background) {
      jobs_in_flight_.fetch_add(1);
      last_job_at_.store(Clock::now().time_since_epoch().count());
    }
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&job);
    while (!job.done) {
      if (leader_active_) {
        queue_cv_.wait(lock);
        continue;
      }
      leader_active_ = true;
      std::vector<WriteJob*> group;
      group.swap(queue_);
      lock.unlock();
      const uint64_t commits = commit_group(group);
      lock.lock();
      leader_active_ = false;
      queue_cv_.notify_all();
      lock.unlock();
      const Status synced = wal_->sync_through(commits);
      lock.lock();
      for (WriteJob* j : group) {
        if (!synced.is_ok() && j->status.is_ok()) j->status = synced;
        j->done = true;
      }
      queue_cv_.notify_all();
    }
    if (!job.background) {
      last_job_at_.store(Clock::now().time_since_epoch().count());
      jobs_in_flight_.fetch_sub(1);
    }
  }

  /// Commits a group of jobs in one transaction. Jobs run without savepoints (a savepoint
  /// copies every page its job touches into the statement journal, which doubled the cost
  /// of a batch of events); when one fails, the transaction is rolled back and every job of
  /// the group runs again in a transaction of its own. Returns the count of commits to flush.
  uint64_t commit_group(const std::vector<WriteJob*>& group) {
    const auto start = Clock::now();
    std::lock_guard lock(write_mu_);
    if (!commit_together(group)) {
      for (WriteJob* j : group) (void)commit_together(std::span<WriteJob* const>(&j, 1));
    }
    if (keys_.wants_filing() || keys_.wants_merging()) file_event_keys();
    commit_micros_.fetch_add(micros_since(start));
    return wal_->committed();
  }

  /// Commits the writer's transaction and hands its event keys to the index, with no reader
  /// taking a view of the keys in between (see read()).
  Status commit_keyed(Transaction& tx) {
    std::unique_lock no_views(commit_mu_);
    SIYU_RETURN_IF_ERROR(tx.commit());
    keys_.commit();
    return Status::ok();
  }

  /// Files the unfiled event keys as a run when enough wait, then does one bounded step of
  /// merge work (EventKeyIndex::merge_step), each in a transaction of its own, so a group
  /// commit never waits for a whole merge. A failure leaves the keys unfiled (or the merge
  /// where it was) for the next try.
  void file_event_keys() {
    if (keys_.wants_filing()) {
      Transaction tx(*writer_);
      Status st = tx.begin_status();
      if (st.is_ok()) st = keys_.file_all(*writer_, next_event_seq_ - 1);
      if (st.is_ok()) st = commit_keyed(tx);
      writer_->reset_all();
      if (!st.is_ok()) {
        keys_.rollback();
        return;
      }
    }
    if (keys_.wants_merging()) {
      Transaction tx(*writer_);
      Status st = tx.begin_status();
      if (st.is_ok()) st = keys_.merge_step(*writer_).status();
      if (st.is_ok()) st = tx.commit();
      writer_->reset_all();
    }
  }

  /// Runs `jobs` in one transaction and commits it; false (and nothing written) when a job
  /// of several failed. A single job's failure, or a failed commit, is reported in the jobs.
  bool commit_together(std::span<WriteJob* const> jobs) {
    Transaction tx(*writer_);
    if (!tx.begin_status().is_ok()) {
      for (WriteJob* j : jobs) j->status = tx.begin_status();
      return true;
    }
    for (WriteJob* j : jobs) {
      j->status = j->run(*writer_);
      if (!j->status.is_ok()) {
        writer_->reset_all();
        forget_transaction();
        return jobs.size() == 1;
      }
    }
    Status committed = save_customer_counters();
    if (committed.is_ok()) committed = commit_keyed(tx);
    if (!committed.is_ok()) {
      writer_->reset_all();
      forget_transaction();
      for (WriteJob* j : jobs) j->status = committed;
      return true;
    }
    identities_.commit();
    tag_holders_.commit();
    tag_log_rows_.fetch_add(staged_tag_rows_);
    staged_tag_rows_ = 0;
    commits_.fetch_add(1);
    for (EventsCommitted& notice : committed_events_) events_listener_(std::move(notice));
    committed_events_.clear();
    return true;
  }

  /// Drops what the writer keeps in memory of a transaction that rolled back.
  void forget_transaction() {
    identities_.rollback();
    tag_holders_.rollback();
    staged_tag_rows_ = 0;
    keys_.rollback();
    committed_events_.clear();
    customer_counters_.clear();
  }

  template <typename F>
  Status write_status(F&& f) {
    struct Unit {};
    auto r = write<Unit>([&](Connection& c) -> Result<Unit> {
      SIYU_RETURN_IF_ERROR(f(c));
      return Unit{};
    });
    return r.status();
  }

  static Workspace workspace_row(const Statement& s) {
    return Workspace{WorkspaceId(s.int_at(0)), s.text_at(1), s.text_at(2), s.text_at(3),
                     s.int_at(4)};
  }
  static Result<Workspace> one_workspace(Statement& s, const std::string& missing) {
    return one<Workspace>(s, workspace_row, missing);
  }

  // ---------------------------------------------------------------- customer internals
  static Result<Customer> load_customer(Connection& c, WorkspaceId ws, CustomerId id) {
    SIYU_PREPARE(s, c,
                 std::string("SELECT ") + kCustomerCols +
                     " FROM customers WHERE workspace_id=? AND id=?");
    s->bind(1, ws.value).bind(2, id.value);
    return one<Customer>(*s, read_customer,
                         "customer " + std::to_string(id.value) + " not found");
  }

  static Status require_live(Connection& c, WorkspaceId ws, CustomerId id) {
    SIYU_ASSIGN_OR_RETURN(Customer cust, load_customer(c, ws, id));
    if (cust.merged_into || cust.erased_at) {
      return not_found("customer " + std::to_string(id.value) + " not found");
    }
    return Status::ok();
  }

  static void bind_attributes(Statement& s, const Customer& c) {
    s.bind(1, c.name)
        .bind(2, c.gender)
        .bind(3, c.birthday)
        .bind(4, c.city)
        .bind_blob(5, c.phone_sealed)
        .bind(6, c.phone_masked)
        .bind(7, last4_of_masked(c.phone_masked))
        .bind_blob(8, c.email_sealed)
        .bind(9, c.email_masked)
        .bind(10, c.custom_json)
        .bind_opt(11, c.owner_staff ? std::optional<int64_t>(c.owner_staff->value) : std::nullopt)
        .bind_opt(12, c.channel ? std::optional<int64_t>(c.channel->value) : std::nullopt)
        .bind(13, c.campaign)
        .bind(14, c.content)
        .bind_opt(15,
                  c.referrer_staff ? std::optional<int64_t>(c.referrer_staff->value) : std::nullopt)
        .bind(16, c.referrer_partner)
        .bind(17, int64_t{c.anonymous ? 1 : 0});
  }

  /// Hands out the workspace's next customer id from the writer's counter, which the
  /// transaction saves when it commits (save_customer_counters).
  Result<CustomerId> take_customer_id(Connection& c, WorkspaceId ws) {
    auto it = customer_counters_.find(ws.value);
    if (it == customer_counters_.end()) {
      SIYU_PREPARE(s, c, "SELECT next_customer_id FROM workspaces WHERE id=?");
      s->bind(1, ws.value);
      SIYU_ASSIGN_OR_RETURN(const int64_t next, one<int64_t>(*s, [](const Statement& r) { return r.int_at(0); },
                                                          "workspace " + std::to_string(ws.value) + " not found"));
      it = customer_counters_.emplace(ws.value, CustomerCounter{next, false}).first;
    }
    it->second.changed = true;
    return CustomerId(it->second.next++);
  }

  /// Saves the customer counters the open transaction advanced.
  Status save_customer_counters() {
    for (auto& [ws, counter] : customer_counters_) {
      if (!counter.changed) continue;
      SIYU_PREPARE(s, *writer_, "UPDATE workspaces SET next_customer_id=? WHERE id=?");
      s->bind(1, counter.next).bind(2, ws);
      SIYU_RETURN_IF_ERROR(s->run());
      counter.changed = false;
    }
    return Status::ok();
  }

  Result<Customer> insert_customer(Connection& c, const Customer& cust) {
    Customer out = cust;
    SIYU_ASSIGN_OR_RETURN(out.id, take_customer_id(c, cust.workspace));
    SIYU_PREPARE(s, c,
                 "INSERT INTO customers (name, gender, birthday, city, phone_sealed, phone_masked, "
                 "phone_last4, email_sealed, email_masked, custom, owner_staff, channel_id, "
                 "campaign, content, referrer_staff, referrer_partner, anonymous, created_at, "
                 "updated_at, workspace_id, id) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    bind_attributes(*s, out);
    s->bind(18, out.created_at).bind(19, out.updated_at).bind(20, out.workspace.value).bind(
        21, out.id.value);
    SIYU_RETURN_IF_ERROR(s->run());
    out.layer = "none";
    return out;
  }

  /// Inserts a customer known only by an identity (an event or order of someone new): every
  /// attribute takes its column's default, as insert_customer would write an empty Customer.
  Result<CustomerId> insert_anonymous_customer(Connection& c, WorkspaceId ws, EpochMs at) {
    SIYU_ASSIGN_OR_RETURN(const CustomerId id, take_customer_id(c, ws));
    SIYU_PREPARE(s, c,
                 "INSERT INTO customers (workspace_id, id, anonymous, created_at, updated_at) "
                 "VALUES (?,?,1,?,?)");
    s->bind(1, ws.value).bind(2, id.value).bind(3, at).bind(4, at);
    SIYU_RETURN_IF_ERROR(s->run());
    return id;
  }

  Status insert_identity(Connection& c, WorkspaceId ws, const Identity& i) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO identities (workspace_id, type, app_id, key, sealed, display, "
                 "customer_id, created_at) VALUES (?,?,?,?,?,?,?,?)");
    s->bind(1, ws.value)
        .bind(2, i.type)
        .bind(3, i.app_id)
        .bind(4, i.key)
        .bind_blob(5, i.sealed.empty() && i.seal_on_insert ? i.seal_on_insert() : i.sealed)
        .bind(6, i.display)
        .bind(7, i.customer.value)
        .bind(8, i.created_at);
    SIYU_RETURN_IF_ERROR(s->run());
    identities_.stage(identities_.key_of(ws, i.type, i.app_id, i.key), i.customer.value);
    return Status::ok();
  }

  /// The live customer an identity belongs to, if any.
  Result<std::optional<CustomerId>> identity_owner(Connection& c, WorkspaceId ws,
                                                   const Identity& i) {
    const IdentityCache::Key cache_key = identities_.key_of(ws, i.type, i.app_id, i.key);
    if (auto hit = identities_.find(cache_key)) return std::optional<CustomerId>(CustomerId(*hit));
    SIYU_PREPARE(s, c,
                 "SELECT customer_id FROM identities WHERE workspace_id=? AND type=? AND app_id=? "
                 "AND key=?");
    s->bind(1, ws.value).bind(2, i.type).bind(3, i.app_id).bind(4, i.key);
    std::optional<CustomerId> out;
    if (s->step()) out = CustomerId(s->int_at(0));
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (out) identities_.stage(cache_key, out->value);
    return out;
  }

  /// Follows merged_into to the surviving customer; nullopt when missing or erased.
  Result<std::optional<CustomerId>> live_customer(Connection& c, WorkspaceId ws, CustomerId id) {
    const IdentityCache::Key cache_key = identities_.customer_key(ws, id.value);
    if (auto hit = identities_.find(cache_key)) return std::optional<CustomerId>(CustomerId(*hit));
    SIYU_PREPARE(s, c,
                 "SELECT coalesce(merged_into, id), erased_at FROM customers WHERE workspace_id=? "
                 "AND id=?");
    s->bind(1, ws.value).bind(2, id.value);
    std::optional<CustomerId> out;
    if (s->step() && s->is_null(1)) out = CustomerId(s->int_at(0));
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (out) identities_.stage(cache_key, out->value);
    return out;
  }

  /// The customer an event or order belongs to: the named id (followed through merges) or
  /// the owner of the identity, creating an anonymous customer for an unknown identity.
  Result<std::optional<CustomerId>> resolve_subject(Connection& c, WorkspaceId ws,
                                                           const std::optional<CustomerId>& id,
                                                           const std::optional<Identity>& identity,
                                                           EpochMs at, int& created) {
    if (id) return live_customer(c, ws, *id);
    SIYU_ASSERT(identity.has_value(), "subject needs a customer id or an identity");
    SIYU_ASSIGN_OR_RETURN(auto owner, identity_owner(c, ws, *identity));
    if (owner) return owner;
    SIYU_ASSIGN_OR_RETURN(const CustomerId made, insert_anonymous_customer(c, ws, at));
    Identity i = *identity;
    i.customer = made;
    i.created_at = at;
    SIYU_RETURN_IF_ERROR(insert_identity(c, ws, i));
    ++created;
    return std::optional<CustomerId>(made);
  }

  // ---------------------------------------------------------------- tag internals
  /// Appends to the tag log what tagging (or untagging) `ids` — increasing — really changes and
  /// stages it in the holders; returns how many live customers of `ws` gained or lost the tag.
  /// Ids of no live customer of `ws` are skipped.
  Result<int64_t> change_tag(Connection& c, WorkspaceId ws, const std::vector<int64_t>& ids,
                             const std::string& tag, bool remove, const std::string& by, EpochMs at,
                             std::optional<EpochMs> expires_at) {
    SIYU_RETURN_IF_ERROR(load_tag_holders(c, ws));
    tag_log::Entry changed{ws, tag, remove ? tag_log::Op::kRemove : tag_log::Op::kAdd,
                           by, at,  remove ? std::nullopt : expires_at,
                           {}};
    tag_log::Entry expiry = changed;
    expiry.op = tag_log::Op::kExpiry;
    for (int64_t value : ids) {
      if (value <= 0 || value > UINT32_MAX) continue;  // the holders' (and index's) ids are 32-bit
      const auto id = static_cast<uint32_t>(value);
      // Holders are live customers of `ws`: only a customer gaining the tag needs looking up.
      const bool held = tag_holders_.holds(ws, tag, id);
      if (remove) {
        if (!held) continue;
        tag_holders_.remove(ws, tag, id);
        changed.ids.push_back(value);
        continue;
      }
      if (!held) {
        if (!tag_holders_.known_live(ws, id)) {
          SIYU_ASSIGN_OR_RETURN(auto live, live_customer(c, ws, CustomerId(value)));
          if (!live || live->value != value) continue;
          tag_holders_.mark_live(ws, id);
        }
        changed.ids.push_back(value);
      } else if (expires_at || tag_holders_.expiring(ws, tag, id)) {
        expiry.ids.push_back(value);  // as before: adding again sets the expiry, or clears it
      } else {
        continue;
      }
      tag_holders_.add(ws, tag, id, expires_at.has_value());
    }
    for (const tag_log::Entry* e : {&changed, &expiry}) {
      if (e->ids.empty()) continue;
      SIYU_RETURN_IF_ERROR(tag_log::append(c, *e));
      ++staged_tag_rows_;
    }
    return static_cast<int64_t>(changed.ids.size());
  }

  /// Loads who holds which tag in `ws` unless loaded: its pending log applied first, then
  /// every tag of its live customers, and which customers are live, so that tagging need
  /// not look up customers that existed at the load.
  Status load_tag_holders(Connection& c, WorkspaceId ws) {
    if (tag_holders_.loaded(ws)) return Status::ok();
    SIYU_RETURN_IF_ERROR(drain_tags(c, ws));
    SIYU_PREPARE(s, c,
                 "SELECT t.customer_id, t.tag, t.expires_at IS NOT NULL FROM customer_tags t "
                 "JOIN customers c ON c.workspace_id=t.workspace_id AND c.id=t.customer_id WHERE "
                 "t.workspace_id=? AND c.merged_into IS NULL AND c.erased_at IS NULL ORDER BY "
                 "t.tag");
    s->bind(1, ws.value);
    tag_holders_.start_load(ws);
    while (s->step()) {
      const int64_t id = s->int_at(0);
      if (id <= 0 || id > UINT32_MAX) continue;
      tag_holders_.load_held(ws, s->view_at(1), static_cast<uint32_t>(id), s->int_at(2) != 0);
    }
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    SIYU_PREPARE(live, c,
                 "SELECT id FROM customers WHERE workspace_id=? AND merged_into IS NULL AND "
                 "erased_at IS NULL AND id BETWEEN 1 AND 4294967295 ORDER BY id");
    live->bind(1, ws.value);
    while (live->step()) tag_holders_.load_live(ws, static_cast<uint32_t>(live->int_at(0)));
    st = live->status();
    live->reset();
    return st;
  }

  /// Applies the pending tag log of `ws` in this transaction.
  Status drain_tags(Connection& c, WorkspaceId ws) {
    if (tag_log_rows_.load() + staged_tag_rows_ == 0) return Status::ok();
    SIYU_ASSIGN_OR_RETURN(const size_t rows, tag_log::drain(c, ws));
    staged_tag_rows_ -= static_cast<int64_t>(rows);
    return Status::ok();
  }

  /// Makes customer_tags and tag_history of `ws` complete for a reader that follows: applies
  /// its pending tag log, if any, in a write of its own.
  Status settle_tags(WorkspaceId ws) {
    if (tag_log_rows_.load() == 0) return Status::ok();
    return write_status([&](Connection& c) { return drain_tags(c, ws); });
  }

  /// Applies the whole tag log (at open, before anything reads the tables).
  Status apply_whole_tag_log() {
    Transaction tx(*writer_);
    SIYU_RETURN_IF_ERROR(tx.begin_status());
    SIYU_RETURN_IF_ERROR(tag_log::drain(*writer_, std::nullopt).status());
    SIYU_RETURN_IF_ERROR(tx.commit());
    writer_->reset_all();
    return Status::ok();
  }

  /// Whether the holders of `ws` are loaded and can name `id`'s tags.
  bool holds_tags_of(WorkspaceId ws, CustomerId id) const {
    return id.value > 0 && id.value <= UINT32_MAX && tag_holders_.loaded(ws);
  }

  /// The holders after `loser`'s tags moved onto `survivor` as merge() moves the rows: the
  /// survivor keeps its own where both hold a tag.
  void move_tag_holders(WorkspaceId ws, CustomerId survivor, CustomerId loser) {
    if (!holds_tags_of(ws, loser) || !holds_tags_of(ws, survivor)) return;
    const auto from = static_cast<uint32_t>(loser.value);
    const auto to = static_cast<uint32_t>(survivor.value);
    for (const std::string& tag : tag_holders_.tags_of(ws, from)) {
      if (!tag_holders_.holds(ws, tag, to)) {
        tag_holders_.add(ws, tag, to, tag_holders_.expiring(ws, tag, from));
      }
    }
    tag_holders_.mark_gone(ws, from);
    tag_holders_.mark_live(ws, to);
  }

  static Status exec_bound(Connection& c, const char* sql, WorkspaceId ws, int64_t a, int64_t b) {
    SIYU_PREPARE(s, c, sql);
    s->bind(1, ws.value).bind(2, a).bind(3, b);
    return s->run();
  }

  /// Moves everything of `loser` onto `survivor` and leaves `loser` as a tombstone.
  Status merge(Connection& c, WorkspaceId ws, CustomerId survivor, CustomerId loser,
               EpochMs at, const std::string& reason) {
    identities_.invalidate();
    SIYU_RETURN_IF_ERROR(drain_tags(c, ws));
    move_tag_holders(ws, survivor, loser);
    static constexpr const char* kMoves[] = {
        "UPDATE identities SET customer_id=?2 WHERE workspace_id=?1 AND customer_id=?3",
        "UPDATE orders SET customer_id=?2 WHERE workspace_id=?1 AND customer_id=?3",
        "INSERT INTO customer_tags (workspace_id, customer_id, tag, added_by, added_at, "
        "expires_at) SELECT workspace_id, ?2, tag, added_by, added_at, expires_at FROM "
        "customer_tags WHERE workspace_id=?1 AND customer_id=?3 ON CONFLICT DO NOTHING",
        "DELETE FROM customer_tags WHERE workspace_id=?1 AND customer_id=?3",
        "UPDATE tag_history SET customer_id=?2 WHERE workspace_id=?1 AND customer_id=?3",
        "UPDATE layer_changes SET customer_id=?2 WHERE workspace_id=?1 AND customer_id=?3",
        "INSERT INTO relations (workspace_id, customer_id, kind, target, since, until_at) SELECT "
        "workspace_id, ?2, kind, target, since, until_at FROM relations WHERE workspace_id=?1 "
        "AND customer_id=?3 ON CONFLICT DO UPDATE SET since=min(relations.since, excluded.since), "
        "until_at=CASE WHEN relations.until_at IS NULL OR excluded.until_at IS NULL THEN NULL "
        "ELSE max(relations.until_at, excluded.until_at) END",
        "DELETE FROM relations WHERE workspace_id=?1 AND customer_id=?3",
        "UPDATE merges SET survivor=?2 WHERE workspace_id=?1 AND survivor=?3",
        "UPDATE customers SET merged_into=?2 WHERE workspace_id=?1 AND merged_into=?3",
    };
    for (const char* sql : kMoves) {
      SIYU_RETURN_IF_ERROR(exec_bound(c, sql, ws, survivor.value, loser.value));
    }
    // The loser's events, found through the event keys, which move along.
    SIYU_RETURN_IF_ERROR(keys_.file_all(c, next_event_seq_ - 1));
    SIYU_ASSIGN_OR_RETURN(const std::vector<int64_t> moved,
                          keys_.move(c, ws, loser.value, survivor.value));
    SIYU_PREPARE(events, c,
                 "UPDATE events SET customer_id=? WHERE workspace_id=? AND seq IN (SELECT value "
                 "FROM json_each(?))");
    events->bind(1, survivor.value).bind(2, ws.value).bind(3, Json(moved).dump());
    SIYU_RETURN_IF_ERROR(events->run());
    // Attributes the survivor lacks are taken from the merged customer.
    SIYU_RETURN_IF_ERROR(exec_bound(
        c,
        "UPDATE customers AS s SET "
        "name=CASE WHEN s.name='' THEN l.name ELSE s.name END, "
        "gender=CASE WHEN s.gender='unknown' THEN l.gender ELSE s.gender END, "
        "birthday=CASE WHEN s.birthday='' THEN l.birthday ELSE s.birthday END, "
        "city=CASE WHEN s.city='' THEN l.city ELSE s.city END, "
        "phone_sealed=coalesce(s.phone_sealed, l.phone_sealed), "
        "phone_masked=CASE WHEN s.phone_sealed IS NULL THEN l.phone_masked ELSE s.phone_masked "
        "END, phone_last4=CASE WHEN s.phone_sealed IS NULL THEN l.phone_last4 ELSE s.phone_last4 "
        "END, email_sealed=coalesce(s.email_sealed, l.email_sealed), "
        "email_masked=CASE WHEN s.email_sealed IS NULL THEN l.email_masked ELSE s.email_masked "
        "END, custom=json_patch(l.custom, s.custom), "
        "owner_staff=coalesce(s.owner_staff, l.owner_staff), "
        "channel_id=coalesce(s.channel_id, l.channel_id), "
        "campaign=CASE WHEN s.campaign='' THEN l.campaign ELSE s.campaign END, "
        "content=CASE WHEN s.content='' THEN l.content ELSE s.content END, "
        "referrer_staff=coalesce(s.referrer_staff, l.referrer_staff), "
        "referrer_partner=CASE WHEN s.referrer_partner='' THEN l.referrer_partner ELSE "
        "s.referrer_partner END, anonymous=min(s.anonymous, l.anonymous) "
        "FROM customers AS l WHERE s.workspace_id=?1 AND s.id=?2 AND l.workspace_id=?1 AND "
        "l.id=?3",
        ws, survivor.value, loser.value));
    SIYU_PREPARE(tomb, c,
                 "UPDATE customers SET merged_into=?2, phone_sealed=NULL, email_sealed=NULL, "
                 "updated_at=?4 WHERE workspace_id=?1 AND id=?3");
    tomb->bind(1, ws.value).bind(2, survivor.value).bind(3, loser.value).bind(4, at);
    SIYU_RETURN_IF_ERROR(tomb->run());
    SIYU_PREPARE(rec, c,
                 "INSERT INTO merges (workspace_id, survivor, merged, reason, at) VALUES "
                 "(?,?,?,?,?)");
    rec->bind(1, ws.value).bind(2, survivor.value).bind(3, loser.value).bind(4, reason).bind(5, at);
    return rec->run();
  }

  /// Inserts one event with the next sequence number and applies its relationship change;
  /// false when its event_id was stored before (nothing changes).
  Result<bool> insert_event(Connection& c, WorkspaceId ws, Event& e,
                            const std::optional<RelationChange>& relation) {
    SIYU_PREPARE(s, c,
                 "INSERT INTO events (workspace_id, event_id, customer_id, type, ts, amount, "
                 "channel, campaign, content, staff, properties, received_at, seq) VALUES "
                 "(?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (workspace_id, event_id) DO NOTHING");
    // The event outlives the statement's run: its text is bound without copies.
    s->bind(1, ws.value)
        .bind_kept(2, e.event_id)
        .bind(3, e.customer.value)
        .bind_kept(4, e.type)
        .bind(5, e.ts)
        .bind(6, e.amount)
        .bind_kept_or_null(7, e.channel)
        .bind_kept_or_null(8, e.campaign)
        .bind_kept_or_null(9, e.content)
        .bind_kept_or_null(10, e.staff)
        .bind_kept_or_null(11, e.properties_json == "{}" ? std::string_view() : e.properties_json)
        .bind(12, e.received_at)
        .bind(13, next_event_seq_);
    SIYU_RETURN_IF_ERROR(s->run());
    if (c.changes() == 0) return false;
    e.seq = next_event_seq_++;
    keys_.stage(ws, {e.customer.value, e.ts, e.seq, e.amount, e.type});
    if (relation) {
      SIYU_RETURN_IF_ERROR(apply_relation(c, ws, e.customer, *relation, e.ts));
      SIYU_RETURN_IF_ERROR(recompute_layer(c, ws, e.customer, e.ts));
    }
    return true;
  }

  /// Saves the event sequence counter (once per transaction that inserted events).
  Status save_event_seq(Connection& c) {
    SIYU_PREPARE(save, c, "UPDATE store_counters SET value=? WHERE name='next_event_seq'");
    save->bind(1, next_event_seq_);
    return save->run();
  }

  /// A join_group or leave_group event of the customer, written now in transaction `c`.
  Result<bool> membership_event(Connection& c, WorkspaceId ws, GroupId group, CustomerId cust,
                                bool join, bool removed, const std::string& source, EpochMs at) {
    Event e;
    e.event_id = "g" + std::to_string(group.value) + (join ? "-join-" : "-leave-") +
                 std::to_string(cust.value) + "-" + std::to_string(at) + "-" +
                 std::to_string(next_event_seq_);
    e.customer = cust;
    e.type = join ? "join_group" : "leave_group";
    e.ts = at;
    e.received_at = at;
    Json props = {{"group_id", std::to_string(group.value)}};
    if (!source.empty()) props["source"] = source;
    if (removed) props["removed"] = true;
    e.properties_json = props.dump();
    RelationChange r{"group", std::to_string(group.value), join, source, removed};
    SIYU_ASSIGN_OR_RETURN(bool stored, insert_event(c, ws, e, r));
    SIYU_RETURN_IF_ERROR(save_event_seq(c));
    return stored;
  }

  static Status apply_relation(Connection& c, WorkspaceId ws, CustomerId cust,
                               const RelationChange& r, EpochMs at) {
    if (r.kind == "group") SIYU_RETURN_IF_ERROR(community_sql::apply_membership(c, ws, cust, r, at));
    if (r.active) {
      SIYU_PREPARE(s, c,
                   "INSERT INTO relations (workspace_id, customer_id, kind, target, since) VALUES "
                   "(?,?,?,?,?) ON CONFLICT DO UPDATE SET until_at=NULL, since=CASE WHEN "
                   "relations.until_at IS NULL THEN relations.since ELSE excluded.since END");
      s->bind(1, ws.value).bind(2, cust.value).bind(3, r.kind).bind(4, r.target).bind(5, at);
      SIYU_RETURN_IF_ERROR(s->run());
      if (r.kind != "friend") return Status::ok();
      // The first staff member a customer befriends becomes the owner: 1:1 messages go
      // through that account.
      SIYU_PREPARE(o, c,
                   "UPDATE customers SET owner_staff=(SELECT id FROM users WHERE workspace_id=?1 "
                   "AND id=CAST(?2 AS INTEGER)), updated_at=?3 WHERE workspace_id=?1 AND id=?4 "
                   "AND owner_staff IS NULL AND EXISTS (SELECT 1 FROM users WHERE "
                   "workspace_id=?1 AND id=CAST(?2 AS INTEGER))");
      o->bind(1, ws.value).bind(2, r.target).bind(3, at).bind(4, cust.value);
      return o->run();
    }
    SIYU_PREPARE(s, c,
                 "UPDATE relations SET until_at=? WHERE workspace_id=? AND customer_id=? AND "
                 "kind=? AND target=? AND until_at IS NULL");
    s->bind(1, at).bind(2, ws.value).bind(3, cust.value).bind(4, r.kind).bind(5, r.target);
    return s->run();
  }

  /// Derives the layer from current facts (DOMAIN.md §1) and records a change.
  static Status recompute_layer(Connection& c, WorkspaceId ws, CustomerId cust, EpochMs at) {
    SIYU_PREPARE(s, c,
                 "SELECT CASE "
                 "WHEN EXISTS (SELECT 1 FROM relations WHERE workspace_id=?1 AND customer_id=?2 "
                 "AND kind='membership' AND until_at IS NULL) OR (SELECT count(*) FROM orders "
                 "INDEXED BY orders_by_customer WHERE workspace_id=?1 AND customer_id=?2 AND "
                 "status='paid') >= 2 THEN 'member' "
                 "WHEN EXISTS (SELECT 1 FROM relations WHERE workspace_id=?1 AND customer_id=?2 "
                 "AND kind='friend' AND until_at IS NULL) THEN 'friend' "
                 "WHEN EXISTS (SELECT 1 FROM relations WHERE workspace_id=?1 AND customer_id=?2 "
                 "AND kind='group' AND until_at IS NULL) THEN 'community' "
                 "WHEN EXISTS (SELECT 1 FROM relations WHERE workspace_id=?1 AND customer_id=?2 "
                 "AND kind='follow' AND until_at IS NULL) THEN 'fan' ELSE 'none' END, "
                 "(SELECT layer FROM customers WHERE workspace_id=?1 AND id=?2)");
    s->bind(1, ws.value).bind(2, cust.value);
    std::string next, current;
    if (s->step()) {
      next = s->text_at(0);
      current = s->text_at(1);
    }
    Status st = s->status();
    s->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (next == current) return Status::ok();
    SIYU_PREPARE(u, c, "UPDATE customers SET layer=?, updated_at=? WHERE workspace_id=? AND id=?");
    u->bind(1, next).bind(2, at).bind(3, ws.value).bind(4, cust.value);
    SIYU_RETURN_IF_ERROR(u->run());
    SIYU_PREPARE(h, c,
                 "INSERT INTO layer_changes (workspace_id, customer_id, from_layer, to_layer, at) "
                 "VALUES (?,?,?,?,?)");
    h->bind(1, ws.value).bind(2, cust.value).bind(3, current).bind(4, next).bind(5, at);
    return h->run();
  }

  static Result<OrderResult> upsert_order(Connection& c, WorkspaceId ws, const Order& o) {
    SIYU_PREPARE(q, c,
                 std::string("SELECT ") + kOrderCols +
                     " FROM orders WHERE workspace_id=? AND order_id=?");
    q->bind(1, ws.value).bind(2, o.order_id);
    std::optional<Order> existing;
    if (q->step()) existing = read_order(*q);
    Status st = q->status();
    q->reset();
    SIYU_RETURN_IF_ERROR(st);
    if (!existing) {
      SIYU_PREPARE(s, c,
                   "INSERT INTO orders (workspace_id, order_id, customer_id, status, amount, "
                   "refund_amount, currency, store, channel, staff, items, ordered_at, paid_at, "
                   "refunded_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      s->bind(1, ws.value)
          .bind(2, o.order_id)
          .bind(3, o.customer.value)
          .bind(4, o.status)
          .bind(5, o.amount)
          .bind(6, o.refund_amount)
          .bind(7, o.currency)
          .bind(8, o.store)
          .bind(9, o.channel)
          .bind(10, o.staff)
          .bind(11, o.items_json)
          .bind(12, o.ordered_at)
          .bind_opt(13, o.paid_at)
          .bind_opt(14, o.refunded_at)
          .bind(15, o.updated_at);
      SIYU_RETURN_IF_ERROR(s->run());
      return OrderResult{OrderOutcome::kCreated, Status::ok()};
    }
    const Order& e = *existing;
    if (e.amount != o.amount || e.currency != o.currency || e.items_json != o.items_json ||
        e.ordered_at != o.ordered_at || e.store != o.store || e.customer != o.customer) {
      return OrderResult{OrderOutcome::kUnchanged,
                         conflict("order \"" + o.order_id +
                                      "\" already exists with other contents; only status and "
                                      "refunds may change",
                                  "order_id")};
    }
    if (e.status == o.status && e.refund_amount == o.refund_amount && e.paid_at == o.paid_at &&
        e.refunded_at == o.refunded_at) {
      return OrderResult{OrderOutcome::kUnchanged, Status::ok()};
    }
    SIYU_PREPARE(u, c,
                 "UPDATE orders SET status=?, refund_amount=?, paid_at=?, refunded_at=?, "
                 "updated_at=? WHERE workspace_id=? AND order_id=?");
    u->bind(1, o.status)
        .bind(2, o.refund_amount)
        .bind_opt(3, o.paid_at)
        .bind_opt(4, o.refunded_at)
        .bind(5, o.updated_at)
        .bind(6, ws.value)
        .bind(7, o.order_id);
    SIYU_RETURN_IF_ERROR(u->run());
    return OrderResult{OrderOutcome::kUpdated, Status::ok()};
  }

  std::unique_ptr<Connection> writer_;
  std::string path_;  // of the database file
  bool durable_ = true;
  std::mutex write_mu_;  // held by the group-commit leader while it uses writer_
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<WriteJob*> queue_;  // guarded by queue_mu_
  bool leader_active_ = false;    // guarded by queue_mu_
  IdentityCache identities_;   // guarded by write_mu_
  TagHolders tag_holders_;     // staged under write_mu_; holders_among for any thread
  std::atomic<int64_t> tag_log_rows_{0};  // committed rows of the tag log
  int64_t staged_tag_rows_ =
      0;  // rows the open transaction adds (or applies); guarded by write_mu_
  size_t tag_apply_step_ = 16'384;
  // Jobs other than the tag applier's: how many are in submit, and the steady-clock ns one
  // last entered or left it.
  std::atomic<int> jobs_in_flight_{0};
  std::atomic<int64_t> last_job_at_{0};
  std::thread tag_apply_thread_;
  std::unique_ptr<WalSync> wal_;
  EventKeyIndex keys_;         // staging and filing under write_mu_; views for any thread
  std::shared_mutex commit_mu_;  // a commit (exclusive) against a reader's view and snapshot
  int64_t next_event_seq_ = 1;  // guarded by write_mu_
  std::function<void(EventsCommitted)> events_listener_;  // guarded by write_mu_
  std::vector<EventsCommitted> committed_events_;  // of the open transaction; guarded by write_mu_
  struct CustomerCounter {
    int64_t next = 1;
    bool changed = false;  // in the open transaction
  };
  std::unordered_map<int64_t, CustomerCounter> customer_counters_;  // by workspace; guarded by write_mu_
  std::vector<std::unique_ptr<Connection>> readers_;
  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<Connection*> free_readers_;
  std::atomic<int64_t> commits_{0}, commit_micros_{0}, reads_{0}, read_micros_{0};
  std::unique_ptr<Connection> checkpointer_;
  std::thread checkpoint_thread_;
  std::mutex background_mu_;  // of the checkpoint and tag-apply threads
  std::condition_variable background_cv_;
  bool stopping_ = false;  // guarded by background_mu_
};

}  // namespace
}  // namespace sqlite

std::unique_ptr<Store> open_sqlite_store(const StoreConfig& config, Status& status) {
  auto r = sqlite::SqliteStore::open(config);
  if (!r) {
    status = r.error();
    return nullptr;
  }
  return std::move(r).value();
}

}  // namespace siyu::store
