package fuse

// Benchmarks. Run them with
//
//	go test ./internal/fuse -run '^$' -bench . -benchmem
//
// DESIGN.md's 200,000 observations/s is a processing-rate budget, not a
// density of events: the traffic here has a realistic density in event
// time and is fed as fast as Add takes it. It is a fixed-seed mix along a
// front of about 1,300 km (a polyline from the Kinburn spit through the
// Dnipro, Zaporizhzhia, Donetsk, Luhansk and Kharkiv lines to the
// northern border), events within 15 km either side of it, one every
// second of event time (86,400 a day: a very heavy day; the OSCE counted
// at most a few thousand explosions a day). Each event is reported 1 to 4
// times by acoustic sensors (CEP 30–150 m, 45 % of reports), patrols that
// heard it (observer, bearing with a 5° error, distance band; 25 %), UAVs
// (CEP 20–80 m; 20 %) and party claims (CEP 0.5–2 km, 10–30 min time
// uncertainty, 2 h gate; 10 %).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// frontLine is the polyline of the benchmark's front.
var frontLine = []geo.Point{
	geo.Pt(46.50, 32.30), geo.Pt(46.75, 33.40), geo.Pt(47.50, 34.60), geo.Pt(47.55, 35.90),
	geo.Pt(47.75, 36.80), geo.Pt(48.10, 37.60), geo.Pt(48.60, 38.00), geo.Pt(49.05, 38.20),
	geo.Pt(49.70, 37.70), geo.Pt(50.40, 36.90), geo.Pt(50.60, 35.60), geo.Pt(51.20, 35.00),
	geo.Pt(52.10, 33.50), geo.Pt(52.35, 32.20), geo.Pt(51.90, 30.90), geo.Pt(51.50, 30.60),
}

// onFront returns a point u (0..1) of the way along the front, moved off it
// sideways by off metres.
func onFront(u, off float64) geo.Point {
	var total float64
	for i := 1; i < len(frontLine); i++ {
		total += geo.Distance(frontLine[i-1], frontLine[i])
	}
	d := u * total
	for i := 1; i < len(frontLine); i++ {
		a, b := frontLine[i-1], frontLine[i]
		if l := geo.Distance(a, b); d <= l || i == len(frontLine)-1 {
			brg := geo.Bearing(a, b)
			return geo.Destination(geo.Destination(a, brg, min(d, l)), math.Mod(brg+90, 360), off)
		} else {
			d -= l
		}
	}
	panic("unreachable")
}

func mix(n int, every time.Duration) []Input {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	cats := []truce.Category{truce.CategoryExplosion, truce.CategoryExplosion, truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryBurst}
	inputs := make([]Input, 0, n)
	for ev := 0; len(inputs) < n; ev++ {
		at := onFront(r.Float64(), 15000*(2*r.Float64()-1))
		t := t0.Add(time.Duration(ev) * every)
		cat := cats[r.IntN(len(cats))]
		for k := 1 + r.IntN(4); k > 0 && len(inputs) < n; k-- {
			id := uint64(len(inputs) + 1)
			o := truce.Observation{
				SourceID: fmt.Sprint(id), Category: cat, Count: 1,
				Time: t.Add(time.Duration(r.IntN(2000)) * time.Millisecond), Reliability: 'B', Credibility: 2,
				Marking: truce.Marking{TLP: truce.TLPAmber},
			}
			org := truce.OrgID("coalition")
			switch x := r.IntN(100); {
			case x < 45:
				o.Method, o.Source = truce.MethodAcoustic, fmt.Sprint("array-", r.IntN(200))
				o.TimeUncertainty = time.Second
				o.Location = &truce.Location{Point: geo.Destination(at, 360*r.Float64(), 60*r.Float64()), CEP: 30 + 120*r.Float64()}
			case x < 70:
				org = "osce"
				o.Method, o.Source = truce.MethodHeard, fmt.Sprint("patrol-", r.IntN(500))
				o.TimeUncertainty = 30 * time.Second
				d := 1000 + 4000*r.Float64()
				obs := geo.Destination(at, 360*r.Float64(), d)
				b := math.Mod(geo.Bearing(obs, at)+5*r.NormFloat64()+360, 360)
				o.Observer = &truce.Observer{Point: obs, Bearing: b, DistanceMin: max(0, d-1000), DistanceMax: d + 1000}
			case x < 90:
				o.Method, o.Source = truce.MethodUAV, fmt.Sprint("uav-", r.IntN(50))
				o.Location = &truce.Location{Point: geo.Destination(at, 360*r.Float64(), 30*r.Float64()), CEP: 20 + 60*r.Float64()}
			default:
				party := []truce.PartyID{"UA", "RU"}[r.IntN(2)]
				org = truce.OrgID(party)
				o.Method, o.Source, o.Party = truce.MethodPartyReport, "jccc-"+string(party), party
				o.TimeUncertainty = time.Duration(10+r.IntN(20)) * time.Minute
				o.Reliability, o.Credibility = 'F', 6
				o.Location = &truce.Location{Point: geo.Destination(at, 360*r.Float64(), 500*r.Float64()), CEP: 500 + 1500*r.Float64()}
			}
			inputs = append(inputs, Input{ID: id, Org: org, Observation: o.Canonical()})
		}
	}
	return inputs
}

// BenchmarkAdd feeds the mix, one event a second, through Engine.Add, over
// and over with the times shifted on (so the window slides with the
// default 6 h horizon: about 54,000 observations). Metrics: obs/s, the
// window, and the largest incident Add returned.
func BenchmarkAdd(b *testing.B) { benchmarkAdd(b, time.Second) }

// BenchmarkAdd_dense has twenty events a second (1.7 million a day, twenty
// times a very heavy day): strong reports start to chain (heard wedges of
// km² and 3 min gates), weak reports still bridge nothing.
func BenchmarkAdd_dense(b *testing.B) { benchmarkAdd(b, 50*time.Millisecond) }

var mixes = map[time.Duration][]Input{}

func benchmarkAdd(b *testing.B, every time.Duration) {
	inputs := mixes[every]
	if inputs == nil {
		inputs = mix(1<<18, every)
		mixes[every] = inputs
	}
	span := inputs[len(inputs)-1].Observation.Time.Sub(inputs[0].Observation.Time) + time.Second
	e := New(DefaultConfig())
	i, round := 0, 0
	largest := 0
	for b.Loop() {
		in := inputs[i]
		if round > 0 {
			in.ID += uint64(round * len(inputs))
			in.Observation.Time = in.Observation.Time.Add(time.Duration(round) * span)
			in.Observation.SourceID += fmt.Sprint("/", round)
		}
		changed, _ := e.Add(in)
		largest = max(largest, len(changed[0].Observations))
		if i++; i == len(inputs) {
			i, round = 0, round+1
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "obs/s")
	b.ReportMetric(float64(e.Len()), "window")
	b.ReportMetric(float64(largest), "largest")
}

// BenchmarkMemoryPerObservation measures the heap an Engine holds per
// observation of its window (HeapInuse after minus before, over Len; and
// live-B/obs, the same with HeapAlloc: the live objects without the
// fragmentation of the heap's spans),
// after fusing 200,000 observations of the mix (about 22 h of event time:
// the window is the last 6 h, about 54,000 observations).
func BenchmarkMemoryPerObservation(b *testing.B) {
	inputs := mix(200_000, time.Second)
	var perObs, live float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := New(DefaultConfig())
		for _, in := range inputs {
			e.Add(in)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perObs = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / float64(e.Len())
		live = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(e.Len())
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perObs, "B/obs")
	b.ReportMetric(live, "live-B/obs")
}
