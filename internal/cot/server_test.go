package cot

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

type received struct {
	ev   Event
	from string
}

// startServer runs a Server on loopback port 0 and stops it at cleanup.
func startServer(t *testing.T, s *Server) chan received {
	t.Helper()
	got := make(chan received, 64)
	s.Addr = "127.0.0.1:0"
	s.Handle = func(_ context.Context, ev Event, from string) { got <- received{ev, from} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("ListenAndServe: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe returned %v", err)
		}
		if n := s.Stats().ConnsOpen; n != 0 {
			t.Errorf("after shutdown %d connections open", n)
		}
	})
	return got
}

func wait(t *testing.T, got chan received) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for an event")
		return received{}
	}
}

func TestServerTCPAndUDP(t *testing.T) {
	s := &Server{}
	got := startServer(t, s)
	tcpAddr, udpAddr := s.Addrs()
	_, tp, _ := net.SplitHostPort(tcpAddr.String())
	_, up, _ := net.SplitHostPort(udpAddr.String())
	eq(t, "same port", tp, up)

	// TCP, XML: real captures with hostile messages in between.
	conn, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream := cat(
		readCapture(t, "atak-pli.xml"),
		[]byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><event uid="x">&lol;</event>`),
		readCapture(t, "wintak-hq.xml"),
		[]byte(strings.Replace(good, `lat="50.1"`, `lat="91.5"`, 1)),
		readCapture(t, "itak-pli.xml"),
	)
	if _, err := conn.Write(stream); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ANDROID-53af0912586418dc", "aa0b0312-b5cd-4c2c-bbbc-9c4c70216261", "C94B9215-9BD4-4DBE-BDE1-83625F09153F"} {
		r := wait(t, got)
		eq(t, "uid", r.ev.UID, want)
		eq(t, "from", strings.HasPrefix(r.from, "tcp:127.0.0.1:"), true)
	}

	// TCP, TAK stream framing: the takproto capture on a second connection.
	conn2, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	if _, err := conn2.Write(readCapture(t, "takproto-stream.bin")); err != nil {
		t.Fatal(err)
	}
	r := wait(t, got)
	eq(t, "tak callsign", r.ev.Callsign, "Eliopoli HQ")

	// UDP: garbage, a mesh capture, an XML capture.
	uc, err := net.Dial("udp", udpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for _, d := range [][]byte{[]byte("\x00\x01junk"), readCapture(t, "takproto-mesh.bin"), readCapture(t, "atak-circle-u-d-c-c.xml")} {
		if _, err := uc.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	r = wait(t, got)
	eq(t, "udp mesh uid", r.ev.UID, "aa0b0312-b5cd-4c2c-bbbc-9c4c70216261")
	eq(t, "udp from", strings.HasPrefix(r.from, "udp:"), true)
	r = wait(t, got)
	eq(t, "udp xml type", r.ev.Type, "u-d-c-c")

	st := s.Stats()
	eq(t, "accepted", st.Accepted, uint64(6))
	eq(t, "doctype rejected", st.Rejected["doctype"], uint64(1))
	eq(t, "range rejected", st.Rejected["out of range"], uint64(1))
	eq(t, "framing rejected", st.Rejected["framing"], uint64(1))
	eq(t, "conns", st.ConnsTotal, uint64(2))
}

func TestServerDropsIdleConnection(t *testing.T) {
	s := &Server{IdleTimeout: 50 * time.Millisecond}
	startServer(t, s)
	tcpAddr, _ := s.Addrs()
	conn, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half-open: say nothing. The server must close the connection, which
	// the blocked Read observes as EOF (or a reset).
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server did not drop the idle connection")
	}
	if err == nil {
		t.Fatal("read succeeded on an idle connection")
	}
	eq(t, "idle rejections", s.Stats().Rejected["idle timeout"], uint64(1))
}

func TestServerConnectionCap(t *testing.T) {
	s := &Server{MaxConns: 1}
	got := startServer(t, s)
	tcpAddr, _ := s.Addrs()
	first, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.Write([]byte(good))
	wait(t, got) // the first connection is registered
	second, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil {
		t.Fatal("second connection was not refused")
	}
	eq(t, "refused", s.Stats().Rejected["too many connections"], uint64(1))
}

func TestServerBroadcast(t *testing.T) {
	s := &Server{}
	got := startServer(t, s)
	tcpAddr, _ := s.Addrs()

	xmlClient, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer xmlClient.Close()
	takClient, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer takClient.Close()
	xmlClient.Write(readCapture(t, "atak-pli.xml"))
	takClient.Write(readCapture(t, "takproto-stream.bin"))
	wait(t, got)
	wait(t, got) // both clients have spoken, so their protocols are known

	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	zone := Circle("zone-7", "Exclusion", Point{Lat: 48.1, Lon: 37.2}, 2000, Red, t0, time.Hour)
	s.Broadcast(zone)

	for name, c := range map[string]net.Conn{"xml": xmlClient, "tak": takClient} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := NewReader(bufio.NewReader(c), 0)
		ev, err := r.Next()
		if err != nil {
			t.Fatalf("%s client: %v", name, err)
		}
		want := map[string]Protocol{"xml": ProtoXML, "tak": ProtoTAKStream}[name]
		eq(t, name+" protocol", r.Protocol(), want)
		eq(t, name+" uid", ev.UID, "zone-7")
		eq(t, name+" ellipse", *ev.Ellipse, Ellipse{2000, 2000, 360})
	}
}

func TestServerDropsSlowClient(t *testing.T) {
	s := &Server{SendQueue: 1, WriteTimeout: time.Hour}
	got := startServer(t, s)
	tcpAddr, _ := s.Addrs()
	c, err := net.Dial("tcp", tcpAddr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(good))
	wait(t, got)
	// Never read: socket buffers fill, the queue fills, the client is dropped.
	big := Marker("m", "", Point{Lat: 1, Lon: 1}, "x", strings.Repeat("r", 60000), time.Unix(0, 0), time.Hour)
	for i := 0; i < 10000 && s.Stats().Rejected["slow client"] == 0; i++ {
		s.Broadcast(big)
	}
	eq(t, "slow client dropped", s.Stats().Rejected["slow client"], uint64(1))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("slow client's connection was not closed")
	}
}
