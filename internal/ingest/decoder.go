package ingest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/truce"
)

// ErrFormat is wrapped by the error a Decoder returns when its input cannot
// be read as its format at all: a JSON body that does not start with '[' or
// '{', GeoJSON that is not a FeatureCollection, CSV without a usable header.
var ErrFormat = errors.New("ingest: input is not of its format")

func formatError(f Format, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrFormat, f, fmt.Sprintf(format, args...))
}

// source is the framing of one format: it reads the next record into w.
// It returns the line the record starts on, and a Rejection when the record
// could not be read as a wire record; io.EOF after the last record; and any
// other error to stop the Decoder.
type source interface {
	record(w *api.Observation) (line int, rej *Rejection, err error)
}

// Decoder reads observations from an input of one format, one record at a
// time, in constant memory.
type Decoder struct {
	src   source
	opts  Options
	field func(string) string // renames a wire field for the format, or nil
	index int
	line  int   // where the record Next returned last starts
	err   error // sticky: io.EOF, an ErrFormat error or a read error
	w     api.Observation
}

// NewDecoder returns a decoder of the records of format f read from r. It
// buffers r itself.
func NewDecoder(r io.Reader, f Format, opts Options) *Decoder {
	d := &Decoder{opts: opts}
	br := bufio.NewReaderSize(r, 64<<10)
	max := opts.maxRecord()
	switch f {
	case JSON:
		d.src = newJSONSource(br, max, false)
	case GeoJSON:
		d.src = newJSONSource(br, max, true)
		d.field = geoField
	case NDJSON:
		d.src = &ndjsonSource{r: br, max: max}
	case CSV:
		d.src = newCSVSource(br, max)
		d.field = csvField
	default:
		d.err = fmt.Errorf("%w: unknown format %q", ErrFormat, f)
	}
	return d
}

// Next returns the next record: a valid, canonical observation with rej
// nil, or a rejected record's Rejection. After the last record it returns
// io.EOF. An error wrapping ErrFormat says the input is not of the format
// at all; any other error is a read error of the input, wrapped. Once Next
// has returned an error it returns the same error ever after.
func (d *Decoder) Next() (truce.Observation, *Rejection, error) {
	if d.err != nil {
		return truce.Observation{}, nil, d.err
	}
	d.w = api.Observation{}
	line, rej, err := d.src.record(&d.w)
	if err != nil {
		if err != io.EOF && !errors.Is(err, ErrFormat) {
			err = fmt.Errorf("ingest: read input: %w", err)
		}
		d.err = err
		return truce.Observation{}, nil, err
	}
	var o truce.Observation
	if rej == nil {
		o, rej = Validate(&d.w, d.opts)
	}
	index := d.index
	d.index++
	d.line = line
	if rej != nil {
		rej.Index, rej.Line = index, line
		if d.field != nil && rej.Field != "" {
			rej.Field = d.field(rej.Field)
		}
		return truce.Observation{}, rej, nil
	}
	return o, nil, nil
}

// Line returns the 1-based line of the input where the record that Next
// returned last starts.
func (d *Decoder) Line() int { return d.line }

// disallowUnknown is the go-json decode option of
// json.Decoder.DisallowUnknownFields, which the package does not offer to
// Unmarshal: it is read off a Decoder that has it set.
var disallowUnknown = func() func(*json.DecodeOption) {
	d := json.NewDecoder(strings.NewReader("{}"))
	d.DisallowUnknownFields()
	flags := (json.DecodeOption{}).Flags
	var v struct{}
	_ = d.DecodeWithOption(&v, func(o *json.DecodeOption) { flags = o.Flags })
	return func(o *json.DecodeOption) { o.Flags |= flags }
}()

// unmarshal decodes one JSON record strictly, and turns a failure into a
// Rejection that names the field. prefix is a path the wire fields sit
// under in v ("properties." for a GeoJSON feature), dropped from the names.
func unmarshal(raw []byte, v any, prefix string) *Rejection {
	if !utf8.Valid(raw) {
		return reject("", "is not valid UTF-8")
	}
	err := json.UnmarshalWithOption(raw, v, disallowUnknown)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.TrimPrefix(te.Field, prefix)
		return reject(wireField(field), "want %s, got %s", kindOf(te.Type), gotValue(te.Value))
	}
	msg := err.Error()
	if key, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		if k, err := strconv.Unquote(key); err == nil {
			key = k
		}
		return reject(key, "unknown field")
	}
	msg = strings.TrimPrefix(msg, "json: ")
	return reject("", "is not valid JSON: %s", msg)
}

// wireField writes go-json's path "distance_m.1" as "distance_m[1]".
func wireField(path string) string {
	parts := strings.Split(path, ".")
	var b strings.Builder
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil && i > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func kindOf(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return t.Kind().String()
}

// gotValue turns go-json's "number 1.5" into "1.5".
func gotValue(v string) string {
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n
	}
	return v
}

func geoField(f string) string {
	switch f {
	case "lat":
		return "geometry.coordinates[1]"
	case "lon":
		return "geometry.coordinates[0]"
	}
	return f
}
