package ingest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/truce-dev/truce/internal/api"
	"github.com/truce-dev/truce/internal/truce"
)

// now is the present of the tests.
var now = time.Date(2026, 11, 25, 20, 13, 0, 0, time.UTC)

var testOpts = Options{Now: now}

func f64(x float64) *float64 { return &x }
func intp(n int) *int        { return &n }

// wire returns a valid wire record with a location.
func wire() api.Observation {
	return api.Observation{
		Source:   "osce-smm",
		SourceID: "r-1",
		Method:   "heard",
		Category: "explosion",
		Time:     "2026-11-25T20:00:00Z",
		Lat:      f64(48.1),
		Lon:      f64(37.7),
		CEPM:     f64(500),
	}
}

// observerWire returns a valid wire record with an observer bearing.
func observerWire() api.Observation {
	w := wire()
	w.Lat, w.Lon, w.CEPM = nil, nil, nil
	w.Observer = &api.LatLon{Lat: f64(48.0), Lon: f64(37.8)}
	w.BearingDeg = f64(45)
	w.DistanceM = []float64{1000, 3000}
	return w
}

var (
	methodNames   = termNames(truce.Methods())
	categoryNames = termNames(truce.Categories())
	weaponNames   = termNames(truce.WeaponClasses())
	tlpNames      = termNames(truce.TLPs())
)

func termNames(ts []truce.Term) []string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.Name
	}
	return s
}

// generate returns n valid wire records made from a fixed seed, of every
// form: locations and observer bearings, with and without the optional
// fields, with text that needs quoting in CSV.
func generate(n int, seed uint64) []api.Observation {
	rng := rand.New(rand.NewPCG(seed, 1))
	ws := make([]api.Observation, n)
	for i := range ws {
		w := api.Observation{
			Source:   []string{"osce-smm", "ua-jccc", "sensor-7"}[rng.IntN(3)],
			SourceID: "r-" + strconv.Itoa(i),
			Method:   methodNames[rng.IntN(len(methodNames))],
			Category: categoryNames[rng.IntN(len(categoryNames))],
			Time:     now.Add(-time.Duration(rng.Int64N(int64(90 * 24 * time.Hour)))).Format(time.RFC3339Nano),
		}
		if rng.IntN(2) == 0 {
			w.Weapon = weaponNames[rng.IntN(len(weaponNames))]
		}
		if rng.IntN(2) == 0 {
			w.Count = intp(1 + rng.IntN(50))
		}
		if rng.IntN(3) == 0 {
			w.TimeUncertaintyS = f64(float64(rng.IntN(3600)) + 0.5)
		}
		if rng.IntN(4) > 0 {
			w.Lat, w.Lon = f64(47+2*rng.Float64()), f64(36+3*rng.Float64())
			w.CEPM = f64(1 + 2000*rng.Float64())
		} else {
			w.Observer = &api.LatLon{Lat: f64(47 + 2*rng.Float64()), Lon: f64(36 + 3*rng.Float64())}
			w.BearingDeg = f64(360 * rng.Float64())
			lo := 5000 * rng.Float64()
			w.DistanceM = []float64{lo, lo + 5000*rng.Float64()}
		}
		if rng.IntN(3) == 0 {
			w.FireBearingDeg = f64(360 * rng.Float64())
		}
		if rng.IntN(2) == 0 {
			w.Reliability = string(rune('A' + rng.IntN(6)))
			w.Credibility = intp(1 + rng.IntN(6))
		}
		if rng.IntN(5) == 0 {
			w.Party = []string{"UA", "RU"}[rng.IntN(2)]
			w.Method = "party_report"
		}
		if rng.IntN(3) == 0 {
			w.Text = []string{"shelling heard, \"heavy\"", "two explosions;\nthen a burst", "Вибухи поблизу Авдіївки"}[rng.IntN(3)]
		}
		if rng.IntN(2) == 0 {
			w.Marking = &api.Marking{TLP: tlpNames[rng.IntN(len(tlpNames))]}
			if rng.IntN(2) == 0 {
				w.Marking.RelTo = []string{"UA", "GBR"}
			}
		}
		ws[i] = w
	}
	return ws
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// encode writes ws in format f.
func encode(f Format, ws []api.Observation) []byte {
	var b bytes.Buffer
	switch f {
	case JSON:
		b.WriteString("[\n")
		for i := range ws {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.Write(marshal(&ws[i]))
		}
		b.WriteString("\n]\n")
	case NDJSON:
		for i := range ws {
			b.Write(marshal(&ws[i]))
			b.WriteByte('\n')
		}
	case CSV:
		cw := csv.NewWriter(&b)
		cw.Write(CSVColumns)
		for i := range ws {
			cw.Write(csvRow(&ws[i]))
		}
		cw.Flush()
	case GeoJSON:
		b.WriteString(`{"type": "FeatureCollection", "name": "test", "features": [` + "\n")
		for i := range ws {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.Write(marshal(toFeature(ws[i])))
		}
		b.WriteString("\n], \"bbox\": [36, 47, 39, 49]}\n")
	default:
		panic(f)
	}
	return b.Bytes()
}

func toFeature(w api.Observation) map[string]any {
	f := map[string]any{"type": "Feature", "geometry": nil}
	if w.Lat != nil {
		f["geometry"] = map[string]any{"type": "Point", "coordinates": []float64{*w.Lon, *w.Lat}}
		w.Lat, w.Lon = nil, nil
	}
	f["properties"] = w
	return f
}

func csvRow(w *api.Observation) []string {
	row := make([]string, len(CSVColumns))
	fl := func(x *float64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'g', -1, 64)
	}
	it := func(n *int) string {
		if n == nil {
			return ""
		}
		return strconv.Itoa(*n)
	}
	row[colSource], row[colSourceID], row[colMethod], row[colCategory] = w.Source, w.SourceID, w.Method, w.Category
	row[colWeapon], row[colCount], row[colTime], row[colTimeUncertainty] = w.Weapon, it(w.Count), w.Time, fl(w.TimeUncertaintyS)
	row[colLat], row[colLon], row[colCEP] = fl(w.Lat), fl(w.Lon), fl(w.CEPM)
	if w.Observer != nil {
		row[colObserverLat], row[colObserverLon] = fl(w.Observer.Lat), fl(w.Observer.Lon)
	}
	row[colBearing] = fl(w.BearingDeg)
	if len(w.DistanceM) == 2 {
		row[colDistanceMin], row[colDistanceMax] = fl(&w.DistanceM[0]), fl(&w.DistanceM[1])
	}
	row[colFireBearing], row[colReliability], row[colCredibility] = fl(w.FireBearingDeg), w.Reliability, it(w.Credibility)
	row[colParty], row[colText] = w.Party, w.Text
	if w.Marking != nil {
		row[colTLP], row[colRelTo] = w.Marking.TLP, strings.Join(w.Marking.RelTo, ";")
	}
	return row
}

// result is what a Decoder returned for one record.
type result struct {
	obs truce.Observation
	rej *Rejection
}

// decodeAll decodes all of in, failing on an error other than io.EOF.
func decodeAll(in []byte, f Format, opts Options) ([]result, error) {
	d := NewDecoder(bytes.NewReader(in), f, opts)
	var rs []result
	for {
		o, rej, err := d.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return rs, nil
			}
			return rs, err
		}
		rs = append(rs, result{o, rej})
		if len(rs) > 1e6 {
			return rs, fmt.Errorf("no end")
		}
	}
}
