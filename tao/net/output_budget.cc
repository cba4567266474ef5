#include "tao/net/output_budget.h"

#include <string>
#include <utility>

namespace tao {

std::optional<SharedOutput> OutputBudget::Share(const absl::Cord& bytes,
                                                bool force) {
  const size_t n = bytes.size();
  if (force) {
    ForceCharge(n);
  } else if (!TryCharge(n)) {
    return std::nullopt;
  }
  auto flat = std::make_unique<std::string>(bytes);
  const absl::string_view view = *flat;
  // The releaser runs when the last connection lets go of the bytes; it
  // keeps the budget alive until then.
  absl::Cord shared = absl::MakeCordFromExternal(
      view, [flat = std::move(flat), budget = shared_from_this(),
             n](absl::string_view) { budget->Release(n); });
  return SharedOutput(std::move(shared), this);
}

}  // namespace tao
