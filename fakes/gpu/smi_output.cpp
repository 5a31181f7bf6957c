#include "fakes/gpu/smi_output.h"

#include <optional>
#include <set>
#include <sstream>

namespace faultline::fakes::gpu {

namespace {

const char* const kInvalidArgs =
    "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n";

const char* const kHelp =
    "NVIDIA System Management Interface -- v535.129.03 (faultline fake)\n\n"
    "    -h,   --help                Print usage information and exit.\n"
    "    -L,   --list-gpus           Display a list of GPUs connected to the system.\n"
    "    -i,   --id=                 Target a specific GPU (index, UUID or PCI bus ID).\n"
    "    -q,   --query               Display GPU info (with -x: as XML).\n"
    "    -x,   --xml-format          Produce XML output.\n"
    "    --query-gpu=                Information about GPU, e.g. index,name,memory.used.\n"
    "    --format=                   csv, with optional noheader and nounits.\n";

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    // nvidia-smi tolerates blanks around the names in a list.
    const auto b = cur.find_first_not_of(" \t");
    const auto e = cur.find_last_not_of(" \t");
    parts.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
  }
  return parts;
}

struct Args {
  bool help = false, list = false, query = false, xml = false;
  std::optional<std::string> query_gpu, format, id;
};

// Options nvidia-smi takes as "--name=value" or "--name value" (and "-i value"). False on an
// option it does not know or a missing value.
bool parse(const std::vector<std::string>& argv, Args& a) {
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    auto value_of = [&](const std::string& name, std::optional<std::string>& out) {
      if (arg == name) {
        if (i + 1 >= argv.size()) return false;
        out = argv[++i];
        return true;
      }
      out = arg.substr(name.size() + 1);
      return true;
    };
    auto is_opt = [&](const std::string& name) {
      return arg == name || arg.rfind(name + "=", 0) == 0;
    };
    if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (arg == "-L" || arg == "--list-gpus") {
      a.list = true;
    } else if (arg == "-q" || arg == "--query") {
      a.query = true;
    } else if (arg == "-x" || arg == "--xml-format") {
      a.xml = true;
    } else if (arg == "-qx" || arg == "-xq") {
      a.query = a.xml = true;
    } else if (is_opt("--query-gpu")) {
      if (!value_of("--query-gpu", a.query_gpu)) return false;
    } else if (is_opt("--format")) {
      if (!value_of("--format", a.format)) return false;
    } else if (is_opt("--id")) {
      if (!value_of("--id", a.id)) return false;
    } else if (arg == "-i") {
      if (i + 1 >= argv.size()) return false;
      a.id = argv[++i];
    } else {
      return false;
    }
  }
  return true;
}

// The devices -i names (all when absent); nullopt if one is not found.
std::optional<std::vector<GpuDeviceState>> select(const GpuClusterState& state,
                                                  const std::optional<std::string>& id) {
  if (!id) return state.devices;
  std::vector<GpuDeviceState> chosen;
  for (const auto& want : split(*id, ',')) {
    const GpuDeviceState* found = nullptr;
    for (const auto& d : state.devices) {
      if (std::to_string(d.index) == want || d.uuid == want || d.pci_bus_id == want) found = &d;
    }
    if (!found) return std::nullopt;
    chosen.push_back(*found);
  }
  return chosen;
}

SmiOutput query_gpu(const Args& a, const GpuClusterState& state,
                    const std::vector<GpuDeviceState>& devices) {
  SmiOutput r;
  if (!a.format) {
    r.out = "\"--format=\" switch is missing. Please run 'nvidia-smi -h' for help.\n";
    r.exit_code = kSmiInvalidArgument;
    return r;
  }
  bool csv = false, header = true, units = true;
  for (const auto& f : split(*a.format, ',')) {
    if (f == "csv") {
      csv = true;
    } else if (f == "noheader") {
      header = false;
    } else if (f == "nounits") {
      units = false;
    } else {
      r.out = "Invalid format \"" + f + "\". Please run 'nvidia-smi -h' for help.\n";
      r.exit_code = kSmiInvalidArgument;
      return r;
    }
  }
  if (!csv) {
    r.out = kInvalidArgs;
    r.exit_code = kSmiInvalidArgument;
    return r;
  }
  const auto fields = split(*a.query_gpu, ',');
  // Field names are checked before any device is read, against a device that always exists.
  const GpuDeviceState probe = state.devices.empty() ? GpuDeviceState{} : state.devices.front();
  std::vector<std::string> headers;
  for (const auto& f : fields) {
    const auto v = smi_field(f, probe, state);
    if (!v) {
      r.out = "Field \"" + f + "\" is not a valid field to query.\n\n";
      r.exit_code = kSmiInvalidArgument;
      return r;
    }
    headers.push_back(v->header);
  }
  auto join = [](const std::vector<std::string>& parts) {
    std::string line;
    for (std::size_t i = 0; i < parts.size(); ++i) line += (i ? ", " : "") + parts[i];
    return line + "\n";
  };
  if (header) r.out += join(headers);
  for (const auto& d : devices) {
    if (d.health == GpuHealth::lost) {
      r.out += gpu_lost_line(d);
      r.exit_code = kSmiGpuLost;
      continue;
    }
    std::vector<std::string> values;
    for (const auto& f : fields) {
      const auto v = smi_field(f, d, state);
      values.push_back(units ? v->with_unit : v->without_unit);
    }
    r.out += join(values);
  }
  return r;
}

}  // namespace

std::string gpu_lost_line(const GpuDeviceState& device) {
  // The message names the bus id with a 16-bit domain ("0000:07:00.0").
  std::string bus = device.pci_bus_id;
  if (bus.size() > 12 && bus.rfind("0000", 0) == 0) bus = bus.substr(4);
  return "Unable to determine the device handle for GPU " + bus +
         ": GPU is lost.  Reboot the system to recover this GPU\n";
}

std::string driver_missing_text() {
  return "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure "
         "that the latest NVIDIA driver is installed and running.\n\n";
}

SmiOutput run_nvidia_smi(const std::vector<std::string>& args, const GpuClusterState& state) {
  SmiOutput r;
  Args a;
  if (!parse(args, a)) {
    r.out = kInvalidArgs;
    r.exit_code = kSmiInvalidArgument;
    return r;
  }
  if (a.help) {
    r.out = kHelp;
    return r;
  }
  switch (state.smi_mode) {
    case SmiMode::normal:
      break;
    case SmiMode::hang:
      r.hang = true;
      return r;
    case SmiMode::driver_missing:
      r.out = driver_missing_text();
      r.exit_code = kSmiDriverNotLoaded;
      return r;
    case SmiMode::malformed:
      r.out = "index, name, memory.used [MiB]\n#### \x01\x02 corrupted ####\n0,,;;\n";
      return r;
  }
  const auto devices = select(state, a.id);
  if (!devices) {
    r.out = "No devices were found\n";
    r.exit_code = 6;  // "A query to find an object was unsuccessful"
    return r;
  }
  const int modes = (a.list ? 1 : 0) + (a.query ? 1 : 0) + (a.query_gpu ? 1 : 0);
  if (modes != 1 || (a.xml && !a.query) || (a.format && !a.query_gpu)) {
    if (modes == 0 && !a.xml && !a.format) {
      // The summary table is not emulated; say so the way nvidia-smi refuses an operation.
      r.out =
          "The summary table is not emulated by the faultline fake; use -L, --query-gpu or "
          "-q -x.\n";
      r.exit_code = kSmiNotSupported;
      return r;
    }
    r.out = kInvalidArgs;
    r.exit_code = kSmiInvalidArgument;
    return r;
  }
  if (a.list) {
    for (const auto& d : *devices) {
      if (d.health == GpuHealth::lost) {
        r.out += gpu_lost_line(d);
        r.exit_code = kSmiGpuLost;
        continue;
      }
      r.out += "GPU " + std::to_string(d.index) + ": " + d.name + " (UUID: " + d.uuid + ")\n";
    }
    return r;
  }
  if (a.query) {
    if (!a.xml) {
      r.out = "Only -q -x (XML) is emulated by the faultline fake.\n";
      r.exit_code = kSmiNotSupported;
      return r;
    }
    for (const auto& d : *devices) {
      if (d.health == GpuHealth::lost) {
        r.out = gpu_lost_line(d);
        r.exit_code = kSmiGpuLost;
        return r;
      }
    }
    r.out = smi_xml(state, *devices);
    return r;
  }
  return query_gpu(a, state, *devices);
}

}  // namespace faultline::fakes::gpu
