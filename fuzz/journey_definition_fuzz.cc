// libFuzzer target: any bytes as a journey definition (JSON), and as message content with
// {variables}.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "journey/content.h"
#include "journey/definition.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const siyu::journey::VariableSource none = [](const std::string&) {
    return std::optional<std::string>("x");
  };
  (void)siyu::journey::render(text, none);
  auto json = siyu::parse_json(text);
  if (!json) return 0;
  const siyu::journey::ExprCheck any = [](const siyu::Json&, const std::string&) {
    return siyu::Status::ok();
  };
  auto def = siyu::journey::parse_journey(*json, any, 480);
  if (!def) return 0;
  // A compiled program is never empty and every jump lands inside it or at its end.
  const auto end = static_cast<int>(def->program.size());
  if (end == 0) __builtin_trap();
  for (const auto& step : def->program) {
    const bool jumps = step.kind == siyu::journey::StepKind::kBranch ||
                       step.kind == siyu::journey::StepKind::kJump;
    if (jumps && (step.target <= 0 || step.target > end)) __builtin_trap();
    if (step.kind == siyu::journey::StepKind::kSend && step.variants.empty()) __builtin_trap();
  }
  return 0;
}
