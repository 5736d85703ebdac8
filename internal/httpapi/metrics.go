package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	observations  *prometheus.CounterVec // by result: accepted, duplicate, rejected
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram
	streamClients prometheus.Gauge
	requests      *prometheus.CounterVec   // by route and code
	requestTime   *prometheus.HistogramVec // by route
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		observations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "truce_ingest_observations_total",
			Help: "Observations received over HTTP, by result: accepted (journaled), duplicate (already journaled), rejected (invalid).",
		}, []string{"result"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "truce_journal_commit_seconds",
			Help:    "Time of one journal append of an ingest request, until durable, as the HTTP handler sees it.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "truce_ingest_batch_size",
			Help:    "Valid observations per ingest request (one journal append).",
			Buckets: []float64{1, 10, 100, 1000, 10000, 100000},
		}),
		streamClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "truce_stream_clients",
			Help: "Clients connected to the event stream.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "truce_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "truce_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern (streams: the connection's lifetime).",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30},
		}, []string{"route"}),
	}
	for _, c := range []prometheus.Collector{m.observations, m.commitSeconds, m.batchSize, m.streamClients, m.requests, m.requestTime} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("httpapi: register metrics: %w", err)
		}
	}
	for _, r := range []string{"accepted", "duplicate", "rejected"} {
		m.observations.WithLabelValues(r)
	}
	return m, nil
}

func (m *metrics) handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// instrument counts and times the requests h answers under route.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.cfg.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
			s.metrics.requestTime.WithLabelValues(route).Observe(s.cfg.Now().Sub(start).Seconds())
		}()
		h.ServeHTTP(sw, r)
	})
}
