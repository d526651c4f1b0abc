package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"refillbot/bitrefill"
	"refillbot/bot"
)

var _ bot.Observer = (*Metrics)(nil)

// Options names the label values the shop can produce; each is pre-created at
// zero so that dashboards and rate() see a series before its first event.
type Options struct {
	Version   string   // refillbot_build_info{version}
	Platforms []string // chat platforms in use ("telegram", "discord", "console")
	Methods   []string // payment methods offered
}

// Metrics is a Prometheus registry with the bot's families. Safe for
// concurrent use.
type Metrics struct {
	reg       *prometheus.Registry
	platforms set
	methods   set

	updates         *prometheus.CounterVec
	replies         *prometheus.CounterVec
	throttled       *prometheus.CounterVec
	invoicesCreated *prometheus.CounterVec
	invoicesPaid    prometheus.Counter
	delivered       *prometheus.CounterVec
	failed          prometheus.Counter
	outboxPending   prometheus.Gauge
	apiDuration     *prometheus.HistogramVec
	apiRequests     *prometheus.CounterVec
	replyWait       *prometheus.HistogramVec
}

// productTypes are the kinds a delivered order is counted under; Bitrefill
// may invent more, which count as "other".
var productTypes = set{
	string(bitrefill.GiftCard): true, string(bitrefill.PhoneRefill): true,
	string(bitrefill.ESIMType): true, string(bitrefill.BillPayment): true,
}

// New builds the registry with the Go and process collectors.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), platforms: newSet(o.Platforms), methods: newSet(o.Methods)}
	m.updates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "refillbot_updates_total", Help: "Events received from chat platforms (messages, commands, button presses).",
	}, []string{"platform"})
	m.replies = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "refillbot_replies_total", Help: "Messages sent or edited that the chat platform accepted.",
	}, []string{"platform"})
	m.replyWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "refillbot_reply_wait_seconds",
		Help:    "Time from a message's commit to the platform accepting it (pacing, 429s, retries for unreachable users).",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 15, 60, 600},
	}, []string{"platform"})
	m.throttled = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "refillbot_platform_throttled_total", Help: "Times a chat platform answered 429 (slow down).",
	}, []string{"platform"})
	m.invoicesCreated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "refillbot_invoices_created_total", Help: "Invoices created at Bitrefill.",
	}, []string{"payment_method"})
	m.invoicesPaid = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "refillbot_invoices_paid_total", Help: "Invoices seen paid (each counted once).",
	})
	m.delivered = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "refillbot_orders_delivered_total", Help: "Orders whose code, link or eSIM reached the buyer's session.",
	}, []string{"product_type"})
	m.failed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "refillbot_orders_failed_total", Help: "Orders that failed or were refunded.",
	})
	m.outboxPending = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "refillbot_outbox_pending", Help: "Messages written to the outbox and not yet sent.",
	})
	m.apiDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "refillbot_bitrefill_request_duration_seconds",
		Help:    "Duration of each Bitrefill API attempt, by route template.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20},
	}, []string{"endpoint"})
	m.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "refillbot_bitrefill_requests_total",
		Help: "Bitrefill API attempts by route template and answer class (2xx, 4xx, 429, 5xx, error).",
	}, []string{"endpoint", "code"})
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "refillbot_build_info", Help: "Always 1; the version label says which build runs.",
	}, []string{"version"})
	version := o.Version
	if version == "" {
		version = "unknown"
	}
	build.WithLabelValues(version).Set(1)

	m.reg.MustRegister(m.updates, m.replies, m.replyWait, m.throttled, m.invoicesCreated, m.invoicesPaid,
		m.delivered, m.failed, m.outboxPending, m.apiDuration, m.apiRequests, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for p := range m.platforms {
		m.updates.WithLabelValues(p)
		m.replies.WithLabelValues(p)
	}
	for meth := range m.methods {
		m.invoicesCreated.WithLabelValues(meth)
	}
	for t := range productTypes {
		m.delivered.WithLabelValues(t)
	}
	return m
}

// Registry is where further collectors go (cmd adds the Bitrefill budget).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// BitrefillBudget exports what Bitrefill last said is left of its request
// window (the X-RateLimit-Remaining header), read at each scrape.
func (m *Metrics) BitrefillBudget(remaining func() (left int, known bool)) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "refillbot_bitrefill_ratelimit_remaining",
		Help: "Requests Bitrefill last reported left in its current rate-limit window (-1: not reported yet).",
	}, func() float64 {
		if n, ok := remaining(); ok {
			return float64(n)
		}
		return -1
	}))
}

// Bitrefill is the client's Observer (bitrefill.Config.Observer).
func (m *Metrics) Bitrefill(r bitrefill.Request) {
	m.apiDuration.WithLabelValues(r.Route).Observe(r.Duration.Seconds())
	m.apiRequests.WithLabelValues(r.Route, answerClass(r.Status)).Inc()
}

func answerClass(status int) string {
	switch {
	case status == 0:
		return "error"
	case status == http.StatusTooManyRequests:
		return "429"
	case status >= 100 && status < 600:
		return strconv.Itoa(status/100) + "xx"
	}
	return "error"
}

func (m *Metrics) Update(platform string) { m.updates.WithLabelValues(m.platforms.or(platform)).Inc() }
func (m *Metrics) Reply(platform string, wait time.Duration) {
	p := m.platforms.or(platform)
	m.replies.WithLabelValues(p).Inc()
	m.replyWait.WithLabelValues(p).Observe(wait.Seconds())
}
func (m *Metrics) Throttled(platform string) {
	m.throttled.WithLabelValues(m.platforms.or(platform)).Inc()
}
func (m *Metrics) InvoiceCreated(method string) {
	m.invoicesCreated.WithLabelValues(m.methods.or(method)).Inc()
}
func (m *Metrics) InvoicePaid() { m.invoicesPaid.Inc() }
func (m *Metrics) OrderDelivered(productType string) {
	m.delivered.WithLabelValues(productTypes.or(productType)).Inc()
}
func (m *Metrics) OrderFailed()        { m.failed.Inc() }
func (m *Metrics) OutboxPending(n int) { m.outboxPending.Set(float64(n)) }

// set is a closed set of label values.
type set map[string]bool

func newSet(vals []string) set {
	s := set{}
	for _, v := range vals {
		s[v] = true
	}
	return s
}

// or returns v when it is in the set, else "other".
func (s set) or(v string) string {
	if s[v] {
		return v
	}
	return "other"
}
