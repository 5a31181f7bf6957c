// The control API of a FakeKafkaCluster as JSON requests and replies, independent of the
// transport: KafkaControlEndpoint serves it over loopback HTTP, tests call it directly.
//
//   GET    /health                          {"status":"ok","bootstrap":"..."}
//   GET    /cluster                         brokers up/down, offline and under-replicated counts,
//                                           replication lag, every topic's partitions (replicas,
//                                           isr, leader) and every group's coordinator
//   POST   /topics                          {"name":"t","partitions":3,"replication":2}
//   POST   /groups                          {"group":"g"}: the controller moves its coordinator
//   POST   /brokers/{id}/down               lose a broker (leaders move to in-sync followers)
//   POST   /brokers/{id}/up                 bring it back
//   POST   /brokers/{id|all}/rtt            {"ms":250}; 0 heals
//   POST   /errors                          {"api":"Produce","errors":["NOT_LEADER_FOR_PARTITION"],
//                                            "broker":2 (optional),"rtt_ms":0 (with broker)}
//   DELETE /errors/{api}                    drop the cluster-wide errors left for that API
//   POST   /topics/{t}/partitions/{p}/leader  {"broker":2}: move a leader (to an in-sync replica)
//   POST   /elect-preferred-leaders         {"moved":N}
//   POST   /reset                           heal every fault
// Replies: 200 with a JSON body; 400 {"error":...} for bad JSON or parameters (unknown API or
// error names come with a did-you-mean); 404 for an unknown path; 405 for a wrong method.
//
// Thread safety: as FakeKafkaCluster (any thread).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace faultline::fakes::kafka {

class FakeKafkaCluster;

struct ControlReply {
  int status = 200;
  nlohmann::json body;
};

// `method` is the HTTP verb ("GET", "POST", "DELETE"); `body` may be empty.
ControlReply handle_control_request(FakeKafkaCluster& kafka, const std::string& method,
                                    const std::string& target, const std::string& body);

nlohmann::json cluster_to_json(const FakeKafkaCluster& kafka);

}  // namespace faultline::fakes::kafka
