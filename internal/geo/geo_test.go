package geo

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// vincenty returns the WGS84 ellipsoidal distance between a and b in
// metres by Vincenty's inverse formula (1975): an independent reference
// for the spherical model's error.
func vincenty(a, b Point) float64 {
	const (
		ea = 6378137.0
		f  = 1 / 298.257223563
		eb = ea * (1 - f)
	)
	rad := math.Pi / 180
	L := (b.Lon - a.Lon) * rad
	U1 := math.Atan((1 - f) * math.Tan(a.Lat*rad))
	U2 := math.Atan((1 - f) * math.Tan(b.Lat*rad))
	sinU1, cosU1 := math.Sincos(U1)
	sinU2, cosU2 := math.Sincos(U2)
	λ := L
	var sinσ, cosσ, σ, cos2α, cos2σm float64
	for range 200 {
		sinλ, cosλ := math.Sincos(λ)
		sinσ = math.Hypot(cosU2*sinλ, cosU1*sinU2-sinU1*cosU2*cosλ)
		if sinσ == 0 {
			return 0
		}
		cosσ = sinU1*sinU2 + cosU1*cosU2*cosλ
		σ = math.Atan2(sinσ, cosσ)
		sinα := cosU1 * cosU2 * sinλ / sinσ
		cos2α = 1 - sinα*sinα
		cos2σm = cosσ - 2*sinU1*sinU2/cos2α
		C := f / 16 * cos2α * (4 + f*(4-3*cos2α))
		prev := λ
		λ = L + (1-C)*f*sinα*(σ+C*sinσ*(cos2σm+C*cosσ*(-1+2*cos2σm*cos2σm)))
		if math.Abs(λ-prev) < 1e-12 {
			break
		}
	}
	u2 := cos2α * (ea*ea - eb*eb) / (eb * eb)
	A := 1 + u2/16384*(4096+u2*(-768+u2*(320-175*u2)))
	B := u2 / 1024 * (256 + u2*(-128+u2*(74-47*u2)))
	Δσ := B * sinσ * (cos2σm + B/4*(cosσ*(-1+2*cos2σm*cos2σm)-B/6*cos2σm*(-3+4*sinσ*sinσ)*(-3+4*cos2σm*cos2σm)))
	return eb * A * (σ - Δσ)
}

func TestDistanceKnownValues(t *testing.T) {
	tests := []struct {
		name   string
		a, b   Point
		wantKm float64
		tolPct float64
	}{
		// Great-circle distances published for these city pairs.
		{"Kyiv-Kharkiv", Pt(50.4501, 30.5234), Pt(49.9935, 36.2304), 409, 0.5},
		{"Kyiv-Odesa", Pt(50.4501, 30.5234), Pt(46.4825, 30.7233), 442, 0.5},
		{"equator one degree", Pt(0, 0), Pt(0, 1), 111.195, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Distance(tt.a, tt.b) / 1e3
			if err := math.Abs(got-tt.wantKm) / tt.wantKm * 100; err > tt.tolPct {
				t.Errorf("Distance = %.3f km, want %.3f km ± %.2f %% (off by %.3f %%)", got, tt.wantKm, tt.tolPct, err)
			}
		})
	}
}

// TestDistanceAgainstEllipsoid checks the spherical model against WGS84
// (Vincenty) for 100 km paths in every direction across the region of the
// agreement: the error must stay under 0.5 %.
func TestDistanceAgainstEllipsoid(t *testing.T) {
	worst := 0.0
	for lat := 44.0; lat <= 52; lat += 2 {
		for bearing := 0.0; bearing < 360; bearing += 15 {
			a := Pt(lat, 35)
			b := Destination(a, bearing, 100e3)
			ref := vincenty(a, b)
			got := Distance(a, b)
			rel := math.Abs(got-ref) / ref
			worst = max(worst, rel)
			if rel > 0.005 {
				t.Errorf("lat %g bearing %g: sphere %.1f m, ellipsoid %.1f m: error %.3f %%", lat, bearing, got, ref, rel*100)
			}
		}
	}
	t.Logf("worst error against WGS84 at 100 km: %.3f %%", worst*100)
}

func TestDestinationBearingRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := Pt(40+r.Float64()*15, 25+r.Float64()*20)
		bearing := r.Float64() * 360
		dist := 1e3 + r.Float64()*300e3
		q := Destination(p, bearing, dist)
		if d := Distance(p, q); math.Abs(d-dist) > 0.01 {
			t.Fatalf("Destination(%v, %g, %g) is %g m away, want %g", p, bearing, dist, d, dist)
		}
		if b := Bearing(p, q); math.Abs(math.Remainder(b-bearing, 360)) > 1e-6 {
			t.Fatalf("Bearing back = %g, want %g", b, bearing)
		}
	}
}

// randomWalk returns n+1 points heading roughly south from 50N 37E in steps
// of minStep to maxStep metres: a ragged line like a front.
func randomWalk(r *rand.Rand, n int, minStep, maxStep float64) []Point {
	pts := []Point{Pt(50, 37)}
	for range n {
		pts = append(pts, Destination(pts[len(pts)-1], 150+r.Float64()*60, minStep+r.Float64()*(maxStep-minStep)))
	}
	return pts
}

func mustLine(t testing.TB, parts ...[]Point) *Line {
	t.Helper()
	l, err := NewLine(parts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// crossTrack is the closed-form distance from p to the meridian lon0 when
// the foot of the perpendicular lies on the segment: sin d = cos φ sin Δλ.
func crossTrack(p Point, lon0 float64) float64 {
	rad := math.Pi / 180
	return EarthRadius * math.Asin(math.Cos(p.Lat*rad)*math.Abs(math.Sin((p.Lon-lon0)*rad)))
}

func TestLineClosestOnMeridian(t *testing.T) {
	l := mustLine(t, []Point{Pt(49, 36), Pt(48, 36), Pt(47, 36)}) // north to south
	tests := []struct {
		p    Point
		side Side
	}{
		{Pt(48.3, 35.8), Right}, // west of a southbound line is its right
		{Pt(48.3, 36.2), Left},
		{Pt(47.5, 35.0), Right},
		{Pt(48.0, 36.5), Left}, // abeam a vertex
		{Pt(48.0, 35.5), Right},
	}
	for _, tt := range tests {
		n := l.Closest(tt.p)
		if want := crossTrack(tt.p, 36); math.Abs(n.Distance-want) > 0.01 {
			t.Errorf("Closest(%v).Distance = %.3f, want %.3f", tt.p, n.Distance, want)
		}
		if n.Side != tt.side {
			t.Errorf("Closest(%v).Side = %v, want %v", tt.p, n.Side, tt.side)
		}
		if math.Abs(n.Point.Lon-36) > 1e-9 {
			t.Errorf("Closest(%v).Point = %v, want a point on the 36th meridian", tt.p, n.Point)
		}
	}
	// Beyond the ends the nearest point is the end vertex and the side is
	// that of the end edge's great circle.
	for _, tt := range []struct {
		p    Point
		end  Point
		side Side
	}{
		{Pt(49.5, 35.9), Pt(49, 36), Right},
		{Pt(49.5, 36.1), Pt(49, 36), Left},
		{Pt(46.5, 35.9), Pt(47, 36), Right},
		{Pt(46.5, 36.1), Pt(47, 36), Left},
	} {
		n := l.Closest(tt.p)
		if d := Distance(n.Point, tt.end); d > 0.01 {
			t.Errorf("Closest(%v).Point = %v, want the end %v", tt.p, n.Point, tt.end)
		}
		if want := Distance(tt.p, tt.end); math.Abs(n.Distance-want) > 0.01 {
			t.Errorf("Closest(%v).Distance = %.3f, want %.3f", tt.p, n.Distance, want)
		}
		if n.Side != tt.side {
			t.Errorf("Closest(%v).Side = %v, want %v", tt.p, n.Side, tt.side)
		}
	}
}

// TestLineSideAtVertices checks the side rule where the nearest feature is
// a vertex, at a left and a right turn: points on the outer side of a
// corner, beyond both edges' feet, must still get the side of the region.
func TestLineSideAtVertices(t *testing.T) {
	// East, then a left turn north, then a right turn east.
	l := mustLine(t, []Point{Pt(48, 35), Pt(48, 36), Pt(49, 36), Pt(49, 37)})
	tests := []struct {
		name string
		p    Point
		want Side
	}{
		{"outside the left turn, south-east of the corner", Pt(47.8, 36.3), Right},
		{"inside the left turn", Pt(48.2, 35.8), Left},
		{"outside the right turn, north-west of the corner", Pt(49.2, 35.7), Left},
		{"inside the right turn", Pt(48.8, 36.2), Right},
	}
	for _, tt := range tests {
		if got := l.Closest(tt.p).Side; got != tt.want {
			t.Errorf("%s: Closest(%v).Side = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

// TestLineIndexMatchesBruteForce compares the indexed closest-edge search
// of a long line with a scan of every edge, and with sampling along it.
func TestLineIndexMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	l := mustLine(t, randomWalk(r, 2000, 200, 1000))
	if l.index == nil {
		t.Fatal("a 2000-edge line should be indexed")
	}
	brute := &Line{parts: l.parts, edges: l.edges} // no index: scans every edge
	for range 500 {
		p := Pt(47+r.Float64()*4, 35+r.Float64()*4)
		got, want := l.Closest(p), brute.Closest(p)
		if math.Abs(got.Distance-want.Distance) > 1e-6 || got.Side != want.Side {
			t.Fatalf("Closest(%v): indexed %+v, brute force %+v", p, got, want)
		}
	}
}

func TestLineNear(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	l := mustLine(t, randomWalk(r, 500, 500, 2500))
	for range 100 {
		c := Pt(47+r.Float64()*4, 35+r.Float64()*4)
		radius := 500 + r.Float64()*5000
		sub, d := l.Near(c, radius)
		if want := l.Distance(c); math.Abs(d-want) > 1e-6 {
			t.Fatalf("Near distance %g, want %g", d, want)
		}
		for range 20 {
			p := Destination(c, r.Float64()*360, r.Float64()*radius)
			got, want := sub.Closest(p), l.Closest(p)
			if math.Abs(got.Distance-want.Distance) > 1e-6 || got.Side != want.Side {
				t.Fatalf("sub-line Closest(%v) = %+v, full line %+v", p, got, want)
			}
		}
	}
}

func TestNewLineErrors(t *testing.T) {
	if _, err := NewLine(nil); err == nil {
		t.Error("NewLine(nil) succeeded, want an error")
	}
	if _, err := NewLine([][]Point{{Pt(48, 36), Pt(48, 36)}}); err == nil || !strings.Contains(err.Error(), "two distinct") {
		t.Errorf("one distinct vertex: err = %v, want 'two distinct'", err)
	}
	if _, err := NewLine([][]Point{{Pt(48, 36), Pt(95, 36)}}); err == nil || !strings.Contains(err.Error(), "latitude") {
		t.Errorf("latitude 95: err = %v, want a latitude error", err)
	}
	crossing := mustLine(t, []Point{Pt(48, 35), Pt(48, 37), Pt(49, 36), Pt(47, 36)})
	if err := CheckSimple(crossing); err == nil {
		t.Error("CheckSimple accepted a line that crosses itself")
	}
	if err := CheckSimple(mustLine(t, []Point{Pt(48, 35), Pt(48, 37), Pt(49, 37)})); err != nil {
		t.Errorf("CheckSimple rejected a simple line: %v", err)
	}
}

func square(lat, lon, half float64) Ring {
	return Ring{Pt(lat-half, lon-half), Pt(lat-half, lon+half), Pt(lat+half, lon+half), Pt(lat+half, lon-half)}
}

func TestRegionHolesAndIslands(t *testing.T) {
	// A shell with a hole, and a separate island; rings wound both ways.
	hole := square(48, 36, 0.2)
	for i, j := 0, len(hole)-1; i < j; i, j = i+1, j-1 {
		hole[i], hole[j] = hole[j], hole[i]
	}
	r, err := NewRegion(MultiPolygon{{square(48, 36, 1), hole}, {square(45, 34, 0.3)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p    Point
		want bool
	}{
		{Pt(48.5, 36.5), true},   // shell
		{Pt(48, 36), false},      // hole
		{Pt(45, 34), true},       // island
		{Pt(46, 35), false},      // between
		{Pt(48.25, 36), true},    // just outside the hole
		{Pt(47.1, 35.1), true},   // near a corner, inside
		{Pt(46.95, 35.0), false}, // just outside the shell
	}
	for _, tt := range tests {
		if got := r.Contains(tt.p); got != tt.want {
			t.Errorf("Contains(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if d := r.BoundaryDistance(Pt(48, 36)); math.Abs(d-Distance(Pt(48, 36), Pt(48, 36.2))) > 50 {
		t.Errorf("BoundaryDistance from the hole's centre = %g m, want about %g", d, Distance(Pt(48, 36), Pt(48, 36.2)))
	}
}

func TestRegionErrors(t *testing.T) {
	tests := []struct {
		name string
		m    MultiPolygon
		want string
	}{
		{"bow tie", MultiPolygon{{Ring{Pt(48, 35), Pt(49, 36), Pt(48, 36), Pt(49, 35)}}}, "not simple"},
		{"hole outside shell", MultiPolygon{{square(48, 36, 0.5), square(50, 36, 0.1)}}, "outside"},
		{"overlapping polygons", MultiPolygon{{square(48, 36, 0.5)}, {square(48.2, 36.2, 0.5)}}, "overlap"},
		{"two vertices", MultiPolygon{{Ring{Pt(48, 35), Pt(49, 36)}}}, "three distinct"},
		{"bad latitude", MultiPolygon{{Ring{Pt(48, 35), Pt(91, 36), Pt(48, 36)}}}, "latitude"},
		{"too large", MultiPolygon{{Ring{Pt(-60, -170), Pt(-60, 170), Pt(60, 0)}}}, "spans"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRegion(tt.m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewRegion: err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAreas(t *testing.T) {
	// The octant triangle covers an eighth of the sphere.
	oct := MultiPolygon{{Ring{Pt(0, 0), Pt(0, 90), Pt(90, 0)}}}
	if got, want := oct.Area(), 4*math.Pi*EarthRadius*EarthRadius/8; math.Abs(got-want)/want > 1e-9 {
		t.Errorf("octant area = %g, want %g", got, want)
	}
	// A disc: 2πR²(1 - cos(r/R)); its polygon keeps the same area.
	c := Cap{Center: Pt(48, 36), Radius: 5e3}
	want := 2 * math.Pi * EarthRadius * EarthRadius * (1 - math.Cos(5e3/EarthRadius))
	if got := c.Area(); math.Abs(got-want)/want > 1e-9 {
		t.Errorf("cap area = %g, want %g", got, want)
	}
	if got := (MultiPolygon{c.Polygon(10)}).Area(); math.Abs(got-want)/want > 1e-3 {
		t.Errorf("cap polygon area = %g, want %g ± 0.1 %%", got, want)
	}
	// A hole subtracts.
	withHole := MultiPolygon{{square(48, 36, 1), square(48, 36, 0.5)}}
	if got, want := withHole.Area(), (MultiPolygon{{square(48, 36, 1)}}).Area()-(MultiPolygon{{square(48, 36, 0.5)}}).Area(); math.Abs(got-want) > 1 {
		t.Errorf("area with hole = %g, want %g", got, want)
	}
}

func TestBufferArea(t *testing.T) {
	// A 100 km geodesic segment buffered by 10 km is a stadium: 2·d·L + π·d².
	a := Pt(48, 35)
	b := Destination(a, 60, 100e3)
	l := mustLine(t, []Point{a, b})
	pl := NewPlane(a)
	buf, err := pl.Buffer(l, 10e3, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := 2*10e3*100e3 + math.Pi*10e3*10e3
	if got := buf.Area(); math.Abs(got-want)/want > 0.0005 {
		t.Errorf("buffer area = %.0f m², want %.0f ± 0.2 %%", got, want)
	}
	r, err := NewRegion(buf)
	if err != nil {
		t.Fatalf("buffer is not a valid region: %v", err)
	}
	for _, tt := range []struct {
		p    Point
		want bool
	}{
		{Destination(a, 60+90, 9.9e3), true},
		{Destination(a, 60+90, 10.1e3), false},
		{Destination(b, 60, 9.9e3), true},
		{Destination(b, 60, 10.1e3), false},
	} {
		if got := r.Contains(tt.p); got != tt.want {
			t.Errorf("buffer contains %v = %v, want %v (distance to line %.1f m)", tt.p, got, tt.want, l.Distance(tt.p))
		}
	}
}

func TestHalves(t *testing.T) {
	l := mustLine(t, []Point{Pt(49, 36), Pt(48, 36), Pt(47, 36)})
	pl := NewPlane(Pt(48, 36))
	ground, err := pl.Buffer(l, 20e3, 10)
	if err != nil {
		t.Fatal(err)
	}
	left, right, err := pl.Halves(l, ground, 100e3)
	if err != nil {
		t.Fatal(err)
	}
	if la, ra, all := left.Area(), right.Area(), ground.Area(); math.Abs(la-ra)/all > 0.001 || math.Abs(la+ra-all)/all > 0.001 {
		t.Errorf("halves %.0f + %.0f, want two equal halves of %.0f", la, ra, all)
	}
	lr, err := NewRegion(left)
	if err != nil {
		t.Fatal(err)
	}
	if !lr.Contains(Pt(48, 36.1)) || lr.Contains(Pt(48, 35.9)) {
		t.Error("the left half of a southbound line should be its east side")
	}
}

func TestSimplifyBound(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	l := mustLine(t, randomWalk(r, 3000, 20, 320))
	const eps = 25.0
	s := l.Simplify(eps)
	if s.NumVertices() >= l.NumVertices() {
		t.Errorf("Simplify kept %d of %d vertices", s.NumVertices(), l.NumVertices())
	}
	for range 2000 {
		p := Pt(46+r.Float64()*5, 34+r.Float64()*5)
		if d := math.Abs(l.Distance(p) - s.Distance(p)); d > eps {
			t.Fatalf("at %v the simplified line is %.2f m off, more than %g", p, d, eps)
		}
	}
}

func TestPatchMatchesRegion(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	var ring Ring
	for i := range 400 { // a star-shaped, ragged polygon
		rad := 30e3 + r.Float64()*20e3
		ring = append(ring, Destination(Pt(48, 36), float64(i)*360/400, rad))
	}
	reg, err := NewRegion(MultiPolygon{{ring}})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		c := Destination(Pt(48, 36), r.Float64()*360, r.Float64()*60e3)
		rad := 200 + r.Float64()*5e3
		area := reg.Near(c, rad)
		sub := area.Near(c, rad/2)
		for range 20 {
			p := Destination(c, r.Float64()*360, r.Float64()*rad/2)
			if got, want := sub.Contains(p), reg.Contains(p); got != want {
				t.Fatalf("patch Contains(%v) = %v, region says %v", p, got, want)
			}
			m := r.Float64() * (rad/2 - Distance(c, p)) // the disc (p, m) lies inside the patch's disc
			if got, want := sub.BoundaryWithin(p, m), reg.BoundaryWithin(p, m); got != want {
				t.Fatalf("patch BoundaryWithin(%v, %g) = %v, region says %v", p, m, got, want)
			}
		}
	}
}

// BenchmarkBuffer_Walk20k buffers a ragged 20,000-vertex line by 25 km, as
// `truce agreement check` does for each band width.
//
//	go test ./internal/geo -run '^$' -bench Buffer -benchtime 1x
func BenchmarkBuffer_Walk20k(b *testing.B) {
	l := mustLine(b, randomWalk(rand.New(rand.NewPCG(1, 1)), 20000, 20, 60))
	pl := NewPlane(Pt(49.5, 36.8))
	for b.Loop() {
		if _, err := pl.Buffer(l, 25e3, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBufferAreaTurns checks buffers of a line with one turn against the
// closed form: the outside of a turn of deflection θ gains a sector θd²/2,
// the inside loses a kite d²·tan(θ/2), so the area is
// 2d(L1+L2) + πd² + θd²/2 − d²·tan(θ/2).
func TestBufferAreaTurns(t *testing.T) {
	const d, l = 10e3, 100e3
	for _, deg := range []float64{20, 60, 120} {
		for _, sign := range []float64{1, -1} { // left and right turns
			a := Pt(48, 35)
			v := Destination(a, 90, l)
			b := Destination(v, Bearing(v, a)+180+sign*deg, l)
			line := mustLine(t, []Point{a, v, b})
			buf, err := NewPlane(v).Buffer(line, d, 5)
			if err != nil {
				t.Fatal(err)
			}
			θ := deg * math.Pi / 180
			want := 2*d*2*l + math.Pi*d*d + θ*d*d/2 - d*d*math.Tan(θ/2)
			if got := buf.Area(); math.Abs(got-want)/want > 0.0005 {
				t.Errorf("turn %+g°: buffer area %.1f km², want %.1f km²", sign*deg, got/1e6, want/1e6)
			}
		}
	}
}
