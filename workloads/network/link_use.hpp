#pragma once
// How busy one tier of links (and, for the fabric, one plane) was over a run: bytes carried over
// capacity x elapsed time, per direction.

#include <string>

namespace codesim::workloads {

struct LinkUse {
  std::string tier;  // nvlink, pcie, nic, endpoint-switch, switch-switch
  int plane = -1;    // -1: all planes (or not a fabric tier)
  int links = 0;     // directed links
  double bytes = 0;
  double mean_utilisation = 0;
  double max_utilisation = 0;
};

}  // namespace codesim::workloads
