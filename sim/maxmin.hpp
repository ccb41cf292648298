#pragma once
// Weighted max-min fair sharing of capacities among variables: the bandwidth solver of the flow
// network, in the manner of SimGrid's lmm::System, and knowing nothing of topology.
//
// A constraint has a capacity (a link's bytes per second). A variable (a flow) has a weight,
// an optional bound, and uses constraints with coefficients (1 for a link crossed once).
// Progressive filling: every unfixed variable runs at weight * t; t rises until a constraint
// saturates (sum of coefficient * value == capacity) or a variable reaches its bound; those
// variables are fixed, and t rises on for the rest. The next saturation is found by scanning the
// levels of the constraints not yet saturated.
//
// Solving is incremental: only the connected components (variables linked through shared
// constraints) that a change touched since the last solve are recomputed.

#include <cstdint>
#include <limits>
#include <vector>

namespace codesim::sim {

class MaxMinSystem {
 public:
  using ConstraintId = std::uint32_t;
  using VariableId = std::uint32_t;
  static constexpr double kUnbounded = std::numeric_limits<double>::infinity();

  ConstraintId add_constraint(double capacity);
  void set_capacity(ConstraintId constraint, double capacity);
  double capacity(ConstraintId constraint) const { return constraints_[constraint].capacity; }

  // A variable of `weight` > 0 whose value may not exceed `bound`. Ids of removed variables are
  // reused.
  VariableId add_variable(double weight = 1.0, double bound = kUnbounded);
  // The variable uses `constraint` `coefficient` times (adds up if called again).
  void expand(ConstraintId constraint, VariableId variable, double coefficient = 1.0);
  void remove_variable(VariableId variable);
  void set_bound(VariableId variable, double bound);

  // Recomputes the values of the components touched since the last solve.
  void solve();
  double value(VariableId variable) const { return variables_[variable].value; }
  // Sum of coefficient * value over the constraint's variables, as of the last solve.
  double usage(ConstraintId constraint) const;
  // The variables whose values the last solve recomputed.
  const std::vector<VariableId>& last_solved() const { return solved_; }
  std::size_t variable_count() const { return variables_.size() - free_variables_.size(); }

 private:
  static constexpr std::uint32_t kNoComponent = ~std::uint32_t{0};
  struct Use {
    std::uint32_t index;  // the constraint (in a variable) or the variable (in a constraint)
    double coefficient;
  };
  struct Constraint {
    double capacity = 0;
    std::vector<Use> variables;
    // Scratch of the solve.
    double remaining = 0;
    double unfixed_weight = 0;
    std::uint32_t unfixed_count = 0;
    std::uint32_t active_slot = 0;  // position in active_, or kInactive
    std::uint32_t mark = 0;
    bool touched = false;  // its level changed in the current batch of fixes
    std::uint32_t component = kNoComponent;
  };
  struct Variable {
    double weight = 1;
    double bound = kUnbounded;
    double value = 0;
    bool alive = false;
    bool fixed = false;
    std::uint32_t mark = 0;
    std::uint32_t component = kNoComponent;
    std::uint32_t component_slot = 0;  // position in its component's variables
    std::vector<Use> constraints;
  };
  // A cached connected component, kept while only removals change it: it may then have split,
  // and solving the pieces together gives each the values it would get alone. Adding a use to
  // one of its constraints or variables drops it, and the next solve searches anew.
  struct Component {
    std::vector<VariableId> variables;
    std::vector<ConstraintId> constraints;
    bool valid = false;
    bool dirty = false;
  };

  void invalidate_component(std::uint32_t component);
  void mark_component_dirty(std::uint32_t component);
  void cache_component(const std::vector<VariableId>& variables,
                       const std::vector<ConstraintId>& constraints);
  // Sorts distinct ids below `universe`.
  void sort_ids(std::vector<std::uint32_t>& ids, std::size_t universe);
  void solve_component(std::vector<VariableId>& variables, std::vector<ConstraintId>& constraints);

  std::vector<Constraint> constraints_;
  std::vector<Variable> variables_;
  std::vector<VariableId> free_variables_;
  std::vector<ConstraintId> dirty_constraints_;
  std::vector<VariableId> dirty_variables_;
  std::vector<VariableId> solved_;
  std::vector<Component> components_;
  std::vector<std::uint32_t> free_components_;
  std::vector<std::uint32_t> dirty_components_;
  std::uint32_t epoch_ = 0;  // marks for component search
  // Scratch of solve_component: unsaturated constraints and their levels, side by side.
  static constexpr std::uint32_t kInactive = ~std::uint32_t{0};
  std::vector<ConstraintId> active_;
  std::vector<double> levels_;
  std::vector<std::uint64_t> id_bitmap_;  // all zero between calls of sort_ids
};

}  // namespace codesim::sim
