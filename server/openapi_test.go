package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// jsonUnmarshalPaths reads the paths object of an OpenAPI document.
func jsonUnmarshalPaths(doc []byte, paths *map[string]map[string]any) error {
	var d struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return err
	}
	*paths = d.Paths
	return nil
}

// walkRoutes calls fn for every method and route pattern of a chi router.
func walkRoutes(t *testing.T, h http.Handler, fn func(method, route string)) {
	t.Helper()
	r, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("%T is not a chi router", h)
	}
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		fn(method, route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// value reads a counter or gauge (what prometheus/testutil.ToFloat64 does, without its extra
// dependencies).
func value(m prometheus.Metric) float64 {
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		panic(err)
	}
	switch {
	case pb.Counter != nil:
		return pb.Counter.GetValue()
	case pb.Gauge != nil:
		return pb.Gauge.GetValue()
	}
	return 0
}
