// Status codes and the mapping from hull errors (ttrpc/status.h).
#include "ttrpc/status.h"

#include <gtest/gtest.h>

namespace hull::ttrpc {
namespace {

TEST(Status, CodeNamesAsGrpcSpellsThem) {
  EXPECT_EQ(code_name(0), "OK");
  EXPECT_EQ(code_name(4), "DEADLINE_EXCEEDED");
  EXPECT_EQ(code_name(12), "UNIMPLEMENTED");
  EXPECT_EQ(code_name(16), "UNAUTHENTICATED");
  EXPECT_EQ(code_name(17), "CODE_17");
  EXPECT_EQ(code_name(-1), "CODE_-1");
}

TEST(Status, HullErrorsMapAsContainerdClassifiesThem) {
  EXPECT_EQ(code_for(Errc::NotFound), Code::NotFound);
  EXPECT_EQ(code_for(Errc::Exists), Code::AlreadyExists);
  EXPECT_EQ(code_for(Errc::Invalid), Code::InvalidArgument);
  EXPECT_EQ(code_for(Errc::InvalidState), Code::FailedPrecondition);
  EXPECT_EQ(code_for(Errc::NotRunning), Code::FailedPrecondition);
  EXPECT_EQ(code_for(Errc::Paused), Code::FailedPrecondition);
  EXPECT_EQ(code_for(Errc::Timeout), Code::DeadlineExceeded);
  EXPECT_EQ(code_for(Errc::Unsupported), Code::Unimplemented);
  EXPECT_EQ(code_for(Errc::System), Code::Unknown);
  RpcError e = to_rpc_error(Error{Errc::NotFound, 0, "container c1 does not exist"});
  EXPECT_EQ(e.code, Code::NotFound);
  EXPECT_EQ(e.message, "container c1 does not exist");
}

}  // namespace
}  // namespace hull::ttrpc
