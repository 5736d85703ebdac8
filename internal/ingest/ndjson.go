package ingest

import (
	"bufio"
	"bytes"
	"io"

	"github.com/truce-dev/truce/internal/api"
)

// ndjsonSource reads one record a line; blank lines are skipped. A line
// longer than max is rejected and skipped without being held.
type ndjsonSource struct {
	r    *bufio.Reader
	max  int
	line int
	buf  []byte
	done bool
}

func (n *ndjsonSource) record(w *api.Observation) (int, *Rejection, error) {
	for !n.done {
		n.buf = n.buf[:0]
		size, large := 0, false
		for {
			b, err := n.r.ReadSlice('\n')
			size += len(b)
			if !large {
				// The newline (and a '\r' before it) are not part of the record.
				if size > n.max+2 {
					large, n.buf = true, n.buf[:0]
				} else {
					n.buf = append(n.buf, b...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				n.done = true
				if size == 0 {
					return 0, nil, io.EOF
				}
				break
			}
			if err != nil {
				return 0, nil, err
			}
			break
		}
		n.line++
		if !large {
			n.buf = bytes.TrimRight(n.buf, "\r\n")
			size, large = len(n.buf), len(n.buf) > n.max
		}
		if large {
			return n.line, reject("", "is %d bytes long, more than the limit of %d", size, n.max), nil
		}
		rec := n.buf
		rec = bytes.TrimSpace(rec)
		if len(rec) == 0 {
			continue
		}
		return n.line, unmarshal(rec, w, ""), nil
	}
	return 0, nil, io.EOF
}
