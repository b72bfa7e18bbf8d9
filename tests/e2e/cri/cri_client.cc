// hull-e2e-cri: a small CRI v1 client for tests/e2e/cri.bats and
// scripts/bench/shim.sh (no CRI tooling is packaged in Debian).
//
//   hull-e2e-cri [-a ADDRESS] [-t SECONDS] METHOD [REQUEST]
//
// Calls METHOD (a RuntimeService or ImageService method of cri.proto, e.g.
// RunPodSandbox) on the CRI endpoint ADDRESS (a unix socket path, or
// unix://PATH; default $CRI_ADDRESS) with REQUEST, the request message in
// protobuf's JSON mapping (an argument, "-" or nothing for stdin; "{}" when
// stdin is a terminal is not guessed: give it). The response is printed as
// JSON on one line with the .proto field names and every field, defaults
// included (a READY sandbox's state is 0); bytes fields are base64 (jq's
// @base64d decodes them). Deadline: -t SECONDS (default 120).
//
// Exit status: 0 on success; 1 with "METHOD: CODE: message" on stderr when
// the call fails; 2 for a bad command line or request.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <string>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "cri.grpc.pb.h"

namespace {

namespace cri = runtime::v1;
namespace pbutil = google::protobuf::util;

struct Stubs {
  std::unique_ptr<cri::RuntimeService::Stub> runtime;
  std::unique_ptr<cri::ImageService::Stub> image;
};

struct Call {
  std::string method;
  std::string request_json;
  std::chrono::seconds deadline{120};
};

using Handler = std::function<int(Stubs&, const Call&)>;

int usage_error(const std::string& msg) {
  std::cerr << "hull-e2e-cri: " << msg
            << "\nusage: hull-e2e-cri [-a ADDRESS] [-t SECONDS] METHOD [REQUEST-JSON|-]\n";
  return 2;
}

// One unary call: the JSON request parsed into Req, the response printed.
template <typename Req, typename Resp, typename StubT>
Handler unary(std::unique_ptr<StubT> Stubs::*which,
              grpc::Status (StubT::*fn)(grpc::ClientContext*, const Req&, Resp*)) {
  return [which, fn](Stubs& stubs, const Call& call) -> int {
    Req req;
    pbutil::JsonParseOptions in;
    if (auto st = pbutil::JsonStringToMessage(call.request_json, &req, in); !st.ok()) {
      return usage_error(call.method + ": the request is not a " + Req::descriptor()->full_name() +
                         " in JSON: " + std::string(st.message()));
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + call.deadline);
    Resp resp;
    grpc::Status st = ((*(stubs.*which)).*fn)(&ctx, req, &resp);
    if (!st.ok()) {
      std::cerr << call.method << ": " << static_cast<int>(st.error_code()) << ": "
                << st.error_message() << "\n";
      return 1;
    }
    pbutil::JsonPrintOptions out;
    out.preserve_proto_field_names = true;
    out.always_print_primitive_fields = true;
    std::string json;
    if (auto pst = pbutil::MessageToJsonString(resp, &json, out); !pst.ok()) {
      std::cerr << call.method << ": cannot print the response: " << pst.message() << "\n";
      return 1;
    }
    std::cout << json << "\n";
    return 0;
  };
}

std::map<std::string, Handler> handlers() {
  using R = cri::RuntimeService::Stub;
  using I = cri::ImageService::Stub;
  auto rt = &Stubs::runtime;
  auto im = &Stubs::image;
  return {
      {"Version", unary(rt, &R::Version)},
      {"Status", unary(rt, &R::Status)},
      {"RunPodSandbox", unary(rt, &R::RunPodSandbox)},
      {"StopPodSandbox", unary(rt, &R::StopPodSandbox)},
      {"RemovePodSandbox", unary(rt, &R::RemovePodSandbox)},
      {"PodSandboxStatus", unary(rt, &R::PodSandboxStatus)},
      {"ListPodSandbox", unary(rt, &R::ListPodSandbox)},
      {"CreateContainer", unary(rt, &R::CreateContainer)},
      {"StartContainer", unary(rt, &R::StartContainer)},
      {"StopContainer", unary(rt, &R::StopContainer)},
      {"RemoveContainer", unary(rt, &R::RemoveContainer)},
      {"ListContainers", unary(rt, &R::ListContainers)},
      {"ContainerStatus", unary(rt, &R::ContainerStatus)},
      {"UpdateContainerResources", unary(rt, &R::UpdateContainerResources)},
      {"ExecSync", unary(rt, &R::ExecSync)},
      {"ContainerStats", unary(rt, &R::ContainerStats)},
      {"ListImages", unary(im, &I::ListImages)},
      {"ImageStatus", unary(im, &I::ImageStatus)},
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = std::getenv("CRI_ADDRESS") ? std::getenv("CRI_ADDRESS") : "";
  Call call;
  int i = 1;
  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return usage_error(flag + " needs a value");
    if (flag == "-a") {
      address = argv[++i];
    } else if (flag == "-t") {
      char* end = nullptr;
      long s = std::strtol(argv[++i], &end, 10);
      if (*end != '\0' || s <= 0) return usage_error("-t: not a positive number of seconds");
      call.deadline = std::chrono::seconds(s);
    } else {
      return usage_error("unknown flag " + flag);
    }
  }
  if (i >= argc) return usage_error("no method");
  call.method = argv[i++];
  if (i < argc && std::string(argv[i]) != "-") {
    call.request_json = argv[i++];
  } else {
    call.request_json.assign(std::istreambuf_iterator<char>(std::cin), {});
    if (i < argc) ++i;
  }
  if (i < argc) return usage_error("unexpected argument " + std::string(argv[i]));
  if (call.request_json.find_first_not_of(" \t\n") == std::string::npos) call.request_json = "{}";
  if (address.empty()) return usage_error("no CRI address: give -a or set CRI_ADDRESS");
  if (address.rfind("unix://", 0) != 0) address = "unix://" + address;

  auto table = handlers();
  auto it = table.find(call.method);
  if (it == table.end()) {
    std::string known;
    for (const auto& [name, _] : table) known += " " + name;
    return usage_error("unknown method " + call.method + "; known:" + known);
  }
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  Stubs stubs{cri::RuntimeService::NewStub(channel), cri::ImageService::NewStub(channel)};
  return it->second(stubs, call);
}
