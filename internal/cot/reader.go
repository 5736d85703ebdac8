package cot

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// Protocol is the encoding a stream carries.
type Protocol int

// Protocols a Reader can detect.
const (
	ProtoUnknown   Protocol = iota // nothing read yet
	ProtoXML                       // CoT XML documents back to back
	ProtoTAKStream                 // TAK protocol v1 stream framing
)

// String returns "xml", "tak" or "unknown".
func (p Protocol) String() string {
	switch p {
	case ProtoXML:
		return "xml"
	case ProtoTAKStream:
		return "tak"
	}
	return "unknown"
}

// MessageError reports one bad message that a Reader skipped; the stream is
// still usable and Next may be called again.
type MessageError struct {
	Err error
}

// Error returns the underlying error's text.
func (e *MessageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *MessageError) Unwrap() error { return e.Err }

// Reader splits a stream into Events, detecting XML or TAK stream framing
// from the first byte. It is not safe for concurrent use.
type Reader struct {
	src   io.Reader
	max   int
	buf   []byte // unread data is buf[off:]
	off   int
	rerr  error // error from src, returned once buffered data is used up
	proto Protocol
	fatal error
}

// NewReader returns a Reader of r that accepts messages of at most max bytes
// (0 means DefaultMaxMessage).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &Reader{src: r, max: max}
}

// Protocol returns the detected protocol (ProtoUnknown before the first
// message).
func (r *Reader) Protocol() Protocol { return r.proto }

// Next returns the next event. A *MessageError means one message was bad and
// skipped; call Next again. io.EOF means the stream ended cleanly between
// messages. Any other error (wrapping ErrFraming or ErrTooLarge, a truncated
// final message, or a read error) is final and is returned by every later
// call.
func (r *Reader) Next() (Event, error) {
	if r.fatal != nil {
		return Event{}, r.fatal
	}
	ev, err := r.next()
	var me *MessageError
	if err != nil && !errors.As(err, &me) {
		r.fatal = err
	}
	return ev, err
}

func (r *Reader) next() (Event, error) {
	if r.proto == ProtoUnknown {
		if err := r.skipSpace(); err != nil {
			return Event{}, err
		}
		switch r.buf[r.off] {
		case '<':
			r.proto = ProtoXML
		case Magic:
			r.proto = ProtoTAKStream
		default:
			return Event{}, fmt.Errorf("cot: read: %w: first byte 0x%02x is neither '<' nor 0xbf", ErrFraming, r.buf[r.off])
		}
	}
	if r.proto == ProtoXML {
		return r.nextXML()
	}
	return r.nextTAK()
}

// fill reads more data into the buffer, growing it up to the message limit.
// It returns the read error once no more data can arrive.
func (r *Reader) fill() error {
	if r.rerr != nil {
		return r.rerr
	}
	if r.off > 0 {
		n := copy(r.buf, r.buf[r.off:])
		r.buf = r.buf[:n]
		r.off = 0
	}
	limit := r.max + 16 // room for framing around a maximal message
	if len(r.buf) == cap(r.buf) {
		if cap(r.buf) >= limit {
			return fmt.Errorf("cot: read: %w: no message boundary in %d bytes", ErrTooLarge, len(r.buf))
		}
		nb := make([]byte, len(r.buf), min(limit, max(4096, 2*cap(r.buf))))
		copy(nb, r.buf)
		r.buf = nb
	}
	n, err := r.src.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if err != nil {
		r.rerr = err
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// skipSpace discards whitespace and returns io.EOF if the stream ends.
func (r *Reader) skipSpace() error {
	for {
		for r.off < len(r.buf) && isSpace(r.buf[r.off]) {
			r.off++
		}
		if r.off < len(r.buf) {
			return nil
		}
		if err := r.fill(); err != nil {
			return err
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 }

var (
	xmlDecl    = []byte("<?xml")
	eventOpen  = []byte("<event")
	eventClose = []byte("</event>")
)

// nextStart returns the index of the next "<?xml" or "<event" start tag in
// b, or -1.
func nextStart(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return -1
		}
		i += j
		if isStart(b[i:]) {
			return i
		}
		i++
	}
}

// isStart reports whether b begins with "<?xml" or "<event" followed by a
// delimiter.
func isStart(b []byte) bool {
	var rest []byte
	switch {
	case bytes.HasPrefix(b, xmlDecl):
		rest = b[len(xmlDecl):]
	case bytes.HasPrefix(b, eventOpen):
		rest = b[len(eventOpen):]
	default:
		return false
	}
	return len(rest) > 0 && (isSpace(rest[0]) || rest[0] == '>' || rest[0] == '/' || rest[0] == '?')
}

func (r *Reader) nextXML() (Event, error) {
	skipped := 0
	for {
		if err := r.skipSpace(); err != nil {
			if err == io.EOF && skipped > 0 {
				return Event{}, fmt.Errorf("cot: read: %w: %d bytes of garbage at end of stream", ErrFraming, skipped)
			}
			return Event{}, err
		}
		data := r.buf[r.off:]
		if len(data) < len(eventOpen) && r.rerr == nil {
			if err := r.fill(); err != nil && err != io.EOF {
				return Event{}, err
			}
			continue
		}
		if !bytes.HasPrefix(data, xmlDecl) && !bytes.HasPrefix(data, eventOpen) {
			// Garbage: skip to the next plausible message start.
			if i := nextStart(data[1:]); i >= 0 {
				r.off += 1 + i
				return Event{}, &MessageError{fmt.Errorf("cot: read: %w: skipped %d bytes before a message", ErrSyntax, skipped+1+i)}
			}
			// Keep a tail that could be the start of a marker.
			keep := min(len(data), len(eventOpen))
			skipped += len(data) - keep
			r.off += len(data) - keep
			if skipped > r.max {
				return Event{}, fmt.Errorf("cot: read: %w: %d bytes without a message", ErrFraming, skipped)
			}
			if err := r.fill(); err != nil {
				if err == io.EOF {
					return Event{}, fmt.Errorf("cot: read: %w: %d bytes of garbage at end of stream", ErrFraming, skipped+keep)
				}
				return Event{}, err
			}
			continue
		}
		if skipped > 0 {
			return Event{}, &MessageError{fmt.Errorf("cot: read: %w: skipped %d bytes before a message", ErrSyntax, skipped)}
		}
		end := bytes.Index(data, eventClose)
		if end < 0 {
			if len(data) > r.max {
				return Event{}, fmt.Errorf("cot: read: %w: no </event> within %d bytes", ErrTooLarge, r.max)
			}
			if err := r.fill(); err != nil {
				if err == io.EOF {
					return Event{}, fmt.Errorf("cot: read: %w: stream ended inside a message", io.ErrUnexpectedEOF)
				}
				return Event{}, err
			}
			continue
		}
		end += len(eventClose)
		msg := data[:end]
		// A new message starting before </event> means this one was cut short.
		root := 0
		if bytes.HasPrefix(msg, xmlDecl) {
			root = nextStart(msg[1:]) + 1 // the <event> after the declaration
		}
		if i := nextStart(msg[root+1:]); i >= 0 {
			r.off += root + 1 + i
			return Event{}, &MessageError{fmt.Errorf("cot: read: %w: message truncated by the next one", ErrSyntax)}
		}
		r.off += end
		if len(msg) > r.max {
			return Event{}, &MessageError{fmt.Errorf("cot: read: %d bytes: %w", len(msg), ErrTooLarge)}
		}
		ev, err := parseXML(msg, r.max)
		if err != nil {
			return Event{}, &MessageError{err}
		}
		return ev, nil
	}
}

func (r *Reader) nextTAK() (Event, error) {
	for {
		data := r.buf[r.off:]
		if len(data) == 0 {
			if err := r.fill(); err != nil {
				return Event{}, err
			}
			continue
		}
		if data[0] != Magic {
			return Event{}, fmt.Errorf("cot: read: %w: magic 0x%02x, want 0xbf", ErrFraming, data[0])
		}
		length, n := protowire.ConsumeVarint(data[1:])
		if n < 0 {
			if len(data)-1 >= protowire.SizeVarint(1<<63) {
				return Event{}, fmt.Errorf("cot: read: %w: length varint overflows", ErrFraming)
			}
			if err := r.fill(); err != nil {
				return Event{}, eofInMessage(err)
			}
			continue
		}
		if length > uint64(r.max) {
			return Event{}, fmt.Errorf("cot: read: %w: length %d exceeds %d", ErrTooLarge, length, r.max)
		}
		total := 1 + n + int(length)
		if len(data) < total {
			if err := r.fill(); err != nil {
				return Event{}, eofInMessage(err)
			}
			continue
		}
		r.off += total
		ev, err := decodeTAK(data[1+n:total], r.max)
		if err != nil {
			return Event{}, &MessageError{err}
		}
		return ev, nil
	}
}

func eofInMessage(err error) error {
	if err == io.EOF {
		return fmt.Errorf("cot: read: %w: stream ended inside a message", io.ErrUnexpectedEOF)
	}
	return err
}
