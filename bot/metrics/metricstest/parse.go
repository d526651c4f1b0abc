package metricstest

import (
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families is a parsed exposition, by family name.
type Families map[string]*dto.MetricFamily

// Parse reads the Prometheus text format.
func Parse(text string) (Families, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// Value is the value of the series of family name whose labels include
// labels: a counter's or gauge's value, a histogram's sample count. ok is
// false when there is no such series.
func (f Families) Value(name string, labels map[string]string) (v float64, ok bool) {
	for _, m := range f[name].GetMetric() {
		if !hasLabels(m, labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// LabelValues lists every label value of every series, for checks that no
// label carries what it must not (an id, a code, a user).
func (f Families) LabelValues() []string {
	var out []string
	for _, fam := range f {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				out = append(out, fam.GetName()+" "+l.GetName()+"="+l.GetValue())
			}
		}
	}
	return out
}
