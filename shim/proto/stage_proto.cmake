# Copies one of containerd's .proto files into the build tree so that plain
# protoc's C++ generator accepts it (run by shim/proto/CMakeLists.txt at build
# time; nothing staged is committed):
#  - `import weak` becomes `import`: containerd imports gogo.proto and
#    fieldpath.proto weakly, for options only, and the open-source C++
#    generator refuses weak imports;
#  - "github.com/gogo/protobuf/gogoproto/gogo.proto" becomes
#    "gogoproto/gogo.proto", so that one file does not enter the descriptor
#    pool under two names (runtimeoptions imports it by the long path).
# Usage: cmake -DIN=<source .proto> -DOUT=<staged .proto> -P stage_proto.cmake
file(READ "${IN}" text)
string(REGEX REPLACE "(^|\n)import weak " "\\1import " text "${text}")
string(REPLACE "\"github.com/gogo/protobuf/gogoproto/gogo.proto\"" "\"gogoproto/gogo.proto\""
       text "${text}")
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
