// Router: the Docker Engine API's routes, mapped onto DockerDaemon. It takes a request as the
// server read it (method, target, headers, body), negotiates the API version from the path,
// dispatches, and answers every failure as dockerd does: its status code and {"message": ...}.
// Nothing in a request can make it throw or crash; the fuzz target drives it directly.
//
// Thread safety: handle() may be called from any thread (the daemon locks itself).
#pragma once

#include <memory>

#include "fakes/docker/api_types.h"

namespace faultline::fakes::docker {

class DockerDaemon;

class Router {
 public:
  explicit Router(std::shared_ptr<DockerDaemon> daemon);
  // `request.method`, `target`, `headers` and `body` must be set; the rest is filled in here.
  HttpReply handle(HttpRequest request) const;

 private:
  HttpReply dispatch(HttpRequest& request) const;
  HttpReply containers(HttpRequest& request, const std::string& rest) const;
  HttpReply networks(HttpRequest& request, const std::string& rest) const;
  HttpReply images(HttpRequest& request, const std::string& rest) const;
  HttpReply events(HttpRequest& request) const;

  std::shared_ptr<DockerDaemon> daemon_;
};

}  // namespace faultline::fakes::docker
