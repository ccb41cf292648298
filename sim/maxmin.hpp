#pragma once
// Weighted max-min fair sharing of capacities among variables: the bandwidth solver of the flow
// network, in the manner of SimGrid's lmm::System, and knowing nothing of topology.
//
// A constraint has a capacity (a link's bytes per second). A variable (a flow) has a weight,
// an optional bound, and uses constraints with coefficients (1 for a link crossed once).
// Progressive filling: every unfixed variable runs at weight * t; t rises until a constraint
// saturates (sum of coefficient * value == capacity) or a variable reaches its bound; those
// variables are fixed (one batch), and t rises on for the rest. The next saturation is the
// lowest level (remaining capacity / unfixed weight) among the constraints, kept in a
// tournament tree over the component's constraints (ties to the lowest constraint id). Fixing a
// variable only raises the levels of its constraints, so the tree keeps stale levels as lower
// bounds and recomputes one only when it reaches the root.
//
// Solving is incremental: only the connected components (variables linked through shared
// constraints) that a change touched since the last solve are recomputed. A component is
// cached with compact local arrays (its variables and constraints renumbered in id order, each
// one's uses contiguous) while only removals change it, and so is the record of its last
// solve: the order its variables were fixed in, batch by batch. When it has only lost
// variables since, filling before the first batch that fixed a removed variable went exactly
// as it would have without them (none of the constraints saturated there carried a removed
// variable, or that batch would have fixed it), so those earlier batches are kept: the later
// ones give their usage back to the constraints' remaining capacities and filling resumes from
// that point, a partial re-solve. Only the variables whose values changed are reported. The
// remaining capacities then come from additions and subtractions over many solves; a full
// solve every kFullSolveEvery partial ones keeps their rounding from piling up. A component
// whose variables were all removed is dropped without a solve.
//
// A removal costs O(its uses): the entries it leaves in its constraints' lists turn stale and
// the next search through a list drops them. Variable ids are reused lowest first.

#include <bit>
#include <cstdint>
#include <limits>
#include <span>
#include <utility>
#include <vector>

namespace codesim::sim {
namespace detail {

// A set of free ids that hands out the lowest first: ids in use stay packed at the low end, so
// that what is started together sits together in the arrays indexed by id. Two levels of bit
// sets: a bit per id, and a bit per word of the first level that has one set.
class LowestFreeIds {
 public:
  bool empty() const { return count_ == 0; }
  std::size_t size() const { return count_; }
  void release(std::uint32_t id) {
    const std::size_t word = id / 64;
    if (word >= ids_.size()) {
      ids_.resize(word + 1, 0);
      words_.resize(word / 64 + 1, 0);
    }
    ids_[word] |= std::uint64_t{1} << (id % 64);
    words_[word / 64] |= std::uint64_t{1} << (word % 64);
    ++count_;
  }
  std::uint32_t take_lowest() {  // not empty
    std::size_t top = 0;
    while (words_[top] == 0) ++top;
    const std::size_t word = top * 64 + std::size_t(std::countr_zero(words_[top]));
    const auto id = std::uint32_t(word * 64 + std::size_t(std::countr_zero(ids_[word])));
    ids_[word] &= ids_[word] - 1;
    if (ids_[word] == 0) words_[top] &= ~(std::uint64_t{1} << (word % 64));
    --count_;
    return id;
  }

 private:
  std::vector<std::uint64_t> ids_;
  std::vector<std::uint64_t> words_;
  std::size_t count_ = 0;
};

}  // namespace detail

class MaxMinSystem {
 public:
  using ConstraintId = std::uint32_t;
  using VariableId = std::uint32_t;
  static constexpr double kUnbounded = std::numeric_limits<double>::infinity();

  ConstraintId add_constraint(double capacity);
  void set_capacity(ConstraintId constraint, double capacity);
  double capacity(ConstraintId constraint) const { return constraints_[constraint].capacity; }

  // A variable of `weight` > 0 whose value may not exceed `bound`. Ids of removed variables are
  // reused, the lowest first.
  VariableId add_variable(double weight = 1.0, double bound = kUnbounded);
  // The variable uses `constraint` `coefficient` times (adds up if called again).
  void expand(ConstraintId constraint, VariableId variable, double coefficient = 1.0);
  // add_variable(weight) then expand(c, variable) for each c of `constraints`, in one call.
  VariableId add_variable(std::span<const ConstraintId> constraints, double weight = 1.0);
  void remove_variable(VariableId variable);
  void set_bound(VariableId variable, double bound);

  // Recomputes the values of the components touched since the last solve.
  void solve();
  double value(VariableId variable) const { return values_[variable]; }
  // Sum of coefficient * value over the constraint's variables, as of the last solve.
  double usage(ConstraintId constraint) const;
  // The variables whose values the last solve changed (one recomputed to exactly its previous
  // value is left out), component by component, each in the order its variables were fixed.
  const std::vector<VariableId>& last_solved() const { return solved_; }
  std::size_t variable_count() const { return variables_.size() - free_variables_.size(); }

  // Where the solver's work went, over its life: solve() calls, components solved (and the
  // variables in them, summed), and components found by a search (new or rebuilt) rather than
  // re-solved from their cache.
  struct Stats {
    std::uint64_t solves = 0;
    std::uint64_t components_solved = 0;
    std::uint64_t variables_solved = 0;
    std::uint64_t components_searched = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  static constexpr std::uint32_t kFullSolveEvery = 1024;
  // A variable's use of a constraint is stored twice, by variable and by constraint. A removal
  // leaves the copies in its constraints' lists behind, stale (their generation is not the
  // variable's any more): the next search through a list drops them.
  struct Use {
    std::uint32_t index;       // the constraint (in a variable) or the variable (in a constraint)
    std::uint32_t generation;  // in a constraint: the variable's when added; else unused
    double coefficient;
  };
  struct Constraint {
    double capacity = 0;
    std::vector<Use> variables;
    std::uint32_t mark = 0;
    std::uint32_t component = kNone;
    std::uint32_t component_slot = 0;  // local index in its component
  };
  struct Variable {
    double weight = 1;
    double bound = kUnbounded;
    bool alive = false;
    std::uint32_t generation = 0;  // changes when it is removed
    std::uint32_t mark = 0;
    std::uint32_t component = kNone;
    std::uint32_t component_slot = 0;  // local index in its component
    std::vector<Use> constraints;
  };
  // A cached connected component, kept while only removals change it: it may then have split,
  // and solving the pieces together gives each the values it would get alone. Adding a use to
  // one of its constraints or variables drops it, and the next solve searches anew.
  //
  // Local indices: variables and constraints in increasing id order. What fixing a variable
  // reads sits together: its weight, bound and value, and its uses (local constraint indices,
  // the coefficients apart and only when some differs from 1). A constraint's variables are
  // stored once more, by constraint. A removed variable stays in the arrays, marked dead, until
  // half of them are dead.
  struct LocalVariable {
    double weight = 1;
    double bound = kUnbounded;
    double value = 0;             // as of the last solve
    std::uint32_t first_use = 0;  // its uses: up to the next variable's first_use
    std::uint32_t batch = kNone;  // the batch of the last solve that fixed it
  };
  struct Component {
    bool valid = false;
    bool dirty = false;
    bool resolve_all = true;  // a capacity or bound changed: nothing of the last solve is kept
    std::uint32_t cut_batch = kNone;  // earliest batch that fixed a variable removed since
    std::uint32_t dead = 0;
    std::uint32_t partial_solves = 0;   // since the last full solve
    std::vector<VariableId> variables;  // local -> global (a dead one's id may be reused)
    std::vector<ConstraintId> constraints;
    std::vector<LocalVariable> locals;  // one more than variables: the end of the last's uses
    std::vector<std::uint8_t> alive;
    std::vector<std::uint32_t> use_constraint;    // the variables' uses, variable after variable
    std::vector<double> use_coefficient;          // empty when every coefficient is 1
    std::vector<std::uint32_t> constraint_begin;  // c's variables: [begin[c], begin[c + 1])
    std::vector<std::uint32_t> constraint_variables;
    // The last solve: variables in the order fixed, where each batch begins in that order, each
    // constraint's remaining capacity at the end, and the bounded variables by bound level
    // (bound / weight, then local index).
    std::vector<std::uint32_t> order;
    std::vector<std::uint32_t> batch_begin;
    std::vector<double> remaining;
    std::vector<std::pair<double, std::uint32_t>> bounds;
  };

  void invalidate_component(std::uint32_t component);
  void mark_component_dirty(std::uint32_t component);
  void mark_variable_dirty(VariableId id) {
    // A variable's expansions follow its addition: listed once.
    if (dirty_variables_.empty() || dirty_variables_.back() != id) dirty_variables_.push_back(id);
  }
  // Builds the local arrays of a component just found (ids in any order) and solves it.
  void cache_and_solve(std::vector<VariableId>& variables, std::vector<ConstraintId>& constraints);
  // Sorts distinct ids below `universe`.
  void sort_ids(std::vector<std::uint32_t>& ids, std::size_t universe);
  // Progressive filling of a cached component, whole or from its first batch that a removal
  // changed; reports the changed variables.
  void solve_component(Component& component);
  // Rebuilds a component's variables by constraint from its uses by variable.
  static void transpose_uses(Component& component);
  // Drops the dead variables from a component's arrays (between solves: the record of the last
  // solve holds live variables only).
  void compact(Component& component);

  std::vector<Constraint> constraints_;
  std::vector<Variable> variables_;
  std::vector<double> values_;
  detail::LowestFreeIds free_variables_;
  std::vector<ConstraintId> dirty_constraints_;
  std::vector<VariableId> dirty_variables_;
  std::vector<VariableId> solved_;
  Stats stats_;
  std::vector<Component> components_;
  std::vector<std::uint32_t> free_components_;
  std::vector<std::uint32_t> dirty_components_;
  std::uint32_t epoch_ = 0;               // marks for component search
  std::vector<std::uint64_t> id_bitmap_;  // all zero between calls of sort_ids
  // Scratch of solve_component, per local constraint: unfixed weight and count, whether its
  // level changed in the current batch; the tournament tree over the levels; per local
  // variable whether it is fixed.
  std::vector<double> unfixed_weight_;
  std::vector<std::uint32_t> unfixed_count_;
  std::vector<double> tree_level_;
  std::vector<std::uint32_t> tree_index_;
  std::vector<std::uint8_t> fixed_;
  std::vector<std::uint32_t> batch_;       // the variables a saturated constraint fixes
  std::vector<std::uint64_t> local_bits_;  // a set of local variables; all zero between uses
};

}  // namespace codesim::sim
