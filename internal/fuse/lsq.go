package fuse

import (
	"math"
	"math/bits"

	"github.com/truce-dev/truce/internal/geo"
)

// i128 is a two's complement 128-bit integer. Fusion sums in integers so
// that a sum does not depend on the order of its terms: the state of an
// incident is then a function of its member set, bit for bit, whether it
// was built one report at a time or all at once.
type i128 struct {
	hi int64
	lo uint64
}

func (a *i128) add(x int64) {
	lo, c := bits.Add64(a.lo, uint64(x), 0)
	a.lo = lo
	a.hi += x>>63 + int64(c)
}

func (a *i128) addI(b i128) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	a.lo = lo
	a.hi += b.hi + int64(c)
}

func (a i128) float() float64 {
	if a.hi == int64(a.lo)>>63 { // fits an int64
		return float64(int64(a.lo))
	}
	return float64(a.hi)*0x1p64 + float64(a.lo)
}

// fixScale is the resolution of the fixed-point terms: 2⁻²⁰ of a weight
// unit. Weights are at most about 2⁴¹ (a 5 m error), so a term fits an
// int64 and a sum of 2⁶⁰ terms fits an i128.
const fixScale = 0x1p20

func fix(x float64) int64 { return int64(math.Round(x * fixScale)) }

// acc accumulates the normal equations of the location of an event on the
// unit sphere, in radians:
//
//   - a point report q with error σ adds w = 1/σ² to W and w·q to S: it
//     contributes w·|p−q|² to the cost of a position p;
//   - an observer report adds two great-circle constraints: the bearing
//     line (pole m, error σ⊥ = range × bearing error) and the line across
//     it at the middle of the distance band (pole u, error half the band),
//     each adding w·(n·p)², i.e. w·n nᵀ to M; G gets the middle of the band
//     as a starting point.
//
// The cost of p is pᵀMp + Σw|p−q|² = pᵀMp + 2W − 2S·p for unit p.
type acc struct {
	m    [6]i128 // xx xy xz yy yz zz
	s    [3]i128
	w    i128
	g    [3]i128 // S plus the band middles weighted by their along-track weight
	n    int32   // scalar constraints
	used int32   // members
}

func (a *acc) empty() bool { return a.used == 0 }

// contribution is one report's share of an acc, in fixed point.
type contribution struct {
	m [6]int64
	s [3]int64
	w int64
	g [3]int64
}

func (a *acc) addC(c *contribution, n int32) {
	for i := range c.m {
		a.m[i].add(c.m[i])
	}
	for i := range c.s {
		a.s[i].add(c.s[i])
		a.g[i].add(c.g[i])
	}
	a.w.add(c.w)
	a.n += n
	a.used++
}

func (a *acc) merge(b *acc) {
	for i := range a.m {
		a.m[i].addI(b.m[i])
	}
	for i := range a.s {
		a.s[i].addI(b.s[i])
		a.g[i].addI(b.g[i])
	}
	a.w.addI(b.w)
	a.n += b.n
	a.used += b.used
}

// pointContribution is the share of a point report at q with the given CEP
// (metres).
func pointContribution(q vec, cep float64) contribution {
	σ := max(cep, minCEP) / cepSigma / geo.EarthRadius
	w := 1 / (σ * σ)
	var c contribution
	c.w = fix(w)
	qa := comps(q)
	for i := range 3 {
		c.s[i] = fix(w * qa[i])
		c.g[i] = c.s[i]
	}
	return c
}

// observerContribution is the share of an observer at o reporting bearing
// (degrees) with error σb (radians) and a distance band [dmin, dmax]
// metres.
func observerContribution(o vec, bearing, σb, dmin, dmax float64) contribution {
	north, east := frame(o)
	dir := along(north, east, bearing)
	mid := (dmin + dmax) / 2
	q, u := offset(o, dir, mid/geo.EarthRadius)
	m := o.Cross(dir)
	σx := max(mid*σb, minCross) / geo.EarthRadius
	σr := max((dmax-dmin)/2, minBandHalf) / geo.EarthRadius
	wb, wr := 1/(σx*σx), 1/(σr*σr)
	var c contribution
	k := 0
	ma, ua, qa := comps(m), comps(u), comps(q)
	for i := range 3 {
		for j := i; j < 3; j++ {
			c.m[k] = fix(wb*ma[i]*ma[j] + wr*ua[i]*ua[j])
			k++
		}
		c.g[i] = fix(wr * qa[i])
	}
	return c
}

// solution is a located event: where, and its CEP in metres.
type solution struct {
	p   vec
	cep float64
}

// solve finds the position minimising the cost of a, by Gauss–Newton
// steps in the tangent plane from the weighted middle of the reports, and
// its uncertainty: the CEP of the covariance H⁻¹ of the solution, scaled
// up by the reduced χ² of the fit when the reports disagree more than
// their stated errors allow.
func (a *acc) solve() solution {
	var m [3][3]float64
	k := 0
	for i := range 3 {
		for j := i; j < 3; j++ {
			m[i][j] = a.m[k].float() / fixScale
			m[j][i] = m[i][j]
			k++
		}
	}
	var sa, ga [3]float64
	for i := range 3 {
		sa[i] = a.s[i].float() / fixScale
		ga[i] = a.g[i].float() / fixScale
	}
	s, g := fromComps(sa), fromComps(ga)
	w := a.w.float() / fixScale
	mul := func(v vec) vec {
		return vec{X: m[0][0]*v.X + m[0][1]*v.Y + m[0][2]*v.Z, Y: m[1][0]*v.X + m[1][1]*v.Y + m[1][2]*v.Z, Z: m[2][0]*v.X + m[2][1]*v.Y + m[2][2]*v.Z}
	}
	p := g.Normalize()
	var h00, h01, h11 float64
	for range 4 {
		e1, e2 := frame(p)
		me1, me2 := mul(e1), mul(e2)
		h00, h01, h11 = e1.Dot(me1)+w, e1.Dot(me2), e2.Dot(me2)+w
		r := mul(p).Sub(s)
		g1, g2 := e1.Dot(r), e2.Dot(r)
		det := h00*h11 - h01*h01
		if !(det > 0) {
			break
		}
		t1 := -(h11*g1 - h01*g2) / det
		t2 := -(h00*g2 - h01*g1) / det
		p = p.Add(e1.Mul(t1)).Add(e2.Mul(t2)).Normalize()
	}
	// covariance of the solution: H⁻¹, scaled by the reduced χ²
	scale := 1.0
	if dof := a.n - 2; dof > 0 {
		χ2 := p.Dot(mul(p)) + 2*w - 2*s.Dot(p)
		scale = max(1, χ2/float64(dof))
	}
	det := h00*h11 - h01*h01
	if !(det > 0) {
		return solution{p: p, cep: math.Inf(1)}
	}
	c00, c01, c11 := h11/det*scale, -h01/det*scale, h00/det*scale
	// eigenvalues of the 2×2 covariance
	tr, dif := (c00+c11)/2, math.Hypot((c00-c11)/2, c01)
	σ1, σ2 := math.Sqrt(tr+dif), math.Sqrt(max(tr-dif, 0))
	// CEP of a bivariate normal, after Grubbs: 0.5887 (σ1 + σ2)
	return solution{p: p, cep: 0.5887 * (σ1 + σ2) * geo.EarthRadius}
}
