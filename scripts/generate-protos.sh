#!/usr/bin/env bash
# Regenerates Sources/RecurExport/Generated/*.pb.swift from the schemas in Sources/RecurExport/Schemas.
# Run by hand when a schema changes (never in CI); commit the schema and the generated code together.
#
#   scripts/generate-protos.sh /path/to/protoc-gen-swift
#
# protoc-gen-swift must be swift-protobuf 1.39.0's (the version Package.swift depends on), built outside
# this repository:
#   git clone https://github.com/apple/swift-protobuf && git -C swift-protobuf checkout 1.39.0
#   (cd swift-protobuf && swift build -c release --product protoc-gen-swift)
#
# Sources of the schemas:
# - onnx.proto is copied unchanged from the `onnx` Python package (1.23.2): `--copy-onnx` refreshes it.
# - tensorboard_event.proto is the subset of TensorBoard's schema that Recur writes; the `tensorboard`
#   Python package ships only compiled descriptors, so this script checks every field of the subset against
#   them (name, number, type) before generating.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

plugin="${1:?usage: scripts/generate-protos.sh /path/to/protoc-gen-swift [--copy-onnx]}"
schemas=Sources/RecurExport/Schemas
out=Sources/RecurExport/Generated

if [[ "${2:-}" == "--copy-onnx" ]]; then
  cp "$(python3 -c 'import onnx, os; print(os.path.dirname(onnx.__file__))')/onnx.proto" "$schemas/onnx.proto"
fi

# The TensorBoard subset against the installed package's descriptors.
protoc --proto_path="$schemas" --descriptor_set_out=/dev/stdout "$schemas/tensorboard_event.proto" | python3 -c '
import sys
from google.protobuf import descriptor_pb2
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
ours = descriptor_pb2.FileDescriptorSet.FromString(sys.stdin.buffer.read()).file[0]
pool = event_pb2.DESCRIPTOR.pool
def check(message, prefix):
    theirs = pool.FindMessageTypeByName(prefix + message.name)
    for field in message.field:
        real = theirs.fields_by_name.get(field.name)
        assert real is not None, f"{theirs.full_name}.{field.name} is not in the TensorBoard schema"
        assert (real.number, real.type) == (field.number, field.type), f"{theirs.full_name}.{field.name} differs"
    for nested in message.nested_type:
        check(nested, prefix + message.name + ".")
for message in ours.message_type:
    check(message, "tensorboard.")
for enum in ours.enum_type:
    theirs = pool.FindEnumTypeByName("tensorboard." + enum.name)
    for value in enum.value:
        assert theirs.values_by_name[value.name].number == value.number, f"{enum.name}.{value.name} differs"
print("tensorboard_event.proto matches the installed tensorboard package")
'

protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$schemas" --swift_out="$out" \
  --swift_opt=Visibility=Internal \
  "$schemas/onnx.proto" "$schemas/tensorboard_event.proto"
echo "generated: $(ls "$out")"
