package cot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// Magic is the first byte of every TAK protocol frame.
const Magic = 0xbf

// meshVersion is the protocol version byte of mesh framing.
const meshVersion = 0x01

// DecodeTAK decodes a TAK protocol version 1 payload (a TakMessage protobuf,
// without framing) of at most DefaultMaxMessage bytes. The message must carry
// a cotEvent with the same required fields as an XML event.
func DecodeTAK(payload []byte) (Event, error) { return decodeTAK(payload, DefaultMaxMessage) }

func decodeTAK(payload []byte, max int) (Event, error) {
	if max > 0 && len(payload) > max {
		return Event{}, fmt.Errorf("cot: decode tak: %d bytes: %w", len(payload), ErrTooLarge)
	}
	var cot []byte
	seen := false
	err := walk(payload, "TakMessage", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1: // takControl
			return want(typ, protowire.BytesType, "TakMessage.takControl")
		case 2:
			if err := want(typ, protowire.BytesType, "TakMessage.cotEvent"); err != nil {
				return err
			}
			cot, seen = v, true
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	if !seen {
		return Event{}, fmt.Errorf("cot: decode tak: cotEvent: %w", ErrMissing)
	}
	ev, err := decodeCotEvent(cot)
	if err != nil {
		return Event{}, err
	}
	if err := validate(&ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}

func decodeCotEvent(b []byte) (Event, error) {
	ev := Event{Course: math.NaN(), Speed: math.NaN()}
	var detail []byte
	hasDetail := false
	err := walk(b, "CotEvent", func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		name := cotEventFields[num]
		switch num {
		case 1, 2, 3, 4, 5, 9:
			var dst *string
			switch num {
			case 1:
				dst = &ev.Type
			case 2:
				dst = &ev.Access
			case 3:
				dst = &ev.QoS
			case 4:
				dst = &ev.Opex
			case 5:
				dst = &ev.UID
			case 9:
				dst = &ev.How
			}
			return str(typ, v, "CotEvent."+name, dst)
		case 6, 7, 8:
			if err := want(typ, protowire.VarintType, "CotEvent."+name); err != nil {
				return err
			}
			if x == 0 {
				return nil
			}
			if x > 253402300799999 { // 9999-12-31T23:59:59.999Z
				return &FieldError{UID: ev.UID, Field: name, Value: fmt.Sprint(x), Err: ErrRange}
			}
			t := time.UnixMilli(int64(x)).UTC()
			switch num {
			case 6:
				ev.Time = t
			case 7:
				ev.Start = t
			case 8:
				ev.Stale = t
			}
		case 10, 11, 12, 13, 14:
			if err := want(typ, protowire.Fixed64Type, "CotEvent."+name); err != nil {
				return err
			}
			f := math.Float64frombits(x)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return &FieldError{UID: ev.UID, Field: "point " + name, Value: fmt.Sprint(f), Err: ErrRange}
			}
			*[]*float64{&ev.Point.Lat, &ev.Point.Lon, &ev.Point.HAE, &ev.Point.CE, &ev.Point.LE}[num-10] = f
		case 15:
			if err := want(typ, protowire.BytesType, "CotEvent.detail"); err != nil {
				return err
			}
			detail, hasDetail = v, true
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	ev.Version = "2.0"
	if hasDetail {
		if err := decodeDetail(&ev, detail); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}

var cotEventFields = map[protowire.Number]string{
	1: "type", 2: "access", 3: "qos", 4: "opex", 5: "uid", 6: "time", 7: "start", 8: "stale",
	9: "how", 10: "lat", 11: "lon", 12: "hae", 13: "ce", 14: "le",
}

func decodeDetail(ev *Event, b []byte) error {
	var xmlDetail string
	typed := map[protowire.Number][]byte{}
	err := walk(b, "Detail", func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			return str(typ, v, "Detail.xmlDetail", &xmlDetail)
		case 2, 3, 4, 5, 6, 7:
			if err := want(typ, protowire.BytesType, "Detail"); err != nil {
				return err
			}
			typed[num] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	var seen kinds
	if xmlDetail != "" {
		if seen, err = parseXMLDetail(ev, xmlDetail); err != nil {
			return err
		}
	}
	// Typed messages yield to the same element in xmlDetail.
	for _, num := range []protowire.Number{2, 3, 4, 5, 6, 7} {
		v, ok := typed[num]
		if !ok {
			continue
		}
		var err error
		switch num {
		case 2:
			if seen&kContact == 0 {
				err = strFields(v, "Contact", &ev.Endpoint, &ev.Callsign)
			}
		case 3:
			if seen&kGroup == 0 {
				g := &Group{}
				err = strFields(v, "Group", &g.Name, &g.Role)
				ev.Group = g
			}
		case 4:
			if seen&kLocation == 0 {
				l := &PrecisionLocation{}
				err = strFields(v, "PrecisionLocation", &l.GeoPointSrc, &l.AltSrc)
				ev.Location = l
			}
		case 5:
			if seen&kStatus == 0 {
				err = walk(v, "Status", func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
					if num != 1 {
						return nil
					}
					if err := want(typ, protowire.VarintType, "Status.battery"); err != nil {
						return err
					}
					if x > math.MaxUint32 {
						return &FieldError{UID: ev.UID, Field: "status battery", Value: fmt.Sprint(x), Err: ErrRange}
					}
					ev.Battery = int(x)
					return nil
				})
			}
		case 6:
			if seen&kTakv == 0 {
				t := &Takv{}
				err = strFields(v, "Takv", &t.Device, &t.Platform, &t.OS, &t.Version)
				ev.Takv = t
			}
		case 7:
			if seen&kTrack == 0 {
				ev.Course, ev.Speed = 0, 0
				err = walk(v, "Track", func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
					var dst *float64
					switch num {
					case 1:
						dst = &ev.Speed
					case 2:
						dst = &ev.Course
					default:
						return nil
					}
					if err := want(typ, protowire.Fixed64Type, "Track"); err != nil {
						return err
					}
					f := math.Float64frombits(x)
					if math.IsNaN(f) || math.IsInf(f, 0) {
						return &FieldError{UID: ev.UID, Field: "track", Value: fmt.Sprint(f), Err: ErrRange}
					}
					*dst = f
					return nil
				})
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseXMLDetail parses xmlDetail with the same safeguards as ParseXML and
// reports which well-known elements it contained.
func parseXMLDetail(ev *Event, s string) (kinds, error) {
	doc := make([]byte, 0, len(s)+17)
	doc = append(doc, "<detail>"...)
	doc = append(doc, s...)
	doc = append(doc, "</detail>"...)
	if err := checkDeclarations(doc); err != nil {
		return 0, fmt.Errorf("cot: event %q: xmlDetail: %w", ev.UID, err)
	}
	p := xmlParser{data: doc, d: xml.NewDecoder(bytes.NewReader(doc)), uid: ev.UID}
	p.d.Strict = true
	p.depth = 1                             // as if inside <event>, so the same document depth applies
	if _, _, err := p.token(); err != nil { // <detail>
		return 0, err
	}
	if err := p.detail(ev); err != nil {
		return 0, err
	}
	if err := p.trailer(); err != nil {
		return 0, err
	}
	return p.seen, nil
}

// walk calls f for every field of the protobuf message b. Groups are refused.
func walk(b []byte, msg string, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("cot: decode tak: %s: %w: %v", msg, ErrSyntax, protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var y uint32
			y, n = protowire.ConsumeFixed32(b)
			x = uint64(y)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			return fmt.Errorf("cot: decode tak: %s field %d: %w: wire type %d not supported", msg, num, ErrSyntax, typ)
		}
		if n < 0 {
			return fmt.Errorf("cot: decode tak: %s field %d: %w: %v", msg, num, ErrSyntax, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func want(got, want protowire.Type, field string) error {
	if got != want {
		return fmt.Errorf("cot: decode tak: %s: %w: wire type %d, want %d", field, ErrSyntax, got, want)
	}
	return nil
}

func str(typ protowire.Type, v []byte, field string, dst *string) error {
	if err := want(typ, protowire.BytesType, field); err != nil {
		return err
	}
	if !utf8.Valid(v) {
		return fmt.Errorf("cot: decode tak: %s: %w: invalid UTF-8", field, ErrSyntax)
	}
	*dst = string(v)
	return nil
}

// strFields decodes a message whose fields 1..n are the strings dsts.
func strFields(b []byte, msg string, dsts ...*string) error {
	return walk(b, msg, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num < 1 || int(num) > len(dsts) {
			return nil
		}
		return str(typ, v, fmt.Sprintf("%s field %d", msg, num), dsts[num-1])
	})
}

// MarshalTAK encodes ev as a TAK protocol version 1 payload (a TakMessage
// with a cotEvent), without framing. It does not validate ev.
func MarshalTAK(ev Event) []byte {
	var c []byte
	c = appendStr(c, 1, ev.Type)
	c = appendStr(c, 2, ev.Access)
	c = appendStr(c, 3, ev.QoS)
	c = appendStr(c, 4, ev.Opex)
	c = appendStr(c, 5, ev.UID)
	for i, t := range []time.Time{ev.Time, ev.Start, ev.Stale} {
		if ms := t.UnixMilli(); !t.IsZero() && ms > 0 {
			c = protowire.AppendTag(c, protowire.Number(6+i), protowire.VarintType)
			c = protowire.AppendVarint(c, uint64(ms))
		}
	}
	c = appendStr(c, 9, ev.How)
	for i, f := range []float64{ev.Point.Lat, ev.Point.Lon, ev.Point.HAE, ev.Point.CE, ev.Point.LE} {
		c = protowire.AppendTag(c, protowire.Number(10+i), protowire.Fixed64Type)
		c = protowire.AppendFixed64(c, math.Float64bits(f))
	}
	if d := marshalDetail(&ev); len(d) > 0 {
		c = protowire.AppendTag(c, 15, protowire.BytesType)
		c = protowire.AppendBytes(c, d)
	}
	m := make([]byte, 0, len(c)+4)
	m = protowire.AppendTag(m, 2, protowire.BytesType)
	return protowire.AppendBytes(m, c)
}

func marshalDetail(ev *Event) []byte {
	var x bytes.Buffer
	writeXMLDetail(&x, ev)
	var d []byte
	d = appendStr(d, 1, x.String())
	sub := func(num protowire.Number, m []byte) {
		d = protowire.AppendTag(d, num, protowire.BytesType)
		d = protowire.AppendBytes(d, m)
	}
	if ev.verbatim&kContact == 0 && (ev.Callsign != "" || ev.Endpoint != "") {
		sub(2, appendStr(appendStr(nil, 1, ev.Endpoint), 2, ev.Callsign))
	}
	if ev.verbatim&kGroup == 0 && ev.Group != nil {
		sub(3, appendStr(appendStr(nil, 1, ev.Group.Name), 2, ev.Group.Role))
	}
	if ev.verbatim&kLocation == 0 && ev.Location != nil {
		sub(4, appendStr(appendStr(nil, 1, ev.Location.GeoPointSrc), 2, ev.Location.AltSrc))
	}
	if ev.verbatim&kStatus == 0 && ev.Battery > 0 {
		m := protowire.AppendTag(nil, 1, protowire.VarintType)
		sub(5, protowire.AppendVarint(m, uint64(ev.Battery)))
	}
	if ev.verbatim&kTakv == 0 && ev.Takv != nil {
		t := ev.Takv
		sub(6, appendStr(appendStr(appendStr(appendStr(nil, 1, t.Device), 2, t.Platform), 3, t.OS), 4, t.Version))
	}
	if ev.verbatim&kTrack == 0 && ev.HasTrack() {
		m := protowire.AppendTag(nil, 1, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, math.Float64bits(zeroNaN(ev.Speed)))
		m = protowire.AppendTag(m, 2, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, math.Float64bits(zeroNaN(ev.Course)))
		sub(7, m)
	}
	return d
}

func appendStr(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// AppendStream appends payload to dst in TAK stream framing: Magic, the
// varint payload length, the payload.
func AppendStream(dst, payload []byte) []byte {
	dst = append(dst, Magic)
	dst = protowire.AppendVarint(dst, uint64(len(payload)))
	return append(dst, payload...)
}

// AppendMesh appends payload to dst in TAK mesh framing: Magic, the protocol
// version 1, Magic, the payload. A mesh frame fills one UDP datagram.
func AppendMesh(dst, payload []byte) []byte {
	dst = append(dst, Magic, meshVersion, Magic)
	return append(dst, payload...)
}

// DecodeDatagram decodes one UDP datagram of at most max bytes (0 means
// DefaultMaxMessage): either a CoT XML document or a TAK mesh frame.
func DecodeDatagram(b []byte, max int) (Event, error) {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	if len(b) > max {
		return Event{}, fmt.Errorf("cot: datagram: %d bytes: %w", len(b), ErrTooLarge)
	}
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '<', bytes.HasPrefix(trimmed, []byte("\xef\xbb\xbf")):
		return parseXML(trimmed, max)
	case len(b) >= 3 && b[0] == Magic && b[1] == meshVersion && b[2] == Magic:
		return decodeTAK(b[3:], max)
	case len(b) >= 2 && b[0] == Magic:
		return Event{}, fmt.Errorf("cot: datagram: %w: mesh header % x, want bf 01 bf", ErrFraming, b[:min(3, len(b))])
	case len(b) == 0:
		return Event{}, fmt.Errorf("cot: datagram: %w: empty", ErrFraming)
	}
	return Event{}, fmt.Errorf("cot: datagram: %w: first byte 0x%02x is neither '<' nor 0xbf", ErrFraming, b[0])
}
