package geo

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestUTMAgainstGDAL compares ToUTM with GDAL's (PROJ's) transformation of
// the same points, an independent implementation: within a millimetre.
func TestUTMAgainstGDAL(t *testing.T) {
	if _, err := exec.LookPath("gdaltransform"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gdaltransform is not installed, and .ci/run should have installed gdal-bin")
		}
		t.Skip("gdaltransform (gdal-bin) is not installed")
	}
	for _, p := range []Point{
		Pt(48.7389, 37.5844),   // Kramatorsk, zone 37
		Pt(47.0971, 37.5434),   // Mariupol
		Pt(50.4501, 30.5234),   // Kyiv, zone 36
		Pt(44.9521, 34.1024),   // Simferopol
		Pt(49.0, 36.0001),      // just east of a zone boundary
		Pt(-33.8688, 151.2093), // Sydney: the southern hemisphere
		Pt(0, 0),
	} {
		u, err := ToUTM(p)
		if err != nil {
			t.Fatal(err)
		}
		epsg := 32600 + u.Zone
		if !u.North {
			epsg = 32700 + u.Zone
		}
		cmd := exec.Command("gdaltransform", "-s_srs", "EPSG:4326", "-t_srs", fmt.Sprintf("EPSG:%d", epsg))
		cmd.Stdin = strings.NewReader(fmt.Sprintf("%.10f %.10f\n", p.Lon, p.Lat))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gdaltransform: %v", err)
		}
		var e, n float64
		if _, err := fmt.Sscan(string(out), &e, &n); err != nil {
			t.Fatalf("gdaltransform said %q: %v", out, err)
		}
		if math.Abs(e-u.Easting) > 1e-3 || math.Abs(n-u.Northing) > 1e-3 {
			t.Errorf("%v: got zone %d E %.4f N %.4f, GDAL E %.4f N %.4f", p, u.Zone, u.Easting, u.Northing, e, n)
		}
	}
}

func TestMGRS(t *testing.T) {
	for _, tt := range []struct {
		p    Point
		want string
	}{
		// The textbook case: zone 31 at the equator and prime meridian,
		// E 166,021 m, N 0.
		{Pt(0, 0), "31NAA6602100000"},
		// Kramatorsk: GDAL gives zone 37 E 395,920.67 N 5,399,397.79. Band
		// U (48°N-56°N); zone 37 uses columns A-H, and E 3xx km is the third,
		// C; row 53 mod 20 = 13 in an odd zone is P; digits truncated.
		{Pt(48.7389, 37.5844), "37UCP9592099397"},
		// Kyiv, an even zone: GDAL gives zone 36 E 324,182.21 N 5,591,607.61.
		// Zone 36 uses S-Z, third column U; row 55 mod 20 = 15, plus 5 in an
		// even zone = 20 mod 20 = 0, A.
		{Pt(50.4501, 30.5234), "36UUA2418291607"},
		// Sydney, the southern hemisphere: GDAL gives zone 56S E 334,368.63
		// N 6,250,948.35 (false northing included). Band H; zone 56 uses
		// J-R, third column L; row 62 mod 20 = 2, plus 5 = 7, H.
		{Pt(-33.8688, 151.2093), "56HLH3436850948"},
	} {
		got, err := MGRS(tt.p)
		if err != nil || got != tt.want {
			t.Errorf("MGRS(%v) = %q, %v; want %q", tt.p, got, err, tt.want)
		}
	}
	if _, err := MGRS(Pt(85, 0)); err == nil {
		t.Error("MGRS at 85°N: no error; UPS is not supported")
	}
}
