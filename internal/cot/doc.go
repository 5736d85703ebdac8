// Package cot owns truce's TAK / Cursor-on-Target (CoT) layer: the CoT event
// model, its two wire encodings, stream and datagram framing, a hardened
// listener that feeds friendly positions into truce, and builders for the
// markers and shapes truce sends back to TAK clients (ATAK, WinTAK, iTAK).
//
// # Encodings
//
// CoT XML is an <event> element with a <point> and an open-ended <detail>.
// ParseXML decodes one document; MarshalXML encodes one.
//
// TAK protocol version 1 carries the same event as a protobuf TakMessage
// (atakmap.commoncommo.protobuf.v1, see ATAK-CIV
// commoncommo/core/impl/protobuf/protocol.txt). DecodeTAK and MarshalTAK
// work on the bare payload. They are written against
// google.golang.org/protobuf/encoding/protowire by field number rather than
// with protoc-generated types: the schema is seven small, frozen messages, the
// hand-written decoder enforces our own limits (UTF-8, wire types, required
// fields) without an intermediate message tree, and the build needs no protoc
// toolchain or generated code to keep in step. Per the protocol, strongly
// typed detail messages (contact, __group, precisionlocation, status, takv,
// track) are used only for elements this package models completely; all other
// detail travels as xmlDetail, which is parsed with the same hardened XML
// parser as a whole event.
//
// # Framing
//
//   - XML stream (TCP): documents sent back to back, each optionally preceded
//     by an <?xml ...?> declaration. A message ends at the first "</event>".
//   - TAK stream (TCP): 0xbf, a varint payload length, the payload.
//   - TAK mesh (UDP): 0xbf, 0x01 (protocol version), 0xbf, the payload; one
//     message per datagram. A UDP datagram may also be one XML document.
//
// A Reader detects XML or TAK stream framing from the first byte of a
// connection ('<' or 0xbf). After a bad message it resynchronises where the
// framing allows: in XML at the next "<?xml" or "<event", in a TAK stream
// after the declared length. An oversized message, a length prefix that
// overflows, a wrong magic byte or unframeable garbage ends the connection,
// because nothing after it can be trusted to be a message boundary.
//
// # Limits and safety
//
// Input is untrusted. ParseXML refuses any <!DOCTYPE>, <!ENTITY> or other
// markup declaration before tokenising and again if the tokenizer reports
// one, so no entity expansion (billion laughs) or external entity can occur;
// encoding/xml runs in Strict mode with no Entity map and no CharsetReader, so
// only UTF-8 and the five predefined entities are accepted. Messages are
// capped at DefaultMaxMessage bytes (64 KiB) unless a larger or smaller limit
// is configured, element nesting at MaxDepth, and required fields (uid, type,
// time, start, stale, point lat/lon in range) are checked for both encodings.
// Errors name the event, field and reason, for example
// `cot: event "ANDROID-1234": point lat "91.5": out of range`, and wrap the
// sentinels below so callers can classify them with errors.Is.
//
// Server listens on TCP and UDP at one address, applies an idle read deadline
// (so half-open connections are dropped), caps concurrent connections, logs
// and counts every rejection by reason and never stops on bad input.
// Broadcast fans events out to connected TCP clients in the protocol each one
// speaks, without ever blocking on a slow client.
//
// Event values are plain data; the functions in this package are safe for
// concurrent use, and Server methods may be called from any goroutine.
package cot
