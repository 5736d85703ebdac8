package evidence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// This file maps the tree onto C2SP tlog-tiles (https://c2sp.org/tlog-tiles):
// the paths of hash tiles and entry bundles, and the entry bundle encoding.
//
// C2SP tiles are tlog tiles of height 8. A C2SP path has no height element
// and names the entry bundles "entries" where tlog's paths say "data":
//
//	tlog:  tile/8/<L>/<N>[.p/<W>]   tile/8/data/<N>[.p/<W>]
//	C2SP:  tile/<L>/<N>[.p/<W>]     tile/entries/<N>[.p/<W>]

// TileHeight is the height of C2SP tlog-tiles: a full tile holds
// 2^TileHeight = 256 hashes (or, as an entry bundle, 256 entries).
const TileHeight = 8

// tileWidth is the number of hashes in a full tile.
const tileWidth = 1 << TileHeight

// maxTileLevel is the highest level a C2SP tile path may name.
const maxTileLevel = 63

// TilePath returns the C2SP tlog-tiles path of t, without a leading slash:
// "tile/<L>/<N>" for a full hash tile, "tile/<L>/<N>.p/<W>" for a partial
// one, and "tile/entries/<N>[.p/<W>]" for the entry bundle t.L == -1. N is
// written in three-digit path elements, all but the last prefixed by "x"
// (N = 1234067 is "x001/x234/067"). t must be a C2SP tile: t.H ==
// [TileHeight], -1 <= t.L <= 63, t.N >= 0 and 1 <= t.W <= 256; TilePath
// panics otherwise, as tlog does for impossible tiles.
func TilePath(t tlog.Tile) string {
	if t.H != TileHeight || t.L < -1 || t.L > maxTileLevel || t.N < 0 || t.W < 1 || t.W > tileWidth {
		panic(fmt.Sprintf("evidence: TilePath of %+v, which is not a C2SP tile", t))
	}
	// tlog writes the same N and W encoding after its height element,
	// with "data" for the entries.
	rest := strings.TrimPrefix(t.Path(), "tile/8/")
	if t.L == -1 {
		rest = "entries" + strings.TrimPrefix(rest, "data")
	}
	return "tile/" + rest
}

// ParseTilePath parses a C2SP tlog-tiles path (without a leading slash),
// the inverse of [TilePath]: it returns a tile of height [TileHeight], with
// L == -1 for an entry bundle and W == 256 for a full tile. It accepts only
// the one path TilePath writes for each tile: level 0..63 (or "entries")
// without leading zeros, each element of N exactly three digits with an
// "x" before all but the last and no leading "x000" element, and a width
// 1..255 without leading zeros after ".p/".
func ParseTilePath(path string) (tlog.Tile, error) {
	bad := func(format string, args ...any) (tlog.Tile, error) {
		return tlog.Tile{}, fmt.Errorf("evidence: malformed tile path %q: %s", path, fmt.Sprintf(format, args...))
	}
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return bad(`does not begin with "tile/"`)
	}
	f := strings.Split(rest, "/")
	if len(f) < 2 {
		return bad("no tile index")
	}
	t := tlog.Tile{H: TileHeight, W: tileWidth}
	if f[0] == "entries" {
		t.L = -1
	} else {
		l, ok := parseDecimal(f[0])
		if !ok || l > maxTileLevel {
			return bad("level %q is not a number 0..63 without leading zeros", f[0])
		}
		t.L = int(l)
	}
	f = f[1:]
	if last := f[len(f)-1]; strings.HasSuffix(last, ".p") {
		return bad("partial tile with no width after .p")
	}
	if len(f) >= 2 {
		if n, ok := strings.CutSuffix(f[len(f)-2], ".p"); ok {
			w, ok := parseDecimal(f[len(f)-1])
			if !ok || w < 1 || w >= tileWidth {
				return bad("partial width %q is not a number 1..255 without leading zeros", f[len(f)-1])
			}
			t.W = int(w)
			f[len(f)-2] = n
			f = f[:len(f)-1]
		}
	}
	for i, e := range f {
		digits := e
		if i < len(f)-1 {
			var ok bool
			if digits, ok = strings.CutPrefix(e, "x"); !ok {
				return bad("index element %q is not the last and does not begin with x", e)
			}
			if i == 0 && digits == "000" {
				return bad("index has a leading zero element %q", e)
			}
		}
		if len(digits) != 3 || !isDigits(digits) {
			if i == len(f)-1 && strings.HasPrefix(e, "x") {
				return bad("last index element %q begins with x", e)
			}
			return bad("index element %q is not three decimal digits", e)
		}
		d := int64(digits[0]-'0')*100 + int64(digits[1]-'0')*10 + int64(digits[2]-'0')
		if t.N > (math.MaxInt64-d)/1000 {
			return bad("index overflows a 64-bit integer")
		}
		t.N = t.N*1000 + d
	}
	if p := TilePath(t); p != path {
		// Not reached: the checks above admit only canonical paths.
		return bad("not the canonical path %q", p)
	}
	return t, nil
}

// parseDecimal parses a non-negative decimal number of at most 18 digits
// with no sign and no leading zeros.
func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 || !isDigits(s) || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LevelTiles returns, in order, the tiles at a level of the C2SP tiling of
// a tree of size leaves: the full tiles, then the partial one if the level
// has a remainder. Level 0 gives the tiles of leaf hashes, which is what
// [VerifyTiles] fetches; level -1 gives the entry bundles, which have the
// same coordinates. An empty tree has no tiles. The tiles of all levels
// are those of tlog.NewTiles(TileHeight, 0, size). LevelTiles panics if
// level is not in -1..63.
func LevelTiles(level int, size int64) iter.Seq[tlog.Tile] {
	if level < -1 || level > maxTileLevel {
		panic(fmt.Sprintf("evidence: LevelTiles of level %d", level))
	}
	hashes := int64(0) // hashes at the level's bottom row
	if size > 0 {
		if shift := uint(max(level, 0) * TileHeight); shift < 63 {
			hashes = size >> shift
		}
	}
	return func(yield func(tlog.Tile) bool) {
		full := hashes >> TileHeight
		for n := range full {
			if !yield(tlog.Tile{H: TileHeight, L: level, N: n, W: tileWidth}) {
				return
			}
		}
		if w := int(hashes % tileWidth); w > 0 {
			yield(tlog.Tile{H: TileHeight, L: level, N: full, W: w})
		}
	}
}

// maxBundleEntry is the largest entry an entry bundle can hold: its length
// is a big-endian uint16.
const maxBundleEntry = math.MaxUint16

// AppendBundleEntry appends entry to the C2SP entry bundle dst, as a
// big-endian uint16 length followed by the entry's bytes, and returns the
// extended bundle. An entry longer than 65,535 bytes cannot be in a bundle
// and is an error.
func AppendBundleEntry(dst, entry []byte) ([]byte, error) {
	if len(entry) > maxBundleEntry {
		return dst, fmt.Errorf("evidence: entry of %d bytes is too long for an entry bundle (at most %d)", len(entry), maxBundleEntry)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(entry)))
	return append(dst, entry...), nil
}

// ParseBundle splits a C2SP entry bundle into its entries, which alias
// data. A bundle holds 1 to 256 entries, each a big-endian uint16 length
// and that many bytes; anything else (an empty bundle, a length or an
// entry cut short, more than 256 entries) is an error, which names the
// byte offset where the bundle goes wrong. The caller checks the count
// against the tile's width.
func ParseBundle(data []byte) ([][]byte, error) {
	if len(data) == 0 {
		return nil, errors.New("evidence: empty entry bundle")
	}
	var entries [][]byte
	for off := 0; off < len(data); {
		if len(entries) == tileWidth {
			return nil, fmt.Errorf("evidence: entry bundle has more than %d entries: entry %d starts at byte %d", tileWidth, tileWidth, off)
		}
		if len(data)-off < 2 {
			return nil, fmt.Errorf("evidence: entry bundle truncated: entry %d at byte %d has 1 byte of its 2-byte length", len(entries), off)
		}
		n := int(binary.BigEndian.Uint16(data[off:]))
		if len(data)-off-2 < n {
			return nil, fmt.Errorf("evidence: entry bundle truncated: entry %d at byte %d has length %d but only %d bytes follow", len(entries), off, n, len(data)-off-2)
		}
		off += 2
		entries = append(entries, data[off:off+n:off+n])
		off += n
	}
	return entries, nil
}
