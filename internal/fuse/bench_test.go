package fuse

// Benchmarks. Run them with
//
//	go test ./internal/fuse -run '^$' -bench . -benchmem
//
// The traffic is a fixed-seed mix over the front of the DESIGN budget:
// events all over 47–49°N 36–39°E, one every 5 ms of event time (200
// events/s, far more than any real front: the OSCE counted at most a few
// thousand explosions a day), each reported 1 to 4 times by acoustic
// sensors (CEP 30–150 m, 45 % of reports), patrols that heard it (observer,
// bearing with a 5° error, distance band; 25 %), UAVs (CEP 20–80 m; 20 %)
// and party claims (CEP 0.5–2 km, 10–30 min uncertainty; 10 %).

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

func mix(n int, every time.Duration, claims bool) []Input {
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	cats := []truce.Category{truce.CategoryExplosion, truce.CategoryExplosion, truce.CategoryExplosion, truce.CategoryImpact, truce.CategoryOutgoingFire, truce.CategoryBurst}
	inputs := make([]Input, 0, n)
	for ev := 0; len(inputs) < n; ev++ {
		at := geo.Pt(47+2*r.Float64(), 36+3*r.Float64())
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
			case x < 90 || !claims:
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

// BenchmarkAdd feeds the mix through Engine.Add, over and over with the
// times shifted on (so the window slides with the default 6 h horizon).
// At one event every 5 ms the gates of heard reports (3 min, wedges of
// several km²) and of party claims (2 h, CEPs of km) chain almost every
// report into one incident of the whole front (connected components
// percolate above about one compatible neighbour per report): Add then
// pays for extending an incident of 10⁵ members. BenchmarkAdd_sparse has
// one event every 500 ms (170,000 a day, still far above any real front):
// party claims (2 h gate, km CEPs) still chain everything.
// BenchmarkAdd_sparseNoClaims replaces the claims by UAV reports: incidents
// stay small, and Add costs what the index and the geometry cost.
func BenchmarkAdd(b *testing.B) { benchmarkAdd(b, 5*time.Millisecond, true) }

func BenchmarkAdd_sparse(b *testing.B) { benchmarkAdd(b, 500*time.Millisecond, true) }

func BenchmarkAdd_sparseNoClaims(b *testing.B) { benchmarkAdd(b, 500*time.Millisecond, false) }

func benchmarkAdd(b *testing.B, every time.Duration, claims bool) {
	inputs := mix(1<<18, every, claims)
	span := inputs[len(inputs)-1].Observation.Time.Sub(inputs[0].Observation.Time) + time.Second
	e := New(DefaultConfig())
	i, round := 0, 0
	largest := 0
	for b.Loop() {
		in := inputs[i]
		in.ID += uint64(round * len(inputs))
		in.Observation.Time = in.Observation.Time.Add(time.Duration(round) * span)
		in.Observation.SourceID += fmt.Sprint("/", round)
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
// observation of its window (HeapInuse after minus before, over Len),
// after fusing 200,000 observations of the mix (about 7 min of event
// time, inside the horizon).
func BenchmarkMemoryPerObservation(b *testing.B) {
	inputs := mix(200_000, 5*time.Millisecond, true)
	var perObs float64
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
		runtime.KeepAlive(e)
	}
	b.ReportMetric(perObs, "B/obs")
}
