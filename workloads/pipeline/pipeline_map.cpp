#include "workloads/pipeline/pipeline_map.hpp"

#include <stdexcept>

namespace codesim::workloads {

int stage_count(Schedule schedule, int pp, int virtual_stages) {
  switch (schedule) {
    case Schedule::kDualPipeV:
      return 2 * pp;
    case Schedule::kInterleaved1F1B:
      return virtual_stages * pp;
    default:
      return pp;
  }
}

PipelineMap::PipelineMap(Schedule schedule, int pp, int virtual_stages)
    : schedule_(schedule), pp_(pp), virtual_stages_(virtual_stages) {
  if (pp < 1) throw std::invalid_argument("PipelineMap: pp must be >= 1");
  if (schedule == Schedule::kDualPipe && pp % 2 != 0) {
    throw std::invalid_argument("PipelineMap: DualPipe needs an even pp");
  }
  if (schedule == Schedule::kInterleaved1F1B ? virtual_stages < 2 : virtual_stages != 1) {
    throw std::invalid_argument(
        "PipelineMap: interleaved 1F1B needs >= 2 virtual stages, other schedules exactly 1");
  }
}

int PipelineMap::chunks() const {
  switch (schedule_) {
    case Schedule::kDualPipe:
    case Schedule::kDualPipeV:
      return 2;
    case Schedule::kInterleaved1F1B:
      return virtual_stages_;
    default:
      return 1;
  }
}

PipelineMap::Slot PipelineMap::slot(Place p) const {
  if (p.direction < 0 || p.direction >= directions() || p.position < 0 || p.position >= length()) {
    throw std::out_of_range("PipelineMap: no such place");
  }
  switch (schedule_) {
    case Schedule::kDualPipe: {
      const int rank = p.direction == 0 ? p.position : pp_ - 1 - p.position;
      const bool second_half = rank >= pp_ / 2;
      return {rank, p.direction ^ int(second_half)};
    }
    case Schedule::kDualPipeV:
      return p.position < pp_ ? Slot{p.position, 0} : Slot{2 * pp_ - 1 - p.position, 1};
    case Schedule::kInterleaved1F1B:
      return {p.position % pp_, p.position / pp_};
    default:
      return {p.position, 0};
  }
}

PipelineMap::Place PipelineMap::place(Slot s) const {
  if (s.rank < 0 || s.rank >= pp_) throw std::out_of_range("PipelineMap: no such rank");
  switch (schedule_) {
    case Schedule::kDualPipe: {
      const int direction = s.chunk ^ int(s.rank >= pp_ / 2);
      return {direction, direction == 0 ? s.rank : pp_ - 1 - s.rank};
    }
    case Schedule::kDualPipeV:
      return {0, s.chunk == 0 ? s.rank : 2 * pp_ - 1 - s.rank};
    case Schedule::kInterleaved1F1B:
      return {0, s.chunk * pp_ + s.rank};
    default:
      return {0, s.rank};
  }
}

std::vector<int> PipelineMap::stages_of(int rank) const {
  std::vector<int> out;
  for (int chunk = 0; chunk < chunks(); ++chunk) out.push_back(place({rank, chunk}).position);
  return out;
}

}  // namespace codesim::workloads
