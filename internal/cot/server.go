package cot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Server defaults, used when the corresponding field is zero.
const (
	DefaultIdleTimeout  = 3 * time.Minute
	DefaultMaxConns     = 256
	DefaultWriteTimeout = 10 * time.Second
	DefaultSendQueue    = 64
)

// Server accepts CoT over TCP streams and UDP datagrams at one address and
// broadcasts events to its TCP clients. Set the exported fields before
// calling ListenAndServe or Serve; do not change them afterwards.
type Server struct {
	// Addr is the host:port for both TCP and UDP, for example
	// "127.0.0.1:8087". Port 0 picks a free port, the same for both.
	Addr string
	// Handle is called for every valid event, sequentially per TCP
	// connection and for UDP. ctx ends when the server shuts down; from is
	// "tcp:host:port" or "udp:host:port".
	Handle func(ctx context.Context, ev Event, from string)
	// Log receives one record per rejected message or dropped connection.
	// Nil discards.
	Log *slog.Logger
	// MaxMessage caps one message in bytes (default DefaultMaxMessage).
	MaxMessage int
	// IdleTimeout drops a TCP connection that sends nothing for this long
	// (default DefaultIdleTimeout).
	IdleTimeout time.Duration
	// MaxConns caps concurrent TCP connections (default DefaultMaxConns).
	MaxConns int
	// WriteTimeout bounds one write to a client (default DefaultWriteTimeout).
	WriteTimeout time.Duration
	// SendQueue is the number of broadcast messages buffered per client
	// before it is dropped as too slow (default DefaultSendQueue).
	SendQueue int
	// Welcome, when set, returns the events each new TCP client is sent
	// first, as XML (before it has said which protocol it speaks): the
	// picture it would otherwise wait for, such as shapes that are
	// broadcast only now and then.
	Welcome func() []Event

	once    sync.Once
	ready   chan struct{}
	mu      sync.Mutex
	tcpAddr net.Addr
	udpAddr net.Addr
	clients map[*client]struct{}

	accepted   atomic.Uint64
	connsOpen  atomic.Int64
	connsTotal atomic.Uint64
	rejectMu   sync.Mutex
	rejected   map[string]uint64
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	Accepted   uint64            // valid events passed to Handle
	Rejected   map[string]uint64 // rejected messages and connections by reason
	ConnsOpen  int64             // TCP connections open now
	ConnsTotal uint64            // TCP connections accepted since start
}

type client struct {
	conn  net.Conn
	from  string
	proto atomic.Int32 // Protocol the client sends
	send  chan []byte  // framed messages; closed by drop
	done  chan struct{}
	once  sync.Once
}

func (s *Server) init() {
	s.once.Do(func() {
		s.ready = make(chan struct{})
		s.clients = map[*client]struct{}{}
		s.rejected = map[string]uint64{}
	})
}

func (s *Server) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Ready returns a channel closed once the server is listening.
func (s *Server) Ready() <-chan struct{} {
	s.init()
	return s.ready
}

// Addrs returns the bound TCP and UDP addresses; they are nil until Ready is
// closed (or when that listener is not used).
func (s *Server) Addrs() (tcp, udp net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr, s.udpAddr
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.init()
	st := Stats{
		Accepted:   s.accepted.Load(),
		ConnsOpen:  s.connsOpen.Load(),
		ConnsTotal: s.connsTotal.Load(),
		Rejected:   map[string]uint64{},
	}
	s.rejectMu.Lock()
	for k, v := range s.rejected {
		st.Rejected[k] = v
	}
	s.rejectMu.Unlock()
	return st
}

// reject logs and counts one rejection.
func (s *Server) reject(from string, err error) {
	r := Reason(err)
	s.rejectMu.Lock()
	s.rejected[r]++
	s.rejectMu.Unlock()
	s.log().Warn("cot: rejected", "from", from, "reason", r, "err", err)
}

// Reason classifies an error from this package into a short label used for
// counting: "too large", "doctype", "too deep", "framing", "missing field",
// "out of range", "malformed", "idle timeout", "truncated", "slow client",
// "too many connections" or "other".
func Reason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrTooLarge):
		return "too large"
	case errors.Is(err, ErrDTD):
		return "doctype"
	case errors.Is(err, ErrTooDeep):
		return "too deep"
	case errors.Is(err, ErrFraming):
		return "framing"
	case errors.Is(err, ErrMissing):
		return "missing field"
	case errors.Is(err, ErrRange):
		return "out of range"
	case errors.Is(err, ErrSyntax):
		return "malformed"
	case errors.Is(err, errSlow):
		return "slow client"
	case errors.Is(err, errTooMany):
		return "too many connections"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "idle timeout"
	}
	return "other"
}

var (
	errSlow    = errors.New("client too slow, dropped")
	errTooMany = errors.New("too many connections")
)

// ListenAndServe listens on Addr with TCP and UDP and serves until ctx ends.
// It returns nil after a clean shutdown.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("cot: listen: %w", err)
	}
	// Bind UDP to the port TCP got, so port 0 yields one port for both.
	host, _, _ := net.SplitHostPort(s.Addr)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	pc, err := lc.ListenPacket(ctx, "udp", net.JoinHostPort(host, port))
	if err != nil {
		ln.Close()
		return fmt.Errorf("cot: listen: %w", err)
	}
	return s.Serve(ctx, ln, pc)
}

// Serve serves TCP connections from ln and datagrams from pc (either may be
// nil) until ctx ends, then closes both and every connection and waits for
// its goroutines. Call Serve or ListenAndServe at most once per Server. It
// returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, pc net.PacketConn) error {
	s.init()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	if ln != nil {
		s.tcpAddr = ln.Addr()
	}
	if pc != nil {
		s.udpAddr = pc.LocalAddr()
	}
	s.mu.Unlock()
	close(s.ready)

	var wg sync.WaitGroup
	if ln != nil {
		wg.Go(func() { s.acceptLoop(ctx, ln, &wg) })
	}
	if pc != nil {
		wg.Go(func() { s.udpLoop(ctx, pc) })
	}
	<-ctx.Done()
	if ln != nil {
		ln.Close()
	}
	if pc != nil {
		pc.Close()
	}
	s.mu.Lock()
	for c := range s.clients {
		c.conn.Close()
	}
	s.mu.Unlock()
	wg.Wait()
	return nil
}

func (s *Server) acceptLoop(ctx context.Context, ln net.Listener, wg *sync.WaitGroup) {
	maxConns := int64(orDefault(s.MaxConns, DefaultMaxConns))
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log().Error("cot: accept", "err", err)
			select { // back off on resource errors such as EMFILE
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		from := "tcp:" + conn.RemoteAddr().String()
		if s.connsOpen.Load() >= maxConns {
			s.reject(from, errTooMany)
			conn.Close()
			continue
		}
		s.connsOpen.Add(1)
		s.connsTotal.Add(1)
		var welcome []Event
		if s.Welcome != nil {
			welcome = s.Welcome()
		}
		c := &client{conn: conn, from: from,
			send: make(chan []byte, orDefault(s.SendQueue, DefaultSendQueue)+len(welcome)),
			done: make(chan struct{})}
		for _, ev := range welcome {
			c.send <- MarshalXML(ev)
		}
		s.mu.Lock()
		s.clients[c] = struct{}{}
		s.mu.Unlock()
		wg.Go(func() { s.writeLoop(c) })
		wg.Go(func() { s.readLoop(ctx, c) })
	}
}

// idleConn sets a read deadline before every read.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (s *Server) readLoop(ctx context.Context, c *client) {
	defer func() {
		s.drop(c)
		s.connsOpen.Add(-1)
	}()
	r := NewReader(idleConn{c.conn, orDefault(s.IdleTimeout, DefaultIdleTimeout)}, s.MaxMessage)
	for {
		ev, err := r.Next()
		if p := r.Protocol(); p != ProtoUnknown {
			c.proto.Store(int32(p))
		}
		var me *MessageError
		switch {
		case err == nil:
			s.accepted.Add(1)
			if s.Handle != nil {
				s.Handle(ctx, ev, c.from)
			}
		case errors.As(err, &me):
			s.reject(c.from, err)
		case errors.Is(err, io.EOF) || ctx.Err() != nil || errors.Is(err, net.ErrClosed):
			return
		default:
			s.reject(c.from, err)
			return
		}
	}
}

func (s *Server) writeLoop(c *client) {
	timeout := orDefault(s.WriteTimeout, DefaultWriteTimeout)
	for {
		select {
		case <-c.done:
			return
		case b := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(timeout))
			if _, err := c.conn.Write(b); err != nil {
				s.log().Info("cot: write failed, dropping client", "from", c.from, "err", err)
				s.drop(c)
				return
			}
		}
	}
}

// drop closes a client's connection and forgets it. It is idempotent.
func (s *Server) drop(c *client) {
	c.once.Do(func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
		close(c.done)
		c.conn.Close()
	})
}

func (s *Server) udpLoop(ctx context.Context, pc net.PacketConn) {
	max := orDefault(s.MaxMessage, DefaultMaxMessage)
	buf := make([]byte, max+1)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log().Error("cot: udp read", "err", err)
			continue
		}
		from := "udp:" + addr.String()
		ev, err := DecodeDatagram(buf[:n], max)
		if err != nil {
			s.reject(from, err)
			continue
		}
		s.accepted.Add(1)
		if s.Handle != nil {
			s.Handle(ctx, ev, from)
		}
	}
}

// Broadcast sends ev to every connected TCP client: in TAK stream framing to
// clients that sent TAK protocol, as XML to all others. It never blocks: a
// client whose send queue is full is dropped.
func (s *Server) Broadcast(ev Event) {
	s.init()
	var xmlMsg, takMsg []byte
	s.mu.Lock()
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	for _, c := range clients {
		var b []byte
		if Protocol(c.proto.Load()) == ProtoTAKStream {
			if takMsg == nil {
				takMsg = AppendStream(nil, MarshalTAK(ev))
			}
			b = takMsg
		} else {
			if xmlMsg == nil {
				xmlMsg = MarshalXML(ev)
			}
			b = xmlMsg
		}
		select {
		case c.send <- b:
		default:
			s.reject(c.from, errSlow)
			s.drop(c)
		}
	}
}
