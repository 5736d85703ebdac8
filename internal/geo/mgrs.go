package geo

import (
	"fmt"
	"math"
)

// UTM is a position in the Universal Transverse Mercator grid on WGS84:
// zone 1 to 60, the hemisphere, and metres east and north of the zone's
// false origin.
type UTM struct {
	Zone              int
	North             bool
	Easting, Northing float64
}

// WGS84 ellipsoid and the UTM scale.
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
	utmK0  = 0.9996
)

// ToUTM projects p with the Krüger series to sixth order in the third
// flattening (accurate to well under a millimetre within a zone), in the
// standard zone of p, with the Norway and Svalbard exceptions. It is
// defined between 80°S and 84°N.
func ToUTM(p Point) (UTM, error) {
	if err := p.Validate(); err != nil {
		return UTM{}, err
	}
	if p.Lat < -80 || p.Lat > 84 {
		return UTM{}, fmt.Errorf("latitude %g is outside UTM's 80°S to 84°N", p.Lat)
	}
	lon := p.Lon
	if lon == 180 {
		lon = -180
	}
	zone := int(math.Floor((lon+180)/6)) + 1
	switch {
	case p.Lat >= 56 && p.Lat < 64 && lon >= 3 && lon < 12:
		zone = 32
	case p.Lat >= 72:
		switch {
		case lon >= 0 && lon < 9:
			zone = 31
		case lon >= 9 && lon < 21:
			zone = 33
		case lon >= 21 && lon < 33:
			zone = 35
		case lon >= 33 && lon < 42:
			zone = 37
		}
	}
	return toUTMZone(p.Lat, lon, zone), nil
}

func toUTMZone(lat, lon float64, zone int) UTM {
	n := wgs84F / (2 - wgs84F)
	n2, n3, n4, n5, n6 := n*n, n*n*n, n*n*n*n, math.Pow(n, 5), math.Pow(n, 6)
	A := wgs84A / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	alpha := [...]float64{
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	lon0 := float64(zone-1)*6 - 180 + 3
	φ := lat * math.Pi / 180
	dλ := (lon - lon0) * math.Pi / 180
	e := 2 * math.Sqrt(n) / (1 + n)
	t := math.Sinh(math.Atanh(math.Sin(φ)) - e*math.Atanh(e*math.Sin(φ)))
	ξ := math.Atan2(t, math.Cos(dλ))
	η := math.Atanh(math.Sin(dλ) / math.Sqrt(1+t*t))
	x, y := η, ξ
	for j, a := range alpha {
		k := float64(2 * (j + 1))
		x += a * math.Cos(k*ξ) * math.Sinh(k*η)
		y += a * math.Sin(k*ξ) * math.Cosh(k*η)
	}
	u := UTM{Zone: zone, North: lat >= 0, Easting: 500000 + utmK0*A*x, Northing: utmK0 * A * y}
	if !u.North {
		u.Northing += 10000000
	}
	return u
}

// MGRS returns p in the Military Grid Reference System at 1 m: zone and
// latitude band, the 100 km square, then five digits each of easting and
// northing within it, truncated as MGRS does ("37UCP8327912079"). It is
// defined between 80°S and 84°N (the polar UPS grids are not supported).
func MGRS(p Point) (string, error) {
	u, err := ToUTM(p)
	if err != nil {
		return "", err
	}
	const bands = "CDEFGHJKLMNPQRSTUVWX"
	b := int(math.Floor((p.Lat + 80) / 8))
	b = min(b, len(bands)-1) // X spans 72°N to 84°N
	columns := [3]string{"STUVWXYZ", "ABCDEFGH", "JKLMNPQR"}[u.Zone%3]
	const rows = "ABCDEFGHJKLMNPQRSTUV"
	e, n := int(math.Floor(u.Easting)), int(math.Floor(u.Northing))
	col := e/100000 - 1
	if col < 0 || col >= len(columns) {
		return "", fmt.Errorf("easting %d is outside zone %d's 100 km squares", e, u.Zone)
	}
	row := n / 100000 % 20
	if u.Zone%2 == 0 {
		row = (row + 5) % 20
	}
	return fmt.Sprintf("%d%c%c%c%05d%05d", u.Zone, bands[b], columns[col], rows[row], e%100000, n%100000), nil
}
