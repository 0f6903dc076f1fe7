// The parts of the ingest path measured apart, to see where an event's time goes:
// splitting and validating a JSON batch, and storing a parsed batch (durable or not).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "core/clock.h"
#include "ingest/ingest.h"
#include "store/store.h"

namespace siyu {
namespace {

std::string make_batch(int64_t first, int64_t n, int64_t distinct) {
  Json arr = Json::array();
  for (int64_t i = first; i < first + n; ++i) {
    arr.push_back({{"event_id", "b-" + std::to_string(i)},
                   {"type", "view"},
                   {"timestamp", 1'767'225'600'000 + i},
                   {"channel", "ch" + std::to_string(i % 8)},
                   {"customer", {{"type", "phone"}, {"value", "139" + std::to_string(10'000'000 + i % distinct)}}},
                   {"properties", {{"page", "menu"}}}});
  }
  return arr.dump();
}

const security::Vault& vault() {
  static const security::Vault v = [] {
    (void)security::init();
    return security::Vault::from_key({});
  }();
  return v;
}

void BM_ParseBatch(benchmark::State& state) {
  const std::string body = make_batch(0, 1000, 50'000);
  const customer::IdentityCodec codec(vault(), WorkspaceId(1));
  for (auto _ : state) {
    auto parsed = ingest::parse_event_batch(body, false, codec, 1'800'000'000'000);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_ParseBatch)->Unit(benchmark::kMillisecond);

void BM_StoreIngest(benchmark::State& state) {
  const bool durable = state.range(0) != 0;
  const int64_t distinct = state.range(1);
  const std::string dir = "/tmp/siyu-parts-bench-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  store::StoreConfig cfg;
  cfg.data_dir = dir;
  cfg.durable = durable;
  auto st = std::move(store::open_store(cfg)).value();
  const WorkspaceId ws = st->create_workspace({WorkspaceId(), "b", "B", "Asia/Shanghai", 0})->id;
  const customer::IdentityCodec codec(vault(), ws);
  int64_t next = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto parsed = ingest::parse_event_batch(make_batch(next, 1000, distinct), false, codec,
                                            1'800'000'000'000);
    next += 1000;
    state.ResumeTiming();
    auto r = st->ingest_events(ws, parsed->events, 1);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  st.reset();
  std::filesystem::remove_all(dir);
}
// Args: durable (0/1), distinct customers among the 200,000 events.
BENCHMARK(BM_StoreIngest)
    ->Args({0, 50'000})
    ->Args({1, 50'000})
    ->Args({0, 1'000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(200);

}  // namespace
}  // namespace siyu

BENCHMARK_MAIN();
