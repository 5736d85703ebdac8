package evidence

import (
	"bytes"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// tlogPath returns tlog's path for a C2SP path: the height element added
// and "entries" called "data". ok is false for a path tlog would read
// differently (one whose level is literally "data").
func tlogPath(path string) (string, bool) {
	rest, found := strings.CutPrefix(path, "tile/")
	if !found || strings.HasPrefix(rest, "data/") {
		return "", false
	}
	if r, isEntries := strings.CutPrefix(rest, "entries/"); isEntries {
		rest = "data/" + r
	}
	return "tile/8/" + rest, true
}

func TestTilePathExamples(t *testing.T) {
	for _, c := range []struct {
		tile tlog.Tile
		path string
	}{
		// From the text of c2sp.org/tlog-tiles.
		{tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}, "tile/0/x001/x234/067"},
		{tlog.Tile{H: 8, L: -1, N: 1234067, W: 256}, "tile/entries/x001/x234/067"},
		{tlog.Tile{H: 8, L: -1, N: 1234067, W: 8}, "tile/entries/x001/x234/067.p/8"},
		{tlog.Tile{H: 8, L: 0, N: 273, W: 112}, "tile/0/273.p/112"}, // size 70,000
		{tlog.Tile{H: 8, L: 1, N: 0, W: 17}, "tile/1/000.p/17"},
		{tlog.Tile{H: 8, L: 2, N: 0, W: 1}, "tile/2/000.p/1"},
		{tlog.Tile{H: 8, L: 1, N: 0, W: 1}, "tile/1/000.p/1"}, // size 256
		// Edges.
		{tlog.Tile{H: 8, L: 0, N: 0, W: 256}, "tile/0/000"},
		{tlog.Tile{H: 8, L: 0, N: 0, W: 255}, "tile/0/000.p/255"},
		{tlog.Tile{H: 8, L: 63, N: 999, W: 256}, "tile/63/999"},
		{tlog.Tile{H: 8, L: 10, N: 1000, W: 9}, "tile/10/x001/000.p/9"},
		{tlog.Tile{H: 8, L: 0, N: 999999, W: 256}, "tile/0/x999/999"},
		{tlog.Tile{H: 8, L: 0, N: 1000000, W: 256}, "tile/0/x001/x000/000"},
		{tlog.Tile{H: 8, L: 0, N: math.MaxInt64, W: 256}, "tile/0/x009/x223/x372/x036/x854/x775/807"},
	} {
		if got := TilePath(c.tile); got != c.path {
			t.Errorf("TilePath(%+v) = %q, want %q", c.tile, got, c.path)
		}
		got, err := ParseTilePath(c.path)
		if err != nil || got != c.tile {
			t.Errorf("ParseTilePath(%q) = %+v, %v; want %+v", c.path, got, err, c.tile)
		}
		// tlog agrees once its height element is put in.
		q, _ := tlogPath(c.path)
		if p := c.tile.Path(); p != q {
			t.Errorf("tlog path of %+v is %q, want %q", c.tile, p, q)
		}
	}
}

func TestParseTilePathRejects(t *testing.T) {
	for _, c := range []struct{ path, reason string }{
		{"", `does not begin with "tile/"`},
		{"/tile/0/000", `does not begin with "tile/"`},
		{"tiles/0/000", `does not begin with "tile/"`},
		{"tile/0", "no tile index"},
		{"tile/", "no tile index"},
		{"tile/0/", "not three decimal digits"},
		{"tile/00/000", "level"},
		{"tile/01/000", "level"},
		{"tile/64/000", "level"},
		{"tile/-1/000", "level"},
		{"tile/+1/000", "level"},
		{"tile/data/000", "level"},
		{"tile/8/0/000", "does not begin with x"}, // tlog's path, with the height
		{"tile/8/data/000", "does not begin with x"},
		{"tile/0/00", "not three decimal digits"},
		{"tile/0/0", "not three decimal digits"},
		{"tile/0/0000", "not three decimal digits"},
		{"tile/0/+12", "not three decimal digits"},
		{"tile/0/1a3", "not three decimal digits"},
		{"tile/0/x001", "last index element"},
		{"tile/0/x001/x002", "last index element"},
		{"tile/0/001/002", "does not begin with x"},
		{"tile/0/x000/001", "leading zero element"},
		{"tile/0/x000/x001/002", "leading zero element"},
		{"tile/0/x01/002", "not three decimal digits"},
		{"tile/0/xx01/002", "not three decimal digits"},
		{"tile/0/x001/002/", "does not begin with x"},
		{"tile/0/x001//002", "does not begin with x"},
		{"tile/0/000.p", "no width"},
		{"tile/0/000.p/", "partial width"},
		{"tile/0/000.p/0", "partial width"},
		{"tile/0/000.p/256", "partial width"},
		{"tile/entries/000.p/256", "partial width"},
		{"tile/0/000.p/010", "partial width"},
		{"tile/0/000.p/+1", "partial width"},
		{"tile/0/000.p/1/", "does not begin with x"},
		{"tile/0/000.p/1.p/1", "does not begin with x"},
		{"tile/0/000.P/1", "does not begin with x"},
		{"tile/0/x001.p/5", "last index element"},
		{"tile/0/x001.p/5/000", "not three decimal digits"},
		{"tile/0/000 ", "not three decimal digits"},
		{"tile/0/x009/x223/x372/x036/x854/x775/808", "overflows"},
		{"tile/0/x001/x000/x000/x000/x000/x000/x000/000", "overflows"},
	} {
		tile, err := ParseTilePath(c.path)
		if err == nil {
			t.Errorf("ParseTilePath(%q) = %+v, want an error", c.path, tile)
			continue
		}
		msg := err.Error()
		if want := fmt.Sprintf("evidence: malformed tile path %q: ", c.path); !strings.HasPrefix(msg, want) || !strings.Contains(msg, c.reason) {
			t.Errorf("ParseTilePath(%q) error %q, want %q and %q", c.path, msg, want, c.reason)
		}
	}
}

// randomTile returns a C2SP tile with N of any magnitude.
func randomTile(r *mrand.Rand) tlog.Tile {
	t := tlog.Tile{H: 8, L: r.IntN(65) - 1, W: 256}
	switch r.IntN(4) {
	case 0:
		t.N = r.Int64N(1000)
	case 1:
		t.N = r.Int64N(1_000_000_000)
	default:
		t.N = r.Int64() >> r.IntN(63)
	}
	if r.IntN(2) == 0 {
		t.W = 1 + r.IntN(255)
	}
	return t
}

func TestTilePathRoundTrip(t *testing.T) {
	r := mrand.New(mrand.NewPCG(30, 1))
	for range 20000 {
		tile := randomTile(r)
		p := TilePath(tile)
		got, err := ParseTilePath(p)
		if err != nil || got != tile {
			t.Fatalf("ParseTilePath(TilePath(%+v)) = %+v, %v", tile, got, err)
		}
		// The same tile through tlog's own path and parser.
		q, _ := tlogPath(p)
		if tile.Path() != q {
			t.Fatalf("tlog path %q, want %q", tile.Path(), q)
		}
		back, err := tlog.ParseTilePath(q)
		if err != nil || back != tile {
			t.Fatalf("tlog.ParseTilePath(%q) = %+v, %v; want %+v", q, back, err, tile)
		}
	}
}

func TestTilePathPanics(t *testing.T) {
	for _, tile := range []tlog.Tile{
		{H: 4, L: 0, N: 0, W: 16},
		{H: 8, L: -2, N: 0, W: 256},
		{H: 8, L: 64, N: 0, W: 256},
		{H: 8, L: 0, N: -1, W: 256},
		{H: 8, L: 0, N: 0, W: 0},
		{H: 8, L: 0, N: 0, W: 257},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("TilePath(%+v) did not panic", tile)
				}
			}()
			TilePath(tile)
		}()
	}
}

func TestLevelTiles(t *testing.T) {
	// The example of c2sp.org/tlog-tiles: a tree of size 70,000 has 273
	// full level-0 tiles, one partial level-0 tile of width 112, one full
	// level-1 tile, one partial level-1 tile of width 17 and one partial
	// level-2 tile of width 1; one of size 256 a full level-0 tile and a
	// partial level-1 tile of width 1.
	var want70k []tlog.Tile
	for n := range int64(273) {
		want70k = append(want70k, tlog.Tile{H: 8, L: 0, N: n, W: 256})
	}
	want70k = append(want70k,
		tlog.Tile{H: 8, L: 0, N: 273, W: 112},
		tlog.Tile{H: 8, L: 1, N: 0, W: 256},
		tlog.Tile{H: 8, L: 1, N: 1, W: 17},
		tlog.Tile{H: 8, L: 2, N: 0, W: 1})
	if got := allTiles(70000); !slices.Equal(got, want70k) {
		t.Errorf("tiles of size 70000: got %d tiles %v..., want %d", len(got), got[max(0, len(got)-4):], len(want70k))
	}
	want256 := []tlog.Tile{{H: 8, L: 0, N: 0, W: 256}, {H: 8, L: 1, N: 0, W: 1}}
	if got := allTiles(256); !slices.Equal(got, want256) {
		t.Errorf("tiles of size 256: got %v, want %v", got, want256)
	}

	sizes := []int64{0, 1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 1 << 24, 1<<24 + 1, 10_000_000, math.MaxInt64}
	r := mrand.New(mrand.NewPCG(31, 1))
	for range 100 {
		sizes = append(sizes, r.Int64N(1<<22))
	}
	for _, size := range sizes {
		got := allTiles(size)
		if size >= 1<<40 {
			// Only the top levels: the last is level 7's, of 2^63>>56
			// hashes (levels 8 and up would be over 2^64 leaves).
			if want := (tlog.Tile{H: 8, L: 7, N: 0, W: 127}); got[len(got)-1] != want {
				t.Fatalf("size %d: last tile %+v, want %+v", size, got[len(got)-1], want)
			}
			continue
		}
		want := tlog.NewTiles(8, 0, size)
		if !slices.Equal(got, want) {
			t.Fatalf("size %d: LevelTiles %v, tlog.NewTiles %v", size, got, want)
		}
		var entries []tlog.Tile
		for tile := range LevelTiles(-1, size) {
			tile.L = 0
			entries = append(entries, tile)
		}
		if level0 := slices.Collect(LevelTiles(0, size)); !slices.Equal(entries, level0) {
			t.Fatalf("size %d: entry bundles %v, level-0 tiles %v", size, entries, level0)
		}
	}
	// Stopping early.
	n := 0
	for range LevelTiles(0, 1<<40) {
		if n++; n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("stopped after %d tiles", n)
	}
}

// allTiles returns the tiles of all levels of a tree (the tiles of the top
// levels only if the tree is huge).
func allTiles(size int64) []tlog.Tile {
	var out []tlog.Tile
	for level := 0; level <= maxTileLevel; level++ {
		if size>>(8*level) > 1<<26 {
			continue
		}
		out = slices.AppendSeq(out, LevelTiles(level, size))
	}
	return out
}

func TestBundle(t *testing.T) {
	// By hand: "a", "", "bc".
	want := []byte{0, 1, 'a', 0, 0, 0, 2, 'b', 'c'}
	var b []byte
	for _, e := range []string{"a", "", "bc"} {
		var err error
		if b, err = AppendBundleEntry(b, []byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(b, want) {
		t.Fatalf("bundle %v, want %v", b, want)
	}
	es, err := ParseBundle(want)
	if err != nil || len(es) != 3 || string(es[0]) != "a" || len(es[1]) != 0 || string(es[2]) != "bc" {
		t.Fatalf("ParseBundle = %q, %v", es, err)
	}

	// The largest entry, and a full bundle of 256.
	big := bytes.Repeat([]byte{'z'}, 65535)
	b, err = AppendBundleEntry(nil, big)
	if err != nil || len(b) != 65537 || b[0] != 0xff || b[1] != 0xff {
		t.Fatalf("65535-byte entry: %d bytes, %v", len(b), err)
	}
	if es, err := ParseBundle(b); err != nil || len(es) != 1 || !bytes.Equal(es[0], big) {
		t.Fatalf("ParseBundle of a 65535-byte entry: %d entries, %v", len(es), err)
	}
	full := entries(32, 256)
	b = nil
	for _, e := range full {
		b, _ = AppendBundleEntry(b, e)
	}
	es, err = ParseBundle(b)
	if err != nil || !slices.EqualFunc(es, full, bytes.Equal) {
		t.Fatalf("full bundle: %d entries, %v", len(es), err)
	}
	// Entries alias the bundle but cannot grow into the next entry.
	es[0] = append(es[0], '!')
	if again, _ := ParseBundle(b); !bytes.Equal(again[1], full[1]) {
		t.Fatal("appending to an entry overwrote the next")
	}

	// Refusals.
	dst := []byte{9}
	got, err := AppendBundleEntry(dst, make([]byte, 65536))
	if err == nil || !bytes.Equal(got, dst) || !strings.HasPrefix(err.Error(), "evidence: entry of 65536 bytes is too long") {
		t.Errorf("65536-byte entry: %v, %v", got, err)
	}
	b257, _ := AppendBundleEntry(b, nil)
	for _, c := range []struct {
		data []byte
		msg  string
	}{
		{nil, "evidence: empty entry bundle"},
		{[]byte{0}, "evidence: entry bundle truncated: entry 0 at byte 0 has 1 byte of its 2-byte length"},
		{[]byte{0, 2, 'a'}, "evidence: entry bundle truncated: entry 0 at byte 0 has length 2 but only 1 bytes follow"},
		{[]byte{0, 1, 'a', 0}, "evidence: entry bundle truncated: entry 1 at byte 3 has 1 byte of its 2-byte length"},
		{[]byte{0, 1, 'a', 0, 0, 1, 0}, "evidence: entry bundle truncated: entry 2 at byte 5 has length 256 but only 0 bytes follow"},
		{[]byte{0xff, 0xff}, "evidence: entry bundle truncated: entry 0 at byte 0 has length 65535 but only 0 bytes follow"},
		{b257, fmt.Sprintf("evidence: entry bundle has more than 256 entries: entry 256 starts at byte %d", len(b))},
	} {
		if es, err := ParseBundle(c.data); err == nil || err.Error() != c.msg {
			t.Errorf("ParseBundle(%.12x): %d entries, error %v; want %q", c.data, len(es), err, c.msg)
		}
	}
}

// FuzzParseTilePath checks that ParseTilePath accepts exactly the paths
// TilePath writes, and agrees with tlog.ParseTilePath.
func FuzzParseTilePath(f *testing.F) {
	f.Fuzz(func(t *testing.T, path string) {
		tile, err := ParseTilePath(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "evidence: malformed tile path ") {
				t.Fatalf("error %q", err)
			}
		} else {
			if tile.H != 8 || tile.L < -1 || tile.L > 63 || tile.N < 0 || tile.W < 1 || tile.W > 256 {
				t.Fatalf("ParseTilePath(%q) = %+v", path, tile)
			}
			if p := TilePath(tile); p != path {
				t.Fatalf("ParseTilePath(%q) = %+v, whose path is %q", path, tile, p)
			}
		}
		q, ok := tlogPath(path)
		if !ok {
			return
		}
		want, werr := tlog.ParseTilePath(q)
		switch {
		case err == nil && (werr != nil || want != tile):
			t.Fatalf("ParseTilePath(%q) = %+v, but tlog.ParseTilePath(%q) = %+v, %v", path, tile, q, want, werr)
		case err != nil && werr == nil && want.L <= 63:
			t.Fatalf("ParseTilePath(%q): %v, but tlog.ParseTilePath(%q) = %+v", path, err, q, want)
		}
	})
}

// FuzzParseBundle checks that what ParseBundle accepts encodes back to the
// same bytes.
func FuzzParseBundle(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := ParseBundle(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "evidence: ") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if len(es) < 1 || len(es) > 256 {
			t.Fatalf("%d entries", len(es))
		}
		var b []byte
		for _, e := range es {
			if b, err = AppendBundleEntry(b, e); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("re-encoded %x, want %x", b, data)
		}
	})
}

func ExampleTilePath() {
	fmt.Println(TilePath(tlog.Tile{H: 8, L: 0, N: 1234067, W: 256}))
	fmt.Println(TilePath(tlog.Tile{H: 8, L: -1, N: 39062, W: 128}))
	// Output:
	// tile/0/x001/x234/067
	// tile/entries/x039/062.p/128
}

func ExampleParseTilePath() {
	t, err := ParseTilePath("tile/1/x001/000.p/17")
	fmt.Printf("%+v %v\n", t, err)
	_, err = ParseTilePath("tile/1/x001/000.p/0017")
	fmt.Println(err)
	// Output:
	// {H:8 L:1 N:1000 W:17} <nil>
	// evidence: malformed tile path "tile/1/x001/000.p/0017": partial width "0017" is not a number 1..255 without leading zeros
}
