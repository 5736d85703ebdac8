package ingest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Format is an ingest format.
type Format string

// Ingest formats.
const (
	JSON    Format = "json"    // one object, or an array of objects
	NDJSON  Format = "ndjson"  // one object a line
	CSV     Format = "csv"     // a header row, then one record a row
	GeoJSON Format = "geojson" // a FeatureCollection of Point features
)

// FormatOfMediaType maps a Content-Type media type (parameters already
// stripped, case ignored) to a format.
func FormatOfMediaType(mt string) (Format, bool) {
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case "application/json":
		return JSON, true
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
		return NDJSON, true
	case "text/csv":
		return CSV, true
	case "application/geo+json":
		return GeoJSON, true
	}
	return "", false
}

// MediaType returns the media type of f, "" for an unknown format.
func (f Format) MediaType() string {
	switch f {
	case JSON:
		return "application/json"
	case NDJSON:
		return "application/x-ndjson"
	case CSV:
		return "text/csv"
	case GeoJSON:
		return "application/geo+json"
	}
	return ""
}

// Valid reports whether f is one of the four formats.
func (f Format) Valid() bool { return f.MediaType() != "" }

// FormatOfFile picks the format of a file from its name's extension (.json,
// .ndjson, .jsonl, .csv, .geojson, case ignored), or failing that from head,
// the first bytes of the file (a few KiB are plenty). The error wraps
// ErrFormat.
func FormatOfFile(name string, head []byte) (Format, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return JSON, nil
	case ".ndjson", ".jsonl":
		return NDJSON, nil
	case ".csv":
		return CSV, nil
	case ".geojson":
		return GeoJSON, nil
	}
	if f, ok := sniff(head); ok {
		return f, nil
	}
	return "", fmt.Errorf("%w: cannot tell the format of %q: name it .json, .ndjson, .jsonl, .csv or .geojson", ErrFormat, name)
}

// sniff guesses the format of an input from its first bytes.
func sniff(head []byte) (Format, bool) {
	head = bytes.TrimPrefix(head, bom)
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 {
		return "", false
	}
	switch head[0] {
	case '[':
		return JSON, true
	case '{':
		if bytes.Contains(head, []byte(`"FeatureCollection"`)) {
			return GeoJSON, true
		}
		// Two lines that each hold an object are NDJSON; an object
		// spread over lines is JSON.
		first, rest, ok := bytes.Cut(head, []byte("\n"))
		if ok && bytes.HasSuffix(bytes.TrimSpace(first), []byte("}")) {
			if rest = bytes.TrimLeft(rest, " \t\r\n"); len(rest) > 0 && rest[0] == '{' {
				return NDJSON, true
			}
		}
		return JSON, true
	}
	first, _, _ := bytes.Cut(head, []byte("\n"))
	if bytes.Contains(first, []byte("source")) && bytes.ContainsAny(first, ",") {
		return CSV, true
	}
	return "", false
}

var bom = []byte("\xef\xbb\xbf")
