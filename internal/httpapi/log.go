package httpapi

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-json"
	"github.com/truce-dev/truce/internal/evidence"
	"github.com/truce-dev/truce/internal/journal"
	"github.com/truce-dev/truce/internal/truce"
	"golang.org/x/mod/sumdb/tlog"
)

// maxLogEntries bounds the entries of one GET /api/v1/log/entries.
const maxLogEntries = 1000

// publicPrincipal is who calls a log route without a token: the public,
// who may read TLP:CLEAR content and every hash.
var publicPrincipal = truce.Principal{Org: "", Kind: truce.OrgPublic, Role: truce.RoleViewer}

// logReady answers 503 when the server keeps no evidence log.
func (s *Server) logReady(w http.ResponseWriter) bool {
	if s.cfg.Notary == nil {
		writeErrorMessage(w, http.StatusServiceUnavailable, "this server signs no evidence log")
		return false
	}
	return true
}

// getCheckpoint serves the latest signed checkpoint (C2SP tlog-checkpoint
// as a signed note), signing a new one if the tree has grown.
func (s *Server) getCheckpoint(w http.ResponseWriter, r *http.Request) {
	if !s.logReady(w) {
		return
	}
	// Entries another process journaled (truce ingest --db beside truce
	// serve) reach the tree at the next commit, or now.
	head, err := s.cfg.Store.Head(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if int64(head) > s.cfg.Store.TreeSize() {
		if _, err := s.cfg.Store.SyncTree(r.Context()); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	cp, _, err := s.cfg.Notary.Checkpoint(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(cp)
}

// logEntry is one leaf of GET /api/v1/log/entries.
type logEntry struct {
	Index    int64  `json:"index"`     // leaf index: the entry's seq - 1
	LeafHash string `json:"leaf_hash"` // base64 RFC 6962 leaf hash
	// Entry is the entry's canonical bytes (JSON), present only when the
	// caller may see it.
	Entry json.RawMessage `json:"entry,omitempty"`
}

type logEntries struct {
	Size    int64      `json:"size"` // the tree's size when read
	Entries []logEntry `json:"entries"`
}

// listLogEntries serves the leaves start <= index < end: each leaf's hash,
// and the entry itself where the caller may see it.
func (s *Server) listLogEntries(w http.ResponseWriter, r *http.Request) {
	if !s.logReady(w) {
		return
	}
	v := r.URL.Query()
	if err := checkParams(v, []string{"start", "end"}, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	size := s.cfg.Store.TreeSize()
	start, err := intParam(v.Get("start"), "start", 0, size)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// An end beyond the tree is cut to it: the answer's size says where
	// the tree ends.
	end, err := intParam(v.Get("end"), "end", start, math.MaxInt64)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v.Get("end") == "" || end > size {
		end = size
	}
	end = min(end, start+maxLogEntries)
	out := logEntries{Size: size, Entries: make([]logEntry, 0, end-start)}
	if end > start {
		ix := make([]int64, 0, end-start)
		for i := start; i < end; i++ {
			ix = append(ix, tlog.StoredHashIndex(0, i))
		}
		leaves, err := s.cfg.Store.ReadHashes(ix)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p := logPrincipal(r)
		i := start
		err = s.cfg.Store.Entries(r.Context(), uint64(start), int(end-start), func(e *journal.Entry, raw []byte) error {
			le := logEntry{Index: i, LeafHash: base64.StdEncoding.EncodeToString(leaves[i-start][:])}
			if int64(e.Seq) != i+1 {
				return fmt.Errorf("log entries: journal row %d holds entry %d", i+1, e.Seq)
			}
			if p.CanSee(e.Marking(), e.Org) {
				le.Entry = append(json.RawMessage(nil), raw...)
			}
			out.Entries = append(out.Entries, le)
			i++
			return nil
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	writeLogEntries(w, out)
}

// writeLogEntries writes the leaves with each entry's canonical bytes as
// they are: a JSON encoder would escape <, > and & and the leaf hash would
// no longer be of what the caller reads.
func writeLogEntries(w http.ResponseWriter, out logEntries) {
	b := fmt.Appendf(nil, `{"size":%d,"entries":[`, out.Size)
	for i, e := range out.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"index":%d,"leaf_hash":%q`, e.Index, e.LeafHash)
		if e.Entry != nil {
			b = append(append(b, `,"entry":`...), e.Entry...)
		}
		b = append(b, '}')
	}
	b = append(b, "]}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// proof is the answer of the proof routes: hashes in base64.
type proof struct {
	Index    *int64   `json:"index,omitempty"`
	LeafHash string   `json:"leaf_hash,omitempty"`
	From     int64    `json:"from,omitempty"`
	Size     int64    `json:"size"`
	Root     string   `json:"root"`
	Proof    []string `json:"proof"`
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

// inclusionProof serves the proof that a leaf, named by index or by its
// leaf hash, is in the tree of size leaves (default: the whole tree).
func (s *Server) inclusionProof(w http.ResponseWriter, r *http.Request) {
	if !s.logReady(w) {
		return
	}
	v := r.URL.Query()
	if err := checkParams(v, []string{"index", "hash", "size"}, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	cur := s.cfg.Store.TreeSize()
	size, err := intParam(v.Get("size"), "size", 1, cur)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v.Get("size") == "" {
		size = cur
	}
	var index int64
	switch {
	case v.Get("index") != "" && v.Get("hash") != "":
		s.writeError(w, r, invalid("hash", "give index or hash, not both"))
		return
	case v.Get("index") != "":
		if index, err = intParam(v.Get("index"), "index", 0, size-1); err != nil {
			s.writeError(w, r, err)
			return
		}
	case v.Get("hash") != "":
		h, err := parseHash(v.Get("hash"))
		if err != nil {
			s.writeError(w, r, invalid("hash", err.Error()))
			return
		}
		var ok bool
		if index, ok = s.leaves.find(s.cfg.Store, h, size); !ok {
			s.writeError(w, r, fmt.Errorf("log: no leaf hashes to %s in the tree of size %d: %w", v.Get("hash"), size, truce.ErrNotFound))
			return
		}
	default:
		s.writeError(w, r, invalid("index", "give index or hash"))
		return
	}
	l := evidence.New(s.cfg.Store)
	p, err := l.InclusionProof(index, size)
	if err == nil {
		var root tlog.Hash
		if root, err = l.RootAt(size); err == nil {
			var leaf []tlog.Hash
			if leaf, err = s.cfg.Store.ReadHashes([]int64{tlog.StoredHashIndex(0, index)}); err == nil {
				writeJSON(w, http.StatusOK, proof{Index: &index, LeafHash: base64.StdEncoding.EncodeToString(leaf[0][:]),
					Size: size, Root: base64.StdEncoding.EncodeToString(root[:]), Proof: encodeHashes(p)})
				return
			}
		}
	}
	s.writeError(w, r, err)
}

// consistencyProof serves the proof that the tree of from leaves is a
// prefix of the tree of to leaves (default: the whole tree).
func (s *Server) consistencyProof(w http.ResponseWriter, r *http.Request) {
	if !s.logReady(w) {
		return
	}
	v := r.URL.Query()
	if err := checkParams(v, []string{"from", "to"}, nil); err != nil {
		s.writeError(w, r, err)
		return
	}
	cur := s.cfg.Store.TreeSize()
	if v.Get("from") == "" {
		s.writeError(w, r, invalid("from", "required"))
		return
	}
	to, err := intParam(v.Get("to"), "to", 1, cur)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if v.Get("to") == "" {
		to = cur
	}
	from, err := intParam(v.Get("from"), "from", 1, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l := evidence.New(s.cfg.Store)
	p, err := l.ConsistencyProof(from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	root, err := l.RootAt(to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, proof{From: from, Size: to, Root: base64.StdEncoding.EncodeToString(root[:]), Proof: encodeHashes(p)})
}

// getTile serves C2SP tlog-tiles: hash tiles to anyone; an entry bundle
// only to a caller who may see every entry in it (the others read the
// entries route, which gives hashes in place of what they may not see).
func (s *Server) getTile(w http.ResponseWriter, r *http.Request) {
	if !s.logReady(w) {
		return
	}
	path := "tile/" + r.PathValue("path")
	t, err := evidence.ParseTilePath(path)
	if err != nil {
		s.writeError(w, r, invalid("path", err.Error()))
		return
	}
	size := s.cfg.Store.TreeSize()
	if t.L >= 0 {
		data, err := evidence.New(s.cfg.Store).ReadTile(t)
		if err != nil {
			writeErrorMessage(w, http.StatusNotFound, err.Error())
			return
		}
		writeTile(w, data, t)
		return
	}
	if t.N > (size-int64(t.W))>>evidence.TileHeight || size < int64(t.W) {
		writeErrorMessage(w, http.StatusNotFound, fmt.Sprintf("entry bundle %s is not in the tree of size %d", path, size))
		return
	}
	first := t.N << evidence.TileHeight
	if first+int64(t.W) > size {
		writeErrorMessage(w, http.StatusNotFound, fmt.Sprintf("entry bundle %s is not in the tree of size %d", path, size))
		return
	}
	p := logPrincipal(r)
	var data []byte
	err = s.cfg.Store.Entries(r.Context(), uint64(first), t.W, func(e *journal.Entry, raw []byte) error {
		if !p.CanSee(e.Marking(), e.Org) {
			return errHidden
		}
		var err error
		data, err = evidence.AppendBundleEntry(data, raw)
		return err
	})
	if errors.Is(err, errHidden) {
		writeErrorMessage(w, http.StatusForbidden, fmt.Sprintf("entry bundle %s holds entries this caller may not see: read /api/v1/log/entries, which gives their leaf hashes", path))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeTile(w, data, t)
}

var errHidden = errors.New("hidden entry")

func writeTile(w http.ResponseWriter, data []byte, t tlog.Tile) {
	w.Header().Set("Content-Type", "application/octet-stream")
	if t.W == 1<<t.H {
		// A full tile never changes.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	w.Write(data)
}

// logPrincipal is the caller of a log route: the token's, or the public.
func logPrincipal(r *http.Request) truce.Principal {
	if p, ok := r.Context().Value(principalKey{}).(truce.Principal); ok {
		return p
	}
	return publicPrincipal
}

// optionalAuth authenticates a request that bears a token and lets one
// without through as the public.
func (s *Server) optionalAuth(h http.Handler) http.Handler {
	authed := s.authenticate(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			h.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// intParam parses a decimal parameter in lo..hi; "" gives lo.
func intParam(s, name string, lo, hi int64) (int64, error) {
	if s == "" {
		return lo, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, invalid(name, fmt.Sprintf("%q is not an integer", s))
	}
	if n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("%d is out of range %d..%d", n, lo, hi))
	}
	return n, nil
}

// parseHash reads a leaf hash in base64 (standard or URL) or hex.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.URLEncoding.DecodeString, hex.DecodeString,
	} {
		if b, err := dec(strings.TrimSpace(s)); err == nil && len(b) == tlog.HashSize {
			copy(h[:], b)
			return h, nil
		}
	}
	return h, fmt.Errorf("%q is not a 32-byte hash in base64 or hex", s)
}

// leafIndex finds leaves by hash: a map from leaf hash to index, extended
// from the tree as it grows.
type leafIndex struct {
	mu   sync.Mutex
	n    int64
	byID map[tlog.Hash]int64
}

// find returns the first leaf below size whose hash is h.
func (x *leafIndex) find(t evidence.Tree, h tlog.Hash, size int64) (int64, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byID == nil {
		x.byID = map[tlog.Hash]int64{}
	}
	for x.n < size {
		end := min(size, x.n+4096)
		ix := make([]int64, 0, end-x.n)
		for i := x.n; i < end; i++ {
			ix = append(ix, tlog.StoredHashIndex(0, i))
		}
		hs, err := t.ReadHashes(ix)
		if err != nil {
			break
		}
		for i, lh := range hs {
			if _, dup := x.byID[lh]; !dup {
				x.byID[lh] = x.n + int64(i)
			}
		}
		x.n = end
	}
	i, ok := x.byID[h]
	return i, ok && i < size
}
