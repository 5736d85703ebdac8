package deconflict

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/truce-dev/truce/internal/geo"
	"github.com/truce-dev/truce/internal/truce"
)

// GenOptions shape a synthetic set of activities.
type GenOptions struct {
	Seed       uint64
	Activities int
	// Area bounds the footprints' centres; Start and Span the volumes'
	// start times.
	Area  geo.Rect
	Start time.Time
	Span  time.Duration
}

// DefaultArea is the coalition's area in the benchmarks: Ukraine west of
// the line, Moldova, eastern Romania and Poland, and the Black Sea.
var DefaultArea = geo.Rect{MinLat: 43.0, MinLon: 22.0, MaxLat: 52.0, MaxLon: 38.0}

// Gen returns n synthetic activities, one volume each, drawn
// deterministically from the seed: a third circles (orbits and work
// sites, 0.5-5 km radius), a third corridors (legs of 5-40 km, 0.25-1.5 km
// half-width), a third polygons (areas of 4-8 vertices, 2-10 km across);
// aircraft in bands 150-600 m deep between 150 m and 12,600 m, land and
// sea units at the surface; 15 minutes to 2 hours long. Priorities are 1-5.
func Gen(o GenOptions) []truce.Activity {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	out := make([]truce.Activity, o.Activities)
	for i := range out {
		c := geo.Pt(o.Area.MinLat+r.Float64()*(o.Area.MaxLat-o.Area.MinLat), o.Area.MinLon+r.Float64()*(o.Area.MaxLon-o.Area.MinLon))
		dom := []truce.Domain{truce.DomainAir, truce.DomainAir, truce.DomainLand, truce.DomainSea}[r.IntN(4)]
		v := truce.Volume{}
		switch i % 3 {
		case 0:
			v.Footprint.Circle = &geo.Cap{Center: c, Radius: 500 + r.Float64()*4500}
		case 1:
			n := 2 + r.IntN(4)
			length := 5e3 + r.Float64()*35e3
			bearing := r.Float64() * 360
			p := c
			path := []geo.Point{p}
			for range n - 1 {
				bearing += r.Float64()*60 - 30
				p = geo.Destination(p, bearing, length/float64(n-1))
				path = append(path, p)
			}
			v.Footprint.Path, v.Footprint.HalfWidth = path, 250+r.Float64()*1250
		default:
			n := 4 + r.IntN(5)
			rad := 1000 + r.Float64()*4000
			ring := make(geo.Ring, n)
			for k := range n {
				ring[k] = geo.Destination(c, 360*float64(k)/float64(n)+r.Float64()*20, rad*(0.7+0.3*r.Float64()))
			}
			v.Footprint.Polygon = ring
		}
		if dom == truce.DomainAir {
			v.MinAlt = 150 + math.Floor(r.Float64()*120)*100
			v.MaxAlt = v.MinAlt + 150 + math.Floor(r.Float64()*4)*150
		} else {
			v.MaxAlt = 50
		}
		from := o.Start.Add(time.Duration(r.Int64N(int64(o.Span/time.Minute))) * time.Minute)
		v.Period = truce.TimeRange{From: from, Until: from.Add(time.Duration(15+r.IntN(106)) * time.Minute)}
		out[i] = truce.Activity{
			ID: fmt.Sprintf("gen-%07d", i), Nation: truce.NationID([]string{"GBR", "FRA", "DEU", "POL", "ROU", "NLD", "DNK", "ITA"}[r.IntN(8)]),
			Unit: fmt.Sprintf("unit-%05d", r.IntN(50000)), Domain: dom,
			Kind:     []truce.ActivityKind{truce.ActivityFlight, truce.ActivityPatrol, truce.ActivityTransit, truce.ActivityExercise}[i%4],
			Priority: 1 + r.IntN(5), Volumes: []truce.Volume{v}, State: truce.ActivityAccepted, Version: 1,
		}
	}
	return out
}
