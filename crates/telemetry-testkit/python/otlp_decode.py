"""Decode a file of OTLP records written in the collector file exporter's `proto` framing.

Usage: otlp_decode.py traces|metrics|logs FILE

Each record is a 4-byte big-endian length followed by one Export{Traces,Metrics,Logs}
ServiceRequest. Prints a JSON array with one object per record (protobuf's JSON mapping).
Exits 1 with a message naming the record when the file is truncated or a record is not a
valid message.
"""
import json
import struct
import sys

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

MESSAGES = {
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
    "logs": ExportLogsServiceRequest,
}


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in MESSAGES:
        print(__doc__, file=sys.stderr)
        return 2
    message_type = MESSAGES[sys.argv[1]]
    with open(sys.argv[2], "rb") as f:
        data = f.read()
    records = []
    offset = 0
    while offset < len(data):
        if offset + 4 > len(data):
            print(f"record {len(records)}: truncated length prefix at byte {offset}", file=sys.stderr)
            return 1
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        offset += 4
        if offset + length > len(data):
            print(
                f"record {len(records)}: length {length} runs past the end of the file",
                file=sys.stderr,
            )
            return 1
        message = message_type()
        try:
            message.ParseFromString(data[offset : offset + length])
        except Exception as e:  # noqa: BLE001 - report any decode failure with its record
            print(f"record {len(records)}: not a valid {message_type.__name__}: {e}", file=sys.stderr)
            return 1
        offset += length
        records.append(MessageToDict(message))
    json.dump(records, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
