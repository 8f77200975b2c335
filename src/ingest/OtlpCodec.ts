/**
 * OTLP/HTTP binary protobuf, decoded and encoded with protobufjs from the OpenTelemetry protocol's
 * own message definitions (opentelemetry-proto: common, resource, trace, collector trace service;
 * and google.rpc.Status), kept here as .proto text so nothing is fetched or located at run time.
 * Only the fields we read are needed, but the messages are declared whole so an unknown field is
 * skipped by the library exactly as any OTLP receiver would skip it.
 */
import Long from "long"
import protobuf from "protobufjs"

// protobufjs finds `long` through a dynamic require that a bundle can hide; without it, 64-bit
// fields (span start times in ns) would be decoded as floats and lose their last digits.
protobuf.util.Long = Long
protobuf.configure()

const PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}
message Status {
  string message = 2;
  int32 code = 3;
}
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}
message Any {
  string type_url = 1;
  bytes value = 2;
}
message RpcStatus {
  int32 code = 1;
  string message = 2;
  repeated Any details = 3;
}
`

// Field names become camelCase, the OTLP/JSON spelling, so both encodings share one decoder.
const root = protobuf.parse(PROTO, { keepCase: false }).root

/** One message's binary codec, to and from the plain object of its OTLP/JSON spelling. */
const codec = <A>(name: string, options: protobuf.IConversionOptions = {}) => {
  const type = root.lookupType(`opentelemetry.proto.${name}`)
  return {
    encode: (value: A): Uint8Array => type.encode(type.fromObject(value as Record<string, unknown>)).finish(),
    decode: (body: Uint8Array): A => type.toObject(type.decode(body), options) as A
  }
}

/** 64-bit integers as decimal strings (exact), enums as numbers, ids as bytes. */
const Request = codec<Record<string, unknown>>("ExportTraceServiceRequest", { longs: String, enums: Number })
const Response = codec<{ partialSuccess?: { rejectedSpans?: number; errorMessage?: string } }>(
  "ExportTraceServiceResponse",
  { longs: Number }
)
const RpcStatus = codec<{ code?: number; message?: string }>("RpcStatus")

/** The request as the same plain object OTLP/JSON gives. Throws on a body that is not protobuf. */
export const decodeRequest = Request.decode

/** An `ExportTraceServiceResponse`; empty (full success) when nothing was rejected. */
export const encodeResponse = (rejectedSpans: number, errorMessage: string): Uint8Array =>
  Response.encode(rejectedSpans > 0 ? { partialSuccess: { rejectedSpans, errorMessage } } : {})

/** A `google.rpc.Status`. */
export const encodeStatus = (code: number, message: string): Uint8Array => RpcStatus.encode({ code, message })

/** For tests and tools: the reverse of the encoders above. */
export const decodeResponse = Response.decode
export const decodeStatus = RpcStatus.decode
export const encodeRequest = Request.encode
