package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/peterstace/simplefeatures/geom"
)

// Feature is one GeoJSON feature as read: its identifier, properties and
// geometry, with its position in the file.
type Feature struct {
	// Index is the feature's position in the collection, from 0.
	Index int
	// ID is the feature's "id" member, or else its "id" property, as text.
	ID         string
	Properties map[string]any
	Geometry   Geometry
}

// Name returns a short description of f for messages: "feature 3 (zolote)".
func (f Feature) Name() string {
	if f.ID != "" {
		return fmt.Sprintf("feature %d (%s)", f.Index, f.ID)
	}
	return fmt.Sprintf("feature %d", f.Index)
}

// Geometry is a decoded GeoJSON geometry: exactly one of its fields is set,
// according to Type.
type Geometry struct {
	Type     string // Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon
	Points   []Point
	Lines    [][]Point
	Polygons MultiPolygon
}

// FeatureError reports a feature that could not be read.
type FeatureError struct {
	Feature string // as Feature.Name
	Reason  string
}

func (e FeatureError) Error() string { return e.Feature + ": " + e.Reason }

// maxGeoJSONDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxGeoJSONDepth = 64

// DecodeFeatures reads a GeoJSON FeatureCollection, a single Feature or a
// bare geometry. It returns every feature it could read and one
// FeatureError for each it could not; err is set only when the document as
// a whole is unreadable.
func DecodeFeatures(data []byte) (features []Feature, bad []FeatureError, err error) {
	if depth(data) > maxGeoJSONDepth {
		return nil, nil, fmt.Errorf("nesting deeper than %d levels", maxGeoJSONDepth)
	}
	var top struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, nil, fmt.Errorf("not a GeoJSON object: %v", jsonReason(err))
	}
	var raws []json.RawMessage
	switch top.Type {
	case "FeatureCollection":
		if top.Features == nil {
			return nil, nil, fmt.Errorf(`FeatureCollection has no "features" array`)
		}
		raws = top.Features
	case "Feature":
		raws = []json.RawMessage{data}
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
		g, err := decodeGeometry(data)
		if err != nil {
			return nil, []FeatureError{{Feature: "geometry", Reason: err.Error()}}, nil
		}
		return []Feature{{Geometry: g}}, nil, nil
	case "":
		return nil, nil, fmt.Errorf(`GeoJSON object has no "type"`)
	default:
		return nil, nil, fmt.Errorf("unsupported GeoJSON type %q", top.Type)
	}
	for i, raw := range raws {
		f, err := decodeFeature(i, raw)
		if err != nil {
			bad = append(bad, FeatureError{Feature: f.Name(), Reason: err.Error()})
			continue
		}
		features = append(features, f)
	}
	return features, bad, nil
}

func depth(data []byte) int {
	d, maxd := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			d++
			maxd = max(maxd, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return maxd
}

func jsonReason(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	return err.Error()
}

func decodeFeature(i int, raw json.RawMessage) (Feature, error) {
	f := Feature{Index: i}
	var obj struct {
		Type       string          `json:"type"`
		ID         any             `json:"id"`
		Properties map[string]any  `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return f, fmt.Errorf("not a Feature object: %v", jsonReason(err))
	}
	f.Properties = obj.Properties
	f.ID = idText(obj.ID)
	if f.ID == "" && obj.Properties != nil {
		f.ID = idText(obj.Properties["id"])
	}
	if obj.Type != "Feature" {
		return f, fmt.Errorf(`"type" is %q, want "Feature"`, obj.Type)
	}
	if len(obj.Geometry) == 0 || bytes.Equal(bytes.TrimSpace(obj.Geometry), []byte("null")) {
		return f, fmt.Errorf("feature has no geometry")
	}
	g, err := decodeGeometry(obj.Geometry)
	if err != nil {
		return f, err
	}
	f.Geometry = g
	return f, nil
}

func idText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return ""
}

func decodeGeometry(raw []byte) (Geometry, error) {
	g, err := geom.UnmarshalGeoJSON(raw, geom.NoValidate{})
	if err != nil {
		return Geometry{}, fmt.Errorf("unreadable geometry: %v", err)
	}
	out := Geometry{Type: g.Type().String()}
	if n := g.DumpCoordinates(); n.Length() > 0 {
		for j := range n.Length() {
			if err := (Point{Lat: n.GetXY(j).Y, Lon: n.GetXY(j).X}).Validate(); err != nil {
				return out, fmt.Errorf("position %d: %v", j, err)
			}
		}
	}
	switch g.Type() {
	case geom.TypePoint:
		xy, ok := g.MustAsPoint().XY()
		if !ok {
			return out, fmt.Errorf("empty Point")
		}
		out.Points = []Point{{Lat: xy.Y, Lon: xy.X}}
	case geom.TypeMultiPoint:
		mp := g.MustAsMultiPoint()
		for i := range mp.NumPoints() {
			if xy, ok := mp.PointN(i).XY(); ok {
				out.Points = append(out.Points, Point{Lat: xy.Y, Lon: xy.X})
			}
		}
	case geom.TypeLineString:
		out.Lines = [][]Point{points(g.MustAsLineString().Coordinates())}
	case geom.TypeMultiLineString:
		ml := g.MustAsMultiLineString()
		for i := range ml.NumLineStrings() {
			out.Lines = append(out.Lines, points(ml.LineStringN(i).Coordinates()))
		}
	case geom.TypePolygon:
		p, err := polygonOf(g.MustAsPolygon(), "")
		if err != nil {
			return out, err
		}
		out.Polygons = MultiPolygon{p}
	case geom.TypeMultiPolygon:
		mp := g.MustAsMultiPolygon()
		for i := range mp.NumPolygons() {
			p, err := polygonOf(mp.PolygonN(i), fmt.Sprintf("polygon %d ", i))
			if err != nil {
				return out, err
			}
			out.Polygons = append(out.Polygons, p)
		}
	default:
		return out, fmt.Errorf("unsupported geometry type %s", g.Type())
	}
	return out, nil
}

func points(seq geom.Sequence) []Point {
	pts := make([]Point, seq.Length())
	for i := range pts {
		xy := seq.GetXY(i)
		pts[i] = Point{Lat: xy.Y, Lon: xy.X}
	}
	return pts
}

func polygonOf(p geom.Polygon, prefix string) (Polygon, error) {
	var out Polygon
	for i, r := range ringsOf(p) {
		pts := points(r.Coordinates())
		switch {
		case len(pts) < 4:
			return nil, fmt.Errorf("%sring %d has %d positions; a closed ring needs at least 4", prefix, i, len(pts))
		case pts[0] != pts[len(pts)-1]:
			return nil, fmt.Errorf("%sring %d is not closed: first position (%v) differs from last (%v)", prefix, i, pts[0], pts[len(pts)-1])
		}
		out = append(out, Ring(pts[:len(pts)-1]))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%shas no rings", prefix)
	}
	return out, nil
}

// OutFeature is a feature to write: properties and a multipolygon.
type OutFeature struct {
	Properties map[string]any
	Polygons   MultiPolygon
}

// EncodeFeatureCollection writes features as an RFC 7946 FeatureCollection:
// rings closed, exteriors counter-clockwise and holes clockwise, positions as
// [lon, lat] rounded to 1e-7 degrees (about a centimetre).
func EncodeFeatureCollection(features []OutFeature) ([]byte, error) {
	type geometry struct {
		Type        string          `json:"type"`
		Coordinates [][][][]float64 `json:"coordinates"`
	}
	type feature struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		Geometry   geometry       `json:"geometry"`
	}
	fc := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, f := range features {
		coords := make([][][][]float64, 0, len(f.Polygons))
		for _, poly := range f.Polygons {
			var rings [][][]float64
			for i, ring := range poly {
				ccw := signedArea(ring) > 0
				wantCCW := i == 0
				pos := make([][]float64, 0, len(ring)+1)
				for j := range ring {
					k := j
					if ccw != wantCCW {
						k = len(ring) - 1 - j
					}
					pos = append(pos, []float64{round7(ring[k].Lon), round7(ring[k].Lat)})
				}
				pos = append(pos, pos[0])
				rings = append(rings, pos)
			}
			coords = append(coords, rings)
		}
		props := f.Properties
		if props == nil {
			props = map[string]any{}
		}
		fc.Features = append(fc.Features, feature{Type: "Feature", Properties: props, Geometry: geometry{Type: "MultiPolygon", Coordinates: coords}})
	}
	return json.MarshalIndent(fc, "", " ")
}

// signedArea is the shoelace area of a ring in the lon/lat plane: positive
// when the ring winds counter-clockwise.
func signedArea(r Ring) float64 {
	s := 0.0
	for i := range r {
		j := (i + 1) % len(r)
		s += r[i].Lon*r[j].Lat - r[j].Lon*r[i].Lat
	}
	return s / 2
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// ringsOf returns a polygon's exterior ring followed by its holes.
func ringsOf(p geom.Polygon) []geom.LineString {
	rings := make([]geom.LineString, p.NumRings())
	for i := range rings {
		if i == 0 {
			rings[i] = p.ExteriorRing()
		} else {
			rings[i] = p.InteriorRingN(i - 1)
		}
	}
	return rings
}
