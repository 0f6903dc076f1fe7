// SOP templates (社群运营 SOP 模板) ready to use: morning and evening briefings, the weekly
// share, new-member onboarding and the group launch sale (群发售). A template becomes an
// ordinary journey definition once the operator names the groups, audience and times.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace siyu::journey {

/// What an operator fills in to use a template.
struct TemplateParams {
  std::vector<int64_t> groups;            // groups that receive group posts
  std::optional<int64_t> segment;         // audience: a saved segment
  std::optional<std::string> start;       // launch sale: when the sale starts (local time)
  std::optional<std::string> coupon;      // launch sale: the coupon code valid during it
  int offset_minutes = 480;               // the workspace's time zone
};

struct SopTemplate {
  std::string key;
  std::string name;  // Chinese, as operators know it
  std::string name_en;
  std::string summary;
  std::string summary_en;
  bool needs_groups = false;
  bool needs_segment = false;
  bool needs_start = false;
};

/// Every template, in gallery order.
const std::vector<SopTemplate>& sop_templates();

/// The journey definition of template `key` with `p` filled in; kNotFound for an unknown key,
/// kInvalidArgument naming a missing parameter. The result still goes through parse_journey.
Result<Json> template_definition(const std::string& key, const TemplateParams& p);

}  // namespace siyu::journey
