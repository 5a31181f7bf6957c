#include "fakes/docker/control_routes.h"

namespace faultline::fakes::docker {

HttpReply control_request(FakeDockerEngine& engine, const HttpRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  try {
    if (path == "/faults" && request.method == "POST") {
      nlohmann::json fault;
      try {
        fault = nlohmann::json::parse(request.body);
      } catch (const nlohmann::json::parse_error& e) {
        return HttpReply::error(400, std::string("invalid JSON: ") + e.what());
      }
      engine.apply_fault(fault);
      return HttpReply::empty(204);
    }
    if (path == "/state" && request.method == "GET") {
      return HttpReply::json(
          200, engine.snapshot().dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return HttpReply::error(404, "no such control route: " + request.method + " " + path +
                                     " (POST /faults, GET /state)");
  } catch (const NotFound& e) {
    return HttpReply::error(404, e.what());
  } catch (const std::exception& e) {
    return HttpReply::error(400, e.what());
  }
}

}  // namespace faultline::fakes::docker
