// Parsing what nvidia-smi prints for the probe's query:
//   nvidia-smi --query-gpu=<kSmiQueryFields> --format=csv,noheader,nounits
// One line per device, the fields in order, separated by ", ". A bracketed value ("[N/A]",
// "[Not Supported]", "[Unknown Error]", "[GPU is lost]") is a reading the device did not give. A
// line "Unable to determine the device handle for GPU <bus id>: GPU is lost. ..." stands for a
// device that fell off the bus. Anything else is malformed: parse_smi_query throws Error naming
// the line, so a garbled answer is never read as a healthy device.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "harness/clients/gpu/gpu_probe.h"

namespace faultline::clients {

// The fields the probe asks for, in this order.
extern const std::vector<std::string> kSmiQueryFields;
// "--query-gpu=index,name,..." for kSmiQueryFields.
std::string smi_query_argument();

struct SmiQueryParse {
  std::vector<GpuReading> devices;        // health from the readings (healthy/degraded/failed)
  std::vector<std::string> lost_bus_ids;  // as printed, e.g. "0000:07:00.0"
};
SmiQueryParse parse_smi_query(std::string_view text);

// Bus ids compared without the PCI domain's width: "00000000:07:00.0" == "0000:07:00.0".
bool same_bus_id(std::string_view a, std::string_view b);

}  // namespace faultline::clients
