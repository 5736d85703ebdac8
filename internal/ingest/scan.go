package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	json "github.com/goccy/go-json"

	"github.com/truce-dev/truce/internal/api"
)

// scanner cuts JSON values out of a stream without parsing them: it tracks
// strings, escapes and nesting depth, counts lines, and keeps the bytes of
// the current value when they fit in max. Whether a value is valid JSON is
// left to the decoder of the value.
type scanner struct {
	r    *bufio.Reader
	line int // the line of the next byte, from 1
	max  int
	buf  []byte // the last value, when it fitted
	size int    // the last value's length in bytes
}

var errTooLarge = errors.New("record too large")

// chunk returns the buffered bytes, reading more when there are none.
func (s *scanner) chunk() ([]byte, error) {
	if s.r.Buffered() == 0 {
		if _, err := s.r.Peek(1); err != nil {
			return nil, err
		}
	}
	b, _ := s.r.Peek(s.r.Buffered())
	return b, nil
}

// peek skips white space and returns the next byte, not consuming it.
func (s *scanner) peek() (byte, error) {
	for {
		b, err := s.chunk()
		if err != nil {
			return 0, err
		}
		for i, c := range b {
			switch c {
			case '\n':
				s.line++
			case ' ', '\t', '\r':
			default:
				s.r.Discard(i)
				return c, nil
			}
		}
		s.r.Discard(len(b))
	}
}

// skip consumes one byte, which is not a newline.
func (s *scanner) skip() { s.r.Discard(1) }

// value consumes the value that starts at the next byte (not white space).
// It returns errTooLarge when the value was longer than max (it is skipped
// all the same), io.ErrUnexpectedEOF when the input ends inside it, or a
// read error.
func (s *scanner) value() error {
	s.buf, s.size = s.buf[:0], 0
	var (
		depth          int
		first          = true
		scalar, inStr  bool
		escaped, large bool
	)
	for {
		b, err := s.chunk()
		if err == io.EOF {
			if scalar {
				break // a number or literal may end the input
			}
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
		end := -1
	scan:
		for i, c := range b {
			if first {
				first = false
				switch c {
				case '{', '[':
					depth = 1
				case '"':
					inStr = true
				default:
					scalar = true
				}
				continue
			}
			switch {
			case inStr:
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inStr = false
					if depth == 0 {
						end = i + 1
						break scan
					}
				case c == '\n':
					s.line++
				}
			case scalar:
				switch c {
				case ',', ']', '}', ':', '[', '{', '"', ' ', '\t', '\r', '\n':
					end = i
					break scan
				}
			default:
				switch c {
				case '"':
					inStr = true
				case '{', '[':
					depth++
				case '}', ']':
					depth--
					if depth == 0 {
						end = i + 1
						break scan
					}
				case '\n':
					s.line++
				}
			}
		}
		n := len(b)
		if end >= 0 {
			n = end
		}
		s.size += n
		if !large {
			if s.size > s.max {
				large, s.buf = true, s.buf[:0]
			} else {
				s.buf = append(s.buf, b[:n]...)
			}
		}
		s.r.Discard(n)
		if end >= 0 {
			break
		}
	}
	if large {
		return errTooLarge
	}
	return nil
}

// jsonSource frames a JSON array of records (or one bare record), or the
// features of a GeoJSON FeatureCollection, streaming.
type jsonSource struct {
	s       scanner
	geo     bool
	state   jsonState
	sawType bool // GeoJSON: the "type" member has been read
	sawFeat bool // GeoJSON: the "features" member has been read
	feature feature
}

type jsonState int

const (
	jsTop        jsonState = iota // before the input
	jsSingle                      // JSON: before the one bare record
	jsFirst                       // after '[': a record or ']'
	jsNext                        // after a record: ',' or ']'
	jsAfterComma                  // after ',': a record
	jsMember                      // GeoJSON: after '{' or ',': a member name or '}'
	jsMemberNext                  // GeoJSON: after a member: ',' or '}'
	jsTrail                       // after the end: white space only
	jsDone
)

func newJSONSource(r *bufio.Reader, max int, geo bool) *jsonSource {
	return &jsonSource{s: scanner{r: r, line: 1, max: max}, geo: geo}
}

func (j *jsonSource) format() Format {
	if j.geo {
		return GeoJSON
	}
	return JSON
}

// stop ends the input with a rejection of what is left of it.
func (j *jsonSource) stop(format string, args ...any) (int, *Rejection, error) {
	j.state = jsDone
	return j.s.line, reject("", format, args...), nil
}

func (j *jsonSource) record(w *api.Observation) (int, *Rejection, error) {
	s := &j.s
	for {
		if j.state == jsDone {
			return 0, nil, io.EOF
		}
		c, err := s.peek()
		if err == io.EOF {
			switch j.state {
			case jsTop:
				j.state = jsDone
				return 0, nil, formatError(j.format(), "the input is empty")
			case jsTrail:
				j.state = jsDone
				return 0, nil, io.EOF
			case jsMember, jsMemberNext:
				return j.stop("the input ends before the closing '}' of the FeatureCollection")
			}
			return j.stop("the input ends before the closing ']' of the array")
		}
		if err != nil {
			return 0, nil, err
		}
		switch j.state {
		case jsTop:
			switch {
			case c == '[' && !j.geo:
				s.skip()
				j.state = jsFirst
			case c == '{' && !j.geo:
				j.state = jsSingle
			case c == '{':
				s.skip()
				j.state = jsMember
			case j.geo:
				j.state = jsDone
				return 0, nil, formatError(GeoJSON, "the input begins with %q, not with the '{' of a FeatureCollection", c)
			default:
				j.state = jsDone
				return 0, nil, formatError(JSON, "the input begins with %q, not with '[' or '{'", c)
			}
		case jsSingle:
			j.state = jsTrail
			return j.element(w)
		case jsFirst, jsAfterComma:
			if c == ']' && j.state == jsFirst {
				s.skip()
				j.endArray()
				continue
			}
			if c == ']' || c == ',' {
				return j.stop("unexpected %q where a record should be", c)
			}
			j.state = jsNext
			return j.element(w)
		case jsNext:
			switch c {
			case ',':
				s.skip()
				j.state = jsAfterComma
			case ']':
				s.skip()
				j.endArray()
			default:
				return j.stop("unexpected %q after a record, want ',' or ']'", c)
			}
		case jsMember:
			if c == '}' && !j.sawType && !j.sawFeat {
				s.skip()
				if err := j.endCollection(); err != nil {
					return 0, nil, err
				}
				continue
			}
			if line, rej, err := j.member(c); rej != nil || err != nil {
				return line, rej, err
			}
		case jsMemberNext:
			switch c {
			case ',':
				s.skip()
				j.state = jsMember
			case '}':
				s.skip()
				if err := j.endCollection(); err != nil {
					return 0, nil, err
				}
			default:
				return j.stop("unexpected %q in the FeatureCollection, want ',' or '}'", c)
			}
		case jsTrail:
			return j.stop("unexpected %q after the end of the %s", c, map[bool]string{false: "JSON", true: "FeatureCollection"}[j.geo])
		}
	}
}

func (j *jsonSource) endArray() {
	if j.geo {
		j.state = jsMemberNext
	} else {
		j.state = jsTrail
	}
}

func (j *jsonSource) endCollection() error {
	j.state = jsTrail
	if !j.sawType {
		j.state = jsDone
		return formatError(GeoJSON, "the object has no \"type\": \"FeatureCollection\"")
	}
	if !j.sawFeat {
		j.state = jsDone
		return formatError(GeoJSON, "the FeatureCollection has no \"features\"")
	}
	return nil
}

// member reads a member of the FeatureCollection up to its value; the
// value of "features" is left for the records, others are checked or
// skipped.
func (j *jsonSource) member(c byte) (int, *Rejection, error) {
	s := &j.s
	if c != '"' {
		return j.stop("unexpected %q in the FeatureCollection, want a member name", c)
	}
	if err := s.value(); err != nil {
		return j.valueError(err, "a member name")
	}
	var name string
	if err := json.Unmarshal(s.buf, &name); err != nil {
		return j.stop("bad member name %s", s.buf)
	}
	c, err := s.peek()
	if err == io.EOF {
		return j.stop("the input ends before the closing '}' of the FeatureCollection")
	}
	if err != nil {
		return 0, nil, err
	}
	if c != ':' {
		return j.stop("unexpected %q after member name %q, want ':'", c, name)
	}
	s.skip()
	if c, err = s.peek(); err == io.EOF {
		return j.stop("the input ends before the closing '}' of the FeatureCollection")
	} else if err != nil {
		return 0, nil, err
	}
	switch name {
	case "features":
		if j.sawFeat {
			return j.stop("the FeatureCollection has \"features\" twice")
		}
		j.sawFeat = true
		if c != '[' {
			j.state = jsDone
			return 0, nil, formatError(GeoJSON, "\"features\" is not an array")
		}
		s.skip()
		j.state = jsFirst
		return 0, nil, nil
	case "type":
		if err := s.value(); err != nil {
			return j.valueError(err, "the type")
		}
		var typ string
		if err := json.Unmarshal(s.buf, &typ); err != nil || typ != "FeatureCollection" {
			j.state = jsDone
			return 0, nil, formatError(GeoJSON, "the type is %s, not \"FeatureCollection\"", s.buf)
		}
		j.sawType = true
	default: // bbox, foreign members: skipped
		if err := s.value(); err != nil && err != errTooLarge {
			return j.valueError(err, "member "+name)
		}
	}
	j.state = jsMemberNext
	return 0, nil, nil
}

func (j *jsonSource) valueError(err error, what string) (int, *Rejection, error) {
	switch err {
	case io.ErrUnexpectedEOF:
		return j.stop("the input ends inside %s", what)
	case errTooLarge:
		return j.stop("%s is longer than %d bytes", what, j.s.max)
	}
	return 0, nil, err
}

// element reads one record.
func (j *jsonSource) element(w *api.Observation) (int, *Rejection, error) {
	s := &j.s
	line := s.line
	switch err := s.value(); err {
	case nil:
	case errTooLarge:
		return line, reject("", "is %d bytes long, more than the limit of %d", s.size, s.max), nil
	case io.ErrUnexpectedEOF:
		j.state = jsDone
		return line, reject("", "the input ends inside the record"), nil
	default:
		return 0, nil, err
	}
	if !j.geo {
		return line, unmarshal(s.buf, w, ""), nil
	}
	return line, j.decodeFeature(s.buf, w), nil
}

// feature is a GeoJSON Feature whose properties are a wire record.
type feature struct {
	Type       string           `json:"type"`
	ID         json.RawMessage  `json:"id"`
	BBox       json.RawMessage  `json:"bbox"`
	Geometry   *geometry        `json:"geometry"`
	Properties *api.Observation `json:"properties"`
}

type geometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Geometries  json.RawMessage `json:"geometries"`
	BBox        json.RawMessage `json:"bbox"`
}

func (j *jsonSource) decodeFeature(raw []byte, w *api.Observation) *Rejection {
	f := &j.feature
	*f = feature{Properties: w}
	if r := unmarshal(raw, f, "properties."); r != nil {
		return r
	}
	if f.Type != "Feature" {
		return reject("type", "%q, want \"Feature\"", f.Type)
	}
	if f.Properties == nil {
		return reject("properties", "required")
	}
	if f.Properties != w {
		*w = *f.Properties
	}
	if w.Lat != nil || w.Lon != nil {
		name := map[bool]string{true: "lat", false: "lon"}[w.Lat != nil]
		return reject("properties."+name, "not allowed: the position is the geometry's coordinates [lon, lat]")
	}
	g := f.Geometry
	if g == nil { // null geometry: an observer bearing in the properties
		return nil
	}
	if g.Type != "Point" {
		return reject("geometry", "is a %q, want a \"Point\"", g.Type)
	}
	var c []float64
	if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) < 2 || len(c) > 3 {
		return reject("geometry.coordinates", "want [lon, lat] or [lon, lat, altitude], got %s", clip(g.Coordinates))
	}
	w.Lon, w.Lat = &c[0], &c[1]
	return nil
}

// clip shortens raw input quoted in a message.
func clip(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	if len(b) > 40 {
		return fmt.Sprintf("%s…", b[:40])
	}
	return string(b)
}
